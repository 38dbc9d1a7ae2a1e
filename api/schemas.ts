import { z } from 'zod';
import type { PdmErrorCode } from '../lib/errors';

/**
 * What the API answers, as zod schemas: the one description of every response body. The views
 * (views.ts) are typed by them, the OpenAPI document (openapi.ts) is generated from them, the
 * console (console/) imports their types, and the API's integration test checks real answers
 * against the document. Times are ISO-8601 strings in UTC; field names and meanings are the Avro
 * records' (schemas/).
 *
 * Each schema carries an `id` (its name under components/schemas) and a description.
 */

const time = z.iso.datetime({ offset: true }).meta({ description: 'ISO-8601 time in UTC' });
const nullableTime = time.nullable();

export const featureStatsSchema = z
  .object({
    count: z.int().min(0),
    mean: z.number().nullable(),
    min: z.number().nullable(),
    max: z.number().nullable(),
    stddev: z.number().nullable(),
  })
  .meta({ id: 'FeatureStats', description: "One channel's statistics over a window; null where the window had no value of it." });

export const windowViewSchema = z
  .object({
    machineId: z.string(),
    windowStart: time,
    windowEnd: time,
    count: z.int().min(0),
    current: featureStatsSchema,
    accX: featureStatsSchema,
    accY: featureStatsSchema,
    accZ: featureStatsSchema,
    tempA: featureStatsSchema,
    tempB: featureStatsSchema,
    extras: z.record(z.string(), featureStatsSchema).meta({ description: "Each extra channel's statistics, by name; {} for a machine with only the six." }),
  })
  .meta({ id: 'Window', description: 'A final window of one machine (pdm.window_features and pdm.window_extras).' });

export const driverSchema = z
  .object({
    channel: z.string().meta({ description: 'Such as tempA.mean or pressure.max' }),
    contribution: z.number().meta({ description: 'Share of the deviation, 0 to 1' }),
    value: z.number().nullable(),
    expected: z.number().nullable(),
  })
  .meta({ id: 'Driver', description: 'A channel that drove a deviation, with what it read and what the machine normally reads.' });

export const acknowledgementSchema = z
  .object({
    requestId: z.string(),
    alertId: z.string().meta({ description: 'The FIRING transition acknowledged' }),
    by: z.string(),
    at: time,
    reason: z.string().nullable(),
  })
  .meta({ id: 'Acknowledgement', description: 'Someone has taken the alert on: no more reminders are mailed for this firing.' });

export const notificationViewSchema = z
  .object({
    recipient: z.string(),
    kind: z.enum(['FIRING', 'ESCALATED', 'REMINDER', 'RESOLVED']),
    outcome: z.enum(['pending', 'sent', 'failed']),
    at: time.meta({ description: 'When it was sent, or claimed when not sent (yet)' }),
    subject: z.string().nullable(),
    error: z.string().nullable(),
  })
  .meta({ id: 'Notification', description: 'A mail about the alert transition (pdm.notifications).' });

export const alertViewSchema = z
  .object({
    alertId: z.string(),
    dedupKey: z.string(),
    machineId: z.string(),
    status: z.string().meta({ description: 'FIRING or RESOLVED' }),
    severity: z.string().meta({ description: 'INFO, WARNING or CRITICAL' }),
    kind: z.string().meta({ description: 'FORECAST_BREACH, ANOMALY, DEVIATION, ...' }),
    feature: z.string().nullable(),
    windowEnd: time,
    predictedBreachAt: nullableTime,
    score: z.number(),
    threshold: z.number(),
    modelName: z.string(),
    modelVersion: z.string(),
    message: z.string(),
    createdAt: time,
    drivers: z.array(driverSchema).meta({ description: 'The channels that drove the transition, strongest first' }),
    acknowledgement: acknowledgementSchema.nullable().meta({ description: 'For a FIRING transition: who acknowledged it, if anyone' }),
    notifications: z.array(notificationViewSchema).meta({ description: 'The mails about this transition' }),
  })
  .meta({ id: 'Alert', description: 'An alert transition (pdm.alerts), FIRING or RESOLVED.' });

export const anomalyViewSchema = z
  .object({
    score: z.number(),
    threshold: z.number(),
    anomalous: z.boolean().meta({ description: 'The score is above the threshold' }),
    modelName: z.string(),
    modelVersion: z.string(),
  })
  .meta({ id: 'Anomaly', description: "The fleet anomaly detector's score of a window." });

