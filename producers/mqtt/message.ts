import { FEATURES } from '../../schemas';

/**
 * What an MQTT message means as a sensor reading, as pure functions: which topics the bridge
 * takes, where the machine id sits in a topic, and how a payload becomes the plain object that
 * producers/validation.ts judges. Devices send flat JSON, so a numeric (or null) field beyond the
 * reading's own is taken as an extra channel (`"pressure": 2.4` is `extras.pressure`); nothing
 * else is normalised: strings for numbers, other fields and bad channel names pass through, so
 * validation refuses them with its own reason code.
 */

/** Refusals decided here, before validation; each is also a dead-letter reason code. */
export type MessageRefusalCode = 'malformed_json' | 'machine_id_mismatch' | 'payload_too_large' | 'unexpected_topic' | 'bad_channel_name';

export type DecodedMessage = { ok: true; input: unknown } | { ok: false; code: MessageRefusalCode; reason: string };

export interface TopicLayout {
  /** The subscription's topic filter, possibly a shared one (`$share/<group>/<filter>`). */
  filter: string;
  /** Topic level (0-based) that carries the machine id; undefined when only payloads carry it. */
  machineIdSegment: number | undefined;
  /** Payloads above this many bytes are refused unparsed. */
  maxPayloadBytes: number;
}

const SHARED_PREFIX = /^\$share\/([^/]*)\/(.*)$/s;

/**
 * The filter that received topics are matched against: a shared subscription's `$share/<group>/`
 * prefix only tells the broker to spread messages over a group; topics arrive without it.
 */
export function matchedFilter(filter: string): string {
  return SHARED_PREFIX.exec(filter)?.[2] ?? filter;
}

