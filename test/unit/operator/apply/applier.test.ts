import assert from 'node:assert/strict';
import {
  conflictingManagers,
  createApplier,
  ObjectWriteError,
  OwnershipConflictError,
  type LiveObjectReader,
  type UnlabelledObjectReader,
} from '../../../../src/operator/apply/applier.ts';
import { DESIRED_HASH_ANNOTATION, withDesiredHash } from '../../../../src/operator/apply/live-diff.ts';
import { OWNED_RESOURCE_TYPES, SMS_EXPERIMENT } from '../../../../src/operator/controller/experiment.ts';
import type { DesiredObject, LiveObject, OwnerRef } from '../../../../src/operator/kube/objects.ts';
import { typeKey, type TypeRef } from '../../../../src/operator/kube/resources.ts';
import { apiError, applyConflict, FakeKubeClient } from '../support/fake-kube.ts';

const owner: OwnerRef = { apiVersion: 'experiments.sms-app.io/v1alpha1', kind: 'SmsExperiment', namespace: 'ns', name: 'demo', uid: 'exp-uid' };
const controllerReference = { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.name, uid: owner.uid, controller: true, blockOwnerDeletion: true };
const MANAGER = 'sms-experiment-operator';

/** An object as the renderer hands it over: with its controller reference. */
function owned(object: DesiredObject): DesiredObject {
  return { ...object, metadata: { ...object.metadata, ownerReferences: [controllerReference] } };
}

const deployment: DesiredObject = owned({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'demo-app-v1', namespace: 'ns', labels: { app: 'sms-app' } },
  spec: { replicas: 1, selector: { matchLabels: { app: 'sms-app' } } },
});

class FakeCache implements LiveObjectReader {
  readonly objects: LiveObject[] = [];

  get(type: TypeRef, namespace: string, name: string): LiveObject | undefined {
    return this.objects.find(
      (o) => typeKey(o) === typeKey(type) && o.metadata.namespace === namespace && o.metadata.name === name,
    );
  }

  /** The fake holds one experiment's objects (labels aside): prune must still check who controls each. */
  listOfExperiment(type: TypeRef, namespace: string): readonly LiveObject[] {
    return this.objects.filter((o) => typeKey(o) === typeKey(type) && o.metadata.namespace === namespace);
  }
}

/** The unlabelled watch's view: metadata of objects without the experiment label, for the types it covers. */
class FakeUnlabelled extends FakeCache implements UnlabelledObjectReader {
  readonly covered = new Set<string>();

  covers(type: TypeRef, namespace: string): boolean {
    return this.covered.has(`${typeKey(type)} ${namespace}`);
  }
}

function setupWithUnlabelled() {
  const client = new FakeKubeClient();
  const cache = new FakeCache();
  const unlabelled = new FakeUnlabelled();
  unlabelled.covered.add(`${typeKey(deployment)} ns`);
  const applier = createApplier({ client, cache, unlabelled, fieldManager: MANAGER });
  return { client, cache, unlabelled, applier };
}

/** The live object our previous apply of `desired` left behind. */
function appliedLive(desired: DesiredObject, managedFields: LiveObject['metadata']['managedFields'] = []): LiveObject {
  const stamped = withDesiredHash(owned(desired));
  return { ...stamped, metadata: { ...stamped.metadata, uid: `uid-${desired.metadata.name}`, managedFields } };
}

function setup() {
  const client = new FakeKubeClient();
  const cache = new FakeCache();
  const applier = createApplier({ client, cache, fieldManager: MANAGER });
  return { client, cache, applier };
}

