import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DLQ_HEADERS } from '../../lib/dead-letter';
import { deleteTopics, ensureTopics } from '../../lib/kafka/admin';
import { createLogger } from '../../lib/logger';
import { createRegistry as createMetrics } from '../../lib/metrics';
import { repoRoot } from '../../lib/paths';
import { createRegistry, registerTopicSchemas } from '../../lib/registry';
import { Serde } from '../../lib/serde';
import { TOPICS, topicSpecs } from '../../lib/topics';
import { parseSpeed, planColumns } from '../../producers/replay/csv';
import { readCsvHead, runReplay } from '../../producers/replay/replay.job';
import { openReadingsOutput } from '../../producers/runtime';
import { avroType, type SensorReading } from '../../schemas';
import { consumeAll } from './consume';
import { testEnv, uniqueName } from './servers';

const SKAB_VALVE1 = path.resolve(repoRoot, '..', 'shared', 'data', 'skab', 'valve1');
const silent = createLogger({ level: 'silent' });

const pdmctl = (args: string[], env: NodeJS.ProcessEnv) =>
  spawnSync(process.execPath, [path.join(repoRoot, 'bin', 'pdmctl.js'), ...args], { encoding: 'utf8', env, timeout: 120_000 });

/** A SKAB file read here without the code under test: ISO time with a Z, and the Current column. */
function skabRows(file: string): Array<{ timestampMs: number; current: number; temperature: number }> {
  const [header, ...rows] = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '');
  const columns = header!.split(';');
  const at = (name: string) => columns.indexOf(name);
  return rows.map((row) => {
    const cells = row.split(';');
    return { timestampMs: Date.parse(`${cells[at('datetime')]!.replace(' ', 'T')}Z`), current: Number(cells[at('Current')]), temperature: Number(cells[at('Temperature')]) };
  });
}

function writeCsv(name: string, lines: string[]): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'replay-')), name);
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

