// Leader election on a coordination.k8s.io/v1 Lease, after client-go's leaderelection package
// (@kubernetes/client-node 2.0.1 ships none). Optimistic concurrency on the Lease's resourceVersion
// decides races; a candidate judges expiry by when *it* last saw the record change, not by the
// holder's renewTime, so clock skew between replicas cannot make a live leader look expired.
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
  /** When this replica last saw the lease record change (or first saw it). */
  observedAtMs: number;
}

/** Pure: may `identity` take or keep the lease described by `lease` at `nowMs`? */
export function judgeLease(lease: LeaseView | undefined, identity: string, nowMs: number): LeaseVerdict {
  if (!lease?.holderIdentity) return 'acquire';
  if (lease.holderIdentity === identity) return 'renew';
  return nowMs >= lease.observedAtMs + lease.leaseDurationMs ? 'acquire' : 'held-by-other';
}

/** Pure: the lease spec `identity` writes to acquire or renew. */
export function nextLeaseSpec(previous: LeaseSpec | undefined, identity: string, leaseDurationMs: number, nowMs: number): LeaseSpec {
  const now = toMicroTime(nowMs);
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
   * A leader that could not renew for this long steps down. Shorter than the lease duration, so it
   * stops before a candidate may take over. Defaults to two thirds of the lease duration.
   */
  renewDeadlineMs?: number;
  onStartedLeading: () => void;
  /** Called when leadership is lost (not on stop()): the caller should stop reconciling at once. */
  onStoppedLeading: () => void;
  logger: Logger;
  clock?: Clock;
}

export class LeaderElector {
  readonly #options: LeaderElectorOptions;
  readonly #clock: Clock;
  readonly #renewDeadlineMs: number;
  readonly #logger: Logger;
  #observed: { key: string; atMs: number } | undefined;
  #leading = false;
  #lastRenewMs = 0;
  #stopped = true;
  #cancelTick: CancelTimer | undefined;
  #tick: Promise<void> | undefined;

  constructor(options: LeaderElectorOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#renewDeadlineMs = options.renewDeadlineMs ?? Math.max(options.renewIntervalMs, Math.floor((options.leaseDurationMs * 2) / 3));
    this.#logger = options.logger.child({ lease: `${options.namespace}/${options.name}`, identity: options.identity });
  }

  isLeader(): boolean {
    return this.#leading;
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
    await this.#tick;
    if (!this.#leading) return;
    this.#leading = false;
    try {
      await this.#release();
      this.#logger.info('Released leadership');
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
    let outcome: 'leading' | 'other' | 'error';
    try {
      outcome = await this.#tryAcquireOrRenew();
    } catch (error) {
      this.#logger.debug({ err: error }, 'Failed to acquire or renew lease');
      outcome = 'error';
    }
    const now = this.#clock.now();
    if (outcome === 'leading') {
      this.#lastRenewMs = now;
      if (!this.#leading) {
        // Marked even when stop() came meanwhile, so that stop() releases what this tick acquired.
        this.#leading = true;
        if (!this.#stopped) {
          this.#logger.info('Acquired leadership');
          this.#options.onStartedLeading();
        }
      }
    } else if (this.#leading && (outcome === 'other' || now - this.#lastRenewMs >= this.#renewDeadlineMs)) {
      this.#leading = false;
      this.#logger.warn({ sinceLastRenewMs: now - this.#lastRenewMs }, 'Lost leadership');
      this.#options.onStoppedLeading();
    }
    if (!this.#stopped) this.#schedule(this.#options.renewIntervalMs);
  }

  async #tryAcquireOrRenew(): Promise<'leading' | 'other'> {
    const { client, namespace, name, identity, leaseDurationMs } = this.#options;
    const now = this.#clock.now();
    const raw = await client.get(LEASE, { namespace, name });
    if (raw === undefined) {
      try {
        await client.create(LEASE, namespace, {
          apiVersion: LEASE.apiVersion,
          kind: LEASE.kind,
          metadata: { namespace, name },
          spec: nextLeaseSpec(undefined, identity, leaseDurationMs, now),
        });
      } catch (error) {
        if (isApiError(error, 409)) return 'other';
        throw error;
      }
      this.#observe(`created:${now}`, now);
      return 'leading';
    }

    const lease = leaseSchema.parse(raw);
    const { spec } = lease;
    // A record is "the same" while holder and renewTime stay put; only a change restarts the clock.
    this.#observe(`${spec.holderIdentity ?? ''}|${spec.renewTime ?? ''}`, now);
    const verdict = judgeLease(
      {
        holderIdentity: spec.holderIdentity,
        leaseDurationMs: (spec.leaseDurationSeconds ?? leaseDurationMs / 1_000) * 1_000,
        observedAtMs: this.#observed?.atMs ?? now,
      },
      identity,
      now,
    );
    if (verdict === 'held-by-other') return 'other';

    try {
      await client.replace(
        LEASE,
        { namespace, name },
        { ...lease, spec: nextLeaseSpec(spec, identity, leaseDurationMs, now) },
      );
    } catch (error) {
      // Someone else wrote the lease since our read: they won this round.
      if (isApiError(error, 409)) return 'other';
      throw error;
    }
    return 'leading';
  }

  #observe(key: string, now: number): void {
    if (this.#observed?.key !== key) this.#observed = { key, atMs: now };
  }

  async #release(): Promise<void> {
    const { client, namespace, name, identity } = this.#options;
    const raw = await client.get(LEASE, { namespace, name });
    if (raw === undefined) return;
    const lease = leaseSchema.parse(raw);
    if (lease.spec.holderIdentity !== identity) return;
    const now = toMicroTime(this.#clock.now());
    // client-go's release: no holder, shortest duration, so candidates acquire on their next retry.
    await client.replace(
      LEASE,
      { namespace, name },
      { ...lease, spec: { ...lease.spec, holderIdentity: null, leaseDurationSeconds: 1, renewTime: now, acquireTime: now } },
    );
  }
}
