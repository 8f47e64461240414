// Traffic follows readiness, on a real API server with the real Deployment controller: pods of new
// versions become ready only after a delay (kwok, through the experiment's podAnnotations), and the
// test records every revision of the routing objects and every pod readiness it sees through watches.
// The ordering claims compare, per object, the moment the test saw it: routing may name a version
// only after one of its pods was seen Ready, and a subset only after a DestinationRule defined it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Watch } from '@kubernetes/client-node';
import { z } from 'zod';
import type { SmsExperiment } from '../../src/crd/schema.ts';
import { createKubeClient, type KubeClient } from '../../src/operator/kube/client.ts';
import { NEVER_READY_ANNOTATION, READY_DELAY_ANNOTATION } from '../../hack/cluster/pod-stages.ts';
import { loadToolchain } from '../../hack/cluster/toolchain.ts';
import { useCluster, type TestCluster } from '../support/cluster.ts';
import { installCrd } from '../support/crd.ts';
import { eventually } from '../support/eventually.ts';
import { dumpLogsOnFailure, operatorKubeconfig, OperatorProcess } from '../support/operator.ts';
import { conditionOf, readExperiment } from '../support/owned-objects.ts';

const EXPERIMENT = 'ready';
const DELAY = '4s';

const destinationSchema = z.looseObject({ subset: z.string().optional() });
const routingSchema = z.looseObject({
  metadata: z.looseObject({ name: z.string(), resourceVersion: z.string() }),
  spec: z.looseObject({
    http: z
      .array(
        z.looseObject({
          name: z.string().optional(),
          match: z.array(z.looseObject({ sourceLabels: z.record(z.string(), z.string()).optional() })).optional(),
          route: z.array(z.looseObject({ destination: destinationSchema, weight: z.number().optional() })).optional(),
          mirror: destinationSchema.optional(),
        }),
      )
      .optional(),
    subsets: z.array(z.looseObject({ name: z.string() })).optional(),
  }),
});
const podSchema = z.looseObject({
  metadata: z.looseObject({ name: z.string(), labels: z.record(z.string(), z.string()).optional() }),
  status: z.looseObject({ conditions: z.array(z.looseObject({ type: z.string(), status: z.string() })).optional() }).optional(),
});
type Routing = z.output<typeof routingSchema>;

interface Seen<T> {
  at: number;
  phase: string;
  object: T;
}

/** Records every event of one kind in one namespace, stamped with when the test received it. */
class Recorder<T> {
  readonly events: Array<Seen<T>> = [];
  #stop: () => void = () => undefined;
  readonly #cluster: TestCluster;
  readonly #path: string;
  readonly #schema: z.ZodType<T>;

  constructor(cluster: TestCluster, path: string, schema: z.ZodType<T>) {
    this.#cluster = cluster;
    this.#path = path;
    this.#schema = schema;
  }

