// The operator against a real API server, run as users run it: `node src/operator/main.ts` as a child
// process, authenticated as its ServiceAccount (config/rbac), driven with kubectl. Every "must show"
// of the operator issue is one test here. One operator process serves most tests (each in its own
// namespace); the leader-election and --skip-monitoring tests start their own.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Watch } from '@kubernetes/client-node';
import { z } from 'zod';
import type { SmsExperiment } from '../../src/crd/schema.ts';
import { createKubeClient, type KubeClient } from '../../src/operator/kube/client.ts';
import { LEASE, resourceTypeOf } from '../../src/operator/kube/resources.ts';
import { EXPERIMENT_LABEL } from '../../src/operator/render/index.ts';
import { useCluster, type TestCluster } from '../support/cluster.ts';
import { installCrd } from '../support/crd.ts';
import { eventually } from '../support/eventually.ts';
import { dumpLogsOnFailure, OPERATOR_NAMESPACE, operatorKubeconfig, OperatorProcess, sumSamples } from '../support/operator.ts';
import { conditionOf, expectedObjectIds, listOwnedObjects, readExperiment } from '../support/owned-objects.ts';

const repositoryRoot = path.resolve(import.meta.dirname, '../..');
const SAMPLES = {
  canary: path.join(repositoryRoot, 'config/samples/experiments_v1alpha1_smsexperiment_canary.yaml'),
  shadow: path.join(repositoryRoot, 'config/samples/experiments_v1alpha1_smsexperiment_shadow.yaml'),
};
const EXPERIMENT = 'sms-app';
const VIRTUAL_SERVICE = resourceTypeOf({ apiVersion: 'networking.istio.io/v1', kind: 'VirtualService' });
const REPLICA_SET = { apiVersion: 'apps/v1', kind: 'ReplicaSet', plural: 'replicasets', namespaced: true };
const POD = { apiVersion: 'v1', kind: 'Pod', plural: 'pods', namespaced: true };
/** Writes the operator makes; lease renewals are left out (they are leader election, not reconciling). */
const WRITE_VERBS = ['apply', 'apply-status', 'delete'];

const routeSchema = z.looseObject({
  name: z.string(),
  route: z.array(z.looseObject({ destination: z.looseObject({ subset: z.string().optional() }), weight: z.number().optional() })),
  mirror: z.looseObject({ subset: z.string().optional() }).optional(),
  mirrorPercentage: z.looseObject({ value: z.number() }).optional(),
});
const virtualServiceSchema = z.looseObject({
  metadata: z.looseObject({ uid: z.string(), resourceVersion: z.string() }),
  spec: z.looseObject({ http: z.array(routeSchema) }),
});
const leaseSchema = z.looseObject({ spec: z.looseObject({ holderIdentity: z.string().nullish() }) });

/** Figures printed at the end of the run (they are reported, not asserted beyond sanity bounds). */
const figures: Record<string, string> = {};
const elapsed = (since: number) => Date.now() - since;

