import type { Mail, Notification, TransitionKind } from './lifecycle';

/**
 * A mail's subject, plain text and HTML, as pure functions of what the lifecycle decided. Every
 * value from a record is untrusted: the subject gets no control characters (no header
 * injection), the HTML gets every value escaped (no markup injection), links put values into
 * URLs only through encodeURIComponent.
 */

export interface LinkTemplates {
  /** `{machineId}`, `{feature}`, `{dedupKey}`, `{kind}` are replaced, URL-encoded. */
  grafana?: string;
  runbook?: string;
}

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

const LABEL: Record<TransitionKind, string> = { FIRING: 'Firing', ESCALATED: 'Escalated', REMINDER: 'Still firing', RESOLVED: 'Resolved' };
const RANK = { INFO: 0, WARNING: 1, CRITICAL: 2 } as const;

/** One line, printable, bounded: what may go into a header. */
export function headerSafe(value: string, max = 200): string {
  // eslint-disable-next-line no-control-regex
  const flat = value.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ').replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export const isoMinute = (ms: number): string => `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;

export function link(template: string | undefined, n: Notification): string | undefined {
  if (!template) return undefined;
  const values: Record<string, string> = { machineId: n.machineId, feature: n.alert.feature ?? '', dedupKey: n.dedupKey, kind: n.alert.kind };
  return template.replace(/\{(machineId|feature|dedupKey|kind)\}/g, (_, name: string) => encodeURIComponent(values[name]!));
}

function headline(n: Notification): string {
  const a = n.alert;
  const what = a.feature ? `${a.feature} ${a.kind === 'FORECAST_BREACH' ? 'forecast breach' : a.kind.toLowerCase()}` : a.kind.toLowerCase().replace('_', ' ');
  const breach = a.predictedBreachAt !== null && n.kind !== 'RESOLVED' ? ` predicted at ${isoMinute(a.predictedBreachAt)}` : '';
  const label = n.kind === 'ESCALATED' ? `Escalated to ${a.severity}` : LABEL[n.kind];
  return `${label}: ${n.machineId} ${what}${breach} (${a.modelName} ${a.modelVersion})`;
}

export function subject(mail: Mail): string {
  const top = mail.notifications.reduce((a, b) => (RANK[b.alert.severity] > RANK[a.alert.severity] ? b : a));
  if (mail.digest) return headerSafe(`[pdm] Digest: ${mail.notifications.length} notification(s) held back by the rate limit, highest ${top.alert.severity}`);
  if (mail.notifications.length === 1) return headerSafe(`[${top.alert.severity}] ${headline(top)}`);
  const counts = new Map<string, number>();
  for (const n of mail.notifications) counts.set(LABEL[n.kind].toLowerCase(), (counts.get(LABEL[n.kind].toLowerCase()) ?? 0) + 1);
  const summary = [...counts].map(([label, count]) => `${count} ${label}`).join(', ');
  return headerSafe(`[${top.alert.severity}] ${mail.machineId}: ${mail.notifications.length} alerts (${summary})`);
}

interface Fact {
  label: string;
  value: string;
}

function facts(n: Notification): Fact[] {
  const a = n.alert;
  const out: Fact[] = [
    { label: 'Machine', value: n.machineId },
    { label: 'Status', value: n.kind === 'ESCALATED' ? `escalated to ${a.severity}` : LABEL[n.kind].toLowerCase() },
    { label: 'Severity', value: a.severity },
    { label: 'Kind', value: a.kind },
    { label: 'Feature', value: a.feature ?? '(none)' },
  ];
  // Where to look: the channels that drove it, with what the machine's own normal expected.
  const drivers = a.drivers ?? [];
  if (drivers.length > 0) {
    const one = (d: (typeof drivers)[number]) => `${d.channel} ${d.value === null ? 'missing' : round(d.value)}${d.expected === null ? '' : ` (normal ${round(d.expected)})`}, ${Math.round(d.contribution * 100)} %`;
    out.push({ label: 'Driven by', value: drivers.map(one).join('; ') });
  }
  if (a.predictedBreachAt !== null) out.push({ label: 'Predicted breach', value: isoMinute(a.predictedBreachAt) });
  out.push(
    { label: a.kind === 'FORECAST_BREACH' ? 'Forecast / limit' : 'Score / threshold', value: `${round(a.score)} / ${round(a.threshold)}` },
    { label: 'Model', value: `${a.modelName} ${a.modelVersion}` },
    { label: 'Firing since', value: isoMinute(n.firingSinceMs) },
    { label: 'Window end', value: isoMinute(a.windowEnd) },
    { label: 'Alert', value: `${n.dedupKey} (${n.transition})` },
  );
  return out;
}

const round = (x: number): string => (Number.isFinite(x) ? String(Math.round(x * 1000) / 1000) : String(x));

/**
 * `chartCids[i]` is the content id of notification i's chart, when it has one (the processor
 * attaches the PNG under that id).
 */
export function renderMail(mail: Mail, links: LinkTemplates, chartCids: ReadonlyArray<string | undefined> = []): RenderedMail {
  const subj = subject(mail);
  const intro = mail.digest
    ? `These notifications were held back because you had reached the mail rate limit.`
    : mail.notifications.length > 1
      ? `${mail.notifications.length} alerts for machine ${mail.machineId}.`
      : '';

  const text: string[] = [subj, ''];
  if (intro) text.push(intro, '');
  const html: string[] = [
    '<!doctype html><html><body style="font-family:sans-serif;color:#222">',
    `<h2 style="margin:0 0 8px">${escapeHtml(subj)}</h2>`,
  ];
  if (intro) html.push(`<p>${escapeHtml(intro)}</p>`);

  mail.notifications.forEach((n, i) => {
    const grafana = link(links.grafana, n);
    const runbook = link(links.runbook, n);
    text.push(`== ${headline(n)}`, n.alert.message, '');
    for (const f of facts(n)) text.push(`${f.label}: ${f.value}`);
    if (grafana) text.push(`Grafana: ${grafana}`);
    if (runbook) text.push(`Runbook: ${runbook}`);
    text.push('');

    html.push(`<h3 style="margin:16px 0 4px">${escapeHtml(headline(n))}</h3>`, `<p>${escapeHtml(n.alert.message)}</p>`, '<table style="border-collapse:collapse">');
    for (const f of facts(n)) html.push(`<tr><th style="text-align:left;padding:2px 12px 2px 0">${escapeHtml(f.label)}</th><td>${escapeHtml(f.value)}</td></tr>`);
    html.push('</table>');
    const cid = chartCids[i];
    if (cid) html.push(`<p><img src="cid:${escapeHtml(cid)}" alt="${escapeHtml(`recent hourly means of ${n.alert.feature ?? ''} on ${n.machineId}`)}" width="640" height="240"></p>`);
    const anchors = [grafana && `<a href="${escapeHtml(grafana)}">Grafana</a>`, runbook && `<a href="${escapeHtml(runbook)}">Runbook</a>`].filter(Boolean);
    if (anchors.length > 0) html.push(`<p>${anchors.join(' · ')}</p>`);
  });
  text.push('-- pdm-stream sink-email');
  html.push('<p style="color:#888;font-size:12px">pdm-stream sink-email</p></body></html>');
  return { subject: subj, text: text.join('\n'), html: html.join('\n') };
}
