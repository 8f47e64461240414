// Progressive delivery end to end, with real parts: the operator on the local control plane (with
// --prometheus-url), Debian's Prometheus scraping real app and model processes every second under
// the target labels the experiments' ServiceMonitors give their pods, and a load generator that
// follows the live VirtualServices (test/support/following-load.ts: it reads the weights and the
// mirror from the API server between batches, standing in for Envoy, which cannot run here). The
// Deployments run kwok pods; the processes outside stand in for them, labelled as those pods.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { API_VERSION, KIND, smsExperimentSchema, type SmsExperiment } from '../../src/crd/schema.ts';
import { trainToDirectory } from '../../src/model/build-artifact.ts';
import { readDataset, type LabelledMessage } from '../../src/model/dataset.ts';
import { createKubeClient, type KubeClient } from '../../src/operator/kube/client.ts';
import { experimentNames, render } from '../../src/operator/render/index.ts';
import { startAppProcess, type RunningAppProcess } from '../support/app-process.ts';
import { useCluster, type TestCluster } from '../support/cluster.ts';
import { installCrd } from '../support/crd.ts';
import { eventually } from '../support/eventually.ts';
import { liveRouting, startFollowingLoad, type FollowingLoad } from '../support/following-load.ts';
import { startModelService, trainedModelsDir, trainingDataFile, type RunningModelService } from '../support/model-service.ts';
import { dumpLogsOnFailure, operatorKubeconfig, OperatorProcess } from '../support/operator.ts';
import { readExperiment } from '../support/owned-objects.ts';
import { serviceMonitorTargetLabels, startPrometheus, type RunningPrometheus, type ScrapeJob } from '../support/prometheus.ts';

const EXPERIMENT = 'sms-app';
const names = experimentNames(EXPERIMENT);
const PLUGIN = path.join(import.meta.dirname, '../../bin/kubectl-smsx');
const REQUESTS_PER_SECOND = 100;
/** Gates for a local run: errors and slow requests, tolerating a 20% higher rate; below 5% a rate is negligible. */
const GATES = [
  { signal: 'errors', margin: 0.2, negligibleRate: 0.05 },
  { signal: 'slow', margin: 0.2, negligibleRate: 0.05 },
];
const canarySpec = (steps: number[], extra: Record<string, unknown> = {}) => ({ mode: 'canary', analysis: { progression: { steps, minCanaryRequests: 100, maxStepDuration: '5m', gates: GATES, ...extra } } });
const shadowSpec = (fromShadow: Record<string, unknown>, steps: number[]) => ({
  mode: 'shadow',
  traffic: { mirrorPercent: 50 },
  analysis: { progression: { steps, minCanaryRequests: 100, maxStepDuration: '5m', gates: GATES, fromShadow: { minComparisons: 200, maxDuration: '5m', ...fromShadow } } },
});

type Scenario = 'good' | 'bad' | 'restart' | 'agree' | 'disagree' | 'plugin';
const SCENARIOS: readonly Scenario[] = ['good', 'bad', 'restart', 'agree', 'disagree', 'plugin'];

