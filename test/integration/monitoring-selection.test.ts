// Does a stock kube-prometheus-stack pick up what the operator renders? The chart's default selectors,
// written out below from its values, are run as label queries against a real API server after the
// operator (started with the flags docs/install.md documents) has reconciled two experiments: one on
// the operator's defaults, one whose spec.monitoring overrides them.
import assert from 'node:assert/strict';
import { z } from 'zod';
import { useCluster, type TestCluster } from '../support/cluster.ts';
import { installCrd } from '../support/crd.ts';
import { eventually } from '../support/eventually.ts';
import path from 'node:path';
import { dumpLogsOnFailure, OPERATOR_NAMESPACE, operatorKubeconfig, OperatorProcess } from '../support/operator.ts';

const repositoryRoot = path.resolve(import.meta.dirname, '../..');
/** The bundle's own monitoring objects (config/manager, hence dist/install.yaml). */
const BUNDLE_MONITORING = ['service_monitor.yaml', 'operator_rules.yaml', 'operator_dashboard.yaml'].map((file) => path.join(repositoryRoot, 'config/manager', file));

/** What docs/install.md tells an admin to set for a chart installed as `helm install kube-prometheus-stack ...`. */
const RELEASE = 'kube-prometheus-stack';
const DOCUMENTED_FLAGS = ['--monitoring-labels', `release=${RELEASE}`];

/**
 * kube-prometheus-stack's selectors with stock values. Prometheus: serviceMonitorSelector and
 * ruleSelector are `matchLabels: {release: <release>}` (the *SelectorNilUsesHelmValues values are
 * true), their namespace selectors `{}` (every namespace). Alertmanager: alertmanagerConfigSelector
 * and its namespace selector `{}` (everything). Grafana's sidecar: label grafana_dashboard, labelValue
 * "1", searchNamespace ALL.
 */
const STOCK_SELECTORS = [
  { what: 'Prometheus serviceMonitorSelector', resource: 'servicemonitors.monitoring.coreos.com', selector: `release=${RELEASE}` },
  { what: 'Prometheus ruleSelector', resource: 'prometheusrules.monitoring.coreos.com', selector: `release=${RELEASE}` },
  { what: 'Alertmanager alertmanagerConfigSelector', resource: 'alertmanagerconfigs.monitoring.coreos.com', selector: '' },
  { what: 'Grafana sidecar dashboards', resource: 'configmaps', selector: 'grafana_dashboard=1' },
] as const;

const listSchema = z.object({ items: z.array(z.object({ metadata: z.object({ name: z.string(), namespace: z.string() }) })) });

