// The rendered dashboards and rules proven on data. Debian's Prometheus on loopback scrapes the real
// app v1 and v2 and model v1, v2 and shadow processes, under the target labels the rendered
// ServiceMonitors give their pods, and the real operator (on the local control plane, with
// --prometheus-url, so its analysis gauges exist), with the labels the bundle's ServiceMonitor gives
// it; it loads each experiment's rendered PrometheusRule as a rule file. While a little traffic
// runs (90/10 for a canary experiment, mirrored to the shadow for a shadow experiment), every panel
// query of both dashboards, with Grafana's variables substituted as Grafana would, and every rule
// expression run through Prometheus' HTTP API: each must return series that carry the labels the
// panel's legend names. The operator's own dashboard (config/manager) runs on the same data. Each
// panel is printed with its series count.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { freePort } from '../../hack/cluster/control-plane.ts';
import { API_VERSION, KIND, smsExperimentSchema } from '../../src/crd/schema.ts';
import { trainToDirectory } from '../../src/model/build-artifact.ts';
import { readDataset, type LabelledMessage } from '../../src/model/dataset.ts';
import type { Series } from '../../src/operator/prometheus/client.ts';
import type { Dashboard } from '../../src/operator/render/dashboards/index.ts';
import { operatorDashboard } from '../../src/operator/own-monitoring.ts';
import { experimentNames, promtoolRuleFile, render, type ConfigMapObject, type PrometheusRuleObject, type RenderedObject } from '../../src/operator/render/index.ts';
import { startAppProcess, type RunningAppProcess } from '../support/app-process.ts';
import { useCluster, type TestCluster } from '../support/cluster.ts';
import { installCrd } from '../support/crd.ts';
import { eventually } from '../support/eventually.ts';
import { dashboardVariables, grafanaExpr, legendLabels } from '../support/grafana.ts';
import { startModelService, trainedModelsDir, trainingDataFile, type RunningModelService } from '../support/model-service.ts';
import { dumpLogsOnFailure, OPERATOR_NAMESPACE, operatorKubeconfig, OperatorProcess } from '../support/operator.ts';
import { SCRAPE_INTERVAL_SECONDS, serviceMonitorTargetLabels, startPrometheus, type RunningPrometheus } from '../support/prometheus.ts';
import { runSplitLoad, type LoadTally } from '../support/split-load.ts';

const repositoryRoot = path.resolve(import.meta.dirname, '../..');
const operatorServiceMonitor = parse(readFileSync(path.join(repositoryRoot, 'config/manager/service_monitor.yaml'), 'utf8')) as { spec: { endpoints: Array<{ honorLabels?: boolean }> } };
const EXPERIMENT = 'sms-app';
const names = experimentNames(EXPERIMENT);
type Mode = 'canary' | 'shadow';
/** The operator's own dashboard (config/manager) runs on the same Prometheus. */
type Subject = Mode | 'operator';
/** Operator panels with nothing to show in this run: no reconcile fails, no watch restarts, no progression runs. */
const QUIET_OPERATOR_PANELS = new Set(['Reconcile errors/s by reason', 'Watch restarts by kind', 'Experiments by progression phase', 'Canary weight of each progression', 'Progression outcomes']);
/** Panels about the shadow have data in shadow mode only; the canary/stable ratio in canary mode only. */
const PROVEN_IN: Record<string, Mode> = {
  'Shadow agreement with the stable model': 'shadow',
  'Shadow comparisons/min by outcome': 'shadow',
  'Analysis: canary/stable rate ratio by signal': 'canary',
};
/** Grafana's default time range for these dashboards (time.from now-1h) and this Prometheus' scrape interval. */
const GRAFANA = { rangeSeconds: 3600, scrapeIntervalSeconds: SCRAPE_INTERVAL_SECONDS };

interface PanelResult {
  mode: Subject;
  dashboard: string;
  panel: string;
  query: string;
  series: number;
  finite: number;
  missingLegendLabels: string[];
}