describe('operator progression: steps, rollback and promotion on evidence from a real Prometheus', function () {
  this.timeout(300_000);
  let cluster: TestCluster;
  let client: KubeClient;
  let operator: OperatorProcess;
  let prometheus: RunningPrometheus;
  let workDirectory: string;
  let messages: LabelledMessage[];
  const ns = {} as Record<Scenario, string>;
  const models: Record<string, RunningModelService> = {};
  const apps: Record<string, { stable: RunningAppProcess; canary?: RunningAppProcess }> = {};
  const loads: FollowingLoad[] = [];
  const figures: string[] = [];

  before(async function () {
    this.timeout(240_000);
    cluster = await useCluster();
    await installCrd(cluster);
    client = createKubeClient(cluster.kubeConfig);
    for (const scenario of SCENARIOS) ns[scenario] = await cluster.createNamespace(`pg-${scenario}`);

    workDirectory = await mkdtemp(path.join(tmpdir(), 'sms-progression-'));
    const modelsDir = await trainedModelsDir();
    const dataset = await readDataset(trainingDataFile().file);
    messages = dataset.messages;
    // A canary that is as good as stable: it serves the stable artifact.
    models.stable = await startModelService({ modelsDir, version: 'v1' });
    for (const scenario of ['good', 'bad', 'restart', 'agreeCanary'] as const) models[scenario] = await startModelService({ modelsDir, version: 'v1' });
    // Shadows compare themselves with the stable model on each mirrored message: one serves the
    // stable artifact (it agrees), one v2's recipe on a 25th of the data (it disagrees on some).
    const stableEnv = { SHADOW_MODE: 'true', STABLE_MODEL_VERSION: 'v1', STABLE_MODEL_PATH: path.join(modelsDir, 'v1') };
    models.agreeShadow = await startModelService({ modelsDir, version: 'v2', env: { ...stableEnv, MODEL_PATH: path.join(modelsDir, 'v1') } });
    const subset = { ...dataset, messages: dataset.messages.filter((_, index) => index % 25 === 0) };
    const { directory: weakModel } = await trainToDirectory({ dataset: subset, version: 'v2', seed: 7, created: new Date().toISOString(), modelsDirectory: workDirectory, evaluate: false });
    models.disagreeShadow = await startModelService({ modelsDir, version: 'v2', env: { ...stableEnv, MODEL_PATH: weakModel } });

    const modelOf: Record<Scenario, RunningModelService | undefined> = { good: models.good, bad: models.bad, restart: models.restart, agree: models.agreeCanary, disagree: undefined, plugin: undefined };
    const jobs: ScrapeJob[] = [];
    const address = (url: string) => url.replace('http://', '');
    for (const scenario of SCENARIOS) {
      if (scenario === 'plugin') continue;
      const stable = await startAppProcess({ version: 'v1', modelUrl: models.stable.url });
      const canaryModel = modelOf[scenario];
      const canary = canaryModel ? await startAppProcess({ version: 'v2', modelUrl: canaryModel.url }) : undefined;
      apps[scenario] = { stable, ...(canary ? { canary } : {}) };
      // The target labels of the canary-mode pods (a shadow run ends in canary mode too).
      const objects = render(smsExperimentSchema.parse({ apiVersion: API_VERSION, kind: KIND, metadata: { name: EXPERIMENT, namespace: ns[scenario], uid: 'x' }, spec: { mode: 'canary' } }));
      const target = (monitor: string, deployment: string, url: string, rendered = objects) => ({ address: address(url), labels: serviceMonitorTargetLabels(rendered, monitor, deployment, `${deployment}-0`) });
      jobs.push({
        job: `serviceMonitor/${ns[scenario]}/${names.appServiceMonitor}/0`,
        targets: [target(names.appServiceMonitor, names.appDeployment.stable, stable.url), ...(canary ? [target(names.appServiceMonitor, names.appDeployment.canary, canary.url)] : [])],
      });
      if (scenario === 'agree' || scenario === 'disagree') {
        const shadowObjects = render(smsExperimentSchema.parse({ apiVersion: API_VERSION, kind: KIND, metadata: { name: EXPERIMENT, namespace: ns[scenario], uid: 'x' }, spec: { mode: 'shadow' } }));
        const shadow = scenario === 'agree' ? models.agreeShadow : models.disagreeShadow;
        jobs.push({ job: `serviceMonitor/${ns[scenario]}/${names.modelServiceMonitor}/0`, targets: [target(names.modelServiceMonitor, names.modelDeployment.shadow, shadow?.url ?? '', shadowObjects)] });
      }
    }
    prometheus = await startPrometheus(jobs);
    await prometheus.waitForScrapes(Date.now() / 1000);

    operator = new OperatorProcess({
      name: 'progression',
      kubeconfigPath: await operatorKubeconfig(cluster),
      namespaces: Object.values(ns),
      args: ['--log-level', 'debug', '--leader-election-lease-name', 'smsx-test-progression', '--prometheus-url', prometheus.url, '--analysis-interval', '1s'],
    });
    await operator.start();
  });

  afterEach(async function () {
    await dumpLogsOnFailure(this, [operator]);
  });

  after(async () => {
    await Promise.all(loads.map((load) => load.stop()));
    await operator?.stop();
    await prometheus?.stop();
    const processes = [...Object.values(apps).flatMap((pair) => (pair.canary ? [pair.stable, pair.canary] : [pair.stable])), ...Object.values(models)];
    await Promise.all(processes.map((running) => running.stop()));
    if (workDirectory) await rm(workDirectory, { recursive: true, force: true });
    if (figures.length > 0) console.log(`\n  Figures:\n${figures.map((line) => `    ${line}`).join('\n')}\n`);
  });

  async function experimentIn(scenario: Scenario): Promise<SmsExperiment> {
    const experiment = await readExperiment(client, ns[scenario], EXPERIMENT);
    assert.ok(experiment, `SmsExperiment ${ns[scenario]}/${EXPERIMENT} does not exist`);
    return experiment;
  }

  async function apply(scenario: Scenario, spec: unknown): Promise<void> {
    const manifest = JSON.stringify({ apiVersion: API_VERSION, kind: KIND, metadata: { name: EXPERIMENT }, spec });
    const result = await cluster.kubectl(['apply', '-n', ns[scenario], '-f', '-'], { input: manifest });
    assert.equal(result.code, 0, result.stderr);
  }

  function follow(scenario: Scenario, shadow?: RunningModelService): FollowingLoad {
    const pair = apps[scenario];
    assert.ok(pair);
    const load = startFollowingLoad({
      client,
      namespace: ns[scenario],
      experiment: EXPERIMENT,
      apps: { v1: pair.stable.url, ...(pair.canary ? { v2: pair.canary.url } : {}) },
      ...(shadow ? { shadow: { stableVersion: 'v1', url: shadow.url } } : {}),
      messages,
      requestsPerSecond: REQUESTS_PER_SECOND,
      seed: SCENARIOS.indexOf(scenario) * 1_000 + 1,
    });
    loads.push(load);
    return load;
  }

  async function phaseOf(scenario: Scenario, phase: string, timeoutMs = 150_000): Promise<SmsExperiment> {
    return eventually(`${scenario}: phase ${phase}`, async () => {
      const experiment = await experimentIn(scenario);
      assert.equal(experiment.status?.progression?.phase, phase, `phase ${experiment.status?.progression?.phase}: ${experiment.status?.progression?.message}`);
      return experiment;
    }, { timeoutMs, intervalMs: 200 });
  }

  async function warningEvents(scenario: Scenario, reason: string): Promise<string[]> {
    const result = await cluster.kubectl(['get', 'events', '-n', ns[scenario], '--field-selector', `reason=${reason},type=Warning`, '-o', 'jsonpath={range .items[*]}{.message}{"\\n"}{end}']);
    assert.equal(result.code, 0, result.stderr);
    return result.stdout.split('\n').filter((line) => line !== '');
  }

  const stepTable = (experiment: SmsExperiment) =>
    (experiment.status?.progression?.history ?? []).map((record) =>
      record.step === 0
        ? `shadow phase: ${record.outcome} after ${seconds(record)} s, ${record.canaryRequests} mirrored messages compared`
        : `step ${record.step} (${record.canaryWeight}%): ${record.outcome} after ${seconds(record)} s, ${record.canaryRequests} canary requests`,
    );
  const seconds = (record: { startedAt: string; endedAt: string }) => ((Date.parse(record.endedAt) - Date.parse(record.startedAt)) / 1000).toFixed(0);

  it('walks a good canary through every step to Promoted; kubectl wait sees the condition', async () => {
    await apply('good', canarySpec([10, 25, 50, 100]));
    const load = follow('good');
    const started = Date.now();
    const waited = cluster.kubectl(['wait', '-n', ns.good, `smsx/${EXPERIMENT}`, '--for=condition=Promoted', '--timeout=150s']);
    const promoted = await phaseOf('good', 'Promoted');
    assert.equal((await waited).code, 0, 'kubectl wait --for=condition=Promoted');
    const history = promoted.status?.progression?.history ?? [];
    assert.deepEqual(history.map((record) => [record.step, record.canaryWeight, record.outcome]), [[1, 10, 'Advanced'], [2, 25, 'Advanced'], [3, 50, 'Advanced']]);
    for (const record of history) assert.ok(record.canaryRequests >= 100, `step ${record.step} advanced on ${record.canaryRequests} canary requests, below minCanaryRequests`);
    assert.deepEqual(promoted.status?.progression?.weights, { stable: 0, canary: 100 });
    assert.match(promoted.status?.progression?.nextAction ?? '', /^promote: set spec.app.stable/);
    // The weights the load generator followed, in order, are the steps'.
    const routed = await eventually('the routing to show 0/100', async () => {
      const routing = await liveRouting(client, ns.good, EXPERIMENT);
      assert.deepEqual(routing.weights, { v2: 100 });
      return routing;
    });
    // (0 while the readiness gate still held the canary back at the start; 100 once a batch ran after the promotion.)
    const followedCanary = [...new Set(load.followed.map((entry) => entry.routing.weights.v2 ?? 0))].filter((weight) => weight > 0 && weight < 100);
    assert.deepEqual(followedCanary, [10, 25, 50], 'the canary weights followed, in order');
    assert.deepEqual(routed.weights, { v2: 100 });
    figures.push(`good canary: promoted in ${((Date.now() - started) / 1000).toFixed(0)} s; ${stepTable(promoted).join('; ')}`);
    await load.stop();
  });

  it('rolls back a canary that starts failing at step 2, within a bounded number of canary requests, with the evidence in a Warning', async () => {
    await apply('bad', canarySpec([10, 25, 50, 100]));
    const load = follow('bad');
    await eventually('step 2 in effect', async () => {
      const experiment = await experimentIn('bad');
      assert.equal(experiment.status?.progression?.step, 2);
      assert.deepEqual(experiment.status?.weights, { stable: 75, canary: 25 });
    }, { timeoutMs: 120_000, intervalMs: 100 });
    // The canary's model dies: every canary request fails from here on.
    models.bad?.kill('SIGKILL');
    const failingFrom = load.tally.byVersion.v2?.requests ?? 0;
    const rolledBack = await phaseOf('bad', 'RolledBack', 60_000);
    const untilRollback = (load.tally.byVersion.v2?.requests ?? 0) - failingFrom;
    await eventually('the routing to send everything to stable', async () => assert.deepEqual((await liveRouting(client, ns.bad, EXPERIMENT)).weights, { v1: 100 }));
    const untilRouted = (load.tally.byVersion.v2?.requests ?? 0) - failingFrom;
    await load.stop();
    assert.deepEqual(rolledBack.status?.progression?.weights, { stable: 100, canary: 0 });
    assert.equal(rolledBack.status?.progression?.history.at(-1)?.step, 2);
    assert.ok(untilRouted <= 400, `${untilRouted} canary requests after the failure began before the routing left the canary`);
    const warnings = await eventually('the RolledBack Warning', async () => {
      const found = await warningEvents('bad', 'RolledBack');
      assert.ok(found.length > 0);
      return found;
    });
    assert.match(warnings[0] ?? '', /errors/);
    assert.match(warnings[0] ?? '', /canary \d+\/\d+/);
    assert.match(warnings[0] ?? '', /interval/);
    const rolledBackCondition = rolledBack.status?.conditions?.find((condition) => condition.type === 'RolledBack');
    assert.equal(rolledBackCondition?.status, 'True');
    figures.push(`failing canary: rolled back at step 2 after ${untilRollback} canary requests from the failure's start (${untilRouted} until the routing left it); event: ${warnings[0]}`);
  });

  it('resumes the same step with its evidence after the operator is killed with SIGKILL mid-step', async () => {
    await apply('restart', canarySpec([10, 50, 100], { minCanaryRequests: 300 }));
    const load = follow('restart');
    const before = await eventually('evidence of step 2', async () => {
      const experiment = await experimentIn('restart');
      assert.equal(experiment.status?.progression?.step, 2);
      const errors = experiment.status?.analysis?.signals?.find((signal) => signal.name === 'errors');
      assert.ok(experiment.status?.analysis?.step.includes('split 50/50'), experiment.status?.analysis?.step);
      assert.ok((errors?.canary.trials ?? 0) >= 50, `canary trials ${errors?.canary.trials}`);
      return experiment;
    }, { timeoutMs: 120_000, intervalMs: 100 });
    await load.stop(); // nothing new while the operator is away, so the step cannot finish meanwhile
    assert.equal(await operator.kill('SIGKILL'), 'SIGKILL');
    const killedAt = Date.now();
    const stored = await experimentIn('restart');
    await operator.start();
    const after = await eventually('a round of the restarted operator', async () => {
      const experiment = await experimentIn('restart');
      // Status times have whole seconds: a round before the kill is stamped at or before it.
      assert.ok(Date.parse(experiment.status?.analysis?.lastCollectedAt ?? '') > killedAt, 'no round since the restart yet');
      return experiment;
    }, { timeoutMs: 60_000, intervalMs: 200 });
    const errorsOf = (experiment: SmsExperiment) => experiment.status?.analysis?.signals?.find((signal) => signal.name === 'errors');
    assert.equal(after.status?.progression?.step, 2, 'the same step');
    assert.equal(after.status?.progression?.stepStartedAt, before.status?.progression?.stepStartedAt, 'the step was not restarted');
    assert.equal(after.status?.analysis?.stepStartedAt, before.status?.analysis?.stepStartedAt, 'the evidence was not restarted');
    assert.ok((errorsOf(after)?.canary.trials ?? 0) >= (errorsOf(stored)?.canary.trials ?? 0), 'the counts carried on from the stored ones');
    const resumed = follow('restart');
    const promoted = await phaseOf('restart', 'Promoted');
    await resumed.stop();
    figures.push(`SIGKILL at step 2 with ${errorsOf(stored)?.canary.trials} canary requests of evidence; after the restart step 2 went on from ${errorsOf(after)?.canary.trials}; ${stepTable(promoted).join('; ')}`);
  });

  it('takes a shadow model that agrees to canary and on to Promoted', async () => {
    await apply('agree', shadowSpec({ minAgreement: 0.95 }, [25, 100]));
    const load = follow('agree', models.agreeShadow);
    const promoted = await phaseOf('agree', 'Promoted', 200_000);
    await load.stop();
    const history = promoted.status?.progression?.history ?? [];
    assert.deepEqual(history.map((record) => [record.step, record.outcome]), [[0, 'ShadowPassed'], [1, 'Advanced']]);
    assert.deepEqual(promoted.status?.progression?.weights, { stable: 0, canary: 100 });
    await eventually('the promotion in effect', async () => {
      const experiment = await experimentIn('agree');
      assert.equal(experiment.status?.mode, 'canary');
      assert.deepEqual(experiment.status?.weights, { stable: 0, canary: 100 });
    });
    assert.ok(load.followed.some((entry) => entry.routing.mirror !== undefined), 'the shadow phase mirrored');
    assert.ok((load.tally.byVersion.v2?.requests ?? 0) > 0, 'the canary served requests after the shadow phase');
    figures.push(`agreeing shadow: ${stepTable(promoted).join('; ')}`);
  });

  it('keeps a shadow model that disagrees too much in shadow, with the reason in status', async () => {
    await apply('disagree', shadowSpec({ minAgreement: 0.99, minComparisons: 100 }, [25, 100]));
    const load = follow('disagree', models.disagreeShadow);
    const rejected = await phaseOf('disagree', 'ShadowRejected');
    await load.stop();
    assert.equal(rejected.status?.mode, 'shadow');
    assert.match(rejected.status?.progression?.message ?? '', /stays in shadow: .*agree/);
    assert.equal((await warningEvents('disagree', 'ShadowRejected')).length > 0, true);
    figures.push(`disagreeing shadow: ${rejected.status?.progression?.message}`);
  });

  it('pauses, resumes and aborts a run through kubectl smsx', async () => {
    await apply('plugin', canarySpec([10, 50, 100], { minCanaryRequests: 1_000_000 }));
    await phaseOf('plugin', 'Progressing');
    const smsx = async (...args: string[]) => {
      const run = promisify(execFile);
      const { stdout } = await run(process.execPath, [PLUGIN, ...args, '-n', ns.plugin], { env: { ...process.env, KUBECTL: cluster.kubectlPath, KUBECONFIG: cluster.kubeconfigPath } });
      return stdout;
    };
    assert.match(await smsx('pause', EXPERIMENT), /Requested pause/);
    await phaseOf('plugin', 'Paused', 30_000);
    assert.match(await smsx('status', EXPERIMENT), /Phase: Paused \(request\), step 1\/3/);
    assert.match(await smsx('resume', EXPERIMENT), /Requested resume/);
    await phaseOf('plugin', 'Progressing', 30_000);
    assert.match(await smsx('abort', EXPERIMENT), /Requested abort/);
    const aborted = await phaseOf('plugin', 'Aborted', 30_000);
    assert.deepEqual(aborted.status?.progression?.weights, { stable: 100, canary: 0 });
    await eventually('the routing to send everything to stable', async () => assert.deepEqual((await liveRouting(client, ns.plugin, EXPERIMENT)).weights, { v1: 100 }));
    const status = await smsx('status', EXPERIMENT);
    assert.match(status, /Phase: Aborted/);
    assert.match(status, /History:\n {2}step 1 +10% {2}Aborted/);
    figures.push(`kubectl smsx status after abort:\n${status.replace(/^/gm, '      ')}`);
    // A mistyped action is refused by the plugin itself, with the usage.
    await assert.rejects(smsx('rewind', EXPERIMENT), /unknown command "rewind"/);
  });
});