describe('monitoring objects under a stock kube-prometheus-stack', function () {
  this.timeout(90_000);
  let cluster: TestCluster;
  let operator: OperatorProcess;
  const ns = { defaults: '', overridden: '' };

  before(async function () {
    this.timeout(180_000);
    cluster = await useCluster();
    await installCrd(cluster);
    ns.defaults = await cluster.createNamespace('stock-kps');
    ns.overridden = await cluster.createNamespace('own-kps');
    operator = new OperatorProcess({
      name: 'monitoring-selection',
      kubeconfigPath: await operatorKubeconfig(cluster),
      namespaces: Object.values(ns),
      args: ['--no-leader-elect', ...DOCUMENTED_FLAGS],
    });
    await operator.start();
    const email = { to: 'oncall@example.com', from: 'alerts@example.com', smarthost: 'smtp.example.com:587' };
    await apply(ns.defaults, { mode: 'canary', monitoring: { email } });
    await apply(ns.overridden, {
      mode: 'shadow',
      monitoring: { email, labels: { release: 'team-prometheus' }, dashboardLabel: { key: 'grafana_dashboard', value: 'team' } },
    });
  });

  afterEach(async function () {
    await dumpLogsOnFailure(this, [operator]);
  });

  after(async () => {
    await operator?.stop();
  });

  async function apply(namespace: string, spec: unknown): Promise<void> {
    const manifest = JSON.stringify({ apiVersion: 'experiments.sms-app.io/v1alpha1', kind: 'SmsExperiment', metadata: { name: 'sms-app' }, spec });
    const result = await cluster.kubectl(['apply', '-n', namespace, '-f', '-'], { input: manifest });
    assert.equal(result.code, 0, result.stderr);
  }

  /** `kubectl get <resource> -A -l <selector>`: the names in this suite's namespaces, sorted. */
  async function select(resource: string, selector: string, namespaces: readonly string[] = Object.values(ns)): Promise<string[]> {
    const result = await cluster.kubectl(['get', resource, '--all-namespaces', ...(selector === '' ? [] : ['-l', selector]), '-o', 'json']);
    assert.equal(result.code, 0, result.stderr);
    const ours = new Set(namespaces);
    const short = (namespace: string) => (namespace === ns.defaults ? 'defaults' : namespace === ns.overridden ? 'overridden' : namespace);
    return listSchema
      .parse(JSON.parse(result.stdout))
      .items.filter((item) => ours.has(item.metadata.namespace))
      .map((item) => `${short(item.metadata.namespace)}/${item.metadata.name}`)
      .sort();
  }

  it('selects every ServiceMonitor, rule, AlertmanagerConfig and dashboard of an experiment on the documented flags', async () => {
    const expected: Record<string, string[]> = {
      'servicemonitors.monitoring.coreos.com': ['defaults/sms-app-app', 'defaults/sms-app-model'],
      'prometheusrules.monitoring.coreos.com': ['defaults/sms-app-alerts'],
      // The chart selects every AlertmanagerConfig; the overridden experiment's is there too.
      'alertmanagerconfigs.monitoring.coreos.com': ['defaults/sms-app-email', 'overridden/sms-app-email'],
      configmaps: ['defaults/sms-app-dashboard-experiment', 'defaults/sms-app-dashboard-metrics'],
    };
    const lines: string[] = [];
    await eventually('the stock selectors to select the rendered objects', async () => {
      lines.length = 0;
      for (const { what, resource, selector } of STOCK_SELECTORS) {
        const selected = await select(resource, selector);
        lines.push(`${what} (kubectl get ${resource} -A${selector === '' ? '' : ` -l ${selector}`}): ${selected.join(', ') || 'none'}`);
        assert.deepEqual(selected, expected[resource], what);
      }
    }, { timeoutMs: 30_000, intervalMs: 500 });
    console.log(`\n  Stock kube-prometheus-stack selection, operator flags ${DOCUMENTED_FLAGS.join(' ')}:\n${lines.map((line) => `    ${line}`).join('\n')}\n`);
  });

  it("selects the bundle's own ServiceMonitor, alerts and dashboard too", async () => {
    for (const file of BUNDLE_MONITORING) {
      const result = await cluster.kubectl(['apply', '--server-side', '--field-manager=smsx-tests', '-n', OPERATOR_NAMESPACE, '-f', file]);
      assert.equal(result.code, 0, result.stderr);
    }
    const lines: string[] = [];
    for (const { what, resource, selector } of STOCK_SELECTORS) {
      const selected = await select(resource, selector, [OPERATOR_NAMESPACE]);
      lines.push(`${what}: ${selected.join(', ') || 'none'}`);
      const expected: Record<string, string[]> = {
        'servicemonitors.monitoring.coreos.com': [`${OPERATOR_NAMESPACE}/sms-experiment-operator`],
        'prometheusrules.monitoring.coreos.com': [`${OPERATOR_NAMESPACE}/sms-experiment-operator`],
        'alertmanagerconfigs.monitoring.coreos.com': [],
        configmaps: [`${OPERATOR_NAMESPACE}/sms-experiment-operator-dashboard`],
      };
      assert.deepEqual(selected, expected[resource], what);
    }
    console.log(`\n  Stock kube-prometheus-stack selection in ${OPERATOR_NAMESPACE} (the bundle's own):\n${lines.map((line) => `    ${line}`).join('\n')}\n`);
  });

  it('follows spec.monitoring instead: the overridden experiment is selected by its own labels only', async () => {
    await eventually('the overridden labels', async () => {
      assert.deepEqual(await select('servicemonitors.monitoring.coreos.com', 'release=team-prometheus'), ['overridden/sms-app-app', 'overridden/sms-app-model']);
      assert.deepEqual(await select('prometheusrules.monitoring.coreos.com', 'release=team-prometheus'), ['overridden/sms-app-alerts']);
      assert.deepEqual(await select('configmaps', 'grafana_dashboard=team'), ['overridden/sms-app-dashboard-experiment', 'overridden/sms-app-dashboard-metrics']);
    }, { timeoutMs: 30_000, intervalMs: 500 });
  });

  it('moves an experiment between selections when its spec changes, leaving no stale label', async () => {
    const patch = JSON.stringify({ spec: { monitoring: { labels: null, dashboardLabel: null } } });
    const result = await cluster.kubectl(['patch', 'smsx', 'sms-app', '-n', ns.overridden, '--type', 'merge', '-p', patch]);
    assert.equal(result.code, 0, result.stderr);
    await eventually('the overridden experiment back on the operator defaults', async () => {
      assert.deepEqual(await select('servicemonitors.monitoring.coreos.com', 'release=team-prometheus'), []);
      assert.deepEqual(await select('configmaps', 'grafana_dashboard=team'), []);
      assert.deepEqual(await select('prometheusrules.monitoring.coreos.com', `release=${RELEASE}`), ['defaults/sms-app-alerts', 'overridden/sms-app-alerts']);
      assert.equal((await select('configmaps', 'grafana_dashboard=1')).length, 4);
    }, { timeoutMs: 30_000, intervalMs: 500 });
  });
});