  async start(): Promise<void> {
    const controller = await new Watch(this.#cluster.kubeConfig).watch(
      this.#path,
      {},
      (phase, object) => this.events.push({ at: performance.now(), phase, object: this.#schema.parse(object) }),
      () => undefined,
    );
    this.#stop = () => controller.abort();
    // The initial ADDED events of existing objects arrive first; let them land before the test acts.
    await new Promise((resolve) => setTimeout(resolve, 300));
  }

  stop(): void {
    this.#stop();
  }
}

/** Subsets a VirtualService revision sends traffic to (weight > 0, mirror or paired). */
function routedSubsets(routing: Routing): Set<string> {
  const subsets = new Set<string>();
  for (const route of routing.spec.http ?? []) {
    for (const { destination, weight } of route.route ?? []) if (destination.subset && (weight ?? 100) > 0) subsets.add(destination.subset);
    if (route.mirror?.subset) subsets.add(route.mirror.subset);
  }
  return subsets;
}

function pairedSubset(routing: Routing): string | undefined {
  return routing.spec.http?.find((route) => route.match?.some((match) => match.sourceLabels !== undefined))?.route?.[0]?.destination.subset;
}

function isReady(pod: z.output<typeof podSchema>): boolean {
  return pod.status?.conditions?.some((condition) => condition.type === 'Ready' && condition.status === 'True') ?? false;
}

describe('operator: traffic follows readiness', function () {
  this.timeout(120_000);
  let cluster: TestCluster;
  let client: KubeClient;
  let operator: OperatorProcess;
  const ns = { switch: '', refuse: '', image: '', stall: '' };
  const figures: string[] = [];

  before(async function () {
    this.timeout(180_000);
    cluster = await useCluster();
    await installCrd(cluster);
    client = createKubeClient(cluster.kubeConfig);
    for (const key of Object.keys(ns) as Array<keyof typeof ns>) ns[key] = await cluster.createNamespace(`rd-${key}`);
    operator = new OperatorProcess({
      name: 'readiness',
      kubeconfigPath: await operatorKubeconfig(cluster),
      namespaces: Object.values(ns),
      args: ['--log-level', 'debug', '--leader-election-lease-name', 'smsx-test-readiness'],
    });
    await operator.start();
  });

  afterEach(async function () {
    await dumpLogsOnFailure(this, [operator]);
  });

  after(async () => {
    await operator?.stop();
    if (figures.length > 0) console.log(`\n  Figures:\n${figures.map((line) => `    ${line}`).join('\n')}\n`);
  });

  async function kubectl(args: string[], input?: string) {
    return cluster.kubectl(args, input === undefined ? undefined : { input });
  }

  async function kubectlOk(args: string[], input?: string): Promise<string> {
    const result = await kubectl(args, input);
    assert.equal(result.code, 0, `kubectl ${args.join(' ')} failed: ${result.stderr}`);
    return result.stdout;
  }

  async function applyExperiment(namespace: string, spec: unknown): Promise<void> {
    const manifest = { apiVersion: 'experiments.sms-app.io/v1alpha1', kind: 'SmsExperiment', metadata: { name: EXPERIMENT }, spec };
    await kubectlOk(['apply', '-n', namespace, '-f', '-'], JSON.stringify(manifest));
  }

  async function patchSpec(namespace: string, spec: unknown): Promise<void> {
    await kubectlOk(['patch', 'smsx', EXPERIMENT, '-n', namespace, '--type', 'merge', '-p', JSON.stringify({ spec })]);
  }

  async function experimentIn(namespace: string): Promise<SmsExperiment> {
    const experiment = await readExperiment(client, namespace, EXPERIMENT);
    assert.ok(experiment, `SmsExperiment ${namespace}/${EXPERIMENT} does not exist`);
    return experiment;
  }

  async function waitReady(namespace: string, timeoutMs = 60_000): Promise<SmsExperiment> {
    return eventually(`${namespace}/${EXPERIMENT} to be Ready`, async () => {
      const experiment = await experimentIn(namespace);
      const ready = conditionOf(experiment, 'Ready');
      assert.equal(experiment.status?.observedGeneration, experiment.metadata.generation, 'status is for an older generation');
      assert.equal(ready?.status, 'True', `Ready is ${ready?.status}: ${ready?.reason} ${ready?.message}`);
      return experiment;
    }, { timeoutMs });
  }

  function recorders(namespace: string) {
    const istio = `/apis/networking.istio.io/v1/namespaces/${namespace}`;
    return {
      virtualServices: new Recorder(cluster, `${istio}/virtualservices`, routingSchema),
      destinationRules: new Recorder(cluster, `${istio}/destinationrules`, routingSchema),
      pods: new Recorder(cluster, `/api/v1/namespaces/${namespace}/pods`, podSchema),
    };
  }

  /** When the test first saw a Ready pod of a component and version, after `since`. */
  function firstReady(pods: Recorder<z.output<typeof podSchema>>, component: string, version: string, since = 0): number | undefined {
    return pods.events.find(
      ({ at, object }) => at >= since && object.metadata.labels?.['app.kubernetes.io/component'] === component && object.metadata.labels.version === version && isReady(object),
    )?.at;
  }

  /** Every VirtualService revision names only subsets some earlier DestinationRule revision defined. */
  function assertSubsetsDefinedFirst(virtualServices: Recorder<Routing>, destinationRules: Recorder<Routing>, since: number): void {
    for (const { at, object } of virtualServices.events.filter((event) => event.at >= since)) {
      for (const subset of routedSubsets(object)) {
        const defined = destinationRules.events.some(({ at: ruleAt, object: rule }) => ruleAt <= at && rule.spec.subsets?.some((s) => s.name === subset));
        assert.ok(defined, `VirtualService ${object.metadata.name} rev ${object.metadata.resourceVersion} names subset ${subset} before any DestinationRule defined it`);
      }
    }
  }

  it('a shadow → canary switch and a canary rename route nothing to a version before one of its pods is Ready', async () => {
    const namespace = ns.switch;
    const delayed = { podAnnotations: { [READY_DELAY_ANNOTATION]: DELAY } };
    await applyExperiment(namespace, { mode: 'shadow', app: { canary: delayed }, model: { canary: delayed } });
    await waitReady(namespace);
    const { virtualServices, destinationRules, pods } = recorders(namespace);
    await Promise.all([virtualServices.start(), destinationRules.start(), pods.start()]);
    try {
      // Shadow → canary: the app and model canaries are new Deployments whose pods are ready after 4 s.
      const switched = performance.now();
      await patchSpec(namespace, { mode: 'canary' });
      await eventually('a held status while the canary starts', async () => {
        const held = await experimentIn(namespace);
        assert.deepEqual(held.status?.weights, { stable: 100, canary: 0 });
        assert.match(conditionOf(held, 'Ready')?.message ?? '', /canary weight held at 0% \(spec 10%\)/);
      }, { timeoutMs: 3_000, intervalMs: 50 });
      const afterSwitch = await waitReady(namespace);
      assert.deepEqual(afterSwitch.status?.weights, { stable: 90, canary: 10 });

      const appReady = firstReady(pods, 'app', 'v2', switched);
      const modelReady = firstReady(pods, 'model', 'v2', switched);
      assert.ok(appReady !== undefined && modelReady !== undefined, 'both canaries had a Ready pod');
      const appRevisions = virtualServices.events.filter(({ at, object }) => at >= switched && object.metadata.name === `${EXPERIMENT}-vs`);
      const modelRevisions = virtualServices.events.filter(({ at, object }) => at >= switched && object.metadata.name === `${EXPERIMENT}-model-vs`);
      const firstAppCanaryRoute = appRevisions.find(({ object }) => routedSubsets(object).has('v2'));
      const firstPaired = modelRevisions.find(({ object }) => pairedSubset(object) === 'v2');
      assert.ok(firstAppCanaryRoute && firstPaired, 'the canary got its weight and paired routing in the end');
      assert.ok(firstAppCanaryRoute.at >= appReady && firstAppCanaryRoute.at >= modelReady, 'app canary weight only after both canaries had a Ready pod');
      assert.ok(firstPaired.at >= modelReady, 'paired calls only after the model canary had a Ready pod');
      for (const { object } of appRevisions.filter(({ at }) => at < Math.max(appReady, modelReady))) {
        assert.ok(!routedSubsets(object).has('v2'), `app VirtualService rev ${object.metadata.resourceVersion} routed to v2 before it was Ready`);
      }
      // The mirror to the shadow went before its Deployment did.
      const mirrorGone = modelRevisions.find(({ object }) => !routedSubsets(object).has('shadow'))?.at;
      const shadowPodGone = pods.events.find(({ phase, object }) => phase === 'DELETED' && object.metadata.labels?.version === 'shadow')?.at;
      assert.ok(mirrorGone !== undefined && shadowPodGone !== undefined && mirrorGone <= shadowPodGone, 'mirroring stopped before the shadow pods went');
      figures.push(
        `shadow → canary: canary pods Ready ${((Math.max(appReady, modelReady) - switched) / 1000).toFixed(1)} s after the edit, ` +
          `weight routed ${((firstAppCanaryRoute.at - Math.max(appReady, modelReady)) / 1000).toFixed(2)} s after that`,
      );

      // Rename the app canary v2 → v3: its pods are replaced by v3 pods, again ready after 4 s.
      const renamed = performance.now();
      await patchSpec(namespace, { app: { canary: { version: 'v3' } } });
      await waitReady(namespace);
      const v3Ready = firstReady(pods, 'app', 'v3', renamed);
      assert.ok(v3Ready !== undefined, 'a v3 pod became Ready');
      const renamedRevisions = virtualServices.events.filter(({ at, object }) => at >= renamed && object.metadata.name === `${EXPERIMENT}-vs`);
      const firstV3 = renamedRevisions.find(({ object }) => routedSubsets(object).has('v3'));
      assert.ok(firstV3 && firstV3.at >= v3Ready, 'v3 got weight only after a v3 pod was Ready');
      const ruleRevisions = destinationRules.events.filter(({ at, object }) => at >= renamed && object.metadata.name === `${EXPERIMENT}-app-dr`);
      const v2Dropped = ruleRevisions.find(({ object }) => !object.spec.subsets?.some((subset) => subset.name === 'v2'))?.at;
      const v2Unrouted = renamedRevisions.find(({ object }) => !routedSubsets(object).has('v2'))?.at;
      assert.ok(v2Dropped !== undefined && v2Unrouted !== undefined && v2Unrouted <= v2Dropped, 'subset v2 stayed until no route named it');
      assertSubsetsDefinedFirst(virtualServices, destinationRules, switched);
      figures.push(`rename v2 → v3: ${renamedRevisions.length} app VirtualService revisions, v3 routed ${((firstV3.at - v3Ready) / 1000).toFixed(2)} s after its first Ready pod`);
    } finally {
      for (const recorder of [virtualServices, destinationRules, pods]) recorder.stop();
    }
  });

  it('refuses canary weight for a canary scaled to zero, naming the fields', async () => {
    const namespace = ns.refuse;
    await applyExperiment(namespace, {});
    const result = await kubectl(['patch', 'smsx', EXPERIMENT, '-n', namespace, '--type', 'merge', '-p', JSON.stringify({ spec: { app: { canary: { replicas: 0 } } } })]);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /spec\.traffic\.weights\.canary: Invalid value: .*traffic\.weights\.canary is above 0 while app\.canary\.replicas or model\.canary\.replicas is 0/);
    figures.push(`replicas 0 with weight 10: ${result.stderr.trim().split('\n').at(-1) ?? ''}`);
    await kubectlOk(['patch', 'smsx', EXPERIMENT, '-n', namespace, '--type', 'merge', '-p', JSON.stringify({ spec: { app: { canary: { replicas: 0 } }, traffic: { weights: { stable: 100, canary: 0 } } } })]);
  });

  it('after a canary image edit, Ready (and kubectl wait) comes only once the new pods are Ready', async () => {
    const namespace = ns.image;
    await applyExperiment(namespace, { app: { canary: { podAnnotations: { [READY_DELAY_ANNOTATION]: DELAY } } } });
    await waitReady(namespace);
    const { pods } = recorders(namespace);
    const statuses = new Recorder(cluster, `/apis/experiments.sms-app.io/v1alpha1/namespaces/${namespace}/smsexperiments`, z.custom<SmsExperiment>());
    await Promise.all([pods.start(), statuses.start()]);
    try {
      const edited = performance.now();
      await patchSpec(namespace, { app: { canary: { image: 'ghcr.io/sms-experiment/app:0.2.0' } } });
      const generation = (await experimentIn(namespace)).metadata.generation;
      // kubectl wait compares each condition's observedGeneration with metadata.generation.
      const toolchain = await loadToolchain();
      const waited = await new Promise<number>((resolve, reject) => {
        const child = spawn(toolchain.kubectl, ['--kubeconfig', cluster.kubeconfigPath, 'wait', '-n', namespace, `smsx/${EXPERIMENT}`, '--for=condition=Ready', '--timeout=60s']);
        child.once('exit', (code) => (code === 0 ? resolve(performance.now()) : reject(new Error(`kubectl wait exited ${code}`))));
      });
      const newPodReady = pods.events.find(({ at, object }) => at >= edited && isReady(object) && pods.events.some((e) => e.object.metadata.name === object.metadata.name && e.phase === 'ADDED' && e.at >= edited))?.at;
      assert.ok(newPodReady !== undefined, 'a pod of the new ReplicaSet became Ready');
      assert.ok(waited >= newPodReady, 'kubectl wait returned only after the new pod was Ready');
      const earlyReady = statuses.events.filter(({ at, object }) => {
        const ready = conditionOf(object, 'Ready');
        return at < newPodReady && ready?.status === 'True' && ready.observedGeneration === generation;
      });
      assert.deepEqual(earlyReady.map(({ object }) => object.metadata.resourceVersion), [], 'no status said Ready for the new generation before its pods were');
      const final = await experimentIn(namespace);
      assert.equal(final.status?.observedGeneration, generation);
      figures.push(`image edit: new pod Ready ${((newPodReady - edited) / 1000).toFixed(1)} s after the edit, kubectl wait returned ${((waited - newPodReady) / 1000).toFixed(2)} s later`);
    } finally {
      pods.stop();
      statuses.stop();
    }
  });

  it('a rollout that cannot finish makes the experiment Degraded, and fixing it clears that', async () => {
    const namespace = ns.stall;
    const deadline = 10;
    // Pods as Istio's injector leaves them (kwok runs no injector), so nothing else degrades the experiment.
    const injected = { podAnnotations: { 'sidecar.istio.io/status': '{"containers":["istio-proxy"]}' } };
    await applyExperiment(namespace, {
      progressDeadlineSeconds: deadline,
      app: { stable: injected, canary: { podAnnotations: { ...injected.podAnnotations, [NEVER_READY_ANNOTATION]: 'true' } } },
      model: { stable: injected, canary: injected },
    });
    const applied = performance.now();
    const before = await operator.metric('smsx_operator_condition_transitions_total', { condition: 'Degraded', status: 'True', reason: 'RolloutStalled' });
    const stalled = await eventually('Degraded=True RolloutStalled', async () => {
      const experiment = await experimentIn(namespace);
      const degraded = conditionOf(experiment, 'Degraded');
      assert.equal(degraded?.status, 'True', `Degraded is ${degraded?.status} ${degraded?.reason}`);
      assert.equal(degraded?.reason, 'RolloutStalled');
      return experiment;
    }, { timeoutMs: (deadline + 20) * 1000, intervalMs: 200 });
    const stalledAfter = (performance.now() - applied) / 1000;
    const message = conditionOf(stalled, 'Degraded')?.message ?? '';
    assert.match(message, new RegExp(`Deployment ${EXPERIMENT}-app-canary: ProgressDeadlineExceeded`));
    assert.deepEqual(stalled.status?.weights, { stable: 100, canary: 0 }, 'the stalled canary never got weight');
    const events = await eventually('one Warning event for the stall', async () => {
      const listed = JSON.parse(await kubectlOk(['get', 'events.events.k8s.io', '-n', namespace, '-o', 'json'])) as { items: Array<{ type: string; reason: string; note?: string }> };
      const warnings = listed.items.filter((event) => event.type === 'Warning' && event.reason === 'RolloutStalled');
      assert.ok(warnings.length >= 1, 'a RolloutStalled Warning');
      return warnings;
    });
    assert.equal(events.length, 1, 'exactly one RolloutStalled Warning');
    assert.equal(await operator.metric('smsx_operator_condition_transitions_total', { condition: 'Degraded', status: 'True', reason: 'RolloutStalled' }), before + 1);

    // The fix: an image that starts (here: pods without the never-ready annotation).
    await patchSpec(namespace, { app: { canary: { image: 'ghcr.io/sms-experiment/app:0.1.1', podAnnotations: { [NEVER_READY_ANNOTATION]: null } } } });
    const fixed = await waitReady(namespace, 60_000);
    assert.equal(conditionOf(fixed, 'Degraded')?.status, 'False');
    assert.deepEqual(fixed.status?.weights, { stable: 90, canary: 10 });
    figures.push(`stall: Degraded=True RolloutStalled ${stalledAfter.toFixed(1)} s after the apply (progressDeadlineSeconds ${deadline}): "${message}"`);
  });
});
