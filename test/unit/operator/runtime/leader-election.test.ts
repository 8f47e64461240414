import assert from 'node:assert/strict';
import { pino } from 'pino';
import { judgeLease, LeaderElector, nextLeaseSpec } from '../../../../src/operator/runtime/leader-election.ts';
import { apiError, FakeKubeClient } from '../support/fake-kube.ts';
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
    function candidate(client: FakeKubeClient, clock: ManualClock, identity: string) {
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
  });
});
