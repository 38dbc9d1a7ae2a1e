import { ackBody, actionsQuery, ApiError, alertsQuery, assessmentsQuery, decodeCursor, DEFAULT_LIMIT, encodeCursor, endSilenceBody, machineParams, machineQuery, machinesQuery, MAX_LIMIT, parseBody, parseIsoTime, parseParameters, silenceBody, silenceParams, silencesQuery } from './validation';

const t = (iso: string) => Date.parse(iso);

/** The problems a bad request is refused with, as `parameter: message`. */
function refusal(run: () => unknown): { status: number; problems: string[] } {
  try {
    run();
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    return { status: err.status, problems: err.problems.map((p) => `${p.parameter}: ${p.message}`) };
  }
  throw new Error('the request was accepted');
}

describe('parseIsoTime', () => {
  test.each([
    ['2026-01-05T08:00:00Z', t('2026-01-05T08:00:00Z')],
    ['2026-01-05T08:00:00.250Z', t('2026-01-05T08:00:00.250Z')],
    ['2026-01-05T08:00:00.123456789Z', t('2026-01-05T08:00:00.123Z')],
    ['2026-01-05T08:00Z', t('2026-01-05T08:00:00Z')],
    ['2026-01-05T10:00:00+02:00', t('2026-01-05T08:00:00Z')],
    ['2026-01-05T03:30:00-04:30', t('2026-01-05T08:00:00Z')],
    ['2026-01-05', t('2026-01-05T00:00:00Z')],
    ['2024-02-29T00:00:00Z', t('2024-02-29T00:00:00Z')],
  ])('%s', (text, ms) => {
    expect(parseIsoTime(text)).toBe(ms);
  });

  test.each(['', 'yesterday', '1767600000000', '2026-01-05T08:00:00', '2026-01-05 08:00:00Z', '2026-02-30', '2025-02-29T00:00:00Z', '2026-01-05T24:00:00Z', '2026-01-05T08:60:00Z', '2026-13-01', '2026-01-05T08:00:00+25:00', '2026-01-05T08:00:00+0200'])('%j is not one', (text) => {
    expect(parseIsoTime(text)).toBeUndefined();
  });
});

describe('cursors', () => {
  test.each([
    ['machines', ['lathe-1']],
    ['windows', ['2026-01-05T08:00:00.000000Z']],
    ['alerts', ['2026-01-05T08:00:00.123456Z', 'a-1/with:any id']],
  ] as const)('a %s cursor decodes to the key it was made of, and is opaque (base64url)', (kind, key) => {
    const cursor = encodeCursor(kind, key);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(kind, cursor)).toEqual(key);
  });

  test.each([
    ['another list\'s cursor', 'alerts', encodeCursor('windows', ['2026-01-05T08:00:00.000000Z'])],
    ['not base64url', 'machines', 'abc+/='],
    ['not JSON', 'machines', Buffer.from('{"v":1,').toString('base64url')],
    ['a key of the wrong shape', 'alerts', encodeCursor('alerts', ['2026-01-05T08:00:00.000000Z'])],
    ['a time not as the database prints it', 'windows', encodeCursor('windows', ['2026-01-05T08:00:00Z'])],
    ['an SQL fragment for a time', 'windows', encodeCursor('windows', ["now()'--"])],
    ['a machine id that is none', 'machines', encodeCursor('machines', ['../etc'])],
    ['another version', 'machines', Buffer.from(JSON.stringify({ v: 2, list: 'machines', after: ['m'] })).toString('base64url')],
    ['empty', 'machines', ''],
  ] as const)('%s is refused', (_name, kind, cursor) => {
    expect(decodeCursor(kind, cursor)).toBeUndefined();
  });
});

describe('GET /machines', () => {
  test('defaults: the first page of 100', () => {
    expect(parseParameters(machinesQuery, {})).toEqual({ limit: DEFAULT_LIMIT });
  });

  test('a search and states', () => {
    expect(parseParameters(machinesQuery, { q: 'Lathe', state: 'at-risk,silent,at-risk' })).toEqual({ q: 'Lathe', state: ['at-risk', 'silent'], limit: DEFAULT_LIMIT });
  });

  test('a limit and a cursor', () => {
    expect(parseParameters(machinesQuery, { limit: '2', cursor: encodeCursor('machines', ['m-1']) })).toEqual({ limit: 2, cursor: ['m-1'] });
    expect(parseParameters(machinesQuery, { limit: String(MAX_LIMIT) }).limit).toBe(MAX_LIMIT);
  });

  test.each([
    [{ limit: '0' }, 'limit: must be a whole number from 1 to 1000'],
    [{ limit: '1001' }, 'limit: must be at most 1000'],
    [{ limit: '-5' }, 'limit: must be a whole number from 1 to 1000'],
    [{ limit: '2.5' }, 'limit: must be a whole number from 1 to 1000'],
    [{ limit: '1e2' }, 'limit: must be a whole number from 1 to 1000'],
    [{ limit: '' }, 'limit: must be a whole number from 1 to 1000'],
    [{ cursor: 'bogus' }, 'cursor: is not a cursor of this list: pass the nextCursor of the previous page as it came, or leave it out to start again'],
    [{ sort: 'id' }, 'sort: is not a parameter here; these are: q, state, limit, cursor'],
    [{ state: 'fine' }, 'state: "fine" is not one of at-risk, silent, off, warming-up, ok, unknown (several are comma-separated)'],
    [{ q: '' }, 'q: Too small: expected string to have >=1 characters'],
    [{ limit: ['1', '2'] }, 'limit: is given more than once; give it once (several values comma-separated)'],
  ])('%j is refused with 400', (query, problem) => {
    expect(refusal(() => parseParameters(machinesQuery, query))).toEqual({ status: 400, problems: [problem] });
  });
});

