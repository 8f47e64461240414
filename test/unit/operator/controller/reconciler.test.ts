import assert from 'node:assert/strict';
import { smsExperimentSchema, type SmsExperiment, type SmsExperimentSpecInput, type SmsExperimentStatus } from '../../../../src/crd/schema.ts';
import {
  ObjectWriteError,
  OwnershipConflictError,
  type Applier,
  type ApplyReport,
  type LiveObjectReader,
} from '../../../../src/operator/apply/applier.ts';
import { createEventRecorder, type EventType } from '../../../../src/operator/runtime/events.ts';
import type { CacheEntry } from '../../../../src/operator/runtime/informers.ts';
import type { ReconcileResult } from '../../../../src/operator/runtime/metrics.ts';
import { liveMetadataSchema, refOf, type DesiredObject, type LiveObject, type ObjectRef } from '../../../../src/operator/kube/objects.ts';
import { createReconciler, PREVIOUS_INCARNATION_BOUND_MS, PREVIOUS_INCARNATION_RETRY_MS, ReconcileError } from '../../../../src/operator/controller/reconciler.ts';
import { EXPERIMENT_LABEL, render, RenderError, renderPlan } from '../../../../src/operator/render/index.ts';
import { ownedResourceTypes } from '../../../../src/operator/controller/experiment.ts';
import { typeKey, type ResourceType, type TypeRef } from '../../../../src/operator/kube/resources.ts';
import { FakeKubeClient } from '../support/fake-kube.ts';
import { flushPromises, ManualClock } from '../support/manual-clock.ts';
import { memoryLogger } from '../support/memory-logger.ts';

const NAMESPACE = 'team';
const NAME = 'demo';
/** The stable versions' Deployments (no role suffix), e.g. demo-app and demo-model. */
const stableOnly = (name: string) => !/-(canary|shadow)$/.test(name);
const KEY = `${NAMESPACE}/${NAME}`;
const UID = 'uid-demo';
const T0 = Date.parse('2026-01-01T00:00:00Z');

function experiment(spec: SmsExperimentSpecInput = { mode: 'canary' }, status?: SmsExperimentStatus, generation = 3): SmsExperiment {
  return smsExperimentSchema.parse({
    apiVersion: 'experiments.sms-app.io/v1alpha1',
    kind: 'SmsExperiment',
    metadata: { name: NAME, namespace: NAMESPACE, uid: UID, generation, resourceVersion: '100' },
    spec,
    ...(status ? { status } : {}),
  });
}

function validEntry(object: SmsExperiment): CacheEntry<SmsExperiment> {
  return { valid: true, object, metadata: liveMetadataSchema.parse(object.metadata) };
}

class FakeCache implements LiveObjectReader {
  readonly objects: LiveObject[] = [];

  get(type: TypeRef, namespace: string, name: string): LiveObject | undefined {
    return this.objects.find((o) => typeKey(o) === typeKey(type) && o.metadata.namespace === namespace && o.metadata.name === name);
  }

  listOfExperiment(type: TypeRef, namespace: string, experiment: string): readonly LiveObject[] {
    return this.objects.filter((o) => typeKey(o) === typeKey(type) && o.metadata.namespace === namespace && o.metadata.labels?.[EXPERIMENT_LABEL] === experiment);
  }

  /** Every desired Deployment (or those `only` picks) as the controller reports it once its pods are up. */
  addAvailableDeployments(desired: readonly DesiredObject[], ownerUid = UID, only: (name: string) => boolean = () => true): void {
    for (const object of desired.filter((o) => o.kind === 'Deployment' && only(o.metadata.name))) {
      const replicas = (object.spec as { replicas: number }).replicas;
      this.objects.push({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: {
          name: object.metadata.name,
          namespace: NAMESPACE,
          generation: 1,
          ownerReferences: [{ apiVersion: 'experiments.sms-app.io/v1alpha1', kind: 'SmsExperiment', name: NAME, uid: ownerUid, controller: true }],
        },
        status: { observedGeneration: 1, replicas, updatedReplicas: replicas, readyReplicas: replicas, availableReplicas: replicas },
      });
    }
  }
}

