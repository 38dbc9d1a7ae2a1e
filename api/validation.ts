import { z } from 'zod';
import { KIND } from '../lib/alert-control';
import { PdmError } from '../lib/errors';
import { API_ERROR_CODES, MACHINE_STATES } from './schemas';

/**
 * What the read API accepts, as zod schemas, and its opaque page cursors. Pure: no I/O, no clock.
 *
 * Every parameter is checked before a query runs; a request with a bad or unknown one is answered
 * 400 with the parameter's name and what is wrong, never guessed at or ignored.
 */

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;

export type ApiErrorCode = (typeof API_ERROR_CODES)[number];

export interface ParameterProblem {
  parameter: string;
  message: string;
}

/** An error the API answers with its status and a JSON body `{ error, message, parameter?, problems? }`. */
export class ApiError extends PdmError<ApiErrorCode> {
  constructor(
    readonly status: number,
    code: ApiErrorCode,
    message: string,
    readonly problems: readonly ParameterProblem[] = [],
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.name = 'ApiError';
  }

  body(): Record<string, unknown> {
    const first = this.problems[0];
    return { error: this.code, message: this.message, ...(first ? { parameter: first.parameter, problems: this.problems } : {}) };
  }
}

/** The machine ids producers accept (producers/validation.ts): anything else names no machine. */
export const MACHINE_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export const STATUSES = ['FIRING', 'RESOLVED'] as const;
export const SEVERITIES = ['INFO', 'WARNING', 'CRITICAL'] as const;
/** Most values of one comma-separated filter. */
const MAX_LIST = 100;

/** ISO-8601: a date, or a date and time with seconds optional, a fraction and a zone (Z or ±hh:mm). */
const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** Epoch milliseconds of an ISO-8601 time, or undefined when it isn't one (a date alone is midnight UTC; 2026-02-30 is not a date). */
export function parseIsoTime(text: string): number | undefined {
  const m = ISO_TIME.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h = '00', mi = '00', s = '00', fraction = '', zone = 'Z'] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), Number(fraction.padEnd(3, '0').slice(0, 3)));
  const at = new Date(ms);
  // Date.UTC rolls 2026-02-30 over to March: a field that moved was out of range.
  if (at.getUTCFullYear() !== Number(y) || at.getUTCMonth() !== Number(mo) - 1 || at.getUTCDate() !== Number(d) || at.getUTCHours() !== Number(h) || at.getUTCMinutes() !== Number(mi) || at.getUTCSeconds() !== Number(s)) return undefined;
  if (zone === 'Z') return ms;
  const sign = zone.startsWith('-') ? -1 : 1;
  const [zh, zm] = zone.slice(1).split(':').map(Number) as [number, number];
  if (zh > 23 || zm > 59) return undefined;
  return ms - sign * (zh * 60 + zm) * 60_000;
}

const time = z.string().transform((text, ctx) => {
  const ms = parseIsoTime(text);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: 'must be an ISO-8601 time, such as 2026-01-05T08:00:00Z or 2026-01-05' });
    return z.NEVER;
  }
  return ms;
});

const limit = z
  .string()
  .regex(/^\d{1,7}$/, `must be a whole number from 1 to ${MAX_LIMIT}`)
  .transform(Number)
  .pipe(z.number().min(1, `must be a whole number from 1 to ${MAX_LIMIT}`).max(MAX_LIMIT, `must be at most ${MAX_LIMIT}`))
  .default(DEFAULT_LIMIT);

export const machineId = z.string().regex(MACHINE_ID, 'is not a machine id (letters, digits, . _ : -; at most 128)');

/** A comma-separated list of values, each checked by `item`; duplicates count once. */
const list = (check: (value: string) => boolean, what: string) =>
  z.string().transform((text, ctx) => {
    const items = [...new Set(text.split(','))];
    const bad = items.find((item) => !check(item));
    if (bad !== undefined) {
      ctx.addIssue({ code: 'custom', message: `${JSON.stringify(bad.slice(0, 40))} is not ${what} (several are comma-separated)` });
      return z.NEVER;
    }
    if (items.length > MAX_LIST) {
      ctx.addIssue({ code: 'custom', message: `at most ${MAX_LIST} values` });
      return z.NEVER;
    }
    return items;
  });

const oneOf = (values: readonly string[]) => list((v) => values.includes(v), `one of ${values.join(', ')}`);

// Cursors ------------------------------------------------------------------------------------

