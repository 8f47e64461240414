import assert from 'node:assert/strict';
import {
  DESIRED_HASH_ANNOTATION,
  desiredHash,
  firstDifference,
  foreignManagers,
  freshness,
  withDesiredHash,
} from '../../../../src/operator/apply/live-diff.ts';
import type { DesiredObject, LiveObject } from '../../../../src/operator/kube/objects.ts';
import { slimConfigMap } from '../../../../src/operator/kube/slim.ts';

const service: DesiredObject = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'sms-app', namespace: 'ns', labels: { app: 'sms-app' } },
  spec: { selector: { app: 'sms-app' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
};

/** What the API server returns for `desired`: its fields plus defaults and bookkeeping. */
function liveOf(original: DesiredObject, extra: Partial<LiveObject['metadata']> = {}): LiveObject {
  const desired = structuredClone(original);
  const spec = desired.spec as { selector: unknown; ports: Array<Record<string, unknown>> };
  return {
    apiVersion: desired.apiVersion,
    kind: desired.kind,
    metadata: { ...desired.metadata, uid: 'u-1', resourceVersion: '7', ...extra },
    spec: {
      ...spec,
      ports: spec.ports.map((port) => ({ protocol: 'TCP', ...port })),
      clusterIP: '10.0.0.12',
      type: 'ClusterIP',
    },
    status: { loadBalancer: {} },
  };
}

describe('live-diff', () => {
  describe('desiredHash', () => {
    it('is stable under key order and ignores its own annotation', () => {
      const reordered: DesiredObject = {
        spec: { ports: [{ targetPort: 8080, port: 80, name: 'http' }], selector: { app: 'sms-app' } },
        metadata: { labels: { app: 'sms-app' }, namespace: 'ns', name: 'sms-app' },
        kind: 'Service',
        apiVersion: 'v1',
      };
      assert.equal(desiredHash(service), desiredHash(reordered));
      assert.equal(desiredHash(withDesiredHash(service)), desiredHash(service));
      assert.match(desiredHash(service), /^[0-9a-f]{20}$/);
    });

    it('changes when a field is removed', () => {
      const withoutLabels: DesiredObject = { ...service, metadata: { name: 'sms-app', namespace: 'ns' } };
      assert.notEqual(desiredHash(withoutLabels), desiredHash(service));
    });
  });

  describe('firstDifference', () => {
    it('accepts server-side additions', () => {
      assert.equal(firstDifference(service, liveOf(service)), undefined);
    });

    it('names the first differing path', () => {
      const live = liveOf(service);
      (live.spec as { ports: Array<{ port: number }> }).ports[0]!.port = 81;
      assert.equal(firstDifference(service, live), '.spec.ports[0].port');
      assert.equal(firstDifference({ a: { b: 1 } }, { a: {} }), '.a.b');
      assert.equal(firstDifference({ a: 1 }, { a: '1' }), '.a');
      assert.equal(firstDifference(1, 2), '.');
    });

    it('treats an extra or missing array element as a difference', () => {
      assert.equal(firstDifference({ l: [1, 2] }, { l: [1, 2, 3] }), '.l');
      assert.equal(firstDifference({ l: [1, 2] }, { l: [1] }), '.l');
      assert.equal(firstDifference({ l: [1] }, { l: { 0: 1 } }), '.l');
    });

    it('lets an empty or null desired value match an absent live field', () => {
      assert.equal(firstDifference({ args: [], resources: {}, x: null }, {}), undefined);
      assert.equal(firstDifference({ args: [] }, { args: ['a'] }), '.args');
    });

    it('skips desired members that are undefined', () => {
      assert.equal(firstDifference({ a: undefined, b: 1 }, { b: 1 }), undefined);
    });
  });

  describe('foreignManagers', () => {
    it('ignores our manager, status writers and metadata-only writers', () => {
      const live = liveOf(service, {
        managedFields: [
          { manager: 'sms-experiment-operator', operation: 'Apply', fieldsV1: { 'f:spec': {} } },
          { manager: 'kube-controller-manager', operation: 'Update', subresource: 'status', fieldsV1: { 'f:status': {} } },
          { manager: 'kube-controller-manager', operation: 'Update', fieldsV1: { 'f:metadata': { 'f:annotations': {} } } },
        ],
      });
      assert.deepEqual(foreignManagers(live, 'sms-experiment-operator'), []);
    });

    it('reports a hand edit of the spec', () => {
      const live = liveOf(service, {
        managedFields: [{ manager: 'kubectl-edit', operation: 'Update', fieldsV1: { 'f:spec': { 'f:ports': {} } } }],
      });
      assert.deepEqual(foreignManagers(live, 'sms-experiment-operator'), ['kubectl-edit']);
    });
  });

  describe('freshness', () => {
    const desired = withDesiredHash(service);

    it('is up to date when hash, fields and managers agree', () => {
      assert.deepEqual(freshness(desired, liveOf(desired), 'op'), { upToDate: true });
    });

    it('needs an apply when the desired object changed, even by a removal only', () => {
      const live = liveOf(desired);
      const narrower = withDesiredHash({ ...service, metadata: { name: 'sms-app', namespace: 'ns' } });
      assert.equal(firstDifference(narrower, live), '.metadata.annotations.experiments.sms-app.io/desired-hash');
      const state = freshness(narrower, live, 'op');
      assert.deepEqual(state, { upToDate: false, why: 'the desired object changed' });
    });

    it('needs an apply when a live field drifted', () => {
      const live = liveOf(desired);
      (live.spec as { selector: Record<string, string> }).selector.app = 'other';
      assert.deepEqual(freshness(desired, live, 'op'), { upToDate: false, why: 'the live object differs at .spec.selector.app' });
    });

    it('needs an apply when another manager owns spec fields', () => {
      const live = liveOf(desired, { managedFields: [{ manager: 'kubectl-edit', fieldsV1: { 'f:spec': {} } }] });
      assert.deepEqual(freshness(desired, live, 'op'), { upToDate: false, why: 'fields are managed by kubectl-edit' });
    });

    describe('of a ConfigMap cached with digests of its values', () => {
      const configMap = withDesiredHash({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'dash', namespace: 'ns' },
        data: { 'dashboard.json': JSON.stringify({ panels: Array.from({ length: 50 }, (_, id) => ({ id })) }), small: 'x' },
      });
      const cached = (data: Record<string, string>) =>
        slimConfigMap({ ...configMap, metadata: { ...configMap.metadata, uid: 'u', managedFields: [] }, data }) as LiveObject;

      it('is up to date when every value digests the same, and holds no value', () => {
        const live = cached({ ...(configMap.data as Record<string, string>) });
        assert.doesNotMatch(JSON.stringify(live), /panels/);
        assert.deepEqual(freshness(configMap, live, 'smsx'), { upToDate: true });
      });

      it('names the value that drifted, a missing one and an extra one', () => {
        const data = configMap.data as Record<string, string>;
        assert.deepEqual(freshness(configMap, cached({ ...data, small: 'y' }), 'smsx'), { upToDate: false, why: 'the live object differs at .data.small' });
        assert.deepEqual(freshness(configMap, cached({ small: 'x' }), 'smsx'), { upToDate: false, why: 'the live object differs at .data.dashboard.json' });
        // An extra key is not a difference of the fields we set, as for any map (another manager would own it).
        assert.deepEqual(freshness(configMap, cached({ ...data, extra: 'z' }), 'smsx'), { upToDate: true });
      });

      it('compares a ConfigMap read whole (not from the cache) the same way', () => {
        const whole = { ...configMap, metadata: { ...configMap.metadata, uid: 'u' } } as LiveObject;
        assert.deepEqual(freshness(configMap, whole, 'smsx'), { upToDate: true });
      });
    });

    it('needs an apply when the live object is being deleted or lacks the hash', () => {
      assert.equal(freshness(desired, liveOf(desired, { deletionTimestamp: '2025-01-01T00:00:00Z' }), 'op').upToDate, false);
      const unhashed = liveOf(desired);
      unhashed.metadata.annotations = {};
      assert.equal(freshness(desired, unhashed, 'op').upToDate, false);
      assert.ok(desired.metadata.annotations?.[DESIRED_HASH_ANNOTATION]);
    });
  });
});