class FakeApplier implements Applier {
  readonly applied: DesiredObject[][] = [];
  readonly pruned: Array<{ keep: readonly ObjectRef[]; types: readonly ResourceType[] }> = [];
  readonly statuses: SmsExperimentStatus[] = [];
  failures: (desired: readonly DesiredObject[]) => Array<OwnershipConflictError | ObjectWriteError> = () => [];
  pruneError: Error | undefined;
  statusError: Error | undefined;
  prunedObjects: ObjectRef[] = [];

  applyObject(): Promise<ApplyReport> {
    return Promise.reject(new Error('not used by the reconciler'));
  }

  applyAll(desired: readonly DesiredObject[]) {
    this.applied.push([...desired]);
    const failures = this.failures(desired);
    const failed = new Set(failures.map((failure) => `${failure.object.kind}/${failure.object.name}`));
    const reports: ApplyReport[] = desired
      .map(refOf)
      .filter((ref) => !failed.has(`${ref.kind}/${ref.name}`))
      .map((object) => ({ object, outcome: 'unchanged' as const }));
    return Promise.resolve({ reports, failures });
  }

  prune(_owner: unknown, keep: readonly ObjectRef[], types: readonly ResourceType[]): Promise<ObjectRef[]> {
    this.pruned.push({ keep, types });
    return this.pruneError ? Promise.reject(this.pruneError) : Promise.resolve(this.prunedObjects);
  }

  applyStatus(_type: ResourceType, _experiment: unknown, status: unknown): Promise<boolean> {
    if (this.statusError) return Promise.reject(this.statusError);
    this.statuses.push(status as SmsExperimentStatus);
    return Promise.resolve(true);
  }
}

interface RecordedEvent {
  type: EventType;
  reason: string;
  message: string;
}

function setup(options: { monitoring?: boolean; render?: typeof renderPlan } = {}) {
  const entries = new Map<string, CacheEntry<SmsExperiment>>();
  const cache = new FakeCache();
  const pods = new FakeCache();
  const transitions: string[] = [];
  const applier = new FakeApplier();
  const reconciles: Array<{ result: ReconcileResult; reason: string | undefined }> = [];
  const deleted: string[] = [];
  const clock = new ManualClock(T0);
  const { logger, lines } = memoryLogger();
  // The real recorder on a fake API client: events land in its create calls, lines in the log.
  const client = new FakeKubeClient();
  const recorder = createEventRecorder({ client, reportingController: 'test', reportingInstance: 'test', logger, clock });
  let seen = 0;
  const events: RecordedEvent[] & { clear(): void } = Object.assign([], {
    clear() {
      seen = client.callsOf('create').length;
      events.length = 0;
    },
  });
  const collectEvents = () => {
    const created = client.callsOf('create').slice(seen);
    seen += created.length;
    events.push(...created.map((call) => call.body as RecordedEvent & { note: string }).map(({ type, reason, note }) => ({ type, reason, message: note })));
  };
  const monitoring = options.monitoring ?? true;
  const reconcileKey = createReconciler({
    experiments: { lookup: (namespace, name) => entries.get(`${namespace}/${name}`), all: () => entries.values() },
    liveObjects: cache,
    pods,
    applier,
    recorder,
    metrics: {
      observeReconcile: (result, _seconds, reason) => reconciles.push({ result, reason }),
      countConditionTransition: (condition, status, reason) => transitions.push(`${condition}=${status} ${reason}`),
      setConditions: () => undefined,
      forgetExperiment: () => undefined,
    },
    clock,
    logger,
    render: options.render ?? renderPlan,
    monitoring,
    ownedTypes: ownedResourceTypes({ monitoring }),
    onDeleted: (key) => deleted.push(key),
  });
  const reconcile = async (key: string) => {
    try {
      return await reconcileKey(key);
    } finally {
      await flushPromises();
      collectEvents();
    }
  };
  /** Stores an experiment in the cache, as the watch would deliver it. */
  const store = (object: SmsExperiment) => entries.set(KEY, validEntry(object));
  return { entries, cache, pods, applier, events, reconciles, transitions, deleted, clock, lines, reconcile, store };
}

