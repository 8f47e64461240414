// The dashboards as ConfigMaps the Grafana sidecar of kube-prometheus-stack picks up by label. They
// stay in the experiment's namespace: an owner reference cannot cross namespaces, and the chart's
// sidecar searches every namespace (sidecar.dashboards.searchNamespace: ALL, its default since 45.12).
import { objectMetadata, type RenderContext } from '../context.ts';
import { standardLabels } from '../labels.ts';
import type { ConfigMapObject } from '../types.ts';
import { appMetricsDashboard } from './app-metrics.ts';
import { experimentDashboard } from './experiment.ts';
import type { Dashboard } from './grafana.ts';

function dashboardConfigMap(context: RenderContext, name: string, dashboard: Dashboard): ConfigMapObject {
  const { key, value } = context.monitoring.dashboardLabel;
  const labels = { [key]: value, ...standardLabels(context.experiment, 'monitoring') };
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: objectMetadata(context, name, labels),
    data: { [`${dashboard.uid}.json`]: `${JSON.stringify(dashboard, null, 2)}\n` },
  };
}

export function renderDashboards(context: RenderContext): ConfigMapObject[] {
  return [
    dashboardConfigMap(context, context.names.metricsDashboard, appMetricsDashboard(context)),
    dashboardConfigMap(context, context.names.experimentDashboard, experimentDashboard(context)),
  ];
}

export type { Dashboard, Panel, Target } from './grafana.ts';
