import { useEffect, useMemo, useState } from 'preact/hooks';
import type uPlot from 'uplot';
import type { AssessmentPoint, MachineDetail, WindowView } from '../../../api/schemas';
import { allPages, getJson } from '../api';
import { ActionList } from '../components/actions';
import { AlertRow, Drivers } from '../components/alert-row';
import { Chart, chartGroup, type ChartGroup } from '../components/chart';
import { Ago, Empty, Problem, Score, StateBadge, Time } from '../components/common';
import { SilenceForm, SilenceList } from '../components/silences';
import { formatLocal, formatNumber } from '../format';
import { useChanges, useLoad, useStore } from '../hooks';
import { RANGE_MS, RANGES, routeHash, type RangeKey } from '../route';
import { alertMarkers, channelSeries, channelsOf, machineGrid, scoreSeries, windowLengthMs } from '../series';
import { settleAcks } from '../writes';

/**
 * One machine: a chart per channel (hourly mean, min–max band, the latest forecast with its
 * interval, the machine's limits), its anomaly and deviation scores against their thresholds,
 * its alert timeline (markers on the charts, and the list with what drove each), and the two
 * actions an operator takes here: acknowledge the active alert, silence the machine.
 *
 * The range counts back from the machine's own last window (not from the wall clock), so a
 * machine replayed from history or silent for a while still shows its data.
 */

interface Loaded {
  detail: MachineDetail;
  windows: WindowView[];
  assessments: AssessmentPoint[];
  fromMs: number;
  toMs: number;
}

const PAGE = 1000;

async function loadMachine(machineId: string, range: RangeKey, signal: AbortSignal): Promise<Loaded> {
  const path = `/machines/${encodeURIComponent(machineId)}`;
  const detail = await getJson<MachineDetail>(path, { limit: 1 }, signal);
  const toMs = Date.parse(detail.lastWindow.windowEnd);
  const fromMs = toMs - RANGE_MS[range];
  const span = { from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString(), limit: PAGE };
  const [windows, assessments] = await Promise.all([
    allPages(async (cursor) => {
      const page = await getJson<MachineDetail>(path, { ...span, cursor }, signal);
      return { items: page.windows, nextCursor: page.nextCursor };
    }),
    allPages(async (cursor) => {
      const page = await getJson<{ assessments: AssessmentPoint[]; nextCursor: string | null }>(`${path}/assessments`, { ...span, cursor }, signal);
      return { items: page.assessments, nextCursor: page.nextCursor };
    }),
  ]);
  return { detail, windows, assessments, fromMs, toMs };
}

export function Machine({ machineId, range }: { machineId: string; range: RangeKey }) {
  const group = useMemo(chartGroup, [machineId]);
  const loaded = useLoad((signal) => loadMachine(machineId, range, signal), [machineId, range]);
  useChanges(['windows', 'alerts', 'actions'], loaded.reload, 800);
  const detail = loaded.data?.detail;
  useEffect(() => {
    if (detail) settleAcks([...detail.alerts, ...detail.activeAlerts]);
  }, [detail]);
  useEffect(() => group.zoom.set(null), [range, group]);
  const [silencing, setSilencing] = useState(false);

  return (
    <section class="view machine" aria-labelledby="machine-title">
      <header class="view-header">
        <a href="#/" class="back">
          ← Fleet
        </a>
        <h1 id="machine-title" class="id">
          {machineId}
        </h1>
        {detail ? <StateBadge state={detail.state} /> : null}
        {detail ? (
          <span class="muted">
            last window <Ago iso={detail.lastWindow.windowEnd} />
          </span>
        ) : null}
        {/* Why a model cannot assess it yet (the reason says which); beside a state other than warming-up, its own detector watches it meanwhile. */}
        {detail?.latestAssessment?.warmingUp ? <span class="muted">· {detail.latestAssessment.warmingUp}</span> : null}
        <span class="spacer" />
        <button type="button" onClick={() => setSilencing((s) => !s)} aria-expanded={silencing}>
          Silence this machine…
        </button>
      </header>
      {silencing ? (
        <div class="panel">
          <h2>
            Silence <span class="id">{machineId}</span>
          </h2>
          <SilenceForm machine={machineId} />
        </div>
      ) : null}
      <Problem error={loaded.error} what={`GET /machines/${machineId}`} />
      {loaded.loading && !loaded.data ? <p class="muted">loading…</p> : null}
      {loaded.error && !loaded.data ? null : <MachineBody machineId={machineId} range={range} loaded={loaded.data} group={group} />}
    </section>
  );
}

