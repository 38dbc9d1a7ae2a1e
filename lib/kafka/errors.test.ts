import {
  KafkaJSConnectionError,
  KafkaJSError,
  KafkaJSGroupCoordinatorNotFound,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  KafkaJSSASLAuthenticationError,
} from 'kafkajs';
import { errorChain, isTransientKafkaError } from './errors';

// kafkajs's typings leave out the constructors' second argument, with which it builds these chains.
type Wrapping = new (e: Error | string, options: { cause?: Error; retryCount?: number; retryTime?: number }) => Error;
const wrap = (Kind: unknown, inner: Error): Error => new (Kind as Wrapping)(inner, { cause: inner, retryCount: 5, retryTime: 1000 });
const named = (Kind: unknown, message: string): Error => new (Kind as new (m: string) => Error)(message);
const protocol = (type: string, retriable: boolean) => new KafkaJSProtocolError({ message: type, type, code: 0, retriable } as unknown as string);

describe('isTransientKafkaError', () => {
  const refused = new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:19092');

  it.each([
    ['a connection refused', refused],
    // What `pdmctl simulate` died of during a broker restart: kafkajs's cluster ran out of its 5
    // retries, and the producer's retrier wrapped that as non-retriable.
    ['retries exhausted on a refused connection, wrapped as non-retriable', wrap(KafkaJSNonRetriableError, wrap(KafkaJSNumberOfRetriesExceeded, refused))],
    // What `run window` died of: kafkajs calls a coordinator it cannot find yet non-retriable.
    ['a group coordinator not found', named(KafkaJSGroupCoordinatorNotFound, 'Failed to find group coordinator')],
    ['a retriable protocol error (the coordinator is loading)', protocol('COORDINATOR_LOAD_IN_PROGRESS', true)],
    ['a Node socket error deep in the chain', wrap(KafkaJSNonRetriableError, Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }))],
  ])('%s is transient', (_, error) => {
    expect(isTransientKafkaError(error)).toBe(true);
  });

  it.each([
    ['a fenced producer', protocol('INVALID_PRODUCER_EPOCH', false)],
    ['an authorization failure', wrap(KafkaJSNonRetriableError, protocol('TRANSACTIONAL_ID_AUTHORIZATION_FAILED', false))],
    ['a SASL failure', named(KafkaJSSASLAuthenticationError, 'SASL PLAIN authentication failed')],
    ['a bug', new TypeError("Cannot read properties of undefined (reading 'offset')")],
    ['a generic kafkajs error', new KafkaJSError('Invalid topic')],
    ['not an error at all', 'ECONNREFUSED'],
    ['nothing', undefined],
  ])('%s is not', (_, error) => {
    expect(isTransientKafkaError(error)).toBe(false);
  });
});

describe('errorChain', () => {
  it('follows causes, innermost last, and stops at a cycle', () => {
    const inner = new Error('inner');
    const outer = new Error('outer', { cause: inner });
    (inner as { cause?: unknown }).cause = outer;
    expect(errorChain(outer).map((e) => (e as Error).message)).toEqual(['outer', 'inner']);
  });
});
