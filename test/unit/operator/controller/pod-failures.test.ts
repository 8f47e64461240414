import assert from 'node:assert/strict';
import { podFailureMessage, podFailures, type ContainerStatusShape } from '../../../../src/operator/controller/pod-failures.ts';
import type { LiveObject } from '../../../../src/operator/kube/objects.ts';
import { EXPERIMENT_LABEL, type PlannedWorkload } from '../../../../src/operator/render/index.ts';

const workloads: PlannedWorkload[] = [
  { component: 'app', role: 'stable', deployment: 'demo-app', version: 'v1', replicas: 1 },
  { component: 'app', role: 'canary', deployment: 'demo-app-canary', version: 'v2', replicas: 1 },
];

function pod(name: string, role: string, statuses: ContainerStatusShape[], extra: Partial<LiveObject['metadata']> = {}, experiment = 'demo'): LiveObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'ns',
      labels: { 'experiments.sms-app.io/experiment': experiment, 'app.kubernetes.io/component': 'app', 'experiments.sms-app.io/role': role },
      ...extra,
    },
    status: { containerStatuses: statuses },
  };
}

// The operator's pod cache answers by its experiment-label index (informers.ts listByLabel).
const reader = (pods: LiveObject[]) => ({
  get: () => undefined,
  listOfExperiment: (_type: unknown, _namespace: string, experiment: string) => pods.filter((pod) => pod.metadata.labels?.[EXPERIMENT_LABEL] === experiment),
});
const crashLoop: ContainerStatusShape = { name: 'app', restartCount: 4, state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 1m20s' } }, lastState: { terminated: { exitCode: 1 } } };

describe('pod failures', () => {
  it('names a crash-looping container of the canary, with its restarts and exit code', () => {
    const failures = podFailures('demo', 'ns', workloads, reader([pod('demo-app-1', 'stable', [{ name: 'app', restartCount: 0 }]), pod('demo-app-canary-1', 'canary', [crashLoop])]));
    assert.equal(
      podFailureMessage(failures),
      'Deployment demo-app-canary: container app of pod demo-app-canary-1 is in CrashLoopBackOff (4 restarts, last exit code 1); kubectl logs --previous and kubectl describe pod say why',
    );
  });

  it('gives the kubelet message for a container it cannot pull or create', () => {
    const pulling: ContainerStatusShape = { name: 'app', restartCount: 0, state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "nope:1"' } } };
    assert.match(podFailureMessage(podFailures('demo', 'ns', workloads, reader([pod('demo-app-canary-1', 'canary', [pulling])]))), /is in ImagePullBackOff: Back-off pulling image "nope:1"/);
  });

  it('ignores starting containers, terminating pods and other experiments\' pods', () => {
    const creating: ContainerStatusShape = { name: 'app', state: { waiting: { reason: 'ContainerCreating' } } };
    const pods = [
      pod('demo-app-1', 'stable', [creating]),
      pod('demo-app-canary-old', 'canary', [crashLoop], { deletionTimestamp: '2026-01-01T00:00:00Z' }),
      pod('other-app-canary-1', 'canary', [crashLoop], {}, 'other'),
    ];
    assert.deepEqual(podFailures('demo', 'ns', workloads, reader(pods)), []);
  });

  it('names three failures and counts the rest', () => {
    const pods = Array.from({ length: 5 }, (_, i) => pod(`demo-app-canary-${i}`, 'canary', [crashLoop]));
    assert.match(podFailureMessage(podFailures('demo', 'ns', workloads, reader(pods))), /demo-app-canary-2 is in CrashLoopBackOff \(4 restarts, last exit code 1\); and 2 more; kubectl logs/);
  });
});
