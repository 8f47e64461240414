// The experiment's signals measured for real: Debian's Prometheus scraping the real app v1 and v2
// and model processes every second, with the target labels the rendered ServiceMonitors'
// relabelling would give their pods; a load generator splitting requests 90/10 between the apps
// (standing in for Envoy following the VirtualService's weights) and mirroring part of the stable
// app's model calls to a shadow model. The collection client's counts per version must equal what
// the generator itself saw, exactly: errors while model v2 is stopped, spam share, guesses, the
// shadow's comparison pairs, and the same counts again across an app restart (a counter reset).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { API_VERSION, KIND, smsExperimentSchema } from '../../src/crd/schema.ts';
import { loadArtifact, type LoadedModel } from '../../src/model/artifact.ts';
import { trainToDirectory } from '../../src/model/build-artifact.ts';
import { readDataset, type LabelledMessage } from '../../src/model/dataset.ts';
import type { Series } from '../../src/operator/prometheus/client.ts';
import { collectSignal, type Collected } from '../../src/operator/prometheus/collect.ts';
import { resetsBy, type CounterMemory } from '../../src/operator/prometheus/counters.ts';
import {
  errorsSignal,
  guessesSignal,
  overRange,
  shadowDisagreementSignal,
  shadowPairs,
  slowSignal,
  spamSignal,
  type CountSignal,
  type CountsByVersion,
  type ShadowPairs,
} from '../../src/operator/prometheus/signals.ts';
import { experimentNames, render } from '../../src/operator/render/index.ts';
import { startAppProcess, type RunningAppProcess } from '../support/app-process.ts';
import { startModelService, trainedModelsDir, trainingDataFile, type RunningModelService } from '../support/model-service.ts';
import { serviceMonitorTargetLabels, startPrometheus, type RunningPrometheus } from '../support/prometheus.ts';
import { emptyTally, runSplitLoad, type LoadTally } from '../support/split-load.ts';

const NAMESPACE = 'sms-app';
const EXPERIMENT = 'sms-app';
const names = experimentNames(EXPERIMENT);
const experimentOf = (mode: 'canary' | 'shadow') =>
  smsExperimentSchema.parse({ apiVersion: API_VERSION, kind: KIND, metadata: { name: EXPERIMENT, namespace: NAMESPACE, uid: '6f1d2c3b-0000-4000-8000-0000000000e5' }, spec: { mode } });
const WEIGHTS = { v1: 90, v2: 10 };
const SLOW_BOUND_SECONDS = 0.005;
/** Every raw sample of the last 60 s: longer than any gap between two collections here. */
const RANGE_SECONDS = 60;

const appScope = { matchers: { namespace: NAMESPACE, service: names.appService } };
const modelScope = { matchers: { namespace: NAMESPACE, service: names.modelService } };

/** What the tally says each signal must count, per version. */
function expectedCounts(tally: LoadTally): Record<'errors' | 'spam' | 'guesses', CountsByVersion> {
  const expected = { errors: {} as CountsByVersion, spam: {} as CountsByVersion, guesses: {} as CountsByVersion };
  for (const [version, counts] of Object.entries(tally.byVersion)) {
    const serverErrors = Object.entries(counts.byCode).reduce((sum, [code, n]) => sum + (code.startsWith('5') ? n : 0), 0);
    expected.errors[version] = { trials: counts.requests, events: serverErrors };
    expected.spam[version] = { trials: counts.byCode['200'] ?? 0, events: counts.spam };
    expected.guesses[version] = { trials: counts.guessesCorrect + counts.guessesWrong, events: counts.guessesWrong };
  }
  return expected;
}

/** sum by (version) of a direct PromQL query, as plain numbers. */
function byVersion(series: readonly Series[]): Record<string, number> {
  return Object.fromEntries(series.map((one) => [one.labels.version ?? '', one.samples[0]?.value ?? Number.NaN]));
}

