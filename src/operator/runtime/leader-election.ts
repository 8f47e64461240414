// Leader election on a coordination.k8s.io/v1 Lease, after client-go's leaderelection package
// (@kubernetes/client-node 2.0.1 ships none). Optimistic concurrency on the Lease's resourceVersion
// decides races; a candidate judges expiry by when *it* last saw the record change, on its monotonic
// clock, not by the holder's renewTime, so neither clock skew between replicas nor a wall-clock step
// can make a live leader look expired.
//
// The one-leader argument: a renewal that succeeds was sent at some monotonic time S and committed
// after S. A candidate restarts its expiry clock when it sees that commit, so it cannot take over
// before S + leaseDuration. The leader steps down at S + renewDeadline at the latest: every attempt
// is aborted at that deadline (the HTTP request itself, not only the wait for it), and a timer
// fires then even when no attempt is running. renewDeadline < leaseDuration leaves the difference
// as the margin for clock rates and event-loop delays.
import { z } from 'zod';
import { systemClock, toMicroTime, type CancelTimer, type Clock } from './clock.ts';
import { isApiError, type KubeClient } from '../kube/client.ts';
import type { Logger } from './logging.ts';
import { LEASE } from '../kube/resources.ts';

const leaseSpecSchema = z.looseObject({
  holderIdentity: z.string().nullish(),
  leaseDurationSeconds: z.number().int().nullish(),
  acquireTime: z.string().nullish(),
  renewTime: z.string().nullish(),
  leaseTransitions: z.number().int().nullish(),
});
type LeaseSpec = z.output<typeof leaseSpecSchema>;

const leaseSchema = z.looseObject({
  metadata: z.looseObject({ resourceVersion: z.string().optional() }),
  spec: leaseSpecSchema.prefault({}),
});

export type LeaseVerdict = 'acquire' | 'renew' | 'held-by-other';

export interface LeaseView {
  holderIdentity?: string | null | undefined;
  leaseDurationMs: number;
  /** When this replica last saw the lease record change (or first saw it), monotonic. */
  observedAtMs: number;
}

/** Pure: may `identity` take or keep the lease described by `lease` at monotonic `nowMs`? */
export function judgeLease(lease: LeaseView | undefined, identity: string, nowMs: number): LeaseVerdict {
  if (!lease?.holderIdentity) return 'acquire';
  if (lease.holderIdentity === identity) return 'renew';
  return nowMs >= lease.observedAtMs + lease.leaseDurationMs ? 'acquire' : 'held-by-other';
}

/** Pure: the lease spec `identity` writes to acquire or renew; `wallNowMs` is only written, never judged. */
export function nextLeaseSpec(previous: LeaseSpec | undefined, identity: string, leaseDurationMs: number, wallNowMs: number): LeaseSpec {
  const now = toMicroTime(wallNowMs);
  const renewing = previous?.holderIdentity === identity;
  const takingOver = !renewing && Boolean(previous?.holderIdentity);
  return {
    holderIdentity: identity,
    leaseDurationSeconds: Math.ceil(leaseDurationMs / 1_000),
    acquireTime: renewing ? (previous?.acquireTime ?? now) : now,
    renewTime: now,
    leaseTransitions: (previous?.leaseTransitions ?? 0) + (takingOver ? 1 : 0),
  };
}

export interface LeaderElectorOptions {
  client: KubeClient;
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs: number;
  /** How often the leader renews and a candidate retries. */
  renewIntervalMs: number;
  /**
   * A leader that could not renew for this long steps down, and no attempt (its HTTP requests
   * included) runs longer. Shorter than the lease duration, so the leader stops before a candidate
   * may take over. Defaults to two thirds of the lease duration.
   */
  renewDeadlineMs?: number;
  onStartedLeading: () => void;
  /** Called when leadership is lost (not on stop()): the caller should stop reconciling at once. */
  onStoppedLeading: () => void;
  logger: Logger;
  clock?: Clock;
}

/** Why an attempt was aborted: its deadline passed before the API server answered. */
export class LeaseAttemptTimeout extends Error {
  constructor(boundMs: number) {
    super(`lease request did not finish within ${boundMs} ms`);
    this.name = 'LeaseAttemptTimeout';
  }
}