/** Each list and the sort key its cursor holds: the last item of the page it came with. */
export type CursorKind = 'machines' | 'windows' | 'alerts' | 'assessments' | 'actions';

/** A time as Postgres prints it for a cursor: ISO-8601, UTC, to the microsecond (timestamptz's precision, so no row is skipped or repeated). */
const CURSOR_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

const cursorKeys: Record<CursorKind, z.ZodType<string[]>> = {
  machines: z.tuple([z.string().regex(MACHINE_ID)]),
  windows: z.tuple([z.string().regex(CURSOR_TIME)]),
  alerts: z.tuple([z.string().regex(CURSOR_TIME), z.string().min(1).max(1000)]),
  assessments: z.tuple([z.string().regex(CURSOR_TIME)]),
  actions: z.tuple([z.string().regex(CURSOR_TIME), z.string().min(1).max(1000)]),
};

const cursorEnvelope = z.object({ v: z.literal(1), list: z.enum(['machines', 'windows', 'alerts', 'assessments', 'actions']), after: z.array(z.string()) });

/** An opaque cursor: where the next page of `kind` starts (after `key`). */
export function encodeCursor(kind: CursorKind, key: readonly string[]): string {
  return Buffer.from(JSON.stringify({ v: 1, list: kind, after: key })).toString('base64url');
}

/** The key a cursor of `kind` holds, or undefined when it is not one (another list's, edited, truncated). */
export function decodeCursor(kind: CursorKind, cursor: string): string[] | undefined {
  if (!/^[A-Za-z0-9_-]{1,4000}$/.test(cursor)) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  const envelope = cursorEnvelope.safeParse(json);
  if (!envelope.success || envelope.data.list !== kind) return undefined;
  const key = cursorKeys[kind].safeParse(envelope.data.after);
  return key.success ? key.data : undefined;
}

const cursor = (kind: CursorKind) =>
  z.string().transform((text, ctx) => {
    const key = decodeCursor(kind, text);
    if (!key) {
      ctx.addIssue({ code: 'custom', message: `is not a cursor of this list: pass the nextCursor of the previous page as it came, or leave it out to start again` });
      return z.NEVER;
    }
    return key;
  });

// The requests ------------------------------------------------------------------------------

const range = <T extends { from?: number; to?: number }>(query: T, ctx: z.RefinementCtx) => {
  if (query.from !== undefined && query.to !== undefined && query.to <= query.from) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be after from' });
};

/** GET /machines: `q` a part of the id (any case), `state` the states wanted. */
export const machinesQuery = z.strictObject({
  q: z.string().min(1).max(128).optional().meta({ description: 'Machines whose id contains this, in any case' }),
  state: oneOf(MACHINE_STATES).optional().meta({ description: `Only machines in these states (comma-separated): ${MACHINE_STATES.join(', ')}` }),
  limit,
  cursor: cursor('machines').optional(),
});

/** GET /machines/:id/assessments: its score history newest first, `from` and `to` on the window start. */
export const assessmentsQuery = z.strictObject({ limit, cursor: cursor('assessments').optional(), from: time.optional(), to: time.optional() }).superRefine(range);

/** GET /silences */
export const silencesQuery = z.strictObject({
  active: z.enum(['true', 'false']).transform((v) => v === 'true').optional().meta({ description: 'true: only those on now; false: only those over; absent: all (the newest 500)' }),
});

/** GET /actions: the recorded operator actions newest first. */
export const actionsQuery = z.strictObject({ machine: machineId.optional(), limit, cursor: cursor('actions').optional() });

export const alertParams = z.object({ id: z.string().min(1).max(1000).meta({ description: 'An alert transition id (alertId), or an alert\'s dedup key (its latest transition)' }) });
export const silenceParams = z.object({ id: z.uuid('is not a silence id (a UUID)').meta({ description: 'A silence id (the request id of the SILENCE)' }) });

/** GET /machines/:id: its windows newest first, `from` (inclusive) and `to` (exclusive) on their start. */
export const machineQuery = z.strictObject({ limit, cursor: cursor('windows').optional(), from: time.optional(), to: time.optional() }).superRefine(range);

export const machineParams = z.object({ id: machineId });

/** GET /alerts: transitions newest first, `from` (inclusive) and `to` (exclusive) on their createdAt. */
export const alertsQuery = z
  .strictObject({
    status: oneOf(STATUSES).optional(),
    severity: oneOf(SEVERITIES).optional(),
    machine: list((v) => MACHINE_ID.test(v), 'a machine id').optional(),
    kind: list((v) => KIND.test(v), 'an alert kind (upper case, such as FORECAST_BREACH or ANOMALY)').optional(),
    from: time.optional(),
    to: time.optional(),
    limit,
    cursor: cursor('alerts').optional(),
  })
  .superRefine(range);

