// Time as a dependency: every module that waits or timestamps takes a Clock, so unit tests drive time
// by hand instead of sleeping.
//
// Two readings: `now()` is wall time, for timestamps written into objects (a Lease's renewTime, an
// Event's eventTime); `monotonic()` only ever moves forward at the rate of real time, for every
// duration a decision rests on (lease expiry, renew deadlines). NTP or a person stepping the wall
// clock changes the first, never the second.

/** Cancels a scheduled callback; calling it after the callback ran is harmless. */
export type CancelTimer = () => void;

export interface Clock {
  /** Wall time, epoch milliseconds: for timestamps only. */
  now(): number;
  /** Milliseconds since an arbitrary origin, never stepped: for measuring durations. */
  monotonic(): number;
  setTimeout(callback: () => void, delayMs: number): CancelTimer;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout(callback, delayMs) {
    const handle = setTimeout(callback, delayMs);
    return () => clearTimeout(handle);
  },
};

export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
}

/**
 * Deterministic exponential backoff: base, 2·base, 4·base, … capped. `failures` counts from 1.
 * No jitter: delays are predictable in tests and logs, and keys fail independently anyway.
 */
export function backoffDelay(failures: number, policy: BackoffPolicy): number {
  if (failures <= 0) return 0;
  // 2 ** 52 already exceeds any sane cap; clamping the exponent keeps the product finite.
  const exponent = Math.min(failures - 1, 52);
  return Math.min(policy.capMs, policy.baseMs * 2 ** exponent);
}

/**
 * Kubernetes MicroTime (RFC 3339 with exactly six fractional digits), used by Lease and
 * events.k8s.io Event timestamps; the API server rejects the millisecond form JavaScript prints.
 */
export function toMicroTime(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** Kubernetes Time (RFC 3339, whole seconds), used by condition lastTransitionTime. */
export function toKubeTime(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
