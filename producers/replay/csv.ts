// CsvError from the same entry as parse: each of csv-parse's CommonJS bundles has its own class.
import { CsvError, parse as parseCsv } from 'csv-parse/sync';
import { PdmError } from '../../lib/errors';
import { FEATURES, type Feature } from '../../schemas';
import { MAX_EXTRAS, channelNameProblem, toChannelName } from '../../schemas/channels';

/**
 * How the lines of a CSV file become sensor readings, as pure functions: the replay's flags
 * (separator, column map, preset, time zone, speed) are checked against the file's header once,
 * into a frozen plan, and each line then maps through that plan with no I/O and no clock.
 *
 * A line that can't be read as a row (wrong number of fields, a quote never closed) or whose time
 * can't be read comes back as a rejection with a code, for the dead-letter topic. A cell that
 * isn't a number is passed on as the text it is, so validation refuses it as `not_a_number`: a
 * sensor value must never turn into a silent null.
 */

export type ReplayErrorCode = 'REPLAY_BAD_FLAG' | 'REPLAY_BAD_MAP' | 'REPLAY_UNKNOWN_COLUMN' | 'REPLAY_NO_TIME_COLUMN' | 'REPLAY_NOTHING_MAPPED' | 'REPLAY_FILE';

/** A replay that can't start: a bad flag, a map that doesn't fit the file, a file that isn't there. */
export class ReplayError extends PdmError<ReplayErrorCode> {
  constructor(code: ReplayErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'ReplayError';
  }
}

// ---------------------------------------------------------------------------------------------
// Lines and separators

/** The separators tried when none is given, in order of preference on a tie. */
export const SEPARATORS = [';', ',', '\t', '|'] as const;

const SEPARATOR_NAMES: Record<string, string> = { semicolon: ';', comma: ',', tab: '\t', '\\t': '\t', pipe: '|' };

/** `--separator`: one character, or a name (`tab`, `semicolon`) for what a shell makes awkward. */
export function parseSeparatorFlag(text: string): string {
  const separator = SEPARATOR_NAMES[text.toLowerCase()] ?? text;
  if (separator.length !== 1 || separator === '"' || separator === '\n' || separator === '\r') {
    throw new ReplayError('REPLAY_BAD_FLAG', `--separator is one character such as ';' or ',' (or tab, semicolon, comma, pipe), not ${JSON.stringify(text)}`);
  }
  return separator;
}

export type SplitLine = { ok: true; fields: string[] } | { ok: false; reason: string };

/**
 * One line of the file as fields. The file is read line by line rather than as one CSV stream so
 * that a quote left open damages only its own line: a streaming parser would read on through the
 * following lines looking for the closing quote and swallow them all. Sensor exports don't put
 * line breaks inside fields, so nothing is lost by it.
 *
 * A line without quotes has nothing for a CSV parser to do but split, so it is split directly;
 * csv-parse reads every line that has quotes, at several times the cost.
 */
export function splitLine(line: string, separator: string): SplitLine {
  if (!line.includes('"')) return { ok: true, fields: line.split(separator) };
  try {
    const records = parseCsv(line, { delimiter: separator, relax_column_count: true }) as string[][];
    if (records.length !== 1 || !records[0]) return { ok: false, reason: 'the line does not hold one CSV record' };
    return { ok: true, fields: records[0] };
  } catch (err) {
    // Its message ends in "at line 1", which is the parser's line, not the file's.
    const message = (err as Error).message.replace(/ (at|on) line \d+/g, '');
    return { ok: false, reason: err instanceof CsvError ? `${message} (${err.code})` : message };
  }
}

/**
 * The separator that splits the header into the most fields and the first data line into as
 * many. A candidate that splits the header but not the data the same way (a comma inside
 * decimal numbers, say) loses to one that splits both alike.
 */
export function detectSeparator(headerLine: string, firstDataLine?: string): string {
  let best: { separator: string; fields: number; consistent: boolean } | undefined;
  for (const separator of SEPARATORS) {
    const header = splitLine(headerLine, separator);
    if (!header.ok || header.fields.length < 2) continue;
    const data = firstDataLine === undefined ? undefined : splitLine(firstDataLine, separator);
    const consistent = data === undefined || (data.ok && data.fields.length === header.fields.length);
    const candidate = { separator, fields: header.fields.length, consistent };
    if (!best || (candidate.consistent && !best.consistent) || (candidate.consistent === best.consistent && candidate.fields > best.fields)) best = candidate;
  }
  return best?.separator ?? ',';
}