function MachineBody(props: { machineId: string; range: RangeKey; loaded: Loaded | undefined; group: ChartGroup }) {
  const { machineId, range, group } = props;
  const detail = props.loaded?.detail;
  const zoom = useStore(group.zoom);
  return (
    <>
      {detail?.silence ? (
        <p class="banner silenced">
          Silenced{detail.silence.kind ? ` for ${detail.silence.kind}` : ''} until <Time iso={detail.silence.endsAt} /> by {detail.silence.by}
          {detail.silence.reason ? `: ${detail.silence.reason}` : ''}. Its alerts are still raised and listed; their mail is held.
        </p>
      ) : null}
      {detail && detail.activeAlerts.length > 0 ? (
        <div class="panel active-alerts">
          <h2>Active alerts</h2>
          <ul class="plain">
            {detail.activeAlerts.map((a) => (
              <AlertRow alert={a} showMachine={false} key={a.alertId} />
            ))}
          </ul>
        </div>
      ) : null}
      <div class="toolbar">
        <div class="chips" role="group" aria-label="Range">
          {RANGES.map((r) => (
            <a class="chip" href={routeHash({ view: 'machine', machineId, range: r })} aria-pressed={r === range} role="button" key={r}>
              {r}
            </a>
          ))}
        </div>
        {zoom ? (
          <button type="button" onClick={() => group.zoom.set(null)}>
            Reset zoom
          </button>
        ) : (
          <span class="muted small">drag across a chart to zoom; double-click to zoom out</span>
        )}
        <span class="spacer" />
        <Legend />
      </div>
      {props.loaded ? <Charts loaded={props.loaded} group={group} /> : null}
      {detail ? <Timeline detail={detail} /> : null}
      <div class="columns">
        <div class="panel">
          <h2>
            Silences covering <span class="id">{machineId}</span>
          </h2>
          <SilenceList machine={machineId} hint="To silence it for maintenance: “Silence this machine…” above." />
        </div>
        <div class="panel">
          <h2>Recorded actions</h2>
          <ActionList machine={machineId} pageSize={10} />
        </div>
      </div>
    </>
  );
}

function Legend() {
  return (
    <ul class="legend" aria-label="Legend">
      <li>
        <i class="key mean" /> mean
      </li>
      <li>
        <i class="key band" /> min–max
      </li>
      <li>
        <i class="key forecast" /> forecast &amp; interval
      </li>
      <li>
        <i class="key limit" /> limits
      </li>
      <li>
        <i class="key marker" /> alert (dashed: resolved)
      </li>
    </ul>
  );
}

const COLOURS = {
  mean: '#3274d9',
  band: 'rgba(50,116,217,0.16)',
  edge: 'rgba(50,116,217,0.35)',
  forecast: '#f08c00',
  forecastBand: 'rgba(240,140,0,0.18)',
  limit: '#e03131',
  score: '#7048e8',
};

/** The series of a channel chart, in channelSeries' column order. */
const hidden = { show: false };
const CHANNEL_SERIES: uPlot.Series[] = [
  { label: 'mean', stroke: COLOURS.mean, width: 1.5, spanGaps: false, points: { size: 4, fill: COLOURS.mean } },
  { label: 'min', stroke: COLOURS.edge, width: 0.5, spanGaps: false, points: hidden },
  { label: 'max', stroke: COLOURS.edge, width: 0.5, spanGaps: false, points: hidden },
  { label: 'forecast', stroke: COLOURS.forecast, width: 1.5, dash: [5, 3], points: { size: 4, fill: COLOURS.forecast } },
  { label: 'forecast lower', stroke: 'transparent', width: 0, points: hidden },
  { label: 'forecast upper', stroke: 'transparent', width: 0, points: hidden },
  { label: 'limit low', stroke: COLOURS.limit, width: 1, dash: [2, 3], points: hidden },
  { label: 'limit high', stroke: COLOURS.limit, width: 1, dash: [2, 3], points: hidden },
];
const CHANNEL_BANDS: uPlot.Band[] = [
  { series: [3, 2], fill: COLOURS.band },
  { series: [6, 5], fill: COLOURS.forecastBand },
];
const SCORE_SERIES: uPlot.Series[] = [
  { label: 'score', stroke: COLOURS.score, width: 1.5, spanGaps: false, points: { size: 4, fill: COLOURS.score } },
  { label: 'threshold', stroke: COLOURS.limit, width: 1, dash: [4, 3], spanGaps: true, points: hidden },
];

