import assert from 'node:assert/strict';
import { parse } from 'yaml';
import {
  EXPERIMENT_LABEL,
  GRAFANA_DASHBOARD_LABEL,
  promtoolRuleFile,
  render,
  type ConfigMapObject,
  type RenderedObject,
} from '../../../src/operator/render/index.ts';
import { byName, experiment } from './fixtures.ts';

/** Every metric name in the seed's tables (§8); histograms expose _bucket, _sum and _count series. */
const SEED_METRICS = new Set([
  'sms_messages_classified_total',
  'sms_active_requests',
  ...['', '_bucket', '_sum', '_count'].map((suffix) => `sms_request_latency_seconds${suffix}`),
  'sms_cache_hits_total',
  'sms_cache_misses_total',
  'sms_model_calls_total',
  'sms_model_predictions_total',
  ...['', '_bucket', '_sum', '_count'].map((suffix) => `sms_model_inference_seconds${suffix}`),
  'sms_model_inflight_requests',
]);

interface DashboardJson {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: {
    id: number;
    type: string;
    title: string;
    datasource: { type: string };
    gridPos: { x: number; y: number; w: number; h: number };
    targets: { expr: string; datasource: { type: string } }[];
  }[];
}

function dashboardOf(configMap: ConfigMapObject): DashboardJson {
  const entries = Object.entries(configMap.data);
  assert.equal(entries.length, 1);
  const [file, json] = entries[0] ?? ['', ''];
  const dashboard = JSON.parse(json) as DashboardJson;
  assert.equal(file, `${dashboard.uid}.json`);
  return dashboard;
}

const EMAIL = { to: 'oncall@example.com', from: 'alerts@example.com', smarthost: 'smtp.example.com:587' };

