import type { AlertEvent } from '../../schemas';

/**
 * The alert lifecycle on-call engineers know from Alertmanager and PagerDuty, as pure code over
 * (state, event, now): no I/O, no clock of its own. What it decides is which mails go to whom;
 * sending them, and the notification log that keeps a replay from sending twice, are the
 * processor's (email.processor.ts).
 *
 * - an alert that fires is told once (`FIRING`), again when its severity rises (`ESCALATED`),
 *   every repeat interval while it keeps firing (`REMINDER`), and once when it resolves;
 * - a machine's notifications wait `groupWaitMs` from the first one and share one mail;
 *   an alert that fires and resolves within that wait is never told at all. "Within" is measured
 *   in the alerts' own times (createdAt), not in when they reached the sink: a sink catching up
 *   on a backlog, or rebuilding its state after a restart, reads hours of transitions at once,
 *   and must tell the same ones it would have told reading them live;
 * - each recipient gets at most `rateLimit.count` mails per `rateLimit.windowMs`; what is held
 *   back goes out as one digest when the window allows;
 * - a silence holds a machine's mail, or only the mail of one alert kind, until it ends: a
 *   machine's group then goes out without what is held, which waits in the group;
 * - an acknowledged alert gets no more reminders in its firing episode (its RESOLVED, and a rise
 *   in severity, are still told); a new episode after it resolved is not acknowledged.
 *
 * Every transition has a stable id (`transition`): the same alert history gives the same ids,
 * so the notification log (unique on dedupKey, transition, recipient) turns a replay into no mail.
 */

export type Severity = AlertEvent['severity'];
const RANK: Record<Severity, number> = { INFO: 0, WARNING: 1, CRITICAL: 2 };

export type TransitionKind = 'FIRING' | 'ESCALATED' | 'REMINDER' | 'RESOLVED';

export interface Notification {
  dedupKey: string;
  machineId: string;
  /** Stable id within the dedup key: `FIRING:<episode>`, `ESCALATED:<severity>:<episode>`, `REMINDER:<n>:<episode>`, `RESOLVED:<episode>`. */
  transition: string;
  kind: TransitionKind;
  /** The alert as last seen when the mail is decided. */
  alert: AlertEvent;
  /** Time the alert has been firing since (its FIRING record's createdAt). */
  firingSinceMs: number;
  /** When the transition happened, in the alerts' time: the createdAt of the record that caused it. */
  atMs: number;
}

export interface Mail {
  recipient: string;
  /** The machine a grouped mail is about; null for a digest, which may span machines. */
  machineId: string | null;
  digest: boolean;
  notifications: Notification[];
}

export interface LifecycleConfig {
  groupWaitMs: number;
  repeatIntervalMs: number;
  /** A transition older than this (now - createdAt) updates the state but is not mailed: a replay of old history stays quiet. */
  maxAgeMs: number;
  rateLimit: { count: number; windowMs: number };
}

/** Who gets a machine's mail, what is silenced now, what was acknowledged: the roster and operators' actions (roster.ts). */
export interface Routing {
  recipients(machineId: string): readonly string[];
  /** Whether mail about the machine's alerts of `kind` waits at `nowMs`. */
  silenced(machineId: string, kind: string, nowMs: number): boolean;
  /** Whether the firing episode of `dedupKey` whose FIRING transitions are `episodeAlertIds` was acknowledged (none when absent). */
  acknowledged?(dedupKey: string, episodeAlertIds: readonly string[]): boolean;
}

interface TrackedAlert {
  machineId: string;
  /** alertId of the FIRING record that opened this episode. */
  episodeId: string;
  /** alertIds of the episode's FIRING records (the opening one and its rises): an acknowledgement names one. */
  alertIds: string[];
  firingSinceMs: number;
  severity: Severity;
  latest: AlertEvent;
  firing: boolean;
  /** Reminders decided so far in this episode (reminder n is due at firingSince + n * repeat interval). */
  reminders: number;
}

interface PendingGroup {
  dueMs: number;
  notifications: Notification[];
  /** The notifications a tick found silenced: they wait in the group for their silence to end. */
  held?: ReadonlySet<Notification>;
}

export interface LifecycleState {
  alerts: Map<string, TrackedAlert>;
  /** Per machine: notifications waiting for the group wait (or a silence) to end. */
  groups: Map<string, PendingGroup>;
  /** Per recipient: when mails went out within the rate-limit window. */
  sentMs: Map<string, number[]>;
  /** Per recipient: notifications held back by the rate limit, for the next digest. */
  digests: Map<string, Notification[]>;
  /** Mails that failed to send, due again at `dueMs`. */
  retries: Array<{ mail: Mail; dueMs: number }>;
}

