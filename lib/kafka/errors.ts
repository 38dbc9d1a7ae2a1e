/**
 * Which Kafka failures pass by themselves. kafkajs retries a request a bounded number of times
 * (its cluster's `retry`, 5 by default: about 10 s) and then throws KafkaJSNumberOfRetriesExceeded,
 * which it marks non-retriable; its callers wrap that again (KafkaJSNonRetriableError). A broker
 * restart lasts longer than that, and so a producer or a consumer group gives up on a cluster that
 * is about to come back. It also marks a coordinator it cannot find yet as non-retriable
 * (KafkaJSGroupCoordinatorNotFound), which is what a consumer group meets first after a restart.
 *
 * The services ride such outages out: an error whose chain (`cause`) reaches a connection failure,
 * a timeout, a broker or coordinator not (yet) known, or a protocol error the broker itself calls
 * retriable is transient. Anything else (a fenced producer, an authorization or SASL failure, a
 * record too large, a bug) is not, and still stops the caller with its own message.
 */

const TRANSIENT_NAMES = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSBrokerNotFound',
  'KafkaJSNoBrokerAvailableError',
  'KafkaJSGroupCoordinatorNotFound',
  'KafkaJSMetadataNotLoaded',
  'KafkaJSTopicMetadataNotLoaded',
  'KafkaJSStaleTopicMetadataAssignment',
]);

/** Node's socket errors of a server that is away or restarting. */
const TRANSIENT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

interface ErrorLike {
  name?: unknown;
  code?: unknown;
  retriable?: unknown;
  cause?: unknown;
}

/** The error and its causes, innermost last (a cycle ends the chain). */
export function errorChain(error: unknown): ErrorLike[] {
  const chain: ErrorLike[] = [];
  let current: unknown = error;
  while (current !== null && typeof current === 'object' && !chain.includes(current as ErrorLike) && chain.length < 16) {
    chain.push(current as ErrorLike);
    current = (current as ErrorLike).cause;
  }
  return chain;
}

/** True when `error` is an outage of the cluster (or part of it) that waiting and trying again gets past. */
export function isTransientKafkaError(error: unknown): boolean {
  return errorChain(error).some(
    (e) =>
      (typeof e.name === 'string' && TRANSIENT_NAMES.has(e.name)) ||
      (typeof e.code === 'string' && TRANSIENT_CODES.has(e.code)) ||
      (e.name === 'KafkaJSProtocolError' && e.retriable === true),
  );
}