describe('evidence signals: a real Prometheus scraping the real app and model processes', function () {
  this.timeout(240_000);

  let workDirectory: string;
  let messages: LabelledMessage[];
  let stableArtifact: LoadedModel;
  let shadowArtifact: LoadedModel;
  const models: Record<string, RunningModelService> = {};
  const apps: Record<string, RunningAppProcess> = {};
  let prometheus: RunningPrometheus;
  const tally = emptyTally(['v1', 'v2']);

  const signals: Record<string, CountSignal> = {
    errors: overRange(errorsSignal(appScope), RANGE_SECONDS),
    spam: overRange(spamSignal(appScope), RANGE_SECONDS),
    guesses: overRange(guessesSignal(appScope), RANGE_SECONDS),
    slow: overRange(slowSignal(appScope, SLOW_BOUND_SECONDS), RANGE_SECONDS),
    shadow: overRange(shadowDisagreementSignal(modelScope), RANGE_SECONDS),
  };
  // The shadow pod's version label is spec.model.shadow.version, "shadow" by default; its artifact
  // (the metric's own version label, which arrives as exported_version) is v2.
  const versionsOf = (signal: string) => (signal === 'shadow' ? ['shadow'] : ['v1', 'v2']);
  const memories: Record<string, CounterMemory | undefined> = {};
  const collected: Record<string, Collected> = {};

  async function collectAll(): Promise<void> {
    for (const [name, signal] of Object.entries(signals)) {
      const result = await collectSignal(prometheus.client, signal, memories[name], versionsOf(name));
      assert.ok(result.ok, `${name}: ${JSON.stringify(result)}`);
      memories[name] = result.value.memory;
      collected[name] = result.value;
    }
  }

  async function load(requests: number, seed: number): Promise<void> {
    await runSplitLoad({
      apps: { v1: apps.v1?.url ?? '', v2: apps.v2?.url ?? '' },
      weights: WEIGHTS,
      messages,
      requests,
      mirror: { version: 'v1', shadowUrl: models.shadow?.url ?? '', percent: 50 },
      seed,
      tally,
    });
  }

  /** Waits for a scrape of every target that began after the last answer, so Prometheus holds every count. */
  const finalScrape = (allowDown = false) => prometheus.waitForScrapes(Date.now() / 1000, { allowDown });

  before(async function () {
    this.timeout(120_000);
    workDirectory = await mkdtemp(path.join(tmpdir(), 'sms-evidence-'));
    const modelsDir = await trainedModelsDir();
    const dataset = await readDataset(trainingDataFile().file);
    messages = dataset.messages;
    // The shadow is v2's recipe trained on a 25th of the data: it disagrees with v1 on some messages.
    const subset = { ...dataset, messages: dataset.messages.filter((_, index) => index % 25 === 0) };
    const { directory: shadowDirectory } = await trainToDirectory({ dataset: subset, version: 'v2', seed: 7, created: new Date().toISOString(), modelsDirectory: workDirectory, evaluate: false });
    stableArtifact = await loadArtifact(path.join(modelsDir, 'v1'));
    shadowArtifact = await loadArtifact(shadowDirectory);

    models.v1 = await startModelService({ modelsDir, version: 'v1' });
    models.v2 = await startModelService({ modelsDir, version: 'v2' });
    models.shadow = await startModelService({
      modelsDir,
      version: 'v2',
      env: { SHADOW_MODE: 'true', MODEL_PATH: shadowDirectory, STABLE_MODEL_VERSION: 'v1', STABLE_MODEL_PATH: path.join(modelsDir, 'v1') },
    });
    const shadowReady = (await (await fetch(`${models.shadow.url}/readyz`)).json()) as { comparison?: { status: string } };
    assert.equal(shadowReady.comparison?.status, 'comparing', JSON.stringify(shadowReady));
    apps.v1 = await startAppProcess({ version: 'v1', modelUrl: models.v1.url });
    apps.v2 = await startAppProcess({ version: 'v2', modelUrl: models.v2.url });

    // Target labels from the rendered ServiceMonitors: canary mode for the apps and models v1/v2,
    // shadow mode for the shadow model's pod.
    const canary = render(experimentOf('canary'));
    const shadow = render(experimentOf('shadow'));
    const target = (objects: typeof canary, monitor: string, deployment: string, address: string) => ({ address, labels: serviceMonitorTargetLabels(objects, monitor, deployment, `${deployment}-0`) });
    const modelAddress = (model: RunningModelService) => model.url.replace('http://', '');
    const appTargets = [target(canary, names.appServiceMonitor, names.appDeployment.stable, apps.v1.address), target(canary, names.appServiceMonitor, names.appDeployment.canary, apps.v2.address)];
    const modelTargets = [
      target(canary, names.modelServiceMonitor, names.modelDeployment.stable, modelAddress(models.v1)),
      target(canary, names.modelServiceMonitor, names.modelDeployment.canary, modelAddress(models.v2)),
      target(shadow, names.modelServiceMonitor, names.modelDeployment.shadow, modelAddress(models.shadow)),
    ];
    assert.deepEqual(
      appTargets.map((one) => one.labels),
      [
        { namespace: NAMESPACE, service: names.appService, pod: `${names.appDeployment.stable}-0`, container: 'app', endpoint: 'http', job: names.appService, version: 'v1' },
        { namespace: NAMESPACE, service: names.appService, pod: `${names.appDeployment.canary}-0`, container: 'app', endpoint: 'http', job: names.appService, version: 'v2' },
      ],
    );
    prometheus = await startPrometheus([
      { job: `serviceMonitor/${NAMESPACE}/${names.appServiceMonitor}/0`, targets: appTargets },
      { job: `serviceMonitor/${NAMESPACE}/${names.modelServiceMonitor}/0`, targets: modelTargets },
    ]);
    await prometheus.waitForScrapes(Date.now() / 1000);
    await collectAll(); // the baseline
  });

  after(async () => {
    await prometheus?.stop();
    await Promise.all([...Object.values(apps), ...Object.values(models)].map((running) => running.stop()));
    await rm(workDirectory, { recursive: true, force: true });
  });

  it('counts per version exactly what the 90/10 load sent, and app v2\'s 5xx while model v2 is stopped', async () => {
    await load(600, 11);
    await models.v2?.stop();
    await load(500, 12);
    await finalScrape(true);
    await collectAll();

    const expected = expectedCounts(tally);
    const v2ServerErrors = expected.errors.v2?.events ?? 0;
    process.stdout.write(`      (load: ${JSON.stringify(tally.byVersion)}; mirrored ${tally.mirrored.length})\n`);
    process.stdout.write(`      (collected: ${JSON.stringify(Object.fromEntries(Object.entries(collected).map(([name, one]) => [name, one.counts])))})\n`);
    assert.ok(v2ServerErrors > 0, 'app v2 answered some 503s while model v2 was stopped');
    assert.equal(tally.byVersion.v2?.byCode['503'], v2ServerErrors);
    assert.equal(expected.errors.v1?.events, 0);
    assert.deepEqual(collected.errors?.counts, expected.errors);
    assert.deepEqual(collected.spam?.counts, expected.spam);
    assert.deepEqual(collected.guesses?.counts, expected.guesses);
    // The split is the generator's: about 90/10.
    const share = (tally.byVersion.v2?.requests ?? 0) / 1100;
    assert.ok(share > 0.06 && share < 0.14, `canary share ${share}`);

    // Slow requests have no client-side truth (the app times them); they must cover every request
    // and agree with a direct query of the buckets (no reset yet, the counters began at 0).
    const slow = collected.slow?.counts ?? {};
    assert.equal(slow.v1?.trials, expected.errors.v1?.trials);
    assert.equal(slow.v2?.trials, expected.errors.v2?.trials);
    const direct = await prometheus.client.query(
      `sum by (version) (sms_request_latency_seconds_bucket{namespace="${NAMESPACE}",service="${names.appService}",le="+Inf"}) - sum by (version) (sms_request_latency_seconds_bucket{namespace="${NAMESPACE}",service="${names.appService}",le="${SLOW_BOUND_SECONDS}"})`,
    );
    assert.ok(direct.ok);
    assert.deepEqual(byVersion(direct.value), { v1: slow.v1?.events, v2: slow.v2?.events });
    const requests = await prometheus.client.query(`sum by (version) (sms_requests_total{namespace="${NAMESPACE}",service="${names.appService}"})`);
    assert.ok(requests.ok);
    assert.deepEqual(byVersion(requests.value), { v1: expected.errors.v1?.trials, v2: expected.errors.v2?.trials });
  });

  it("counts the shadow's comparison pairs exactly as the two artifacts classify the mirrored messages", () => {
    const computed: ShadowPairs = { bothSpam: 0, bothHam: 0, shadowOnlySpam: 0, stableOnlySpam: 0 };
    for (const { sms, shadowResult } of tally.mirrored) {
      const stable = stableArtifact.classifier.predict(sms).result;
      const shadow = shadowArtifact.classifier.predict(sms).result;
      assert.equal(shadowResult, shadow, 'the shadow process answers as its artifact does');
      if (stable === 'spam' && shadow === 'spam') computed.bothSpam += 1;
      else if (stable === 'ham' && shadow === 'ham') computed.bothHam += 1;
      else if (shadow === 'spam') computed.shadowOnlySpam += 1;
      else computed.stableOnlySpam += 1;
    }
    process.stdout.write(`      (shadow pairs: ${JSON.stringify(computed)})\n`);
    assert.ok(computed.shadowOnlySpam + computed.stableOnlySpam > 0, 'the shadow disagrees on some messages');
    assert.deepEqual(shadowPairs(memories.shadow ?? { series: {} }, modelScope), { shadow: computed });
    const series = Object.values(memories.shadow?.series ?? {});
    assert.deepEqual([...new Set(series.map((one) => `${one.labels.version} ${one.labels.exported_version} ${one.labels.stable_version}`))], ['shadow v2 v1']);
    assert.deepEqual(collected.shadow?.counts, { shadow: { trials: tally.mirrored.length, events: computed.shadowOnlySpam + computed.stableOnlySpam } });
    const logged = (models.shadow?.logs() ?? '').split('\n').filter((line) => line.includes('"msg":"Shadow disagreed with stable"'));
    assert.equal(logged.length, computed.shadowOnlySpam + computed.stableOnlySpam);
  });

  it('keeps the counts exact across an app restart: the counter reset is handled per series', async () => {
    const before = expectedCounts(tally).errors.v1?.trials ?? 0;
    await apps.v1?.restart();
    await load(400, 13);
    await finalScrape(true);
    await collectAll();

    const expected = expectedCounts(tally);
    assert.deepEqual(collected.errors?.counts, expected.errors);
    assert.deepEqual(collected.spam?.counts, expected.spam);
    assert.deepEqual(collected.guesses?.counts, expected.guesses);
    const resets = resetsBy(memories.errors ?? { series: {} }, (labels) => labels.version);
    assert.ok((resets.v1 ?? 0) >= 1, `a reset of app v1's counters was seen: ${JSON.stringify(resets)}`);
    assert.equal(resets.v2, undefined);
    // The raw values alone now undercount v1: the restarted process began again at 0.
    const raw = await prometheus.client.query(`sum by (version) (sms_requests_total{namespace="${NAMESPACE}",service="${names.appService}"})`);
    assert.ok(raw.ok);
    const rawV1 = byVersion(raw.value).v1 ?? 0;
    process.stdout.write(`      (after the restart: app v1 counted ${expected.errors.v1?.trials}, raw value ${rawV1}, before the restart ${before}; resets ${JSON.stringify(resets)})\n`);
    assert.equal(rawV1, (expected.errors.v1?.trials ?? 0) - before);
  });
});