describe('operator on a real API server', function () {
  this.timeout(90_000);
  let cluster: TestCluster;
  let client: KubeClient;
  let kubeconfig: string;
  let operator: OperatorProcess;
  const extraOperators: OperatorProcess[] = [];
  const ns = { sample: '', traffic: '', drift: '', gc: '', conflict: '', outage: '', kill: '' };

  before(async function () {
    this.timeout(180_000);
    cluster = await useCluster();
    await installCrd(cluster);
    client = createKubeClient(cluster.kubeConfig);
    kubeconfig = await operatorKubeconfig(cluster);
    for (const key of Object.keys(ns) as Array<keyof typeof ns>) ns[key] = await cluster.createNamespace(`op-${key}`);
    operator = new OperatorProcess({
      name: 'shared',
      kubeconfigPath: kubeconfig,
      namespaces: Object.values(ns),
      // A long lease: the API-server restart test must not cost it its leadership (it would step
      // down after two thirds of the lease without renewing). Its identity is stable, so after a
      // SIGKILL the restarted process takes its own Lease back at once.
      args: ['--log-level', 'debug', '--lease-duration', '60s', '--leader-election-lease-name', 'smsx-test-shared'],
    });
    await operator.start();
  });

  afterEach(async function () {
    await dumpLogsOnFailure(this, [operator, ...extraOperators]);
  });

  after(async () => {
    await Promise.all([operator, ...extraOperators].map((process) => process?.stop()));
    if (Object.keys(figures).length > 0) {
      console.log(`\n  Figures:\n${Object.entries(figures).map(([what, value]) => `    ${what}: ${value}`).join('\n')}\n`);
    }
  });

  // ---- helpers ----

  async function kubectlOk(args: string[], input?: string): Promise<string> {
    const result = await cluster.kubectl(args, input === undefined ? undefined : { input });
    assert.equal(result.code, 0, `kubectl ${args.join(' ')} failed: ${result.stderr}`);
    return result.stdout;
  }

  async function applySample(namespace: string, mode: 'canary' | 'shadow', name = EXPERIMENT): Promise<void> {
    if (name === EXPERIMENT) {
      await kubectlOk(['apply', '-n', namespace, '-f', SAMPLES[mode]]);
    } else {
      const manifest = JSON.stringify({ apiVersion: 'experiments.sms-app.io/v1alpha1', kind: 'SmsExperiment', metadata: { name }, spec: { mode } });
      await kubectlOk(['apply', '-n', namespace, '-f', '-'], manifest);
    }
  }

  async function patchSpec(namespace: string, spec: unknown, name = EXPERIMENT): Promise<void> {
    await kubectlOk(['patch', 'smsx', name, '-n', namespace, '--type', 'merge', '-p', JSON.stringify({ spec })]);
  }

  async function experimentIn(namespace: string, name = EXPERIMENT): Promise<SmsExperiment> {
    const experiment = await readExperiment(client, namespace, name);
    assert.ok(experiment, `SmsExperiment ${namespace}/${name} does not exist`);
    return experiment;
  }

  /** Ready=True for the experiment's current generation. */
  async function waitReady(namespace: string, name = EXPERIMENT, timeoutMs = 30_000): Promise<SmsExperiment> {
    return eventually(`${namespace}/${name} to be Ready`, async () => {
      const experiment = await experimentIn(namespace, name);
      const ready = conditionOf(experiment, 'Ready');
      assert.equal(experiment.status?.observedGeneration, experiment.metadata.generation, 'status is for an older generation');
      assert.equal(ready?.status, 'True', `Ready is ${ready?.status}: ${ready?.reason} ${ready?.message}`);
      return experiment;
    }, { timeoutMs });
  }

  /** The owned objects by label equal what the current spec renders, and the status lists the same. */
  async function waitConverged(namespace: string, name = EXPERIMENT, timeoutMs = 30_000): Promise<SmsExperiment> {
    return eventually(`${namespace}/${name} to own exactly what its spec renders`, async () => {
      const experiment = await experimentIn(namespace, name);
      const expected = expectedObjectIds(experiment);
      assert.deepEqual((await listOwnedObjects(client, namespace, name)).map((object) => object.id), expected);
      assert.equal(experiment.status?.observedGeneration, experiment.metadata.generation);
      const listed = (experiment.status?.ownedObjects ?? []).map((object) => `${object.kind}/${object.name}`).sort((a, b) => a.localeCompare(b));
      assert.deepEqual(listed, expected, 'status.ownedObjects');
      return experiment;
    }, { timeoutMs });
  }

  async function virtualService(namespace: string, name: string) {
    const raw = await client.get(VIRTUAL_SERVICE, { namespace, name });
    assert.ok(raw, `VirtualService ${namespace}/${name} does not exist`);
    return virtualServiceSchema.parse(raw);
  }

  /** Subset → weight of the experiment host's weighted route. */
  async function experimentWeights(namespace: string): Promise<Record<string, number>> {
    const route = (await virtualService(namespace, `${EXPERIMENT}-vs`)).spec.http.find((r) => r.name === 'experiment-weighted');
    assert.ok(route, 'no experiment-weighted route');
    return Object.fromEntries(route.route.map((destination) => [destination.destination.subset ?? '', destination.weight ?? 100]));
  }

  async function printerColumns(namespace: string, name = EXPERIMENT): Promise<Record<string, string>> {
    const [header = '', row = ''] = (await kubectlOk(['get', 'smsx', name, '-n', namespace])).trim().split('\n');
    const names = header.trim().split(/\s+/);
    const values = row.trim().split(/\s+/);
    return Object.fromEntries(names.map((column, i) => [column, values[i] ?? '']));
  }

  async function leaseHolder(name: string): Promise<string | null | undefined> {
    const raw = await client.get(LEASE, { namespace: OPERATOR_NAMESPACE, name });
    return raw === undefined ? undefined : leaseSchema.parse(raw).spec.holderIdentity;
  }

  /** Passes the shared operator logged for one experiment (its debug line at the end of a successful pass). */
  async function passesOf(process: OperatorProcess, namespace: string, name = EXPERIMENT): Promise<number> {
    return (await process.logLines()).filter((line) => line.msg === 'Reconciled experiment' && line.namespace === namespace && line.name === name).length;
  }

  async function writesBy(process: OperatorProcess): Promise<number> {
    const text = await process.metricsText();
    return WRITE_VERBS.reduce((sum, verb) => sum + sumSamples(text, 'smsx_operator_api_requests_total', { verb }), 0) +
      sumSamples(text, 'smsx_operator_api_requests_total', { verb: 'create', resource: 'events' });
  }

  // ---- the must-shows ----

  it('applies the canary sample: every owned object exists, Ready once the pods run, printer columns filled', async () => {
    const started = Date.now();
    await applySample(ns.sample, 'canary');
    const experiment = await waitReady(ns.sample);
    figures['sample applied → Ready=True (4 Deployments, kwok pods)'] = `${elapsed(started)} ms`;

    const owned = await listOwnedObjects(client, ns.sample, EXPERIMENT);
    assert.deepEqual(owned.map((object) => object.id), expectedObjectIds(experiment));
    assert.equal(owned.length, 21, 'ConfigMap, 5 Services, 4 Deployments, Gateway, 2 DestinationRules, 2 VirtualServices, Ingress, 2 ServiceMonitors, PrometheusRule, 2 dashboards');
    for (const object of owned) {
      const controller = object.object.metadata.ownerReferences?.find((ref) => ref.controller === true);
      assert.equal(controller?.uid, experiment.metadata.uid, `${object.id} is controlled by the experiment`);
    }

    const status = experiment.status;
    assert.equal(status?.mode, 'canary');
    assert.deepEqual(status?.weights, { stable: 90, canary: 10 });
    assert.equal(status?.mirrorPercent, 0);
    assert.equal(status?.ready, '4/4');
    assert.deepEqual(
      status?.replicas?.map((r) => `${r.component}/${r.role}/${r.version} ${r.deployment} ${r.ready}/${r.desired}`).sort(),
      ['app/canary/v2 sms-app-app-canary 1/1', 'app/stable/v1 sms-app-app 1/1', 'model/canary/v2 sms-app-model-canary 1/1', 'model/stable/v1 sms-app-model 1/1'],
    );
    assert.equal(conditionOf(experiment, 'Progressing')?.status, 'False');
    // kwok pods run no Istio sidecar: expected, reported (judged on the pods), and not blocking Ready.
    assert.equal(conditionOf(experiment, 'Degraded')?.status, 'True');
    assert.equal(conditionOf(experiment, 'Degraded')?.reason, 'SidecarsMissing');
    assert.match(conditionOf(experiment, 'Degraded')?.message ?? '', /^1 of 1 pods of Deployment sms-app-app, .* run without the Istio sidecar/);

    const pods = await client.list(POD, ns.sample, { labelSelector: `${EXPERIMENT_LABEL}=${EXPERIMENT}` });
    assert.equal(pods.items.length, 4, 'one Running pod per Deployment');

    const columns = await printerColumns(ns.sample);
    assert.deepEqual(
      { mode: columns.MODE, stable: columns['STABLE%'], canary: columns['CANARY%'], mirror: columns['MIRROR%'], ready: columns.READY },
      { mode: 'canary', stable: '90', canary: '10', mirror: '0', ready: '4/4' },
    );
  });

  it('moves the VirtualService with the weights: 90/10 → 50/50 → 0/100', async () => {
    await applySample(ns.traffic, 'canary');
    await waitReady(ns.traffic);
    assert.deepEqual(await experimentWeights(ns.traffic), { v1: 90, v2: 10 });

    const latencies: number[] = [];
    for (const [stable, canary] of [[50, 50], [0, 100]] as const) {
      const patched = Date.now();
      await patchSpec(ns.traffic, { traffic: { weights: { stable, canary } } });
      const expected = canary === 100 ? { v2: 100 } : { v1: stable, v2: canary };
      await eventually(`weights ${stable}/${canary} in the VirtualService`, async () => {
        assert.deepEqual(await experimentWeights(ns.traffic), expected);
      }, { intervalMs: 20, timeoutMs: 10_000 });
      latencies.push(elapsed(patched));
      const experiment = await waitReady(ns.traffic);
      assert.deepEqual(experiment.status?.weights, { stable, canary });
    }
    // 0/100: only the canary is routed, and no sticky cookie routes are left to pin anyone to v1.
    const routes = (await virtualService(ns.traffic, `${EXPERIMENT}-vs`)).spec.http.map((route) => route.name);
    assert.ok(!routes.some((route) => route.startsWith('experiment-sticky-')), `routes: ${routes.join(', ')}`);
    const columns = await printerColumns(ns.traffic);
    assert.deepEqual([columns['STABLE%'], columns['CANARY%']], ['0', '100']);
    figures['kubectl patch of weights → VirtualService (as seen by polling)'] = latencies.map((ms) => `${ms} ms`).join(', ');
  });

  it('switches canary → shadow → canary: the other mode’s objects are pruned, mirror edits follow', async () => {
    // Continues with the traffic experiment (canary, 0/100).
    await waitConverged(ns.traffic);
    const canaryIds = (await listOwnedObjects(client, ns.traffic, EXPERIMENT)).map((o) => o.id);

    await patchSpec(ns.traffic, { mode: 'shadow' });
    const shadow = await waitConverged(ns.traffic);
    const shadowIds = (await listOwnedObjects(client, ns.traffic, EXPERIMENT)).map((o) => o.id);
    assert.ok(shadowIds.includes('Deployment/sms-app-model-shadow'));
    assert.ok(!shadowIds.includes('Deployment/sms-app-app-canary') && !shadowIds.includes('Deployment/sms-app-model-canary'), 'canary Deployments pruned');
    assert.deepEqual(shadow.status?.weights, { stable: 100, canary: 0 }, 'shadow mode serves users from stable only');

    const modelRoute = async () => (await virtualService(ns.traffic, `${EXPERIMENT}-model-vs`)).spec.http[0];
    await eventually('the shadow mirror at 10%', async () => {
      const route = await modelRoute();
      assert.equal(route?.mirror?.subset, 'shadow');
      assert.equal(route?.mirrorPercentage?.value, 10);
    });
    for (const percent of [25, 2.5]) {
      await patchSpec(ns.traffic, { traffic: { mirrorPercent: percent } });
      await eventually(`the mirror at ${percent}%`, async () => assert.equal((await modelRoute())?.mirrorPercentage?.value, percent), { intervalMs: 20 });
    }
    assert.equal((await printerColumns(ns.traffic))['MIRROR%'], '2.5');

    await patchSpec(ns.traffic, { mode: 'canary' });
    await waitConverged(ns.traffic);
    const backIds = (await listOwnedObjects(client, ns.traffic, EXPERIMENT)).map((o) => o.id);
    assert.deepEqual(backIds, canaryIds, 'back to exactly the canary objects, none of shadow left');
    await waitReady(ns.traffic);
  });

  it('restores a deleted VirtualService and Deployment and a hand-edited route weight', async () => {
    await applySample(ns.drift, 'canary');
    await waitReady(ns.drift);
    const restored: string[] = [];

    const vs = await virtualService(ns.drift, `${EXPERIMENT}-vs`);
    let since = Date.now();
    await kubectlOk(['delete', 'virtualservice', `${EXPERIMENT}-vs`, '-n', ns.drift, '--wait=false']);
    await eventually('the VirtualService to be recreated', async () => {
      assert.notEqual((await virtualService(ns.drift, `${EXPERIMENT}-vs`)).metadata.uid, vs.metadata.uid);
    }, { intervalMs: 20, timeoutMs: 5_000 });
    restored.push(`VirtualService deleted → recreated ${elapsed(since)} ms`);

    const deployments = resourceTypeOf({ apiVersion: 'apps/v1', kind: 'Deployment' });
    const deploymentUid = async () => z.looseObject({ metadata: z.looseObject({ uid: z.string() }) }).parse(await client.get(deployments, { namespace: ns.drift, name: `${EXPERIMENT}-model` })).metadata.uid;
    const oldDeployment = await deploymentUid();
    since = Date.now();
    await kubectlOk(['delete', 'deployment', `${EXPERIMENT}-model`, '-n', ns.drift, '--wait=false']);
    await eventually('the Deployment to be recreated', async () => assert.notEqual(await deploymentUid(), oldDeployment), { intervalMs: 20, timeoutMs: 5_000 });
    restored.push(`Deployment deleted → recreated ${elapsed(since)} ms`);

    const http = (await virtualService(ns.drift, `${EXPERIMENT}-vs`)).spec.http;
    const weighted = http.findIndex((route) => route.name === 'experiment-weighted');
    since = Date.now();
    await kubectlOk(['patch', 'virtualservice', `${EXPERIMENT}-vs`, '-n', ns.drift, '--type', 'json', '-p',
      JSON.stringify([{ op: 'replace', path: `/spec/http/${weighted}/route/0/weight`, value: 77 }, { op: 'replace', path: `/spec/http/${weighted}/route/1/weight`, value: 23 }])]);
    await eventually('the hand-edited weights to be restored', async () => {
      assert.deepEqual(await experimentWeights(ns.drift), { v1: 90, v2: 10 });
    }, { intervalMs: 20, timeoutMs: 5_000 });
    restored.push(`route weight hand-edited → restored ${elapsed(since)} ms`);

    await waitReady(ns.drift);
    await waitConverged(ns.drift);
    const lines = await operator.logLines();
    assert.ok(lines.some((line) => line.msg === 'Restored hand-edited fields' && line.namespace === ns.drift), 'the take-over is logged');
    figures['drift repair'] = restored.join('; ');
  });

  it('writes nothing when a pass finds nothing changed', async () => {
    // The sample experiment has been Ready for a while: a pass now has nothing to do.
    await waitReady(ns.sample);
    const snapshot = async () => Object.fromEntries((await listOwnedObjects(client, ns.sample, EXPERIMENT)).map((o) => [o.id, o.resourceVersion]));
    const before = await snapshot();
    const passesBefore = await passesOf(operator, ns.sample);

    // Two forced passes with nothing to change: an annotation on the experiment (changes its
    // resourceVersion, not its generation), and an annotation on its pods (re-queues their experiment).
    await kubectlOk(['annotate', 'smsx', EXPERIMENT, '-n', ns.sample, 'smsx.test/poke=1']);
    await eventually('a pass after the annotation', async () => assert.ok((await passesOf(operator, ns.sample)) > passesBefore), { intervalMs: 50 });
    const afterAnnotation = await passesOf(operator, ns.sample);
    const experimentVersion = (await experimentIn(ns.sample)).metadata.resourceVersion;
    await kubectlOk(['annotate', 'pods', '-n', ns.sample, '-l', `${EXPERIMENT_LABEL}=${EXPERIMENT}`, 'smsx.test/poke=1']);
    await eventually('a pass after the pod annotation', async () => assert.ok((await passesOf(operator, ns.sample)) > afterAnnotation), { intervalMs: 50 });
    await new Promise((resolve) => setTimeout(resolve, 300));

    assert.deepEqual(await snapshot(), before, 'no owned object changed');
    assert.equal((await experimentIn(ns.sample)).metadata.resourceVersion, experimentVersion, 'no status write');
    const linesSincePoke = (await operator.logLines()).filter((line) => line.namespace === ns.sample).slice(-10);
    const passes = linesSincePoke.filter((line) => line.msg === 'Reconciled experiment');
    assert.ok(passes.length >= 2);
    for (const pass of passes.slice(-2)) assert.deepEqual([pass.created, pass.configured, pass.pruned], [0, 0, 0]);
  });

  it('writes nothing on a full resync after a restart (every experiment of every namespace)', async () => {
    // Give the Deployments of the earlier tests a moment to settle, then restart the operator: its
    // first act is a pass over every experiment, with fresh caches and no memory of earlier writes.
    await Promise.all([ns.sample, ns.traffic, ns.drift].map((namespace) => waitReady(namespace)));
    const experimentVersions = async () =>
      Promise.all([ns.sample, ns.traffic, ns.drift].map(async (namespace) => (await experimentIn(namespace)).metadata.resourceVersion));
    const versionsBefore = await experimentVersions();
    await operator.stop();
    await operator.start();
    await eventually('a pass over all three experiments', async () => {
      assert.ok((await operator.metric('smsx_operator_reconcile_total', { result: 'success' })) >= 3);
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(await writesBy(operator), 0, `writes of the new process:\n${(await operator.metricsText()).split('\n').filter((l) => l.startsWith('smsx_operator_api_requests_total')).join('\n')}`);
    assert.deepEqual(await experimentVersions(), versionsBefore, 'no status written');
  });

  it('reports an object it does not own as Degraded OwnershipConflict with a Warning event; other experiments stay Ready', async () => {
    // A Service with the name the renderer wants for the experiment "conflict", owned by nobody.
    const foreign = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'conflict-app', labels: { team: 'someone-else' } }, spec: { ports: [{ port: 80 }] } };
    await kubectlOk(['create', '-n', ns.conflict, '-f', '-'], JSON.stringify(foreign));
    const services = resourceTypeOf({ apiVersion: 'v1', kind: 'Service' });
    const foreignVersion = z.looseObject({ metadata: z.looseObject({ resourceVersion: z.string() }) }).parse(await client.get(services, { namespace: ns.conflict, name: 'conflict-app' })).metadata.resourceVersion;

    await applySample(ns.conflict, 'canary', 'conflict');
    await applySample(ns.conflict, 'canary', EXPERIMENT);
    const conflicted = await eventually('the conflict to be reported', async () => {
      const experiment = await experimentIn(ns.conflict, 'conflict');
      assert.equal(conditionOf(experiment, 'Ready')?.status, 'False');
      assert.equal(conditionOf(experiment, 'Ready')?.reason, 'OwnershipConflict');
      assert.equal(conditionOf(experiment, 'Degraded')?.status, 'True');
      assert.equal(conditionOf(experiment, 'Degraded')?.reason, 'OwnershipConflict');
      return experiment;
    });
    assert.match(conditionOf(conflicted, 'Ready')?.message ?? '', new RegExp(`Service ${ns.conflict}/conflict-app already exists and is not controlled by SmsExperiment conflict; managed by kubectl-create`));

    const events = await eventually('a Warning event', async () => {
      const list = z.object({ items: z.array(z.looseObject({ type: z.string(), reason: z.string(), message: z.string().optional(), involvedObject: z.looseObject({ name: z.string() }) })) })
        .parse(JSON.parse(await kubectlOk(['get', 'events', '-n', ns.conflict, '--field-selector', 'reason=OwnershipConflict', '-o', 'json'])));
      const warning = list.items.find((event) => event.type === 'Warning' && event.involvedObject.name === 'conflict');
      assert.ok(warning, 'no Warning event with reason OwnershipConflict');
      return list.items;
    });
    assert.match(events[0]?.message ?? '', /conflict-app/);
    assert.ok((await operator.metric('smsx_operator_reconcile_errors_total', { reason: 'OwnershipConflict' })) > 0);

    // The other experiment in the same namespace is unaffected, and the foreign Service untouched.
    await waitReady(ns.conflict, EXPERIMENT);
    const untouched = z.looseObject({ metadata: z.looseObject({ resourceVersion: z.string(), ownerReferences: z.array(z.unknown()).optional() }) })
      .parse(await client.get(services, { namespace: ns.conflict, name: 'conflict-app' }));
    assert.equal(untouched.metadata.resourceVersion, foreignVersion, 'the foreign Service was not written');
    assert.equal(untouched.metadata.ownerReferences, undefined);

    // Once the owner of the name gives it up, the retries with backoff converge on their own.
    await kubectlOk(['delete', 'service', 'conflict-app', '-n', ns.conflict]);
    await waitReady(ns.conflict, 'conflict', 60_000);
    await waitConverged(ns.conflict, 'conflict');
  });

  it('recovers from a kube-apiserver restart without restarting, and applies an edit made right after', async function () {
    const controlPlane = cluster.controlPlane;
    if (!controlPlane) {
      console.log('    (skipped: stopping kube-apiserver needs the local control plane; SMSX_TEST_KUBECONFIG points at another cluster)');
      this.skip();
    }
    await applySample(ns.outage, 'canary');
    await waitReady(ns.outage);
    const pid = operator.pid;
    const restartsBefore = await operator.metric('smsx_operator_informer_restarts_total');

    const stoppedAt = Date.now();
    await controlPlane.stopApiServer();
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await controlPlane.startApiServer();
    const downMs = elapsed(stoppedAt);
    const upAt = Date.now();
    // The CRD's REST endpoint can lag the server's readiness by a moment.
    await eventually('the edit to be accepted', () => patchSpec(ns.outage, { traffic: { weights: { stable: 60, canary: 40 } } }), { intervalMs: 200 });
    await eventually('the edit in the VirtualService', async () => {
      assert.deepEqual(await experimentWeights(ns.outage), { v1: 60, v2: 40 });
    }, { timeoutMs: 60_000, intervalMs: 100 });
    const convergedMs = elapsed(upAt);
    const experiment = await waitReady(ns.outage);
    assert.deepEqual(experiment.status?.weights, { stable: 60, canary: 40 });

    assert.ok(operator.alive, 'the operator is still running');
    assert.equal(operator.pid, pid, 'the same process');
    assert.ok((await operator.metric('smsx_operator_informer_restarts_total')) > restartsBefore, 'watches were restarted');
    assert.ok((await operator.logLines()).some((line) => line.msg === 'Resumed watch' && line.pid === pid));
    figures['kube-apiserver down (stop → ready again)'] = `${downMs} ms`;
    figures['kube-apiserver ready → edit in VirtualService'] = `${convergedMs} ms`;
  });

  it('converges after a SIGKILL mid-reconcile, with no duplicate or lost object', async () => {
    // Six experiments created at once (the operator runs four at a time), and the operator killed
    // the moment the first object of any of them appears; then one experiment switched canary →
    // shadow, and the operator killed the moment the first shadow object appears (before the canary
    // objects are pruned). Each time a fresh process must finish the job.
    const names = ['kill-a', 'kill-b', 'kill-c', 'kill-d', 'kill-e', 'kill-f'];
    const killOnFirst = async (path: string, labelSelector: string, trigger: () => Promise<unknown>): Promise<void> => {
      const watch = new Watch(cluster.kubeConfig);
      let fired = false;
      let stopWatching = () => undefined as void;
      const killed = new Promise<void>((resolve, reject) => {
        watch
          .watch(path, { labelSelector }, (phase) => {
            if (phase !== 'ADDED' || fired) return;
            fired = true;
            operator.kill('SIGKILL').then(() => resolve(), reject);
          }, (error) => {
            if (!fired) reject(error instanceof Error ? error : new Error(`the watch ended: ${String(error)}`));
          })
          .then((controller) => (stopWatching = () => controller.abort()), reject);
      });
      await trigger();
      const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no object appeared within 20 s')), 20_000));
      await Promise.race([killed, timeout]).finally(() => stopWatching());
    };
    const countOwned = async () => {
      let found = 0;
      for (const name of names) found += (await listOwnedObjects(client, ns.kill, name)).length;
      return found;
    };
    const report: string[] = [];

    const list = { apiVersion: 'v1', kind: 'List', items: names.map((name) => ({ apiVersion: 'experiments.sms-app.io/v1alpha1', kind: 'SmsExperiment', metadata: { name }, spec: { mode: 'canary' } })) };
    await killOnFirst(`/api/v1/namespaces/${ns.kill}/configmaps`, EXPERIMENT_LABEL, () => kubectlOk(['apply', '-n', ns.kill, '-f', '-'], JSON.stringify(list)));
    report.push(`create: ${await countOwned()} of ${names.length * 21} objects existed at the kill`);
    await operator.start();
    for (const name of names) {
      await waitConverged(ns.kill, name);
      await waitReady(ns.kill, name);
    }

    const [switched = ''] = names;
    await killOnFirst(`/apis/apps/v1/namespaces/${ns.kill}/deployments`, `${EXPERIMENT_LABEL}=${switched},experiments.sms-app.io/role=shadow`, () =>
      patchSpec(ns.kill, { mode: 'shadow' }, switched),
    );
    const atKill = (await listOwnedObjects(client, ns.kill, switched)).map((object) => object.id);
    report.push(`mode switch: canary Deployments ${atKill.includes(`Deployment/${switched}-app-canary`) ? 'not yet pruned' : 'already pruned'} at the kill`);
    await operator.start();
    await waitConverged(ns.kill, switched);
    await waitReady(ns.kill, switched);

    // No duplicate: exactly one ReplicaSet per Deployment (a re-applied but identical pod template
    // rolls nothing), and no ReplicaSet of a pruned Deployment is left.
    await eventually('one ReplicaSet per Deployment', async () => {
      const replicaSets = await client.list(REPLICA_SET, ns.kill);
      const owners = replicaSets.items
        .map((item) => z.looseObject({ metadata: z.looseObject({ ownerReferences: z.array(z.looseObject({ name: z.string() })).optional() }) }).parse(item).metadata.ownerReferences?.[0]?.name ?? '')
        .sort();
      const deployments: string[] = [];
      for (const name of names) deployments.push(...(await listOwnedObjects(client, ns.kill, name)).filter((o) => o.id.startsWith('Deployment/')).map((o) => o.id.slice('Deployment/'.length)));
      assert.deepEqual(owners, deployments.sort());
    });
    figures['SIGKILL mid-reconcile'] = report.join('; ');
  });

  // The controller-manager's garbage collector starts watching a kind only at its next discovery
  // resync (every 30 s, and one that falls into the API-server restart above fails) after the CRD
  // appears; until then it notices a deleted experiment late. Hence the long timeouts, and the test
  // late in the run, where a fresh CRD costs least.
  it('removes every owned object when the experiment is deleted (garbage collection)', async function () {
    this.timeout(150_000);
    await applySample(ns.gc, 'canary');
    await waitReady(ns.gc);
    assert.equal((await listOwnedObjects(client, ns.gc, EXPERIMENT)).length, 21);
    const since = Date.now();
    await kubectlOk(['delete', 'smsx', EXPERIMENT, '-n', ns.gc, '--wait=false']);
    await eventually('every owned object to be gone', async () => {
      const left = await listOwnedObjects(client, ns.gc, EXPERIMENT);
      assert.deepEqual(left.map((object) => object.id), []);
    }, { timeoutMs: 70_000 });
    const ownedGoneMs = elapsed(since);
    await eventually('the ReplicaSets and Pods to be gone', async () => {
      for (const type of [REPLICA_SET, POD]) {
        const { items } = await client.list(type, ns.gc, { labelSelector: `${EXPERIMENT_LABEL}=${EXPERIMENT}` });
        assert.equal(items.length, 0, `${type.kind}s left`);
      }
    }, { timeoutMs: 70_000 });
    figures['experiment deleted → owned objects gone / pods gone'] = `${ownedGoneMs} ms / ${elapsed(since)} ms`;
  });

  describe('leader election', () => {
    let election: string;
    const lease = 'smsx-test-election';
    let first: OperatorProcess;
    let second: OperatorProcess;

    before(async () => {
      election = await cluster.createNamespace('op-election');
      const args = ['--lease-duration', '4s', '--lease-renew-interval', '1s', '--leader-election-lease-name', lease];
      first = new OperatorProcess({ name: 'election-a', kubeconfigPath: kubeconfig, namespaces: [election], args });
      second = new OperatorProcess({ name: 'election-b', kubeconfigPath: kubeconfig, namespaces: [election], args });
      extraOperators.push(first, second);
    });

    after(async () => {
      await Promise.all([first.stop(), second.stop()]);
    });

    it('lets exactly one of two replicas reconcile, and the other take over when it is killed', async () => {
      await first.start();
      await eventually('election-a to lead', async () => assert.equal(await leaseHolder(lease), 'election-a'));
      await second.start();
      await applySample(election, 'canary');
      await waitReady(election);

      assert.equal(await leaseHolder(lease), 'election-a');
      assert.ok((await first.metric('smsx_operator_reconcile_total')) > 0, 'the leader reconciled');
      assert.equal(await second.metric('smsx_operator_reconcile_total'), 0, 'the standby did not reconcile');
      assert.equal(await second.metric('smsx_operator_api_requests_total', { verb: 'apply' }), 0, 'the standby applied nothing');
      assert.ok(!(await second.logLines()).some((line) => line.msg === 'Acquired leadership' || line.msg === 'Started workers'));

      await first.kill('SIGKILL');
      const killedAt = Date.now();
      await patchSpec(election, { traffic: { weights: { stable: 50, canary: 50 } } });
      await eventually('the standby to apply the edit', async () => {
        assert.deepEqual(await experimentWeights(election), { v1: 50, v2: 50 });
      }, { timeoutMs: 30_000, intervalMs: 100 });
      figures['leader SIGKILLed → standby applied an edit (lease 4 s)'] = `${elapsed(killedAt)} ms`;
      assert.equal(await leaseHolder(lease), 'election-b');
      assert.ok((await second.logLines()).some((line) => line.msg === 'Acquired leadership'));
      // The apply is visible before the pass ends (its status write is still in flight).
      await eventually('the new leader to count its pass', async () => assert.ok((await second.metric('smsx_operator_reconcile_total')) > 0));

      // A graceful stop hands the Lease back at once.
      await second.stop();
      assert.ok(!(await leaseHolder(lease)), 'the stopped leader released the Lease');
    });
  });

  describe('start-up', () => {
    it('runs with --skip-monitoring: no monitoring objects, a condition says so, Ready still True', async () => {
      const namespace = await cluster.createNamespace('op-no-monitoring');
      const withoutMonitoring = new OperatorProcess({ name: 'no-monitoring', kubeconfigPath: kubeconfig, namespaces: [namespace], args: ['--skip-monitoring', '--no-leader-elect'] });
      extraOperators.push(withoutMonitoring);
      try {
        await withoutMonitoring.start();
        await applySample(namespace, 'canary');
        const experiment = await waitReady(namespace);
        const owned = (await listOwnedObjects(client, namespace, EXPERIMENT)).map((object) => object.id);
        assert.deepEqual(owned, expectedObjectIds(experiment, { monitoring: false }));
        assert.ok(!owned.some((id) => id.startsWith('ServiceMonitor/') || id.startsWith('PrometheusRule/')));
        const degraded = conditionOf(experiment, 'Degraded');
        assert.equal(degraded?.status, 'True');
        assert.match(degraded?.message ?? '', /--skip-monitoring/);
      } finally {
        await withoutMonitoring.stop();
      }
    });

    it('fails fast with a clear message when it cannot check the CRDs, and exits 2 on a bad flag', async () => {
      // Same credentials, but a server that is not there.
      const badKubeconfig = path.join(path.dirname(kubeconfig), 'unreachable.kubeconfig');
      await writeFile(badKubeconfig, (await readFile(kubeconfig, 'utf8')).replace(/server: .*/, 'server: https://127.0.0.1:1'));
      const failing = new OperatorProcess({ name: 'unreachable', kubeconfigPath: badKubeconfig, namespaces: ['default'], args: ['--no-leader-elect'] });
      await assert.rejects(failing.start(), /exited \(1\)/);
      const fatal = (await failing.logLines()).find((line) => line.level === 'fatal');
      assert.match(fatal?.msg ?? '', /^Cannot start: failed to read the CRDs from the API server/);

      const badFlag = new OperatorProcess({ name: 'bad-flag', kubeconfigPath: kubeconfig, namespaces: ['default'], args: ['--concurrency', 'many'] });
      await assert.rejects(badFlag.start(), /exited \(2\)/);
      assert.match(await badFlag.tail(), /--concurrency: the concurrency "many" must be a whole number/);
    });
  });
});
