import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { connectAsync, type MqttClient } from 'mqtt';
import { DLQ_HEADERS } from '../../lib/dead-letter';
import { createLogger } from '../../lib/logger';
import { createRegistry as createMetrics, type Registry as MetricsRegistry } from '../../lib/metrics';
import { createRegistry } from '../../lib/registry';
import { Serde } from '../../lib/serde';
import type { RunningService } from '../../lib/service';
import { TOPICS } from '../../lib/topics';
import { mqttBridgeService } from '../../producers/mqtt/mqtt-bridge.service';
import { SCHEMA_FILES, avroType, type SensorReading } from '../../schemas';
import { consumeAll, type ConsumedRecord } from './consume';
import { testEnv, uniqueName, useIsolatedTopics } from './servers';

/** A free TCP port on the loopback interface, as the kernel hands one out. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const accepts = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.end();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

// Debian's package installs the broker outside a user's PATH (.ci/run installs it when missing).
const MOSQUITTO = ['/usr/sbin/mosquitto', '/usr/local/sbin/mosquitto'].find((candidate) => fs.existsSync(candidate)) ?? 'mosquitto';

/** A private Mosquitto on a free port, in memory only; `stop` kills it and waits for its exit. */
async function startMosquitto(): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mosquitto-'));
  const config = path.join(dir, 'mosquitto.conf');
  fs.writeFileSync(config, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\n`);
  const broker = spawn(MOSQUITTO, ['-c', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  let failedToStart = false;
  broker.stderr.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const exited = new Promise<void>((resolve) => {
    broker.once('exit', () => resolve());
    broker.once('error', (err) => {
      failedToStart = true;
      log += `${MOSQUITTO}: ${err.message} (install the Debian package mosquitto)`;
      resolve();
    });
  });
  const stop = async () => {
    if (broker.exitCode === null && broker.signalCode === null && !failedToStart) broker.kill('SIGTERM');
    await exited;
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  while (!(await accepts(port))) {
    if (failedToStart || broker.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`mosquitto did not accept connections on ${port}:\n${log}`);
    }
    await sleep(50);
  }
  return { url: `mqtt://127.0.0.1:${port}`, stop };
}