describe('a shadow model whose stable artifact is missing', function () {
  this.timeout(60_000);

  it('serves its own answers, stays ready, and says in /readyz, its log and a gauge that it does not compare', async () => {
    const modelsDir = await trainedModelsDir();
    const missing = path.join(modelsDir, 'no-such-stable');
    const shadow = await startModelService({ modelsDir, version: 'v2', env: { SHADOW_MODE: 'true', STABLE_MODEL_VERSION: 'v1', STABLE_MODEL_PATH: missing } });
    try {
      const predict = await fetch(`${shadow.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"sms":"are you coming tonight?"}' });
      assert.equal(predict.status, 200);
      const ready = await fetch(`${shadow.url}/readyz`);
      assert.equal(ready.status, 200);
      assert.deepEqual(await ready.json(), {
        status: 'ready',
        modelVersion: 'v2',
        comparison: { status: 'not comparing', reason: `stable model not loaded yet: artifact directory ${missing} does not exist and MODEL_URL is not set` },
      });
      const metrics = await (await fetch(`${shadow.url}/metrics`)).text();
      assert.match(metrics, /^sms_model_shadow_comparison_available 0$/m);
      assert.doesNotMatch(metrics, /^sms_model_shadow_comparisons_total\{/m);
      const warning = shadow
        .logs()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .find((line) => line.comparison === 'stable' && line.level === 'warn');
      assert.match(String(warning?.msg), new RegExp(`Found no model artifact yet: artifact directory ${missing} does not exist`));
    } finally {
      await shadow.stop();
    }
  });
});
