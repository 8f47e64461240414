// The sticky-session TTL ('3600s', '1h', '90m', '1h30m', '1.5h') as a cookie Max-Age.
// The schema owns the duration syntax (formats.ts durationSeconds); this only turns it into the
// whole seconds a Max-Age needs.
import { durationSeconds } from '../../crd/schema.ts';

/**
 * Whole seconds, rounded up so that a positive TTL never becomes Max-Age=0 (which deletes the
 * cookie at once). Throws on anything that is not a duration.
 */
export function durationToSeconds(text: string): number {
  const seconds = durationSeconds(text);
  if (seconds === undefined) throw new Error(`'${text}' is not a duration like 3600s, 90m or 1h30m`);
  // Rounding to milliseconds first keeps float noise (0.1h = 360.00000000000006s) out of the ceil.
  return Math.ceil(Math.round(seconds * 1000) / 1000);
}
