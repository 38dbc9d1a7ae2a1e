import { refuseRecord, type DeadLetter } from '../../lib/dead-letter';
import type { BatchInfo, IncomingRecord } from '../../lib/kafka/runner';
import type { OutgoingRecord, TopicBatch } from '../../lib/kafka/producer';
import type { Logger } from '../../lib/logger';
import { metricOnce, Counter, Gauge, Histogram, stageMetrics, type Registry } from '../../lib/metrics';
import { SerdeError, type Decoder, type Encoder } from '../../lib/serde';
import type { AlertEvent, MachineAssessment, MachineAssessmentV1, WindowFeatures } from '../../schemas';
import { assessmentV1 } from '../../schemas/assessments';
import type { AlertPolicy } from './alerts';
import type { LimitPolicy } from './limits';
import { InferenceCore, historyLayout, type DeployedModels, type MachineState } from './inference.core';
import type { HistoryLayout } from './lookback';
import { PROGRESS_KEY, encodeProgress } from './inference.state';
import { ChangelogJournal } from './inference.journal';
import type { RelearnRequest } from './baseline';
import { PdmError } from '../../lib/errors';

/**
 * The inference processor around the core (inference.core.ts), per input partition: decodes final
 * windows, skips what the restored state already holds, lets the core decide, and turns the result
 * into records: alert transitions, dead letters, and the changelog of every machine it touched.
 * No Kafka client, no clock; the runner (inference.service.ts) feeds it inside transactions.
 */

export const STAGE = 'inference';

export interface InferenceTopics {
  input: string;
  alerts: string;
  assessments: string;
  /** The deprecated pdm.assessments.v1, when it is still written. */
  assessmentsV1?: string;
  deadLetter: string;
  changelog: string;
}

export interface InferenceProcessorOptions {
  policy: AlertPolicy;
  limits?: LimitPolicy;
  topics: InferenceTopics;
  /** The models in use now (they may be swapped between batches). */
  models: () => DeployedModels;
  decodeWindow: Decoder<WindowFeatures>;
  encodeMachineId: Encoder<string>;
  encodeAlert: Encoder<AlertEvent>;
  encodeAssessment: Encoder<MachineAssessment>;
  /** With `topics.assessmentsV1`: its record, a point per feature and step. */
  encodeAssessmentV1?: Encoder<MachineAssessmentV1>;
  clock: () => number;
  metrics: Registry;
  logger: Logger;
  /** The latest operator reset of each machine (the control topic), when the service follows one. */
  relearns?: (machineId: string) => RelearnRequest | undefined;
}

interface PartitionTask {
  core: InferenceCore;
  nextOffset: bigint | null;
  warmingUp: Set<string>;
  /** Machines restored from format-1 records, and those records' keys: deleted with the machine's first snapshot. */
  legacyKeys: Map<string, Buffer[]>;
  journal: ChangelogJournal;
}

function inferenceMetrics(registry: Registry, tasks: Map<number, PartitionTask>) {
  return {
    stage: stageMetrics(registry),
    windows: metricOnce(registry, 'pdm_inference_windows_total', () => new Counter({ name: 'pdm_inference_windows_total', help: 'Final windows the inference processor assessed.', registers: [registry] })),
    alerts: metricOnce(registry, 'pdm_inference_alerts_total', () => new Counter({ name: 'pdm_inference_alerts_total', help: 'Alert transitions emitted, by kind, severity and status.', labelNames: ['kind', 'severity', 'status'], registers: [registry] })),
    batch: metricOnce(registry, 'pdm_inference_batch_size', () => new Histogram({ name: 'pdm_inference_batch_size', help: 'Windows per ONNX run, by role (detector, forecaster).', labelNames: ['role'], buckets: [1, 2, 4, 8, 16, 32, 64], registers: [registry] })),
    seconds: metricOnce(registry, 'pdm_inference_batch_duration_seconds', () => new Histogram({ name: 'pdm_inference_batch_duration_seconds', help: 'Time to assess one input batch: decode, models, decisions.', buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5], registers: [registry] })),
    warmingUp: metricOnce(registry, 
      'pdm_inference_machines_warming_up',
      () =>
        new Gauge({
          name: 'pdm_inference_machines_warming_up',
          help: 'Machines whose newest window could not be assessed yet (too little history).',
          registers: [registry],
          collect() {
            let n = 0;
            for (const task of tasks.values()) n += task.warmingUp.size;
            this.set(n);
          },
        }),
    ),
  };
}

export class InferenceProcessor {
  private readonly tasks = new Map<number, PartitionTask>();
  private readonly metrics: ReturnType<typeof inferenceMetrics>;

  constructor(private readonly options: InferenceProcessorOptions) {
    this.metrics = inferenceMetrics(options.metrics, this.tasks);
  }

  /** What each machine keeps for the models in use (its channels, the longest lookback). */
  layout(): HistoryLayout {
    return historyLayout(this.options.models());
  }

  open(partition: number, restored: { machines: Map<string, MachineState>; nextOffset: bigint | null; legacyKeys?: Map<string, Buffer[]> }): void {
    const core = new InferenceCore(this.options.policy, this.options.limits);
    for (const [id, state] of restored.machines) core.machines.set(id, state);
    this.tasks.set(partition, { core, nextOffset: restored.nextOffset, warmingUp: new Set(), legacyKeys: restored.legacyKeys ?? new Map(), journal: new ChangelogJournal() });
  }