/** The header's column names, without a byte-order mark and the spaces around each name. */
export function parseHeader(line: string, separator: string): string[] {
  const split = splitLine(line.replace(/^\uFEFF/, ''), separator);
  if (!split.ok) throw new ReplayError('REPLAY_FILE', `the header line can't be read: ${split.reason}`);
  return split.fields.map((name) => name.trim());
}

// ---------------------------------------------------------------------------------------------
// Time

/** `--timezone`: a fixed offset from UTC, as minutes east of Greenwich. */
export function parseUtcOffset(text: string): number {
  const trimmed = text.trim();
  if (/^(z|utc|gmt)$/i.test(trimmed)) return 0;
  const match = /^(?:utc|gmt)?([+-])(\d{2})(?::?(\d{2}))?$/i.exec(trimmed);
  const hours = Number(match?.[2]);
  const minutes = Number(match?.[3] ?? 0);
  if (!match || hours > 14 || minutes > 59) {
    throw new ReplayError('REPLAY_BAD_FLAG', `--timezone is an offset from UTC such as +03:00, -05:30 or Z, not ${JSON.stringify(text)} (zone names are not taken: their offset changes with daylight saving)`);
  }
  return (match[1] === '-' ? -1 : 1) * (hours * 60 + minutes);
}

export type ParsedTime = { ok: true; ms: number } | { ok: false; reason: string };

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;
const EPOCH = /^[+-]?\d+(\.\d+)?$/;
/** Epoch values below this are seconds (it is the year 5138 in seconds, 1973 in milliseconds). */
const EPOCH_SECONDS_BELOW = 1e11;
/** Above this an epoch value is micro- or nanoseconds, which no sensor export here has used. */
const EPOCH_MILLISECONDS_BELOW = 1e14;

/**
 * A time cell as epoch milliseconds: ISO-8601 with a zone; `YYYY-MM-DD HH:MM:SS(.fff)` without
 * one, read in the zone `offsetMinutes` east of UTC; or epoch seconds or milliseconds, told apart
 * by magnitude.
 */
export function parseTimestamp(text: string, offsetMinutes: number): ParsedTime {
  const cell = text.trim();
  const unreadable = (why: string): ParsedTime => ({ ok: false, reason: `time ${JSON.stringify(cell.slice(0, 40))} ${why}` });
  if (EPOCH.test(cell)) {
    const value = Number(cell);
    if (Math.abs(value) >= EPOCH_MILLISECONDS_BELOW) return unreadable('is too large for epoch seconds or milliseconds');
    return { ok: true, ms: Math.round(Math.abs(value) < EPOCH_SECONDS_BELOW ? value * 1000 : value) };
  }
  const match = DATE_TIME.exec(cell);
  if (!match) return unreadable('is not ISO-8601, YYYY-MM-DD HH:MM:SS or epoch seconds/milliseconds');
  const [, year, month, day, hour = '0', minute = '0', second = '0', fraction = '', zone] = match;
  const fields = { year: Number(year), month: Number(month), day: Number(day), hour: Number(hour), minute: Number(minute), second: Number(second) };
  const localAsUtcMs = Date.UTC(fields.year, fields.month - 1, fields.day, fields.hour, fields.minute, fields.second, Number(fraction.slice(0, 3).padEnd(3, '0')));
  // Date.UTC rolls 2021-02-30 over into March; a date that doesn't exist is an error instead.
  const back = new Date(localAsUtcMs);
  if (back.getUTCMonth() !== fields.month - 1 || back.getUTCDate() !== fields.day || back.getUTCHours() !== fields.hour || back.getUTCMinutes() !== fields.minute || back.getUTCSeconds() !== fields.second) {
    return unreadable('is not a valid date and time');
  }
  const zoneMinutes = zone === undefined ? offsetMinutes : zone.toUpperCase() === 'Z' ? 0 : zoneOffset(zone);
  return { ok: true, ms: localAsUtcMs - zoneMinutes * 60_000 };
}

function zoneOffset(zone: string): number {
  const digits = zone.slice(1).replace(':', '');
  const minutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || 0);
  return zone.startsWith('-') ? -minutes : minutes;
}

// ---------------------------------------------------------------------------------------------
// Speed

/** max: as fast as the broker takes it; paced: event-time gaps divided by `factor` (1 is real time). */
export type ReplaySpeed = { kind: 'max' } | { kind: 'paced'; factor: number };

