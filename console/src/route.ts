import type { MachineStateView } from '../../api/schemas';
import { isState } from './states';

/**
 * The console's three views as hash routes, with their filters in the hash's query so a view can
 * be linked and survives a reload. Pure: `parseRoute(location.hash)` and `routeHash(route)` are
 * inverses for every route the console makes.
 *
 *   #/                                 fleet          ?state=at-risk,silent&q=pump
 *   #/machines/<id>                    one machine    ?range=7d
 *   #/alerts                           alerts         ?status=FIRING&severity=CRITICAL&kind=DEVIATION&machine=pump-1&range=24h
 *                                                      (or &from=<ISO>&to=<ISO> for a range of one's own)
 */

export const RANGES = ['24h', '7d', '30d'] as const;
export type RangeKey = (typeof RANGES)[number];
export const RANGE_MS: Readonly<Record<RangeKey, number>> = { '24h': 86_400_000, '7d': 7 * 86_400_000, '30d': 30 * 86_400_000 };
export const DEFAULT_MACHINE_RANGE: RangeKey = '7d';

export interface AlertFilters {
  status: string[];
  severity: string[];
  kind: string[];
  machine: string[];
  /** A preset (counted back from now), or 'all'; `from`/`to` (ISO) when it is 'custom'. */
  range: RangeKey | 'all' | 'custom';
  from?: string;
  to?: string;
}

export type Route =
  | { view: 'fleet'; states: MachineStateView[]; q: string }
  | { view: 'machine'; machineId: string; range: RangeKey }
  | { view: 'alerts'; filters: AlertFilters }
  | { view: 'not-found'; hash: string };

export const EMPTY_ALERT_FILTERS: AlertFilters = { status: [], severity: [], kind: [], machine: [], range: 'all' };

const isRange = (text: string | null): text is RangeKey => (RANGES as readonly string[]).includes(text ?? '');
const list = (params: URLSearchParams, name: string): string[] =>
  (params.get(name) ?? '')
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '');

function decode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

export function parseRoute(hash: string): Route {
  const text = hash.replace(/^#/, '') || '/';
  const q = text.indexOf('?');
  const path = q < 0 ? text : text.slice(0, q);
  const params = new URLSearchParams(q < 0 ? '' : text.slice(q + 1));
  if (path === '/' || path === '') return { view: 'fleet', states: list(params, 'state').filter(isState), q: params.get('q') ?? '' };
  const machine = /^\/machines\/([^/]+)\/?$/.exec(path);
  if (machine) {
    const machineId = decode(machine[1]!);
    if (machineId !== undefined) {
      const range = params.get('range');
      return { view: 'machine', machineId, range: isRange(range) ? range : DEFAULT_MACHINE_RANGE };
    }
  }
  if (path === '/alerts' || path === '/alerts/') {
    const range = params.get('range');
    const from = params.get('from') ?? undefined;
    const to = params.get('to') ?? undefined;
    const filters: AlertFilters = {
      status: list(params, 'status'),
      severity: list(params, 'severity'),
      kind: list(params, 'kind'),
      machine: list(params, 'machine'),
      range: isRange(range) || range === 'all' ? range : from || to ? 'custom' : 'all',
      ...(from ? { from } : {}),
      ...(to ? { to } : {}),
    };
    return { view: 'alerts', filters };
  }
  return { view: 'not-found', hash };
}

function withQuery(path: string, entries: Array<[string, string | undefined]>): string {
  const params = new URLSearchParams();
  for (const [name, value] of entries) if (value) params.set(name, value);
  // Commas and colons read better unescaped in an address bar, and URLSearchParams reads them back either way.
  const query = params.toString().replace(/%2C/g, ',').replace(/%3A/g, ':');
  return `#${path}${query ? `?${query}` : ''}`;
}

export function routeHash(route: Route): string {
  switch (route.view) {
    case 'fleet':
      return withQuery('/', [
        ['state', route.states.join(',')],
        ['q', route.q],
      ]);
    case 'machine':
      return withQuery(`/machines/${encodeURIComponent(route.machineId)}`, [['range', route.range === DEFAULT_MACHINE_RANGE ? undefined : route.range]]);
    case 'alerts': {
      const f = route.filters;
      return withQuery('/alerts', [
        ['status', f.status.join(',')],
        ['severity', f.severity.join(',')],
        ['kind', f.kind.join(',')],
        ['machine', f.machine.join(',')],
        ['range', f.range === 'all' || f.range === 'custom' ? undefined : f.range],
        ['from', f.range === 'custom' ? f.from : undefined],
        ['to', f.range === 'custom' ? f.to : undefined],
      ]);
    }
    case 'not-found':
      return route.hash;
  }
}

/** GET /alerts' query for `filters`, a preset range counted back from `nowMs`. */
export function alertsQuery(filters: AlertFilters, nowMs: number): Record<string, string | undefined> {
  let from: string | undefined;
  let to: string | undefined;
  if (isRange(filters.range)) from = new Date(nowMs - RANGE_MS[filters.range]).toISOString();
  else if (filters.range === 'custom') {
    from = filters.from;
    to = filters.to;
  }
  return {
    status: filters.status.join(',') || undefined,
    severity: filters.severity.join(',') || undefined,
    kind: filters.kind.join(',') || undefined,
    machine: filters.machine.join(',') || undefined,
    from,
    to,
  };
}

/** `path` with the defined, non-empty `params` as its query string. */
export function withParams(path: string, params: Record<string, string | number | undefined | null> = {}): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined && value !== null && value !== '') search.set(name, String(value));
  const query = search.toString().replace(/%2C/g, ',');
  return query ? `${path}?${query}` : path;
}
