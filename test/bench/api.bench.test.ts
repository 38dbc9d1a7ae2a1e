import { FEATURES } from '../../schemas';
import { forecastPoints } from '../../schemas/assessments';
import { alertActionsTable } from '../../sinks/postgres/alert-control.rows';
import { assessmentRows, windowExtrasRows, windowFeaturesTable } from '../../sinks/postgres/postgres.rows';
import { actionsOf, alertsOf, assessmentOf, machineName, machinePlan, notificationRows, notificationsTable, windowOf } from '../../bench/api.fleet';
import { FORECAST_STEPS, HOUR, WARM_UP_WINDOWS, type FleetOptions } from '../../bench/api.fleet';
import { decodeCursor } from '../../api/validation';
import { columnsOf, formatTable, latencyFigures, percentile, probesFor, unnestInsert } from '../../bench/api.bench';

/** The pure parts of `pdmctl bench api`: the fleet it seeds and the figures it prints. */

const END = Date.UTC(2026, 11, 7, 12);
const fleet: FleetOptions = { machines: 10_000, hours: 168, endMs: END };
const plans = Array.from({ length: fleet.machines }, (_, m) => machinePlan(m, fleet));

describe('the seeded fleet', () => {
  test('10,000 machines: a week of windows each, but the new and the silent ones; the promised shares of extras, alerts, off', () => {
    expect(new Set(plans.map((p) => p.id)).size).toBe(10_000);
    expect(machineName(42)).toBe('press-00042');
    const count = (f: (p: (typeof plans)[number]) => boolean) => plans.filter(f).length;
    expect(count((p) => p.extras.length === 2)).toBe(1000);
    expect(count((p) => p.alerts === 'active')).toBe(200);
    expect(count((p) => p.alerts === 'resolved')).toBe(200);
    expect(count((p) => p.off)).toBe(200);
    expect(count((p) => p.windows === 12)).toBe(100);
    // Silent: their last window ended 6 hours before the fleet's.
    const silent = plans.filter((p) => p.fromMs + p.windows * HOUR < END);
    expect(silent).toHaveLength(50);
    expect(silent.every((p) => p.fromMs + p.windows * HOUR === END - 6 * HOUR && p.windows === 162)).toBe(true);
    expect(count((p) => p.windows === 168 && p.fromMs === END - 168 * HOUR)).toBe(10_000 - 100 - 50);
  });

  test('fewer hours than a new machine has: every machine has them all', () => {
    const short = machinePlan(29, { ...fleet, hours: 6 });
    expect(short).toMatchObject({ windows: 6, fromMs: END - 6 * HOUR });
  });

  test('a window is a row of window_features, with the two extras rows of a machine that has them, the same every time', () => {
    const plan = plans[3]!;
    const w = windowOf(plan, 10);
    expect(w).toMatchObject({ machineId: 'pump-00003', windowStart: plan.fromMs + 10 * HOUR, windowEnd: plan.fromMs + 11 * HOUR });
    expect(windowFeaturesTable.toRow(w)).toHaveLength(windowFeaturesTable.columns.length);
    expect(windowExtrasRows(w).map((r) => r[2])).toEqual(['flow', 'pressure']);
    expect(windowOf(plan, 10)).toEqual(w);
    expect(windowExtrasRows(windowOf(plans[0]!, 10))).toEqual([]);
  });

  test('assessments: warming up first, then both scores; the last carries a forecast; off and at-risk where planned', () => {
    const plan = plans[17]!; // off
    const warmingUp = expect.stringContaining('too little history');
    expect(assessmentOf(plan, 0)).toMatchObject({ warmingUp, anomaly: null, deviation: null, state: 'warming-up' });
    const scored = { warmingUp: null, state: 'ok', forecast: null, anomaly: { threshold: 7 }, deviation: { threshold: 1 } };
    expect(assessmentOf(plan, WARM_UP_WINDOWS)).toMatchObject(scored);
    const last = assessmentOf(plan, plan.windows - 1);
    expect(last.state).toBe('off');
    expect(last.forecast!.series.map((s) => s.mean.length)).toEqual(FEATURES.map(() => FORECAST_STEPS));
    expect(forecastPoints(last)[0]!.windowStart).toBe(last.windowEnd);
    const rows = assessmentRows(last);
    expect(rows.forecasts).toHaveLength(36);
    expect(assessmentOf(plans[5]!, plans[5]!.windows - 1)).toMatchObject({ state: 'at-risk' });
    expect(assessmentOf(plans[5]!, plans[5]!.windows - 11)).toMatchObject({ state: 'ok' });
  });

  test('alerts: an active machine\'s DEVIATION is firing last (escalated for half), its breach resolved; mails for each transition', () => {
    const escalated = alertsOf(plans[5]!);
    expect(escalated.map((a) => [a.kind, a.status, a.severity])).toEqual([
      ['FORECAST_BREACH', 'FIRING', 'WARNING'],
      ['FORECAST_BREACH', 'RESOLVED', 'WARNING'],
      ['DEVIATION', 'FIRING', 'WARNING'],
      ['DEVIATION', 'FIRING', 'CRITICAL'],
    ]);
    expect(escalated.map((a) => a.createdAt)).toEqual([60, 55, 10, 4].map((h) => END - h * HOUR));
    expect(alertsOf(plans[55]!)).toHaveLength(3);
    expect(alertsOf(plans[30]!).map((a) => a.status)).toEqual(['FIRING', 'RESOLVED']);
    expect(alertsOf(plans[0]!)).toEqual([]);
    const mails = notificationRows(escalated);
    expect(mails.map((r) => String(r[1]).split(':')[0])).toEqual(['FIRING', 'RESOLVED', 'FIRING', 'ESCALATED']);
    expect(mails.every((r) => r.length === notificationsTable.columns.length)).toBe(true);
  });

  test('actions: a quarter of the active alerts acknowledged, silences on now, over, ended early and to come; all valid rows', () => {
    const alerts = plans.flatMap(alertsOf);
    const actions = actionsOf(alerts, fleet);
    expect(actions.filter((a) => a.action === 'ACK')).toHaveLength(50);
    const silences = actions.filter((a) => a.action === 'SILENCE');
    const now = END + HOUR / 2;
    const ended = new Set(actions.filter((a) => a.action === 'UNSILENCE').map((a) => a.silenceId));
    expect(silences.filter((s) => s.startsAt! <= now && now < s.endsAt! && !ended.has(s.requestId))).toHaveLength(3);
    expect(new Set(actions.map((a) => a.requestId)).size).toBe(actions.length);
    for (const a of actions) expect(alertActionsTable.toRow(a)).toHaveLength(alertActionsTable.columns.length);
  });
});