describe('GET /machines/:id', () => {
  test('a window range and a cursor', () => {
    expect(parseParameters(machineQuery, { from: '2026-01-05', to: '2026-01-06T00:00:00Z', limit: '24', cursor: encodeCursor('windows', ['2026-01-05T12:00:00.000000Z']) })).toEqual({
      from: t('2026-01-05T00:00:00Z'),
      to: t('2026-01-06T00:00:00Z'),
      limit: 24,
      cursor: ['2026-01-05T12:00:00.000000Z'],
    });
  });

  test.each([
    [{ from: 'last week' }, ['from: must be an ISO-8601 time, such as 2026-01-05T08:00:00Z or 2026-01-05']],
    [{ from: '2026-01-06', to: '2026-01-05' }, ['to: must be after from']],
    [{ from: '2026-01-05', to: '2026-01-05' }, ['to: must be after from']],
    [{ cursor: encodeCursor('alerts', ['2026-01-05T08:00:00.000000Z', 'a']) }, ['cursor: is not a cursor of this list: pass the nextCursor of the previous page as it came, or leave it out to start again']],
    [{ severity: 'CRITICAL', limit: 'x' }, ['limit: must be a whole number from 1 to 1000', 'severity: is not a parameter here; these are: limit, cursor, from, to']],
  ])('%j is refused with 400', (query, problems) => {
    expect(refusal(() => parseParameters(machineQuery, query)).problems.sort()).toEqual([...problems].sort());
  });

  test.each(['lathe-1', 'cnc-mill-5-axis', 'a', 'skab_valve1.0:x'])('the id %j is one', (id) => {
    expect(parseParameters(machineParams, { id })).toEqual({ id });
  });

  test.each(['', '-lathe', 'lathe 1', 'x'.repeat(129), "x'; DROP TABLE pdm.alerts; --"])('the id %j is refused', (id) => {
    expect(refusal(() => parseParameters(machineParams, { id })).problems).toEqual(['id: is not a machine id (letters, digits, . _ : -; at most 128)']);
  });
});

describe('GET /alerts', () => {
  test('every filter, several values comma-separated, duplicates once', () => {
    expect(
      parseParameters(alertsQuery, { status: 'FIRING', severity: 'WARNING,CRITICAL,WARNING', machine: 'lathe-1,pump-2', kind: 'ANOMALY,FORECAST_BREACH', from: '2026-01-01', to: '2026-02-01', limit: '50' }),
    ).toEqual({ status: ['FIRING'], severity: ['WARNING', 'CRITICAL'], machine: ['lathe-1', 'pump-2'], kind: ['ANOMALY', 'FORECAST_BREACH'], from: t('2026-01-01T00:00:00Z'), to: t('2026-02-01T00:00:00Z'), limit: 50 });
  });

  test('no filter: every alert, 100 a page', () => {
    expect(parseParameters(alertsQuery, {})).toEqual({ limit: 100 });
  });

  test.each([
    [{ status: 'firing' }, 'status: "firing" is not one of FIRING, RESOLVED (several are comma-separated)'],
    [{ severity: 'WARNING,' }, 'severity: "" is not one of INFO, WARNING, CRITICAL (several are comma-separated)'],
    [{ kind: 'anomaly' }, 'kind: "anomaly" is not an alert kind (upper case, such as FORECAST_BREACH or ANOMALY) (several are comma-separated)'],
    [{ machine: 'lathe 1' }, 'machine: "lathe 1" is not a machine id (several are comma-separated)'],
    [{ machine: Array.from({ length: 101 }, (_, i) => `m${i}`).join(',') }, 'machine: at most 100 values'],
    [{ to: '2026-01-05T08:00:00' }, 'to: must be an ISO-8601 time, such as 2026-01-05T08:00:00Z or 2026-01-05'],
    [{ cursor: encodeCursor('machines', ['m']) }, 'cursor: is not a cursor of this list: pass the nextCursor of the previous page as it came, or leave it out to start again'],
    [{ offset: '100' }, 'offset: is not a parameter here; these are: status, severity, machine, kind, from, to, limit, cursor'],
    [{ status: ['FIRING', 'RESOLVED'] }, 'status: is given more than once; give it once (several values comma-separated)'],
  ])('%j is refused with 400', (query, problem) => {
    expect(refusal(() => parseParameters(alertsQuery, query))).toEqual({ status: 400, problems: [problem] });
  });

  test('the error body names the first bad parameter and lists them all', () => {
    try {
      parseParameters(alertsQuery, { status: 'x', limit: '0' });
      throw new Error('accepted');
    } catch (err) {
      expect((err as ApiError).body()).toEqual({
        error: 'bad_request',
        message: 'status: "x" is not one of FIRING, RESOLVED (several are comma-separated); limit: must be a whole number from 1 to 1000',
        parameter: 'status',
        problems: [
          { parameter: 'status', message: '"x" is not one of FIRING, RESOLVED (several are comma-separated)' },
          { parameter: 'limit', message: 'must be a whole number from 1 to 1000' },
        ],
      });
    }
  });
});