export const emptyState = (): LifecycleState => ({ alerts: new Map(), groups: new Map(), sentMs: new Map(), digests: new Map(), retries: [] });

function enqueue(state: LifecycleState, n: Notification, nowMs: number, config: LifecycleConfig): void {
  let group = state.groups.get(n.machineId);
  if (!group) {
    group = { dueMs: nowMs + config.groupWaitMs, notifications: [] };
    state.groups.set(n.machineId, group);
  } else if (group.notifications.every((held) => group!.held?.has(held))) {
    // A group only a silence holds: a newcomer waits a group wait of its own, not none.
    group.dueMs = nowMs + config.groupWaitMs;
  }
  group.notifications.push(n);
}

function pendingOf(state: LifecycleState, machineId: string, dedupKey: string): Notification[] {
  return state.groups.get(machineId)?.notifications.filter((n) => n.dedupKey === dedupKey) ?? [];
}

/**
 * The pending notifications of an alert that a later transition of it, at `atMs`, makes moot: those
 * within the group wait before it (in the alerts' time), those a silence holds, and reminders (the
 * new mail says where the alert stands). They are taken out of their group and returned.
 */
function supersede(state: LifecycleState, machineId: string, dedupKey: string, atMs: number, config: LifecycleConfig): Notification[] {
  const group = state.groups.get(machineId);
  if (!group) return [];
  const moot = (n: Notification) => n.dedupKey === dedupKey && (n.kind === 'REMINDER' || group.held?.has(n) === true || atMs - n.atMs < config.groupWaitMs);
  const dropped = group.notifications.filter(moot);
  group.notifications = group.notifications.filter((n) => !moot(n));
  if (group.notifications.length === 0) state.groups.delete(machineId);
  return dropped;
}

/** One alert record. Redeliveries and repeats of a known state change nothing. */
export function applyAlert(state: LifecycleState, alert: AlertEvent, nowMs: number, config: LifecycleConfig): void {
  const tracked = state.alerts.get(alert.dedupKey);
  const fresh = nowMs - alert.createdAt <= config.maxAgeMs;
  const notification = (t: TrackedAlert, kind: TransitionKind, transition: string): Notification => ({ dedupKey: alert.dedupKey, machineId: t.machineId, transition, kind, alert, firingSinceMs: t.firingSinceMs, atMs: alert.createdAt });

  if (alert.status === 'FIRING') {
    if (!tracked || !tracked.firing) {
      const episode = { episodeId: alert.alertId, alertIds: [alert.alertId], firingSinceMs: alert.createdAt };
      const t: TrackedAlert = { machineId: alert.machineId, ...episode, severity: alert.severity, latest: alert, firing: true, reminders: 0 };
      state.alerts.set(alert.dedupKey, t);
      if (fresh) enqueue(state, notification(t, 'FIRING', `FIRING:${t.episodeId}`), nowMs, config);
      return;
    }
    tracked.latest = alert;
    if (!tracked.alertIds.includes(alert.alertId)) tracked.alertIds.push(alert.alertId);
    for (const n of pendingOf(state, tracked.machineId, alert.dedupKey)) n.alert = alert;
    if (RANK[alert.severity] <= RANK[tracked.severity]) return;
    tracked.severity = alert.severity;
    if (!fresh) return;
    const pendingFiring = pendingOf(state, tracked.machineId, alert.dedupKey).find((n) => n.kind === 'FIRING');
    // The FIRING mail has not gone out yet and fired within the group wait: it carries the higher severity itself.
    if (pendingFiring && alert.createdAt - pendingFiring.atMs < config.groupWaitMs) return;
    supersede(state, tracked.machineId, alert.dedupKey, alert.createdAt, config);
    enqueue(state, notification(tracked, 'ESCALATED', `ESCALATED:${alert.severity}:${tracked.episodeId}`), nowMs, config);
    return;
  }

  // RESOLVED
  if (!tracked || !tracked.firing) return;
  tracked.firing = false;
  tracked.latest = alert;
  const moot = supersede(state, tracked.machineId, alert.dedupKey, alert.createdAt, config);
  // Fired and resolved within one group wait (or one silence): nobody was told, nobody needs to be.
  if (!fresh || moot.some((n) => n.kind === 'FIRING')) return;
  enqueue(state, notification(tracked, 'RESOLVED', `RESOLVED:${tracked.episodeId}`), nowMs, config);
}

