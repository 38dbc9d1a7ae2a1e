import { connect, type IClientOptions, type IConnackPacket, type IDisconnectPacket, type IPublishPacket, type MqttClient } from 'mqtt';
import type { DeadLetterSource } from '../../lib/dead-letter';
import { PdmError } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import { Gauge, type Registry } from '../../lib/metrics';
import type { RunningService, ServiceDefinition, ServiceContext } from '../../lib/service';
import { openReadingsOutput, type ReadingsOutput } from '../runtime';
import { readingInput, type TopicLayout } from './message';
import { describeSettings, mqttSettings, type MqttSettings } from './settings';

/**
 * `pdmctl run mqtt-bridge`: sensor readings from an MQTT broker into pdm.sensor-readings.v1.
 *
 * At-least-once, nothing lost: the bridge subscribes with QoS 1 on a persistent MQTT 5 session
 * (fixed client id, clean start off, a session expiry) and acknowledges a message (PUBACK) only
 * once Kafka has the reading or its dead-letter copy. Until then the broker still holds the
 * message and delivers it again on the session's next connection, so a crash, a lost connection
 * or a stop costs at most a duplicate, never a reading. On stop the bridge does not unsubscribe:
 * the subscription belongs to the session, and while it stands the broker queues what sensors
 * publish until the bridge is back.
 *
 * Throughput: MQTT.js hands over one QoS 1 message at a time and the next only once the previous
 * one is acknowledged, so each message waits for one Kafka round trip (a few ms). Where that is
 * too slow, run several bridges with distinct MQTT_CLIENT_IDs on a shared subscription
 * (`MQTT_TOPIC=$share/pdm/sensors/+/telemetry`).
 */

export const STAGE = 'mqtt-bridge';

/** Kafka unanswered for this long makes the bridge not ready: the producer retries forever, silently. */
const KAFKA_STALL_MS = 10_000;
/** How often MQTT.js tries again after losing the broker. */
const RECONNECT_PERIOD_MS = 1000;
/**
 * Unacknowledged QoS 1 messages the broker may send ahead (MQTT 5 receive maximum). They queue
 * in memory here while the bridge works through them one by one; beyond this the broker keeps them.
 */
const RECEIVE_MAXIMUM = 100;
/** A broker that does not close its end after our DISCONNECT must not hold up a stop. */
const DISCONNECT_TIMEOUT_MS = 5000;

/**
 * Settles a message without a PUBACK. (A PUBACK with an error reason code would still count as
 * delivered and the broker would drop the message.) The broker keeps it and delivers it again
 * on the session's next connection.
 */
const LEFT_WITH_BROKER = new Error('message left unacknowledged with the broker, which delivers it again');

export type MqttBridgeErrorCode = 'MQTT_KAFKA_DELIVERY' | 'MQTT_SUBSCRIBE_REFUSED' | 'MQTT_SESSION_TAKEN_OVER';

/** MQTT 5 DISCONNECT reason: another connection with our client id took the session. */
const SESSION_TAKEN_OVER = 0x8e;

export class MqttBridgeError extends PdmError<MqttBridgeErrorCode> {
  constructor(code: MqttBridgeErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'MqttBridgeError';
  }
}

type Acknowledge = (error: Error | number, reasonCode?: number) => void;

function connectedGauge(registry: Registry): Gauge {
  // A registry outlives a bridge in tests that restart it: reuse the gauge rather than register it twice.
  const existing = registry.getSingleMetric('pdm_mqtt_connected');
  if (existing instanceof Gauge) return existing;
  return new Gauge({ name: 'pdm_mqtt_connected', help: 'Whether the MQTT bridge is connected to its broker (1) or not (0).', registers: [registry] });
}

class MqttBridge implements RunningService {
  private readonly client: MqttClient;
  private readonly layout: TopicLayout;
  private readonly logger: Logger;
  /** Bumped on every CONNACK: an acknowledgement is only valid on the connection its message came by. */
  private connection = 0;
  private state: 'connecting' | 'connected' | 'reconnecting' = 'connecting';
  private subscribed = false;
  /** The latest connection or subscription problem, for /ready; logged once each time it changes. */
  private problem: string | undefined;
  private loggedProblem: string | undefined;
  private failure: MqttBridgeError | undefined;
  private stopping: Promise<void> | undefined;
  /** Start times of messages handed to Kafka and not yet acknowledged by it, by ticket. */
  private readonly awaitingKafka = new Map<number, number>();
  private nextTicket = 0;

