import type { Feature } from '../schemas';

/**
 * From per-window alarms to alert episodes, and episodes against ground truth, pure. An alert
 * fires when the score exceeds the threshold for `consecutive` windows in a row and resolves at
 * the first window below it; a missing window neither continues nor breaks a run.
 */

export interface ScoredWindow {
  machineId: string;
  /** End of the scored window: when the alert could fire. */
  timeMs: number;
  score: number;
}

export interface AlertEpisode {
  machineId: string;
  firedMs: number;
  resolvedMs: number | null;
}

export function alertEpisodes(windows: readonly ScoredWindow[], threshold: number, consecutive: number): AlertEpisode[] {
  const byMachine = new Map<string, ScoredWindow[]>();
  for (const w of windows) {
    let list = byMachine.get(w.machineId);
    if (!list) byMachine.set(w.machineId, (list = []));
    list.push(w);
  }
  const episodes: AlertEpisode[] = [];
  for (const machineId of [...byMachine.keys()].sort()) {
    const list = byMachine.get(machineId)!.sort((a, b) => a.timeMs - b.timeMs);
    let run = 0;
    let open: AlertEpisode | null = null;
    for (const w of list) {
      if (w.score > threshold) {
        run++;
        if (!open && run >= consecutive) episodes.push((open = { machineId, firedMs: w.timeMs, resolvedMs: null }));
      } else {
        run = 0;
        if (open) {
          open.resolvedMs = w.timeMs;
          open = null;
        }
      }
    }
  }
  return episodes;
}

export interface TruthFault {
  machineId: string;
  kind: string;
  category: string;
  onsetMs: number;
  failureMs: number | null;
  endMs: number;
  /** The features the machine reported, where the fault can show (simulated truth; absent from older files). */
  sensors?: readonly Feature[];
}

export interface FaultOutcome {
  machineId: string;
  kind: string;
  onsetMs: number;
  failureMs: number;
  detected: boolean;
  /** First alert in [onset, failure). */
  firstAlertMs: number | null;
  leadTimeMs: number | null;
}

export interface EventReport {
  faults: FaultOutcome[];
  healthyMachines: number;
  healthyMachineMonths: number;
  falseAlerts: number;
  falseAlertsPerMachineMonth: number;
}

const MONTH_MS = 30 * 86_400_000;

/**
 * Scores alert episodes against the truth: each machine fault is detected when an alert fires
 * between its onset and its failure (lead time = failure - first such alert). Every alert on a
 * machine with no machine fault is false; their rate is per machine-month of healthy machines.
 */
export function eventReport(episodes: readonly AlertEpisode[], truth: readonly TruthFault[], machines: readonly string[], spanMs: number): EventReport {
  const machineFaults = truth.filter((f) => f.category === 'machine' && f.failureMs !== null);
  const faults: FaultOutcome[] = machineFaults.map((f) => {
    const first = episodes.filter((e) => e.machineId === f.machineId && e.firedMs >= f.onsetMs && e.firedMs < f.failureMs!).sort((a, b) => a.firedMs - b.firedMs)[0];
    return { machineId: f.machineId, kind: f.kind, onsetMs: f.onsetMs, failureMs: f.failureMs!, detected: !!first, firstAlertMs: first?.firedMs ?? null, leadTimeMs: first ? f.failureMs! - first.firedMs : null };
  });
  const faulty = new Set(machineFaults.map((f) => f.machineId));
  const healthy = machines.filter((m) => !faulty.has(m));
  const falseAlerts = episodes.filter((e) => !faulty.has(e.machineId)).length;
  const healthyMachineMonths = (healthy.length * spanMs) / MONTH_MS;
  return { faults, healthyMachines: healthy.length, healthyMachineMonths, falseAlerts, falseAlertsPerMachineMonth: healthyMachineMonths > 0 ? falseAlerts / healthyMachineMonths : 0 };
}

/** Whether a window ending at `timeMs` lies in a machine fault's development (onset to failure). */
export const inFaultDevelopment = (truth: readonly TruthFault[], machineId: string, timeMs: number): boolean =>
  truth.some((f) => f.category === 'machine' && f.machineId === machineId && f.failureMs !== null && timeMs > f.onsetMs && timeMs <= f.failureMs);

/** Whether a span of `spanMs` ending at `timeMs` overlaps a machine or sensor fault (onset to repair): not normal operation. */
export const touchedByFault = (truth: readonly TruthFault[], machineId: string, timeMs: number, spanMs: number): boolean =>
  truth.some((f) => f.machineId === machineId && f.category !== 'transport' && timeMs > f.onsetMs && timeMs - spanMs < f.endMs);
