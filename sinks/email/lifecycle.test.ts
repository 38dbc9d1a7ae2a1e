import type { AlertEvent } from '../../schemas';
import { applyAlert, emptyState, pendingCount, retryLater, tick, type LifecycleConfig, type Mail, type Routing } from './lifecycle';

const T0 = Date.UTC(2026, 0, 5, 8);
const S = 1000;
const MIN = 60 * S;
const HOUR = 60 * MIN;

const config: LifecycleConfig = { groupWaitMs: 30 * S, repeatIntervalMs: 4 * HOUR, maxAgeMs: 24 * HOUR, rateLimit: { count: 3, windowMs: HOUR } };

type TestSilence = { machine: string; kind?: string; from: number; to: number };

/** The roster's recipients; silences of a machine (of one kind when given); acknowledgements as dedup key → the FIRING alertId acknowledged. */
const routing = (silences: TestSilence[] = [], acks: Record<string, string> = {}): Routing => ({
  recipients: (m) => (m.startsWith('pump') ? ['pumps@x.io'] : ['oncall@x.io']),
  silenced: (m, kind, now) => silences.some((s) => s.machine === m && (s.kind === undefined || s.kind === kind) && s.from <= now && now < s.to),
  acknowledged: (dedupKey, alertIds) => acks[dedupKey] !== undefined && alertIds.includes(acks[dedupKey]),
});

function alert(over: Partial<AlertEvent> & { at: number }): AlertEvent {
  const { at, ...rest } = over;
  return {
    drivers: [],
    alertId: `a-${at}`,
    dedupKey: 'lathe-1/tempA',
    machineId: 'lathe-1',
    status: 'FIRING',
    severity: 'WARNING',
    kind: 'FORECAST_BREACH',
    feature: 'tempA',
    windowEnd: at,
    predictedBreachAt: at + 6 * HOUR,
    score: 81,
    threshold: 80,
    modelName: 'forecaster',
    modelVersion: 'v3',
    message: 'tempA heads for its limit',
    createdAt: at,
    ...rest,
  };
}

type Step = { alert: AlertEvent } | { tick: number };

/** Runs the steps; each tick's mails as `recipient machine|digest: transition, ...`. */
function run(steps: Step[], routes = routing()): string[][] {
  const state = emptyState();
  const out: string[][] = [];
  for (const step of steps) {
    if ('alert' in step) applyAlert(state, step.alert, step.alert.createdAt, config);
    else out.push(tick(state, step.tick, config, routes).map(show));
  }
  return out;
}

const show = (m: Mail) => `${m.recipient} ${m.digest ? 'digest' : m.machineId}: ${m.notifications.map((n) => n.transition).join(', ')}`;

