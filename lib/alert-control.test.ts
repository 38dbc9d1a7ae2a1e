import type { AlertControl } from '../schemas';
import {
  MAX_SILENCE_MS,
  acknowledgement,
  acknowledges,
  ackRequest,
  activeSilences,
  alertControlProblem,
  applyAlertControl,
  controlKey,
  emptyAlertControlState,
  silenceFor,
  silenceRequest,
  unsilenceRequest,
  type AlertControlState,
} from './alert-control';

const T0 = Date.UTC(2026, 11, 3, 7, 30);
const MIN = 60_000;
const HOUR = 60 * MIN;
const who = { requestedBy: 'ana@plant-7', nowMs: T0 };
const alert = { alertId: 'f-1', dedupKey: 'lathe-1/ANOMALY/*', machineId: 'lathe-1' };

const nulls = { machineId: null, kind: null, alertId: null, dedupKey: null, silenceId: null, startsAt: null, endsAt: null, reason: null };
/** A record as read from the topic: a SILENCE by default, every optional field null. */
const record = (over: Partial<AlertControl>): AlertControl => ({
  requestId: 'x', action: 'SILENCE', ...nulls, requestedBy: 'ana@plant-7', requestedAt: T0,
  ...over,
});

describe('the requests', () => {
  test('an ACK names the alert, its machine and the FIRING transition; an empty reason is none', () => {
    // record() is a SILENCE with every optional field null: the ACK is that, but for its action, machine and alert.
    const expected = record({ requestId: 'r-1', action: 'ACK', machineId: 'lathe-1', alertId: 'f-1', dedupKey: alert.dedupKey });
    expect(ackRequest({ ...who, requestId: 'r-1', alert, reason: ' ' })).toEqual(expected);
    expect(() => ackRequest({ ...who, requestId: 'r-1', alert: { ...alert, alertId: '' } })).toThrow(/names the alert/);
    expect(() => ackRequest({ ...who, requestedBy: ' ', requestId: 'r-1', alert })).toThrow('--by must name who asks');
  });

  test('a SILENCE lasts --for a duration from now, or --until a time; a kind is upper-cased', () => {
    const forTwoHours = silenceRequest({ ...who, requestId: 's-1', machine: 'lathe-*', for: '2h', reason: 'spindle swap' });
    expect(forTwoHours).toMatchObject({ action: 'SILENCE', machineId: 'lathe-*', kind: null, startsAt: T0, endsAt: T0 + 2 * HOUR, reason: 'spindle swap' });
    const until = silenceRequest({ ...who, requestId: 's-2', kind: 'anomaly', until: '2026-12-03T12:00:00Z', reason: 'detector retrained' });
    expect(until).toMatchObject({ machineId: null, kind: 'ANOMALY', startsAt: T0, endsAt: Date.UTC(2026, 11, 3, 12) });
    expect(silenceRequest({ ...who, requestId: 's-3', machine: '*', for: '1d', reason: 'plant shutdown' }).machineId).toBe('*');
  });

  test.each<[string, Partial<Parameters<typeof silenceRequest>[0]>, RegExp]>([
    ['neither a machine nor a kind', { for: '2h' }, /names a machine .* an alert kind, or both/],
    ['no reason', { machine: 'lathe-1', for: '2h', reason: '  ' }, /needs a reason/],
    ['both --for and --until', { machine: 'lathe-1', for: '2h', until: '2026-12-04T00:00:00Z' }, /one of the two/],
    ['neither --for nor --until', { machine: 'lathe-1' }, /one of the two/],
    ['a bad duration', { machine: 'lathe-1', for: 'two hours' }, /--for: "two hours" is not a duration/],
    ['a bad time', { machine: 'lathe-1', until: 'tomorrow' }, /--until: "tomorrow" is not an ISO-8601 time/],
    ['an end in the past', { machine: 'lathe-1', until: '2026-12-03T07:00:00Z' }, /would end .* before it begins/],
    ['longer than 31 days', { machine: 'lathe-1', for: '32d' }, /at most 31 days/],
    ['a machine with a space', { machine: 'lathe 1', for: '2h' }, /is not a machine id or pattern/],
    ['a kind that is no kind', { kind: 'tempA spike', for: '2h' }, /is not an alert kind/],
  ])('a SILENCE with %s is refused', (_name, over, message) => {
    expect(() => silenceRequest({ ...who, requestId: 's-1', reason: 'maintenance', ...over })).toThrow(message);
  });

  test('the longest silence is 31 days exactly', () => {
    expect(silenceRequest({ ...who, requestId: 's-1', machine: 'm', for: '31d', reason: 'r' }).endsAt).toBe(T0 + MAX_SILENCE_MS);
  });

  test('an UNSILENCE names the silence; keys: the machine, else *', () => {
    const end = unsilenceRequest({ ...who, requestId: 'u-1', silenceId: ' s-1 ', reason: 'done early' });
    expect(end).toMatchObject({ action: 'UNSILENCE', silenceId: 's-1', machineId: null, reason: 'done early' });
    expect(controlKey(end)).toBe('*');
    expect(controlKey(unsilenceRequest({ ...who, requestId: 'u-2', silenceId: 's-1', machine: 'lathe-*' }))).toBe('lathe-*');
    expect(controlKey(ackRequest({ ...who, requestId: 'r-1', alert }))).toBe('lathe-1');
    expect(controlKey(silenceRequest({ ...who, requestId: 's-1', kind: 'ANOMALY', for: '1h', reason: 'r' }))).toBe('*');
    expect(() => unsilenceRequest({ ...who, requestId: 'u-1', silenceId: '' })).toThrow(/is not a silence id/);
  });
});