/** `--speed`: max, realtime, or a factor such as 10 (or 10x) for ten times faster than real time. */
export function parseSpeed(text: string): ReplaySpeed {
  const trimmed = text.trim().toLowerCase();
  if (trimmed === 'max') return { kind: 'max' };
  if (trimmed === 'realtime') return { kind: 'paced', factor: 1 };
  const factor = /^\d+(\.\d+)?x?$/.test(trimmed) ? Number.parseFloat(trimmed) : Number.NaN;
  if (!(factor > 0)) throw new ReplayError('REPLAY_BAD_FLAG', `--speed is max, realtime or a factor such as 10 (ten times real time), not ${JSON.stringify(text)}`);
  return { kind: 'paced', factor };
}

// ---------------------------------------------------------------------------------------------
// Columns onto features and extra channels

/** A column onto one of the six features, or onto an extra channel (`SensorReading.extras`) by name. */
export type ColumnMapEntry = { column: string; feature: Feature } | { column: string; extra: string };

const targetOf = (entry: ColumnMapEntry): string => ('feature' in entry ? entry.feature : entry.extra);

export interface Preset {
  description: string;
  map: readonly ColumnMapEntry[];
  timeColumn: string;
  /** Numeric columns that are not sensors (labels): `--extras all` leaves them out. */
  notSensors?: readonly string[];
}

/** Known files' layouts, so their replay needs no --map. */
export const PRESETS: Readonly<Record<string, Preset>> = {
  skab: {
    description: 'Skoltech Anomaly Benchmark (waico/SKAB): no accZ channel; Pressure, Voltage and Volume Flow RateRMS as extras pressure, voltage, flow',
    map: [
      { column: 'Current', feature: 'current' },
      { column: 'Accelerometer1RMS', feature: 'accX' },
      { column: 'Accelerometer2RMS', feature: 'accY' },
      { column: 'Temperature', feature: 'tempA' },
      { column: 'Thermocouple', feature: 'tempB' },
      { column: 'Pressure', extra: 'pressure' },
      { column: 'Voltage', extra: 'voltage' },
      { column: 'Volume Flow RateRMS', extra: 'flow' },
    ],
    timeColumn: 'datetime',
    notSensors: ['anomaly', 'changepoint'],
  },
};

const FEATURES_TEXT = FEATURES.join(', ');
const featureNamed = (name: string): Feature | undefined => FEATURES.find((f) => f.toLowerCase() === name.trim().toLowerCase());

/**
 * `--map Current=current,Pressure=pressure`: column=name entries. A name that is a feature (in any
 * case) maps onto it; any other name is an extra channel of that name, which must be a channel
 * name (a letter, then letters, digits or underscores, at most 32).
 */
export function parseMapSpec(spec: string): ColumnMapEntry[] {
  const entries = spec.split(',').map((e) => e.trim()).filter(Boolean);
  if (entries.length === 0) throw new ReplayError('REPLAY_BAD_MAP', '--map is empty: give column=feature pairs such as Current=current,Accelerometer1RMS=accX');
  const map: ColumnMapEntry[] = [];
  for (const entry of entries) {
    // The last "=" splits: a column name may hold one, a feature or channel name never does.
    const at = entry.lastIndexOf('=');
    const column = entry.slice(0, at).trim();
    const name = entry.slice(at + 1).trim();
    if (at < 0 || !column || !name) throw new ReplayError('REPLAY_BAD_MAP', `--map entry ${JSON.stringify(entry)} is not column=feature (example: Current=current,Accelerometer1RMS=accX)`);
    const feature = featureNamed(name);
    // A column named like a feature goes onto that feature: mapping it elsewhere is the map written backwards.
    if (!feature && featureNamed(column)) {
      throw new ReplayError('REPLAY_BAD_MAP', `--map entry ${JSON.stringify(entry)}: the map is column=feature, so perhaps ${name}=${column} (the features are ${FEATURES_TEXT})`);
    }
    const problem = feature ? undefined : channelNameProblem(name);
    if (problem) {
      throw new ReplayError('REPLAY_BAD_MAP', `--map entry ${JSON.stringify(entry)}: ${JSON.stringify(name)} is neither a feature (${FEATURES_TEXT}) nor an extra channel name: ${problem}`);
    }
    const target = feature ?? name;
    const twice = map.find((m) => targetOf(m) === target);
    if (twice) throw new ReplayError('REPLAY_BAD_MAP', `--map gives ${target} twice, from ${JSON.stringify(twice.column)} and ${JSON.stringify(column)}`);
    map.push(feature ? { column, feature } : { column, extra: name });
  }
  return map;
}