describe('GET /machines/:id/assessments, /silences, /actions', () => {
  test('a range, a limit and a cursor of its own kind', () => {
    expect(parseParameters(assessmentsQuery, { from: '2026-01-05', limit: '48', cursor: encodeCursor('assessments', ['2026-01-05T12:00:00.000000Z']) })).toEqual({
      from: t('2026-01-05T00:00:00Z'),
      limit: 48,
      cursor: ['2026-01-05T12:00:00.000000Z'],
    });
    expect(refusal(() => parseParameters(assessmentsQuery, { cursor: encodeCursor('windows', ['2026-01-05T12:00:00.000000Z']) })).problems[0]).toMatch(/^cursor: is not a cursor of this list/);
  });

  test('active is true or false', () => {
    expect(parseParameters(silencesQuery, { active: 'true' })).toEqual({ active: true });
    expect(parseParameters(silencesQuery, { active: 'false' })).toEqual({ active: false });
    expect(parseParameters(silencesQuery, {})).toEqual({});
    expect(refusal(() => parseParameters(silencesQuery, { active: 'yes' })).status).toBe(400);
  });

  test('actions of one machine, paged by (requestedAt, requestId)', () => {
    expect(parseParameters(actionsQuery, { machine: 'lathe-1', cursor: encodeCursor('actions', ['2026-01-05T12:00:00.000000Z', 'r-1']) })).toEqual({ machine: 'lathe-1', limit: DEFAULT_LIMIT, cursor: ['2026-01-05T12:00:00.000000Z', 'r-1'] });
  });

  test('a silence id is a UUID', () => {
    expect(refusal(() => parseParameters(silenceParams, { id: 'x' }))).toEqual({ status: 400, problems: ['id: is not a silence id (a UUID)'] });
  });
});

describe('the bodies of the writes', () => {
  test('an acknowledgement: who, and why if they say; blank reasons are none', () => {
    expect(parseBody(ackBody, { by: ' ana@plant ', reason: 'on it' })).toEqual({ by: 'ana@plant', reason: 'on it' });
    expect(parseBody(ackBody, { by: 'ana', reason: '  ' })).toEqual({ by: 'ana' });
    expect(refusal(() => parseBody(ackBody, { reason: 'x' })).problems).toEqual(['by: must be a single text value']);
    expect(refusal(() => parseBody(ackBody, { by: ' ' })).problems).toEqual(['by: must name who acts']);
    expect(refusal(() => parseBody(ackBody, { by: 'ana', extra: 1 })).problems).toEqual(['extra: is not a parameter here; these are: by, reason']);
  });

  test('not a JSON object: refused with what to send', () => {
    for (const body of [undefined, null, 'text', [1]]) expect(refusal(() => parseBody(ackBody, body)).problems).toEqual(['(body): must be a JSON object, sent with Content-Type: application/json']);
  });

  test('a silence: a machine, a pattern or a kind, for a duration or until a time, with a reason (what makes a silence is silenceRequest\'s: api/writes.ts)', () => {
    expect(parseBody(silenceBody, { machine: 'lathe-*', for: '2h', reason: 'bearing change', by: 'ana' })).toEqual({ machine: 'lathe-*', for: '2h', reason: 'bearing change', by: 'ana' });
    expect(parseBody(silenceBody, { kind: 'ANOMALY', until: '2026-12-04T08:00:00Z', reason: 'model retraining', by: 'ana' }).kind).toBe('ANOMALY');
  });

  test.each([
    [{ machine: 'm 1', for: '2h', reason: 'r', by: 'a' }, ['machine: is not a machine id or glob pattern (*)']],
    [{ kind: 'anomaly', for: '2h', reason: 'r', by: 'a' }, ['kind: is not an alert kind (upper case, such as ANOMALY or DEVIATION)']],
    [{ machine: 'm-1', for: '2h', reason: ' ', by: 'a' }, ['reason: must say why (maintenance, a known fault, ...)']],
  ])('%j is refused', (body, problems) => {
    expect(refusal(() => parseBody(silenceBody, body)).problems).toEqual(problems);
  });

  test('ending a silence: who, and why if they say', () => {
    expect(parseBody(endSilenceBody, { by: 'ana' })).toEqual({ by: 'ana' });
  });
});