describe('alert lifecycle', () => {
  const fire = alert({ at: T0, alertId: 'f1' });
  test.each<[string, Step[], string[][]]>([
    ['a firing alert is mailed once, after the group wait', [{ alert: fire }, { tick: T0 + 10 * S }, { tick: T0 + 30 * S }, { tick: T0 + 31 * S }], [[], ['oncall@x.io lathe-1: FIRING:f1'], []]],
    ['a redelivered FIRING changes nothing', [{ alert: fire }, { tick: T0 + 30 * S }, { alert: fire }, { tick: T0 + 2 * MIN }], [['oncall@x.io lathe-1: FIRING:f1'], []]],
    ['firing then resolved: two mails', [{ alert: fire }, { tick: T0 + 30 * S }, { alert: alert({ at: T0 + HOUR, alertId: 'r1', status: 'RESOLVED' }) }, { tick: T0 + HOUR + 30 * S }], [['oncall@x.io lathe-1: FIRING:f1'], ['oncall@x.io lathe-1: RESOLVED:f1']]],
    ['fired and resolved within the group wait: no mail', [{ alert: fire }, { alert: alert({ at: T0 + 10 * S, status: 'RESOLVED' }) }, { tick: T0 + HOUR }], [[]]],
    ['a RESOLVED for an alert never seen firing is ignored', [{ alert: alert({ at: T0, status: 'RESOLVED' }) }, { tick: T0 + HOUR }], [[]]],
    [
      'severity rising is mailed; the same or lower is not',
      [{ alert: fire }, { tick: T0 + 30 * S }, { alert: alert({ at: T0 + MIN, severity: 'WARNING' }) }, { alert: alert({ at: T0 + 2 * MIN, severity: 'CRITICAL' }) }, { tick: T0 + 3 * MIN }, { alert: alert({ at: T0 + 4 * MIN, severity: 'WARNING' }) }, { tick: T0 + 10 * MIN }],
      [['oncall@x.io lathe-1: FIRING:f1'], ['oncall@x.io lathe-1: ESCALATED:CRITICAL:f1'], []],
    ],
    ['a rise within the group wait rides on the FIRING mail', [{ alert: fire }, { alert: alert({ at: T0 + 5 * S, severity: 'CRITICAL' }) }, { tick: T0 + 30 * S }], [['oncall@x.io lathe-1: FIRING:f1']]],
    [
      'reminders every repeat interval while firing, none after it resolves',
      [{ alert: fire }, { tick: T0 + 30 * S }, { tick: T0 + 4 * HOUR - S }, { tick: T0 + 4 * HOUR }, { tick: T0 + 4 * HOUR + 30 * S }, { tick: T0 + 8 * HOUR }, { tick: T0 + 8 * HOUR + 30 * S }, { alert: alert({ at: T0 + 9 * HOUR, status: 'RESOLVED' }) }, { tick: T0 + 9 * HOUR + 30 * S }, { tick: T0 + 20 * HOUR }],
      [['oncall@x.io lathe-1: FIRING:f1'], [], [], ['oncall@x.io lathe-1: REMINDER:1:f1'], [], ['oncall@x.io lathe-1: REMINDER:2:f1'], ['oncall@x.io lathe-1: RESOLVED:f1'], []],
    ],
    [
      'a new episode after resolving fires again under a new transition id',
      [{ alert: fire }, { tick: T0 + 30 * S }, { alert: alert({ at: T0 + MIN, status: 'RESOLVED' }) }, { tick: T0 + 2 * MIN }, { alert: alert({ at: T0 + HOUR, alertId: 'f2' }) }, { tick: T0 + HOUR + 30 * S }],
      [['oncall@x.io lathe-1: FIRING:f1'], ['oncall@x.io lathe-1: RESOLVED:f1'], ['oncall@x.io lathe-1: FIRING:f2']],
    ],
    [
      'alerts of one machine within the group wait share a mail; other machines get their own',
      [{ alert: fire }, { alert: alert({ at: T0 + 10 * S, alertId: 'g1', dedupKey: 'lathe-1/accX', feature: 'accX' }) }, { alert: alert({ at: T0 + 12 * S, alertId: 'p1', dedupKey: 'pump-7/current', machineId: 'pump-7' }) }, { tick: T0 + 30 * S }, { tick: T0 + 42 * S }],
      [['oncall@x.io lathe-1: FIRING:f1, FIRING:g1'], ['pumps@x.io pump-7: FIRING:p1']],
    ],
  ])('%s', (_name, steps, expected) => {
    expect(run(steps)).toEqual(expected);
  });

  test('history older than the max age updates the state but is not mailed; a reminder still is', () => {
    const state = emptyState();
    applyAlert(state, alert({ at: T0 - 30 * HOUR, alertId: 'old' }), T0, config);
    applyAlert(state, alert({ at: T0 - 26 * HOUR, severity: 'CRITICAL' }), T0, config);
    expect(pendingCount(state)).toBe(0);
    expect(tick(state, T0, config, routing())).toEqual([]);
    // firing for 30 h with a 4 h repeat: reminder 7 is the one due
    expect(tick(state, T0 + 30 * S, config, routing()).map(show)).toEqual(['oncall@x.io lathe-1: REMINDER:7:old']);
  });

  test('the rate limit holds the overflow back and sends it as one digest when the window allows', () => {
    const machines = ['lathe-1', 'lathe-2', 'lathe-3', 'lathe-4', 'lathe-5'];
    const steps: Step[] = [];
    machines.forEach((m, i) => steps.push({ alert: alert({ at: T0 + i * MIN, alertId: `f-${m}`, machineId: m, dedupKey: `${m}/tempA` }) }, { tick: T0 + i * MIN + 30 * S }));
    steps.push({ tick: T0 + 30 * MIN }, { tick: T0 + HOUR + 31 * S }, { tick: T0 + HOUR + 2 * MIN });
    expect(run(steps)).toEqual([
      ['oncall@x.io lathe-1: FIRING:f-lathe-1'],
      ['oncall@x.io lathe-2: FIRING:f-lathe-2'],
      ['oncall@x.io lathe-3: FIRING:f-lathe-3'],
      [],
      [],
      [],
      // the first mail's slot frees an hour after it: the two held back go out together
      ['oncall@x.io digest: FIRING:f-lathe-4, FIRING:f-lathe-5'],
      [],
    ]);
  });

  test('a silenced machine is mailed when its silence ends; one that resolves during it, never', () => {
    const silences = [{ machine: 'lathe-1', from: T0 - HOUR, to: T0 + 2 * HOUR }, { machine: 'lathe-2', from: T0 - HOUR, to: T0 + 2 * HOUR }];
    const steps: Step[] = [
      { alert: fire },
      { alert: alert({ at: T0, alertId: 'q1', machineId: 'lathe-2', dedupKey: 'lathe-2/tempA' }) },
      { tick: T0 + HOUR },
      { alert: alert({ at: T0 + HOUR + MIN, machineId: 'lathe-2', dedupKey: 'lathe-2/tempA', status: 'RESOLVED' }) },
      { tick: T0 + 2 * HOUR },
      { tick: T0 + 2 * HOUR + MIN },
    ];
    expect(run(steps, routing(silences))).toEqual([[], ['oncall@x.io lathe-1: FIRING:f1'], []]);
  });

  describe('silences of one alert kind', () => {
    const anomaly = (over: Partial<AlertEvent> & { at: number }) =>
      alert({ alertId: `an-${over.at}`, dedupKey: 'lathe-1/ANOMALY/*', kind: 'ANOMALY', feature: null, ...over });
    const anomalies = [{ machine: 'lathe-1', kind: 'ANOMALY', from: T0 - HOUR, to: T0 + 2 * HOUR }];
    test.each<[string, Step[], string[][]]>([
      [
        "a machine's group goes out without the silenced kind, which waits in the group for the silence to end",
        [{ alert: fire }, { alert: anomaly({ at: T0 + 5 * S }) }, { tick: T0 + 30 * S }, { tick: T0 + HOUR }, { tick: T0 + 2 * HOUR }],
        [['oncall@x.io lathe-1: FIRING:f1'], [], [`oncall@x.io lathe-1: FIRING:an-${T0 + 5 * S}`]],
      ],
      [
        'a silenced kind that resolves during its silence is never mailed; the other kind is, both ways',
        [
          { alert: fire },
          { alert: anomaly({ at: T0 + 5 * S, alertId: 'an1' }) },
          { tick: T0 + 30 * S },
          { alert: anomaly({ at: T0 + HOUR, alertId: 'an2', status: 'RESOLVED' }) },
          { alert: alert({ at: T0 + HOUR, alertId: 'r1', status: 'RESOLVED' }) },
          { tick: T0 + HOUR + 30 * S },
          { tick: T0 + 3 * HOUR },
        ],
        [['oncall@x.io lathe-1: FIRING:f1'], ['oncall@x.io lathe-1: RESOLVED:f1'], []],
      ],
      [
        'a newcomer to a group only a silence holds waits its own group wait, then goes out alone',
        [
          { alert: anomaly({ at: T0, alertId: 'an1' }) },
          { tick: T0 + 30 * S },
          { alert: alert({ at: T0 + MIN, alertId: 'f2' }) },
          { tick: T0 + MIN + 10 * S },
          { tick: T0 + MIN + 30 * S },
        ],
        [[], [], ['oncall@x.io lathe-1: FIRING:f2']],
      ],
      [
        'another machine is not held by a kind silence of this one',
        [{ alert: anomaly({ at: T0, alertId: 'p1', machineId: 'pump-7', dedupKey: 'pump-7/ANOMALY/*' }) }, { tick: T0 + 30 * S }],
        [['pumps@x.io pump-7: FIRING:p1']],
      ],
    ])('%s', (_name, steps, expected) => {
      expect(run(steps, routing(anomalies))).toEqual(expected);
    });
  });

  describe('acknowledgements', () => {
    const fired = [{ alert: fire }, { tick: T0 + 30 * S }] satisfies Step[];
    test.each<[string, Record<string, string>, Step[], string[][]]>([
      [
        'an acknowledged alert gets no reminders; its RESOLVED still goes out',
        { 'lathe-1/tempA': 'f1' },
        [
          ...fired,
          { tick: T0 + 4 * HOUR },
          { tick: T0 + 4 * HOUR + 30 * S },
          { alert: alert({ at: T0 + 5 * HOUR, alertId: 'r1', status: 'RESOLVED' }) },
          { tick: T0 + 5 * HOUR + 30 * S },
        ],
        [['oncall@x.io lathe-1: FIRING:f1'], [], [], ['oncall@x.io lathe-1: RESOLVED:f1']],
      ],
      [
        'an acknowledgement of a rise in severity covers the episode too',
        { 'lathe-1/tempA': 'c1' },
        [
          ...fired,
          { alert: alert({ at: T0 + HOUR, alertId: 'c1', severity: 'CRITICAL' }) },
          { tick: T0 + HOUR + 30 * S },
          { tick: T0 + 4 * HOUR },
          { tick: T0 + 4 * HOUR + 30 * S },
        ],
        [['oncall@x.io lathe-1: FIRING:f1'], ['oncall@x.io lathe-1: ESCALATED:CRITICAL:f1'], [], []],
      ],
      [
        'a new episode after the alert resolved is not acknowledged: it fires and reminds again',
        { 'lathe-1/tempA': 'f1' },
        [
          ...fired,
          { alert: alert({ at: T0 + HOUR, alertId: 'r1', status: 'RESOLVED' }) },
          { tick: T0 + HOUR + 30 * S },
          { alert: alert({ at: T0 + 2 * HOUR, alertId: 'f2' }) },
          { tick: T0 + 2 * HOUR + 30 * S },
          { tick: T0 + 6 * HOUR },
          { tick: T0 + 6 * HOUR + 30 * S },
        ],
        [
          ['oncall@x.io lathe-1: FIRING:f1'],
          ['oncall@x.io lathe-1: RESOLVED:f1'],
          ['oncall@x.io lathe-1: FIRING:f2'],
          [],
          ['oncall@x.io lathe-1: REMINDER:1:f2'],
        ],
      ],
    ])('%s', (_name, acks, steps, expected) => {
      expect(run(steps, routing([], acks))).toEqual(expected);
    });

    test('a reminder waiting in its group when the acknowledgement comes is not sent', () => {
      const state = emptyState();
      const acks: Record<string, string> = {};
      applyAlert(state, fire, T0, config);
      expect(tick(state, T0 + 30 * S, config, routing([], acks)).map(show)).toEqual(['oncall@x.io lathe-1: FIRING:f1']);
      expect(tick(state, T0 + 4 * HOUR, config, routing([], acks))).toEqual([]);
      expect(pendingCount(state)).toBe(1);
      acks['lathe-1/tempA'] = 'f1';
      expect(tick(state, T0 + 4 * HOUR + 30 * S, config, routing([], acks))).toEqual([]);
      expect(pendingCount(state)).toBe(0);
    });
  });

  test('a mail that failed goes out again when its retry is due, as it was', () => {
    const state = emptyState();
    applyAlert(state, fire, T0, config);
    const [mail] = tick(state, T0 + 30 * S, config, routing());
    retryLater(state, mail!, T0 + 90 * S);
    expect(pendingCount(state)).toBe(1);
    expect(tick(state, T0 + 60 * S, config, routing())).toEqual([]);
    expect(tick(state, T0 + 90 * S, config, routing()).map(show)).toEqual(['oncall@x.io lathe-1: FIRING:f1']);
    expect(pendingCount(state)).toBe(0);
  });

  test('a state rebuilt from the same history decides the same transition ids (what makes a replay send nothing new)', () => {
    const history = [fire, alert({ at: T0 + HOUR, severity: 'CRITICAL' }), alert({ at: T0 + 2 * HOUR, status: 'RESOLVED' })];
    const live = emptyState();
    const liveMails: string[] = [];
    for (const a of history) {
      applyAlert(live, a, a.createdAt, config);
      liveMails.push(...tick(live, a.createdAt + 30 * S, config, routing()).map(show));
    }
    const rebuilt = emptyState();
    for (const a of history) applyAlert(rebuilt, a, T0 + 3 * HOUR, config);
    // Rebuilt at once, the same three transitions, in one mail: the notification log finds them sent.
    const replayed = tick(rebuilt, T0 + 4 * HOUR, config, routing()).map(show);
    expect(liveMails).toEqual(['oncall@x.io lathe-1: FIRING:f1', 'oncall@x.io lathe-1: ESCALATED:CRITICAL:f1', 'oncall@x.io lathe-1: RESOLVED:f1']);
    expect(replayed).toEqual(['oncall@x.io lathe-1: FIRING:f1, ESCALATED:CRITICAL:f1, RESOLVED:f1']);
  });

  test('a sink restarted after the FIRING mail and before the RESOLVED one still decides the RESOLVED', () => {
    // Live: FIRING mailed; the RESOLVED arrives, and the sink dies before its next tick.
    const live = emptyState();
    applyAlert(live, fire, T0, config);
    expect(tick(live, T0 + 30 * S, config, routing()).map(show)).toEqual(['oncall@x.io lathe-1: FIRING:f1']);
    const resolved = alert({ at: T0 + 5 * HOUR, alertId: 'r1', status: 'RESOLVED' });
    applyAlert(live, resolved, T0 + 5 * HOUR, config);
    // Restarted: the state is rebuilt from the partition, FIRING and RESOLVED read in one go.
    const rebuilt = emptyState();
    for (const a of [fire, resolved]) applyAlert(rebuilt, a, T0 + 5 * HOUR + MIN, config);
    expect(tick(rebuilt, T0 + 5 * HOUR + 2 * MIN, config, routing()).map(show)).toEqual(['oncall@x.io lathe-1: FIRING:f1, RESOLVED:f1']);
  });

  test('a backlog read in one batch tells what reading it live would have told', () => {
    const backlog = [fire, alert({ at: T0 + HOUR, alertId: 'c1', severity: 'CRITICAL' }), alert({ at: T0 + 3 * HOUR, alertId: 'r1', status: 'RESOLVED' })];
    const state = emptyState();
    for (const a of backlog) applyAlert(state, a, T0 + 10 * HOUR, config);
    expect(tick(state, T0 + 10 * HOUR + 30 * S, config, routing()).map(show)).toEqual(['oncall@x.io lathe-1: FIRING:f1, ESCALATED:CRITICAL:f1, RESOLVED:f1']);
  });

  test.each([1, 2, 3, 4, 5, 6])('where the ticks fall does not change which transitions are told (history %i)', (seed) => {
    // Histories of three alerts on two machines: episodes with rises and repeats, an hour or more apart (windows are hourly).
    let x = seed;
    const random = () => (x = (x * 48271) % 2147483647) / 2147483647;
    const history: AlertEvent[] = [];
    const keys = [
      { machineId: 'lathe-1', dedupKey: 'lathe-1/tempA' },
      { machineId: 'lathe-1', dedupKey: 'lathe-1/current' },
      { machineId: 'pump-7', dedupKey: 'pump-7/current' },
    ];
    const firing = new Map<string, boolean>();
    for (let i = 0; i < 60; i++) {
      const key = keys[Math.floor(random() * keys.length)]!;
      const status = firing.get(key.dedupKey) && random() < 0.4 ? 'RESOLVED' : 'FIRING';
      firing.set(key.dedupKey, status === 'FIRING');
      const severity = (['INFO', 'WARNING', 'CRITICAL'] as const)[Math.floor(random() * 3)]!;
      history.push(alert({ at: T0 + i * HOUR, alertId: `x${i}`, status, severity, ...key }));
    }
    // Reminders, the age limit and the rate limit are about wall-clock time: out of the way here.
    const timeless: LifecycleConfig = { ...config, repeatIntervalMs: 1000 * HOUR, maxAgeMs: 1000 * HOUR, rateLimit: { count: 1000, windowMs: HOUR } };
    const told = (tickAfter: (i: number) => boolean) => {
      const state = emptyState();
      const out: string[] = [];
      const now = T0 + 100 * HOUR;
      history.forEach((a, i) => {
        applyAlert(state, a, now, timeless);
        if (tickAfter(i)) for (const m of tick(state, now + HOUR, timeless, routing())) out.push(...m.notifications.map((n) => `${m.recipient} ${n.dedupKey} ${n.transition}`));
      });
      for (const m of tick(state, now + HOUR, timeless, routing())) out.push(...m.notifications.map((n) => `${m.recipient} ${n.dedupKey} ${n.transition}`));
      return out.sort();
    };
    const everyRecord = told(() => true);
    expect(everyRecord.filter((t) => t.includes('RESOLVED')).length).toBeGreaterThan(0);
    expect(told(() => false)).toEqual(everyRecord);
    expect(told(() => random() < 0.3)).toEqual(everyRecord);
  });
});
