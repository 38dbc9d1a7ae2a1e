import { z } from 'zod';
import { duration, parseEnv } from '../../lib/config';
import { PdmError } from '../../lib/errors';
import { redactUrl } from '../../lib/logger';
import { defaultMachineIdSegment, machineIdSegmentProblem, topicFilterProblem } from './message';

/** The MQTT bridge's settings, from the environment (the shared producer settings live in producers/runtime.ts). */
export const schema = z.object({
  MQTT_URL: z
    .string()
    .default('mqtt://127.0.0.1:1883')
    .refine((value) => URL.canParse(value) && /^(mqtts?|wss?):$/.test(new URL(value).protocol), 'expected a URL such as mqtt://host:1883 (mqtt, mqtts, ws or wss)')
      .describe('Broker URL: mqtt://, mqtts:// (TLS), ws:// or wss://; a password in it is never logged.'),
  MQTT_TOPIC: z
    .string()
    .default('sensors/+/telemetry')
    .superRefine((value, ctx) => {
      const problem = topicFilterProblem(value);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }).describe('Topic filter to subscribe to with QoS 1: `+` is one level, `#` the rest; `$share/<group>/...` spreads the load over several bridges.'),
  MQTT_CLIENT_ID: z.string().min(1).max(65535).default('pdm-mqtt-bridge')
    .describe("Fixed client id: the broker keeps this bridge's session (subscription, unacknowledged messages) under it across restarts."),
  MQTT_USERNAME: z.string().optional().describe('User name for the broker, if it asks for one.'),
  MQTT_PASSWORD: z.string().optional().describe('Password for the broker; never logged.'),
  MQTT_MACHINE_ID_SEGMENT: z.coerce.number().int().min(0).optional()
    .describe('Topic level (0-based) that holds the machine id; default: the first `+` of MQTT_TOPIC (1 in `sensors/+/telemetry`).'),
  MQTT_SESSION_EXPIRY: duration('7d').describe('How long the broker keeps the session, queueing readings, while the bridge is away (MQTT 5 session expiry).'),
  MQTT_MAX_PAYLOAD_BYTES: z.coerce.number().int().min(1024).max(900_000).default(65_536)
    .describe('Payloads larger than this are dead-lettered unparsed (a reading is a few hundred bytes; Kafka takes about 1 MB).'),
});

export interface MqttSettings {
  url: string;
  topic: string;
  clientId: string;
  username: string | undefined;
  password: string | undefined;
  /** undefined: the topic names no machine, every payload must. */
  machineIdSegment: number | undefined;
  sessionExpirySeconds: number;
  maxPayloadBytes: number;
}

/** MQTT 5 encodes the expiry in 32 bits; 0xFFFFFFFF means "never", which we don't want by accident. */
const MAX_SESSION_EXPIRY_SECONDS = 0xffff_fffe;

export function mqttSettings(env: NodeJS.ProcessEnv = process.env): Readonly<MqttSettings> {
  const raw = parseEnv(schema, env);
  const machineIdSegment = raw.MQTT_MACHINE_ID_SEGMENT ?? defaultMachineIdSegment(raw.MQTT_TOPIC);
  const segmentProblem = machineIdSegment === undefined ? undefined : machineIdSegmentProblem(raw.MQTT_TOPIC, machineIdSegment);
  if (segmentProblem) throw new PdmError('CONFIG_INVALID', `invalid configuration:\n  MQTT_MACHINE_ID_SEGMENT: ${segmentProblem}`);
  return Object.freeze({
    url: raw.MQTT_URL,
    topic: raw.MQTT_TOPIC,
    clientId: raw.MQTT_CLIENT_ID,
    username: raw.MQTT_USERNAME,
    password: raw.MQTT_PASSWORD,
    machineIdSegment,
    sessionExpirySeconds: Math.min(Math.ceil(raw.MQTT_SESSION_EXPIRY / 1000), MAX_SESSION_EXPIRY_SECONDS),
    maxPayloadBytes: raw.MQTT_MAX_PAYLOAD_BYTES,
  });
}

/** The settings as they may appear in a log line: no password, none inside the URL either. */
export function describeSettings(settings: MqttSettings): Record<string, unknown> {
  const { password, url, ...rest } = settings;
  return { ...rest, url: redactUrl(url), withPassword: password !== undefined };
}