describe('render: dashboards', () => {
  const objects = render(experiment());
  const metrics = dashboardOf(byName(objects, 'ConfigMap', 'sms-app-dashboard-metrics'));
  const experimentDashboard = dashboardOf(byName(objects, 'ConfigMap', 'sms-app-dashboard-experiment'));

  it('labels the dashboard ConfigMaps grafana_dashboard=1, what a stock kube-prometheus-stack sidecar loads', () => {
    for (const name of ['sms-app-dashboard-metrics', 'sms-app-dashboard-experiment']) {
      assert.equal(byName(objects, 'ConfigMap', name).metadata.labels[GRAFANA_DASHBOARD_LABEL], '1');
    }
    assert.equal(byName(objects, 'ConfigMap', 'sms-app-config').metadata.labels[GRAFANA_DASHBOARD_LABEL], undefined);
  });

  it('keeps the seed uids', () => {
    assert.equal(metrics.uid, 'sms-app-metrics');
    assert.equal(experimentDashboard.uid, 'sms-app-experiment');
    assert.match(metrics.title, /^SMS App Metrics/);
    assert.match(experimentDashboard.title, /^Continuous Experimentation/);
  });

  it('has the panels the seed lists', () => {
    assert.deepEqual(
      metrics.panels.map((panel) => `${panel.type}: ${panel.title}`),
      [
        'gauge: Classification rate',
        'stat: Total classifications',
        'gauge: Average response time',
        'gauge: Active requests',
        'timeseries: Classification rate by result',
        'timeseries: Response time percentiles',
        'piechart: Classifications by result',
        'timeseries: Model service calls',
      ],
    );
    assert.deepEqual(
      metrics.panels[5]?.targets.map((target) => target.expr.match(/histogram_quantile\(([\d.]+)/)?.[1]),
      ['0.5', '0.9', '0.95', '0.99'],
    );
    assert.deepEqual(
      experimentDashboard.panels.map((panel) => panel.title),
      [
        'Model calls/min by version',
        'Cache hits/min by version',
        'Cache misses/min by version',
        'Cache hit ratio by version',
        'Request latency p95 by version',
        'Active requests by version',
        'Analysis: anytime-valid p-value by signal',
        'Analysis: canary/stable rate ratio by signal',
        'Shadow agreement with the stable model',
        'Shadow comparisons/min by outcome',
      ],
    );
    for (const panel of experimentDashboard.panels.slice(0, 6)) {
      for (const target of panel.targets) assert.match(target.expr, /by \((le, )?version\)/, panel.title);
    }
    // The analysis panels read the operator's gauges of this experiment, and the shadow's comparisons.
    for (const panel of experimentDashboard.panels.slice(6, 9)) {
      for (const target of panel.targets) assert.match(target.expr, /smsx_operator_analysis_(p_value|ratio)\{namespace="sms-app",experiment="sms-app"/, panel.title);
    }
    assert.match(experimentDashboard.panels[9]?.targets[0]?.expr ?? '', /sms_model_shadow_comparisons_total\{namespace="sms-app",service="sms-app-model"\}/);
  });

  for (const dashboard of [metrics, experimentDashboard]) {
    it(`${dashboard.uid}: real dashboard JSON on a non-overlapping 24-column grid, Prometheus everywhere`, () => {
      assert.equal(typeof dashboard.schemaVersion, 'number');
      const ids = dashboard.panels.map((panel) => panel.id);
      assert.equal(new Set(ids).size, ids.length);
      const cells = new Set<string>();
      for (const panel of dashboard.panels) {
        const { x, y, w, h } = panel.gridPos;
        assert.ok(x >= 0 && w > 0 && x + w <= 24 && h > 0, panel.title);
        for (let column = x; column < x + w; column += 1) {
          for (let row = y; row < y + h; row += 1) {
            assert.ok(!cells.has(`${column},${row}`), `${panel.title} overlaps another panel`);
            cells.add(`${column},${row}`);
          }
        }
        assert.equal(panel.datasource.type, 'prometheus');
        assert.ok(panel.targets.length > 0, panel.title);
        for (const target of panel.targets) assert.equal(target.datasource.type, 'prometheus');
      }
    });

    it(`${dashboard.uid}: every query uses only the seed's metric names, scoped to this experiment`, () => {
      // The analysis panels are checked above: they read the operator's metrics and the shadow's.
      for (const panel of dashboard.panels.filter((one) => !/^(Analysis|Shadow)/.test(one.title))) {
        for (const { expr } of panel.targets) {
          const names = expr.match(/\bsms_[a-z_]+\b/g) ?? [];
          assert.ok(names.length > 0, `${panel.title}: ${expr}`);
          for (const name of names) assert.ok(SEED_METRICS.has(name), `${panel.title}: unknown metric ${name}`);
          const selectors = expr.match(/\bsms_[a-z_]+\{[^}]*\}/g) ?? [];
          assert.equal(selectors.length, names.length, `${panel.title}: every metric is scoped: ${expr}`);
          for (const selector of selectors) assert.match(selector, /\{namespace="sms-app",service="sms-app-app"\}$/);
          assert.equal(expr.split('(').length, expr.split(')').length, `${panel.title}: balanced parentheses`);
        }
      }
    });
  }

  it('gives another experiment its own uids and scope', () => {
    const other = dashboardOf(byName(render(experiment({}, 'trial')), 'ConfigMap', 'trial-dashboard-metrics'));
    assert.equal(other.uid, 'trial-metrics');
    assert.ok(other.panels.every((panel) => panel.targets.every((target) => target.expr.includes('service="trial-app"'))));
    const otherExperiment = dashboardOf(byName(render(experiment({}, 'trial')), 'ConfigMap', 'trial-dashboard-experiment'));
    assert.ok(otherExperiment.panels.every((panel) => panel.targets.every((target) => /service="trial-(app|model)"|experiment="trial"/.test(target.expr))));
  });

  it('keeps uids within Grafana\'s 40 characters for long experiment names', () => {
    const name = 'a-very-long-experiment-name-of-forty-ch';
    const uid = dashboardOf(byName(render(experiment({}, name)), 'ConfigMap', `${name}-dashboard-experiment`)).uid;
    assert.ok(uid.length <= 40, uid);
    assert.ok(uid.startsWith('a-very-long'));
  });
});

describe('render: monitoring labels and annotations', () => {
  const EMAIL_SPEC = { monitoring: { email: EMAIL } };
  const monitoringObjects = (objects: RenderedObject[]) =>
    objects.filter((object) => ['ServiceMonitor', 'PrometheusRule', 'AlertmanagerConfig'].includes(object.kind));
  const dashboards = (objects: RenderedObject[]) => objects.filter((object) => object.kind === 'ConfigMap' && object.metadata.name.includes('-dashboard-'));
  const defaults = {
    labels: { release: 'kube-prometheus-stack', team: 'sms' },
    annotations: { 'example.com/owner': 'sms' },
    dashboardLabel: { key: 'example.com/dashboard', value: 'yes' },
  };

  it('puts the operator defaults on every ServiceMonitor, the PrometheusRule and the AlertmanagerConfig, and nowhere else', () => {
    const objects = render(experiment(EMAIL_SPEC), { monitoringDefaults: defaults });
    const selected = monitoringObjects(objects);
    assert.deepEqual(selected.map((object) => object.kind).sort(), ['AlertmanagerConfig', 'PrometheusRule', 'ServiceMonitor', 'ServiceMonitor']);
    for (const object of selected) {
      assert.equal(object.metadata.labels.release, 'kube-prometheus-stack', `${object.kind}/${object.metadata.name}`);
      assert.equal(object.metadata.labels.team, 'sms');
      assert.deepEqual(object.metadata.annotations, { 'example.com/owner': 'sms' });
      assert.equal(object.metadata.labels[EXPERIMENT_LABEL], 'sms-app', 'the standard labels stay');
    }
    for (const object of objects.filter((object) => !selected.includes(object))) {
      assert.equal(object.metadata.labels.release, undefined, `${object.kind}/${object.metadata.name} has no monitoring label`);
    }
    for (const dashboard of dashboards(objects)) {
      assert.equal(dashboard.metadata.labels['example.com/dashboard'], 'yes');
      assert.equal(dashboard.metadata.labels[GRAFANA_DASHBOARD_LABEL], undefined, 'the default label gives way to the configured one');
    }
  });

  it('lets spec.monitoring add to and override the defaults, key by key', () => {
    const objects = render(
      experiment({ monitoring: { labels: { release: 'monitoring', tier: 'gold' }, annotations: { 'example.com/runbook': 'https://runbooks.example.com/sms' }, dashboardLabel: { key: 'grafana_dashboard', value: 'sms' } } }),
      { monitoringDefaults: defaults },
    );
    for (const object of monitoringObjects(objects)) {
      assert.deepEqual(
        Object.fromEntries(['release', 'team', 'tier'].map((key) => [key, object.metadata.labels[key]])),
        { release: 'monitoring', team: 'sms', tier: 'gold' },
      );
      assert.deepEqual(object.metadata.annotations, { 'example.com/owner': 'sms', 'example.com/runbook': 'https://runbooks.example.com/sms' });
    }
    for (const dashboard of dashboards(objects)) {
      assert.equal(dashboard.metadata.labels[GRAFANA_DASHBOARD_LABEL], 'sms');
      assert.equal(dashboard.metadata.labels['example.com/dashboard'], undefined);
    }
  });

  it('renders no annotations when none are configured', () => {
    for (const object of monitoringObjects(render(experiment()))) assert.equal(object.metadata.annotations, undefined);
  });
});

describe('render: Prometheus objects', () => {
  it('scrapes the main app and model Services through the http port, with the seed\'s relabellings', () => {
    const objects = render(experiment());
    for (const [name, component] of [['sms-app-app', 'app'], ['sms-app-model', 'model']] as const) {
      const monitor = byName(objects, 'ServiceMonitor', name);
      assert.deepEqual(monitor.spec.selector.matchLabels, {
        'experiments.sms-app.io/experiment': 'sms-app',
        'app.kubernetes.io/component': component,
        'experiments.sms-app.io/scrape': 'true',
      });
      assert.deepEqual(monitor.spec.namespaceSelector, { matchNames: ['sms-app'] });
      const [endpoint] = monitor.spec.endpoints;
      assert.equal(endpoint?.port, 'http');
      assert.equal(endpoint.path, '/metrics');
      assert.deepEqual(endpoint.relabelings, [
        { sourceLabels: ['__meta_kubernetes_pod_label_version'], targetLabel: 'version' },
        { sourceLabels: ['__meta_kubernetes_pod_name'], targetLabel: 'pod' },
      ]);
      // Exactly one Service per component matches, so no pod is scraped twice.
      const matching = objects.filter(
        (object: RenderedObject) =>
          object.kind === 'Service' &&
          Object.entries(monitor.spec.selector.matchLabels).every(([key, value]) => object.metadata.labels[key] === value),
      );
      assert.deepEqual(matching.map((service) => service.metadata.name), [name]);
    }
  });

  it('fires HighRequestRate above the configured rate for the configured time', () => {
    const rule = byName(render(experiment({ monitoring: { highRequestRate: { perMinute: 2.5, for: '5m' } } })), 'PrometheusRule', 'sms-app-alerts');
    const [group] = rule.spec.groups;
    const [alert] = group?.rules ?? [];
    assert.equal(alert?.alert, 'HighRequestRate');
    assert.equal(alert.expr, 'sum(rate(sms_messages_classified_total{namespace="sms-app",service="sms-app-app"}[1m])) * 60 > 2.5');
    assert.equal(alert.for, '5m');
    assert.deepEqual(alert.labels, { severity: 'warning', namespace: 'sms-app', experiment: 'sms-app' });
    assert.ok(alert.annotations.summary && alert.annotations.description);
  });

  it('uses the seed threshold by default', () => {
    const rule = byName(render(experiment()), 'PrometheusRule', 'sms-app-alerts');
    assert.match(rule.spec.groups[0]?.rules[0]?.expr ?? '', /\* 60 > 15$/);
    assert.equal(rule.spec.groups[0]?.rules[0]?.for, '2m');
  });

  it('exports the rule groups as a promtool rule file', () => {
    const objects = render(experiment());
    const file = promtoolRuleFile(objects);
    assert.ok(file);
    assert.deepEqual(parse(file), { groups: byName(objects, 'PrometheusRule', 'sms-app-alerts').spec.groups });
    assert.equal(promtoolRuleFile(render(experiment({ monitoring: { enabled: false } }))), undefined);
  });

  it('mails alerts of this experiment through the referenced Secret', () => {
    const config = byName(
      render(experiment({ monitoring: { email: { ...EMAIL, passwordSecretRef: { name: 'smtp', key: 'pw' } } } })),
      'AlertmanagerConfig',
      'sms-app-email',
    );
    assert.deepEqual(config.spec.route.matchers, [{ name: 'experiment', value: 'sms-app', matchType: '=' }]);
    assert.equal(config.spec.route.receiver, 'email');
    assert.deepEqual(config.spec.receivers, [
      {
        name: 'email',
        emailConfigs: [
          {
            to: 'oncall@example.com',
            from: 'alerts@example.com',
            smarthost: 'smtp.example.com:587',
            authUsername: 'alerts@example.com',
            authPassword: { name: 'smtp', key: 'pw' },
            sendResolved: true,
          },
        ],
      },
    ]);
  });

  it('logs in to SMTP with the username when one is given', () => {
    const config = byName(render(experiment({ monitoring: { email: { ...EMAIL, username: 'relay-user' } } })), 'AlertmanagerConfig', 'sms-app-email');
    assert.equal(config.spec.receivers[0]?.emailConfigs[0]?.authUsername, 'relay-user');
    assert.deepEqual(config.spec.receivers[0]?.emailConfigs[0]?.authPassword, { name: 'smtp-credentials', key: 'password' });
  });
});
