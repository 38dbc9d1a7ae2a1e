import { alertsFilter, databaseUnavailable } from './queries';

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
