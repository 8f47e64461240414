// The applier against the real renderer's output: every kind it emits is known, a second pass over
// unchanged objects writes nothing, and a mode switch prunes exactly the other mode's objects.
import assert from 'node:assert/strict';
import { smsExperimentSchema, type SmsExperimentSpecInput } from '../../../../src/crd/schema.ts';
import { createApplier, type LiveObjectReader } from '../../../../src/operator/apply/applier.ts';
import { experimentOwner, ownedResourceTypes } from '../../../../src/operator/controller/experiment.ts';
import { liveObjectSchema, refOf, type LiveObject } from '../../../../src/operator/kube/objects.ts';
import { resourceTypeOf, typeKey, type TypeRef } from '../../../../src/operator/kube/resources.ts';
import { EXPERIMENT_LABEL, render } from '../../../../src/operator/render/index.ts';
import { FakeKubeClient } from '../support/fake-kube.ts';

const owner = experimentOwner({ namespace: 'team-a', name: 'sms-app', uid: '0b6c1f5e-1111-4d2a-9c1e-000000000001' });

function experiment(spec: SmsExperimentSpecInput) {
  return smsExperimentSchema.parse({
    apiVersion: 'experiments.sms-app.io/v1alpha1',
    kind: 'SmsExperiment',
    metadata: { name: owner.name, namespace: owner.namespace, uid: owner.uid, generation: 1 },
    spec,
  });
}

/** A cache filled from what the fake API server stored: the applied bodies, with uids. */
class StoredObjects implements LiveObjectReader {
  readonly #client: FakeKubeClient;

  constructor(client: FakeKubeClient) {
    this.#client = client;
  }

  #all(): LiveObject[] {
    return [...this.#client.objects.values()].map((body) => {
      const live = liveObjectSchema.parse(structuredClone(body));
      return { ...live, metadata: { ...live.metadata, uid: `uid-${live.kind}-${live.metadata.name}` } };
    });
  }

  get(type: TypeRef, namespace: string, name: string): LiveObject | undefined {
    return this.#all().find((o) => typeKey(o) === typeKey(type) && o.metadata.namespace === namespace && o.metadata.name === name);
  }

  listOfExperiment(type: TypeRef, namespace: string, experiment: string): LiveObject[] {
    return this.#all().filter((o) => typeKey(o) === typeKey(type) && o.metadata.namespace === namespace && o.metadata.labels?.[EXPERIMENT_LABEL] === experiment);
  }
}

describe('apply with rendered objects', () => {
  const spec: SmsExperimentSpecInput = {
    monitoring: { email: { to: 'oncall@example.com', from: 'alerts@example.com', smarthost: 'smtp.example.com:587' } },
  };

  it('knows every kind the renderer emits', () => {
    for (const object of render(experiment({ ...spec, mode: 'canary' }), { monitoring: true })) {
      assert.doesNotThrow(() => resourceTypeOf(object), `${object.kind} ${object.apiVersion}`);
    }
  });

  it('creates everything once, then a pass with nothing changed writes nothing', async () => {
    const client = new FakeKubeClient();
    const applier = createApplier({ client, cache: new StoredObjects(client), fieldManager: 'sms-experiment-operator' });
    const desired = render(experiment(spec), { monitoring: true });

    const first = await applier.applyAll(desired, owner);
    assert.deepEqual(first.failures, []);
    assert.ok(first.reports.every((r) => r.outcome === 'created'));
    assert.equal(client.callsOf('apply').length, desired.length);

    client.calls.length = 0;
    const second = await applier.applyAll(render(experiment(spec), { monitoring: true }), owner);
    assert.deepEqual(second.failures, []);
    assert.deepEqual(second.reports.filter((r) => r.outcome !== 'unchanged'), []);
    assert.deepEqual(client.calls, [], 'no request at all');

    client.calls.length = 0;
    const edited = render(experiment({ ...spec, traffic: { weights: { stable: 50, canary: 50 } } }), { monitoring: true });
    const third = await applier.applyAll(edited, owner);
    const changed = third.reports.filter((r) => r.outcome !== 'unchanged').map((r) => `${r.object.kind}/${r.object.name}`);
    assert.ok(changed.length >= 1 && changed.every((c) => c.startsWith('VirtualService/')), `changed: ${changed.join(', ')}`);
  });

  it('prunes the canary-only objects after a switch to shadow mode, and nothing else', async () => {
    const client = new FakeKubeClient();
    const cache = new StoredObjects(client);
    const applier = createApplier({ client, cache, fieldManager: 'sms-experiment-operator' });
    const types = ownedResourceTypes({ monitoring: true });
    const canary = render(experiment({ ...spec, mode: 'canary' }), { monitoring: true });
    await applier.applyAll(canary, owner);

    const shadow = render(experiment({ ...spec, mode: 'shadow' }), { monitoring: true });
    const applied = await applier.applyAll(shadow, owner);
    assert.deepEqual(applied.failures, []);
    const deleted = await applier.prune(owner, shadow.map(refOf), types);

    const shadowNames = new Set(shadow.map((o) => `${o.kind}/${o.metadata.name}`));
    const canaryOnly = canary.map((o) => `${o.kind}/${o.metadata.name}`).filter((name) => !shadowNames.has(name));
    assert.ok(canaryOnly.length > 0, 'the modes differ in objects');
    assert.deepEqual(deleted.map((r) => `${r.kind}/${r.name}`).sort(), [...canaryOnly].sort());
    assert.deepEqual(await applier.prune(owner, shadow.map(refOf), types), [], 'a second prune finds nothing');
  });
});