export function defaultRenewDeadlineMs(leaseDurationMs: number, renewIntervalMs: number): number {
  return Math.max(renewIntervalMs, Math.floor((leaseDurationMs * 2) / 3));
}

type Outcome = 'leading' | 'other' | 'error';

export class LeaderElector {
  readonly #options: LeaderElectorOptions;
  readonly #clock: Clock;
  readonly #renewDeadlineMs: number;
  readonly #logger: Logger;
  /** The lease record as last seen, and when (monotonic) it was first seen that way. */
  #observed: { key: string; atMs: number } | undefined;
  #leading = false;
  /** Monotonic: the start of the last successful attempt plus the renew deadline. */
  #leadingUntilMs = 0;
  #cancelDeadline: CancelTimer | undefined;
  #attempt: AbortController | undefined;
  #stopped = true;
  #cancelTick: CancelTimer | undefined;
  #tick: Promise<void> | undefined;

  constructor(options: LeaderElectorOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#renewDeadlineMs = options.renewDeadlineMs ?? defaultRenewDeadlineMs(options.leaseDurationMs, options.renewIntervalMs);
    this.#logger = options.logger.child({ lease: `${options.namespace}/${options.name}`, identity: options.identity });
  }

  isLeader(): boolean {
    return this.#leading;
  }

  get renewDeadlineMs(): number {
    return this.#renewDeadlineMs;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#schedule(0);
  }

