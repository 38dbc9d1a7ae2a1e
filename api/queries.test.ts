import { alertsFilter, ApiQueries, databaseUnavailable, FLEET_CACHE_MS } from './queries';
import type { FleetView } from './schemas';

describe('alertsFilter', () => {
  test('no filter: no WHERE', () => {
    expect(alertsFilter({})).toEqual({ where: '', values: [] });
  });

  test('each filter is a bound parameter; the range is [from, to); the cursor continues after its row in (createdAt, alertId) order', () => {
    const { where, values } = alertsFilter({
      status: ['FIRING'],
      severity: ['WARNING', 'CRITICAL'],
      machine: ['lathe-1'],
      kind: ['ANOMALY'],
      from: Date.UTC(2026, 0, 1),
      to: Date.UTC(2026, 1, 1),
      cursor: ['2026-01-05T08:00:00.123456Z', "a'1"],
    });
    expect(where).toBe(
      'WHERE status = ANY($1::text[]) AND severity = ANY($2::text[]) AND machine_id = ANY($3::text[]) AND kind = ANY($4::text[]) ' +
        'AND created_at >= $5::timestamptz AND created_at < $6::timestamptz AND (created_at, alert_id) < ($7::timestamptz, $8::text)',
    );
    expect(values).toEqual([['FIRING'], ['WARNING', 'CRITICAL'], ['lathe-1'], ['ANOMALY'], '2026-01-01T00:00:00.000Z', '2026-02-01T00:00:00.000Z', '2026-01-05T08:00:00.123456Z', "a'1"]);
  });
});

describe('databaseUnavailable', () => {
  test.each([
    [{ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:15433' }, true],
    [{ code: '57P01', message: 'terminating connection due to administrator command' }, true],
    [{ code: '57014', message: 'canceling statement due to statement timeout' }, true],
    [{ code: '40001', message: 'canceling statement due to conflict with recovery' }, true],
    [{ code: '08006', message: 'connection failure' }, true],
    [{ code: '53300', message: 'too many connections' }, true],
    [new Error('timeout exceeded when trying to connect'), true],
    [new Error('Connection terminated unexpectedly'), true],
    [{ code: '42P01', message: 'relation "pdm.alerts" does not exist' }, false],
    [{ code: '42601', message: 'syntax error' }, false],
    [{ code: '22007', message: 'invalid input syntax for type timestamp' }, false],
    [new TypeError('x is undefined'), false],
  ])('%j: %s', (err, unavailable) => {
    expect(databaseUnavailable(err)).toBe(unavailable);
  });
});

describe('ApiQueries.fleet: a count reused for FLEET_CACHE_MS, then the previous one served while the next runs', () => {
  const fleetAt = (machines: number) => ({ machines }) as unknown as FleetView;
  const deferred = () => {
    let resolve!: (v: FleetView) => void;
    let reject!: (e: Error) => void;
    const promise = new Promise<FleetView>((res, rej) => ((resolve = res), (reject = rej)));
    return { promise, resolve, reject };
  };

  test('the first request waits; the next ones within the interval do not count again; past it, the old count while the new one runs', async () => {
    let now = 0;
    const queries = new ApiQueries({ query: async () => ({ rows: [] }) }, 'pdm', () => now);
    const counts: Array<ReturnType<typeof deferred>> = [];
    const count = jest.spyOn(queries as unknown as { countFleet(nowMs: number): Promise<FleetView> }, 'countFleet').mockImplementation(() => {
      counts.push(deferred());
      return counts[counts.length - 1]!.promise;
    });
    const first = queries.fleet();
    counts[0]!.resolve(fleetAt(1));
    expect(await first).toEqual(fleetAt(1));
    now = FLEET_CACHE_MS - 1;
    expect(await queries.fleet()).toEqual(fleetAt(1));
    expect(count).toHaveBeenCalledTimes(1);

    now = FLEET_CACHE_MS;
    expect(await queries.fleet()).toEqual(fleetAt(1));
    expect(await queries.fleet()).toEqual(fleetAt(1));
    expect(count).toHaveBeenCalledTimes(2);
    counts[1]!.resolve(fleetAt(2));
    await new Promise((resolve) => setImmediate(resolve));
    expect(await queries.fleet()).toEqual(fleetAt(2));

    // A failed count: the previous one is still served, and the next request tries again.
    now = 3 * FLEET_CACHE_MS;
    expect(await queries.fleet()).toEqual(fleetAt(2));
    counts[2]!.reject(new Error('the follower is away'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(await queries.fleet()).toEqual(fleetAt(2));
    expect(count).toHaveBeenCalledTimes(4);
  });

  test('without a previous count a failure reaches the request', async () => {
    const queries = new ApiQueries({ query: async () => ({ rows: [] }) }, 'pdm', () => 0);
    jest.spyOn(queries as unknown as { countFleet(nowMs: number): Promise<FleetView> }, 'countFleet').mockRejectedValue(new Error('the follower is away'));
    await expect(queries.fleet()).rejects.toThrow('the follower is away');
  });
});