export function presetNamed(name: string): Preset {
  const preset = PRESETS[name.trim().toLowerCase()];
  if (!preset) throw new ReplayError('REPLAY_BAD_FLAG', `--preset ${JSON.stringify(name)} is not known; presets: ${Object.keys(PRESETS).join(', ')}`);
  return preset;
}

export interface ColumnOptions {
  /**
   * `--map`: column=feature (or column=channel) pairs; with a preset they add to or replace its
   * pairs, per feature or channel and per column. Without either, columns named exactly like a
   * feature map onto it.
   */
  map?: string;
  /** `--extras all`: every other numeric column is an extra channel named after it (toChannelName). Default none. */
  extras?: ExtrasMode;
  preset?: string;
  /** Default: the preset's, else the one column named timestamp, time, datetime or ts. */
  timeColumn?: string;
  /** Every row's machine id; or `machineColumn`, the column that holds it. Exactly one of them. */
  machineId?: string;
  machineColumn?: string;
  /** UTC offset for times written without a zone; default UTC. */
  timezone?: string;
}

export const EXTRAS_MODES = ['none', 'all'] as const;
export type ExtrasMode = (typeof EXTRAS_MODES)[number];

/** `--extras`: none (only what --map or the preset names) or all. */
export function parseExtrasFlag(text: string): ExtrasMode {
  const mode = text.trim().toLowerCase();
  if (!(EXTRAS_MODES as readonly string[]).includes(mode)) throw new ReplayError('REPLAY_BAD_FLAG', `--extras is ${EXTRAS_MODES.join(' or ')}, not ${JSON.stringify(text)}`);
  return mode as ExtrasMode;
}

/** Where each part of a reading comes from in a row, checked against the header once. */
export interface RowPlan {
  readonly fieldCount: number;
  readonly time: { readonly index: number; readonly column: string; readonly offsetMinutes: number };
  readonly machine: { readonly id: string } | { readonly index: number; readonly column: string };
  /** Every feature, in schema order; `index` null where no column maps onto it (always null). */
  readonly features: ReadonlyArray<{ readonly feature: Feature; readonly index: number | null; readonly column: string | null }>;
  /** Extra channels, from --map, the preset or --extras all, in header order. */
  readonly extras: ReadonlyArray<{ readonly name: string; readonly index: number; readonly column: string }>;
  /** Columns --extras all left out, with why (not numeric in the sample, no name to give). */
  readonly skipped: ReadonlyArray<{ readonly column: string; readonly why: string }>;
}

const TIME_COLUMN_NAMES = /^(timestamp|time|datetime|date_?time|ts)$/i;

/** Exact name first; otherwise a name that differs only in case, if just one does. */
function columnIndex(header: readonly string[], name: string): number | undefined {
  const exact = header.indexOf(name.trim());
  if (exact >= 0) return exact;
  const folded = header.flatMap((h, i) => (h.toLowerCase() === name.trim().toLowerCase() ? [i] : []));
  return folded.length === 1 ? folded[0] : undefined;
}

const columnsText = (header: readonly string[]): string => header.map((h) => JSON.stringify(h)).join(', ');

/**
 * Checks the flags against the header and fixes where every part of a reading comes from.
 * `sample` is the first data rows, split: `--extras all` takes the columns that hold numbers there.
 */
