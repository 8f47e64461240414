import assert from 'node:assert/strict';
import {
  experimentKey,
  experimentOwner,
  keysOfOwner,
  ownedResourceTypes,
  owningExperimentKey,
  parseExperimentKey,
  SMS_EXPERIMENT,
} from '../../../../src/operator/controller/experiment.ts';
import type { OwnerReference } from '../../../../src/operator/kube/objects.ts';
import { crdNameOf, resourcePath } from '../../../../src/operator/kube/resources.ts';
import { EXPERIMENT_LABEL } from '../../../../src/operator/render/index.ts';

const owner = experimentOwner({ namespace: 'ns', name: 'demo', uid: 'u-1' });
const ours: OwnerReference = { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.name, uid: owner.uid, controller: true, blockOwnerDeletion: true };
const withOwners = (ownerReferences: OwnerReference[], labels?: Record<string, string>) => ({ metadata: { namespace: 'ns', ownerReferences, ...(labels ? { labels } : {}) } });

describe('experiment', () => {
  it('round-trips experiment keys and rejects malformed ones', () => {
    assert.equal(experimentKey(owner), 'ns/demo');
    assert.deepEqual(parseExperimentKey('ns/demo'), { namespace: 'ns', name: 'demo' });
    for (const bad of ['demo', '/demo', 'ns/']) assert.throws(() => parseExperimentKey(bad), /Malformed/);
  });

  it('maps an owned object to its experiment by controller reference, else by label', () => {
    assert.equal(owningExperimentKey(withOwners([ours])), 'ns/demo');
    assert.equal(keysOfOwner(withOwners([ours])), 'ns/demo');
    assert.equal(owningExperimentKey(withOwners([], { [EXPERIMENT_LABEL]: 'demo' })), 'ns/demo');
    assert.equal(owningExperimentKey(withOwners([{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'x', controller: true }])), undefined);
    assert.equal(
      owningExperimentKey(withOwners([{ apiVersion: 'other.io/v1', kind: 'SmsExperiment', name: 'impostor', uid: 'x', controller: true }])),
      undefined,
      'a same-named kind of another group is not ours',
    );
  });

  it('addresses the SmsExperiment resource and its CRD', () => {
    assert.equal(resourcePath(SMS_EXPERIMENT, { namespace: 'ns', name: 'x', subresource: 'status' }), '/apis/experiments.sms-app.io/v1alpha1/namespaces/ns/smsexperiments/x/status');
    assert.equal(crdNameOf(SMS_EXPERIMENT), 'smsexperiments.experiments.sms-app.io');
  });

  it('leaves the monitoring kinds out when monitoring is skipped', () => {
    const kinds = (monitoring: boolean) => ownedResourceTypes({ monitoring }).map((t) => t.kind);
    assert.ok(kinds(true).includes('ServiceMonitor'));
    assert.ok(!kinds(false).includes('ServiceMonitor'));
    assert.ok(!kinds(false).includes('PrometheusRule'));
    assert.ok(kinds(false).includes('VirtualService'));
  });
});
