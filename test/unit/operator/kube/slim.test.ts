import assert from 'node:assert/strict';
import { foreignManagers } from '../../../../src/operator/apply/live-diff.ts';
import { podFailures } from '../../../../src/operator/controller/pod-failures.ts';
import { hasSidecar, sidecarGaps } from '../../../../src/operator/controller/sidecars.ts';
import { controllerOf, liveObjectSchema, type LiveObject } from '../../../../src/operator/kube/objects.ts';
import { releaseParsed, slimConfigMap, slimManagedFields, slimPod, slimToOwnership, valueDigest } from '../../../../src/operator/kube/slim.ts';

const managedFields = () => [
  {
    manager: 'smsx-operator',
    operation: 'Apply',
    apiVersion: 'apps/v1',
    time: '2025-01-01T00:00:00Z',
    fieldsType: 'FieldsV1',
    fieldsV1: { 'f:metadata': { 'f:labels': { 'f:app': {} } }, 'f:spec': { 'f:replicas': {}, 'f:template': { 'f:spec': { 'f:containers': {} } } } },
  },
  {
    manager: 'kube-controller-manager',
    operation: 'Update',
    apiVersion: 'apps/v1',
    subresource: 'status',
    time: '2025-01-01T00:00:01Z',
    fieldsType: 'FieldsV1',
    fieldsV1: { 'f:status': { 'f:replicas': {}, 'f:conditions': { '.': {} } } },
  },
  {
    manager: 'kubectl-edit',
    operation: 'Update',
    apiVersion: 'apps/v1',
    time: '2025-01-01T00:00:02Z',
    fieldsType: 'FieldsV1',
    fieldsV1: { 'f:spec': { 'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"app"}': { 'f:image': {} } } } } } },
  },
];

function deployment(): LiveObject & { spec: unknown; status: unknown } {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'ns', uid: 'u', resourceVersion: '7', labels: { app: 'web' }, managedFields: managedFields() },
    spec: { replicas: 2, template: { spec: { containers: [{ name: 'app', image: 'a:1' }] } } },
    status: { replicas: 2 },
  };
}

