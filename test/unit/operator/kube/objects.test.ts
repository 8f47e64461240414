import assert from 'node:assert/strict';
import { isControlledBy, namespacedName, objectKey, parseNamespacedName, type OwnerReference } from '../../../../src/operator/kube/objects.ts';

const owner = { apiVersion: 'experiments.sms-app.io/v1alpha1', kind: 'SmsExperiment', namespace: 'ns', name: 'demo', uid: 'u-1' };
const ours: OwnerReference = { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.name, uid: owner.uid, controller: true, blockOwnerDeletion: true };
const withOwners = (ownerReferences: OwnerReference[]) => ({ metadata: { namespace: 'ns', ownerReferences } });

describe('objects', () => {
  it('round-trips namespaced keys and rejects malformed ones', () => {
    assert.equal(namespacedName(owner), 'ns/demo');
    assert.deepEqual(parseNamespacedName('ns/demo'), { namespace: 'ns', name: 'demo' });
    for (const bad of ['demo', '/demo', 'ns/']) assert.throws(() => parseNamespacedName(bad), /Malformed/);
  });

  it('keys an object by group, kind, namespace and name, whatever its API version', () => {
    const vs = { kind: 'VirtualService', namespace: 'ns', name: 'demo' };
    assert.equal(objectKey({ ...vs, apiVersion: 'networking.istio.io/v1' }), 'networking.istio.io/VirtualService/ns/demo');
    assert.equal(objectKey({ ...vs, apiVersion: 'networking.istio.io/v1beta1' }), objectKey({ ...vs, apiVersion: 'networking.istio.io/v1' }));
    assert.equal(objectKey({ apiVersion: 'v1', kind: 'Service', namespace: 'ns', name: 'demo' }), '/Service/ns/demo');
  });

  it('counts as controlled only with a controller reference of the same uid', () => {
    assert.ok(isControlledBy(withOwners([ours]), owner));
    assert.ok(!isControlledBy(withOwners([{ ...ours, uid: 'u-2' }]), owner), 'same name, other incarnation');
    assert.ok(!isControlledBy(withOwners([{ ...ours, controller: false }]), owner), 'an owner, not the controller');
    assert.ok(!isControlledBy(withOwners([{ ...ours, kind: 'ReplicaSet' }]), owner));
    assert.ok(!isControlledBy({ metadata: {} }, owner));
  });
});