const silence = (id: string, over: Partial<AlertControl> = {}) =>
  record({ requestId: id, machineId: 'lathe-1', startsAt: T0, endsAt: T0 + 2 * HOUR, ...over });
const unsilence = (id: string, silenceId: string, atMs: number) => record({ requestId: id, action: 'UNSILENCE', silenceId, requestedAt: atMs });
const ack = (id: string, alertId: string, atMs = T0) =>
  record({ requestId: id, action: 'ACK', machineId: 'lathe-1', alertId, dedupKey: alert.dedupKey, requestedAt: atMs });

const stateOf = (...records: AlertControl[]): AlertControlState => {
  const state = emptyAlertControlState();
  for (const r of records) applyAlertControl(state, r);
  return state;
};
const silencedBy = (state: AlertControlState, machineId: string, kind: string, nowMs: number) => silenceFor(state, machineId, kind, nowMs)?.silenceId;

describe('silences in the table', () => {
  const none = undefined;
  test.each<[string, AlertControl[], [string, string, number], string | undefined]>([
    ['a machine silence holds every kind of that machine', [silence('s-1')], ['lathe-1', 'FORECAST_BREACH', T0 + HOUR], 's-1'],
    ['from startsAt, inclusive', [silence('s-1')], ['lathe-1', 'ANOMALY', T0], 's-1'],
    ['not before it begins', [silence('s-1', { startsAt: T0 + HOUR })], ['lathe-1', 'ANOMALY', T0 + HOUR - 1], undefined],
    ['not from endsAt on (exclusive)', [silence('s-1')], ['lathe-1', 'ANOMALY', T0 + 2 * HOUR], undefined],
    ['not another machine', [silence('s-1')], ['lathe-2', 'ANOMALY', T0 + HOUR], undefined],
    ['a pattern matches with *', [silence('s-1', { machineId: 'lathe-*' })], ['lathe-2', 'ANOMALY', T0 + HOUR], 's-1'],
    ['a pattern is anchored', [silence('s-1', { machineId: 'lathe-*' })], ['old-lathe-2', 'ANOMALY', T0 + HOUR], undefined],
    ['* alone is every machine', [silence('s-1', { machineId: '*' })], ['pump-7', 'ANOMALY', T0 + HOUR], 's-1'],
    ['a kind-only silence holds that kind on every machine', [silence('s-1', { machineId: null, kind: 'ANOMALY' })], ['pump-7', 'ANOMALY', T0 + HOUR], 's-1'],
    ['and no other kind', [silence('s-1', { machineId: null, kind: 'ANOMALY' })], ['pump-7', 'DEVIATION', T0 + HOUR], undefined],
    ['machine and kind: both must match', [silence('s-1', { kind: 'ANOMALY' })], ['lathe-1', 'FORECAST_BREACH', T0 + HOUR], undefined],
    ['the most recently requested of two wins', [silence('s-1'), silence('s-2', { requestedAt: T0 + MIN })], ['lathe-1', 'ANOMALY', T0 + HOUR], 's-2'],
    ['an UNSILENCE ends it at its requestedAt', [silence('s-1'), unsilence('u-1', 's-1', T0 + HOUR)], ['lathe-1', 'ANOMALY', T0 + HOUR], undefined],
    ['and not before', [silence('s-1'), unsilence('u-1', 's-1', T0 + HOUR)], ['lathe-1', 'ANOMALY', T0 + HOUR - 1], 's-1'],
    ['an UNSILENCE read first (other partition) still ends it', [unsilence('u-1', 's-1', T0 + HOUR), silence('s-1')], ['lathe-1', 'ANOMALY', T0 + HOUR], none],
    ['an UNSILENCE of another silence ends nothing here', [silence('s-1'), unsilence('u-1', 's-9', T0)], ['lathe-1', 'ANOMALY', T0 + HOUR], 's-1'],
    ['a redelivered SILENCE keeps its end', [silence('s-1'), unsilence('u-1', 's-1', T0 + HOUR), silence('s-1')], ['lathe-1', 'ANOMALY', T0 + HOUR], none],
    ['cancelled before it begins', [silence('s-1', { startsAt: T0 + HOUR }), unsilence('u-1', 's-1', T0)], ['lathe-1', 'ANOMALY', T0 + HOUR], none],
  ])('%s', (_name, records, [machineId, kind, nowMs], expected) => {
    expect(silencedBy(stateOf(...records), machineId, kind, nowMs)).toBe(expected);
  });

  test('an UNSILENCE of an unknown silence is kept for it, and a second UNSILENCE changes nothing', () => {
    const state = emptyAlertControlState();
    expect(applyAlertControl(state, unsilence('u-1', 's-1', T0 + HOUR))).toBe(true);
    expect(state.silences.size).toBe(0);
    expect(applyAlertControl(state, unsilence('u-2', 's-1', T0 + 30 * MIN))).toBe(false);
    applyAlertControl(state, silence('s-1'));
    expect(state.silences.get('s-1')?.ended).toEqual({ requestId: 'u-1', by: 'ana@plant-7', atMs: T0 + HOUR, reason: null });
    expect(state.endings.size).toBe(0);
    expect(applyAlertControl(state, unsilence('u-3', 's-1', T0))).toBe(false);
  });

  test('activeSilences lists what holds mail now, the most recently requested first', () => {
    const later = silence('s-3', { startsAt: T0 + 3 * HOUR, endsAt: T0 + 4 * HOUR });
    const state = stateOf(silence('s-1'), silence('s-2', { requestedAt: T0 + MIN, kind: 'ANOMALY' }), later);
    expect(activeSilences(state, T0 + HOUR).map((s) => s.silenceId)).toEqual(['s-2', 's-1']);
    expect(activeSilences(state, T0 + 3 * HOUR).map((s) => s.silenceId)).toEqual(['s-3']);
    expect(activeSilences(state, T0 + 5 * HOUR)).toEqual([]);
  });
});

