import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { FleetView, MachineStateView, MachineSummary } from '../../../api/schemas';
import { getJson } from '../api';
import { Ago, Chips, Empty, Problem, Score, SeverityBadge, StateBadge, Time } from '../components/common';
import { useChanges, useDebounced, useLoad, useStore } from '../hooks';
import { authEpoch } from '../session';
import { emptyList, invalidate, itemAt, received, rowCount, wanted, complete, type PagedList, type PageRequest } from '../paged-list';
import { routeHash } from '../route';
import { mostSevere, STATE_INFO, STATES } from '../states';
import { scrollToRow, spacers, visibleRows } from '../windowing';

/**
 * The fleet: every machine with its state, active alerts and last window, filtered by state and
 * searched by id. Fast with ten thousand machines: GET /machines pages are fetched as the list
 * scrolls to them (paged-list.ts), and only the rows in view are in the DOM (windowing.ts).
 */

const ROW_HEIGHT = 34;
const PAGE_SIZE = 200;

type Machines = { machines: MachineSummary[]; nextCursor: string | null };

export function Fleet(props: { states: MachineStateView[]; q: string; navigate: (hash: string, replace?: boolean) => void }) {
  const { states, navigate } = props;
  const [search, setSearch] = useState(props.q);
  const q = useDebounced(search.trim(), 250);
  useEffect(() => {
    if (q !== props.q) navigate(routeHash({ view: 'fleet', states, q }), true);
  }, [q]);
  // Back and forward change the address: the box follows.
  useEffect(() => {
    if (props.q !== q) setSearch(props.q);
  }, [props.q]);

  const fleet = useLoad((signal) => getJson<FleetView>('/fleet', {}, signal), []);
  const estimate = useMemo(() => {
    if (!fleet.data || q) return undefined;
    return states.length === 0 ? fleet.data.machines : states.reduce((n, s) => n + (fleet.data!.byState[s] ?? 0), 0);
  }, [fleet.data, states, q]);

  return (
    <section class="view fleet" aria-labelledby="fleet-title">
      <header class="view-header">
        <h1 id="fleet-title">Fleet</h1>
        <FleetSummary fleet={fleet.data} />
      </header>
      <Problem error={fleet.error} what="GET /fleet" />
      <div class="toolbar">
        <label class="search">
          <span class="visually-hidden">Search machines by id</span>
          <input type="search" placeholder="Search by machine id…" value={search} onInput={(e) => setSearch(e.currentTarget.value)} />
        </label>
        <Chips
          label="Filter by state"
          values={STATES}
          selected={states}
          counts={fleet.data?.byState}
          classOf={(s) => `state-${s}`}
          labelOf={(s) => STATE_INFO[s].label}
          onChange={(selected) => navigate(routeHash({ view: 'fleet', states: STATES.filter((s) => selected.includes(s)), q }), true)}
        />
      </div>
      <MachineList
        key={`${q}|${states.join(',')}`}
        q={q}
        states={states}
        estimate={estimate}
        filtered={q !== '' || states.length > 0}
        onChange={fleet.reload}
      />
    </section>
  );
}

function FleetSummary({ fleet }: { fleet: FleetView | undefined }) {
  if (!fleet) return null;
  return (
    <dl class="summary">
      <div>
        <dt>machines</dt>
        <dd>{fleet.machines}</dd>
      </div>
      <div>
        <dt>active alerts</dt>
        <dd class={fleet.activeAlerts > 0 ? 'hot' : ''}>{fleet.activeAlerts}</dd>
      </div>
      <div>
        <dt>active silences</dt>
        <dd>{fleet.activeSilences}</dd>
      </div>
      <div>
        <dt>last window</dt>
        <dd>
          <Ago iso={fleet.lastWindowEnd} />
        </dd>
      </div>
    </dl>
  );
}

function MachineList(props: { q: string; states: MachineStateView[]; estimate: number | undefined; filtered: boolean; onChange: () => void }) {
  const { q, states } = props;
  const [list, setList] = useState<PagedList<MachineSummary>>(() => emptyList(PAGE_SIZE));
  const [error, setError] = useState<unknown>();
  const [view, setView] = useState({ scrollTop: 0, height: 600 });
  const scroller = useRef<HTMLDivElement>(null);
  const inFlight = useRef(new Set<string>());
  // A new key: what was refused is asked for again.
  const epoch = useStore(authEpoch);

  const total = rowCount(list, props.estimate);
  const range = visibleRows({ ...view, rowHeight: ROW_HEIGHT, total });

  useEffect(() => {
    for (const request of wanted(list, range.start, range.end)) {
      const id = `${request.index}|${request.cursor}|${list.generation}|${epoch}`;
      if (inFlight.current.has(id)) continue;
      inFlight.current.add(id);
      void fetchPage(request, list.generation).finally(() => inFlight.current.delete(id));
    }
  }, [list, range.start, range.end, epoch]);

  async function fetchPage(request: PageRequest, generation: number): Promise<void> {
    try {
      const page = await getJson<Machines>('/machines', { q: q || undefined, state: states.join(',') || undefined, limit: PAGE_SIZE, cursor: request.cursor });
      setList((l) => received(l, request, { items: page.machines, nextCursor: page.nextCursor }, generation));
      setError(undefined);
    } catch (err) {
      setError(err);
    }
  }

  useChanges(['windows', 'alerts', 'actions'], () => {
    props.onChange();
    setList(invalidate);
  });

  useEffect(() => followView(scroller.current!, setView), []);

  const { before, after } = spacers(range, ROW_HEIGHT, total);
  const rows = [];
  for (let i = range.start; i < range.end; i++) rows.push(<Row index={i} machine={itemAt(list, i)} key={i} />);
  const empty = complete(list) && total === 0;

  return (
    <div class="machine-list" role="table" aria-label="Machines" aria-rowcount={total}>
      <Problem error={error} what="GET /machines" />
      <div class="row head" role="row">
        <span role="columnheader">Machine</span>
        <span role="columnheader">State</span>
        <span role="columnheader">Active alerts</span>
        <span role="columnheader">Last window</span>
        <span role="columnheader" title="The fleet detector's anomaly score against its threshold">
          Anomaly
        </span>
        <span role="columnheader" title="How far from its own normal, against the threshold">
          Deviation
        </span>
        <span role="columnheader">Silence</span>
      </div>
      <div
        class="scroller"
        ref={scroller}
        onScroll={(e) => setView({ scrollTop: e.currentTarget.scrollTop, height: e.currentTarget.clientHeight })}
        onKeyDown={(e) => moveFocus(e, scroller.current!, total)}
        role="rowgroup"
      >
        {empty ? (
          <NoMachines filtered={props.filtered} />
        ) : (
          <div style={{ paddingTop: `${before}px`, paddingBottom: `${after}px` }}>{rows}</div>
        )}
      </div>
    </div>
  );
}

