import { errorMessage, PdmError } from './errors';
import { describeCluster } from './kafka/admin';
import type { KafkaConnection } from './kafka/client';

/**
 * What `/ready` checks besides a service's own state: that the servers it needs answer now.
 * Each probe has a deadline; the answer is cached for a few seconds, so a probe storm (a load
 * balancer, a curl loop) costs the brokers one request per interval, not one per call.
 */

export interface Probe {
  /** What is checked, as /ready names it: `kafka`, `schema registry`, `database`. */
  name: string;
  check(): Promise<void>;
}

export function kafkaProbe(connection: KafkaConnection, timeoutMs = 3000): Probe {
  return {
    name: 'kafka',
    async check() {
      const cluster = await describeCluster(connection, timeoutMs);
      if (cluster.brokers === 0) throw new PdmError('KAFKA_UNREACHABLE', 'no broker in the cluster metadata');
    },
  };
}

export function registryProbe(url: string, timeoutMs = 3000): Probe {
  return {
    name: 'schema registry',
    async check() {
      const response = await fetch(`${url.replace(/\/$/, '')}/subjects`, { signal: AbortSignal.timeout(timeoutMs) });
      if (!response.ok) throw new PdmError('REGISTRY', `GET /subjects answered ${response.status}`);
    },
  };
}

/** Any check by name, such as a database's `SELECT 1`. */
export const probe = (name: string, check: () => Promise<unknown>): Probe => ({ name, check: async () => void (await check()) });

/**
 * The first problem among the probes (all run at once), as `<name>: <error>`, or undefined when
 * all answer. The result is reused for `cacheMs`.
 */
export function readiness(probes: readonly Probe[], options: { cacheMs?: number; clock?: () => number } = {}): () => Promise<string | undefined> {
  const cacheMs = options.cacheMs ?? 5000;
  const clock = options.clock ?? Date.now;
  let cached: { atMs: number; answer: Promise<string | undefined> } | undefined;
  const run = async (): Promise<string | undefined> => {
    const results = await Promise.allSettled(probes.map((p) => p.check()));
    const failed = results.findIndex((r) => r.status === 'rejected');
    if (failed < 0) return undefined;
    return `${probes[failed]!.name} does not answer: ${errorMessage((results[failed] as PromiseRejectedResult).reason)}`;
  };
  return () => {
    const now = clock();
    if (!cached || now - cached.atMs >= cacheMs) cached = { atMs: now, answer: run() };
    return cached.answer;
  };
}
