import { FEATURES } from './index';

/**
 * The rule for `SensorReading.extras`, the channels a machine has beyond the six features, as the
 * schema's doc states it. One place, as pure functions, for every stage that checks readings: the
 * producers refuse a reading that breaks it before it reaches Kafka.
 */

/** A letter, then letters, digits or underscores: at most 32 characters in all. */
export const CHANNEL_NAME = /^[A-Za-z][A-Za-z0-9_]{0,31}$/;
export const MAX_CHANNEL_NAME_LENGTH = 32;
/** Extra channels one reading may carry. */
export const MAX_EXTRAS = 64;

/**
 * The largest magnitude a sensor value may have. No sensor reads more, and beyond it a window's
 * statistics stop meaning anything: squares of values past 1e154 overflow a double (the stddev
 * turns Infinity), and means past 3.4e38 overflow the models' float32 inputs.
 */
export const MAX_ABS_READING = 1e15;

export type ChannelProblemCode = 'bad_channel_name' | 'too_many_channels';

const FEATURE_NAMES = new Set<string>(FEATURES);

/** Why `name` can't name an extra channel, or undefined when it can. */
export function channelNameProblem(name: string): string | undefined {
  const shown = JSON.stringify(name.slice(0, 40));
  if (FEATURE_NAMES.has(name)) return `extra channel ${shown} is one of the six features; send it as the field ${name}`;
  if (name.length > MAX_CHANNEL_NAME_LENGTH) return `extra channel ${shown}... is ${name.length} characters long, more than ${MAX_CHANNEL_NAME_LENGTH}`;
  if (!CHANNEL_NAME.test(name)) return `extra channel ${shown} is not a channel name (a letter, then letters, digits or underscores)`;
  return undefined;
}

/** Why a set of channel names can't be one reading's extras (the first broken rule), or undefined. */
export function channelsProblem(names: readonly string[]): { code: ChannelProblemCode; reason: string } | undefined {
  if (names.length > MAX_EXTRAS) return { code: 'too_many_channels', reason: `${names.length} extra channels, more than the ${MAX_EXTRAS} a reading may carry` };
  for (const name of names) {
    const reason = channelNameProblem(name);
    if (reason !== undefined) return { code: 'bad_channel_name', reason };
  }
  return undefined;
}

/**
 * A column or field name as a channel name, for sources that name their channels freely (a CSV
 * header): accents dropped, every run of other characters (spaces, dots, dashes, brackets) an
 * underscore, no underscore at either end, a leading digit behind `c_`, cut to 32 characters.
 * Undefined when nothing of the name is left (`%`, `---`).
 */
export function toChannelName(text: string): string | undefined {
  const ascii = text.normalize('NFKD').replace(/[\u0300-\u036f]/g, '');
  let name = ascii.replace(/[^A-Za-z0-9]+/g, '_').replace(/^_+|_+$/g, '');
  if (name === '') return undefined;
  if (!/^[A-Za-z]/.test(name)) name = `c_${name}`;
  return name.slice(0, MAX_CHANNEL_NAME_LENGTH).replace(/_+$/, '');
}