function Charts({ loaded, group }: { loaded: Loaded; group: ChartGroup }) {
  const { windows, assessments, detail, fromMs, toMs } = loaded;
  const built = useMemo(() => {
    const windowMs = windowLengthMs(windows.length > 0 ? windows : [detail.lastWindow]);
    const grid = machineGrid({ fromMs, toMs, windowMs, windows, assessments, forecast: detail.latestForecast });
    const markers = alertMarkers(detail.alerts, windowMs, fromMs, grid.length ? grid[grid.length - 1]! + windowMs : toMs);
    const channels = channelsOf(windows).map((channel) => ({ channel, s: channelSeries(windows, channel, grid, detail.latestForecast) }));
    const scores = (['anomaly', 'deviation'] as const).map((which) => ({ which, s: scoreSeries(assessments, which, grid) }));
    return { channels, scores, markers };
  }, [windows, assessments, detail, fromMs, toMs]);

  if (windows.length === 0) return <Empty>No window of {detail.machineId} in this range. Try a longer range.</Empty>;
  return (
    <>
      <h2 class="section-title">Scores</h2>
      <div class="charts">
        {built.scores.map(({ which, s }) => (
          <Chart
            key={which}
            group={group}
            channel={which}
            shape="score"
            title={which === 'anomaly' ? 'anomaly score (fleet detector)' : 'deviation score (its own normal)'}
            data={[s.x, s.score, s.threshold]}
            series={SCORE_SERIES}
            markers={built.markers}
            points={s.points}
            height={120}
            readout={(i) =>
              s.score[i] === null || s.score[i] === undefined ? at(s.x, i) : `${at(s.x, i)} · ${formatNumber(s.score[i])} / ${formatNumber(s.threshold[i])}`
            }
          />
        ))}
      </div>
      <h2 class="section-title">Channels</h2>
      <div class="charts">
        {built.channels.map(({ channel, s }) => (
          <Chart
            key={channel}
            group={group}
            channel={channel}
            shape="channel"
            title={channel}
            data={[s.x, s.mean, s.min, s.max, s.forecast, s.forecastLower, s.forecastUpper, s.limitLower, s.limitUpper]}
            series={CHANNEL_SERIES}
            bands={CHANNEL_BANDS}
            markers={built.markers}
            points={s.points}
            readout={(i) => channelReadout(s, i)}
          />
        ))}
      </div>
    </>
  );
}

const at = (x: readonly number[], i: number) => formatLocal((x[i] ?? 0) * 1000);

function channelReadout(s: ReturnType<typeof channelSeries>, i: number): string {
  const parts = [at(s.x, i)];
  if (s.mean[i] !== null && s.mean[i] !== undefined) parts.push(`mean ${formatNumber(s.mean[i])} (${formatNumber(s.min[i])} – ${formatNumber(s.max[i])})`);
  else if (s.forecast[i] !== null && s.forecast[i] !== undefined)
    parts.push(`forecast ${formatNumber(s.forecast[i])} [${formatNumber(s.forecastLower[i])} – ${formatNumber(s.forecastUpper[i])}]`);
  else parts.push('no window');
  if (s.limitUpper[i] !== null || s.limitLower[i] !== null) parts.push(`limits ${formatNumber(s.limitLower[i])} – ${formatNumber(s.limitUpper[i])}`);
  return parts.join(' · ');
}

/** The machine's past transitions (its active alerts are listed above the charts, each once). */
function Timeline({ detail }: { detail: MachineDetail }) {
  const active = new Set(detail.activeAlerts.map((a) => a.alertId));
  const past = detail.alerts.filter((a) => !active.has(a.alertId));
  const deviation = detail.latestAssessment?.deviation;
  const drivers = deviation?.drivers ?? [];
  return (
    <div class="columns">
      <div class="panel grow">
        <h2>Alert timeline</h2>
        {past.length === 0 ? (
          <Empty>
            {active.size > 0 ? 'No earlier alert' : 'No alert'} on {detail.machineId}.
          </Empty>
        ) : (
          <ol class="plain timeline">
            {past.map((a) => (
              // Only an active alert can be acknowledged, and those are listed above.
              <AlertRow alert={a} showMachine={false} over key={a.alertId} />
            ))}
          </ol>
        )}
      </div>
      {deviation && drivers.length > 0 ? (
        <div class="panel">
          <h2>Latest deviation: what drives it</h2>
          <p class="small">
            Score <Score score={deviation.score} threshold={deviation.threshold} /> after the window ending <Time iso={detail.latestAssessment!.windowEnd} />.
          </p>
          <Drivers drivers={drivers} />
        </div>
      ) : null}
    </div>
  );
}
