import assert from 'node:assert/strict';
import type { Condition, SmsExperimentStatus } from '../../../../src/crd/schema.ts';
import { transitionEvents } from '../../../../src/operator/controller/event-policy.ts';

const AT = '2026-01-01T00:00:00Z';

function status(conditions: Record<string, string>): SmsExperimentStatus {
  return {
    conditions: Object.entries(conditions).map(([type, value]): Condition => {
      const [state = 'Unknown', reason = 'Reconciled'] = value.split(' ');
      return { type, status: state as Condition['status'], reason, message: `${type} message`, lastTransitionTime: AT, observedGeneration: 1 };
    }),
  };
}

const summary = (previous: SmsExperimentStatus | undefined, next: SmsExperimentStatus, failureReason?: string) =>
  transitionEvents(previous, next, failureReason).map(({ type, details }) => `${type} ${details.message.split(':')[0]} (${details.reason})`);

describe('event policy', () => {
  const starting = status({ Ready: 'False DeploymentsNotReady', Progressing: 'True RolloutInProgress', Degraded: 'False Reconciled' });
  const ready = status({ Ready: 'True Reconciled', Progressing: 'False Reconciled', Degraded: 'False Reconciled' });

  it('records nothing for a new experiment whose pods are starting or whose traffic is held: the status says so', () => {
    assert.deepEqual(summary(undefined, starting), []);
    const held = status({ Ready: 'False TrafficHeld', Progressing: 'True RolloutInProgress', Degraded: 'False Reconciled' });
    assert.deepEqual(summary(undefined, held), []);
  });

  it('records a new experiment that is Ready at once, and one that starts degraded or failing', () => {
    assert.deepEqual(summary(undefined, ready), ['Normal Ready is True (Reconciled)']);
    const degraded = status({ Ready: 'False DeploymentsNotReady', Progressing: 'True RolloutInProgress', Degraded: 'True MonitoringCRDsMissing' });
    assert.deepEqual(summary(undefined, degraded), ['Warning Degraded is True (MonitoringCRDsMissing)']);
    const conflict = status({ Ready: 'False HostConflict', Progressing: 'False HostConflict', Degraded: 'True HostConflict' });
    assert.deepEqual(summary(undefined, conflict), ['Warning Ready is False (HostConflict)', 'Warning Degraded is True (HostConflict)']);
  });

  it('records Ready, not Progressing, when both move in one pass', () => {
    assert.deepEqual(summary(starting, ready), ['Normal Ready is True (Reconciled)']);
    assert.deepEqual(summary(ready, starting), ['Warning Ready is False (DeploymentsNotReady)']);
  });

  it('records Progressing when it moves on its own, as when a rollout stalls', () => {
    const stalled = status({ Ready: 'False RolloutStalled', Progressing: 'False RolloutStalled', Degraded: 'True RolloutStalled' });
    assert.deepEqual(summary(starting, stalled), ['Normal Progressing is False (RolloutStalled)', 'Warning Degraded is True (RolloutStalled)']);
  });

  it('leaves out transitions to a failure the pass records a Warning of its own for', () => {
    const failed = status({ Ready: 'False ApplyFailed', Progressing: 'False ApplyFailed', Degraded: 'True ApplyFailed' });
    assert.deepEqual(summary(ready, failed, 'ApplyFailed'), []);
  });

  it('records nothing when nothing moved', () => {
    assert.deepEqual(summary(ready, ready), []);
  });
});
