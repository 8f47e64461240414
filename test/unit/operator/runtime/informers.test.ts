import assert from 'node:assert/strict';
import { KubeConfig, ListWatch, Watch, type Informer, type KubernetesObject, type ObjectCache } from '@kubernetes/client-node';
import { pino } from 'pino';
import { smsExperimentSchema, type SmsExperiment } from '../../../../src/crd/schema.ts';
import {
  describeWatchError,
  InformerSet,
  ResourceInformer,
  startPeriodicResync,
  type InformerFactory,
  type ResourceInformerOptions,
} from '../../../../src/operator/runtime/informers.ts';
import { liveObjectSchema, type LiveObject } from '../../../../src/operator/kube/objects.ts';
import { slimManagedFields } from '../../../../src/operator/kube/slim.ts';
import { keysOfExperiment, keysOfOwner, SMS_EXPERIMENT } from '../../../../src/operator/controller/experiment.ts';
import { DEPLOYMENT, NAMESPACE } from '../../../../src/operator/kube/resources.ts';
import { ApiException } from '@kubernetes/client-node';
import { FakeKubeClient } from '../support/fake-kube.ts';
import { flushPromises, ManualClock } from '../support/manual-clock.ts';

type Callback = (arg: KubernetesObject) => void;

/** Stands in for client-node's ListWatch: lists on start, or fails, as the test scripts it. */
class FakeListWatch implements Informer<KubernetesObject>, ObjectCache<KubernetesObject> {
  readonly callbacks = new Map<string, Callback[]>();
  /** What each start() does, in order; after the script runs out, starts succeed without a list. */
  readonly script: Array<'list' | 'fail' | 'resume' | 'throw'> = ['list'];
  starts = 0;
  stops = 0;

  readonly path: string;
  readonly listFn: () => Promise<{ items: KubernetesObject[] }>;
  readonly labelSelector: string | undefined;

  constructor(path: string, listFn: () => Promise<{ items: KubernetesObject[] }>, labelSelector: string | undefined) {
    this.path = path;
    this.listFn = listFn;
    this.labelSelector = labelSelector;
  }

  on(verb: string, callback: Callback): void {
    this.callbacks.set(verb, [...(this.callbacks.get(verb) ?? []), callback]);
  }

  off(): void {}

  emit(verb: 'add' | 'update' | 'delete' | 'error', arg: unknown): void {
    for (const callback of this.callbacks.get(verb) ?? []) callback(arg as KubernetesObject);
  }

  async start(): Promise<void> {
    this.starts++;
    const step = this.script.shift() ?? 'resume';
    if (step === 'throw') throw new Error('No currently active cluster');
    if (step === 'fail') {
      this.emit('error', new Error('connect ECONNREFUSED'));
      return;
    }
    if (step === 'list') {
      const { items } = await this.listFn();
      for (const item of items) this.emit('add', item);
    }
  }

  stop(): Promise<void> {
    this.stops++;
    return Promise.resolve();
  }

  get(): KubernetesObject | undefined {
    return undefined;
  }

  list(): ReadonlyArray<KubernetesObject> {
    return [];
  }
}


type WatchCallback = (phase: string, object: unknown, watchObject?: unknown) => void;
type DoneCallback = (error: unknown) => void;

/** client-node's Watch with the HTTP stream replaced by the test: it sends events and ends watches. */
class ScriptedWatch extends Watch {
  readonly opened: Array<{ resourceVersion: string; send: WatchCallback; end: DoneCallback }> = [];

  constructor() {
    super(new KubeConfig());
  }

  override watch(_path: string, queryParams: Record<string, unknown>, callback: WatchCallback, done: DoneCallback): Promise<AbortController> {
    this.opened.push({ resourceVersion: String(queryParams.resourceVersion), send: callback, end: done });
    return Promise.resolve(new AbortController());
  }

  get current() {
    const last = this.opened.at(-1);
    assert.ok(last, 'a watch is open');
    return last;
  }
}

function ownedDeployment(name: string, experiment: string, resourceVersion = '1'): KubernetesObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name,
      namespace: 'ns',
      resourceVersion,
      ownerReferences: [{ apiVersion: 'experiments.sms-app.io/v1alpha1', kind: 'SmsExperiment', name: experiment, uid: 'u', controller: true }],
    },
  };
}