  /** Stops campaigning and, if leading, releases the lease so a successor takes over at once. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#cancelTick?.();
    // An attempt in flight may still have written the lease: release whatever it left behind.
    const interrupted = this.#attempt !== undefined;
    this.#attempt?.abort(new Error('stopped'));
    await this.#tick;
    this.#cancelDeadline?.();
    const wasLeading = this.#leading;
    this.#leading = false;
    if (!wasLeading && !interrupted) return;
    try {
      if (await this.#release()) this.#logger.info('Released leadership');
    } catch (error) {
      this.#logger.warn({ err: error }, 'Failed to release leadership');
    }
  }

  #schedule(delayMs: number): void {
    this.#cancelTick = this.#clock.setTimeout(() => {
      this.#tick = this.#runTick();
    }, delayMs);
  }

  async #runTick(): Promise<void> {
    const startedAt = this.#clock.monotonic();
    // A leader's attempt ends at its deadline; a candidate's after one renew deadline.
    const boundMs = this.#leading ? Math.max(0, this.#leadingUntilMs - startedAt) : this.#renewDeadlineMs;
    const attempt = new AbortController();
    this.#attempt = attempt;
    const cancelBound = this.#clock.setTimeout(() => attempt.abort(new LeaseAttemptTimeout(boundMs)), boundMs);
    let outcome: Outcome;
    try {
      outcome = await this.#tryAcquireOrRenew(attempt.signal);
    } catch (error) {
      this.#logger.debug({ err: error }, 'Failed to acquire or renew lease');
      outcome = 'error';
    } finally {
      cancelBound();
      this.#attempt = undefined;
    }
    // An aborted attempt never counts, even if its answer raced the abort: its deadline had passed.
    if (attempt.signal.aborted && outcome === 'leading') outcome = 'error';
    this.#settle(outcome, startedAt);
    if (!this.#stopped) this.#schedule(this.#options.renewIntervalMs);
  }

  #settle(outcome: Outcome, startedAt: number): void {
    if (outcome === 'leading') {
      const until = startedAt + this.#renewDeadlineMs;
      const remaining = until - this.#clock.monotonic();
      if (remaining <= 0) return;
      this.#leadingUntilMs = until;
      this.#cancelDeadline?.();
      this.#cancelDeadline = this.#clock.setTimeout(() => this.#stepDown('renew deadline passed'), remaining);
      if (!this.#leading) {
        // Marked even when stop() came meanwhile, so that stop() releases what this tick acquired.
        this.#leading = true;
        if (!this.#stopped) {
          this.#logger.info({ renewDeadlineMs: this.#renewDeadlineMs }, 'Acquired leadership');
          this.#options.onStartedLeading();
        }
      }
    } else if (outcome === 'other' && this.#leading) {
      this.#stepDown('another replica holds the lease');
    }
  }

  #stepDown(reason: string): void {
    if (!this.#leading) return;
    this.#leading = false;
    this.#cancelDeadline?.();
    this.#cancelDeadline = undefined;
    // Whatever is in flight belongs to a leadership that is over.
    this.#attempt?.abort(new Error('stepped down'));
    const startedAt = this.#leadingUntilMs - this.#renewDeadlineMs;
    this.#logger.warn({ reason, sinceLastRenewMs: Math.round(this.#clock.monotonic() - startedAt), renewDeadlineMs: this.#renewDeadlineMs }, 'Lost leadership');
    if (!this.#stopped) this.#options.onStoppedLeading();
  }

  async #tryAcquireOrRenew(signal: AbortSignal): Promise<'leading' | 'other'> {
    const { client, namespace, name, identity, leaseDurationMs } = this.#options;
    const raw = await client.get(LEASE, { namespace, name }, { signal });
    // Observed when the answer arrived: a change the read shows was committed before this moment.
    const seenAt = this.#clock.monotonic();
    if (raw === undefined) {
      let created: unknown;
      try {
        created = await client.create(
          LEASE,
          namespace,
          {
            apiVersion: LEASE.apiVersion,
            kind: LEASE.kind,
            metadata: { namespace, name },
            spec: nextLeaseSpec(undefined, identity, leaseDurationMs, this.#clock.now()),
          },
          { signal },
        );
      } catch (error) {
        if (isApiError(error, 409)) return 'other';
        throw error;
      }
      this.#observeRecord(created, this.#clock.monotonic());
      return 'leading';
    }

    const lease = leaseSchema.parse(raw);
    const { spec } = lease;
    this.#observeRecord(lease, seenAt);
    const verdict = judgeLease(
      {
        holderIdentity: spec.holderIdentity,
        leaseDurationMs: (spec.leaseDurationSeconds ?? leaseDurationMs / 1_000) * 1_000,
        observedAtMs: this.#observed?.atMs ?? seenAt,
      },
      identity,
      seenAt,
    );
    if (verdict === 'held-by-other') return 'other';

    let replaced: unknown;
    try {
      replaced = await client.replace(
        LEASE,
        { namespace, name },
        { ...lease, spec: nextLeaseSpec(spec, identity, leaseDurationMs, this.#clock.now()) },
        { signal },
      );
    } catch (error) {
      // Someone else wrote the lease since our read: they won this round.
      if (isApiError(error, 409)) return 'other';
      throw error;
    }
    this.#observeRecord(replaced, this.#clock.monotonic());
    return 'leading';
  }

  /** Restarts the expiry clock when holder, renewTime or resourceVersion differ from the last look. */
  #observeRecord(raw: unknown, atMs: number): void {
    const parsed = leaseSchema.safeParse(raw);
    if (!parsed.success) return;
    const { metadata, spec } = parsed.data;
    const key = `${spec.holderIdentity ?? ''}|${spec.renewTime ?? ''}|${metadata.resourceVersion ?? ''}`;
    if (this.#observed?.key !== key) this.#observed = { key, atMs };
  }

  /** Hands the lease back (client-go's release); resolves false when it was not ours any more. */
  async #release(): Promise<boolean> {
    const { client, namespace, name, identity } = this.#options;
    const attempt = new AbortController();
    const cancelBound = this.#clock.setTimeout(() => attempt.abort(new LeaseAttemptTimeout(this.#renewDeadlineMs)), this.#renewDeadlineMs);
    try {
      const raw = await client.get(LEASE, { namespace, name }, { signal: attempt.signal });
      if (raw === undefined) return false;
      const lease = leaseSchema.parse(raw);
      if (lease.spec.holderIdentity !== identity) return false;
      const now = toMicroTime(this.#clock.now());
      // No holder, shortest duration, so candidates acquire on their next retry.
      await client.replace(
        LEASE,
        { namespace, name },
        { ...lease, spec: { ...lease.spec, holderIdentity: null, leaseDurationSeconds: 1, renewTime: now, acquireTime: now } },
        { signal: attempt.signal },
      );
      return true;
    } finally {
      cancelBound();
    }
  }
}
