import {
  ReplayError,
  cellValue,
  describePlan,
  detectSeparator,
  lineToReading,
  parseHeader,
  parseExtrasFlag,
  parseMapSpec,
  parseSeparatorFlag,
  parseSpeed,
  parseTimestamp,
  parseUtcOffset,
  planColumns,
  rowToReading,
  splitLine,
  type ColumnOptions,
  type ReplayErrorCode,
} from './csv';

const SKAB_HEADER = 'datetime;Accelerometer1RMS;Accelerometer2RMS;Current;Pressure;Temperature;Thermocouple;Voltage;Volume Flow RateRMS;anomaly;changepoint';
const SKAB_ROW = '2020-03-09 10:14:33;0.0265878;0.0401113;1.3302;0.054711;79.3366;26.0199;233.062;32.0;0.0;0.0';
const SKAB_COLUMNS = SKAB_HEADER.split(';');

/** The ReplayError code `run` throws, so a table can name the failure it expects. */
function replayErrorOf(run: () => unknown): { code: ReplayErrorCode; message: string } {
  try {
    run();
  } catch (err) {
    if (err instanceof ReplayError) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected a ReplayError, nothing was thrown');
}

describe('separator detection', () => {
  test.each([
    ['SKAB: semicolons', SKAB_HEADER, SKAB_ROW, ';'],
    ['commas', 'timestamp,current,accX', '2024-01-01T00:00:00Z,1.5,0.02', ','],
    ['tabs', 'timestamp\tcurrent\taccX', '2024-01-01T00:00:00Z\t1.5\t0.02', '\t'],
    ['pipes', 'timestamp|current|accX', '1704067200|1.5|0.02', '|'],
    ['semicolons with decimal commas: the data line agrees only with ;', 'time;current', '2024-01-01 00:00:00;1,5', ';'],
    ['a quoted header name that holds a comma', 'time;"Flow, RMS";current', '2024-01-01 00:00:00;3.2;1.5', ';'],
    ['commas, quoted fields holding semicolons', 'time,note,current', '2024-01-01 00:00:00,"a;b;c;d",1.5', ','],
    ['a header alone', 'a;b;c', undefined, ';'],
    ['one column: nothing splits it, comma as CSV says', 'current', '1.5', ','],
  ])('%s', (_name, header, data, expected) => {
    expect(detectSeparator(header, data)).toBe(expected);
  });

  test.each([
    [';', ';'],
    ['tab', '\t'],
    ['\\t', '\t'],
    ['\t', '\t'],
    ['Semicolon', ';'],
    ['pipe', '|'],
  ])('--separator %j is %j', (flag, separator) => {
    expect(parseSeparatorFlag(flag)).toBe(separator);
  });

  test.each(['', ';;', '"', 'space-bar'])('--separator %j is refused', (flag) => {
    expect(replayErrorOf(() => parseSeparatorFlag(flag)).code).toBe('REPLAY_BAD_FLAG');
  });
});

describe('lines into fields', () => {
  test.each([
    ['plain', 'a;1.5;;x', ['a', '1.5', '', 'x']],
    ['a quoted field with the separator in it', 'a;"1;5";b', ['a', '1;5', 'b']],
    ['an escaped quote', 'a;"say ""hi""";b', ['a', 'say "hi"', 'b']],
  ])('%s', (_name, line, fields) => {
    expect(splitLine(line, ';')).toEqual({ ok: true, fields });
  });

  test.each([
    ['a quote never closed', 'a;"1.5;b'],
    ['text after a closing quote', 'a;"1"5;b'],
  ])('%s is a bad row, its reason free of the parser\'s own line number', (_name, line) => {
    const split = splitLine(line, ';');
    expect(split.ok).toBe(false);
    if (!split.ok) expect(split.reason).not.toMatch(/line 1/);
  });

  test('the header loses its byte-order mark and the spaces around names', () => {
    expect(parseHeader('\uFEFFdatetime; Current ;"Volume Flow RateRMS"', ';')).toEqual(['datetime', 'Current', 'Volume Flow RateRMS']);
  });
});

describe('time zones and timestamps', () => {
  test.each([
    ['Z', 0],
    ['UTC', 0],
    ['+03:00', 180],
    ['+0300', 180],
    ['+03', 180],
    ['-05:30', -330],
    ['UTC+01:00', 60],
  ])('--timezone %s is %d minutes east', (text, minutes) => {
    expect(parseUtcOffset(text)).toBe(minutes);
  });

  test.each(['Europe/Moscow', '3', '+25:00', '+03:75', 'local'])('--timezone %s is refused', (text) => {
    const error = replayErrorOf(() => parseUtcOffset(text));
    expect(error.code).toBe('REPLAY_BAD_FLAG');
    expect(error.message).toContain('--timezone');
  });

  const UTC = 0;
  const MOSCOW = 180;
  test.each([
    ['SKAB: local, read as UTC by default', '2020-03-09 10:14:33', UTC, Date.UTC(2020, 2, 9, 10, 14, 33)],
    ['local, in a zone 3 h east of UTC', '2020-03-09 10:14:33', MOSCOW, Date.UTC(2020, 2, 9, 7, 14, 33)],
    ['local with milliseconds', '2020-03-09 10:14:33.250', UTC, Date.UTC(2020, 2, 9, 10, 14, 33, 250)],
    ['local with microseconds: cut to milliseconds', '2020-03-09 10:14:33.123456', UTC, Date.UTC(2020, 2, 9, 10, 14, 33, 123)],
    ['local with a decimal comma', '2020-03-09 10:14:33,5', UTC, Date.UTC(2020, 2, 9, 10, 14, 33, 500)],
    ['local without seconds', '2020-03-09 10:14', UTC, Date.UTC(2020, 2, 9, 10, 14)],
    ['a date alone: midnight', '2020-03-09', UTC, Date.UTC(2020, 2, 9)],
    ['ISO with Z: --timezone does not apply', '2020-03-09T10:14:33Z', MOSCOW, Date.UTC(2020, 2, 9, 10, 14, 33)],
    ['ISO with an offset', '2020-03-09T10:14:33+03:00', UTC, Date.UTC(2020, 2, 9, 7, 14, 33)],
    ['ISO with a negative offset without colon', '2020-03-09T10:14:33.5-0130', UTC, Date.UTC(2020, 2, 9, 11, 44, 33, 500)],
    ['ISO, lower-case t and z', '2020-03-09t10:14:33z', UTC, Date.UTC(2020, 2, 9, 10, 14, 33)],
    ['spaces around the cell', '  2020-03-09 10:14:33 ', UTC, Date.UTC(2020, 2, 9, 10, 14, 33)],
    ['epoch seconds', '1583748873', MOSCOW, 1_583_748_873_000],
    ['epoch seconds with a fraction', '1583748873.25', UTC, 1_583_748_873_250],
    ['epoch milliseconds', '1583748873250', MOSCOW, 1_583_748_873_250],
  ])('%s', (_name, cell, offset, expected) => {
    expect(parseTimestamp(cell, offset)).toEqual({ ok: true, ms: expected });
  });

  test.each([
    ['not a time', 'yesterday'],
    ['empty', ''],
    ['a day that does not exist', '2021-02-30 10:00:00'],
    ['an hour that does not exist', '2021-02-03 24:00:00'],
    ['US order', '03/09/2020 10:14:33'],
    ['epoch microseconds', '1583748873250000'],
  ])('%s is unreadable', (_name, cell) => {
    const parsed = parseTimestamp(cell, UTC);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason).toContain(JSON.stringify(cell.trim()));
  });
});