function allowed(state: LifecycleState, recipient: string, nowMs: number, config: LifecycleConfig): boolean {
  const recent = (state.sentMs.get(recipient) ?? []).filter((t) => t > nowMs - config.rateLimit.windowMs);
  state.sentMs.set(recipient, recent);
  return recent.length < config.rateLimit.count;
}

function sent(state: LifecycleState, recipient: string, nowMs: number): void {
  state.sentMs.get(recipient)!.push(nowMs);
}

/** Reminders that fell due, but for acknowledged alerts and alerts about to be mailed anyway. */
function remind(state: LifecycleState, nowMs: number, config: LifecycleConfig, routing: Routing): void {
  for (const [dedupKey, t] of state.alerts) {
    if (!t.firing) continue;
    const due = Math.floor((nowMs - t.firingSinceMs) / config.repeatIntervalMs);
    if (due <= t.reminders) continue;
    t.reminders = due;
    if (routing.acknowledged?.(dedupKey, t.alertIds)) continue;
    // Something about this alert is about to be mailed anyway.
    if (pendingOf(state, t.machineId, dedupKey).length > 0) continue;
    enqueue(state, { dedupKey, machineId: t.machineId, transition: `REMINDER:${due}:${t.episodeId}`, kind: 'REMINDER', alert: t.latest, firingSinceMs: t.firingSinceMs, atMs: t.firingSinceMs + due * config.repeatIntervalMs }, nowMs, config);
  }
}

/**
 * The groups whose wait ended, as mails (or digest entries): without what a silence holds, which
 * stays in the group, and without reminders of an alert acknowledged meanwhile.
 */
function release(state: LifecycleState, nowMs: number, config: LifecycleConfig, routing: Routing, mails: Mail[]): void {
  for (const [machineId, group] of [...state.groups]) {
    if (group.dueMs > nowMs) continue;
    const held = group.notifications.filter((n) => routing.silenced(machineId, n.alert.kind, nowMs));
    const episodeOf = (n: Notification) => state.alerts.get(n.dedupKey)?.alertIds ?? [];
    const acknowledged = (n: Notification) => n.kind === 'REMINDER' && routing.acknowledged?.(n.dedupKey, episodeOf(n)) === true;
    const notifications = group.notifications.filter((n) => !held.includes(n) && !acknowledged(n));
    if (held.length > 0) state.groups.set(machineId, { ...group, notifications: held, held: new Set(held) });
    else state.groups.delete(machineId);
    if (notifications.length === 0) continue;
    for (const recipient of routing.recipients(machineId)) {
      if (allowed(state, recipient, nowMs, config)) {
        sent(state, recipient, nowMs);
        mails.push({ recipient, machineId, digest: false, notifications });
      } else {
        state.digests.set(recipient, [...(state.digests.get(recipient) ?? []), ...notifications]);
      }
    }
  }
}

/** Wall-clock step: reminders that fell due, groups whose wait ended, digests the rate limit allows, retries. */
export function tick(state: LifecycleState, nowMs: number, config: LifecycleConfig, routing: Routing): Mail[] {
  remind(state, nowMs, config, routing);
  const mails: Mail[] = [];
  release(state, nowMs, config, routing, mails);

  for (const [recipient, held] of [...state.digests]) {
    // A digest goes out when the window has room again, and never in the tick that filled it.
    if (!allowed(state, recipient, nowMs, config)) continue;
    state.digests.delete(recipient);
    sent(state, recipient, nowMs);
    mails.push({ recipient, machineId: null, digest: true, notifications: held });
  }

  const retrying = state.retries.filter((r) => r.dueMs <= nowMs);
  state.retries = state.retries.filter((r) => r.dueMs > nowMs);
  for (const r of retrying) mails.push(r.mail);
  return mails;
}

/** A mail that could not be sent: it goes out again at `dueMs` (the notification log drops what did get through). */
export function retryLater(state: LifecycleState, mail: Mail, dueMs: number): void {
  state.retries.push({ mail, dueMs });
}

/** Notifications still waiting (grouped, held by the rate limit, or to be retried). */
export function pendingCount(state: LifecycleState): number {
  let n = 0;
  for (const g of state.groups.values()) n += g.notifications.length;
  for (const d of state.digests.values()) n += d.length;
  for (const r of state.retries) n += r.mail.notifications.length;
  return n;
}