  constructor(
    private readonly settings: Readonly<MqttSettings>,
    private readonly output: ReadingsOutput,
    logger: Logger,
    private readonly connected: Gauge,
    private readonly clock: () => number,
  ) {
    this.logger = logger.child({ component: STAGE, topic: settings.topic });
    this.layout = { filter: settings.topic, machineIdSegment: settings.machineIdSegment, maxPayloadBytes: settings.maxPayloadBytes };
    this.connected.set(0);
    const options: IClientOptions = {
      clientId: settings.clientId,
      username: settings.username,
      password: settings.password,
      // customHandleAcks exists only in MQTT 5, and session expiry is what keeps a session across disconnects.
      protocolVersion: 5,
      clean: false,
      properties: { sessionExpiryInterval: settings.sessionExpirySeconds, receiveMaximum: RECEIVE_MAXIMUM },
      reconnectPeriod: RECONNECT_PERIOD_MS,
      // A broker that refuses us (restarting, or credentials being rotated) may accept us later.
      reconnectOnConnackError: true,
      // We subscribe on every connection ourselves (see onConnect).
      resubscribe: false,
      customHandleAcks: (topic, payload, packet: IPublishPacket, acknowledge: Acknowledge) => this.onQos1Message(topic, payload, packet, acknowledge),
    };
    this.client = connect(settings.url, options);
    this.client.on('connect', (connack) => this.onConnect(connack));
    this.client.on('close', () => this.onClose());
    this.client.on('error', (err) => {
      if (err !== LEFT_WITH_BROKER) this.onProblem(err.message);
    });
    this.client.on('disconnect', (packet) => this.onServerDisconnect(packet));
    // QoS 1 messages arrive through customHandleAcks; this event also repeats them once acknowledged.
    this.client.on('message', (topic, payload, packet) => {
      if (packet.qos === 0) this.onQos0Message(topic, payload);
    });
    this.logger.info({ settings: describeSettings(settings) }, 'connecting to the MQTT broker');
  }

  private onConnect(connack: IConnackPacket): void {
    this.connection += 1;
    this.connected.set(1);
    this.problem = undefined;
    this.loggedProblem = undefined;
    this.logger.info({ sessionPresent: connack.sessionPresent }, this.state === 'reconnecting' ? 'MQTT connection restored' : 'connected to the MQTT broker');
    this.state = 'connected';
    // Also when the session is present: MQTT_TOPIC may have changed since it was made. Retain
    // handling 1 sends retained messages only for a new subscription, not on every reconnect.
    this.client.subscribe(this.settings.topic, { qos: 1, rh: 1 }, (err, granted) => {
      const refusal = err ? err.message : granted?.some((g) => g.qos !== 1) ? `the broker granted QoS ${granted.map((g) => g.qos).join(',')} instead of 1` : undefined;
      if (refusal) {
        const error = new MqttBridgeError('MQTT_SUBSCRIBE_REFUSED', `subscribing to ${this.settings.topic} failed: ${refusal}`, { cause: err ?? undefined });
        this.onProblem(error.message, 'error', error.code);
        return;
      }
      this.subscribed = true;
      this.logger.info({ qos: 1 }, 'subscribed');
    });
  }

  private onClose(): void {
    // 'close' follows every failed attempt too; only the end of a live connection is news.
    if (this.state !== 'connected') return;
    this.state = 'reconnecting';
    this.subscribed = false;
    this.connected.set(0);
    if (!this.stopping && !this.failure) this.logger.warn({ reconnectEveryMs: RECONNECT_PERIOD_MS }, 'MQTT connection lost; reconnecting');
  }

  private onProblem(message: string, level: 'warn' | 'error' = 'warn', code?: MqttBridgeErrorCode): void {
    this.problem = message;
    if (this.stopping || this.failure || this.loggedProblem === message) return;
    this.loggedProblem = message;
    this.logger[level]({ problem: message, code, reconnectEveryMs: RECONNECT_PERIOD_MS }, 'MQTT broker problem');
  }

  private onServerDisconnect(packet: IDisconnectPacket): void {
    if (packet.reasonCode !== SESSION_TAKEN_OVER) {
      this.onProblem(`the broker disconnected us (reason code ${packet.reasonCode ?? 0}${packet.properties?.reasonString ? `: ${packet.properties.reasonString}` : ''})`);
      return;
    }
    // Two bridges with one client id would take the session from each other every second, each
    // time making the broker redeliver. The newer one (a replacement being rolled out) keeps it.
    this.halt(new MqttBridgeError('MQTT_SESSION_TAKEN_OVER', `another client connected as ${this.settings.clientId} and took over the session; this bridge stopped taking messages (give each bridge its own MQTT_CLIENT_ID)`));
    this.client.end(true);
  }

  /**
   * MQTT.js passes on the next packet of a connection only once this message is settled, so
   * every path settles it: with a PUBACK once Kafka has it, else without (LEFT_WITH_BROKER)
   * while stopping or after Kafka failed.
   */
  private onQos1Message(topic: string, payload: Buffer, _packet: IPublishPacket, acknowledge: Acknowledge): void {
    if (this.stopping || this.failure) return acknowledge(LEFT_WITH_BROKER);
    const connection = this.connection;
    this.bridge(topic, payload, (err) => {
      if (err) {
        this.kafkaFailed(err);
        return acknowledge(LEFT_WITH_BROKER);
      }
      // Once the connection it came by is gone (and with it what MQTT.js was waiting on), the
      // broker redelivers the message on a later one, where its packet id may by then name
      // another message: MQTT.js would queue a PUBACK sent now for the next connection and so
      // could acknowledge a message nobody has bridged.
      if (this.client.connected && connection === this.connection) acknowledge(0);
    });
  }