describe('--speed', () => {
  test.each([
    ['max', { kind: 'max' }],
    ['realtime', { kind: 'paced', factor: 1 }],
    ['10', { kind: 'paced', factor: 10 }],
    ['10x', { kind: 'paced', factor: 10 }],
    ['0.5', { kind: 'paced', factor: 0.5 }],
  ])('%s', (text, speed) => {
    expect(parseSpeed(text)).toEqual(speed);
  });

  test.each(['fast', '0', '-2', '', '1e3'])('%j is refused', (text) => {
    expect(replayErrorOf(() => parseSpeed(text)).code).toBe('REPLAY_BAD_FLAG');
  });
});

describe('--map', () => {
  test('column=feature pairs, features in any case, column names with spaces', () => {
    expect(parseMapSpec(' Current=current, Accelerometer1RMS = ACCX ,Volume Flow RateRMS=tempB')).toEqual([
      { column: 'Current', feature: 'current' },
      { column: 'Accelerometer1RMS', feature: 'accX' },
      { column: 'Volume Flow RateRMS', feature: 'tempB' },
    ]);
  });

  test('a name that is not a feature is an extra channel of that name', () => {
    expect(parseMapSpec('Pressure=pressure,Volume Flow RateRMS=flow_m3h, Voltage = Volts')).toEqual([
      { column: 'Pressure', extra: 'pressure' },
      { column: 'Volume Flow RateRMS', extra: 'flow_m3h' },
      { column: 'Voltage', extra: 'Volts' },
    ]);
  });

  test.each([
    ['empty', '', /--map is empty/],
    ['no =', 'Current', /"Current" is not column=feature/],
    ['no column', '=current', /not column=feature/],
    ['a name that is no channel name, naming the features', 'Voltage=volts (V)', /"volts \(V\)" is neither a feature \(current, accX, accY, accZ, tempA, tempB\) nor an extra channel name: .* not a channel name/],
    ['a channel name of 33 characters', `Voltage=v${'x'.repeat(32)}`, /more than 32/],
    ['feature=column written the wrong way round', 'accX=Accelerometer1RMS', /perhaps Accelerometer1RMS=accX/],
    ['a feature twice', 'Accelerometer1RMS=accX,Accelerometer2RMS=accX', /gives accX twice, from "Accelerometer1RMS" and "Accelerometer2RMS"/],
    ['a channel twice', 'Pressure=p,Voltage=p', /gives p twice, from "Pressure" and "Voltage"/],
  ])('%s', (_name, spec, message) => {
    const error = replayErrorOf(() => parseMapSpec(spec));
    expect(error.code).toBe('REPLAY_BAD_MAP');
    expect(error.message).toMatch(message);
  });
});

