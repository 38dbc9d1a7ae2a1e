/**
 * The chaos suite's result: what went through the pipeline, what was done to it, and every check
 * with its mismatches. Pure data and its rendering as a Markdown table.
 */

export interface CheckResult {
  /** What a user would check, in a few words. */
  name: string;
  /** How many records (or rows, or mails) the check looked at. */
  checked: number;
  /** One line per mismatch; empty when the check holds. */
  problems: string[];
}

export interface ChaosSummary {
  seed: number;
  /** The simulate command line that made the readings. */
  simulate: string;
  counts: {
    readings: number;
    badRecords: number;
    late: number;
    windows: number;
    assessments: number;
    alerts: number;
    mails: number;
    deliveries: number;
    deadLetters: number;
  };
  chaos: {
    /** Processes of each service in its group (absent: 1). */
    instances?: number;
    /** kill -9 per instance (`window#2`). */
    kills: Record<string, number>;
    /** SIGTERM during the run per instance (the final stop not counted). */
    stops?: Record<string, number>;
    /** Instances that exited on their own and were started again (as a supervisor would). */
    exits: Record<string, number>;
    stackFaults: string[];
  };
  checks: CheckResult[];
  /**
   * The alert topic scored against the simulator's ground truth, as `pdmctl evaluate --simulate`
   * scores it: how well the models did on these readings. Not a check (it measures the models,
   * not the pipeline's exactness) but what an on-call engineer would ask next.
   */
  truth?: { machineFaults: number; detected: number; leadHours: { min: number; max: number } | null; falseAlerts: number; healthyMachineMonths: number; unresolved: number };
  seconds: number;
  /** Where the services' logs are (kept when a check failed). */
  logDir: string;
}

export const mismatches = (summary: ChaosSummary): number => summary.checks.reduce((n, c) => n + c.problems.length, 0);

const n = (value: number) => value.toLocaleString('en');

function truthRows(truth: ChaosSummary['truth']): string[] {
  if (!truth) return [];
  const lead = truth.leadHours ? ` (${truth.leadHours.min.toFixed(1)} to ${truth.leadHours.max.toFixed(1)} h before failure)` : '';
  return [
    `| machine faults alerted before their failure | ${truth.detected} of ${truth.machineFaults}${lead} |`,
    `| false alerts on healthy machines | ${truth.falseAlerts} over ${truth.healthyMachineMonths.toFixed(1)} machine-months |`,
    `| alerts not resolved after recovery | ${truth.unresolved} |`,
  ];
}

export function renderSummary(summary: ChaosSummary, maxProblemsPerCheck = 10): string {
  const { counts, chaos } = summary;
  const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
  const perInstance = (r: Record<string, number>) =>
    Object.entries(r)
      .filter(([, v]) => v > 0)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ') || 'none';
  const lines = [
    `chaos suite, seed ${summary.seed} (PDM_CHAOS_SEED=${summary.seed} replays it), ${Math.round(summary.seconds)} s`,
    `readings: ${summary.simulate}`,
    '',
    '| what | count |',
    '| --- | ---: |',
    `| readings | ${n(counts.readings)} |`,
    `| bad records mixed in | ${n(counts.badRecords)} |`,
    `| late readings | ${n(counts.late)} |`,
    `| windows | ${n(counts.windows)} |`,
    `| assessments | ${n(counts.assessments)} |`,
    `| alert transitions | ${n(counts.alerts)} |`,
    `| mails (deliveries) | ${n(counts.mails)} (${n(counts.deliveries)}) |`,
    `| dead letters | ${n(counts.deadLetters)} |`,
    ...(chaos.instances === undefined ? [] : [`| instances of each service | ${chaos.instances} |`]),
    `| restarts: kill -9 | ${sum(chaos.kills)} (${perInstance(chaos.kills)}) |`,
    ...(chaos.stops === undefined ? [] : [`| restarts: SIGTERM | ${sum(chaos.stops)} (${perInstance(chaos.stops)}) |`]),
    `| restarts: exited on their own | ${sum(chaos.exits)} (${perInstance(chaos.exits)}) |`,
    `| stack faults | ${chaos.stackFaults.join(', ') || 'none'} |`,
    ...truthRows(summary.truth),
    `| **mismatches** | **${n(mismatches(summary))}** |`,
    '',
    '| check | checked | mismatches |',
    '| --- | ---: | ---: |',
    ...summary.checks.map((c) => `| ${c.name} | ${n(c.checked)} | ${n(c.problems.length)} |`),
  ];
  for (const c of summary.checks.filter((c) => c.problems.length > 0)) {
    lines.push('', `${c.name}:`, ...c.problems.slice(0, maxProblemsPerCheck).map((p) => `  - ${p}`));
    if (c.problems.length > maxProblemsPerCheck) lines.push(`  ... and ${c.problems.length - maxProblemsPerCheck} more`);
  }
  if (mismatches(summary) > 0) lines.push('', `logs: ${summary.logDir}`);
  return lines.join('\n');
}