// The bodies of the writes -------------------------------------------------------------------

const by = z.string().trim().min(1, 'must name who acts').max(200).meta({ description: 'Who acts: a name or e-mail address' });
const reason = z.string().trim().max(1000).optional().transform((r) => r || undefined).meta({ description: 'Why, in their words' });
/** POST /alerts/:id/ack */
export const ackBody = z.strictObject({ by, reason });

/**
 * POST /silences: a machine (id or glob pattern) or a kind or both, for a duration or until a
 * time (at most 31 days), with a reason. The shape is checked here; what makes a silence (one of
 * for and until, something to silence, not too long) is lib/alert-control.ts' silenceRequest's.
 */
export const silenceBody = z.strictObject({
  machine: z.string().regex(/^[A-Za-z0-9*][A-Za-z0-9._:*-]{0,127}$/, 'is not a machine id or glob pattern (*)').optional().meta({ description: 'A machine id or glob pattern (* any characters; * alone: every machine)' }),
  kind: z.string().regex(KIND, 'is not an alert kind (upper case, such as ANOMALY or DEVIATION)').optional().meta({ description: 'An alert kind, such as DEVIATION' }),
  for: z.string().max(40).optional().meta({ description: 'How long, such as 2h or 1d12h (or until)' }),
  until: z.string().max(40).optional().meta({ description: 'Until when, ISO-8601 (or for)' }),
  reason: z.string().trim().min(1, 'must say why (maintenance, a known fault, ...)').max(1000),
  by,
});

/** POST /silences/:id/end */
export const endSilenceBody = z.strictObject({ by, reason });

export type SilenceBody = z.output<typeof silenceBody>;
export type MachinesQuery = z.output<typeof machinesQuery>;
export type AssessmentsQuery = z.output<typeof assessmentsQuery>;
export type ActionsQuery = z.output<typeof actionsQuery>;
export type MachineQuery = z.output<typeof machineQuery>;
export type AlertsQuery = z.output<typeof alertsQuery>;

/**
 * `input` (a request's query or path parameters) checked against `schema`; an ApiError 400 naming
 * each bad parameter otherwise. A parameter given twice is refused: every filter takes one value
 * (several as a comma-separated list).
 */
export function parseParameters<S extends z.ZodType>(schema: S, input: Record<string, unknown>): z.output<S> {
  const repeated = Object.entries(input)
    .filter(([, value]) => Array.isArray(value))
    .map(([parameter]) => ({ parameter, message: 'is given more than once; give it once (several values comma-separated)' }));
  if (repeated.length > 0) throw badRequest(repeated);
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw badRequest(describeIssues(result.error.issues, schema));
}

function describeIssues(issues: readonly z.core.$ZodIssue[], schema: z.ZodType): ParameterProblem[] {
  const known = knownKeys(schema);
  return issues.flatMap((issue): ParameterProblem[] => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ parameter: key, message: `is not a parameter here${known.length ? `; these are: ${known.join(', ')}` : ''}` }));
    }
    const parameter = issue.path.map(String).join('.') || '(query)';
    // zod's own wording for a type mismatch says "expected string" about what was not a string at all.
    const message = issue.code === 'invalid_type' ? 'must be a single text value' : issue.message;
    return [{ parameter, message }];
  });
}

function knownKeys(schema: z.ZodType): string[] {
  const def = (schema as { def?: { type?: string; shape?: Record<string, unknown>; in?: z.ZodType; schema?: z.ZodType } }).def;
  if (def?.shape) return Object.keys(def.shape);
  if (def?.in) return knownKeys(def.in);
  if (def?.schema) return knownKeys(def.schema);
  return [];
}

function badRequest(problems: ParameterProblem[]): ApiError {
  const message = problems.map((p) => `${p.parameter}: ${p.message}`).join('; ');
  return new ApiError(400, 'bad_request', message, problems);
}

/** A request's JSON body checked against `schema`; an ApiError 400 naming each bad field otherwise. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw badRequest([{ parameter: '(body)', message: 'must be a JSON object, sent with Content-Type: application/json' }]);
  }
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  throw badRequest(describeIssues(result.error.issues, schema));
}