  /** QoS 0 is at-most-once by the publisher's choice: there is nothing to acknowledge. */
  private onQos0Message(topic: string, payload: Buffer): void {
    if (this.stopping || this.failure) return;
    this.bridge(topic, payload, (err) => {
      if (err) this.kafkaFailed(err);
    });
  }

  private bridge(topic: string, payload: Buffer, onDelivered: (err?: Error) => void): void {
    const source: DeadLetterSource = { description: `mqtt:${topic}` };
    const ticket = this.nextTicket++;
    this.awaitingKafka.set(ticket, this.clock());
    // Once only, whichever comes first: the broker's answer or the producer's refusal to queue.
    const delivered = (err?: Error) => {
      if (!this.awaitingKafka.delete(ticket)) return;
      onDelivered(err);
    };
    const decoded = readingInput(topic, payload, this.layout);
    const { readings } = this.output;
    const queued = decoded.ok
      ? readings.add(decoded.input, source, () => payload, delivered)
      : // An oversized payload keeps its head: the whole of it might not fit in a Kafka record.
        readings.reject(payload.subarray(0, this.settings.maxPayloadBytes), source, decoded.code, decoded.reason, delivered);
    // add/reject throw only once the producer has failed for good; the message stays unacknowledged.
    queued.catch((err: unknown) => delivered(err instanceof Error ? err : new Error(String(err))));
  }

  /** Kafka refused a batch for good: the producer retries everything retriable forever. */
  private kafkaFailed(cause: Error): void {
    this.halt(new MqttBridgeError('MQTT_KAFKA_DELIVERY', `Kafka refused a batch, so the bridge stopped taking messages (they wait in the MQTT session); restart it: ${cause.message}`, { cause }));
  }

  /** Stops taking messages, leaving them with the broker, and says why on /ready until restarted. */
  private halt(failure: MqttBridgeError): void {
    if (this.failure) return;
    this.failure = failure;
    this.logger.error({ err: failure.cause, code: failure.code }, failure.message);
  }

  async ready(): Promise<string | undefined> {
    if (this.failure) return this.failure.message;
    if (this.stopping) return 'stopping';
    if (!this.client.connected) return `not connected to the MQTT broker${this.problem ? `: ${this.problem}` : ' yet'}`;
    if (!this.subscribed) return this.problem ?? `subscribing to ${this.settings.topic}`;
    const oldest = this.awaitingKafka.values().next();
    if (!oldest.done && this.clock() - oldest.value > KAFKA_STALL_MS) return `Kafka has not taken a record for ${Math.round((this.clock() - oldest.value) / 1000)} s`;
    return undefined;
  }

  stop(): Promise<void> {
    this.stopping ??= this.drain();
    return this.stopping;
  }

  private async drain(): Promise<void> {
    try {
      // New messages are no longer taken (onQos1Message). Flushing delivers what was taken, and
      // the delivery callbacks send their PUBACKs, ahead of the DISCONNECT below.
      await this.output.readings.flush().catch((err: Error) => this.kafkaFailed(err));
      await this.disconnect();
    } finally {
      this.connected.set(0);
      await this.output.close();
      this.logger.info('MQTT bridge stopped');
    }
  }

  /** A clean DISCONNECT: the session, its subscription included, stays for the next run. */
  private async disconnect(): Promise<void> {
    // Without a connection there is nothing to say goodbye on: end now rather than after a reconnect.
    if (!this.client.connected) return this.client.endAsync(true);
    const ended = this.client.endAsync(false);
    // MQTT.js waits for the broker to close its end; destroying our end closes the stream too.
    const timer = setTimeout(() => this.client.stream.destroy(), DISCONNECT_TIMEOUT_MS);
    try {
      await ended;
    } finally {
      clearTimeout(timer);
    }
  }
}

export const mqttBridgeService: ServiceDefinition = {
  name: STAGE,
  async start(ctx: ServiceContext): Promise<RunningService> {
    const settings = mqttSettings(ctx.env);
    // Kafka first: without it nothing can be acknowledged, and a wrong registry fails here, at start.
    // Records go out as soon as they come: MQTT.js hands over one message at a time, so waiting
    // for a batch to fill would only delay each acknowledgement.
    const output = await openReadingsOutput({ stage: STAGE, env: ctx.env, logger: ctx.logger, metrics: ctx.metrics, lingerMs: 0 });
    return new MqttBridge(settings, output, ctx.logger, connectedGauge(ctx.metrics), ctx.clock);
  },
};