describe('the figures', () => {
  test('nearest-rank percentiles, the rate over the wall time', () => {
    const latencies = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile([], 0.5)).toBeNaN();
    expect(percentile([7], 0.99)).toBe(7);
    expect(latencyFigures(latencies, 2000)).toEqual({ requests: 100, p50: 50, p95: 95, p99: 99, max: 100, perSecond: 50 });
  });

  test('a table: the first column to the left, the others to the right', () => {
    expect(formatTable(['request', 'p50 ms'], [['GET /fleet', '12'], ['GET /alerts?limit=100', '1,204']], '')).toEqual([
      'request                p50 ms',
      '---------------------  ------',
      'GET /fleet                 12',
      'GET /alerts?limit=100   1,204',
    ]);
  });

  test('an insert of rows as one array per column, typed as the table', () => {
    const types = new Map([
      ['a', 'text'],
      ['b', 'timestamp with time zone'],
    ]);
    expect(unnestInsert('s1', { table: 't', columns: ['a', 'b'], key: ['a'] }, types)).toBe(
      'INSERT INTO "s1"."t" ("a", "b") SELECT * FROM unnest($1::text[], $2::timestamp with time zone[])',
    );
    expect(() => unnestInsert('s1', { table: 't', columns: ['a', 'c'], key: ['a'] }, types)).toThrow('t.c: no such column');
    expect(columnsOf([['x', 1], ['y', null]], 2)).toEqual(['{"x","y"}', '{1,NULL}']);
    // Quotes, backslashes, commas, braces and the word NULL as text, as in a jsonb column's drivers.
    const texts = [['say "hi", \\o/ {NULL}'], ['[{"channel":"tempA.mean"}]']];
    expect(columnsOf(texts, 1)).toEqual(['{"say \\"hi\\", \\\\o/ {NULL}","[{\\"channel\\":\\"tempA.mean\\"}]"}']);
    expect(columnsOf([[0.1 + 0.2], [-1e-7]], 1)).toEqual(['{0.30000000000000004,-1e-7}']);
    expect(() => columnsOf([[Number.NaN]], 1)).toThrow('NaN is not a finite number');
    expect(() => columnsOf([['x']], 2)).toThrow('a row has 1 values for 2 columns');
  });

  test('the requests: a middle page by its cursor, a rare search, machines in turn, 30 days back from the last window', () => {
    const ids = plans.map((p) => p.id).sort();
    const probes = probesFor(ids, END);
    expect(probes).toHaveLength(12);
    const pathOf = (label: string, n = 0) => probes.find((p) => p.label.startsWith(label))!.pathOf(n);
    const cursor = new URLSearchParams(pathOf('GET /machines?limit=100&cursor').split('?')[1]).get('cursor')!;
    expect(decodeCursor('machines', cursor)).toEqual([ids[4999]]);
    const q = new URLSearchParams(pathOf('GET /machines?q=').split('?')[1]).get('q')!;
    expect(ids.filter((id) => id.includes(q)).length).toBeLessThan(20);
    expect(pathOf('GET /machines/<id>?limit=168', 0)).not.toBe(pathOf('GET /machines/<id>?limit=168', 1));
    expect(pathOf('GET /machines/<id>?limit=720')).toContain(`from=${new Date(END - 30 * 24 * HOUR).toISOString()}&to=${new Date(END).toISOString()}`);
  });
});