/** Tells `setView` the scroller's position and height now and whenever it is resized; returns the unsubscribe. */
function followView(el: HTMLDivElement, setView: (view: { scrollTop: number; height: number }) => void): () => void {
  const measure = () => setView({ scrollTop: el.scrollTop, height: el.clientHeight });
  measure();
  const resize = new ResizeObserver(measure);
  resize.observe(el);
  return () => resize.disconnect();
}

/** Arrow keys move between rows (the list scrolls to keep the focused one in view); Home and End jump. */
function moveFocus(e: KeyboardEvent, el: HTMLDivElement, total: number): void {
  const row = (e.target as HTMLElement).closest<HTMLElement>('[data-row]');
  if (!row) return;
  const index = Number(row.dataset.row);
  const next = e.key === 'ArrowDown' ? index + 1 : e.key === 'ArrowUp' ? index - 1 : e.key === 'Home' ? 0 : e.key === 'End' ? total - 1 : undefined;
  if (next === undefined || next < 0 || next >= total) return;
  e.preventDefault();
  el.scrollTop = scrollToRow(next, { scrollTop: el.scrollTop, height: el.clientHeight - ROW_HEIGHT, rowHeight: ROW_HEIGHT });
  // The row may not be rendered yet: focus it once the scroll has rendered it.
  requestAnimationFrame(() => requestAnimationFrame(() => el.querySelector<HTMLElement>(`[data-row="${next}"]`)?.focus()));
}

/** What an empty machine list says: nothing matches the filters, or no machine has reported yet. */
function NoMachines({ filtered }: { filtered: boolean }) {
  return filtered ? (
    <Empty>No machine matches this search or these states. Clear the search box or the state chips to see the whole fleet.</Empty>
  ) : (
    <Empty>
      No machines yet: start simulated machines with <code>npx pdmctl simulate --machines 10 --speed realtime</code> (or everything at once with{' '}
      <code>npm start</code>). Each appears here after its first window closes.
    </Empty>
  );
}

function Row({ index, machine }: { index: number; machine: MachineSummary | undefined }) {
  if (!machine) {
    return (
      <div class="row loading" role="row" aria-rowindex={index + 1}>
        <span role="cell" class="muted">
          loading…
        </span>
      </div>
    );
  }
  const a = machine.latestAssessment;
  const worst = mostSevere(machine.activeAlerts);
  const href = routeHash({ view: 'machine', machineId: machine.machineId, range: '7d' });
  return (
    // The id is the row's link (Tab and the arrow keys move between them); a click anywhere on the row follows it.
    <div
      class="row link-row"
      role="row"
      data-testid="machine-row"
      data-machine-id={machine.machineId}
      aria-rowindex={index + 1}
      onClick={(e) => {
        if (!(e.target as HTMLElement).closest('a')) location.hash = href;
      }}
    >
      <span role="cell" class="id">
        <a href={href} data-row={index}>
          {machine.machineId}
        </a>
      </span>
      <span role="cell">
        <StateBadge state={machine.state} />
      </span>
      <span role="cell">
        {machine.activeAlerts.length === 0 ? (
          <span class="muted">none</span>
        ) : (
          <>
            <SeverityBadge severity={worst!.severity} /> {machine.activeAlerts.length} · {worst!.kind.toLowerCase()}
            {worst!.feature ? ` (${worst!.feature})` : ''}
          </>
        )}
      </span>
      <span role="cell">
        <Ago iso={machine.lastWindow.windowEnd} />
      </span>
      <span role="cell" class="num">
        {a?.anomaly ? <Score score={a.anomaly.score} threshold={a.anomaly.threshold} /> : <span class="muted">—</span>}
      </span>
      <span role="cell" class="num">
        {a?.deviation ? <Score score={a.deviation.score} threshold={a.deviation.threshold} /> : <span class="muted">—</span>}
      </span>
      <span role="cell">
        {machine.silence ? (
          <span class="badge silenced" title={machine.silence.reason ?? ''}>
            silenced until <Time iso={machine.silence.endsAt} />
          </span>
        ) : null}
      </span>
    </div>
  );
}
