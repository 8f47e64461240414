import type { CancelTimer, Clock } from '../../../../src/operator/runtime/clock.ts';

/**
 * A hand-driven clock for unit tests: `advance(ms)` fires due callbacks in time order,
 * including ones scheduled by callbacks that fire during the advance. Wall time starts equal to
 * the monotonic time and moves with it, unless `stepWallClock` jumps it.
 */
export class ManualClock implements Clock {
  #now: number;
  #wallOffset = 0;
  #nextId = 0;
  readonly #pending = new Map<number, { due: number; callback: () => void }>();

  constructor(startMs = 0) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now + this.#wallOffset;
  }

  monotonic(): number {
    return this.#now;
  }

  /** Jumps the wall clock (an NTP step, a person setting the date) without time passing. */
  stepWallClock(ms: number): void {
    this.#wallOffset += ms;
  }

  setTimeout(callback: () => void, delayMs: number): CancelTimer {
    const id = this.#nextId++;
    this.#pending.set(id, { due: this.#now + Math.max(0, delayMs), callback });
    return () => {
      this.#pending.delete(id);
    };
  }

  /** Number of callbacks still scheduled. */
  get pendingTimers(): number {
    return this.#pending.size;
  }

  /** Delays of the scheduled callbacks from now, soonest first. */
  pendingDelays(): number[] {
    return [...this.#pending.values()].map((t) => t.due - this.#now).sort((a, b) => a - b);
  }

  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      let nextId: number | undefined;
      let nextDue = Infinity;
      for (const [id, timer] of this.#pending) {
        if (timer.due <= target && timer.due < nextDue) {
          nextDue = timer.due;
          nextId = id;
        }
      }
      if (nextId === undefined) break;
      const timer = this.#pending.get(nextId);
      this.#pending.delete(nextId);
      this.#now = nextDue;
      timer?.callback();
    }
    this.#now = target;
  }
}

/** Lets every already-settled promise continuation run (macrotask boundary). */
export function flushPromises(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
