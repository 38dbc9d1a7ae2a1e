import { alertsQuery, EMPTY_ALERT_FILTERS, parseRoute, routeHash, withParams, type Route } from './route';

describe('routes', () => {
  it.each<[string, Route]>([
    ['', { view: 'fleet', states: [], q: '' }],
    ['#/', { view: 'fleet', states: [], q: '' }],
    ['#/?state=at-risk,silent&q=pump', { view: 'fleet', states: ['at-risk', 'silent'], q: 'pump' }],
    ['#/machines/pump-3', { view: 'machine', machineId: 'pump-3', range: '7d' }],
    ['#/machines/line%3A4.press?range=30d', { view: 'machine', machineId: 'line:4.press', range: '30d' }],
    ['#/alerts', { view: 'alerts', filters: EMPTY_ALERT_FILTERS }],
    [
      '#/alerts?status=FIRING&severity=CRITICAL,WARNING&kind=DEVIATION&machine=pump-1,pump-2&range=24h',
      { view: 'alerts', filters: { status: ['FIRING'], severity: ['CRITICAL', 'WARNING'], kind: ['DEVIATION'], machine: ['pump-1', 'pump-2'], range: '24h' } },
    ],
    ['#/alerts?from=2026-01-01T00:00:00.000Z', { view: 'alerts', filters: { ...EMPTY_ALERT_FILTERS, range: 'custom', from: '2026-01-01T00:00:00.000Z' } }],
  ])('%s', (hash, route) => {
    expect(parseRoute(hash)).toEqual(route);
    expect(parseRoute(routeHash(route))).toEqual(route);
  });

  it('drops states it does not know and a range it does not offer', () => {
    expect(parseRoute('#/?state=at-risk,broken')).toEqual({ view: 'fleet', states: ['at-risk'], q: '' });
    expect(parseRoute('#/machines/m1?range=1y')).toEqual({ view: 'machine', machineId: 'm1', range: '7d' });
  });

  it('says so for an address it has no view for', () => {
    expect(parseRoute('#/nowhere')).toEqual({ view: 'not-found', hash: '#/nowhere' });
    expect(parseRoute('#/machines/%E0%A4%A')).toEqual({ view: 'not-found', hash: '#/machines/%E0%A4%A' });
  });

  it('writes short, readable hashes', () => {
    expect(routeHash({ view: 'fleet', states: ['at-risk', 'silent'], q: '' })).toBe('#/?state=at-risk,silent');
    expect(routeHash({ view: 'machine', machineId: 'pump-3', range: '7d' })).toBe('#/machines/pump-3');
    expect(routeHash({ view: 'alerts', filters: EMPTY_ALERT_FILTERS })).toBe('#/alerts');
  });
});

describe('alertsQuery', () => {
  const now = Date.parse('2026-01-05T12:00:00Z');

  it('counts a preset range back from now and joins lists with commas', () => {
    expect(alertsQuery({ ...EMPTY_ALERT_FILTERS, status: ['FIRING'], machine: ['a', 'b'], range: '24h' }, now)).toEqual({
      status: 'FIRING',
      severity: undefined,
      kind: undefined,
      machine: 'a,b',
      from: '2026-01-04T12:00:00.000Z',
      to: undefined,
    });
  });

  it("passes a range of one's own as it is, and no range for all", () => {
    expect(alertsQuery({ ...EMPTY_ALERT_FILTERS, range: 'custom', from: '2026-01-01T00:00:00Z', to: '2026-01-02T00:00:00Z' }, now)).toMatchObject({
      from: '2026-01-01T00:00:00Z',
      to: '2026-01-02T00:00:00Z',
    });
    expect(alertsQuery(EMPTY_ALERT_FILTERS, now)).toMatchObject({ from: undefined, to: undefined });
  });
});

describe('withParams', () => {
  it('leaves out what is not given', () => {
    expect(withParams('/machines', { q: '', state: 'ok,off', limit: 200, cursor: undefined })).toBe('/machines?state=ok,off&limit=200');
    expect(withParams('/fleet')).toBe('/fleet');
  });
});
