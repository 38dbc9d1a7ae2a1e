import { eventReport, type AlertEpisode, type EventReport, type TruthFault } from '../../models/events';
import type { AlertEvent, WindowFeatures } from '../../schemas';
import type { AlertPolicy } from './alerts';
import { InferenceCore, type DeployedModels } from './inference.core';
import type { LimitPolicy } from './limits';

/**
 * The inference processor's decisions without Kafka, scored against ground truth: the same core
 * (models, learned limits, hysteresis) fed the windows in event-time order, every machine's
 * window of one hour in one batch as they arrive from the window processor. `pdmctl evaluate
 * --simulate` prints this report; the end-to-end test compares the pipeline's alert topic with
 * the same computation.
 */

/** Runs windows through a fresh core, a batch per window start, and returns every transition. */
export async function replayAlerts(
  windows: readonly WindowFeatures[],
  models: DeployedModels,
  policy: AlertPolicy,
  limits?: LimitPolicy,
  onProgress?: (done: number, total: number) => void,
): Promise<AlertEvent[]> {
  const core = new InferenceCore(policy, limits);
  const byStart = new Map<number, WindowFeatures[]>();
  for (const w of windows) {
    let list = byStart.get(w.windowStart);
    if (!list) byStart.set(w.windowStart, (list = []));
    list.push(w);
  }
  const starts = [...byStart.keys()].sort((a, b) => a - b);
  const transitions: AlertEvent[] = [];
  let done = 0;
  for (const start of starts) {
    const batch = byStart.get(start)!;
    transitions.push(...(await core.assess(batch, models)).transitions);
    done += batch.length;
    onProgress?.(done, windows.length);
  }
  return transitions;
}

export interface AlertEpisodeOf extends AlertEpisode {
  dedupKey: string;
  kind: AlertEvent['kind'];
}

/** Episodes from transitions: a FIRING of a key not firing opens one (an escalation does not), a RESOLVED closes it. */
export function episodesOf(transitions: readonly AlertEvent[]): AlertEpisodeOf[] {
  const open = new Map<string, AlertEpisodeOf>();
  const episodes: AlertEpisodeOf[] = [];
  for (const t of [...transitions].sort((a, b) => a.windowEnd - b.windowEnd)) {
    const current = open.get(t.dedupKey);
    if (t.status === 'FIRING' && !current) {
      const episode: AlertEpisodeOf = { machineId: t.machineId, dedupKey: t.dedupKey, kind: t.kind, firedMs: t.windowEnd, resolvedMs: null };
      open.set(t.dedupKey, episode);
      episodes.push(episode);
    } else if (t.status === 'RESOLVED' && current) {
      current.resolvedMs = t.windowEnd;
      open.delete(t.dedupKey);
    }
  }
  return episodes;
}

export interface AlertReport extends EventReport {
  episodes: AlertEpisodeOf[];
  /** False alerts by kind (ANOMALY, FORECAST_BREACH). */
  falseByKind: Record<string, number>;
  /** Episodes with no RESOLVED although the data went on `recoveryMs` past their machine's repair (or past the alert, on a machine without a fault). */
  unresolved: AlertEpisodeOf[];
}

/**
 * Scores alert transitions against the truth, as `eventReport` does for the detector alone: each
 * machine fault is detected by the first episode (any kind) between onset and failure; episodes
 * on machines without a machine fault are false. Every episode must resolve once its machine has
 * recovered: an episode still open at the end of the data is unresolved unless the data ended
 * within `recoveryMs` of its cause (a repair, or the alert itself on a healthy machine).
 */
export function alertReport(transitions: readonly AlertEvent[], truth: readonly TruthFault[], machines: readonly string[], span: { fromMs: number; toMs: number }, recoveryMs: number): AlertReport {
  const episodes = episodesOf(transitions);
  const report = eventReport(episodes, truth, machines, span.toMs - span.fromMs);
  const faulty = new Set(truth.filter((f) => f.category === 'machine' && f.failureMs !== null).map((f) => f.machineId));
  const falseByKind: Record<string, number> = {};
  for (const e of episodes) if (!faulty.has(e.machineId)) falseByKind[e.kind] = (falseByKind[e.kind] ?? 0) + 1;
  const unresolved = episodes.filter((e) => {
    if (e.resolvedMs !== null) return false;
    const repairs = truth.filter((f) => f.machineId === e.machineId && f.category !== 'transport' && f.endMs >= e.firedMs - recoveryMs).map((f) => f.endMs);
    const cause = Math.max(e.firedMs, ...repairs);
    return cause + recoveryMs <= span.toMs;
  });
  return { ...report, episodes, falseByKind, unresolved };
}