export const deviationViewSchema = z
  .object({ score: z.number(), threshold: z.number(), drivers: z.array(driverSchema) })
  .meta({ id: 'Deviation', description: "How far a window is from the machine's own normal, and which channels drove it." });

export const assessmentViewSchema = z
  .object({
    windowStart: time,
    windowEnd: time,
    warmingUp: z.string().nullable().meta({ description: 'Why not every model could assess the machine yet, or null' }),
    anomaly: anomalyViewSchema.nullable(),
    forecaster: z.object({ modelName: z.string(), modelVersion: z.string() }).nullable(),
    state: z.string().nullable().meta({ description: 'ok, at-risk, warming-up or off; null from before the per-machine detector' }),
    deviation: deviationViewSchema.nullable(),
  })
  .meta({ id: 'Assessment', description: "The inference processor's assessment of a machine after a window." });

export const assessmentPointSchema = z
  .object({
    windowStart: time,
    windowEnd: time,
    state: z.string().nullable(),
    anomaly: z.object({ score: z.number(), threshold: z.number() }).nullable(),
    deviation: z.object({ score: z.number(), threshold: z.number() }).nullable(),
  })
  .meta({ id: 'AssessmentPoint', description: 'One window of a machine’s score history: its state, anomaly score and deviation score with their thresholds.' });

export const forecastViewSchema = z
  .object({
    madeAt: time.meta({ description: 'The end of the window it was made on; the forecast starts there' }),
    modelName: z.string().nullable(),
    modelVersion: z.string(),
    points: z.array(
      z.object({
        feature: z.string(),
        windowStart: time,
        mean: z.number(),
        lower: z.number(),
        upper: z.number(),
        limitLower: z.number().nullable(),
        limitUpper: z.number().nullable(),
      }),
    ),
  })
  .meta({ id: 'Forecast', description: 'The forecast of the coming windows, each feature with its interval and the machine’s limits.' });

export const MACHINE_STATES = ['at-risk', 'silent', 'off', 'warming-up', 'ok', 'unknown'] as const;
export const machineStateSchema = z.enum(MACHINE_STATES).meta({
  id: 'MachineState',
  description:
    'at-risk: an alert is active; silent: no window for longer than three windows; off: it draws no current; warming-up: learning its normal; ok; unknown: never assessed.',
});

export const silenceViewSchema = z
  .object({
    silenceId: z.string(),
    machine: z.string().nullable().meta({ description: 'A machine id or glob pattern (*); null: every machine' }),
    kind: z.string().nullable().meta({ description: 'An alert kind; null: every kind' }),
    startsAt: time,
    endsAt: time,
    reason: z.string().nullable(),
    by: z.string(),
    requestedAt: time,
    endedAt: nullableTime.meta({ description: 'When someone ended it early' }),
    endedBy: z.string().nullable(),
    active: z.boolean(),
  })
  .meta({ id: 'Silence', description: "A machine's or a kind's mail held for a time (maintenance), with who asked and why." });

export const machineSummarySchema = z
  .object({
    machineId: z.string(),
    state: machineStateSchema,
    lastWindow: windowViewSchema,
    latestAssessment: assessmentViewSchema.nullable(),
    activeAlerts: z.array(alertViewSchema),
    silence: silenceViewSchema.nullable().meta({ description: 'The active silence covering the machine, if any' }),
  })
  .meta({ id: 'MachineSummary', description: 'A machine: its state, last window, latest assessment and active alerts.' });

export const machineDetailSchema = machineSummarySchema
  .extend({
    windows: z.array(windowViewSchema).meta({ description: 'Its windows, newest first, one page' }),
    nextCursor: z.string().nullable(),
    latestAnomaly: anomalyViewSchema.extend({ windowEnd: time }).nullable(),
    latestForecast: forecastViewSchema.nullable(),
    alerts: z.array(alertViewSchema).meta({ description: 'Its latest transitions, newest first (at most 100)' }),
  })
  .meta({ id: 'MachineDetail', description: 'A machine with a page of its windows, its latest forecast and its alert history.' });

export const fleetViewSchema = z
  .object({
    machines: z.int().min(0),
    byState: z.record(machineStateSchema, z.int().min(0)),
    activeAlerts: z.int().min(0),
    activeSilences: z.int().min(0),
    lastWindowEnd: nullableTime,
    asOf: time,
  })
  .meta({ id: 'Fleet', description: 'The whole fleet at a glance: machines by state, active alerts and silences.' });