describe('planning columns against the header', () => {
  const skab: ColumnOptions = { preset: 'skab', machineId: 'skab-valve1' };

  test('the SKAB preset: five features, accZ missing, three extras, time from datetime in UTC', () => {
    const plan = planColumns(SKAB_COLUMNS, skab);
    expect(describePlan(plan)).toBe(
      'current=Current, accX=Accelerometer1RMS, accY=Accelerometer2RMS, accZ=null, tempA=Temperature, tempB=Thermocouple, pressure=Pressure, voltage=Voltage, flow=Volume Flow RateRMS',
    );
    expect(plan.time).toEqual({ index: 0, column: 'datetime', offsetMinutes: 0 });
    expect(plan.machine).toEqual({ id: 'skab-valve1' });
    expect(Object.isFrozen(plan)).toBe(true);
  });

  test('--map adds to the preset and replaces its pairs per feature or channel, and per column', () => {
    const plan = planColumns(SKAB_COLUMNS, { ...skab, map: 'Pressure=accZ,Voltage=current,anomaly=flow' });
    expect(describePlan(plan)).toBe('current=Voltage, accX=Accelerometer1RMS, accY=Accelerometer2RMS, accZ=Pressure, tempA=Temperature, tempB=Thermocouple, flow=anomaly');
  });

  test('--extras all takes every other numeric column, named after it; the preset\'s labels are not sensors', () => {
    const header = ['ts', 'machine', 'amps', 'Pressure (bar)', 'Flow-rate', 'état', '2nd stage', 'note', 'empty', '%'];
    const sample = [
      ['2024-01-01 00:00:00', 'p-1', '1.5', '2.25', '3', '1', '7', 'ok', '', '50'],
      ['2024-01-01 00:00:01', 'p-1', '1.6', '', '3.1', '0', '7.5', 'ok', '', '51'],
      ['cut short'],
    ];
    const plan = planColumns(header, { map: 'amps=current', machineColumn: 'machine', extras: 'all' }, sample);
    expect(plan.extras.map((e) => [e.name, e.column])).toEqual([
      ['Pressure_bar', 'Pressure (bar)'],
      ['Flow_rate', 'Flow-rate'],
      ['etat', 'état'],
      ['c_2nd_stage', '2nd stage'],
    ]);
    expect(describePlan(plan)).toMatch(/; not taken: "note" \(not numeric in the first rows\), "empty" \(not numeric in the first rows\), "%" \(no letter or digit to name a channel after\)$/);
    const skabAll = planColumns(SKAB_COLUMNS, { ...skab, extras: 'all' }, [SKAB_ROW.split(';')]);
    expect(skabAll.extras.map((e) => e.name)).toEqual(['pressure', 'voltage', 'flow']);
    expect(planColumns(header, { map: 'amps=current', machineColumn: 'machine' }, sample).extras).toEqual([]);
  });

  test('--extras all refuses names that clash, and more channels than a reading carries', () => {
    const sample = (header: string[]) => [header.map((_h, i) => (i === 0 ? '2024-01-01 00:00:00' : '1'))];
    const clash = ['ts', 'amps', 'Flow rate', 'Flow-rate'];
    expect(replayErrorOf(() => planColumns(clash, { map: 'amps=current', machineId: 'm', extras: 'all' }, sample(clash))).message).toMatch(/column "Flow-rate" would be named Flow_rate, the name of column "Flow rate"'s channel; name it with --map "Flow-rate"=<name>/);
    const feature = ['ts', 'amps', 'tempA'];
    expect(replayErrorOf(() => planColumns(feature, { map: 'amps=current', machineId: 'm', extras: 'all' }, sample(feature))).message).toMatch(/would be named tempA, the name of a feature/);
    const wide = ['ts', 'amps', ...Array.from({ length: 65 }, (_, i) => `ch${i}`)];
    expect(replayErrorOf(() => planColumns(wide, { map: 'amps=current', machineId: 'm', extras: 'all' }, sample(wide)))).toEqual({ code: 'REPLAY_BAD_MAP', message: expect.stringMatching(/65 extra channels, more than the 64/) });
  });

  test.each([['all', 'all'], [' None ', 'none']])('--extras %j is %s', (flag, mode) => {
    expect(parseExtrasFlag(flag)).toBe(mode);
  });

  test('--extras takes nothing else', () => {
    expect(replayErrorOf(() => parseExtrasFlag('numeric')).message).toMatch(/--extras is none or all, not "numeric"/);
  });

  test('without a map, columns named exactly like the features map onto them; the time column is found by name', () => {
    const plan = planColumns(['Timestamp', 'machine', 'current', 'ACCX', 'tempA'], { machineColumn: 'machine', timezone: '+02:00' });
    expect(describePlan(plan)).toBe('current=current, accX=null, accY=null, accZ=null, tempA=tempA, tempB=null');
    expect(plan.time).toEqual({ index: 0, column: 'Timestamp', offsetMinutes: 120 });
    expect(plan.machine).toEqual({ index: 1, column: 'machine' });
  });

  test.each<[string, readonly string[], ColumnOptions, ReplayErrorCode, RegExp]>([
    ['an unknown column, listing the available ones', SKAB_COLUMNS, { map: 'Curent=current,Temperature=tempA', machineId: 'm' }, 'REPLAY_UNKNOWN_COLUMN', /no column "Curent" \(from --map\); its columns are "datetime", "Accelerometer1RMS", .*"changepoint"/],
    ['several unknown columns at once', SKAB_COLUMNS, { map: 'Curent=current,Temp=tempA', machineId: 'm', timeColumn: 'datetime' }, 'REPLAY_UNKNOWN_COLUMN', /no columns "Curent", "Temp"/],
    ['a preset that does not fit the file', ['time', 'amps'], skab, 'REPLAY_UNKNOWN_COLUMN', /\(from --preset skab\); its columns are "time", "amps"/],
    ['an unknown preset', SKAB_COLUMNS, { preset: 'nasa', machineId: 'm' }, 'REPLAY_BAD_FLAG', /--preset "nasa" is not known; presets: skab/],
    ['an unknown time column', SKAB_COLUMNS, { ...skab, timeColumn: 'when' }, 'REPLAY_UNKNOWN_COLUMN', /no time column "when"/],
    ['no time column to be found', ['when', 'current'], { machineId: 'm' }, 'REPLAY_NO_TIME_COLUMN', /give --time-column/],
    ['nothing maps onto a feature', ['time', 'amps'], { machineId: 'm' }, 'REPLAY_NOTHING_MAPPED', /give --map column=feature.*; the file's columns are "time", "amps"$/],
    ['SKAB without its preset: "Current" is not "current", and the preset is named', SKAB_COLUMNS, { machineId: 'm' }, 'REPLAY_NOTHING_MAPPED', /this file fits --preset skab;/],
    ['neither --machine nor --machine-column', SKAB_COLUMNS, { preset: 'skab' }, 'REPLAY_BAD_FLAG', /--machine ID .* or --machine-column NAME/],
    ['both --machine and --machine-column', SKAB_COLUMNS, { ...skab, machineColumn: 'Voltage' }, 'REPLAY_BAD_FLAG', /either --machine/],
    ['an unknown machine column', SKAB_COLUMNS, { preset: 'skab', machineColumn: 'pump' }, 'REPLAY_UNKNOWN_COLUMN', /no machine column "pump"/],
    ['a bad time zone', SKAB_COLUMNS, { ...skab, timezone: 'MSK' }, 'REPLAY_BAD_FLAG', /--timezone/],
  ])('%s', (_name, header, options, code, message) => {
    const error = replayErrorOf(() => planColumns(header, options));
    expect(error).toEqual({ code, message: expect.stringMatching(message) });
  });
});

describe('rows into readings', () => {
  const plan = planColumns(SKAB_COLUMNS, { preset: 'skab', machineId: 'skab-valve1' });
  const skabRow = (overrides: Record<number, string>): string[] => SKAB_ROW.split(';').map((cell, i) => overrides[i] ?? cell);

  test('a SKAB row: numbers, accZ null, the datetime as UTC epoch milliseconds', () => {
    expect(lineToReading(SKAB_ROW, ';', plan)).toEqual({
      ok: true,
      reading: {
        machineId: 'skab-valve1',
        timestamp: Date.UTC(2020, 2, 9, 10, 14, 33),
        current: 1.3302,
        accX: 0.0265878,
        accY: 0.0401113,
        accZ: null,
        tempA: 79.3366,
        tempB: 26.0199,
        extras: { pressure: 0.054711, voltage: 233.062, flow: 32 },
      },
    });
  });

  test.each<[string, Record<number, string>, Partial<Record<'current' | 'accX' | 'tempA', number | string | null>>]>([
    ['an empty cell is a missing sensor: null', { 3: '' }, { current: null }],
    ['a blank cell too', { 3: '   ' }, { current: null }],
    ['a non-numeric cell stays text, for validation to refuse', { 3: 'abc' }, { current: 'abc' }],
    ['NaN stays text: it is not a missing sensor by any rule here', { 3: 'NaN' }, { current: 'NaN' }],
    ['hexadecimal is not a reading', { 1: '0x1A' }, { accX: '0x1A' }],
    ['a decimal comma is not read as a number', { 5: '79,3' }, { tempA: '79,3' }],
    ['exponents and signs are numbers', { 1: '-2.5e-3', 3: '+.5' }, { accX: -0.0025, current: 0.5 }],
    ['spaces around a number', { 3: ' 1.25 ' }, { current: 1.25 }],
  ])('%s', (_name, overrides, expected) => {
    const result = rowToReading(skabRow(overrides), plan);
    expect(result).toMatchObject({ ok: true, reading: expected });
  });

  test.each<[string, number | string | null]>([
    ['', null],
    ['1', 1],
    ['-7', -7],
    ['3.25e2', 325],
    ['Infinity', 'Infinity'],
    ['1,5', '1,5'],
    ['one', 'one'],
  ])('cellValue(%j) is %j', (cell, expected) => {
    expect(cellValue(cell)).toBe(expected);
  });

  test.each([
    ['too few fields', SKAB_ROW.split(';').slice(0, 9).join(';'), 'bad_csv_row', /the row has 9 fields, the header 11/],
    ['too many fields', `${SKAB_ROW};1`, 'bad_csv_row', /the row has 12 fields, the header 11/],
    ['a quote never closed', SKAB_ROW.replace(';1.3302', ';"1.3302'), 'bad_csv_row', /Quote Not Closed.*CSV_QUOTE_NOT_CLOSED/],
    ['an unreadable time, named by its column', SKAB_ROW.replace('2020-03-09 10:14:33', '09.03.2020 10:14'), 'bad_timestamp', /^datetime: time "09.03.2020 10:14" is not ISO-8601/],
  ])('%s is rejected', (_name, line, code, reason) => {
    expect(lineToReading(line, ';', plan)).toEqual({ ok: false, code, reason: expect.stringMatching(reason) });
  });

  test('a blank line is no row', () => {
    expect(lineToReading('  ', ';', plan)).toBeUndefined();
  });

  test('the machine id from a column, per row', () => {
    const byColumn = planColumns(['ts', 'machine', 'current'], { machineColumn: 'machine' });
    expect(lineToReading('1704067200, lathe-7 ,2.5', ',', byColumn)).toMatchObject({ ok: true, reading: { machineId: 'lathe-7', timestamp: 1_704_067_200_000, current: 2.5, accX: null } });
  });
});