describe('apply', () => {
  describe('ownership of what it is given', () => {
    // The renderer stamps the label and the controller reference (its tests check every object);
    // the applier only refuses objects that do not name their owner, and writes nothing for them.
    it('refuses an object without a controller reference to its owner', async () => {
      const { client, applier } = setup();
      const bare: DesiredObject = { ...deployment, metadata: { ...deployment.metadata, ownerReferences: [] } };
      await assert.rejects(applier.applyObject(bare, owner), /rendered without a controller reference to SmsExperiment demo/);
      assert.equal(client.calls.length, 0);
    });

    it('refuses a rendered object that names another controller', async () => {
      const { client, applier } = setup();
      const foreign = { ...deployment, metadata: { ...deployment.metadata, ownerReferences: [controllerReference, { apiVersion: 'v1', kind: 'X', name: 'x', uid: 'other', controller: true }] } };
      await assert.rejects(applier.applyObject(foreign, owner), /rendered without a controller reference/);
      assert.equal(client.calls.length, 0);
    });
  });

  describe('applyObject', () => {
    it('creates a missing object with one apply, without force, after checking the API server', async () => {
      const { client, applier } = setup();
      const report = await applier.applyObject(deployment, owner);
      assert.equal(report.outcome, 'created');
      assert.deepEqual(client.calls.map((c) => c.verb), ['get', 'apply']);
      const [apply] = client.callsOf('apply');
      assert.equal(apply?.force, false);
      assert.equal(apply?.fieldManager, MANAGER);
      const body = apply?.body as DesiredObject;
      assert.ok(body.metadata.annotations?.[DESIRED_HASH_ANNOTATION]);
      assert.equal(body.metadata.ownerReferences?.[0]?.uid, 'exp-uid');
    });

    it('writes nothing when the cached object is up to date', async () => {
      const { client, cache, applier } = setup();
      cache.objects.push(appliedLive(deployment));
      const report = await applier.applyObject(deployment, owner);
      assert.equal(report.outcome, 'unchanged');
      assert.deepEqual(client.calls, []);
    });

    it('applies when the desired object changed, saying why', async () => {
      const { client, cache, applier } = setup();
      cache.objects.push(appliedLive(deployment));
      const report = await applier.applyObject({ ...deployment, spec: { replicas: 2, selector: { matchLabels: { app: 'sms-app' } } } }, owner);
      assert.equal(report.outcome, 'configured');
      assert.equal(report.why, 'the desired object changed');
      assert.equal(client.callsOf('apply').length, 1);
    });

    it('refuses an existing object it does not control, naming it and its managers, and writes nothing', async () => {
      const { client, cache, applier } = setup();
      cache.objects.push({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: {
          name: 'demo-app-v1',
          namespace: 'ns',
          uid: 'someone-elses',
          managedFields: [{ manager: 'kubectl-client-side-apply', operation: 'Update', fieldsV1: { 'f:spec': {} } }],
        },
      });
      await assert.rejects(applier.applyObject(deployment, owner), (error: unknown) => {
        assert.ok(error instanceof OwnershipConflictError);
        assert.equal(error.reason, 'OwnershipConflict');
        assert.match(error.message, /^Deployment ns\/demo-app-v1 already exists and is not controlled by SmsExperiment demo; managed by kubectl-client-side-apply$/);
        assert.deepEqual(error.managers, ['kubectl-client-side-apply']);
        assert.equal(error.previousIncarnation, false);
        return true;
      });
      assert.deepEqual(client.calls, []);
    });

    it('finds a foreign object the cache does not hold through a GET', async () => {
      const { client, applier } = setup();
      client.objects.set(FakeKubeClient.key('deployments', 'ns', 'demo-app-v1'), {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'demo-app-v1', namespace: 'ns', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'rs-uid', controller: true }] },
      });
      await assert.rejects(applier.applyObject(deployment, owner), /is controlled by ReplicaSet rs/);
      assert.equal(client.callsOf('apply').length, 0);
    });

    describe('with the unlabelled watch', () => {
      it('creates an object neither watch holds with one apply and no GET', async () => {
        const { client, applier } = setupWithUnlabelled();
        const report = await applier.applyObject(deployment, owner);
        assert.equal(report.outcome, 'created');
        assert.deepEqual(client.calls.map((c) => c.verb), ['apply']);
      });

      it('refuses a foreign object from its metadata alone, with no request', async () => {
        const { client, unlabelled, applier } = setupWithUnlabelled();
        unlabelled.objects.push({
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: 'demo-app-v1', namespace: 'ns', uid: 'theirs', managedFields: [{ manager: 'kubectl-create' }] },
        });
        await assert.rejects(applier.applyObject(deployment, owner), (error: unknown) => {
          assert.ok(error instanceof OwnershipConflictError);
          assert.match(error.message, /is not controlled by SmsExperiment demo; managed by kubectl-create$/);
          return true;
        });
        assert.deepEqual(client.calls, []);
      });

      it('reads the whole object with a GET when its own object lost the label', async () => {
        const { client, unlabelled, applier } = setupWithUnlabelled();
        const live = appliedLive(deployment);
        unlabelled.objects.push({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { ...live.metadata, labels: {} } });
        client.objects.set(FakeKubeClient.key('deployments', 'ns', 'demo-app-v1'), live);
        const report = await applier.applyObject(deployment, owner);
        assert.equal(report.outcome, 'unchanged');
        assert.deepEqual(client.calls.map((c) => c.verb), ['get']);
      });

      it('still GETs where the unlabelled watch does not cover the type or has not listed it', async () => {
        const { client, unlabelled, applier } = setupWithUnlabelled();
        unlabelled.covered.clear();
        await applier.applyObject(deployment, owner);
        assert.deepEqual(client.calls.map((c) => c.verb), ['get', 'apply']);
      });
    });

    it('recognizes the leftovers of a deleted experiment of the same name', async () => {
      const { cache, applier } = setup();
      const leftover = appliedLive(deployment);
      leftover.metadata.ownerReferences = [{ apiVersion: 'experiments.sms-app.io/v1alpha1', kind: 'SmsExperiment', name: 'demo', uid: 'old-uid', controller: true }];
      cache.objects.push(leftover);
      await assert.rejects(applier.applyObject(deployment, owner), (error: unknown) => {
        assert.ok(error instanceof OwnershipConflictError);
        assert.equal(error.previousIncarnation, true);
        return true;
      });
    });

    it('takes back fields of its own object from a hand edit with a forced apply', async () => {
      const { client, cache, applier } = setup();
      const edited = appliedLive(deployment, [{ manager: 'kubectl-edit', operation: 'Update', fieldsV1: { 'f:spec': { 'f:replicas': {} } } }]);
      edited.spec = { ...(edited.spec as object), replicas: 5 };
      cache.objects.push(edited);
      client.failWith = (call) => (call.verb === 'apply' && !call.force ? applyConflict('kubectl-edit', '.spec.replicas') : undefined);
      const report = await applier.applyObject(deployment, owner);
      assert.equal(report.outcome, 'configured');
      assert.deepEqual(report.tookOverFrom, ['kubectl-edit']);
      assert.deepEqual(client.callsOf('apply').map((c) => c.force), [false, true]);
    });

    it('never forces over an object that appeared after the existence check', async () => {
      const { client, applier } = setup();
      client.failWith = (call) => (call.verb === 'apply' ? applyConflict('helm', '.spec.replicas') : undefined);
      await assert.rejects(applier.applyObject(deployment, owner), (error: unknown) => {
        assert.ok(error instanceof OwnershipConflictError);
        assert.match(error.message, /was just created by another writer; managed by helm/);
        return true;
      });
      assert.deepEqual(client.callsOf('apply').map((c) => c.force), [false]);
    });

    it('wraps other API errors as ApplyFailed with the server message', async () => {
      const { client, applier } = setup();
      client.failWith = (call) =>
        call.verb === 'apply' ? apiError(422, { kind: 'Status', message: 'Deployment.apps "demo-app-v1" is invalid: spec.replicas: Invalid value: -1', code: 422 }) : undefined;
      await assert.rejects(applier.applyObject(deployment, owner), (error: unknown) => {
        assert.ok(error instanceof ObjectWriteError);
        assert.equal(error.reason, 'ApplyFailed');
        assert.equal(error.code, 422);
        assert.match(error.message, /^Failed to apply Deployment ns\/demo-app-v1: Deployment.apps "demo-app-v1" is invalid/);
        return true;
      });
    });

    it('fails loudly on a kind missing from the resource table', async () => {
      const { applier } = setup();
      await assert.rejects(applier.applyObject({ ...deployment, apiVersion: 'example.com/v1', kind: 'Widget' }, owner), /not in the operator's resource table/);
    });
  });

  describe('applyAll', () => {
    it('applies every object and collects failures without stopping at the first', async () => {
      const { client, applier } = setup();
      const service = owned({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'demo', namespace: 'ns' }, spec: {} });
      client.failWith = (call) => (call.verb === 'apply' && call.plural === 'services' ? apiError(500, 'boom') : undefined);
      const { reports, failures } = await applier.applyAll([deployment, service], owner);
      assert.deepEqual(reports.map((r) => r.object.kind), ['Deployment']);
      assert.equal(failures.length, 1);
      assert.equal(failures[0]?.reason, 'ApplyFailed');
      assert.equal(failures[0]?.object.kind, 'Service');
    });
  });

  describe('prune', () => {
    it('deletes only objects this experiment controls that are no longer desired, with a uid precondition', async () => {
      const { client, cache, applier } = setup();
      const keep = appliedLive(deployment);
      const stale = appliedLive({ ...deployment, metadata: { ...deployment.metadata, name: 'demo-shadow' } });
      const foreign = { ...appliedLive({ ...deployment, metadata: { ...deployment.metadata, name: 'not-ours' } }) };
      foreign.metadata.ownerReferences = [{ apiVersion: 'experiments.sms-app.io/v1alpha1', kind: 'SmsExperiment', name: 'other', uid: 'other-uid', controller: true }];
      cache.objects.push(keep, stale, foreign);
      const deleted = await applier.prune(owner, [{ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'ns', name: 'demo-app-v1' }], OWNED_RESOURCE_TYPES);
      assert.deepEqual(deleted.map((r) => r.name), ['demo-shadow']);
      assert.deepEqual(client.callsOf('delete'), [
        { verb: 'delete', plural: 'deployments', namespace: 'ns', name: 'demo-shadow', options: { uid: 'uid-demo-shadow', propagationPolicy: 'Background' } },
      ]);
    });

    it('matches kept objects across API versions of a group', async () => {
      const { client, cache, applier } = setup();
      const vs = appliedLive({ apiVersion: 'networking.istio.io/v1beta1', kind: 'VirtualService', metadata: { name: 'demo', namespace: 'ns' }, spec: {} });
      cache.objects.push(vs);
      await applier.prune(owner, [{ apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', namespace: 'ns', name: 'demo' }], OWNED_RESOURCE_TYPES);
      assert.equal(client.callsOf('delete').length, 0);
    });

    it('reports a failed delete as PruneFailed', async () => {
      const { client, cache, applier } = setup();
      cache.objects.push(appliedLive(deployment));
      client.failWith = (call) => (call.verb === 'delete' ? apiError(403, { kind: 'Status', message: 'forbidden' }) : undefined);
      await assert.rejects(applier.prune(owner, [], OWNED_RESOURCE_TYPES), (error: unknown) => {
        assert.ok(error instanceof ObjectWriteError);
        assert.equal(error.reason, 'PruneFailed');
        assert.match(error.message, /^Failed to delete Deployment ns\/demo-app-v1: forbidden$/);
        return true;
      });
    });
  });

  describe('applyStatus', () => {
    it('tells onWritten of each write with the version its response carries, and nothing of a no-op', async () => {
      const client = new FakeKubeClient();
      let version = 10;
      const apply = client.apply.bind(client);
      client.apply = async (type, body, options) => {
        const stored = (await apply(type, body, options)) as { metadata: object };
        return { ...stored, metadata: { ...stored.metadata, resourceVersion: String(++version) } };
      };
      const cache = new FakeCache();
      const written: string[] = [];
      const applier = createApplier({ client, cache, fieldManager: MANAGER, onWritten: (kind, object) => written.push(`${kind} ${object.name}@${object.resourceVersion ?? '-'}`) });
      const created = await applier.applyObject(deployment, owner);
      assert.ok(created.live);
      cache.objects.push(created.live);
      assert.equal((await applier.applyObject(deployment, owner)).outcome, 'unchanged');
      await applier.applyStatus(SMS_EXPERIMENT, { namespace: 'ns', name: 'demo' }, { observedGeneration: 2 });
      assert.deepEqual(written, [`Deployment ${deployment.metadata.name}@11`, 'SmsExperiment demo@12']);
    });

    it('applies the status subresource with force under the field manager', async () => {
      const { client, applier } = setup();
      assert.equal(await applier.applyStatus(SMS_EXPERIMENT, { namespace: 'ns', name: 'demo' }, { observedGeneration: 2 }), true);
      const [call] = client.callsOf('apply');
      assert.equal(call?.subresource, 'status');
      assert.equal(call?.force, true);
      assert.equal(call?.plural, 'smsexperiments');
      assert.deepEqual(call?.body, {
        apiVersion: 'experiments.sms-app.io/v1alpha1',
        kind: 'SmsExperiment',
        metadata: { namespace: 'ns', name: 'demo' },
        status: { observedGeneration: 2 },
      });
    });

    it('resolves false when the experiment is gone', async () => {
      const { client, applier } = setup();
      client.failWith = () => apiError(404, { kind: 'Status', code: 404 });
      assert.equal(await applier.applyStatus(SMS_EXPERIMENT, { namespace: 'ns', name: 'demo' }, {}), false);
    });
  });

  describe('conflictingManagers', () => {
    it('reads every manager from a 409 Status', () => {
      const error = apiError(409, {
        kind: 'Status',
        message: 'Apply failed with 2 conflicts: conflicts with "kubectl-edit" using apps/v1:\n- .spec.replicas\nconflicts with "helm" using apps/v1: .spec.template',
        details: { causes: [{ message: 'conflict with "kubectl-edit" using apps/v1', field: '.spec.replicas' }] },
      });
      assert.deepEqual(conflictingManagers(error), ['kubectl-edit', 'helm']);
      assert.deepEqual(conflictingManagers(new Error('x')), []);
    });
  });
});