export function planColumns(header: readonly string[], options: ColumnOptions, sample: ReadonlyArray<readonly string[]> = []): RowPlan {
  const preset = options.preset === undefined ? undefined : presetNamed(options.preset);
  const offsetMinutes = parseUtcOffset(options.timezone ?? 'Z');

  let map: ColumnMapEntry[];
  if (options.map !== undefined) {
    const given = parseMapSpec(options.map);
    // A preset's pair gives way to one for the same feature or channel, or from the same column.
    const replaced = (p: ColumnMapEntry) => given.some((g) => targetOf(g) === targetOf(p) || columnIndex(header, g.column) === columnIndex(header, p.column));
    map = [...(preset?.map ?? []).filter((p) => !replaced(p)), ...given];
  } else if (preset) {
    map = [...preset.map];
  } else {
    // A file that names its columns exactly like the features (an export of this pipeline) needs
    // no map. Only exactly: SKAB's "Current" alone would otherwise map, and its other four not.
    map = FEATURES.flatMap((feature) => (header.includes(feature) ? [{ column: feature, feature }] : []));
    if (map.length === 0) {
      const fitting = Object.entries(PRESETS).filter(([, p]) => [...p.map.map((m) => m.column), p.timeColumn].every((c) => columnIndex(header, c) !== undefined));
      const hint = fitting.length > 0 ? `; this file fits --preset ${fitting.map(([name]) => name).join(' or ')}` : '';
      throw new ReplayError('REPLAY_NOTHING_MAPPED', `no column is named like a feature: give --map column=feature,... or --preset (${Object.keys(PRESETS).join(', ')})${hint}; the file's columns are ${columnsText(header)}`);
    }
  }
  const unknown = map.filter((m) => columnIndex(header, m.column) === undefined).map((m) => JSON.stringify(m.column));
  if (unknown.length > 0) {
    throw new ReplayError('REPLAY_UNKNOWN_COLUMN', `the file has no column${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (from ${options.map !== undefined ? '--map' : `--preset ${options.preset}`}); its columns are ${columnsText(header)}`);
  }

  const timeColumn = options.timeColumn ?? preset?.timeColumn;
  let timeIndex: number | undefined;
  if (timeColumn !== undefined) {
    timeIndex = columnIndex(header, timeColumn);
    if (timeIndex === undefined) throw new ReplayError('REPLAY_UNKNOWN_COLUMN', `the file has no time column ${JSON.stringify(timeColumn)}; its columns are ${columnsText(header)}`);
  } else {
    const candidates = header.flatMap((h, i) => (TIME_COLUMN_NAMES.test(h) ? [i] : []));
    if (candidates.length !== 1) throw new ReplayError('REPLAY_NO_TIME_COLUMN', `give --time-column: the file's columns are ${columnsText(header)}`);
    timeIndex = candidates[0]!;
  }

  if ((options.machineId === undefined) === (options.machineColumn === undefined)) {
    throw new ReplayError('REPLAY_BAD_FLAG', 'give either --machine ID (one machine for the whole file) or --machine-column NAME (the column that holds each row\'s machine id)');
  }
  let machine: RowPlan['machine'];
  if (options.machineColumn !== undefined) {
    const index = columnIndex(header, options.machineColumn);
    if (index === undefined) throw new ReplayError('REPLAY_UNKNOWN_COLUMN', `the file has no machine column ${JSON.stringify(options.machineColumn)}; its columns are ${columnsText(header)}`);
    machine = Object.freeze({ index, column: header[index]! });
  } else {
    machine = Object.freeze({ id: options.machineId! });
  }

  const features = FEATURES.map((feature) => {
    const entry = map.find((m) => 'feature' in m && m.feature === feature);
    const index = entry ? columnIndex(header, entry.column)! : null;
    return Object.freeze({ feature, index, column: index === null ? null : header[index]! });
  });
  const mapped = map.flatMap((m) => ('extra' in m ? [{ name: m.extra, index: columnIndex(header, m.column)! }] : []));
  const taken = new Set([timeIndex, ...('index' in machine ? [machine.index] : []), ...map.map((m) => columnIndex(header, m.column)!)]);
  const all = options.extras === 'all' ? allExtras(header, sample, taken, [...mapped.map((m) => m.name)], preset?.notSensors ?? []) : { extras: [], skipped: [] };
  const extras = [...mapped, ...all.extras].sort((a, b) => a.index - b.index).map((e) => Object.freeze({ ...e, column: header[e.index]! }));
  if (extras.length > MAX_EXTRAS) {
    throw new ReplayError('REPLAY_BAD_MAP', `${extras.length} extra channels, more than the ${MAX_EXTRAS} a reading may carry: map the ones wanted with --map instead of --extras all`);
  }
  return Object.freeze({
    fieldCount: header.length,
    time: Object.freeze({ index: timeIndex, column: header[timeIndex]!, offsetMinutes }),
    machine,
    features: Object.freeze(features),
    extras: Object.freeze(extras),
    skipped: Object.freeze(all.skipped.map((s) => Object.freeze(s))),
  });
}

/**
 * `--extras all`: every column not yet taken that holds a number in the sample rows (and nothing
 * but numbers or blanks), as a channel named after it. Two columns that would get the same name,
 * or a name that is a feature's or a mapped channel's, stop the replay: --map names one of them.
 */
