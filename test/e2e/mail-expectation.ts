import { applyAlert, emptyState, tick, type LifecycleConfig, type Routing } from '../../sinks/email/lifecycle';
import type { AlertEvent } from '../../schemas';

/**
 * What the on-call inbox must hold, from the alert topic alone, with the email sink's own pure
 * lifecycle (sinks/email/lifecycle.ts) and roster routing: one delivery per recipient and alert
 * transition (`FIRING:<episode>`, `ESCALATED:<severity>:<episode>`, `RESOLVED:<episode>`). How the
 * deliveries are grouped into mails depends on when the sink's wall-clock tick ran, so the inbox is
 * compared delivery by delivery, read from each mail's `Alert: <dedupKey> (<transition>)` lines.
 */

export interface Delivery {
  recipient: string;
  dedupKey: string;
  transition: string;
}

export const deliveryKey = (d: Delivery): string => `${d.recipient} ${d.dedupKey} ${d.transition}`;

/**
 * The deliveries the lifecycle decides for each partition's alerts in offset order, a tick after
 * every record (where the sink's ticks fall does not change which transitions are told, only
 * which of them share a mail).
 */
export function expectedDeliveries(partitions: ReadonlyArray<readonly AlertEvent[]>, config: LifecycleConfig, routing: Routing, nowMs: number): Delivery[] {
  const out: Delivery[] = [];
  for (const alerts of partitions) {
    const state = emptyState();
    for (const alert of alerts) {
      applyAlert(state, alert, nowMs, config);
      for (const mail of tick(state, nowMs, config, routing)) {
        for (const n of mail.notifications) out.push({ recipient: mail.recipient, dedupKey: n.dedupKey, transition: n.transition });
      }
    }
  }
  return out;
}

const ALERT_LINE = /^Alert: (.+) \(([^()\s]+)\)$/gm;

/** The deliveries one mail made: its transitions (from the plain text), to each of its recipients. */
export function deliveriesOfMail(recipients: readonly string[], text: string): Delivery[] {
  const out: Delivery[] = [];
  for (const match of text.replace(/\r\n/g, '\n').matchAll(ALERT_LINE)) {
    for (const recipient of recipients) out.push({ recipient: recipient.toLowerCase(), dedupKey: match[1]!, transition: match[2]! });
  }
  return out;
}

/** Deliveries missing from the inbox, not expected, or made more than once, as readable lines. */
export function compareDeliveries(actual: readonly Delivery[], expected: readonly Delivery[]): string[] {
  const problems: string[] = [];
  const seen = new Map<string, number>();
  for (const d of actual) seen.set(deliveryKey(d), (seen.get(deliveryKey(d)) ?? 0) + 1);
  const wanted = new Set(expected.map(deliveryKey));
  for (const key of [...wanted].sort()) if (!seen.has(key)) problems.push(`mail missing: ${key}`);
  for (const [key, n] of [...seen].sort()) {
    if (!wanted.has(key)) problems.push(`mail not expected: ${key}`);
    else if (n > 1) problems.push(`mailed ${n} times: ${key}`);
  }
  return problems;
}