describe('slim', () => {
  describe('slimManagedFields', () => {
    it('keeps manager, operation, subresource, apiVersion and the top-level fields of each entry, in place', () => {
      const object = deployment();
      const metadata = object.metadata;
      assert.equal(slimManagedFields(object), object);
      assert.equal(object.metadata, metadata, 'the same metadata object');
      assert.deepEqual(object.metadata.managedFields, [
        { manager: 'smsx-operator', operation: 'Apply', apiVersion: 'apps/v1', fieldsV1: { 'f:metadata': {}, 'f:spec': {} } },
        { manager: 'kube-controller-manager', operation: 'Update', apiVersion: 'apps/v1', subresource: 'status', fieldsV1: { 'f:status': {} } },
        { manager: 'kubectl-edit', operation: 'Update', apiVersion: 'apps/v1', fieldsV1: { 'f:spec': {} } },
      ]);
      assert.deepEqual(object.spec, deployment().spec, 'the rest of the object is untouched');
    });

    it('leaves the no-op check\'s and the ownership check\'s answers as they were', () => {
      const full = liveObjectSchema.parse(deployment());
      const slim = liveObjectSchema.parse(slimManagedFields(deployment()));
      assert.deepEqual(foreignManagers(slim, 'smsx-operator'), foreignManagers(full, 'smsx-operator'));
      assert.deepEqual(foreignManagers(slim, 'smsx-operator'), ['kubectl-edit']);
      const metadataOnly = slimManagedFields({ metadata: { name: 'x', namespace: 'ns', managedFields: [{ manager: 'kubectl-label', fieldsV1: { 'f:metadata': { 'f:labels': {} } } }] } });
      assert.deepEqual(foreignManagers(liveObjectSchema.parse({ apiVersion: 'v1', kind: 'Service', ...metadataOnly }), 'smsx-operator'), []);
    });

    it('accepts objects without managedFields', () => {
      assert.deepEqual(slimManagedFields({ metadata: { name: 'x' } }), { metadata: { name: 'x' } });
      assert.equal(slimManagedFields(undefined), undefined);
    });
  });

  describe('slimPod', () => {
    const pod = (extra: Record<string, unknown> = {}) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'web-1',
        namespace: 'ns',
        resourceVersion: '3',
        labels: { 'experiments.sms-app.io/experiment': 'demo', 'app.kubernetes.io/component': 'app', 'experiments.sms-app.io/role': 'stable' },
        annotations: {},
        managedFields: managedFields(),
        ...extra,
      },
      spec: {
        containers: [{ name: 'app', image: 'a:1', env: [{ name: 'X', value: '1' }] }],
        initContainers: [{ name: 'istio-proxy', image: 'proxy' }],
        volumes: [{ name: 'v' }],
        nodeName: 'kwok-node',
      },
      status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
    });

    it('keeps the metadata without managedFields and only the container names, in place', () => {
      const object = pod();
      assert.equal(slimPod(object), object);
      const { managedFields: _managedFields, ...metadata } = pod().metadata;
      assert.deepEqual(object, {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata,
        spec: { containers: [{ name: 'app' }], initContainers: [{ name: 'istio-proxy' }] },
        status: {},
      });
      assert.equal('managedFields' in object.metadata, false);
    });

    it('keeps of each container status what says it is failing, and the failure check reads it', () => {
      const crashing = pod();
      Object.assign(crashing.status, {
        containerStatuses: [{
          name: 'app', image: 'a:1', imageID: 'sha256:abc', ready: false, restartCount: 3, started: false,
          state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container=app' } },
          lastState: { terminated: { exitCode: 1, reason: 'Error', startedAt: 't0', finishedAt: 't1', containerID: 'containerd://x' } },
        }],
      });
      slimPod(crashing);
      assert.deepEqual(crashing.status, {
        containerStatuses: [{
          name: 'app', restartCount: 3,
          state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container=app' } },
          lastState: { terminated: { exitCode: 1, reason: 'Error' } },
        }],
      });
      const cache = { get: () => undefined, listOfExperiment: () => [liveObjectSchema.parse(crashing)] };
      const failures = podFailures('demo', 'ns', [{ component: 'app', role: 'stable', deployment: 'web', version: 'v1', replicas: 1 }], cache);
      assert.deepEqual(failures, [{ deployment: 'web', pod: 'web-1', container: 'app', reason: 'CrashLoopBackOff', restarts: 3, exitCode: 1, message: 'back-off 40s restarting failed container=app' }]);
    });

    it('leaves the sidecar check\'s answers as they were', () => {
      const withProxy = liveObjectSchema.parse(slimPod(pod()));
      assert.equal(hasSidecar(withProxy), true);
      const without = pod();
      without.spec.initContainers = [];
      assert.equal(hasSidecar(liveObjectSchema.parse(slimPod(without))), false);
      const annotated = liveObjectSchema.parse(slimPod(pod({ annotations: { 'sidecar.istio.io/status': '{}' } })));
      assert.equal(hasSidecar(annotated), true);
      const cache = { get: () => undefined, listOfExperiment: () => [liveObjectSchema.parse(slimPod(without))] };
      const gaps = sidecarGaps('demo', 'ns', [{ component: 'app', role: 'stable', deployment: 'web', version: 'v1', replicas: 1 }], cache);
      assert.deepEqual(gaps, [{ deployment: 'web', withoutSidecar: 1, pods: 1 }]);
    });
  });

  describe('releaseParsed', () => {
    it('reduces an object to apiVersion, kind and its identity, in place', () => {
      const object = deployment();
      assert.equal(releaseParsed(object), object);
      assert.deepEqual(object, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { namespace: 'ns', name: 'web', uid: 'u', resourceVersion: '7' } });
    });
  });

  describe('slimToOwnership', () => {
    it('keeps identity, owner references and the managers, in place; labels, annotations and the rest go', () => {
      const object = deployment();
      const controller = { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'rs-uid', controller: true };
      Object.assign(object.metadata, { ownerReferences: [controller], annotations: { note: 'x'.repeat(1000) } });
      assert.equal(slimToOwnership(object), object);
      assert.deepEqual(object, {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: {
          namespace: 'ns',
          name: 'web',
          uid: 'u',
          resourceVersion: '7',
          ownerReferences: [controller],
          managedFields: [{ manager: 'smsx-operator' }, { manager: 'kube-controller-manager', subresource: 'status' }, { manager: 'kubectl-edit' }],
        },
      });
      // What the ownership guard reads still parses and answers the same.
      assert.equal(controllerOf(liveObjectSchema.parse(object))?.uid, 'rs-uid');
    });
  });

  describe('slimConfigMap', () => {
    it('turns each value of data and binaryData into its digest and slims managedFields, in place', () => {
      const object = { ...deployment(), kind: 'ConfigMap', data: { a: 'x'.repeat(5000), b: '' }, binaryData: { c: 'AAAA' } };
      assert.equal(slimConfigMap(object), object);
      assert.deepEqual(object.data, { a: valueDigest('x'.repeat(5000)), b: valueDigest('') });
      assert.deepEqual(object.binaryData, { c: valueDigest('AAAA') });
      assert.match(object.data.a, /^sha256:[A-Za-z0-9_-]{22}$/);
      assert.notEqual(valueDigest('x'), valueDigest('y'));
      assert.deepEqual(object.metadata.managedFields?.[0]?.fieldsV1, { 'f:metadata': {}, 'f:spec': {} });
    });
  });
});