describe('acknowledgements in the table', () => {
  test('the latest ACK of a dedup key, with who, when, why and the transition acknowledged', () => {
    const state = stateOf(ack('r-1', 'f-1'), record({ ...ack('r-2', 'f-1', T0 + MIN), reason: 'on it' }));
    const expected = { requestId: 'r-2', alertId: 'f-1', machineId: 'lathe-1', by: 'ana@plant-7', atMs: T0 + MIN, reason: 'on it' };
    expect(acknowledgement(state, alert.dedupKey)).toEqual(expected);
    expect(acknowledgement(state, 'lathe-1/DEVIATION/*')).toBeUndefined();
  });

  test.each<[string, AlertControl[], string[], boolean]>([
    ['an ACK of the episode firing now covers it', [ack('r-1', 'f-1')], ['f-1'], true],
    ['an ACK of an escalation of the episode covers it too', [ack('r-1', 'f-1b')], ['f-1', 'f-1b'], true],
    ['after the alert resolved and fired again, the old ACK does not cover the new episode', [ack('r-1', 'f-1')], ['f-2'], false],
    ['the new episode acknowledged in turn', [ack('r-1', 'f-1'), ack('r-2', 'f-2')], ['f-2'], true],
    ['no ACK, nothing covered', [], ['f-1'], false],
  ])('%s', (_name, records, episode, expected) => {
    expect(acknowledges(acknowledgement(stateOf(...records), alert.dedupKey), episode)).toBe(expected);
  });
});

describe('records that can not be applied', () => {
  test.each<[string, AlertControl, string | undefined]>([
    ['an ACK without alertId', record({ action: 'ACK', dedupKey: 'd' }), 'an ACK without the alertId and dedupKey it acknowledges'],
    ['a SILENCE of nothing', silence('s', { machineId: null }), 'a SILENCE that names neither a machine nor a kind'],
    ['a SILENCE without times', silence('s', { endsAt: null }), 'a SILENCE without startsAt and endsAt'],
    ['a SILENCE ending as it begins', silence('s', { endsAt: T0 }), 'a SILENCE that ends before it begins'],
    ['an UNSILENCE of nothing', record({ action: 'UNSILENCE' }), 'an UNSILENCE without the silenceId it ends'],
    ['an action of a later version (UNKNOWN)', record({ action: 'UNKNOWN' }), undefined],
  ])('%s changes nothing', (_name, bad, problem) => {
    expect(alertControlProblem(bad)).toBe(problem);
    const state = emptyAlertControlState();
    expect(applyAlertControl(state, bad)).toBe(false);
    expect(state).toEqual(emptyAlertControlState());
  });
});
