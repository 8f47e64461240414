// The operator's analysis end to end, with real parts: the operator on the local control plane
// (run with --prometheus-url), Debian's Prometheus scraping the real app and model processes every
// second under the target labels the experiment's rendered ServiceMonitors give its pods, and a
// load generator that splits requests 90/10 between app v1 and v2 as the VirtualService's weights
// say (a stand-in for Envoy, which cannot run here). The Deployments in the control plane run kwok
// pods; the processes outside stand in for them, labelled as those pods.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { API_VERSION, KIND, smsExperimentSchema, type SmsExperiment } from '../../src/crd/schema.ts';
import { trainToDirectory } from '../../src/model/build-artifact.ts';
import { readDataset, type LabelledMessage } from '../../src/model/dataset.ts';
import { createKubeClient, type KubeClient } from '../../src/operator/kube/client.ts';
import type { Series } from '../../src/operator/prometheus/client.ts';
import { experimentNames, render } from '../../src/operator/render/index.ts';
import { startAppProcess, type RunningAppProcess } from '../support/app-process.ts';
import { useCluster, type TestCluster } from '../support/cluster.ts';
import { installCrd } from '../support/crd.ts';
import { eventually } from '../support/eventually.ts';
import { startModelService, trainedModelsDir, trainingDataFile, type RunningModelService } from '../support/model-service.ts';
import { dumpLogsOnFailure, operatorKubeconfig, OperatorProcess } from '../support/operator.ts';
import { conditionOf, readExperiment } from '../support/owned-objects.ts';
import { serviceMonitorTargetLabels, startPrometheus, type RunningPrometheus } from '../support/prometheus.ts';
import { emptyTally, runSplitLoad } from '../support/split-load.ts';

const EXPERIMENT = 'sms-app';
const names = experimentNames(EXPERIMENT);

function sumByVersion(series: readonly Series[]): Record<string, number> {
  return Object.fromEntries(series.map((one) => [one.labels.version ?? '', one.samples[0]?.value ?? Number.NaN]));
}

