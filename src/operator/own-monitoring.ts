// The operator's own observability, shipped in the install bundle as Flagger and Argo Rollouts ship
// theirs: a Grafana dashboard ConfigMap and a PrometheusRule over the metrics of runtime/metrics.ts.
// `node hack/generate-own-monitoring.ts` writes them into config/manager (npm run generate does too);
// every query selects the job prometheus-operator gives the operator's ServiceMonitor: the metrics
// Service's name.
import { stringify } from 'yaml';
import { dashboard, type PanelSpec } from './render/dashboards/grafana.ts';
import { DEFAULT_DASHBOARD_LABEL } from './render/labels.ts';
import type { AlertingRule } from './render/types.ts';

export const OPERATOR_METRICS_JOB = 'sms-experiment-operator-metrics';
const JOB = `job="${OPERATOR_METRICS_JOB}"`;
const M = 'smsx_operator_';
const LABELS = { 'app.kubernetes.io/name': 'sms-experiment-operator', 'app.kubernetes.io/component': 'monitoring' };
/** What a stock kube-prometheus-stack installed as release kube-prometheus-stack selects rules by (as the bundle's ServiceMonitor). */
const RELEASE_LABEL = { release: 'kube-prometheus-stack' };

export const OPERATOR_DASHBOARD_UID = 'sms-experiment-operator';

const timeseries = (title: string, description: string, unit: string, queries: PanelSpec['queries']): PanelSpec => ({ type: 'timeseries', title, description, unit, width: 12, height: 8, queries });

export function operatorDashboard() {
  return dashboard({
    uid: OPERATOR_DASHBOARD_UID,
    title: 'SMS Experiment Operator',
    description: 'The operator itself: replicas and leadership, reconciles and their errors, the work queue, API requests, and the experiments it keeps by condition and progression phase.',
    tags: ['sms-app', 'operator'],
    panels: [
      { type: 'stat', title: 'Replicas up', description: 'Operator replicas Prometheus scrapes successfully.', unit: 'short', width: 6, height: 5, queries: [{ expr: `sum(up{${JOB}})`, legend: 'up' }] },
      { type: 'stat', title: 'Leaders', description: 'Replicas that hold the Lease and reconcile: 1 in a healthy install.', unit: 'short', width: 6, height: 5, queries: [{ expr: `sum(${M}leader{${JOB}})`, legend: 'leaders' }] },
      {
        type: 'stat',
        title: 'Since the last successful reconcile',
        description: 'On the leader; it grows while nothing succeeds.',
        unit: 's',
        width: 6,
        height: 5,
        queries: [{ expr: `min(${M}last_successful_sync_age_seconds{${JOB}} and on (pod) (${M}leader{${JOB}} == 1))`, legend: 'age' }],
      },
      { type: 'stat', title: 'Work queue depth', description: 'Experiments waiting to be reconciled, summed over the replicas.', unit: 'short', width: 6, height: 5, queries: [{ expr: `sum(${M}workqueue_depth{${JOB}})`, legend: 'waiting' }] },
      timeseries('Reconciles/s by result', 'success, error (backed off and retried) or requeue (waiting for garbage collection).', 'ops', [
        { expr: `sum by (result) (rate(${M}reconcile_total{${JOB}}[$__rate_interval]))`, legend: '{{result}}' },
      ]),
      timeseries('Reconcile errors/s by reason', 'The failure reason of each failed reconcile (ApplyFailed, InvalidSpec, …) and of failed status writes and analysis reads.', 'ops', [
        { expr: `sum by (reason) (rate(${M}reconcile_errors_total{${JOB}}[$__rate_interval]))`, legend: '{{reason}}' },
      ]),
      timeseries('Reconcile duration', 'p50 and p95 of one reconcile.', 's', [
        { expr: `histogram_quantile(0.5, sum by (le) (rate(${M}reconcile_duration_seconds_bucket{${JOB}}[$__rate_interval])))`, legend: 'p50' },
        { expr: `histogram_quantile(0.95, sum by (le) (rate(${M}reconcile_duration_seconds_bucket{${JOB}}[$__rate_interval])))`, legend: 'p95' },
      ]),
      timeseries('Work queue depth by replica', 'A standby replica keeps its queue empty.', 'short', [{ expr: `sum by (pod) (${M}workqueue_depth{${JOB}})`, legend: '{{pod}}' }]),
      timeseries('API requests/s by verb and code', 'Requests of the operator to the API server (0: no answer); watches are not counted here.', 'reqps', [
        { expr: `sum by (verb, code) (rate(${M}api_requests_total{${JOB}}[$__rate_interval]))`, legend: '{{verb}} {{code}}' },
      ]),
      timeseries('Watch restarts by kind', 'Watches restarted after an error (an API server restart restarts all of them).', 'short', [
        { expr: `sum by (kind) (increase(${M}informer_restarts_total{${JOB}}[$__rate_interval]))`, legend: '{{kind}}' },
      ]),
      timeseries('Experiments by condition', 'Experiments whose Ready, Progressing or Degraded condition is True.', 'short', [
        { expr: `sum by (condition) (${M}experiment_condition{${JOB},status="True"})`, legend: '{{condition}}' },
      ]),
      timeseries('Experiments by progression phase', 'Progressive delivery runs (spec.analysis.progression) by phase.', 'short', [
        { expr: `sum by (phase) (${M}progression_phase{${JOB}})`, legend: '{{phase}}' },
      ]),
      timeseries('Canary weight of each progression', 'The weight each run drives (0 while the shadow is judged).', 'percent', [
        { expr: `max by (namespace, experiment) (${M}progression_canary_weight{${JOB}})`, legend: '{{namespace}}/{{experiment}}' },
      ]),
      timeseries('Progression outcomes', 'Steps ended and runs finished in the selected range, by outcome.', 'short', [
        { expr: `sum by (outcome) (increase(${M}progression_outcomes_total{${JOB}}[$__range]))`, legend: '{{outcome}}' },
      ]),
    ],
  });
}