describe('dashboards and rules on data: a real Prometheus scraping the real processes and the operator', function () {
  this.timeout(300_000);
  let cluster: TestCluster;
  let operator: OperatorProcess;
  let prometheus: RunningPrometheus;
  let workDirectory: string;
  let messages: LabelledMessage[];
  const models: Record<string, RunningModelService> = {};
  const apps: Record<string, RunningAppProcess> = {};
  const ns: Record<Mode, string> = { canary: '', shadow: '' };
  const rendered: Partial<Record<Mode, RenderedObject[]>> = {};
  const results: PanelResult[] = [];

  const experimentOf = (mode: Mode) => smsExperimentSchema.parse({ apiVersion: API_VERSION, kind: KIND, metadata: { name: EXPERIMENT, namespace: ns[mode], uid: 'x' }, spec: specOf(mode) });
  const specOf = (mode: Mode) => (mode === 'canary' ? {} : { mode: 'shadow', traffic: { mirrorPercent: 50 } });

  before(async function () {
    this.timeout(240_000);
    cluster = await useCluster();
    await installCrd(cluster);
    ns.canary = await cluster.createNamespace('dash-canary');
    ns.shadow = await cluster.createNamespace('dash-shadow');
    workDirectory = await mkdtemp(path.join(tmpdir(), 'sms-dashboards-'));
    const modelsDir = await trainedModelsDir();
    const dataset = await readDataset(trainingDataFile().file);
    messages = dataset.messages;
    // The shadow: v2's recipe on a 25th of the data, so it disagrees with v1 on some messages.
    const subset = { ...dataset, messages: dataset.messages.filter((_, index) => index % 25 === 0) };
    const { directory: shadowDirectory } = await trainToDirectory({ dataset: subset, version: 'v2', seed: 7, created: new Date().toISOString(), modelsDirectory: workDirectory, evaluate: false });
    models.v1 = await startModelService({ modelsDir, version: 'v1' });
    models.v2 = await startModelService({ modelsDir, version: 'v2' });
    models.shadow = await startModelService({
      modelsDir,
      version: 'v2',
      env: { SHADOW_MODE: 'true', MODEL_PATH: shadowDirectory, STABLE_MODEL_VERSION: 'v1', STABLE_MODEL_PATH: path.join(modelsDir, 'v1') },
    });
    apps.v1 = await startAppProcess({ version: 'v1', modelUrl: models.v1.url });
    apps.v2 = await startAppProcess({ version: 'v2', modelUrl: models.v2.url });
    apps.shadowStable = await startAppProcess({ version: 'v1', modelUrl: models.v1.url });

    const canary = render(experimentOf('canary'));
    const shadow = render(experimentOf('shadow'));
    rendered.canary = canary;
    rendered.shadow = shadow;
    const target = (objects: RenderedObject[], monitor: string, deployment: string, address: string) => ({ address, labels: serviceMonitorTargetLabels(objects, monitor, deployment, `${deployment}-0`) });
    const address = (url: string) => url.replace('http://', '');
    const operatorPort = await freePort();
    const rules = (mode: Mode) => promtoolRuleFile(rendered[mode] ?? []) ?? '';
    prometheus = await startPrometheus(
      [
        {
          job: `serviceMonitor/${ns.canary}/${names.appServiceMonitor}/0`,
          targets: [target(canary, names.appServiceMonitor, names.appDeployment.stable, apps.v1.address), target(canary, names.appServiceMonitor, names.appDeployment.canary, apps.v2.address)],
        },
        {
          job: `serviceMonitor/${ns.canary}/${names.modelServiceMonitor}/0`,
          targets: [target(canary, names.modelServiceMonitor, names.modelDeployment.stable, address(models.v1.url)), target(canary, names.modelServiceMonitor, names.modelDeployment.canary, address(models.v2.url))],
        },
        { job: `serviceMonitor/${ns.shadow}/${names.appServiceMonitor}/0`, targets: [target(shadow, names.appServiceMonitor, names.appDeployment.stable, apps.shadowStable.address)] },
        {
          job: `serviceMonitor/${ns.shadow}/${names.modelServiceMonitor}/0`,
          targets: [target(shadow, names.modelServiceMonitor, names.modelDeployment.stable, address(models.v1.url)), target(shadow, names.modelServiceMonitor, names.modelDeployment.shadow, address(models.shadow.url))],
        },
        {
          // What config/manager/service_monitor.yaml gives a replica of the operator; its honorLabels
          // keeps the experiment's namespace on the analysis gauges (else they arrive as exported_namespace).
          job: `serviceMonitor/${OPERATOR_NAMESPACE}/sms-experiment-operator/0`,
          honorLabels: operatorServiceMonitor.spec.endpoints[0]?.honorLabels === true,
          targets: [
            {
              address: `127.0.0.1:${operatorPort}`,
              labels: { namespace: OPERATOR_NAMESPACE, service: 'sms-experiment-operator-metrics', job: 'sms-experiment-operator-metrics', endpoint: 'metrics', pod: 'sms-experiment-operator-0', container: 'manager' },
            },
          ],
        },
      ],
      { ruleFiles: { 'canary-rules.yaml': rules('canary'), 'shadow-rules.yaml': rules('shadow') }, evaluationIntervalSeconds: 1 },
    );
    await prometheus.waitForScrapes(Date.now() / 1000, { allowDown: true });

    operator = new OperatorProcess({
      name: 'dashboards',
      kubeconfigPath: await operatorKubeconfig(cluster),
      namespaces: Object.values(ns),
      metricsPort: operatorPort,
      args: ['--log-level', 'debug', '--leader-election-lease-name', 'smsx-test-dashboards', '--prometheus-url', prometheus.url, '--analysis-interval', '1s'],
    });
    await operator.start();
    for (const mode of ['canary', 'shadow'] as const) {
      const manifest = JSON.stringify({ apiVersion: API_VERSION, kind: KIND, metadata: { name: EXPERIMENT }, spec: specOf(mode) });
      const result = await cluster.kubectl(['apply', '-n', ns[mode], '-f', '-'], { input: manifest });
      assert.equal(result.code, 0, result.stderr);
    }
  });

  afterEach(async function () {
    await dumpLogsOnFailure(this, [operator]);
  });

  after(async () => {
    await operator?.stop();
    await prometheus?.stop();
    await Promise.all([...Object.values(apps), ...Object.values(models)].map((running) => running.stop()));
    if (workDirectory) await rm(workDirectory, { recursive: true, force: true });
  });

  async function queryOk(promql: string): Promise<Series[]> {
    const answer = await prometheus.client.query(promql);
    assert.ok(answer.ok, `${promql}: ${JSON.stringify(answer)}`);
    return answer.value;
  }

  function dashboardsOf(mode: Subject): Dashboard[] {
    if (mode === 'operator') return [operatorDashboard()];
    return (rendered[mode] ?? [])
      .filter((object): object is ConfigMapObject => object.kind === 'ConfigMap' && object.metadata.name.includes('-dashboard-'))
      .flatMap((configMap) => Object.values(configMap.data).map((json) => JSON.parse(json) as Dashboard));
  }

  async function runPanels(mode: Subject): Promise<PanelResult[]> {
    const out: PanelResult[] = [];
    for (const dashboard of dashboardsOf(mode)) {
      const variables = dashboardVariables(dashboard);
      for (const panel of dashboard.panels) {
        for (const target of panel.targets) {
          const query = grafanaExpr(target.expr, { ...GRAFANA, variables });
          const series = await queryOk(query);
          const wanted = legendLabels(target.legendFormat);
          const missing = wanted.filter((label) => series.some((one) => (one.labels[label] ?? '') === ''));
          const finite = series.filter((one) => one.samples.some((sample) => Number.isFinite(sample.value))).length;
          out.push({ mode, dashboard: dashboard.uid, panel: panel.title + (panel.targets.length > 1 ? ` [${target.legendFormat}]` : ''), query, series: series.length, finite, missingLegendLabels: missing });
        }
      }
    }
    return out;
  }

  it('runs every panel of both dashboards on live data: each has series with its legend labels', async () => {
    // The analysis step begins once the versions can answer (kwok pods ready): wait for the operator's gauges.
    const analysed = (mode: Mode) => `smsx_operator_analysis_p_value{namespace="${ns[mode]}",experiment="${EXPERIMENT}"}`;
    const canaryLoad = runSplitLoad({ apps: { v1: apps.v1?.url ?? '', v2: apps.v2?.url ?? '' }, weights: { v1: 90, v2: 10 }, messages, requests: 2_400, seed: 41, requestsPerSecond: 40 });
    const shadowLoad = runSplitLoad({
      apps: { v1: apps.shadowStable?.url ?? '' },
      weights: { v1: 100 },
      messages,
      requests: 1_200,
      seed: 42,
      requestsPerSecond: 20,
      mirror: { version: 'v1', shadowUrl: models.shadow?.url ?? '', percent: 50 },
    });
    const tallies: LoadTally[] = [];
    try {
      await eventually('the operator\'s analysis gauges of both experiments in Prometheus', async () => {
        for (const mode of ['canary', 'shadow'] as const) {
          if ((await queryOk(analysed(mode))).length > 0) continue;
          const status = (await cluster.kubectl(['get', 'smsx', EXPERIMENT, '-n', ns[mode], '-o', 'jsonpath={.status.conditions[?(@.type=="Analysed")]}'])).stdout;
          assert.fail(`no analysis gauge of the ${mode} experiment yet; Analysed: ${status}`);
        }
        assert.ok((await queryOk(`smsx_operator_analysis_ratio{namespace="${ns.shadow}",signal="shadow-lean"}`)).length > 0, 'no shadow agreement yet');
      }, { timeoutMs: 45_000, intervalMs: 1_000 });
      // Enough load behind every rate window ($__rate_interval is 4 × the 1 s scrape interval).
      await new Promise((resolve) => setTimeout(resolve, 5_000));
      results.push(...(await runPanels('canary')), ...(await runPanels('shadow')), ...(await runPanels('operator')));
    } finally {
      tallies.push(await canaryLoad, await shadowLoad);
    }

    const lines = results.map(
      (result) =>
        `${result.mode.padEnd(8)} ${result.dashboard.padEnd(23)} ${result.panel.padEnd(62)} ${String(result.series).padStart(2)} series` +
        (result.missingLegendLabels.length > 0 ? `  (missing legend labels: ${result.missingLegendLabels.join(', ')})` : ''),
    );
    console.log(`\n  Panels on live data (Grafana range ${GRAFANA.rangeSeconds}s, $__rate_interval ${grafanaExpr('$__rate_interval', GRAFANA)}; load ${tallies.map((tally) => JSON.stringify(Object.fromEntries(Object.entries(tally.byVersion).map(([version, counts]) => [version, counts.requests])))).join(' and ')}):\n${lines.map((line) => `    ${line}`).join('\n')}\n`);

    const panels = new Set(results.map((result) => `${result.dashboard}: ${result.panel}`));
    const failures: string[] = [];
    for (const panel of panels) {
      const title = panel.slice(panel.indexOf(': ') + 2).replace(/ \[.*\]$/, '');
      for (const result of results.filter((one) => `${one.dashboard}: ${one.panel}` === panel)) {
        const must = result.mode === 'operator' ? !QUIET_OPERATOR_PANELS.has(title) : PROVEN_IN[title] === undefined || PROVEN_IN[title] === result.mode;
        if (!must) continue;
        if (result.series === 0) failures.push(`${result.mode} ${panel}: no series for ${result.query}`);
        else if (result.finite === 0) failures.push(`${result.mode} ${panel}: only NaN values for ${result.query}`);
        if (result.missingLegendLabels.length > 0) failures.push(`${result.mode} ${panel}: series without ${result.missingLegendLabels.join(', ')}`);
      }
    }
    assert.deepEqual(failures, []);
    // Both versions side by side: the by-version panels of the canary experiment show v1 and v2.
    const byVersion = results.find((result) => result.mode === 'canary' && result.panel === 'Model calls/min by version');
    assert.equal(byVersion?.series, 2, 'v1 and v2');
    // The operator's experiments by condition: both experiments' Ready, Progressing and Degraded.
    const conditions = await queryOk('sum by (condition) (smsx_operator_experiment_condition{status=~"True|False"})');
    assert.deepEqual(conditions.map((one) => `${one.labels.condition}=${one.samples[0]?.value}`).sort(), ['Degraded=2', 'Progressing=2', 'Ready=2']);
  });

  it('loads the rendered PrometheusRules; every rule expression returns series under that traffic', async () => {
    const answer = await fetch(`${prometheus.url}/api/v1/rules`);
    const body = (await answer.json()) as { data: { groups: Array<{ file: string; rules: Array<{ name: string; health: string; state?: string; query: string }> }> } };
    const loaded = body.data.groups.flatMap((group) => group.rules.map((rule) => ({ file: path.basename(group.file), ...rule })));
    const expected = (['canary', 'shadow'] as const).flatMap((mode) =>
      (rendered[mode] ?? []).filter((object): object is PrometheusRuleObject => object.kind === 'PrometheusRule').flatMap((rule) => rule.spec.groups.flatMap((group) => group.rules.map((one) => ({ mode, ...one })))),
    );
    assert.equal(loaded.length, expected.length, JSON.stringify(loaded));
    const lines: string[] = [];
    for (const rule of expected) {
      const series = await queryOk(rule.expr);
      const state = loaded.find((one) => one.file === `${rule.mode}-rules.yaml` && one.name === rule.alert);
      lines.push(`${rule.mode.padEnd(6)} ${rule.alert}: ${series.length} series (${series.map((one) => one.samples[0]?.value.toFixed(0)).join(', ')}/min), rule health ${state?.health}, state ${state?.state}`);
      assert.equal(state?.health, 'ok');
      assert.ok(series.length > 0, `${rule.alert} of the ${rule.mode} experiment: no series for ${rule.expr}`);
    }
    console.log(`\n  Rules on the same data:\n${lines.map((line) => `    ${line}`).join('\n')}\n`);
  });
});
