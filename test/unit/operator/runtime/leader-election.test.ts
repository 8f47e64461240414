import assert from 'node:assert/strict';
import { pino } from 'pino';
import type { KubeClient } from '../../../../src/operator/kube/client.ts';
import { judgeLease, LeaderElector, nextLeaseSpec } from '../../../../src/operator/runtime/leader-election.ts';
import { apiError, FakeKubeClient, type Call } from '../support/fake-kube.ts';
import { flushPromises, ManualClock } from '../support/manual-clock.ts';

const LEASE_KEY = FakeKubeClient.key('leases', 'ops', 'smsx');

describe('leader election', () => {
  describe('judgeLease', () => {
    const view = (holderIdentity: string | null | undefined, observedAtMs = 1_000) => ({ holderIdentity, leaseDurationMs: 15_000, observedAtMs });

    it('acquires a missing or released lease', () => {
      assert.equal(judgeLease(undefined, 'me', 0), 'acquire');
      assert.equal(judgeLease(view(undefined), 'me', 0), 'acquire');
      assert.equal(judgeLease(view(null), 'me', 0), 'acquire');
      assert.equal(judgeLease(view(''), 'me', 0), 'acquire');
    });

    it('renews its own lease', () => {
      assert.equal(judgeLease(view('me'), 'me', 1_000_000), 'renew');
    });

    it('waits for another holder until the lease duration passed since the record last changed', () => {
      assert.equal(judgeLease(view('other'), 'me', 1_000), 'held-by-other');
      assert.equal(judgeLease(view('other'), 'me', 15_999), 'held-by-other');
      assert.equal(judgeLease(view('other'), 'me', 16_000), 'acquire');
    });
  });

  describe('nextLeaseSpec', () => {
    const now = Date.parse('2025-01-01T00:00:10.5Z');

    it('acquires a fresh lease with zero transitions', () => {
      assert.deepEqual(nextLeaseSpec(undefined, 'me', 15_000, now), {
        holderIdentity: 'me',
        leaseDurationSeconds: 15,
        acquireTime: '2025-01-01T00:00:10.500000Z',
        renewTime: '2025-01-01T00:00:10.500000Z',
        leaseTransitions: 0,
      });
    });

    it('keeps acquireTime and transitions on renewal', () => {
      const spec = nextLeaseSpec({ holderIdentity: 'me', acquireTime: 'earlier', leaseTransitions: 3 }, 'me', 15_000, now);
      assert.equal(spec.acquireTime, 'earlier');
      assert.equal(spec.leaseTransitions, 3);
      assert.equal(spec.renewTime, '2025-01-01T00:00:10.500000Z');
    });

    it('counts a takeover as a transition, but not picking up a released lease', () => {
      assert.equal(nextLeaseSpec({ holderIdentity: 'other', leaseTransitions: 3 }, 'me', 15_000, now).leaseTransitions, 4);
      assert.equal(nextLeaseSpec({ holderIdentity: null, leaseTransitions: 3 }, 'me', 15_000, now).leaseTransitions, 3);
    });
  });

  describe('LeaderElector', () => {
    function candidate(client: KubeClient, clock: ManualClock, identity: string) {
      const events: string[] = [];
      const elector = new LeaderElector({
        client,
        namespace: 'ops',
        name: 'smsx',
        identity,
        leaseDurationMs: 15_000,
        renewIntervalMs: 2_000,
        onStartedLeading: () => events.push('started'),
        onStoppedLeading: () => events.push('stopped'),
        logger: pino({ level: 'silent' }),
        clock,
      });
      return { elector, events };
    }

    async function step(clock: ManualClock, ms: number): Promise<void> {
      clock.advance(ms);
      await flushPromises();
    }

    /**
     * One replica's view of the shared API server, with a switch that makes every request of this
     * replica hang (a proxy that accepts and never forwards) until the caller aborts it.
     */
    function cutOff(shared: FakeKubeClient) {
      const state = { hanging: false, aborted: 0, pending: 0 };
      const hang = (signal: AbortSignal | undefined) =>
        new Promise<never>((_resolve, reject) => {
          state.pending++;
          signal?.addEventListener(
            'abort',
            () => {
              state.pending--;
              state.aborted++;
              reject(new Error('aborted'));
            },
            { once: true },
          );
        });
      const client: KubeClient = {
        get: (type, location, options) => (state.hanging ? hang(options?.signal) : shared.get(type, location, options)),
        list: (type, namespace, options) => shared.list(type, namespace, options),
        apply: (type, body, options) => shared.apply(type, body, options),
        create: (type, namespace, body, options) => (state.hanging ? hang(options?.signal) : shared.create(type, namespace, body, options)),
        replace: (type, location, body, options) => (state.hanging ? hang(options?.signal) : shared.replace(type, location, body, options)),
        delete: (type, location, options) => shared.delete(type, location, options),
        discover: (apiVersion) => shared.discover(apiVersion),
      };
      return { client, state };
    }

    function holder(client: FakeKubeClient): unknown {
      return (client.objects.get(LEASE_KEY) as { spec: { holderIdentity?: unknown } } | undefined)?.spec.holderIdentity;
    }

    it('creates the lease and leads, renewing every interval', async () => {
      const client = new FakeKubeClient();
      const clock = new ManualClock(0);
      const a = candidate(client, clock, 'a');
      a.elector.start();
      await step(clock, 0);
      assert.equal(a.elector.isLeader(), true);
      assert.deepEqual(a.events, ['started']);
      assert.equal(holder(client), 'a');
      await step(clock, 2_000);
      await step(clock, 2_000);
      assert.equal(client.callsOf('replace').length, 2);
      assert.deepEqual(a.events, ['started'], 'renewals do not re-announce');
      await a.elector.stop();
    });

    it('lets exactly one of two candidates lead; the other takes over once the leader goes silent', async () => {
      const client = new FakeKubeClient();
      const clock = new ManualClock(0);
      const a = candidate(client, clock, 'a');
      const b = candidate(client, clock, 'b');
      a.elector.start();
      await step(clock, 0);
      b.elector.start();
      for (let i = 0; i < 5; i++) await step(clock, 2_000);
      assert.equal(a.elector.isLeader(), true);
      assert.equal(b.elector.isLeader(), false);

      // The leader is cut off (its renewals fail) without releasing: b must wait a full lease duration
      // from the last change it observed, and a steps down once its renew deadline passed.
      client.failWith = (call) => (call.verb === 'replace' && (call.body as { spec: { holderIdentity: string } }).spec.holderIdentity === 'a' ? new Error('process killed') : undefined);
      let tookOverAfter = 0;
      while (!b.elector.isLeader() && tookOverAfter < 60_000) {
        await step(clock, 1_000);
        tookOverAfter += 1_000;
      }
      assert.equal(b.elector.isLeader(), true);
      // Never before a full lease duration after the last renewal; at most two retry intervals later
      // (one to observe the last renewal, one to see the expiry).
      assert.ok(tookOverAfter >= 15_000 && tookOverAfter <= 19_000, `took over after ${tookOverAfter} ms`);
      assert.equal(holder(client), 'b');
      assert.equal((client.objects.get(LEASE_KEY) as { spec: { leaseTransitions: number } }).spec.leaseTransitions, 1);

      assert.equal(a.elector.isLeader(), false);
      assert.deepEqual(a.events, ['started', 'stopped']);
      await a.elector.stop();
      await b.elector.stop();
    });

    it('releases on stop so a successor takes over at its next retry', async () => {
      const client = new FakeKubeClient();
      const clock = new ManualClock(0);
      const a = candidate(client, clock, 'a');
      const b = candidate(client, clock, 'b');
      a.elector.start();
      await step(clock, 0);
      b.elector.start();
      await step(clock, 0);
      await a.elector.stop();
      assert.equal(holder(client), null);
      assert.deepEqual(a.events, ['started'], 'stop() does not call onStoppedLeading');
      await step(clock, 2_000);
      assert.equal(b.elector.isLeader(), true);
      await b.elector.stop();
    });

    it('steps down when it cannot renew within the renew deadline', async () => {
      const client = new FakeKubeClient();
      const clock = new ManualClock(0);
      const a = candidate(client, clock, 'a');
      a.elector.start();
      await step(clock, 0);
      client.failWith = () => apiError(503, 'apiserver down');
      for (let t = 2_000; t < 10_000; t += 2_000) {
        await step(clock, 2_000);
        assert.equal(a.elector.isLeader(), true, `still leading ${t} ms after the last renewal`);
      }
      await step(clock, 2_000);
      assert.equal(a.elector.isLeader(), false);
      assert.deepEqual(a.events, ['started', 'stopped']);
      client.failWith = () => undefined;
      await step(clock, 2_000);
      assert.equal(a.elector.isLeader(), true, 'campaigns again and re-acquires its own lease');
      assert.deepEqual(a.events, ['started', 'stopped', 'started']);
      await a.elector.stop();
    });

    it('loses a write race to another replica without claiming leadership', async () => {
      const client = new FakeKubeClient();
      const clock = new ManualClock(0);
      client.objects.set(LEASE_KEY, {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: 'smsx', namespace: 'ops', resourceVersion: '5' },
        spec: { holderIdentity: null },
      });
      client.failWith = (call) => (call.verb === 'replace' ? apiError(409, { kind: 'Status', reason: 'Conflict' }) : undefined);
      const a = candidate(client, clock, 'a');
      a.elector.start();
      await step(clock, 0);
      assert.equal(a.elector.isLeader(), false);
      assert.deepEqual(a.events, []);
      await a.elector.stop();
    });

    it('aborts a renewal that hangs at the renew deadline and steps down before the lease can expire for others', async () => {
      const shared = new FakeKubeClient();
      const clock = new ManualClock(0);
      const cutA = cutOff(shared);
      const a = candidate(cutA.client, clock, 'a');
      const b = candidate(shared, clock, 'b');
      a.elector.start();
      await step(clock, 0);
      b.elector.start();
      for (let i = 0; i < 3; i++) await step(clock, 2_000);
      assert.equal(a.elector.isLeader(), true);

      // a's last successful renewal started at 6 000 ms; from the next one on, nothing answers it.
      const lastRenewStart = 6_000;
      cutA.state.hanging = true;
      let aStoppedAt: number | undefined;
      let bStartedAt: number | undefined;
      while (bStartedAt === undefined && clock.monotonic() < 60_000) {
        await step(clock, 100);
        assert.ok(!(a.elector.isLeader() && b.elector.isLeader()), `both lead at ${clock.monotonic()} ms`);
        if (aStoppedAt === undefined && !a.elector.isLeader()) aStoppedAt = clock.monotonic();
        if (b.elector.isLeader()) bStartedAt = clock.monotonic();
      }
      assert.equal(aStoppedAt, lastRenewStart + 10_000, 'a steps down exactly at its renew deadline');
      assert.deepEqual(a.events, ['started', 'stopped']);
      assert.ok(cutA.state.aborted >= 1, 'the hung renewal was aborted');
      assert.ok(bStartedAt !== undefined && bStartedAt >= lastRenewStart + 15_000, `b took over at ${bStartedAt} ms`);
      assert.equal(holder(shared), 'b');
      // Every attempt of a that hung was cut off at its bound: none is left pending across ticks.
      assert.ok(cutA.state.pending <= 1, `${cutA.state.pending} requests of a still pending`);
      a.elector.stop().catch(() => undefined);
      await step(clock, 10_000);
      await b.elector.stop();
    });

    it('bounds a candidate attempt that hangs by the renew deadline, then retries', async () => {
      const client = new FakeKubeClient();
      const clock = new ManualClock(0);
      client.hangWhen = (call) => call.verb === 'get';
      const a = candidate(client, clock, 'a');
      a.elector.start();
      await step(clock, 0);
      await step(clock, 9_999);
      assert.equal(client.aborted.length, 0, 'not aborted before the deadline');
      await step(clock, 1);
      assert.equal(client.aborted.length, 1, 'aborted at the deadline');
      client.hangWhen = () => false;
      await step(clock, 2_000);
      assert.equal(a.elector.isLeader(), true, 'the next attempt, one interval later, acquires');
      await a.elector.stop();
    });

    it('judges expiry on the monotonic clock: a wall-clock step neither expires a live lease nor extends a deadline', async () => {
      const client = new FakeKubeClient();
      const clock = new ManualClock(0);
      const a = candidate(client, clock, 'a');
      const b = candidate(client, clock, 'b');
      a.elector.start();
      await step(clock, 0);
      b.elector.start();
      await step(clock, 2_000);
      const renewalsOfA = (call: Call) => call.verb === 'replace' && (call.body as { spec: { holderIdentity: unknown } }).spec.holderIdentity === 'a';

      // a's renewals fail for 6 s (inside its 10 s deadline) while the wall clock jumps an hour
      // ahead: by wall time the lease looks long expired, by elapsed time it is not.
      client.failWith = (call) => (renewalsOfA(call) ? apiError(503, 'apiserver overloaded') : undefined);
      clock.stepWallClock(3_600_000);
      for (let t = 0; t < 6_000; t += 500) {
        await step(clock, 500);
        assert.equal(b.elector.isLeader(), false, `b took a live lease ${t} ms after the wall-clock step`);
        assert.equal(a.elector.isLeader(), true, `a stepped down ${t} ms after the wall-clock step`);
      }
      client.failWith = () => undefined;
      await step(clock, 2_000);
      const renewTime = (client.objects.get(LEASE_KEY) as { spec: { renewTime: string } }).spec.renewTime;
      assert.equal(renewTime.slice(0, 13), new Date(clock.now()).toISOString().slice(0, 13), 'renewTime is wall time, the step included');
      assert.equal(a.elector.isLeader(), true);

      // Now the wall clock goes back two hours while a cannot renew: it must still step down at its
      // deadline, measured in elapsed time.
      const lastRenewStart = clock.monotonic();
      client.failWith = (call) => (renewalsOfA(call) ? apiError(503, 'apiserver overloaded') : undefined);
      clock.stepWallClock(-7_200_000);
      while (a.elector.isLeader() && clock.monotonic() < lastRenewStart + 30_000) await step(clock, 100);
      assert.equal(clock.monotonic(), lastRenewStart + 10_000, 'a stepped down at its renew deadline');
      assert.deepEqual(a.events, ['started', 'stopped']);
      await a.elector.stop();
      await b.elector.stop();
    });

    it('releases the lease on stop even when stop interrupts an attempt in flight', async () => {
      const client = new FakeKubeClient();
      const clock = new ManualClock(0);
      const a = candidate(client, clock, 'a');
      a.elector.start();
      await step(clock, 0);
      assert.equal(holder(client), 'a');
      client.hangWhen = (call) => call.verb === 'replace' && (call.body as { spec: { holderIdentity: unknown } }).spec.holderIdentity === 'a';
      await step(clock, 2_000);
      const stopped = a.elector.stop();
      await flushPromises();
      await stopped;
      assert.equal(client.aborted.length, 1, 'the hung renewal was aborted by stop()');
      assert.equal(holder(client), null, 'released');
    });
  });
});
