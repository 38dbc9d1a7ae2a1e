import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { formatLocal, formatNumber, tickLabels } from '../format';
import type { AlertMarker } from '../series';
import { markerColour } from '../states';
import { Store } from '../store';

/**
 * One small uPlot chart. The charts of a machine share a `ChartGroup`: the cursor moves on all of
 * them at once (uPlot's sync), and a drag-to-zoom on one zooms them all (the group's zoom store;
 * a double click, or the view's reset button, zooms back out). Alert transitions are drawn as
 * vertical markers on the canvas; the readout line under the title says what is under the cursor.
 */

export interface ChartGroup {
  syncKey: string;
  /** The x range zoomed to, epoch seconds; null: the whole range. */
  zoom: Store<{ min: number; max: number } | null>;
}

let groups = 0;
export const chartGroup = (): ChartGroup => ({ syncKey: `pdm-${++groups}`, zoom: new Store<{ min: number; max: number } | null>(null) });

export interface ChartProps {
  group: ChartGroup;
  /** data-channel: the channel, or `anomaly` / `deviation` for the score charts. */
  channel: string;
  title: string;
  data: uPlot.AlignedData;
  /** The series after x; their number and order must not change for a given `shape`. */
  series: uPlot.Series[];
  bands?: uPlot.Band[];
  /** Changes when `series` or `bands` change (the chart is built anew then, else only its data is set). */
  shape: string;
  markers: readonly AlertMarker[];
  /** Data points drawn (data-points, for tests and for the reader). */
  points: number;
  /** What the readout says about the window under the cursor (its index in data). */
  readout: (index: number) => string;
  height?: number;
}

const cssVar = (name: string, fallback: string): string => getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;

function drawMarkers(u: uPlot, markers: readonly AlertMarker[], channel: string): void {
  const { ctx, bbox } = u;
  ctx.save();
  for (const m of markers) {
    const x = Math.round(u.valToPos(m.x, 'x', true));
    if (x < bbox.left || x > bbox.left + bbox.width) continue;
    const mine = m.channel === channel;
    ctx.strokeStyle = markerColour(m.status, m.severity);
    ctx.fillStyle = ctx.strokeStyle;
    ctx.lineWidth = (mine ? 2 : 1) * devicePixelRatio;
    ctx.setLineDash(m.status === 'RESOLVED' ? [4 * devicePixelRatio, 3 * devicePixelRatio] : []);
    ctx.beginPath();
    ctx.moveTo(x, bbox.top);
    ctx.lineTo(x, bbox.top + bbox.height);
    ctx.stroke();
    // A small flag at the top, so a marker reads as one even where it crosses a line.
    const s = 4 * devicePixelRatio;
    ctx.beginPath();
    ctx.moveTo(x - s, bbox.top);
    ctx.lineTo(x + s, bbox.top);
    ctx.lineTo(x, bbox.top + s * 1.5);
    ctx.closePath();
    ctx.fill();
  }
  ctx.restore();
}

/** The x range of all the chart's data: the chart zoomed out. */
function fullRange(u: uPlot): { min: number; max: number } {
  const xs = u.data[0];
  return { min: xs[0] ?? 0, max: xs[xs.length - 1] ?? 0 };
}

/**
 * uPlot's options for a chart: the theme's axes, the group's cursor sync and drag-to-zoom, and
 * hooks that read the latest props (`latest`), write the readout and pass scale changes to `onScale`.
 */
function chartOptions(
  width: number,
  height: number,
  syncKey: string,
  latest: { current: ChartProps },
  readoutRef: { current: HTMLSpanElement | null },
  onScale: (u: uPlot, key: string) => void,
): uPlot.Options {
  const axis = {
    stroke: cssVar('--fg-muted', '#666'),
    grid: { stroke: cssVar('--grid', '#eee'), width: 1 },
    ticks: { stroke: cssVar('--grid', '#eee'), width: 1 },
    font: '11px system-ui, sans-serif',
  };
  return {
    width,
    height,
    series: [{ value: (_u, v) => (v === null ? '' : formatLocal(v * 1000)) }, ...latest.current.series],
    bands: latest.current.bands,
    scales: { x: { time: true } },
    axes: [
      {
        ...axis,
        size: 28,
        values: (u, splits) =>
          tickLabels(
            splits.map((s) => s * 1000),
            ((u.scales.x?.max ?? 0) - (u.scales.x?.min ?? 0)) * 1000,
          ),
      },
      { ...axis, size: 52, values: (_u, splits) => splits.map((v) => formatNumber(v)) },
    ],
    legend: { show: false },
    cursor: { sync: { key: syncKey, setSeries: false }, drag: { x: true, y: false, setScale: true }, points: { size: 6 } },
    hooks: {
      draw: [(u) => drawMarkers(u, latest.current.markers, latest.current.channel)],
      setCursor: [
        (u) => {
          const index = u.cursor.idx;
          if (readoutRef.current) readoutRef.current.textContent = index === null || index === undefined ? '' : latest.current.readout(index);
        },
      ],
      setScale: [onScale],
    },
  };
}

export function Chart(props: ChartProps) {
  const container = useRef<HTMLDivElement>(null);
  const readoutRef = useRef<HTMLSpanElement>(null);
  const plot = useRef<uPlot | null>(null);
  // The latest props, for uPlot's hooks, which are bound once per chart.
  const latest = useRef(props);
  latest.current = props;
  const { group, shape, height = 150 } = props;

  useEffect(() => {
    const el = container.current!;
    let applyingZoom = false;
    const onScale = (u: uPlot, key: string) => {
      if (key !== 'x' || applyingZoom) return;
      const { min, max } = u.scales.x ?? {};
      if (min === undefined || max === undefined) return;
      const whole = fullRange(u);
      group.zoom.set(min <= whole.min && max >= whole.max ? null : { min, max });
    };
    const u = new uPlot(chartOptions(Math.max(200, el.clientWidth), height, group.syncKey, latest, readoutRef, onScale), latest.current.data, el);
    plot.current = u;

    const applyZoom = (zoom: { min: number; max: number } | null) => {
      const target = zoom ?? fullRange(u);
      if (u.scales.x?.min === target.min && u.scales.x?.max === target.max) return;
      applyingZoom = true;
      u.setScale('x', target);
      applyingZoom = false;
    };
    applyZoom(group.zoom.get());
    const unsubscribe = group.zoom.subscribe(applyZoom);
    const resize = new ResizeObserver(() => u.setSize({ width: Math.max(200, el.clientWidth), height }));
    resize.observe(el);
    return () => {
      unsubscribe();
      resize.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [shape, group, height]);

  useEffect(() => {
    const u = plot.current;
    if (!u || u.data === props.data) return;
    const zoom = group.zoom.get();
    u.setData(props.data, zoom === null);
    if (zoom) u.setScale('x', zoom);
  }, [props.data, group]);

  useEffect(() => plot.current?.redraw(false, false), [props.markers]);

  return (
    <figure class="chart" data-testid="chart" data-channel={props.channel} data-points={props.points}>
      <figcaption>
        <span class="chart-title">{props.title}</span>
        <span class="readout" ref={readoutRef} aria-live="off" />
      </figcaption>
      <div ref={container} class="chart-canvas" role="img" aria-label={`${props.title}: ${props.points} windows`} />
    </figure>
  );
}