const conditionsOf = (status: SmsExperimentStatus | undefined) =>
  Object.fromEntries((status?.conditions ?? []).map((c) => [c.type, `${c.status} ${c.reason}`]));

describe('reconciler', () => {
  it('forgets a deleted experiment and writes nothing', async () => {
    const { reconcile, applier, deleted, reconciles } = setup();
    assert.equal(await reconcile(KEY), undefined);
    assert.deepEqual(deleted, [KEY]);
    assert.equal(applier.applied.length + applier.statuses.length, 0);
    assert.deepEqual(reconciles, [{ result: 'success', reason: undefined }]);
  });

  it('leaves an experiment that is being deleted to garbage collection', async () => {
    const { reconcile, applier, store } = setup();
    const deleting = experiment();
    deleting.metadata.deletionTimestamp = '2026-01-01T00:00:00Z';
    store(deleting);
    await reconcile(KEY);
    assert.equal(applier.applied.length + applier.statuses.length, 0);
  });

  describe('a first pass', () => {
    it('applies everything rendered, routing last, prunes the rest of the owned kinds, and writes the whole status once', async () => {
      const { reconcile, applier, store, reconciles, cache } = setup();
      const object = experiment();
      store(object);
      cache.addAvailableDeployments(render(object, { monitoring: true }), UID, stableOnly);
      await reconcile(KEY);

      // The stable versions answer, no canary pod exists yet: the routing gives it nothing, and the status says so.
      const desired = render(object, { monitoring: true, traffic: { weights: { stable: 100, canary: 0 }, canaryHost: false, pairedModel: false, mirrorPercent: 0 } });
      const [staging, routing, narrowed] = applier.applied;
      assert.deepEqual(staging, desired.filter((o) => o.kind !== 'VirtualService'), 'wave 1: everything but the VirtualServices');
      assert.deepEqual(routing, desired.filter((o) => o.kind === 'VirtualService'), 'wave 2: the routing');
      assert.deepEqual(narrowed, desired.filter((o) => o.kind === 'DestinationRule'), 'wave 3: DestinationRules as routing names them');
      assert.deepEqual(applier.pruned[0]?.keep, desired.map(refOf));
      assert.deepEqual(applier.pruned[0]?.types.map((t) => t.kind), ownedResourceTypes({ monitoring: true }).map((t) => t.kind));
      assert.equal(applier.statuses.length, 1);
      const [status] = applier.statuses;
      assert.equal(status?.observedGeneration, 3);
      assert.equal(status?.mode, 'canary');
      assert.deepEqual(status?.weights, { stable: 100, canary: 0 }, 'the weights in effect, not the spec');
      assert.equal(status?.mirrorPercent, 0);
      assert.equal(status?.ready, '2/4');
      assert.deepEqual(status?.replicas?.map((r) => `${r.component}/${r.role}/${r.version}/${r.deployment} ${r.ready}/${r.desired}`), [
        'app/stable/v1/demo-app 1/1',
        'app/canary/v2/demo-app-canary 0/1',
        'model/stable/v1/demo-model 1/1',
        'model/canary/v2/demo-model-canary 0/1',
      ]);
      assert.deepEqual(status?.ownedObjects, desired.map(({ apiVersion, kind, metadata }) => ({ apiVersion, kind, name: metadata.name })));
      assert.deepEqual(conditionsOf(status), {
        Ready: 'False DeploymentsNotReady',
        Progressing: 'True RolloutInProgress',
        Degraded: 'False Reconciled',
      });
      assert.match(status?.conditions?.[0]?.message ?? '', /canary weight held at 0% \(spec 10%\): Deployment demo-app-canary does not exist yet/);
      assert.deepEqual(reconciles, [{ result: 'success', reason: undefined }]);
    });

    it('creates no VirtualService while no stable pod can answer, then the routing with the split in one apply', async () => {
      const { reconcile, applier, store, cache } = setup();
      const object = experiment();
      store(object);
      await reconcile(KEY);
      assert.deepEqual(applier.applied.length, 1, 'wave 1 only');
      assert.ok(applier.applied[0]?.every((o) => o.kind !== 'VirtualService'));
      const [first] = applier.statuses;
      assert.equal(first?.weights, undefined, 'no traffic is in effect');
      assert.equal(first?.claimedHosts, undefined, 'no host is routed yet');
      assert.deepEqual(conditionsOf(first), { Ready: 'False DeploymentsNotReady', Progressing: 'True RolloutInProgress', Degraded: 'False Reconciled' });
      assert.match(first?.conditions?.[0]?.message ?? '', /routing not created yet: the stable versions have no available pods/);

      cache.addAvailableDeployments(render(object, { monitoring: true }));
      store(experiment({ mode: 'canary' }, first));
      await reconcile(KEY);
      const routing = applier.applied.slice(1).flat().filter((o) => o.kind === 'VirtualService');
      assert.deepEqual(routing.map((o) => o.metadata.name).sort(), ['demo-model-vs', 'demo-vs']);
      assert.match(JSON.stringify(routing.find((o) => o.metadata.name === 'demo-vs')), /"subset":"v2"},"weight":10/);
      assert.deepEqual(applier.statuses[1]?.weights, { stable: 90, canary: 10 });
    });

    it('keeps an existing VirtualService up to date even while no stable pod can answer', async () => {
      const { reconcile, applier, store, cache } = setup();
      const object = experiment();
      store(object);
      const routing = render(object, { monitoring: true }).filter((o) => o.kind === 'VirtualService');
      cache.objects.push(...routing.map((o) => ({ ...o, metadata: { ...o.metadata, namespace: NAMESPACE } })));
      await reconcile(KEY);
      assert.equal(applier.applied.length, 3, 'all three waves');
      assert.ok(applier.applied[1]?.some((o) => o.kind === 'VirtualService'));
    });

    it('records one metric per condition transition, and no event for a new experiment whose pods are starting', async () => {
      const { reconcile, store, events, transitions } = setup();
      store(experiment());
      await reconcile(KEY);
      // Ready=False while pods start, Progressing=True, Degraded=False: the starting state the status shows.
      assert.deepEqual(events.map((e) => `${e.type} ${e.reason}`), []);
      assert.deepEqual(transitions, ['Ready=False DeploymentsNotReady', 'Progressing=True RolloutInProgress', 'Degraded=False Reconciled']);
    });
  });

  describe('writing only on change', () => {
    it('writes nothing and records nothing when the stored status already says it all', async () => {
      const { reconcile, applier, store, events, cache } = setup();
      cache.addAvailableDeployments(render(experiment(), { monitoring: true }), UID, stableOnly);
      store(experiment());
      await reconcile(KEY);
      store(experiment({ mode: 'canary' }, applier.statuses[0])); // the watch delivered the write
      events.clear();
      await reconcile(KEY);
      await reconcile(KEY);
      assert.equal(applier.statuses.length, 1);
      assert.equal(events.length, 0);
      assert.equal(applier.applied.length, 9, 'objects are still checked on every pass (drift), in three waves');
    });

    it('does not repeat a write (or its events) while the cache still holds the status from before it', async () => {
      // Without the monitoring CRDs a new experiment starts Degraded: its first pass records a Warning.
      const { reconcile, applier, store, events } = setup({ monitoring: false });
      store(experiment());
      await reconcile(KEY);
      await reconcile(KEY); // the cache has not seen the first write yet
      assert.equal(applier.statuses.length, 1);
      assert.equal(events.length, 1);
    });

    it('trusts the cache again after a while, so a status edited by hand gets repaired', async () => {
      const { reconcile, applier, store, clock } = setup();
      store(experiment());
      await reconcile(KEY);
      clock.advance(10_000);
      await reconcile(KEY); // the cache still shows no status: someone removed it
      assert.equal(applier.statuses.length, 2);
    });
  });

  it('becomes Ready, with the spec weights routed, when every Deployment in the cache is available, counting ready pods', async () => {
    const { reconcile, applier, store, cache, events } = setup();
    const object = experiment({ mode: 'canary', app: { stable: { replicas: 2 } } });
    store(object);
    await reconcile(KEY);
    cache.addAvailableDeployments(render(object, { monitoring: true }));
    store(experiment({ mode: 'canary', app: { stable: { replicas: 2 } } }, applier.statuses[0]));
    events.clear();
    await reconcile(KEY);

    const status = applier.statuses[1];
    assert.equal(status?.ready, '5/5');
    assert.deepEqual(status?.weights, { stable: 90, canary: 10 });
    assert.deepEqual(conditionsOf(status), { Ready: 'True Reconciled', Progressing: 'False Reconciled', Degraded: 'False Reconciled' });
    assert.deepEqual(events.map((e) => e.message.split(':')[0]), ['Ready is True'], 'Progressing moving with Ready is no news of its own');
    const routing = applier.applied.flat().find((o) => o.kind === 'VirtualService' && o.metadata.name === 'demo-vs');
    assert.match(JSON.stringify(routing), /"subset":"v2"},"weight":10/);
  });

  it('does not count a Deployment that someone else controls', async () => {
    const { reconcile, applier, store, cache } = setup();
    const object = experiment();
    store(object);
    cache.addAvailableDeployments(render(object, { monitoring: true }), 'uid-of-another-experiment');
    await reconcile(KEY);
    assert.equal(applier.statuses[0]?.ready, '0/4');
  });

  it('reports a Ready experiment whose pods go away with a Warning', async () => {
    const { reconcile, applier, store, cache, events } = setup();
    const object = experiment();
    cache.addAvailableDeployments(render(object, { monitoring: true }));
    store(object);
    await reconcile(KEY);
    cache.objects.length = 0;
    store(experiment({ mode: 'canary' }, applier.statuses[0]));
    events.clear();
    await reconcile(KEY);
    assert.deepEqual(events.map((e) => `${e.type} ${e.reason}`), ['Warning DeploymentsNotReady']);
  });

  it('reports what shadow mode puts in effect: stable only for users, the mirror percentage once the shadow can answer', async () => {
    const { reconcile, applier, store, cache } = setup();
    const object = experiment({ mode: 'shadow', traffic: { mirrorPercent: 2.5 } });
    store(object);
    cache.addAvailableDeployments(render(object, { monitoring: true }), UID, stableOnly);
    await reconcile(KEY);
    let status = applier.statuses[0];
    assert.equal(status?.mode, 'shadow');
    assert.deepEqual(status?.weights, { stable: 100, canary: 0 });
    assert.equal(status?.mirrorPercent, 0, 'no shadow pod yet: nothing mirrored');
    cache.objects.length = 0;
    cache.addAvailableDeployments(render(object, { monitoring: true }));
    store(experiment({ mode: 'shadow', traffic: { mirrorPercent: 2.5 } }, status));
    await reconcile(KEY);
    status = applier.statuses[1];
    assert.equal(status?.mirrorPercent, 2.5);
    assert.equal(status?.ready, '3/3');
    assert.ok(status?.ownedObjects?.some((o) => o.kind === 'Deployment' && o.name === 'demo-model-shadow'));
  });

  it('renders without monitoring objects under --skip-monitoring, and says so in Degraded', async () => {
    const { reconcile, applier, store } = setup({ monitoring: false });
    store(experiment());
    await reconcile(KEY);
    assert.ok(!applier.applied[0]?.some((o) => o.apiVersion.startsWith('monitoring.coreos.com/')));
    assert.ok(!applier.pruned[0]?.types.some((t) => t.apiVersion.startsWith('monitoring.coreos.com/')), 'monitoring kinds are not pruned either');
    const degraded = applier.statuses[0]?.conditions?.find((c) => c.type === 'Degraded');
    assert.equal(degraded?.reason, 'MonitoringCRDsMissing');
    assert.match(degraded?.message ?? '', /--skip-monitoring/);
  });

  it('reports pods running without the Istio sidecar as SidecarsMissing, judged on the pods', async () => {
    const { reconcile, applier, store, pods } = setup();
    store(experiment());
    const pod = (name: string, role: string, annotations?: Record<string, string>): LiveObject => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        namespace: NAMESPACE,
        labels: { 'experiments.sms-app.io/experiment': NAME, 'app.kubernetes.io/component': 'app', 'experiments.sms-app.io/role': role },
        ...(annotations ? { annotations } : {}),
      },
    });
    pods.objects.push(pod('a', 'stable', { 'sidecar.istio.io/status': '{}' }), pod('b', 'canary'));
    await reconcile(KEY);
    const degraded = applier.statuses[0]?.conditions?.find((c) => c.type === 'Degraded');
    assert.equal(degraded?.reason, 'SidecarsMissing');
    assert.match(degraded?.message ?? '', /^1 of 1 pods of Deployment demo-app-canary run without the Istio sidecar/);
  });

  describe('failures', () => {
    const conflict = (name: string) =>
      new OwnershipConflictError({ apiVersion: 'v1', kind: 'Service', namespace: NAMESPACE, name }, 'is not controlled by SmsExperiment demo', ['kubectl-create']);

    it('reports an ownership conflict in the conditions, a Warning event and the metric, skips prune and retries', async () => {
      const { reconcile, applier, store, events, reconciles, lines } = setup();
      const previous: SmsExperimentStatus = { mode: 'canary', weights: { stable: 90, canary: 10 }, mirrorPercent: 0 };
      store(experiment({ mode: 'canary', traffic: { weights: { stable: 50, canary: 50 } } }, previous));
      applier.failures = () => [conflict('demo-app')];

      await assert.rejects(reconcile(KEY), (error: unknown) => error instanceof ReconcileError && error.reason === 'OwnershipConflict');
      assert.equal(applier.pruned.length, 0, 'no prune after a failed apply');
      const status = applier.statuses[0];
      assert.deepEqual(conditionsOf(status), { Ready: 'False OwnershipConflict', Progressing: 'False OwnershipConflict', Degraded: 'True OwnershipConflict' });
      assert.match(status?.conditions?.[0]?.message ?? '', /Service team\/demo-app already exists and is not controlled by SmsExperiment demo; managed by kubectl-create/);
      assert.deepEqual(status?.weights, { stable: 90, canary: 10 }, 'the weights in effect are still the old ones');
      assert.equal(status?.observedGeneration, undefined, 'observedGeneration stays with the traffic in effect');
      assert.ok(!status?.ownedObjects?.some((o) => o.name === 'demo-app' && o.kind === 'Service'), 'the conflicting object is not ours');
      // One Warning that names the object; the condition transitions to the same reason add nothing.
      assert.deepEqual(events.map((e) => `${e.type} ${e.reason}`), ['Warning OwnershipConflict']);
      assert.match(events[0]?.message ?? '', /Service team\/demo-app already exists/);
      assert.deepEqual(reconciles, [{ result: 'error', reason: 'OwnershipConflict' }]);
      assert.ok(lines.some((line) => line.level === 'warn' && line.namespace === NAMESPACE && line.name === NAME));
    });

    it('names the ownership conflict first when several objects fail, and counts the rest', async () => {
      const { reconcile, applier, store } = setup();
      store(experiment());
      const refused = (name: string) => new ObjectWriteError('ApplyFailed', { apiVersion: 'v1', kind: 'ConfigMap', namespace: NAMESPACE, name }, new Error('boom'));
      applier.failures = () => [refused('a'), refused('b'), conflict('demo-app'), refused('c')];
      await assert.rejects(reconcile(KEY));
      const ready = applier.statuses[0]?.conditions?.find((c) => c.type === 'Ready');
      assert.equal(ready?.reason, 'OwnershipConflict');
      assert.match(ready?.message ?? '', /; and 1 more$/);
    });

    it('waits quietly for garbage collection of a deleted experiment of the same name, for a bounded time', async () => {
      const { reconcile, applier, store, events, reconciles, clock } = setup();
      store(experiment());
      applier.failures = () => [
        new OwnershipConflictError({ apiVersion: 'v1', kind: 'Service', namespace: NAMESPACE, name: 'demo-app' }, 'is still controlled by a deleted SmsExperiment', [], true),
      ];
      assert.deepEqual(await reconcile(KEY), { requeueAfterMs: PREVIOUS_INCARNATION_RETRY_MS });
      assert.equal(applier.statuses.length, 0);
      assert.equal(events.length, 0);
      assert.deepEqual(reconciles, [{ result: 'requeue', reason: undefined }]);

      clock.advance(PREVIOUS_INCARNATION_BOUND_MS);
      await assert.rejects(reconcile(KEY), (error: unknown) => error instanceof ReconcileError && error.reason === 'PreviousExperimentNotGone');
      assert.equal(conditionsOf(applier.statuses[0]).Ready, 'False PreviousExperimentNotGone');
      assert.match(applier.statuses[0]?.conditions?.[0]?.message ?? '', /still being garbage-collected after 30s: Service team\/demo-app/);
      assert.deepEqual(events.map((e) => `${e.type} ${e.reason}`), ['Warning PreviousExperimentNotGone']);
    });

    it('reports a failed prune as PruneFailed', async () => {
      const { reconcile, applier, store, events } = setup();
      store(experiment());
      applier.pruneError = new ObjectWriteError('PruneFailed', { apiVersion: 'apps/v1', kind: 'Deployment', namespace: NAMESPACE, name: 'demo-model-shadow' }, new Error('forbidden'));
      await assert.rejects(reconcile(KEY), /Failed to delete Deployment team\/demo-model-shadow: forbidden/);
      assert.equal(conditionsOf(applier.statuses[0]).Ready, 'False PruneFailed');
      assert.ok(events.some((e) => e.type === 'Warning' && e.reason === 'PruneFailed'));
    });

    it('reports an experiment the zod schema refuses as InvalidSpec, keeps the rest of the status, and does not retry', async () => {
      const { reconcile, applier, entries, events, reconciles } = setup();
      const metadata = liveMetadataSchema.parse({ name: NAME, namespace: NAMESPACE, uid: UID, generation: 4 });
      entries.set(KEY, {
        valid: false,
        error: 'spec.traffic.weights: must add up to 100',
        metadata,
        raw: { metadata, status: { mode: 'canary', ready: '4/4' } },
      });
      assert.equal(await reconcile(KEY), undefined, 'no retry: only an edit can fix it');
      assert.equal(applier.applied.length, 0);
      const status = applier.statuses[0];
      assert.equal(status?.observedGeneration, undefined, 'the generation in effect is still the one before');
      assert.equal(status?.ready, '4/4');
      assert.equal(conditionsOf(status).Ready, 'False InvalidSpec');
      assert.ok(events.some((e) => e.type === 'Warning' && e.reason === 'InvalidSpec' && /must add up to 100/.test(e.message)));
      assert.deepEqual(reconciles, [{ result: 'error', reason: 'InvalidSpec' }]);
    });

    it('reports a spec the renderer refuses as InvalidSpec', async () => {
      const { reconcile, applier, store } = setup({
        render: () => {
          throw new RenderError(NAME, ['versions collide']);
        },
      });
      store(experiment());
      await reconcile(KEY);
      assert.equal(conditionsOf(applier.statuses[0]).Ready, 'False InvalidSpec');
    });

    it('retries a failed status write, logging it and counting it', async () => {
      const { reconcile, applier, store, reconciles, lines } = setup();
      store(experiment());
      applier.statusError = new Error('connect ECONNREFUSED');
      await assert.rejects(reconcile(KEY), (error: unknown) => error instanceof ReconcileError && error.reason === 'StatusWriteFailed');
      assert.deepEqual(reconciles, [{ result: 'error', reason: 'StatusWriteFailed' }]);
      assert.ok(lines.some((line) => line.msg === 'Failed to write status' && line.namespace === NAMESPACE));
    });
  });
});
