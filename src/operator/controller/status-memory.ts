// The status this process last wrote, per key. Until the watch delivers that write, the cache holds
// an older status (and may still deliver intermediate versions); comparing against it would write
// the same change, and log the same transitions, a second time. The operator is the status's only
// writer, so what it wrote last is the truth until the cache shows it, or until the TTL has passed
// (the watch surely delivered by then, and a status edited by hand gets repaired).
import type { SmsExperimentStatus } from '../../crd/schema.ts';
import type { Clock } from '../runtime/clock.ts';
import { statusEqual } from './conditions.ts';

export const WRITTEN_STATUS_TTL_MS = 10_000;

export class WrittenStatuses {
  readonly #clock: Clock;
  readonly #written = new Map<string, { uid: string; status: SmsExperimentStatus; writtenAt: number }>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  remember(key: string, uid: string, status: SmsExperimentStatus): void {
    this.#written.set(key, { uid, status, writtenAt: this.#clock.monotonic() });
  }

  forget(key: string): void {
    this.#written.delete(key);
  }

  /** The status to compare a new one against: the last write, unless the cache caught up or it expired. */
  stored(key: string, uid: string, cached: SmsExperimentStatus | undefined): SmsExperimentStatus | undefined {
    const memo = this.#written.get(key);
    if (!memo) return cached;
    // A recreated experiment (same name, new uid) starts from its own status.
    if (memo.uid !== uid || statusEqual(cached, memo.status) || this.#clock.monotonic() - memo.writtenAt >= WRITTEN_STATUS_TTL_MS) {
      this.#written.delete(key);
      return cached;
    }
    return memo.status;
  }
}