/** Why a topic filter is not valid MQTT (undefined when it is): `+` and `#` fill a whole level, `#` comes last. */
export function topicFilterProblem(filter: string): string | undefined {
  const shared = SHARED_PREFIX.exec(filter);
  if (filter.startsWith('$share/') && (!shared || shared[1] === '' || /[+#]/.test(shared[1]!))) {
    return 'a shared subscription is $share/<group>/<filter>, the group without wildcards';
  }
  const levels = matchedFilter(filter).split('/');
  if (levels.join('/') === '') return 'the topic filter is empty';
  if (filter.includes('\u0000')) return 'the topic filter contains a NUL character';
  for (const [index, level] of levels.entries()) {
    if (level.includes('#') && (level !== '#' || index !== levels.length - 1)) return `"#" must be a whole level and the last one (level ${index}: ${JSON.stringify(level)})`;
    if (level.includes('+') && level !== '+') return `"+" must be a whole level (level ${index}: ${JSON.stringify(level)})`;
  }
  return undefined;
}

/** The level of the first `+` in a filter: where the machine id sits unless configured otherwise. */
export function defaultMachineIdSegment(filter: string): number | undefined {
  const index = matchedFilter(filter).split('/').indexOf('+');
  return index === -1 ? undefined : index;
}

/** Why a machine-id level does not fit a filter: it must be a level every matching topic has. */
export function machineIdSegmentProblem(filter: string, segment: number): string | undefined {
  const levels = matchedFilter(filter).split('/');
  const multiLevel = levels.at(-1) === '#';
  // `a/#` also matches `a` itself, so only the levels before `#` are certain to exist.
  const certain = multiLevel ? levels.length - 1 : levels.length;
  if (segment < certain) return undefined;
  return multiLevel ? `level ${segment} is at or after the "#" of ${filter}; a topic such as ${levels.slice(0, -1).join('/')} has no such level` : `${filter} has ${levels.length} levels (0 to ${levels.length - 1}), not ${segment + 1}`;
}

/** MQTT topic matching: `+` matches exactly one level, `#` any number of remaining levels (even none). */
export function topicMatches(filter: string, topic: string): boolean {
  const filterLevels = matchedFilter(filter).split('/');
  const topicLevels = topic.split('/');
  // Wildcards never match the broker's own `$SYS/...` topics at the first level (MQTT 4.7.2).
  if (topic.startsWith('$') && (filterLevels[0] === '+' || filterLevels[0] === '#')) return false;
  for (const [index, level] of filterLevels.entries()) {
    if (level === '#') return true;
    if (index >= topicLevels.length) return false;
    if (level !== '+' && level !== topicLevels[index]) return false;
  }
  return filterLevels.length === topicLevels.length;
}

/** The machine id a topic names at `segment`, or undefined when there is none (or it is empty). */
export function machineIdFromTopic(topic: string, segment: number | undefined): string | undefined {
  if (segment === undefined) return undefined;
  const level = topic.split('/')[segment];
  return level === undefined || level === '' ? undefined : level;
}

// Fatal: bytes that are not UTF-8 are a malformed message, not text with U+FFFD in its ids.
const utf8 = new TextDecoder('utf-8', { fatal: true });

const isPlainObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The input for validation from one message: the payload's JSON object, with the topic's machine
 * id added when the payload names none. A payload naming another machine than its topic is
 * refused: one of the two is wrong, and guessing which would file readings under a wrong machine.
 */
export function readingInput(topic: string, payload: Uint8Array, layout: TopicLayout): DecodedMessage {
  if (!topicMatches(layout.filter, topic)) {
    // Left over from an earlier MQTT_TOPIC in the same persistent session: its levels mean something else.
    return { ok: false, code: 'unexpected_topic', reason: `topic ${topic} does not match the subscription ${layout.filter}` };
  }
  if (payload.byteLength > layout.maxPayloadBytes) {
    return { ok: false, code: 'payload_too_large', reason: `payload of ${payload.byteLength} bytes exceeds ${layout.maxPayloadBytes}; the dead-letter copy keeps the first ${layout.maxPayloadBytes}` };
  }
  let text: string;
  try {
    text = utf8.decode(payload);
  } catch {
    return { ok: false, code: 'malformed_json', reason: 'payload is not UTF-8 text, so not JSON' };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return { ok: false, code: 'malformed_json', reason: `payload is not JSON: ${(err as Error).message}` };
  }
  if (!isPlainObject(parsed)) return { ok: true, input: parsed };
  const topicMachineId = machineIdFromTopic(topic, layout.machineIdSegment);
  if (topicMachineId === undefined) return gatherExtras(parsed);
  if (!Object.hasOwn(parsed, 'machineId')) return gatherExtras({ machineId: topicMachineId, ...parsed });
  // A machineId that is not a string is validation's to refuse (bad_machine_id), with its own reason.
  if (typeof parsed.machineId === 'string' && parsed.machineId !== topicMachineId) {
    return { ok: false, code: 'machine_id_mismatch', reason: `payload machineId ${JSON.stringify(parsed.machineId.slice(0, 128))} differs from ${JSON.stringify(topicMachineId)} in topic ${topic}` };
  }
  return gatherExtras(parsed);
}

const READING_FIELDS = new Set<string>(['machineId', 'timestamp', ...FEATURES, 'extras']);

/**
 * A flat payload's numeric (or null) fields beyond the reading's own, moved into `extras`, after
 * any the payload already nests there (the Avro record's own shape). A channel given both ways is
 * refused: the two values may differ, and keeping either would hide the other.
 */
export function gatherExtras(payload: Record<string, unknown>): DecodedMessage {
  const flat = Object.entries(payload).filter(([name, value]) => !READING_FIELDS.has(name) && (typeof value === 'number' || value === null));
  if (flat.length === 0) return { ok: true, input: payload };
  const nested = payload.extras ?? {};
  // Extras that are not an object are validation's to refuse (malformed), with its own reason.
  if (!isPlainObject(nested)) return { ok: true, input: payload };
  const twice = flat.find(([name]) => Object.hasOwn(nested, name));
  if (twice) return { ok: false, code: 'bad_channel_name', reason: `channel ${JSON.stringify(twice[0].slice(0, 40))} is given both as a field and in extras` };
  const moved = new Set(flat.map(([name]) => name));
  // fromEntries, not assignment: a "__proto__" field must stay a field (for validation to refuse), not become a prototype.
  const input = Object.fromEntries(Object.entries(payload).filter(([name]) => !moved.has(name)));
  input.extras = Object.fromEntries([...Object.entries(nested), ...flat]);
  return { ok: true, input };
}
