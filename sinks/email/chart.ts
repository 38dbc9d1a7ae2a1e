import { Resvg } from '@resvg/resvg-js';
import { escapeHtml, isoMinute } from './render';

/**
 * The chart in an alert mail: a machine's recent hourly means of the alert's feature, the
 * forecast out to the predicted breach, and the limit. Built as an SVG string (pure, tested as
 * text) and rasterised to PNG by resvg, whose prebuilt binary comes as an npm package (no
 * download at install, no native build): mail clients show inline PNG, not SVG.
 */

export interface ChartInput {
  title: string;
  points: ReadonlyArray<{ tMs: number; value: number }>;
  /** The limit the alert compares against. */
  threshold?: number;
  /** The forecast value at the predicted breach. */
  forecast?: { tMs: number; value: number };
}

const W = 640;
const H = 240;
const PAD = { left: 56, right: 16, top: 28, bottom: 32 };

export function chartSvg(input: ChartInput): string {
  const times = input.points.map((p) => p.tMs);
  const values = input.points.map((p) => p.value);
  if (input.forecast) {
    times.push(input.forecast.tMs);
    values.push(input.forecast.value);
  }
  if (input.threshold !== undefined && Number.isFinite(input.threshold)) values.push(input.threshold);
  const finite = values.filter(Number.isFinite);
  let [t0, t1] = [Math.min(...times), Math.max(...times)];
  let [v0, v1] = [Math.min(...finite), Math.max(...finite)];
  // Nothing or a single value to span: an hour either side, one unit either side.
  if (!Number.isFinite(t0)) [t0, t1] = [0, 0];
  if (t0 === t1) [t0, t1] = [t0 - 3_600_000, t1 + 3_600_000];
  if (!Number.isFinite(v0)) [v0, v1] = [0, 0];
  if (v0 === v1) [v0, v1] = [v0 - 1, v1 + 1];
  const margin = (v1 - v0) * 0.08;
  [v0, v1] = [v0 - margin, v1 + margin];
  const x = (t: number) => PAD.left + ((t - t0) / (t1 - t0)) * (W - PAD.left - PAD.right);
  const y = (v: number) => H - PAD.bottom - ((v - v0) / (v1 - v0)) * (H - PAD.top - PAD.bottom);
  const f = (n: number) => n.toFixed(1);

  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, Arial, sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="${PAD.left}" y="18" font-size="13" fill="#222">${escapeHtml(input.title)}</text>`,
    `<line x1="${PAD.left}" y1="${H - PAD.bottom}" x2="${W - PAD.right}" y2="${H - PAD.bottom}" stroke="#999"/>`,
    `<line x1="${PAD.left}" y1="${PAD.top}" x2="${PAD.left}" y2="${H - PAD.bottom}" stroke="#999"/>`,
    `<text x="${PAD.left - 4}" y="${f(y(v1) + 4)}" text-anchor="end" fill="#555">${escapeHtml(v1.toPrecision(4))}</text>`,
    `<text x="${PAD.left - 4}" y="${f(y(v0))}" text-anchor="end" fill="#555">${escapeHtml(v0.toPrecision(4))}</text>`,
    `<text x="${PAD.left}" y="${H - 10}" fill="#555">${escapeHtml(isoMinute(t0))}</text>`,
    `<text x="${W - PAD.right}" y="${H - 10}" text-anchor="end" fill="#555">${escapeHtml(isoMinute(t1))}</text>`,
  ];
  const line = input.points.filter((p) => Number.isFinite(p.value)).map((p) => `${f(x(p.tMs))},${f(y(p.value))}`);
  if (line.length > 0) parts.push(`<polyline data-series="means" points="${line.join(' ')}" fill="none" stroke="#1f77b4" stroke-width="2"/>`);
  const last = input.points.at(-1);
  if (input.forecast && last) {
    parts.push(`<line data-series="forecast" x1="${f(x(last.tMs))}" y1="${f(y(last.value))}" x2="${f(x(input.forecast.tMs))}" y2="${f(y(input.forecast.value))}" stroke="#ff7f0e" stroke-width="2" stroke-dasharray="6 4"/>`);
    parts.push(`<circle cx="${f(x(input.forecast.tMs))}" cy="${f(y(input.forecast.value))}" r="4" fill="#ff7f0e"/>`);
  }
  if (input.threshold !== undefined && Number.isFinite(input.threshold)) {
    parts.push(`<line data-series="limit" x1="${PAD.left}" y1="${f(y(input.threshold))}" x2="${W - PAD.right}" y2="${f(y(input.threshold))}" stroke="#d62728" stroke-dasharray="3 3"/>`);
    parts.push(`<text x="${W - PAD.right}" y="${f(y(input.threshold) - 4)}" text-anchor="end" fill="#d62728">limit ${escapeHtml(String(input.threshold))}</text>`);
  }
  parts.push('</svg>');
  return parts.join('\n');
}

export function renderPng(svg: string): Buffer {
  return new Resvg(svg, { font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' }, background: '#ffffff' }).render().asPng();
}
