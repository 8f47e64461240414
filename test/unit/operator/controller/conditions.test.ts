import assert from 'node:assert/strict';
import type { Condition, SmsExperimentStatus } from '../../../../src/crd/schema.ts';
import {
  computeConditions,
  conditionTransitions,
  findCondition,
  Reason,
  statusEqual,
  type ConditionInputs,
} from '../../../../src/operator/controller/conditions.ts';
import { pendingRollout, type DeploymentReadiness } from '../../../../src/operator/controller/readiness.ts';

const T0 = Date.parse('2025-01-01T00:00:00Z');
const T1 = T0 + 60_000;

const available = (name: string, replicas = 1): DeploymentReadiness => ({
  name,
  found: true,
  desiredReplicas: replicas,
  generation: 2,
  observedGeneration: 2,
  replicas,
  updatedReplicas: replicas,
  availableReplicas: replicas,
});

const healthy: ConditionInputs = {
  generation: 3,
  deployments: [available('sms-app-stable'), available('sms-app-canary')],
  held: [],
  monitoringSkipped: false,
};

function byType(conditions: Condition[]): Record<string, Condition> {
  return Object.fromEntries(conditions.map((c) => [c.type, c]));
}

describe('conditions', () => {
  describe('pendingRollout', () => {
    it('is undefined for a complete rollout', () => {
      assert.equal(pendingRollout(available('a', 3)), undefined);
      assert.equal(pendingRollout({ ...available('a', 0), replicas: 0, updatedReplicas: 0, availableReplicas: 0 }), undefined);
    });

    it('says what a rollout waits for, in kubectl rollout status order', () => {
      assert.match(pendingRollout({ ...available('a'), found: false }) ?? '', /a does not exist/);
      assert.match(pendingRollout({ ...available('a'), observedGeneration: 1 }) ?? '', /not observed its latest spec/);
      assert.match(pendingRollout({ ...available('a', 3), updatedReplicas: 1 }) ?? '', /1 of 3 replicas updated/);
      assert.match(pendingRollout({ ...available('a', 3), replicas: 4 }) ?? '', /1 old replicas pending termination/);
      assert.match(pendingRollout({ ...available('a', 3), availableReplicas: 2 }) ?? '', /2 of 3 updated replicas available/);
    });

    it('treats a Deployment without status as not rolled out', () => {
      assert.ok(pendingRollout({ name: 'a', found: true, desiredReplicas: 1, generation: 1 }));
    });
  });

  describe('computeConditions', () => {
    it('is Ready, not Progressing, not Degraded when every deployment is available', () => {
      const conditions = byType(computeConditions(undefined, healthy, T0));
      assert.deepEqual(conditions.Ready, {
        type: 'Ready',
        status: 'True',
        reason: 'Reconciled',
        message: 'All 2 deployments are available',
        lastTransitionTime: '2025-01-01T00:00:00Z',
        observedGeneration: 3,
      });
      assert.equal(conditions.Progressing?.status, 'False');
      assert.equal(conditions.Degraded?.status, 'False');
    });

    it('always returns the three types in a fixed order', () => {
      assert.deepEqual(
        computeConditions(undefined, healthy, T0).map((c) => c.type),
        ['Ready', 'Progressing', 'Degraded'],
      );
    });

    it('is Progressing with DeploymentsNotReady while a deployment rolls out', () => {
      const inputs = { ...healthy, deployments: [available('stable'), { ...available('canary'), availableReplicas: 0 }] };
      const conditions = byType(computeConditions(undefined, inputs, T0));
      assert.equal(conditions.Ready?.status, 'False');
      assert.equal(conditions.Ready?.reason, Reason.DeploymentsNotReady);
      assert.match(conditions.Ready?.message ?? '', /canary has 0 of 1 updated replicas available/);
      assert.equal(conditions.Progressing?.status, 'True');
      assert.equal(conditions.Progressing?.reason, Reason.RolloutInProgress);
      assert.equal(conditions.Degraded?.status, 'False');
    });

    it('puts a failure on all three conditions with its reason', () => {
      const failure = { reason: Reason.OwnershipConflict, message: 'Service ns/sms-app is owned by another controller' };
      const conditions = byType(computeConditions(undefined, { ...healthy, failure }, T0));
      for (const type of ['Ready', 'Progressing'] as const) {
        assert.equal(conditions[type]?.status, 'False');
        assert.equal(conditions[type]?.reason, 'OwnershipConflict');
        assert.equal(conditions[type]?.message, failure.message);
      }
      assert.equal(conditions.Degraded?.status, 'True');
      assert.equal(conditions.Degraded?.reason, 'OwnershipConflict');
    });

    it('reports pods without sidecars and skipped monitoring as Degraded, worst reason first', () => {
      const conditions = byType(computeConditions(undefined, { ...healthy, sidecarsMissing: '1 of 1 pods run without the Istio sidecar', monitoringSkipped: true }, T0));
      assert.equal(conditions.Ready?.status, 'True', 'the deployments still serve');
      assert.equal(conditions.Degraded?.status, 'True');
      assert.equal(conditions.Degraded?.reason, Reason.SidecarsMissing);
      assert.match(conditions.Degraded?.message ?? '', /without the Istio sidecar; The prometheus-operator CRDs/);

      const onlyMonitoring = byType(computeConditions(undefined, { ...healthy, monitoringSkipped: true }, T0));
      assert.equal(onlyMonitoring.Degraded?.reason, Reason.MonitoringCRDsMissing);
    });

    it('reports failing pods as Degraded PodsFailing at once, before any progress deadline, ahead of a stall', () => {
      const failing = 'Deployment x-canary: container app of pod x-canary-1 is in CrashLoopBackOff (2 restarts, last exit code 1)';
      const conditions = byType(computeConditions(undefined, { ...healthy, podsFailing: failing, sidecarsMissing: 'pods without sidecar' }, T0));
      assert.equal(conditions.Degraded?.status, 'True');
      assert.equal(conditions.Degraded?.reason, Reason.PodsFailing);
      assert.match(conditions.Degraded?.message ?? '', /^Deployment x-canary: container app of pod x-canary-1 is in CrashLoopBackOff .*; pods without sidecar$/);
      const stalled = byType(computeConditions(undefined, { ...healthy, podsFailing: failing, deployments: [{ ...available('a'), stalled: { reason: 'ProgressDeadlineExceeded', message: 'timed out' } }] }, T0));
      assert.equal(stalled.Degraded?.reason, Reason.PodsFailing, 'the pod says why the rollout stalled');
    });

    it('is not Ready while traffic is held back, and says what it waits for', () => {
      const conditions = byType(computeConditions(undefined, { ...healthy, held: ['canary weight held at 0% (spec 10%): Deployment x has no available pod of its current spec yet'] }, T0));
      assert.equal(conditions.Ready?.status, 'False');
      assert.equal(conditions.Ready?.reason, Reason.TrafficHeld);
      assert.match(conditions.Ready?.message ?? '', /canary weight held at 0% \(spec 10%\)/);
      assert.equal(conditions.Progressing?.status, 'True');
      assert.equal(conditions.Degraded?.status, 'False', 'waiting is not a degradation');
    });

    it('reports a stalled rollout as Degraded and no longer Progressing, naming the Deployment and the cause', () => {
      const stalled: DeploymentReadiness = {
        ...available('sms-app-canary'),
        availableReplicas: 0,
        stalled: { reason: 'ProgressDeadlineExceeded', message: 'ReplicaSet "sms-app-canary-1" has timed out progressing.' },
      };
      const conditions = byType(computeConditions(undefined, { ...healthy, deployments: [available('sms-app-stable'), stalled] }, T0));
      assert.equal(conditions.Degraded?.status, 'True');
      assert.equal(conditions.Degraded?.reason, Reason.RolloutStalled);
      assert.equal(conditions.Degraded?.message, 'Deployment sms-app-canary: ProgressDeadlineExceeded: ReplicaSet "sms-app-canary-1" has timed out progressing.');
      assert.equal(conditions.Progressing?.status, 'False');
      assert.equal(conditions.Ready?.reason, Reason.RolloutStalled);
    });

    it('keeps lastTransitionTime while a status holds, even when reason or message change', () => {
      const first = computeConditions(undefined, { ...healthy, deployments: [{ ...available('a'), availableReplicas: 0 }] }, T0);
      const second = computeConditions(first, { ...healthy, deployments: [{ ...available('a'), found: false }] }, T1);
      assert.equal(findCondition(second, 'Ready')?.lastTransitionTime, '2025-01-01T00:00:00Z');
      assert.match(findCondition(second, 'Ready')?.message ?? '', /does not exist/);
    });

    it('stamps a new lastTransitionTime when a status flips', () => {
      const first = computeConditions(undefined, { ...healthy, deployments: [{ ...available('a'), availableReplicas: 0 }] }, T0);
      const second = computeConditions(first, healthy, T1);
      assert.equal(findCondition(second, 'Ready')?.lastTransitionTime, '2025-01-01T00:01:00Z');
      assert.equal(findCondition(second, 'Progressing')?.lastTransitionTime, '2025-01-01T00:01:00Z');
      assert.equal(findCondition(second, 'Degraded')?.lastTransitionTime, '2025-01-01T00:00:00Z', 'Degraded stayed False');
    });

    it('is deterministic: the same inputs and time give equal conditions', () => {
      assert.deepEqual(computeConditions(undefined, healthy, T0), computeConditions(undefined, healthy, T0));
      const settled = computeConditions(undefined, healthy, T0);
      assert.deepEqual(computeConditions(settled, healthy, T1), settled, 'a later pass with no change is identical');
    });
  });

  describe('conditionTransitions', () => {
    it('lists only the conditions whose status changed, including new ones', () => {
      const before = computeConditions(undefined, healthy, T0);
      const after = computeConditions(before, { ...healthy, failure: { reason: 'ApplyFailed', message: 'boom' } }, T1);
      assert.deepEqual(
        conditionTransitions(before, after).map((t) => `${t.type}:${t.from}->${t.to.status}`),
        ['Ready:True->False', 'Degraded:False->True'],
      );
      assert.equal(conditionTransitions(undefined, before).length, 3);
      assert.equal(conditionTransitions(before, before).length, 0);
    });

    it('counts a new cause of an already True Degraded, and nothing else that keeps its status', () => {
      const sidecars = computeConditions(undefined, { ...healthy, sidecarsMissing: 'pods without sidecar' }, T0);
      const stalled = computeConditions(
        sidecars,
        { ...healthy, sidecarsMissing: 'pods without sidecar', deployments: [{ ...available('a'), stalled: { reason: 'ProgressDeadlineExceeded', message: 'timed out' } }] },
        T1,
      );
      assert.deepEqual(
        conditionTransitions(sidecars, stalled).map((t) => `${t.type}:${t.from}->${t.to.status} ${t.to.reason}`),
        ['Ready:True->False RolloutStalled', 'Degraded:True->True RolloutStalled'],
      );
    });
  });

  describe('statusEqual', () => {
    const status: SmsExperimentStatus = {
      observedGeneration: 3,
      conditions: computeConditions(undefined, healthy, T0),
      mode: 'canary',
      weights: { stable: 90, canary: 10 },
      mirrorPercent: 10,
      replicas: [
        { component: 'app', role: 'stable', version: 'v1', deployment: 'app-v1', desired: 1, ready: 1 },
        { component: 'app', role: 'canary', version: 'v2', deployment: 'app-v2', desired: 1, ready: 0 },
      ],
      ownedObjects: [
        { apiVersion: 'v1', kind: 'Service', name: 'sms-app' },
        { apiVersion: 'apps/v1', kind: 'Deployment', name: 'app-v1' },
      ],
    };

    it('ignores the order of conditions, replicas, owned objects and keys', () => {
      const reordered: SmsExperimentStatus = {
        ownedObjects: [...(status.ownedObjects ?? [])].reverse(),
        replicas: [...(status.replicas ?? [])].reverse(),
        conditions: [...(status.conditions ?? [])].reverse(),
        mirrorPercent: 10,
        weights: { canary: 10, stable: 90 },
        mode: 'canary',
        observedGeneration: 3,
      };
      assert.ok(statusEqual(status, reordered));
    });

    it('treats an undefined member as absent and no status as empty', () => {
      assert.ok(statusEqual({ ...status, mirrorPercent: undefined }, (({ mirrorPercent: _, ...rest }) => rest)(status)));
      assert.ok(statusEqual(undefined, {}));
    });

    it('sees real changes', () => {
      assert.ok(!statusEqual(status, { ...status, observedGeneration: 4 }));
      assert.ok(!statusEqual(status, { ...status, weights: { stable: 50, canary: 50 } }));
      const flipped = computeConditions(status.conditions, { ...healthy, failure: { reason: 'ApplyFailed', message: 'x' } }, T1);
      assert.ok(!statusEqual(status, { ...status, conditions: flipped }));
      assert.ok(!statusEqual(status, { ...status, replicas: status.replicas?.slice(1) }));
    });
  });
});
