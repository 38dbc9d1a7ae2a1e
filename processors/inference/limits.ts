/**
 * The limits a forecast is held against, per machine and channel, pure.
 *
 * The forecaster's manifest carries fleet limits (a high quantile of every machine's windows in
 * training). A fleet limit is wrong for machines that run hotter or harder than the fleet by
 * design: a pump's motor runs near 70 °C where a robot arm's runs at 40, so a fleet limit either
 * alarms on every healthy pump or misses every overheating robot arm. So, by default, each machine
 * learns its own limits from its normal operation, like a control chart's phase I: the first time
 * the forecaster can assess the machine (its lookback observed enough), the observed values of
 * that lookback set the limit, which then stays fixed (in the processor's changelog) so that a
 * slowly developing fault does not drag its own limit up with it.
 *
 * For a channel the fleet limits bound above, the learned upper limit is
 *   max + margin * max(max - median, floor)
 * and symmetrically below. `max - median` is how far this machine's normal excursions reach; the
 * floor (a share of the channel's fleet spread from the manifest) keeps a machine that was
 * perfectly steady in its baseline from alarming on noise. `PDM_LIMITS=manifest` keeps the fleet
 * limits instead.
 */

export interface Limit {
  lower: number | null;
  upper: number | null;
}

export type LearnedLimitPolicy = { kind: 'learned'; margin: number; floorShare: number };
export type LimitPolicy = { kind: 'manifest' } | LearnedLimitPolicy;

/** Chosen on simulated months (seeds 3, 8, 11, none of them training's): see the README's inference section. */
export const DEFAULT_LIMIT_POLICY: LearnedLimitPolicy = { kind: 'learned', margin: 1, floorShare: 0.1 };

export interface LearnedLimits {
  /** End of the window whose lookback the limits were learned from. */
  learnedAtMs: number;
  /** By channel (`tempA.mean`). */
  limits: Record<string, Limit>;
}

function median(sorted: readonly number[]): number {
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Learns limits from one lookback: `x` and `mask` are the model input ([L x C], row-major), only
 * observed values (mask 1) count. Only the sides the fleet limit bounds are learned; a channel
 * with no observed value keeps its fleet limit.
 */
export function learnLimits(
  input: { x: ArrayLike<number>; mask: ArrayLike<number> },
  manifest: { channels: readonly string[]; limits: Record<string, Limit>; normalization: { channelSd: readonly number[] } },
  policy: LearnedLimitPolicy,
  windowEndMs: number,
): LearnedLimits {
  const C = manifest.channels.length;
  const L = input.x.length / C;
  const limits: Record<string, Limit> = {};
  manifest.channels.forEach((channel, c) => {
    const fleet = manifest.limits[channel];
    if (!fleet || (fleet.lower === null && fleet.upper === null)) return;
    const values: number[] = [];
    for (let t = 0; t < L; t++) if (input.mask[t * C + c] === 1) values.push(input.x[t * C + c]!);
    if (values.length === 0) {
      limits[channel] = { ...fleet };
      return;
    }
    values.sort((a, b) => a - b);
    const mid = median(values);
    const floor = policy.floorShare * (manifest.normalization.channelSd[c] ?? 0);
    const max = values[values.length - 1]!;
    const min = values[0]!;
    limits[channel] = {
      upper: fleet.upper === null ? null : max + policy.margin * Math.max(max - mid, floor),
      lower: fleet.lower === null ? null : min - policy.margin * Math.max(mid - min, floor),
    };
  });
  return { learnedAtMs: windowEndMs, limits };
}

/** Whether learned limits cover every channel the fleet limits bound (a new model may bound more). */
export function coversChannels(learned: LearnedLimits | undefined, fleet: Record<string, Limit>): learned is LearnedLimits {
  if (!learned) return false;
  return Object.entries(fleet).every(([channel, l]) => (l.lower === null && l.upper === null) || learned.limits[channel] !== undefined);
}