describe('pdmctl replay into a real broker', () => {
  const env = testEnv();
  const connection = { brokers: env.kafkaBrokers, clientId: 'replay-test' };
  const created: string[] = [];

  /** A prefix of its own per test, its topics created and schemas registered. */
  async function isolatedTopics(label: string): Promise<string> {
    const prefix = `${uniqueName(label)}.`;
    const specs = topicSpecs({ prefix, partitions: 2 });
    created.push(...specs.map((s) => s.name));
    await ensureTopics(connection, specs);
    await registerTopicSchemas(createRegistry(env.registryUrl), specs);
    return prefix;
  }

  afterAll(() => deleteTopics(connection, created));

  test('two SKAB valve1 files, replayed as a person would, land as one machine\'s readings with the files\' times in order', async () => {
    const prefix = await isolatedTopics('replay-skab');
    const files = ['0.csv', '1.csv'].map((f) => path.join(SKAB_VALVE1, f));
    for (const file of files) {
      const result = pdmctl(['replay', '--csv', file, '--machine', 'skab-valve1', '--preset', 'skab'], { ...process.env, PDM_TOPIC_PREFIX: prefix });
      const rows = skabRows(file).length;
      expect(result.stderr).toContain('current=Current, accX=Accelerometer1RMS, accY=Accelerometer2RMS, accZ=null, tempA=Temperature, tempB=Thermocouple');
      expect(result.stderr).toContain(`Done: ${rows.toLocaleString('en')} rows, ${rows.toLocaleString('en')} readings produced into ${prefix}${TOPICS.readings} in`);
      expect(result.status).toBe(0);
    }

    const expected = files.flatMap(skabRows);
    const records = await consumeAll(env.kafkaBrokers, `${prefix}${TOPICS.readings}`, { expected: expected.length });
    expect(records).toHaveLength(expected.length);
    // One key, so one partition, so the order the files were replayed in.
    expect(new Set(records.map((r) => r.partition)).size).toBe(1);

    const serde = new Serde(createRegistry(env.registryUrl).client);
    const decodeKey = serde.decoder<string>(avroType('machine-id.avsc'));
    const decode = serde.decoder<SensorReading>(avroType('sensor-reading.avsc'));
    const readings = await Promise.all(records.map((r) => decode(r.value!)));
    expect(readings.map((r) => r.timestamp)).toEqual(expected.map((e) => e.timestampMs));
    expect(readings[0]!.timestamp).toBe(Date.UTC(2020, 2, 9, 10, 14, 33)); // 2020-03-09 10:14:33, as UTC
    expect(readings.every((r) => r.machineId === 'skab-valve1' && r.accZ === null)).toBe(true);
    expect(readings.filter((r) => Object.keys(r.extras).join() !== 'pressure,voltage,flow')).toEqual([]);
    for (let i = 0; i < expected.length; i += 97) {
      expect(readings[i]).toMatchObject({ current: expected[i]!.current, tempA: expected[i]!.temperature });
    }
    expect(await decodeKey(records[0]!.key!)).toBe('skab-valve1');
  });

  test('a malformed row, a non-numeric value, an unreadable time and an extra channel out of range go to the dead-letter topic with file and line; the good rows land', async () => {
    const prefix = await isolatedTopics('replay-bad');
    const file = writeCsv('bad.csv', [
      'timestamp,amps,vib,temp,press', // 1
      '2024-05-01T10:00:00Z,1.5,0.02,40.1,2.5', // 2
      '2024-05-01T10:00:01Z,1.6,0.02', // 3: fields short
      '2024-05-01T10:00:02Z,abc,0.02,40.3,2.5', // 4: not a number
      '2024-05-01T10:00:03Z,"1.7,0.03,40.4,2.5', // 5: a quote never closed
      '2024-05-01T10:00:04Z,1.8,,40.5,', // 6: vibration and pressure missing
      '', // 7
      'yesterday,1.9,0.02,40.6,2.5', // 8: not a time
      '2024-05-01T10:00:06Z,2.0,0.02,40.7,2.6', // 9
      '2024-05-01T10:00:07Z,2.0,0.02,40.7,1e16', // 10: pressure beyond 1e15
    ]);
    const head = await readCsvHead(file);
    const plan = planColumns(head.header, { map: 'amps=current,vib=accX,temp=tempA,press=pressure', machineId: 'csv-test-1' });
    const output = await openReadingsOutput({ stage: 'replay', env: { ...process.env, PDM_TOPIC_PREFIX: prefix }, logger: silent, metrics: createMetrics('test', false) });
    const summary = await runReplay({ file, separator: head.separator, plan, speed: parseSpeed('max') }, { readings: output.readings, logger: silent });
    await output.close();
    expect(summary).toMatchObject({ rows: 8, produced: 3, refused: 5, stoppedEarly: false, firstEventMs: Date.UTC(2024, 4, 1, 10, 0, 0), lastEventMs: Date.UTC(2024, 4, 1, 10, 0, 6) });

    const records = await consumeAll(env.kafkaBrokers, `${prefix}${TOPICS.readings}`, { expected: 3 });
    const decode = new Serde(createRegistry(env.registryUrl).client).decoder<SensorReading>(avroType('sensor-reading.avsc'));
    const readings = await Promise.all(records.map((r) => decode(r.value!)));
    expect(readings).toEqual([
      { machineId: 'csv-test-1', timestamp: Date.UTC(2024, 4, 1, 10, 0, 0), current: 1.5, accX: 0.02, accY: null, accZ: null, tempA: 40.1, tempB: null, extras: { pressure: 2.5 } },
      { machineId: 'csv-test-1', timestamp: Date.UTC(2024, 4, 1, 10, 0, 4), current: 1.8, accX: null, accY: null, accZ: null, tempA: 40.5, tempB: null, extras: { pressure: null } },
      { machineId: 'csv-test-1', timestamp: Date.UTC(2024, 4, 1, 10, 0, 6), current: 2.0, accX: 0.02, accY: null, accZ: null, tempA: 40.7, tempB: null, extras: { pressure: 2.6 } },
    ]);

    const letters = await consumeAll(env.kafkaBrokers, `${prefix}${TOPICS.deadLetter}`, { expected: 5 });
    const lineOf = (source: string) => Number(source.slice(source.lastIndexOf(':') + 1));
    const byLine = letters.map((l) => ({ line: lineOf(l.headers[DLQ_HEADERS.source]!), value: l.value!.toString('utf8'), headers: l.headers })).sort((a, b) => a.line - b.line);
    expect(byLine.map((l) => [l.line, l.headers[DLQ_HEADERS.code]])).toEqual([
      [3, 'bad_csv_row'],
      [4, 'not_a_number'],
      [5, 'bad_csv_row'],
      [8, 'bad_timestamp'],
      [10, 'out_of_range'],
    ]);
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    for (const letter of byLine) {
      expect(letter.value).toBe(lines[letter.line - 1]); // the original line, untouched
      expect(letter.headers[DLQ_HEADERS.source]).toBe(`csv:${file}:${letter.line}`);
      expect(letter.headers[DLQ_HEADERS.stage]).toBe('replay');
    }
    expect(byLine.map((l) => l.headers[DLQ_HEADERS.message])).toEqual([
      'the row has 3 fields, the header 5',
      expect.stringContaining('current is "abc"'),
      expect.stringContaining('CSV_QUOTE_NOT_CLOSED'),
      expect.stringContaining('timestamp: time "yesterday" is not ISO-8601'),
      'extras.pressure is 10000000000000000, beyond the 1000000000000000 a sensor value may be',
    ]);
  });

  test('a missing file and an unknown column stop the command with one line, before anything is produced', () => {
    const missing = pdmctl(['replay', '--csv', '/nonexistent/valve.csv', '--machine', 'm', '--preset', 'skab'], process.env);
    expect(missing.status).toBe(1);
    expect(missing.stderr.trim()).toBe('pdmctl: --csv /nonexistent/valve.csv: no such file');
    const unknown = pdmctl(['replay', '--csv', path.join(SKAB_VALVE1, '0.csv'), '--machine', 'm', '--map', 'Curent=current'], process.env);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toMatch(/^pdmctl: the file has no column "Curent" \(from --map\); its columns are "datetime", "Accelerometer1RMS", /);
    expect(unknown.stderr.trim().split('\n')).toHaveLength(1);
  });
});