function allExtras(header: readonly string[], sample: ReadonlyArray<readonly string[]>, taken: ReadonlySet<number>, names: string[], notSensors: readonly string[]) {
  const extras: Array<{ name: string; index: number }> = [];
  const skipped: Array<{ column: string; why: string }> = [];
  const ignored = new Set(notSensors.map((c) => columnIndex(header, c)));
  const usedBy = new Map<string, string>(names.map((n) => [n, 'a channel of --map or the preset']));
  for (const feature of FEATURES) usedBy.set(feature, 'a feature');
  header.forEach((column, index) => {
    if (taken.has(index) || ignored.has(index)) return;
    const cells = sample.filter((row) => row.length === header.length).map((row) => cellValue(row[index]!));
    if (!cells.some((c) => typeof c === 'number') || cells.some((c) => typeof c === 'string')) {
      skipped.push({ column, why: 'not numeric in the first rows' });
      return;
    }
    const name = toChannelName(column);
    if (name === undefined) {
      skipped.push({ column, why: 'no letter or digit to name a channel after' });
      return;
    }
    const owner = usedBy.get(name);
    if (owner) {
      throw new ReplayError('REPLAY_BAD_MAP', `--extras all: column ${JSON.stringify(column)} would be named ${name}, the name of ${owner}; name it with --map ${JSON.stringify(column)}=<name>`);
    }
    usedBy.set(name, `column ${JSON.stringify(column)}'s channel`);
    extras.push({ name, index });
  });
  return { extras, skipped };
}

/** The plan in a person's words: `current=Current, ..., accZ=null, pressure=Pressure`, and what --extras all skipped. */
export function describePlan(plan: RowPlan): string {
  const pairs = [...plan.features.map((f) => `${f.feature}=${f.column ?? 'null'}`), ...plan.extras.map((e) => `${e.name}=${e.column}`)].join(', ');
  const skipped = plan.skipped.map((s) => `${JSON.stringify(s.column)} (${s.why})`).join(', ');
  return skipped === '' ? pairs : `${pairs}; not taken: ${skipped}`;
}

// ---------------------------------------------------------------------------------------------
// Rows onto readings

/** What a row becomes before validation: a cell that isn't a number stays its text. Extras only when the plan has some. */
export type RawReading = { machineId: string; timestamp: number } & Record<Feature, number | string | null> & { extras?: Record<string, number | string | null> };

export type RowRejectionCode = 'bad_csv_row' | 'bad_timestamp';

export type RowResult = { ok: true; reading: RawReading } | { ok: false; code: RowRejectionCode; reason: string };

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** A cell as a feature value: empty is a missing sensor (null); a decimal number is the value. */
export function cellValue(cell: string): number | string | null {
  const trimmed = cell.trim();
  if (trimmed === '') return null;
  // Number() alone would read "0x1A" and "Infinity" and turn "  " into 0.
  return DECIMAL.test(trimmed) ? Number(trimmed) : trimmed;
}

/** A row's fields through the plan. */
export function rowToReading(fields: readonly string[], plan: RowPlan): RowResult {
  if (fields.length !== plan.fieldCount) return { ok: false, code: 'bad_csv_row', reason: `the row has ${fields.length} field${fields.length === 1 ? '' : 's'}, the header ${plan.fieldCount}` };
  const time = parseTimestamp(fields[plan.time.index]!, plan.time.offsetMinutes);
  if (!time.ok) return { ok: false, code: 'bad_timestamp', reason: `${plan.time.column}: ${time.reason}` };
  const machineId = 'id' in plan.machine ? plan.machine.id : fields[plan.machine.index]!.trim();
  const reading = { machineId, timestamp: time.ms } as RawReading;
  for (const { feature, index } of plan.features) reading[feature] = index === null ? null : cellValue(fields[index]!);
  if (plan.extras.length > 0) reading.extras = Object.fromEntries(plan.extras.map(({ name, index }) => [name, cellValue(fields[index]!)]));
  return { ok: true, reading };
}

/** A line of the file through the plan; undefined for a blank line, which is no row at all. */
export function lineToReading(line: string, separator: string, plan: RowPlan): RowResult | undefined {
  if (line.trim() === '') return undefined;
  const split = splitLine(line, separator);
  if (!split.ok) return { ok: false, code: 'bad_csv_row', reason: split.reason };
  return rowToReading(split.fields, plan);
}
