// Confidence sequences are kept as the running intersection of each poll's interval: the
// intersection covers the truth whenever every poll's interval does, which the mixture
// guarantees with probability 1 − α over the whole run.
import type { LogOddsInterval } from './mixture.ts';

/** A log-scale interval as JSON keeps it: null is an open end (−∞ below, +∞ above). */
export interface LogInterval {
  readonly lower: number | null;
  readonly upper: number | null;
}

export const UNBOUNDED: LogInterval = { lower: null, upper: null };

export function shift(interval: LogOddsInterval, by: number): LogInterval {
  return { lower: interval.lower === null ? null : interval.lower + by, upper: interval.upper === null ? null : interval.upper + by };
}

/**
 * The intersection of the kept interval and this poll's. Were they disjoint (the data contradict
 * one constant value, e.g. the version changed mid-step), the kept interval shrinks to its end
 * nearest the new one, so it stays nested and on the side the new evidence points to.
 */
export function intersect(kept: LogInterval, current: LogInterval): LogInterval {
  const lower = kept.lower === null ? current.lower : current.lower === null ? kept.lower : Math.max(kept.lower, current.lower);
  const upper = kept.upper === null ? current.upper : current.upper === null ? kept.upper : Math.min(kept.upper, current.upper);
  if (lower !== null && upper !== null && lower > upper) {
    const point = kept.upper !== null && current.lower !== null && current.lower > kept.upper ? kept.upper : (kept.lower ?? upper);
    return { lower: point, upper: point };
  }
  return { lower, upper };
}

/** exp of a log bound; an open or overflowing end becomes `open`. */
export function expBound<T extends number | null>(bound: number | null, open: T): number | T {
  if (bound === null) return open;
  const value = Math.exp(bound);
  return Number.isFinite(value) ? value : open;
}