export function operatorAlertRules(): AlertingRule[] {
  return [
    {
      alert: 'SmsExperimentOperatorDown',
      expr: `absent(up{${JOB}} == 1)`,
      for: '5m',
      labels: { severity: 'critical' },
      annotations: {
        summary: 'No SMS experiment operator replica is up',
        description: 'Prometheus has scraped no operator replica for 5 minutes: experiments are not reconciled, and edits to them do nothing.',
      },
    },
    {
      alert: 'SmsExperimentReconcileErrors',
      expr: `sum by (reason) (rate(${M}reconcile_errors_total{${JOB}}[5m])) > 0`,
      for: '15m',
      labels: { severity: 'warning' },
      annotations: {
        summary: 'SMS experiment reconciles keep failing ({{ $labels.reason }})',
        description: 'Reconcile errors with reason {{ $labels.reason }} for 15 minutes: the experiments\' conditions and Warning events say which and why.',
      },
    },
    {
      alert: 'SmsExperimentDegraded',
      expr: `max by (namespace, experiment) (${M}experiment_condition{${JOB},condition="Degraded",status="True"}) == 1`,
      for: '10m',
      labels: { severity: 'warning' },
      annotations: {
        summary: 'SmsExperiment {{ $labels.namespace }}/{{ $labels.experiment }} is Degraded',
        description: 'Its Degraded condition has been True for 10 minutes: kubectl -n {{ $labels.namespace }} describe smsx {{ $labels.experiment }}.',
      },
    },
    {
      alert: 'SmsExperimentRolledBack',
      expr: `max by (namespace, experiment) (${M}progression_phase{${JOB},phase="RolledBack"}) == 1`,
      for: '0m',
      labels: { severity: 'warning' },
      annotations: {
        summary: 'SmsExperiment {{ $labels.namespace }}/{{ $labels.experiment }} rolled its canary back',
        description: 'The progressive delivery run found the canary worse and moved every user back to the stable version: kubectl -n {{ $labels.namespace }} get smsx {{ $labels.experiment }} -o yaml shows the evidence.',
      },
    },
  ];
}

const HEADER = '# Generated by `node hack/generate-own-monitoring.ts` from src/operator/own-monitoring.ts: edit that, not this.\n';

/** config/manager/operator_dashboard.yaml: the dashboard as the Grafana sidecar loads it. */
export function operatorDashboardYaml(): string {
  const json = `${JSON.stringify(operatorDashboard(), null, 2)}\n`;
  const configMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'sms-experiment-operator-dashboard', labels: { ...LABELS, [DEFAULT_DASHBOARD_LABEL.key]: DEFAULT_DASHBOARD_LABEL.value } },
    data: { [`${OPERATOR_DASHBOARD_UID}.json`]: json },
  };
  return HEADER + stringify(configMap, { lineWidth: 0 });
}

/** config/manager/operator_rules.yaml: the alerts, labelled like the bundle's ServiceMonitor. */
export function operatorRulesYaml(): string {
  const rule = {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: { name: 'sms-experiment-operator', labels: { ...LABELS, ...RELEASE_LABEL } },
    spec: { groups: [{ name: 'sms-experiment-operator', rules: operatorAlertRules() }] },
  };
  return HEADER + stringify(rule, { lineWidth: 0 });
}

export const OWN_MONITORING_FILES = {
  'config/manager/operator_dashboard.yaml': operatorDashboardYaml,
  'config/manager/operator_rules.yaml': operatorRulesYaml,
} as const;
