import type { Accepted, AlertView, SilenceView } from '../../api/schemas';
import { postJson } from './api';
import { operatorName } from './session';
import { Store } from './store';

/**
 * The console's writes: acknowledge an alert, silence, end a silence. Each is accepted onto the
 * control topic (202) and shows in the API's answers about a second later, once sink-postgres has
 * recorded it; until the view's refetch after the next `change` shows it, the console says it is
 * on its way ("acknowledging…"). Each asks for the operator's name first, sent as `by`.
 */

/** Alert ids acknowledged here and not yet shown acknowledged. */
export const pendingAcks = new Store<ReadonlySet<string>>(new Set());
/** Silence ids (the SILENCE's request id) asked for here and not yet listed. */
export const pendingSilences = new Store<ReadonlyArray<{ requestId: string; what: string }>>([]);
/** Silence ids whose end was asked for here and not yet shown ended. */
export const pendingEnds = new Store<ReadonlySet<string>>(new Set());

const withItem = <T>(set: ReadonlySet<T>, item: T) => new Set([...set, item]);
const without = <T>(set: ReadonlySet<T>, item: T) => new Set([...set].filter((i) => i !== item));

/** Thrown when the operator closed the name dialog: nothing was sent. */
export class Cancelled extends Error {
  constructor() {
    super('cancelled: nothing was sent');
  }
}

async function by(): Promise<string> {
  const name = await operatorName();
  if (!name) throw new Cancelled();
  return name;
}

export async function acknowledge(alert: Pick<AlertView, 'alertId'>, reason?: string): Promise<Accepted> {
  const who = await by();
  pendingAcks.update((s) => withItem(s, alert.alertId));
  try {
    return await postJson(`/alerts/${encodeURIComponent(alert.alertId)}/ack`, { by: who, ...(reason ? { reason } : {}) });
  } catch (err) {
    pendingAcks.update((s) => without(s, alert.alertId));
    throw err;
  }
}

export interface SilenceRequest {
  machine?: string;
  kind?: string;
  for: string;
  reason: string;
}

export async function silence(request: SilenceRequest): Promise<Accepted> {
  const who = await by();
  const accepted = await postJson('/silences', { ...request, by: who });
  const what = [request.machine, request.kind].filter(Boolean).join(' · ');
  pendingSilences.update((list) => [...list, { requestId: accepted.requestId, what: `${what} for ${request.for}` }]);
  return accepted;
}

export async function endSilence(silenceId: string, reason?: string): Promise<Accepted> {
  const who = await by();
  pendingEnds.update((s) => withItem(s, silenceId));
  try {
    return await postJson(`/silences/${encodeURIComponent(silenceId)}/end`, { by: who, ...(reason ? { reason } : {}) });
  } catch (err) {
    pendingEnds.update((s) => without(s, silenceId));
    throw err;
  }
}

/** Forget what the API now shows: acknowledged alerts among `alerts`. */
export function settleAcks(alerts: readonly AlertView[]): void {
  const shown = alerts.filter((a) => a.acknowledgement !== null && pendingAcks.get().has(a.alertId));
  for (const a of shown) pendingAcks.update((s) => without(s, a.alertId));
}

/** Forget what the API now shows: silences listed, and ends recorded, among `silences`. */
export function settleSilences(silences: readonly SilenceView[]): void {
  const ids = new Set(silences.map((s) => s.silenceId));
  pendingSilences.update((list) => (list.some((p) => ids.has(p.requestId)) ? list.filter((p) => !ids.has(p.requestId)) : list));
  for (const s of silences) if (s.endedAt !== null && pendingEnds.get().has(s.silenceId)) pendingEnds.update((set) => without(set, s.silenceId));
}