async function waitFor(what: string, condition: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** The value of one sample in Prometheus text, found by metric name and labels. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('pdmctl run mqtt-bridge, from a real Mosquitto into a real broker', () => {
  const env = testEnv();
  const { prefix } = useIsolatedTopics('mqtt');
  const readingsTopic = `${prefix}${TOPICS.readings}`;
  const deadLetterTopic = `${prefix}${TOPICS.deadLetter}`;
  // Topics of their own on the broker, too: nothing else publishes under this root.
  const root = uniqueName('plant');
  const topicOf = (machine: string) => `${root}/${machine}/telemetry`;
  const serde = new Serde(createRegistry(env.registryUrl).client);
  const decodeKey = serde.decoder<string>(avroType(SCHEMA_FILES.machineId));
  const decodeReading = serde.decoder<SensorReading>(avroType(SCHEMA_FILES.sensorReading));

  let mosquitto: { url: string; stop(): Promise<void> };
  let publisher: MqttClient;
  let bridge: RunningService | undefined;
  let bridgeEnv: NodeJS.ProcessEnv;

  async function startBridge(metrics: MetricsRegistry): Promise<RunningService> {
    if (bridge) throw new Error('a bridge is running already: two with one client id would fight over the session');
    const service = await mqttBridgeService.start({ env: bridgeEnv, logger: createLogger({ level: 'silent' }), metrics, clock: Date.now });
    bridge = service;
    await waitFor('the bridge to be ready', async () => (await service.ready()) === undefined);
    return service;
  }

  async function stopBridge(): Promise<void> {
    const service = bridge;
    bridge = undefined;
    await service?.stop();
  }

  const publish = (topic: string, payload: string) => publisher.publishAsync(topic, payload, { qos: 1 });

  async function readings(expected: number): Promise<Array<{ key: string; value: SensorReading }>> {
    const records = await consumeAll(env.kafkaBrokers, readingsTopic, { expected, timeoutMs: 60_000 });
    return Promise.all(records.map(async (r: ConsumedRecord) => ({ key: await decodeKey(r.key!), value: await decodeReading(r.value!) })));
  }

  beforeAll(async () => {
    mosquitto = await startMosquitto();
    bridgeEnv = {
      ...process.env,
      PDM_TOPIC_PREFIX: prefix,
      PDM_MACHINE_ALLOWLIST: 'lathe-*,pump-*',
      MQTT_URL: mosquitto.url,
      MQTT_TOPIC: `${root}/+/telemetry`,
      MQTT_CLIENT_ID: uniqueName('bridge'),
    };
    publisher = await connectAsync(mosquitto.url, { protocolVersion: 5, clientId: uniqueName('sensor'), reconnectPeriod: 0 });
  });

  afterAll(async () => {
    await stopBridge();
    await publisher?.endAsync();
    await mosquitto?.stop();
  });

  test('good readings land keyed by machine id; each kind of bad input is dead-lettered with its bytes and reason, and counted', async () => {
    const metrics = createMetrics('test', false);
    await startBridge(metrics);
    const now = Date.now();
    const fromTopic = { timestamp: now - 2000, current: 12.5, accX: 0.02, accY: 0.03, accZ: 0.04, tempA: 45.5, tempB: 38.25 };
    const named = { machineId: 'pump-7', timestamp: new Date(now - 1000).toISOString(), current: 3.25, accX: null, accY: 0.5, accZ: 0.25, tempA: 30, tempB: 21.5 };
    const { tempB: _dropped, ...withoutTempB } = fromTopic;
    const bad = [
      { code: 'malformed_json', topic: topicOf('lathe-1'), payload: '{"timestamp": 1, "current":' },
      { code: 'missing_field', topic: topicOf('lathe-1'), payload: JSON.stringify(withoutTempB) },
      { code: 'extra_field', topic: topicOf('lathe-1'), payload: JSON.stringify({ ...fromTopic, status: 'running' }) },
      { code: 'bad_channel_name', topic: topicOf('lathe-1'), payload: JSON.stringify({ ...fromTopic, 'flow rate': 1.2 }) },
      { code: 'too_many_channels', topic: topicOf('lathe-1'), payload: JSON.stringify({ ...fromTopic, ...Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`ch${i}`, i])) }) },
      { code: 'not_a_number', topic: topicOf('lathe-1'), payload: JSON.stringify({ ...fromTopic, extras: { pressure: 'NaN' } }) },
      { code: 'out_of_range', topic: topicOf('lathe-1'), payload: JSON.stringify({ ...fromTopic, pressure: 1e16 }) },
      { code: 'not_a_number', topic: topicOf('lathe-1'), payload: JSON.stringify({ ...fromTopic, tempA: 'hot' }) },
      { code: 'not_a_number', topic: topicOf('lathe-1'), payload: JSON.stringify({ ...fromTopic, current: 'NaN' }) },
      { code: 'timestamp_in_future', topic: topicOf('lathe-1'), payload: JSON.stringify({ ...fromTopic, timestamp: now + 3_600_000 }) },
      { code: 'timestamp_too_old', topic: topicOf('lathe-1'), payload: JSON.stringify({ ...fromTopic, timestamp: Date.UTC(1999, 11, 31) }) },
      { code: 'machine_not_allowed', topic: topicOf('robot-arm-3'), payload: JSON.stringify(fromTopic) },
      { code: 'machine_id_mismatch', topic: topicOf('lathe-1'), payload: JSON.stringify({ ...fromTopic, machineId: 'lathe-2' }) },
    ];
    expect(new Set(bad.map((b) => b.payload)).size).toBe(bad.length);

    await publish(topicOf('lathe-1'), JSON.stringify(fromTopic));
    for (const { topic, payload } of bad) await publish(topic, payload);
    await publish(topicOf('pump-7'), JSON.stringify({ ...named, pressure: 2.41, flow: 11.8 }));

    const landed = await readings(2);
    expect(landed.sort((a, b) => a.key.localeCompare(b.key))).toEqual([
      { key: 'lathe-1', value: { machineId: 'lathe-1', ...fromTopic, extras: {} } },
      { key: 'pump-7', value: { ...named, timestamp: now - 1000, extras: { pressure: 2.41, flow: 11.8 } } },
    ]);

    const letters = await consumeAll(env.kafkaBrokers, deadLetterTopic, { expected: bad.length, timeoutMs: 60_000 });
    expect(letters).toHaveLength(bad.length);
    for (const { code, topic, payload } of bad) {
      const letter = letters.find((l) => l.value?.equals(Buffer.from(payload)));
      expect({ payload, headers: letter?.headers }).toEqual({
        payload,
        headers: expect.objectContaining({ [DLQ_HEADERS.code]: code, [DLQ_HEADERS.message]: expect.stringMatching(/\S/), [DLQ_HEADERS.source]: `mqtt:${topic}`, [DLQ_HEADERS.stage]: 'mqtt-bridge' }),
      });
    }

    // Every message was acknowledged only after Kafka had it, so the counters are final by now.
    const text = await metrics.metrics();
    const counts = new Map<string, number>();
    for (const { code } of bad) counts.set(code, (counts.get(code) ?? 0) + 1);
    for (const [code, count] of counts) expect({ code, count: sample(text, 'pdm_dead_letter_records_total', { stage: 'mqtt-bridge', reason: code }) }).toEqual({ code, count });
    expect(sample(text, 'pdm_records_in_total', { stage: 'mqtt-bridge' })).toBe(2 + bad.length);
    expect(sample(text, 'pdm_records_out_total', { stage: 'mqtt-bridge', topic: readingsTopic })).toBe(2);
    expect(sample(text, 'pdm_records_out_total', { stage: 'mqtt-bridge', topic: deadLetterTopic })).toBe(bad.length);
    expect(text).toMatch(/^pdm_mqtt_connected\{[^}]*\} 1$/m);
    await stopBridge();
  });

  test('readings published while the bridge is stopped wait in its MQTT session and land once it is back, none lost', async () => {
    const before = createMetrics('test', false);
    await startBridge(before);
    await stopBridge();
    expect(await before.metrics()).toMatch(/^pdm_mqtt_connected\{[^}]*\} 0$/m);

    const now = Date.now();
    const offline = Array.from({ length: 200 }, (_, i) => ({ machineId: `lathe-${(i % 4) + 10}`, timestamp: now - 60_000 + i, current: i, accX: 0, accY: 0, accZ: 0, tempA: 20, tempB: 20 }));
    for (const reading of offline) await publish(topicOf(reading.machineId), JSON.stringify(reading));

    const metrics = createMetrics('test', false);
    await startBridge(metrics);
    const landed = (await readings(2 + offline.length)).filter((r) => /^lathe-1\d$/.test(r.key));
    // A reading without extra channels lands with the schema's default, an empty map.
    expect(landed.map((r) => r.value).sort((a, b) => a.timestamp - b.timestamp)).toEqual(offline.map((r) => ({ ...r, extras: {} })));
    expect(landed.every((r) => r.key === r.value.machineId)).toBe(true);
    await stopBridge();
  });

  test('a stop in the middle of a stream loses nothing: what was not yet in Kafka was not acknowledged, and comes again', async () => {
    const first = createMetrics('test', false);
    await startBridge(first);
    const now = Date.now();
    const stream = Array.from({ length: 300 }, (_, i) => ({ machineId: `pump-${(i % 3) + 20}`, timestamp: now - 30_000 + i, current: i, accX: 1, accY: 1, accZ: 1, tempA: 25, tempB: 25 }));
    // Not awaited one by one: the sensors keep publishing while the bridge stops.
    const published = Promise.all(stream.map((reading) => publish(topicOf(reading.machineId), JSON.stringify(reading))));
    const outSoFar = async () => sample(await first.metrics(), 'pdm_records_out_total', { stage: 'mqtt-bridge', topic: readingsTopic }) ?? 0;
    await waitFor('the first readings to land', async () => (await outSoFar()) >= 50);
    await stopBridge();
    const beforeRestart = await outSoFar();
    await published;
    expect(beforeRestart).toBeLessThan(stream.length);

    await startBridge(createMetrics('test', false));
    const already = 2 + 200;
    const landed = (await readings(already + stream.length)).filter((r) => /^pump-2\d$/.test(r.key));
    // At least once: a message in flight when the bridge stopped may land twice, none is missing.
    expect(new Set(landed.map((r) => r.value.timestamp))).toEqual(new Set(stream.map((r) => r.timestamp)));
    await stopBridge();
  });
});
