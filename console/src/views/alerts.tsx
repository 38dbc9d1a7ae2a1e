import { useEffect, useMemo, useState } from 'preact/hooks';
import type { AlertView } from '../../../api/schemas';
import { getJson } from '../api';
import { supersededFirings } from '../alerts';
import { ActionList } from '../components/actions';
import { AlertRow } from '../components/alert-row';
import { Chips, Empty, Problem } from '../components/common';
import { SilenceForm, SilenceList } from '../components/silences';
import { fromLocalInput, toLocalInput, toMs } from '../format';
import { useChanges, useLoad } from '../hooks';
import { alertsQuery, EMPTY_ALERT_FILTERS, RANGES, routeHash, type AlertFilters } from '../route';
import { KINDS, SEVERITIES, severityClass, STATUSES, statusClass } from '../states';
import { settleAcks } from '../writes';

/**
 * Alerts: the transitions with their filters (kept in the address), each with its
 * acknowledgement and the mails sent about it; beside them the silences (and a form to add one)
 * and the recorded actions.
 */

type AlertsPage = { alerts: AlertView[]; nextCursor: string | null };
const PAGE = 100;
const MAX_LIMIT = 1000;

export function Alerts({ filters, navigate }: { filters: AlertFilters; navigate: (hash: string, replace?: boolean) => void }) {
  const set = (change: Partial<AlertFilters>) => navigate(routeHash({ view: 'alerts', filters: { ...filters, ...change } }), true);
  const [limit, setLimit] = useState(PAGE);
  const key = JSON.stringify(filters);
  useEffect(() => setLimit(PAGE), [key]);
  // A preset range counts back from when the filters were set (and from each live refetch).
  const alerts = useLoad((signal) => getJson<AlertsPage>('/alerts', { ...alertsQuery(filters, Date.now()), limit }, signal), [key, limit]);
  useChanges(['alerts', 'actions'], alerts.reload);
  const list = alerts.data?.alerts ?? [];
  const over = useMemo(() => supersededFirings(list), [list]);
  useEffect(() => settleAcks(list), [list]);
  const filtered = key !== JSON.stringify(EMPTY_ALERT_FILTERS);

  return (
    <section class="view alerts" aria-labelledby="alerts-title">
      <header class="view-header">
        <h1 id="alerts-title">Alerts</h1>
        {filtered ? (
          <button type="button" class="small" onClick={() => navigate(routeHash({ view: 'alerts', filters: EMPTY_ALERT_FILTERS }), true)}>
            Clear filters
          </button>
        ) : null}
      </header>
      <div class="columns">
        <div class="grow">
          <Filters filters={filters} set={set} />
          <Problem error={alerts.error} what="GET /alerts" />
          <ol class="plain alert-list" aria-label="Alert transitions, newest first">
            {list.map((a) => (
              <AlertRow alert={a} over={over.has(a.alertId)} key={a.alertId} />
            ))}
          </ol>
          {alerts.data && list.length === 0 ? (
            <Empty>
              {filtered
                ? 'No alert transition matches these filters.'
                : 'No alert yet: alerts appear here when a machine deviates from its normal, its forecast crosses a limit, or the fleet detector flags it.'}
            </Empty>
          ) : null}
          {alerts.data?.nextCursor ? (
            limit < MAX_LIMIT ? (
              <button type="button" class="more" onClick={() => setLimit((n) => Math.min(MAX_LIMIT, n + PAGE * 2))}>
                Show more
              </button>
            ) : (
              <p class="muted">Showing the newest {MAX_LIMIT}: narrow the filters or the range to see older ones.</p>
            )
          ) : null}
        </div>
        <aside class="side">
          <div class="panel">
            <h2>Silence</h2>
            <SilenceForm />
          </div>
          <div class="panel">
            <h2>Silences</h2>
            <SilenceList />
          </div>
          <div class="panel">
            <h2>Recorded actions</h2>
            <ActionList />
          </div>
        </aside>
      </div>
    </section>
  );
}

function Filters({ filters, set }: { filters: AlertFilters; set: (change: Partial<AlertFilters>) => void }) {
  const [machines, setMachines] = useState(filters.machine.join(', '));
  useEffect(() => setMachines(filters.machine.join(', ')), [filters.machine.join(',')]);
  const applyMachines = () =>
    set({
      machine: machines
        .split(/[\s,]+/)
        .map((m) => m.trim())
        .filter(Boolean),
    });
  return (
    <div class="filters" role="search" aria-label="Filter alerts">
      <Chips
        showLabel
        label="Status"
        values={STATUSES}
        selected={filters.status as (typeof STATUSES)[number][]}
        onChange={(status) => set({ status })}
        classOf={statusClass}
        labelOf={(s) => s.toLowerCase()}
      />
      <Chips
        showLabel
        label="Severity"
        values={SEVERITIES}
        selected={filters.severity as (typeof SEVERITIES)[number][]}
        onChange={(severity) => set({ severity })}
        classOf={severityClass}
        labelOf={(s) => s.toLowerCase()}
      />
      <Chips
        showLabel
        label="Kind"
        values={KINDS}
        selected={filters.kind as (typeof KINDS)[number][]}
        onChange={(kind) => set({ kind })}
        labelOf={(k) => k.toLowerCase().replace('_', ' ')}
      />
      <form
        class="inline"
        onSubmit={(e) => {
          e.preventDefault();
          applyMachines();
        }}
      >
        <label>
          <span class="visually-hidden">Machines (ids, comma-separated)</span>
          <input
            type="search"
            placeholder="machine ids, comma-separated"
            value={machines}
            onInput={(e) => setMachines(e.currentTarget.value)}
            onBlur={applyMachines}
          />
        </label>
      </form>
      <RangeSelect range={filters.range} set={set} />
      {filters.range === 'custom' ? (
        <>
          <BoundInput label="from" iso={filters.from} onChange={(from) => set({ from })} />
          <BoundInput label="to" iso={filters.to} onChange={(to) => set({ to })} />
        </>
      ) : null}
    </div>
  );
}

/** The filters' time range: a preset counted back from now, any time, or from … to …. */
function RangeSelect({ range, set }: { range: AlertFilters['range']; set: (change: Partial<AlertFilters>) => void }) {
  return (
    <label>
      <span class="visually-hidden">Time range</span>
      <select value={range} onChange={(e) => set({ range: e.currentTarget.value as AlertFilters['range'] })}>
        <option value="all">any time</option>
        {RANGES.map((r) => (
          <option value={r} key={r}>
            last {r}
          </option>
        ))}
        <option value="custom">from … to …</option>
      </select>
    </label>
  );
}

/** One end of a custom range: the time `iso` in the browser's zone, handed back as ISO (undefined when cleared). */
function BoundInput({ label, iso, onChange }: { label: string; iso: string | undefined; onChange: (iso: string | undefined) => void }) {
  const ms = toMs(iso);
  return (
    <label>
      {label}{' '}
      <input
        type="datetime-local"
        value={ms === null ? '' : toLocalInput(ms)}
        onChange={(e) => {
          const picked = fromLocalInput(e.currentTarget.value);
          onChange(picked === null ? undefined : new Date(picked).toISOString());
        }}
      />
    </label>
  );
}
