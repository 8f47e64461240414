import assert from 'node:assert/strict';
import {
  controllerReferenceTo,
  EXPERIMENT_LABEL,
  experimentKey,
  isControlledBy,
  owningExperimentKey,
  parseExperimentKey,
  type OwnerReference,
} from '../../../../src/operator/kube/objects.ts';

const owner = { namespace: 'ns', name: 'demo', uid: 'u-1' };
const withOwners = (ownerReferences: OwnerReference[], labels?: Record<string, string>) => ({ metadata: { namespace: 'ns', ownerReferences, ...(labels ? { labels } : {}) } });

describe('objects', () => {
  it('round-trips experiment keys and rejects malformed ones', () => {
    assert.equal(experimentKey(owner), 'ns/demo');
    assert.deepEqual(parseExperimentKey('ns/demo'), { namespace: 'ns', name: 'demo' });
    for (const bad of ['demo', '/demo', 'ns/']) assert.throws(() => parseExperimentKey(bad), /Malformed/);
  });

  it('counts as controlled only with a controller reference of the same uid', () => {
    const ours = controllerReferenceTo(owner);
    assert.ok(isControlledBy(withOwners([ours]), 'u-1'));
    assert.ok(!isControlledBy(withOwners([{ ...ours, uid: 'u-2' }]), 'u-1'), 'same name, other incarnation');
    assert.ok(!isControlledBy(withOwners([{ ...ours, controller: false }]), 'u-1'), 'an owner, not the controller');
    assert.ok(!isControlledBy(withOwners([{ ...ours, kind: 'ReplicaSet' }]), 'u-1'));
    assert.ok(!isControlledBy({ metadata: {} }, 'u-1'));
  });

  it('maps an owned object to its experiment by controller reference, else by label', () => {
    assert.equal(owningExperimentKey(withOwners([controllerReferenceTo(owner)])), 'ns/demo');
    assert.equal(owningExperimentKey(withOwners([], { [EXPERIMENT_LABEL]: 'demo' })), 'ns/demo');
    assert.equal(owningExperimentKey(withOwners([{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'x', controller: true }])), undefined);
    assert.equal(
      owningExperimentKey(withOwners([{ apiVersion: 'other.io/v1', kind: 'SmsExperiment', name: 'impostor', uid: 'x', controller: true }])),
      undefined,
      'a same-named kind of another group is not ours',
    );
  });
});