describe('operator analysis: verdicts from a real Prometheus', function () {
  this.timeout(240_000);
  let cluster: TestCluster;
  let client: KubeClient;
  let operator: OperatorProcess;
  let prometheus: RunningPrometheus;
  let workDirectory: string;
  let messages: LabelledMessage[];
  const models: Record<string, RunningModelService> = {};
  const apps: Record<string, RunningAppProcess> = {};
  const ns = { canary: '', shadow: '' };
  const figures: string[] = [];

  const experimentOf = (namespace: string, mode: 'canary' | 'shadow') =>
    smsExperimentSchema.parse({ apiVersion: API_VERSION, kind: KIND, metadata: { name: EXPERIMENT, namespace, uid: 'x' }, spec: { mode } });

  before(async function () {
    this.timeout(180_000);
    cluster = await useCluster();
    await installCrd(cluster);
    client = createKubeClient(cluster.kubeConfig);
    ns.canary = await cluster.createNamespace('an-canary');
    ns.shadow = await cluster.createNamespace('an-shadow');

    workDirectory = await mkdtemp(path.join(tmpdir(), 'sms-analysis-'));
    const modelsDir = await trainedModelsDir();
    const dataset = await readDataset(trainingDataFile().file);
    messages = dataset.messages;
    // A/A first: the canary's model serves the stable artifact, so both versions behave alike.
    models.v1 = await startModelService({ modelsDir, version: 'v1' });
    models.v2 = await startModelService({ modelsDir, version: 'v1' });
    // The shadow: v2's recipe on a 25th of the data, so it disagrees with v1 on some messages.
    const subset = { ...dataset, messages: dataset.messages.filter((_, index) => index % 25 === 0) };
    const { directory: shadowDirectory } = await trainToDirectory({ dataset: subset, version: 'v2', seed: 7, created: new Date().toISOString(), modelsDirectory: workDirectory, evaluate: false });
    models.shadow = await startModelService({
      modelsDir,
      version: 'v2',
      env: { SHADOW_MODE: 'true', MODEL_PATH: shadowDirectory, STABLE_MODEL_VERSION: 'v1', STABLE_MODEL_PATH: path.join(modelsDir, 'v1') },
    });
    apps.v1 = await startAppProcess({ version: 'v1', modelUrl: models.v1.url });
    apps.v2 = await startAppProcess({ version: 'v2', modelUrl: models.v2.url });
    apps.shadowStable = await startAppProcess({ version: 'v1', modelUrl: models.v1.url });

    const canary = render(experimentOf(ns.canary, 'canary'));
    const shadow = render(experimentOf(ns.shadow, 'shadow'));
    const target = (objects: typeof canary, monitor: string, deployment: string, address: string) => ({ address, labels: serviceMonitorTargetLabels(objects, monitor, deployment, `${deployment}-0`) });
    const address = (url: string) => url.replace('http://', '');
    prometheus = await startPrometheus([
      {
        job: `serviceMonitor/${ns.canary}/${names.appServiceMonitor}/0`,
        targets: [target(canary, names.appServiceMonitor, names.appDeployment.stable, apps.v1.address), target(canary, names.appServiceMonitor, names.appDeployment.canary, apps.v2.address)],
      },
      { job: `serviceMonitor/${ns.shadow}/${names.appServiceMonitor}/0`, targets: [target(shadow, names.appServiceMonitor, names.appDeployment.stable, apps.shadowStable.address)] },
      {
        job: `serviceMonitor/${ns.shadow}/${names.modelServiceMonitor}/0`,
        targets: [target(shadow, names.modelServiceMonitor, names.modelDeployment.stable, address(models.v1.url)), target(shadow, names.modelServiceMonitor, names.modelDeployment.shadow, address(models.shadow.url))],
      },
    ]);
    await prometheus.waitForScrapes(Date.now() / 1000);

    operator = new OperatorProcess({
      name: 'analysis',
      kubeconfigPath: await operatorKubeconfig(cluster),
      namespaces: Object.values(ns),
      args: ['--log-level', 'debug', '--leader-election-lease-name', 'smsx-test-analysis', '--prometheus-url', prometheus.url, '--analysis-interval', '1s'],
    });
    await operator.start();
  });

  afterEach(async function () {
    await dumpLogsOnFailure(this, [operator]);
  });

  after(async () => {
    await operator?.stop();
    await prometheus?.stop();
    await Promise.all([...Object.values(apps), ...Object.values(models)].map((running) => running.stop()));
    if (workDirectory) await rm(workDirectory, { recursive: true, force: true });
    if (figures.length > 0) console.log(`\n  Figures:\n${figures.map((line) => `    ${line}`).join('\n')}\n`);
  });

  async function experimentIn(namespace: string): Promise<SmsExperiment> {
    const experiment = await readExperiment(client, namespace, EXPERIMENT);
    assert.ok(experiment, `SmsExperiment ${namespace}/${EXPERIMENT} does not exist`);
    return experiment;
  }

  async function apply(namespace: string, spec: unknown): Promise<void> {
    const manifest = JSON.stringify({ apiVersion: API_VERSION, kind: KIND, metadata: { name: EXPERIMENT }, spec });
    const result = await cluster.kubectl(['apply', '-n', namespace, '-f', '-'], { input: manifest });
    assert.equal(result.code, 0, result.stderr);
  }

  /** Waits until the operator's latest round has counted every request Prometheus holds now. */
  async function analysedCounts(namespace: string): Promise<SmsExperiment> {
    await prometheus.waitForScrapes(Date.now() / 1000, { allowDown: true });
    const selector = `{namespace="${namespace}",service="${names.appService}"}`;
    const requests = sumByVersion(await queryOk(`sum by (version) (sms_requests_total${selector})`));
    const errors = sumByVersion(await queryOk(`sum by (version) (sms_requests_total${selector.replace('}', ',code=~"5.."}')})`));
    return eventually('status.analysis to hold the counts Prometheus holds', async () => {
      const experiment = await experimentIn(namespace);
      const signal = experiment.status?.analysis?.signals?.find((one) => one.name === 'errors');
      assert.deepEqual(
        { stable: signal?.stable, canary: signal?.canary },
        { stable: { trials: requests.v1 ?? 0, events: errors.v1 ?? 0 }, canary: { trials: requests.v2 ?? 0, events: errors.v2 ?? 0 } },
      );
      return experiment;
    }, { timeoutMs: 20_000, intervalMs: 250 });
  }

  async function queryOk(promql: string): Promise<Series[]> {
    const answer = await prometheus.client.query(promql);
    assert.ok(answer.ok, JSON.stringify(answer));
    return answer.value;
  }

  it('A/A: equal versions get no verdict; a canary whose model is stopped is judged worse on errors', async () => {
    const namespace = ns.canary;
    await apply(namespace, {});
    // The step begins once the canary has its weight (its pods are ready): the first round is the baseline.
    await eventually('the first analysis round of the 90/10 step', async () => {
      const experiment = await experimentIn(namespace);
      assert.match(experiment.status?.analysis?.step ?? '', /split 90\/10/);
    }, { timeoutMs: 30_000 });
    const tally = emptyTally(['v1', 'v2']);
    await runSplitLoad({ apps: { v1: apps.v1?.url ?? '', v2: apps.v2?.url ?? '' }, weights: { v1: 90, v2: 10 }, messages, requests: 1_000, seed: 21, tally, requestsPerSecond: 100 });
    const same = await analysedCounts(namespace);
    assert.equal(same.status?.analysis?.verdict, 'no-difference-yet', JSON.stringify(same.status?.analysis?.signals));
    assert.equal(conditionOf(same, 'Analysed')?.reason, 'NoDifferenceYet');
    figures.push(`A/A after ${tally.byVersion.v1?.requests}/${tally.byVersion.v2?.requests} requests: ${conditionOf(same, 'Analysed')?.message ?? ''}`);

    await models.v2?.stop();
    await runSplitLoad({ apps: { v1: apps.v1?.url ?? '', v2: apps.v2?.url ?? '' }, weights: { v1: 90, v2: 10 }, messages, requests: 1_000, seed: 22, tally, requestsPerSecond: 100 });
    const worse = await analysedCounts(namespace);
    const errors = worse.status?.analysis?.signals?.find((signal) => signal.name === 'errors');
    assert.equal(errors?.verdict, 'worse');
    assert.equal(worse.status?.analysis?.verdict, 'worse');
    assert.equal(conditionOf(worse, 'Analysed')?.reason, 'Worse');
    assert.equal(errors?.canary.events, tally.byVersion.v2?.byCode['503'], 'every 503 the generator saw is counted');
    const columns = (await cluster.kubectl(['get', 'smsx', EXPERIMENT, '-n', namespace])).stdout;
    assert.match(columns, /\bworse\b/, 'the Verdict printer column');
    const events = JSON.parse((await cluster.kubectl(['get', 'events.events.k8s.io', '-n', namespace, '-o', 'json'])).stdout) as { items: Array<{ type: string; reason: string }> };
    assert.ok(events.items.some((event) => event.type === 'Warning' && event.reason === 'Worse'), 'a Warning event on the verdict');
    assert.ok((await operator.metric('smsx_operator_analysis_p_value', { namespace, signal: 'errors' })) <= 0.05);
    figures.push(`worse: errors canary ${errors?.canary.events}/${errors?.canary.trials}, stable ${errors?.stable.events}/${errors?.stable.trials}, p=${errors?.pValue.toPrecision(3)}, ratio interval ${JSON.stringify(errors?.interval)}`);
  });

  it('shadow mode: the agreement rate and the lean of the disagreements appear in status', async () => {
    const namespace = ns.shadow;
    await apply(namespace, { mode: 'shadow', traffic: { mirrorPercent: 50 } });
    await eventually('the first analysis round of the shadow step', async () => {
      const experiment = await experimentIn(namespace);
      assert.match(experiment.status?.analysis?.step ?? '', /mirror 50%/);
    }, { timeoutMs: 30_000 });
    const tally = emptyTally(['v1']);
    await runSplitLoad({ apps: { v1: apps.shadowStable?.url ?? '' }, weights: { v1: 100 }, messages, requests: 800, seed: 31, tally, mirror: { version: 'v1', shadowUrl: models.shadow?.url ?? '', percent: 50 } });
    await prometheus.waitForScrapes(Date.now() / 1000, { allowDown: true });
    const direct = await queryOk(`sum by (stable_result, shadow_result) (sms_model_shadow_comparisons_total{namespace="${namespace}",service="${names.modelService}"})`);
    const pair = (stable: string, shadow: string) => direct.find((one) => one.labels.stable_result === stable && one.labels.shadow_result === shadow)?.samples[0]?.value ?? 0;
    const experiment = await eventually('status.analysis.shadow to hold the pairs Prometheus holds', async () => {
      const current = await experimentIn(namespace);
      const shadow = current.status?.analysis?.shadow;
      assert.deepEqual(
        { bothSpam: shadow?.bothSpam, bothHam: shadow?.bothHam, shadowOnlySpam: shadow?.shadowOnlySpam, stableOnlySpam: shadow?.stableOnlySpam },
        { bothSpam: pair('spam', 'spam'), bothHam: pair('ham', 'ham'), shadowOnlySpam: pair('ham', 'spam'), stableOnlySpam: pair('spam', 'ham') },
      );
      return current;
    }, { timeoutMs: 20_000, intervalMs: 250 });
    const shadow = experiment.status?.analysis?.shadow;
    assert.ok(shadow && shadow.shadowOnlySpam + shadow.stableOnlySpam > 0, 'the shadow disagrees on some messages');
    assert.equal(shadow.bothSpam + shadow.bothHam + shadow.shadowOnlySpam + shadow.stableOnlySpam, tally.mirrored.length, 'every mirrored message compared');
    assert.ok(shadow.agreementRate > 0 && shadow.agreementRate < 1);
    const [low = 0, high = 0] = shadow.agreementInterval;
    assert.ok(low <= shadow.agreementRate && shadow.agreementRate <= high, 'the rate lies in its interval');
    assert.equal(conditionOf(experiment, 'Analysed')?.reason, 'ShadowCompared');
    figures.push(`shadow: ${conditionOf(experiment, 'Analysed')?.message ?? ''}`);
  });
});
