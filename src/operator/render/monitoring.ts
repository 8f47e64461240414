// prometheus-operator objects: ServiceMonitors with the seed's relabellings, the HighRequestRate
// PrometheusRule and, when email alerting is configured, the AlertmanagerConfig.
import { stringify } from 'yaml';
import { objectMetadata, type RenderContext } from './context.ts';
import { COMPONENT_LABEL, EXPERIMENT_LABEL, SCRAPE_LABEL, standardLabels } from './labels.ts';
import { APP_METRICS, appMetricSelector } from './metrics.ts';
import type {
  AlertmanagerConfigObject,
  PrometheusRuleObject,
  ServiceMonitorObject,
} from './types.ts';

export const HIGH_REQUEST_RATE_ALERT = 'HighRequestRate';
/** Alert label naming the experiment; the AlertmanagerConfig routes on it. */
export const ALERT_EXPERIMENT_LABEL = 'experiment';

/** Labels and annotations of the objects a Prometheus or Alertmanager selects: the standard ones win. */
function monitoringObjectMetadata(context: RenderContext, name: string) {
  const { labels, annotations } = context.monitoring;
  return objectMetadata(context, name, { ...labels, ...standardLabels(context.experiment, 'monitoring') }, Object.keys(annotations).length > 0 ? { ...annotations } : undefined);
}

function serviceMonitor(context: RenderContext, name: string, component: 'app' | 'model'): ServiceMonitorObject {
  const { experiment, namespace } = context;
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'ServiceMonitor',
    metadata: monitoringObjectMetadata(context, name),
    spec: {
      // Only the component's main Service: the per-version Services select the same pods.
      selector: { matchLabels: { [EXPERIMENT_LABEL]: experiment, [COMPONENT_LABEL]: component, [SCRAPE_LABEL]: 'true' } },
      namespaceSelector: { matchNames: [namespace] },
      endpoints: [
        {
          port: 'http',
          path: '/metrics',
          interval: '15s',
          relabelings: [
            { sourceLabels: ['__meta_kubernetes_pod_label_version'], targetLabel: 'version' },
            { sourceLabels: ['__meta_kubernetes_pod_name'], targetLabel: 'pod' },
          ],
        },
      ],
    },
  };
}

/**
 * The seed's HighRequestRate, scoped to this experiment's app. Static `namespace` and `experiment`
 * labels: the sum() drops every series label, and an AlertmanagerConfig only receives alerts whose
 * `namespace` label equals its own namespace (prometheus-operator adds that matcher).
 */
export function prometheusRule(context: RenderContext): PrometheusRuleObject {
  const { experiment, namespace, names, spec } = context;
  const { perMinute, for: duration } = spec.monitoring.highRequestRate;
  const threshold = String(perMinute); // 15 -> '15', 2.5 -> '2.5': both PromQL literals
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: monitoringObjectMetadata(context, names.prometheusRule),
    spec: {
      groups: [
        {
          name: `${experiment}.rules`,
          rules: [
            {
              alert: HIGH_REQUEST_RATE_ALERT,
              expr: `sum(rate(${APP_METRICS.classified}${appMetricSelector(context)}[1m])) * 60 > ${threshold}`,
              for: duration,
              labels: { severity: 'warning', namespace, [ALERT_EXPERIMENT_LABEL]: experiment },
              annotations: {
                summary: `High SMS classification rate in ${namespace}/${experiment}`,
                description: `{{ $value | printf "%.1f" }} classifications/min, above ${threshold}/min for ${duration}.`,
              },
            },
          ],
        },
      ],
    },
  };
}

/** The PrometheusRule's spec as a rule file for `promtool check rules`. */
export function promtoolRuleFile(rule: PrometheusRuleObject): string {
  return stringify({ groups: rule.spec.groups });
}

export function alertmanagerConfig(context: RenderContext): AlertmanagerConfigObject | undefined {
  const { experiment, names, spec } = context;
  const email = spec.monitoring.email;
  if (email === undefined) return undefined;
  return {
    apiVersion: 'monitoring.coreos.com/v1alpha1',
    kind: 'AlertmanagerConfig',
    metadata: monitoringObjectMetadata(context, names.alertmanagerConfig),
    spec: {
      route: {
        receiver: 'email',
        groupBy: ['alertname', ALERT_EXPERIMENT_LABEL],
        matchers: [{ name: ALERT_EXPERIMENT_LABEL, value: experiment, matchType: '=' }],
      },
      receivers: [
        {
          name: 'email',
          emailConfigs: [
            {
              to: email.to,
              from: email.from,
              smarthost: email.smarthost,
              // Most SMTP relays log in with the sender address when no separate user exists.
              authUsername: email.username ?? email.from,
              authPassword: { name: email.passwordSecretRef.name, key: email.passwordSecretRef.key },
              sendResolved: true,
            },
          ],
        },
      ],
    },
  };
}

export function serviceMonitors(context: RenderContext): ServiceMonitorObject[] {
  return [serviceMonitor(context, context.names.appServiceMonitor, 'app'), serviceMonitor(context, context.names.modelServiceMonitor, 'model')];
}