function setup<T>(
  overrides: Partial<ResourceInformerOptions<T>> & Pick<ResourceInformerOptions<T>, 'schema' | 'keysOf'>,
  script?: FakeListWatch['script'],
) {
  const client = new FakeKubeClient();
  const clock = new ManualClock();
  const enqueued: string[] = [];
  const restarts: string[] = [];
  const recovered: string[] = [];
  let fake: FakeListWatch | undefined;
  const makeInformer: InformerFactory = (path, list, labelSelector) => {
    fake = new FakeListWatch(path, list, labelSelector);
    if (script) fake.script.splice(0, fake.script.length, ...script);
    return fake;
  };
  const informer = new ResourceInformer<T>({
    type: DEPLOYMENT,
    namespace: 'ns',
    client,
    makeInformer,
    logger: pino({ level: 'silent' }),
    enqueue: (key) => enqueued.push(key),
    onRestart: (kind) => restarts.push(kind),
    onRecovered: (kind) => recovered.push(kind),
    clock,
    backoff: { baseMs: 100, capMs: 400 },
    ...overrides,
  });
  const listWatch = () => {
    assert.ok(fake, 'informer created');
    return fake;
  };
  return { client, clock, enqueued, restarts, recovered, informer, listWatch };
}

describe('informers', () => {
  describe('ResourceInformer', () => {
    it('watches the namespaced path with the label selector and lists through the client', async () => {
      const { client, informer, listWatch } = setup({ schema: liveObjectSchema, keysOf: keysOfOwner, labelSelector: 'a=b' });
      client.objects.set('deployments/ns/one', ownedDeployment('one', 'exp'));
      informer.start();
      await flushPromises();
      assert.equal(listWatch().path, '/apis/apps/v1/namespaces/ns/deployments');
      assert.equal(listWatch().labelSelector, 'a=b');
      assert.deepEqual(client.callsOf('list'), [{ verb: 'list', plural: 'deployments', namespace: 'ns', labelSelector: 'a=b' }]);
      assert.equal(informer.get('ns', 'one')?.metadata.name, 'one');
    });

    it('caches listed items of built-in kinds, which the API server sends without apiVersion and kind', async () => {
      const { client, informer } = setup({ schema: liveObjectSchema, keysOf: keysOfOwner });
      const { apiVersion: _apiVersion, kind: _kind, ...asListed } = ownedDeployment('one', 'exp') as { apiVersion: string; kind: string };
      client.objects.set('deployments/ns/one', asListed);
      informer.start();
      await flushPromises();
      const entry = informer.lookup('ns', 'one');
      assert.equal(entry?.valid, true, entry?.valid === false ? entry.error : '');
      assert.equal(informer.get('ns', 'one')?.kind, 'Deployment');
    });

    it('is synced only after the first list reached the cache', async () => {
      const { informer, listWatch } = setup({ schema: liveObjectSchema, keysOf: keysOfOwner });
      assert.equal(informer.hasSynced(), false);
      informer.start();
      assert.equal(informer.hasSynced(), false);
      await flushPromises();
      assert.equal(informer.hasSynced(), true);
      assert.equal(listWatch().starts, 1);
    });

    it('maps every event to the owning experiment key and keeps the cache current', async () => {
      const { informer, enqueued, listWatch } = setup({ schema: liveObjectSchema, keysOf: keysOfOwner });
      informer.start();
      await flushPromises();
      listWatch().emit('add', ownedDeployment('a-v1', 'exp-a'));
      listWatch().emit('update', ownedDeployment('a-v1', 'exp-a', '2'));
      listWatch().emit('add', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'unowned', namespace: 'ns' } });
      listWatch().emit('delete', ownedDeployment('a-v1', 'exp-a', '3'));
      assert.deepEqual(enqueued, ['ns/exp-a', 'ns/exp-a', 'ns/exp-a']);
      assert.equal(informer.get('ns', 'a-v1'), undefined, 'deleted from the cache');
      assert.equal(informer.list('ns').length, 1);
    });

    it('indexes the cache by a label: an object moves when its label changes and leaves on delete', async () => {
      const label = 'experiments.sms-app.io/experiment';
      const { informer, listWatch } = setup({ schema: liveObjectSchema, keysOf: keysOfOwner, indexLabel: label, cacheReceivedObjects: true });
      informer.start();
      await flushPromises();
      const labelled = (name: string, experiment: string | undefined, resourceVersion = '1', namespace = 'ns'): KubernetesObject => ({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name, namespace, resourceVersion, ...(experiment === undefined ? {} : { labels: { [label]: experiment } }) },
      });
      const names = (experiment: string, namespace = 'ns') => informer.listByLabel(namespace, experiment).map((object) => object.metadata.name).sort();
      listWatch().emit('add', labelled('a-1', 'a'));
      listWatch().emit('add', labelled('a-2', 'a'));
      listWatch().emit('add', labelled('b-1', 'b'));
      listWatch().emit('add', labelled('loose', undefined));
      listWatch().emit('add', labelled('a-1', 'a', '1', 'other'));
      assert.deepEqual(names('a'), ['a-1', 'a-2']);
      assert.deepEqual(names('a', 'other'), ['a-1'], 'the index is per namespace');
      listWatch().emit('update', labelled('a-2', 'b', '2'));
      assert.deepEqual([names('a'), names('b')], [['a-1'], ['a-2', 'b-1']], 'a relabelled object moves');
      listWatch().emit('update', labelled('b-1', undefined, '2'));
      listWatch().emit('delete', labelled('a-1', 'a', '2'));
      assert.deepEqual([names('a'), names('b')], [[], ['a-2']], 'an unlabelled or deleted object leaves');
      assert.equal(informer.list('ns').length, 3, 'the cache itself still holds every object');
      const plain = setup({ schema: liveObjectSchema, keysOf: keysOfOwner }).informer;
      assert.throws(() => plain.listByLabel('ns', 'a'), /has no label index/);
    });

    it('caches the operator\'s own writes without enqueueing them; a delete clears its record and always enqueues', async () => {
      const own = new Set(['a-v1@2', 'a-v1@4']);
      const asked: string[] = [];
      const { informer, enqueued, listWatch } = setup({
        schema: liveObjectSchema,
        keysOf: keysOfOwner,
        isOwnWrite: (metadata) => {
          asked.push(metadata.resourceVersion ?? '');
          return own.has(`${metadata.name}@${metadata.resourceVersion ?? ''}`);
        },
      });
      informer.start();
      await flushPromises();
      listWatch().emit('add', ownedDeployment('a-v1', 'exp-a', '1'));
      listWatch().emit('update', ownedDeployment('a-v1', 'exp-a', '2'));
      assert.equal(informer.get('ns', 'a-v1')?.metadata.resourceVersion, '2', 'cached all the same');
      listWatch().emit('update', ownedDeployment('a-v1', 'exp-a', '3'));
      listWatch().emit('delete', ownedDeployment('a-v1', 'exp-a', '4'));
      assert.deepEqual(enqueued, ['ns/exp-a', 'ns/exp-a', 'ns/exp-a'], 'the add, version 3 and the delete');
      assert.deepEqual(asked, ['1', '2', '3', '4'], 'asked of every event, the delete too, so no record outlives its object');
    });

    it('caches the received object itself with cacheReceivedObjects, and a parsed copy without', async () => {
      for (const cacheReceivedObjects of [true, false]) {
        const { informer, listWatch } = setup({ schema: liveObjectSchema, keysOf: keysOfOwner, cacheReceivedObjects });
        informer.start();
        await flushPromises();
        const received = ownedDeployment('shared', 'exp');
        listWatch().emit('add', received);
        const cached = informer.get('ns', 'shared');
        assert.deepEqual(cached, received);
        assert.equal(cached === received, cacheReceivedObjects, `cacheReceivedObjects: ${cacheReceivedObjects}`);
      }
    });

    it('slims each received object in place before caching it, so client-node\'s ListWatch holds the slim one too', async () => {
      const scripted = new ScriptedWatch();
      let listWatch: ListWatch<KubernetesObject> | undefined;
      const { client, informer } = setup({
        schema: liveObjectSchema,
        keysOf: keysOfOwner,
        cacheReceivedObjects: true,
        slim: slimManagedFields,
        makeInformer: (path, list, labelSelector) => (listWatch = new ListWatch(path, scripted, list, false, labelSelector)),
      });
      const withFields = (object: KubernetesObject) => ({
        ...object,
        metadata: { ...object.metadata, managedFields: [{ manager: 'm', operation: 'Apply', time: 't', fieldsV1: { 'f:spec': { 'f:replicas': {} } } }] },
      });
      client.objects.set('deployments/ns/one', withFields(ownedDeployment('one', 'exp')));
      informer.start();
      await flushPromises();
      const slimEntry = [{ manager: 'm', operation: 'Apply', fieldsV1: { 'f:spec': {} } }];
      assert.deepEqual(informer.get('ns', 'one')?.metadata.managedFields, slimEntry, 'listed');
      assert.equal(listWatch?.get('one', 'ns'), informer.get('ns', 'one'), 'one object, shared with the ListWatch');
      scripted.current.send('MODIFIED', withFields(ownedDeployment('one', 'exp', '2')));
      assert.deepEqual(informer.get('ns', 'one')?.metadata.managedFields, slimEntry, 'watched');
      assert.equal(listWatch?.get('one', 'ns'), informer.get('ns', 'one'));
      await informer.stop();
    });

    it('with releaseAfterParse, keeps only the parsed copy of a valid object, and all of an invalid one', async () => {
      const scripted = new ScriptedWatch();
      let listWatch: ListWatch<KubernetesObject> | undefined;
      const { informer, enqueued } = setup<SmsExperiment>({
        type: SMS_EXPERIMENT,
        schema: smsExperimentSchema,
        keysOf: keysOfExperiment,
        releaseAfterParse: true,
        makeInformer: (path, list, labelSelector) => (listWatch = new ListWatch(path, scripted, list, false, labelSelector)),
      });
      informer.start();
      await flushPromises();
      const experiment = (name: string, resourceVersion: string, mode: string) => ({
        apiVersion: 'experiments.sms-app.io/v1alpha1',
        kind: 'SmsExperiment',
        metadata: { name, namespace: 'ns', uid: `uid-${name}`, resourceVersion, generation: 1, labels: { team: 'a' } },
        spec: { mode },
        status: { observedGeneration: 1 },
      });
      scripted.current.send('ADDED', experiment('good', '1', 'canary'));
      scripted.current.send('ADDED', experiment('bad', '2', 'blue-green'));
      assert.equal(informer.get('ns', 'good')?.spec.mode, 'canary');
      assert.equal(informer.get('ns', 'good')?.metadata.labels?.team, 'a');
      assert.equal(informer.get('ns', 'good')?.status?.observedGeneration, 1);
      assert.deepEqual(listWatch?.get('good', 'ns'), {
        apiVersion: 'experiments.sms-app.io/v1alpha1',
        kind: 'SmsExperiment',
        metadata: { namespace: 'ns', name: 'good', uid: 'uid-good', resourceVersion: '1' },
      });
      const bad = informer.lookup('ns', 'bad');
      assert.deepEqual(bad?.valid === false ? bad.raw : undefined, experiment('bad', '2', 'blue-green'), 'an invalid object keeps its status');
      assert.deepEqual(listWatch?.get('bad', 'ns'), experiment('bad', '2', 'blue-green'));
      // The ListWatch still tells later versions and deletes apart on the released object.
      scripted.current.send('MODIFIED', experiment('good', '3', 'shadow'));
      assert.equal(informer.get('ns', 'good')?.spec.mode, 'shadow');
      scripted.current.send('DELETED', experiment('good', '4', 'shadow'));
      assert.equal(informer.lookup('ns', 'good'), undefined);
      assert.deepEqual(enqueued, ['ns/good', 'ns/bad', 'ns/good', 'ns/good']);
      await informer.stop();
    });

    it('keeps an object that fails its schema as invalid, still enqueuing its key', async () => {
      const { informer, enqueued, listWatch } = setup<SmsExperiment>({
        type: SMS_EXPERIMENT,
        schema: smsExperimentSchema,
        keysOf: keysOfExperiment,
      });
      informer.start();
      await flushPromises();
      listWatch().emit('add', {
        apiVersion: 'experiments.sms-app.io/v1alpha1',
        kind: 'SmsExperiment',
        metadata: { name: 'good', namespace: 'ns', generation: 1 },
        spec: { mode: 'canary' },
      });
      listWatch().emit('add', {
        apiVersion: 'experiments.sms-app.io/v1alpha1',
        kind: 'SmsExperiment',
        metadata: { name: 'bad', namespace: 'ns', generation: 1 },
        spec: { mode: 'blue-green' },
      });
      assert.deepEqual(enqueued, ['ns/good', 'ns/bad']);
      assert.equal(informer.get('ns', 'good')?.spec.traffic.weights.stable, 90, 'parsed with defaults');
      const bad = informer.lookup('ns', 'bad');
      assert.equal(bad?.valid, false);
      assert.match(bad?.valid === false ? bad.error : '', /spec\.mode/);
      assert.equal(informer.get('ns', 'bad'), undefined);
      assert.equal([...informer.entries()].length, 2);
    });

    it('caches a cluster-scoped kind under the empty namespace and fans one event out to several keys', async () => {
      const { informer, enqueued, listWatch } = setup({
        type: NAMESPACE,
        namespace: undefined,
        schema: liveObjectSchema,
        keysOf: ({ metadata }) => [`${metadata.name}/exp-1`, `${metadata.name}/exp-2`],
      });
      informer.start();
      await flushPromises();
      assert.equal(listWatch().path, '/api/v1/namespaces');
      listWatch().emit('update', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a', labels: { 'istio-injection': 'enabled' } } });
      assert.deepEqual(enqueued, ['team-a/exp-1', 'team-a/exp-2']);
      assert.equal(informer.get('', 'team-a')?.metadata.labels?.['istio-injection'], 'enabled');
    });

    it('ignores an object without a namespace', async () => {
      const { informer, enqueued, listWatch } = setup({ schema: liveObjectSchema, keysOf: keysOfOwner });
      informer.start();
      await flushPromises();
      listWatch().emit('add', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x' } });
      assert.deepEqual(enqueued, []);
    });

    it('restarts after errors with growing delays, counts restarts, and reports recovery', async () => {
      const { clock, informer, restarts, recovered, listWatch } = setup({ schema: liveObjectSchema, keysOf: keysOfOwner });
      informer.start();
      await flushPromises();
      const lw = listWatch();
      lw.script.push('fail', 'fail', 'throw', 'resume');

      lw.emit('error', new Error('watch closed with error'));
      assert.deepEqual(clock.pendingDelays(), [100]);
      lw.emit('error', new Error('duplicate report of the same failure'));
      assert.equal(clock.pendingTimers, 1, 'one restart scheduled at a time');
      for (const delay of [100, 200, 400, 400]) {
        assert.deepEqual(clock.pendingDelays(), [delay]);
        clock.advance(delay);
        await flushPromises();
      }
      assert.equal(lw.starts, 5);
      assert.deepEqual(restarts, ['Deployment', 'Deployment', 'Deployment', 'Deployment']);
      assert.deepEqual(recovered, ['Deployment']);
      assert.equal(clock.pendingTimers, 0);
      assert.equal(informer.hasSynced(), true, 'stays synced through an outage: the cache is stale, not empty');

      lw.script.push('fail');
      lw.emit('error', new Error('again'));
      assert.deepEqual(clock.pendingDelays(), [100], 'backoff restarts from the base after a recovery');
    });

    it('is not synced while the first list keeps failing', async () => {
      const { clock, informer } = setup({ schema: liveObjectSchema, keysOf: keysOfOwner }, ['fail', 'fail', 'list']);
      informer.start();
      await flushPromises();
      assert.equal(informer.hasSynced(), false);
      clock.advance(100);
      await flushPromises();
      assert.equal(informer.hasSynced(), false);
      clock.advance(200);
      await flushPromises();
      assert.equal(informer.hasSynced(), true, 'synced by the first list that succeeded');
    });

    it('names the last list error while not synced, and forgets it once the list succeeds', async () => {
      const { client, clock, informer } = setup({ schema: liveObjectSchema, keysOf: keysOfOwner }, ['list', 'list']);
      const forbidden = 'deployments.apps is forbidden: User "system:serviceaccount:x:y" cannot list resource "deployments"';
      const status = { kind: 'Status', status: 'Failure', message: forbidden, reason: 'Forbidden', code: 403 };
      client.failWith = (call) => (call.verb === 'list' ? new ApiException<unknown>(403, `GET /apis/apps/v1/namespaces/ns/deployments failed: ${forbidden}`, status, {}) : undefined);
      informer.start();
      await flushPromises();
      assert.equal(informer.hasSynced(), false);
      assert.equal(informer.lastError(), `HTTP 403: ${forbidden}`);
      const set = new InformerSet([informer]);
      assert.deepEqual(set.unsyncedWatches(), [{ kind: 'Deployment', namespace: 'ns', lastError: informer.lastError() }]);
      assert.deepEqual(set.unsynced(), [`Deployment in ns (last error: ${informer.lastError()})`]);
      client.failWith = () => undefined;
      clock.advance(100);
      await flushPromises();
      assert.equal(informer.hasSynced(), true);
      assert.equal(informer.lastError(), undefined);
      assert.deepEqual(set.unsynced(), []);
    });

    it('with client-node\'s ListWatch, deletes (and enqueues the owner of) an object a relist no longer returns', async () => {
      const scripted = new ScriptedWatch();
      const { client, clock, informer, enqueued } = setup({
        schema: liveObjectSchema,
        keysOf: keysOfOwner,
        makeInformer: (path, list, labelSelector) => new ListWatch(path, scripted, list, false, labelSelector),
      });
      client.objects.set('deployments/ns/one', ownedDeployment('one', 'exp-a'));
      client.objects.set('deployments/ns/two', ownedDeployment('two', 'exp-b'));
      informer.start();
      await flushPromises();
      assert.equal(informer.hasSynced(), true);
      assert.equal(scripted.opened.length, 1);
      enqueued.length = 0;

      // The watch breaks (connection reset); while it is down, "two" is deleted.
      client.objects.delete('deployments/ns/two');
      scripted.current.end(new Error('read ECONNRESET'));
      clock.advance(100);
      await flushPromises();
      assert.equal(scripted.opened.length, 2, 'the restarted watch resumes');
      // The API server no longer has history that old: 410 Gone makes the ListWatch list again.
      scripted.current.end(Object.assign(new Error('Gone'), { statusCode: 410 }));
      await flushPromises();
      assert.equal(client.callsOf('list').length, 2, 'relisted');
      assert.equal(informer.get('ns', 'two'), undefined, 'dropped from the cache');
      assert.ok(informer.get('ns', 'one'));
      assert.ok(enqueued.includes('ns/exp-b'), `the owner of the vanished object is enqueued (${enqueued.join(', ')})`);
      assert.equal(scripted.current.resourceVersion, '1', 'watches on from the new list');
      // A delete the resumed watch replays reaches the owner the same way.
      scripted.current.send('DELETED', ownedDeployment('one', 'exp-a', '2'));
      assert.equal(informer.get('ns', 'one'), undefined);
      assert.equal(enqueued.at(-1), 'ns/exp-a');
      await informer.stop();
    });

    it('describes watch errors by status code and the server message', () => {
      assert.equal(describeWatchError(Object.assign(new Error('Forbidden'), { statusCode: 403 })), 'HTTP 403: Forbidden');
      assert.equal(describeWatchError(new ApiException<unknown>(404, 'GET /x failed: HTTP 404', '404 page not found', {})), 'HTTP 404: GET /x failed: HTTP 404');
      assert.equal(describeWatchError(new Error('connect ECONNREFUSED 127.0.0.1:6443')), 'connect ECONNREFUSED 127.0.0.1:6443');
    });

    it('stops: cancels a pending restart and ignores later errors', async () => {
      const { clock, informer, listWatch } = setup({ schema: liveObjectSchema, keysOf: keysOfOwner });
      informer.start();
      await flushPromises();
      listWatch().emit('error', new Error('x'));
      await informer.stop();
      assert.equal(clock.pendingTimers, 0);
      listWatch().emit('error', new Error('y'));
      assert.equal(clock.pendingTimers, 0);
      assert.equal(listWatch().stops, 1);
    });
  });

  describe('InformerSet', () => {
    it('routes lookups to the informer of the kind and namespace, across API versions', async () => {
      const made: FakeListWatch[] = [];
      const base = {
        client: new FakeKubeClient(),
        makeInformer: ((path, list, selector) => {
          const fake = new FakeListWatch(path, list, selector);
          made.push(fake);
          return fake;
        }) satisfies InformerFactory,
        logger: pino({ level: 'silent' }),
        enqueue: () => undefined,
        schema: liveObjectSchema,
        keysOf: keysOfOwner,
      };
      const set = new InformerSet<LiveObject>([
        new ResourceInformer({ ...base, type: DEPLOYMENT, namespace: 'a' }),
        new ResourceInformer({ ...base, type: DEPLOYMENT, namespace: 'b' }),
      ]);
      assert.equal(set.hasSynced(), false);
      assert.deepEqual(set.unsynced(), ['Deployment in a', 'Deployment in b']);
      set.start();
      await flushPromises();
      assert.equal(set.hasSynced(), true);
      made[1]?.emit('add', { ...ownedDeployment('x', 'e'), metadata: { ...ownedDeployment('x', 'e').metadata, namespace: 'b' } });
      assert.equal(set.get({ apiVersion: 'apps/v1beta2', kind: 'Deployment' }, 'b', 'x')?.metadata.name, 'x');
      assert.equal(set.get(DEPLOYMENT, 'a', 'x'), undefined);
      assert.equal(set.list(DEPLOYMENT, 'b').length, 1);
      assert.deepEqual(set.list({ apiVersion: 'v1', kind: 'Service' }, 'b'), [], 'an unwatched kind is empty');
      await set.stop();
    });

    it('names a kind and namespace watched twice (by label and the rest) once while unsynced, and covers only listed watches', () => {
      const base = {
        client: new FakeKubeClient(),
        makeInformer: ((path, list, selector) => new FakeListWatch(path, list, selector)) satisfies InformerFactory,
        logger: pino({ level: 'silent' }),
        enqueue: () => undefined,
        schema: liveObjectSchema,
        keysOf: keysOfOwner,
      };
      const set = new InformerSet<LiveObject>([
        new ResourceInformer({ ...base, type: DEPLOYMENT, namespace: 'a', labelSelector: 'x' }),
        new ResourceInformer({ ...base, type: DEPLOYMENT, namespace: 'a', labelSelector: '!x', metadataOnly: true }),
      ]);
      assert.deepEqual(set.unsynced(), ['Deployment in a']);
      assert.equal(set.covers(DEPLOYMENT, 'a'), false, 'not listed yet: a miss means nothing');
    });
  });

  describe('startPeriodicResync', () => {
    it('enqueues every key each period until stopped', () => {
      const clock = new ManualClock();
      const enqueued: string[] = [];
      let keys = ['ns/a', 'ns/b'];
      const stop = startPeriodicResync({ periodMs: 1_000, keys: () => keys, enqueue: (k) => enqueued.push(k), clock });
      clock.advance(999);
      assert.deepEqual(enqueued, []);
      clock.advance(1);
      assert.deepEqual(enqueued, ['ns/a', 'ns/b']);
      keys = ['ns/c'];
      clock.advance(1_000);
      assert.deepEqual(enqueued, ['ns/a', 'ns/b', 'ns/c']);
      stop();
      clock.advance(10_000);
      assert.equal(enqueued.length, 3);
    });

    it('is disabled by a zero period', () => {
      const clock = new ManualClock();
      startPeriodicResync({ periodMs: 0, keys: () => ['x'], enqueue: () => assert.fail('no resync'), clock });
      assert.equal(clock.pendingTimers, 0);
    });
  });
});
