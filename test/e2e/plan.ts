import { Random } from '../../producers/simulate/random';
import { BAD_KINDS, type BadKind } from './bad-input';

/**
 * What the chaos suite will do to the pipeline, decided up front from the seed, so a seed replays
 * the same faults at the same points of the run. Points are measured in the run's own progress,
 * not in seconds (a slower machine reaches them later, not differently): a share of the readings
 * produced, of the readings windowed, of the windows assessed or written, or the first mail.
 */

export const SERVICES = ['window', 'inference', 'sink-postgres', 'sink-email'] as const;
export type ServiceName = (typeof SERVICES)[number];

/** One process of a service: `window#2` is the second of the window processor's instances (all in one group). */
export type InstanceId = `${ServiceName}#${number}`;

export const instanceId = (service: ServiceName, index: number): InstanceId => `${service}#${index}`;

export function serviceOf(id: InstanceId): ServiceName {
  const service = id.slice(0, id.lastIndexOf('#'));
  if (!(SERVICES as readonly string[]).includes(service)) throw new Error(`${id} is not an instance of a service`);
  return service as ServiceName;
}

/** The instances of a service run as `count` processes: `window#1` ... `window#<count>`. */
export const instancesOf = (service: ServiceName, count: number): InstanceId[] => Array.from({ length: count }, (_, i) => instanceId(service, i + 1));

/** What a point of the run is measured in. */
export type Gauge = 'produced' | 'windowed' | 'assessed' | 'written' | 'mailed';

export interface Trigger {
  gauge: Gauge;
  /** Share of the expected total (readings or windows); for `mailed`, the number of mails. */
  at: number;
  /** Then wait this long (so a kill lands anywhere in a batch, a restore, a send). */
  delayMs: number;
}

export interface Kill {
  service: ServiceName;
  /** Which of the service's instances (1 ... instances). */
  instance: number;
  /** SIGKILL (no goodbye: its partitions wait for the session timeout) or SIGTERM (it drains, commits and leaves the group). */
  signal: 'SIGKILL' | 'SIGTERM';
  trigger: Trigger;
  /** How long the service stays dead before it is started again. */
  downMs: number;
}

export type StackFault = 'broker-restart' | 'postgres-outage' | 'smtp-outage';

export interface BadInjection {
  kind: BadKind;
  /** Share of the expected readings produced when it is written. */
  at: number;
  /** Index of the fleet machine whose key (and so partition) it carries. */
  machine: number;
}

export interface ChaosPlan {
  kills: Kill[];
  /** The stack's faults run one after the other (one stack command at a time), from `stackTrigger` on. */
  stackFaults: StackFault[];
  stackTrigger: Trigger;
  /** Pause between two stack faults. */
  stackGapMs: number;
  bad: BadInjection[];
}

/** The gauge that says how far along each service's own input is. */
const GAUGE: Record<ServiceName, Gauge> = { window: 'windowed', inference: 'assessed', 'sink-postgres': 'written', 'sink-email': 'mailed' };

export interface PlanOptions {
  killsPerService: number;
  badPerKind: number;
  machines: number;
  /** Processes of each service in its group (default 1). With more than one, each service also gets one SIGTERM, on another instance than its first SIGKILL. */
  instances?: number;
}

export function planChaos(seed: number, options: PlanOptions): ChaosPlan {
  const random = new Random(seed);
  const kills: Kill[] = [];
  for (const service of SERVICES) {
    // Spread a service's kills over the run: kill i of n somewhere in the i-th share of (5 %, 85 %).
    for (let i = 0; i < options.killsPerService; i++) {
      const span = 0.8 / options.killsPerService;
      const at = GAUGE[service] === 'mailed' ? 1 + i : 0.05 + span * (i + random.next());
      kills.push({ service, instance: 1, signal: 'SIGKILL', trigger: { gauge: GAUGE[service], at, delayMs: random.int(0, 2000) }, downMs: random.int(500, 3000) });
    }
  }
  const stackFaults: StackFault[] = ['broker-restart', 'postgres-outage', 'smtp-outage'];
  for (let i = stackFaults.length - 1; i > 0; i--) {
    const j = random.int(0, i);
    [stackFaults[i], stackFaults[j]] = [stackFaults[j]!, stackFaults[i]!];
  }
  const stackTrigger: Trigger = { gauge: 'produced', at: random.between(0.03, 0.12), delayMs: random.int(0, 1000) };
  const bad: BadInjection[] = [];
  for (const kind of BAD_KINDS) for (let i = 0; i < options.badPerKind; i++) bad.push({ kind, at: random.between(0.02, 0.95), machine: random.int(0, options.machines - 1) });
  bad.sort((a, b) => a.at - b.at);
  const plan = { kills, stackFaults, stackTrigger, stackGapMs: random.int(1000, 4000), bad };
  // Instances from a random source of their own: with one instance a seed plans what it always planned.
  return (options.instances ?? 1) > 1 ? spreadOverInstances(plan, new Random(seed ^ 0x5ca1e), options.instances!) : plan;
}

/**
 * Several instances per service: each kill -9 lands on a seeded instance, and each service is
 * also stopped once with SIGTERM, on another instance than its first kill -9, at a seeded point
 * of its own input (for sink-email, the mail after its kills). A service's faults stay one after
 * the other, in the order of their points.
 */
export function spreadOverInstances(plan: ChaosPlan, random: Random, instances: number): ChaosPlan {
  const kills: Kill[] = [];
  for (const service of SERVICES) {
    const own = plan.kills.filter((k) => k.service === service).map((k) => ({ ...k, instance: random.int(1, instances) }));
    const firstKilled = own[0]?.instance ?? 0;
    const others = Array.from({ length: instances }, (_, i) => i + 1).filter((i) => i !== firstKilled);
    const gauge = GAUGE[service];
    const at = gauge === 'mailed' ? own.length + 1 : random.between(0.05, 0.85);
    own.push({ service, instance: random.pick(others), signal: 'SIGTERM', trigger: { gauge, at, delayMs: random.int(0, 2000) }, downMs: random.int(500, 3000) });
    kills.push(...own.sort((a, b) => a.trigger.at - b.trigger.at));
  }
  return { ...plan, kills };
}

/** A short description of the plan, for the log. */
export function describePlan(plan: ChaosPlan): string[] {
  const pct = (t: Trigger) => (t.gauge === 'mailed' ? `mail ${t.at}` : `${t.gauge} ${(100 * t.at).toFixed(0)} %`);
  return [
    ...plan.kills.map((k) => `${k.signal === 'SIGKILL' ? 'kill -9' : 'SIGTERM'} ${instanceId(k.service, k.instance)} at ${pct(k.trigger)} + ${k.trigger.delayMs} ms, down ${k.downMs} ms`),
    `then, from ${pct(plan.stackTrigger)}: ${plan.stackFaults.join(', ')}`,
    plan.bad.length === 0
      ? 'no bad records'
      : `${plan.bad.length} bad records (${[...new Set(plan.bad.map((b) => b.kind))].join(', ')}) between ${(100 * plan.bad[0]!.at).toFixed(0)} % and ${(100 * plan.bad[plan.bad.length - 1]!.at).toFixed(0)} % of the readings`,
  ];
}
