// A keyed work queue in the client-go mould: keys, not events, so a burst of changes to one experiment
// collapses into one reconcile; one reconcile per key at a time; a bounded number of keys at once;
// failures retried per key with exponential backoff. Two lanes: a key queued because something
// changed runs before keys queued in the background (the start-up pass over every experiment, the
// periodic resync), so an edit never waits behind hundreds of passes that will find nothing to do
// (controller-runtime's priority queue does the same for its initial list).
import { backoffDelay, systemClock, type BackoffPolicy, type CancelTimer, type Clock } from './clock.ts';

/** What a successful pass asks for: nothing, or another pass after a delay (e.g. waiting for pods). */
export type ProcessResult = { requeueAfterMs?: number } | void;

export type ProcessKey = (key: string) => Promise<ProcessResult>;

export interface WorkQueueOptions {
  process: ProcessKey;
  /** Upper bound on keys processed at the same time. */
  concurrency: number;
  backoff?: BackoffPolicy;
  clock?: Clock;
  /** Told about each failure and the delay before the retry; the queue itself never logs. */
  onFailure?: (key: string, error: unknown, retryInMs: number) => void;
}

// 5 ms doubling to a one-minute cap: a transient error retries almost at once, a persistent one
// settles at one attempt a minute, and a key is never more than a minute behind a recovered API server.
export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 5, capMs: 60_000 };

export class WorkQueue {
  readonly #process: ProcessKey;
  readonly #concurrency: number;
  readonly #backoff: BackoffPolicy;
  readonly #clock: Clock;
  readonly #onFailure: WorkQueueOptions['onFailure'];

  /** Keys waiting to run because something changed, in arrival order (a Set keeps insertion order). */
  readonly #ready = new Set<string>();
  /** Keys waiting for a background pass, run when no changed key waits. */
  readonly #background = new Set<string>();
  /** Running keys re-added in the background only: they go back to that lane when done. */
  readonly #rerunInBackground = new Set<string>();
  /** Keys that need a pass: waiting in a lane, or re-added while running (queued again when done). */
  readonly #dirty = new Set<string>();
  readonly #running = new Map<string, Promise<void>>();
  readonly #delayed = new Map<string, { dueAt: number; cancel: CancelTimer }>();
  readonly #failures = new Map<string, number>();
  #shuttingDown = false;

  constructor(options: WorkQueueOptions) {
    if (!Number.isInteger(options.concurrency) || options.concurrency < 1) {
      throw new RangeError(`Work queue concurrency must be a positive integer, got ${options.concurrency}`);
    }
    this.#process = options.process;
    this.#concurrency = options.concurrency;
    this.#backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.#clock = options.clock ?? systemClock;
    this.#onFailure = options.onFailure;
  }

  /** Keys waiting to run (not counting running or delayed ones): the queue-depth metric. */
  get depth(): number {
    return this.#ready.size + this.#background.size;
  }

  get runningCount(): number {
    return this.#running.size;
  }

  get delayedCount(): number {
    return this.#delayed.size;
  }

  /** Consecutive failures of a key since its last success. */
  failuresOf(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  /**
   * Queues a key for a pass. A key already waiting is not queued twice, but a change overtakes a
   * background pass the key was waiting for. `background` marks a pass that is only a check (resync).
   */
  add(key: string, { background = false }: { background?: boolean } = {}): void {
    if (this.#shuttingDown) return;
    if (this.#dirty.has(key)) {
      if (!background) this.#promote(key);
      return;
    }
    this.#dirty.add(key);
    // A running key stays out of the lanes; #run queues it again, so one key never runs twice at once.
    if (this.#running.has(key)) {
      if (background) this.#rerunInBackground.add(key);
      return;
    }
    (background ? this.#background : this.#ready).add(key);
    this.#pump();
  }

  #promote(key: string): void {
    this.#rerunInBackground.delete(key);
    if (this.#background.delete(key)) this.#ready.add(key);
  }

  /**
   * Queues a key after a delay. If the key already has a pending delayed add, the earlier one wins:
   * a requeue must never postpone a retry that is already due sooner.
   */
  addAfter(key: string, delayMs: number): void {
    if (this.#shuttingDown) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const dueAt = this.#clock.monotonic() + delayMs;
    const existing = this.#delayed.get(key);
    if (existing && existing.dueAt <= dueAt) return;
    existing?.cancel();
    const cancel = this.#clock.setTimeout(() => {
      this.#delayed.delete(key);
      this.add(key);
    }, delayMs);
    this.#delayed.set(key, { dueAt, cancel });
  }

  /** Drops a key's failure count and any delayed add, e.g. when its experiment was deleted. */
  forget(key: string): void {
    this.#failures.delete(key);
    this.#delayed.get(key)?.cancel();
    this.#delayed.delete(key);
  }

  /**
   * Stops taking and starting work and resolves once the passes already running have finished.
   * Waiting and delayed keys are dropped: the controller is level-triggered, so whichever process
   * runs next re-derives them from the cluster.
   */
  async shutdown(): Promise<void> {
    this.#shuttingDown = true;
    for (const { cancel } of this.#delayed.values()) cancel();
    this.#delayed.clear();
    this.#ready.clear();
    this.#background.clear();
    this.#rerunInBackground.clear();
    this.#dirty.clear();
    await Promise.all(this.#running.values());
  }

  #pump(): void {
    while (!this.#shuttingDown && this.#running.size < this.#concurrency) {
      const lane = this.#ready.size > 0 ? this.#ready : this.#background;
      const [key] = lane;
      if (key === undefined) break;
      lane.delete(key);
      this.#dirty.delete(key);
      this.#running.set(key, this.#run(key));
    }
  }

  async #run(key: string): Promise<void> {
    let result: ProcessResult = undefined;
    let failed = false;
    let failure: unknown;
    try {
      // Yield first so #running is populated before the process function runs, even if it is synchronous.
      await Promise.resolve();
      result = await this.#process(key);
    } catch (error) {
      failed = true;
      failure = error;
    }
    this.#running.delete(key);
    if (failed) {
      const failures = this.failuresOf(key) + 1;
      this.#failures.set(key, failures);
      const retryInMs = backoffDelay(failures, this.#backoff);
      this.addAfter(key, retryInMs);
      try {
        this.#onFailure?.(key, failure, retryInMs);
      } catch {
        // A broken observer must not stall the queue.
      }
    } else {
      this.#failures.delete(key);
      const requeueAfterMs = result?.requeueAfterMs;
      if (requeueAfterMs !== undefined) this.addAfter(key, requeueAfterMs);
    }
    if (this.#dirty.has(key) && !this.#shuttingDown) (this.#rerunInBackground.delete(key) ? this.#background : this.#ready).add(key);
    this.#pump();
  }
}
