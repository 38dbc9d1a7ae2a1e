import { z } from 'zod';
import * as s from './schemas';
import * as v from './validation';

/**
 * Every route of the API as data: its method and path, the zod schemas that check its path
 * parameters, query and body, and the schema of its answer. routes.ts mounts a handler per entry
 * and validates with these schemas; openapi.ts generates the OpenAPI document from the same
 * entries, so the document cannot drift from what the server checks and answers.
 */

export interface Endpoint {
  method: 'get' | 'post';
  /** Express's template: `/machines/:id`. */
  path: string;
  summary: string;
  description?: string;
  tag: 'fleet' | 'machines' | 'alerts' | 'silences' | 'live';
  params?: z.ZodObject;
  query?: z.ZodType;
  body?: z.ZodType;
  /** The answer: its status and, for JSON, its schema; `eventStream` for GET /events. */
  response: { status: 200 | 202; schema?: z.ZodType; eventStream?: true; description: string };
  /** The error statuses it may answer besides 401, 503 and 500, which any route may. */
  errors: number[];
}

const id = z.object({ id: v.machineId.meta({ description: 'A machine id' }) });

export const ENDPOINTS: readonly Endpoint[] = [
  { method: 'get', path: '/fleet', tag: 'fleet', summary: 'The fleet at a glance: machines by state, active alerts and silences', response: { status: 200, schema: s.fleetViewSchema, description: 'The fleet' }, errors: [] },
  {
    method: 'get',
    path: '/machines',
    tag: 'machines',
    summary: 'Machines by id, each with its state, last window, latest assessment, active alerts and silence',
    query: v.machinesQuery,
    response: { status: 200, schema: s.machinesPageSchema, description: 'A page of machines' },
    errors: [400],
  },
  {
    method: 'get',
    path: '/machines/:id',
    tag: 'machines',
    summary: 'One machine: a page of its windows (newest first), its latest forecast and its alert history',
    params: id,
    query: v.machineQuery,
    response: { status: 200, schema: s.machineDetailSchema, description: 'The machine' },
    errors: [400, 404],
  },
  {
    method: 'get',
    path: '/machines/:id/assessments',
    tag: 'machines',
    summary: "A machine's score history: state, anomaly score and deviation score per window, newest first",
    params: id,
    query: v.assessmentsQuery,
    response: { status: 200, schema: s.assessmentsPageSchema, description: 'A page of assessments' },
    errors: [400],
  },
  {
    method: 'get',
    path: '/alerts',
    tag: 'alerts',
    summary: 'Alert transitions, newest first, each with its acknowledgement and the mails sent about it',
    query: v.alertsQuery,
    response: { status: 200, schema: s.alertsPageSchema, description: 'A page of alert transitions' },
    errors: [400],
  },
  {
    method: 'post',
    path: '/alerts/:id/ack',
    tag: 'alerts',
    summary: 'Acknowledge a firing alert (by a transition id or its dedup key): someone has taken it on, and no more reminders are mailed for it',
    description: 'Writes an ACK to pdm.alert-control.v1; it shows on the alert once sink-postgres has recorded it. 409 when the alert no longer fires.',
    params: v.alertParams,
    body: v.ackBody,
    response: { status: 202, schema: s.acceptedSchema, description: 'On the control topic' },
    errors: [400, 404, 409],
  },
  {
    method: 'get',
    path: '/silences',
    tag: 'silences',
    summary: 'Silences: machines or kinds whose mail is held for a time',
    query: v.silencesQuery,
    response: { status: 200, schema: s.silencesListSchema, description: 'Silences, newest first' },
    errors: [400],
  },
  {
    method: 'post',
    path: '/silences',
    tag: 'silences',
    summary: 'Silence a machine (id or glob pattern), an alert kind, or both, for a time, with a reason',
    description: 'Writes a SILENCE to pdm.alert-control.v1; sink-email holds the matching mail from then on.',
    body: v.silenceBody,
    response: { status: 202, schema: s.acceptedSchema, description: 'On the control topic' },
    errors: [400],
  },
  {
    method: 'post',
    path: '/silences/:id/end',
    tag: 'silences',
    summary: 'End a silence early',
    params: v.silenceParams,
    body: v.endSilenceBody,
    response: { status: 202, schema: s.acceptedSchema, description: 'On the control topic' },
    errors: [400, 404, 409],
  },
  {
    method: 'get',
    path: '/actions',
    tag: 'alerts',
    summary: 'Recorded operator actions (acknowledgements, silences, their ends), newest first',
    query: v.actionsQuery,
    response: { status: 200, schema: s.actionsPageSchema, description: 'A page of actions' },
    errors: [400],
  },
  {
    method: 'get',
    path: '/events',
    tag: 'live',
    summary: 'Server-sent events: `change` whenever the newest alert, window or action moves',
    description: 'text/event-stream. An event `change` whose data is a ChangeEvent, at once and on every change; a comment every 15 s keeps the connection open.',
    response: { status: 200, eventStream: true, schema: s.changeEventSchema, description: 'The stream' },
    errors: [],
  },
];

/** `/machines/:id` as OpenAPI writes it: `/machines/{id}`. */
export const openApiPath = (path: string): string => path.replace(/:([A-Za-z]+)/g, '{$1}');