export const ALERT_ACTIONS = ['ACK', 'SILENCE', 'UNSILENCE', 'UNKNOWN'] as const;

export const actionViewSchema = z
  .object({
    requestId: z.string(),
    action: z.enum(ALERT_ACTIONS),
    machine: z.string().nullable(),
    kind: z.string().nullable(),
    alertId: z.string().nullable(),
    dedupKey: z.string().nullable(),
    silenceId: z.string().nullable(),
    startsAt: nullableTime,
    endsAt: nullableTime,
    by: z.string(),
    requestedAt: time,
    reason: z.string().nullable(),
  })
  .meta({ id: 'Action', description: 'An operator action (acknowledge, silence, end a silence) as recorded (pdm.alert_actions).' });

export const acceptedSchema = z
  .object({
    requestId: z.string(),
    action: z.enum(ALERT_ACTIONS),
    topic: z.string(),
    message: z.string().meta({ description: 'What was asked, and when it shows' }),
  })
  .meta({ id: 'Accepted', description: 'The action is on the control topic; it shows in the API once the sink has recorded it (about a second).' });

export const API_ERROR_CODES = ['bad_request', 'unauthorized', 'not_found', 'method_not_allowed', 'conflict', 'database_unavailable', 'kafka_unavailable', 'stopping', 'internal'] as const satisfies readonly PdmErrorCode[];

export const errorBodySchema = z
  .object({
    error: z.enum(API_ERROR_CODES),
    message: z.string(),
    parameter: z.string().optional(),
    problems: z.array(z.object({ parameter: z.string(), message: z.string() })).optional(),
  })
  .meta({ id: 'Error', description: 'Every error answer: a code, a sentence, and the parameters at fault.' });

const pageOf = <T extends z.ZodType>(name: string, key: string, item: T, description: string) =>
  z.object({ [key]: z.array(item), nextCursor: z.string().nullable().meta({ description: 'Pass as cursor for the next page; null on the last' }) }).meta({ id: name, description });

export const machinesPageSchema = pageOf('MachinesPage', 'machines', machineSummarySchema, 'A page of machines, by id.');
export const alertsPageSchema = pageOf('AlertsPage', 'alerts', alertViewSchema, 'A page of alert transitions, newest first.');
export const assessmentsPageSchema = pageOf('AssessmentsPage', 'assessments', assessmentPointSchema, 'A page of a machine’s score history, newest first.');
export const actionsPageSchema = pageOf('ActionsPage', 'actions', actionViewSchema, 'A page of recorded operator actions, newest first.');
export const silencesListSchema = z.object({ silences: z.array(silenceViewSchema) }).meta({ id: 'Silences', description: 'Silences, newest first.' });

/** The data of a server-sent `change` event on GET /events: the newest of each, as the follower has them. */
export const changeEventSchema = z
  .object({ alerts: nullableTime, windows: nullableTime, actions: nullableTime })
  .meta({ id: 'ChangeEvent', description: 'Sent on GET /events (text/event-stream, event name `change`) whenever one of these moves.' });

export type FeatureStatsView = z.infer<typeof featureStatsSchema>;
export type WindowView = z.infer<typeof windowViewSchema>;
export type DriverView = z.infer<typeof driverSchema>;
export type AcknowledgementView = z.infer<typeof acknowledgementSchema>;
export type NotificationView = z.infer<typeof notificationViewSchema>;
export type AlertView = z.infer<typeof alertViewSchema>;
export type AnomalyView = z.infer<typeof anomalyViewSchema>;
export type AssessmentView = z.infer<typeof assessmentViewSchema>;
export type AssessmentPoint = z.infer<typeof assessmentPointSchema>;
export type ForecastView = z.infer<typeof forecastViewSchema>;
export type MachineStateView = z.infer<typeof machineStateSchema>;
export type SilenceView = z.infer<typeof silenceViewSchema>;
export type MachineSummary = z.infer<typeof machineSummarySchema>;
export type MachineDetail = z.infer<typeof machineDetailSchema>;
export type FleetView = z.infer<typeof fleetViewSchema>;
export type ActionView = z.infer<typeof actionViewSchema>;
export type Accepted = z.infer<typeof acceptedSchema>;
export type ErrorBody = z.infer<typeof errorBodySchema>;
export type ChangeEvent = z.infer<typeof changeEventSchema>;