  close(partition: number): void {
    this.tasks.delete(partition);
  }

  async process(partition: number, records: IncomingRecord[], batch: BatchInfo): Promise<TopicBatch[]> {
    const task = this.tasks.get(partition);
    if (!task) throw new PdmError('STAGE_NOT_OPEN', `partition ${partition} is not open in the inference processor`);
    const started = process.hrtime.bigint();
    const deadLetters: DeadLetter[] = [];
    const windows: WindowFeatures[] = [];
    for (const record of records) {
      if (task.nextOffset !== null && BigInt(record.offset) < task.nextOffset) continue;
      this.metrics.stage.recordsIn.inc({ stage: STAGE });
      const window = await this.decode(partition, record, deadLetters);
      if (window) windows.push(window);
    }

    const byMachine = new Map<string, WindowFeatures[]>();
    for (const w of windows) {
      const list = byMachine.get(w.machineId);
      if (list) list.push(w);
      else byMachine.set(w.machineId, [w]);
    }
    const result = await task.core.assess(windows, this.options.models(), this.options.relearns);
    this.metrics.windows.inc(result.assessed);
    for (const [machineId, request] of result.relearned) this.options.logger.info({ partition, machineId, ...request }, 'baseline reset by an operator: the machine relearns its normal, its alerts quiet until then');
    for (const run of result.runs) this.metrics.batch.observe({ role: run.model }, run.batch);
    for (const id of byMachine.keys()) task.warmingUp.delete(id);
    for (const id of result.warmingUp.keys()) task.warmingUp.add(id);

    // Each machine the batch touched: a delta on its last snapshot, or a new snapshot (a machine
    // still in format 1 has those records deleted first, in the same transaction).
    const changelog: OutgoingRecord[] = [];
    for (const id of [...byMachine.keys()].sort()) {
      for (const key of task.legacyKeys.get(id) ?? []) changelog.push({ key, value: null, partition });
      task.legacyKeys.delete(id);
      for (const record of task.journal.records(id, task.core.machines.get(id)!, byMachine.get(id)!)) changelog.push({ ...record, partition });
    }
    task.nextOffset = BigInt(batch.nextOffset);
    changelog.push({ key: PROGRESS_KEY, value: encodeProgress(task.nextOffset), partition });

    const alerts: OutgoingRecord[] = result.transitions.map((t) => {
      this.metrics.alerts.inc({ kind: t.kind, severity: t.severity, status: t.status });
      return { key: this.options.encodeMachineId(t.machineId), value: this.options.encodeAlert(t) };
    });
    if (alerts.length > 0) this.metrics.stage.recordsOut.inc({ stage: STAGE, topic: this.options.topics.alerts }, alerts.length);
    const assessments: OutgoingRecord[] = result.assessments.map((a) => ({ key: this.options.encodeMachineId(a.machineId), value: this.options.encodeAssessment(a) }));
    if (assessments.length > 0) this.metrics.stage.recordsOut.inc({ stage: STAGE, topic: this.options.topics.assessments }, assessments.length);
    if (deadLetters.length > 0) this.metrics.stage.recordsOut.inc({ stage: STAGE, topic: this.options.topics.deadLetter }, deadLetters.length);
    const outputs: TopicBatch[] = [
      { topic: this.options.topics.alerts, records: alerts },
      { topic: this.options.topics.assessments, records: assessments },
      { topic: this.options.topics.deadLetter, records: deadLetters },
      { topic: this.options.topics.changelog, records: changelog },
    ];
    const { assessmentsV1 } = this.options.topics;
    const encodeV1 = this.options.encodeAssessmentV1;
    if (assessmentsV1 && encodeV1) {
      outputs.push({ topic: assessmentsV1, records: result.assessments.map((a, i) => ({ key: assessments[i]!.key, value: encodeV1(assessmentV1(a)) })) });
      if (assessments.length > 0) this.metrics.stage.recordsOut.inc({ stage: STAGE, topic: assessmentsV1 }, assessments.length);
    }
    this.metrics.seconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
    return outputs;
  }

  private async decode(partition: number, record: IncomingRecord, out: DeadLetter[]): Promise<WindowFeatures | undefined> {
    const refuse = (code: string, message: string) => {
      out.push(refuseRecord({ record, topic: this.options.topics.input, partition, stage: STAGE, code, message, failedAtMs: this.options.clock(), metrics: this.metrics.stage, logger: this.options.logger, what: 'window' }));
      return undefined;
    };
    // A tombstone on the compacted topic deletes a window for readers of the table, and an early
    // update (PDM_WINDOW_EARLY_UPDATES) is not final: neither is assessed.
    if (record.value === null || record.headers['pdm.window.final'] === 'false') return undefined;
    try {
      const window = await this.options.decodeWindow(record.value);
      if (!(window.windowEnd > window.windowStart)) return refuse('INFERENCE_WINDOW_INVALID', `window ends (${window.windowEnd}) before it starts (${window.windowStart})`);
      return window;
    } catch (err) {
      if (err instanceof SerdeError && err.poison) return refuse(err.code, err.message);
      throw err;
    }
  }
}
