// Label and annotation keys the renderer writes. The operator lists everything it owns for one
// experiment with EXPERIMENT_LABEL, so every rendered object carries it.
import type { Labels } from './types.ts';

export const EXPERIMENT_LABEL = 'experiments.sms-app.io/experiment';
/** stable | canary | shadow: the part a workload plays; Deployment selectors use it (never the version). */
export const ROLE_LABEL = 'experiments.sms-app.io/role';
/** Marks the one Service per component that Prometheus scrapes, so version Services are not scraped twice. */
export const SCRAPE_LABEL = 'experiments.sms-app.io/scrape';
/** Hash of the app ConfigMap on the app pod template: a config change rolls the app pods. */
export const CONFIG_HASH_ANNOTATION = 'experiments.sms-app.io/config-hash';

export const NAME_LABEL = 'app.kubernetes.io/name';
export const INSTANCE_LABEL = 'app.kubernetes.io/instance';
export const COMPONENT_LABEL = 'app.kubernetes.io/component';
export const PART_OF_LABEL = 'app.kubernetes.io/part-of';
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const APP_VERSION_LABEL = 'app.kubernetes.io/version';

/** Istio's workload labels: DestinationRule subsets select `version`, telemetry reads `app`. */
export const VERSION_LABEL = 'version';
export const ISTIO_APP_LABEL = 'app';
export const ISTIO_INJECT_LABEL = 'sidecar.istio.io/inject';

/**
 * The Grafana sidecar loads ConfigMaps carrying this label. The seed's value was sms-app; 1 is what
 * kube-prometheus-stack's sidecar selects out of the box (sidecar.dashboards.labelValue).
 */
export const GRAFANA_DASHBOARD_LABEL = 'grafana_dashboard';
export const GRAFANA_DASHBOARD_LABEL_VALUE = '1';
export const DEFAULT_DASHBOARD_LABEL = { key: GRAFANA_DASHBOARD_LABEL, value: GRAFANA_DASHBOARD_LABEL_VALUE } as const;

export const PART_OF = 'sms-spam-detection';
export const MANAGED_BY = 'sms-experiment-operator';

export type Component = 'app' | 'model' | 'gateway' | 'ingress' | 'monitoring';
export type Role = 'stable' | 'canary' | 'shadow';

/** Selects every object rendered for one experiment. */
export function experimentSelector(experiment: string): Labels {
  return { [EXPERIMENT_LABEL]: experiment };
}

/** The same selector in the string form list calls take (`labelSelector=`). */
export function experimentLabelSelector(experiment: string): string {
  return `${EXPERIMENT_LABEL}=${experiment}`;
}

/** The labels every rendered object carries; `version` only on objects bound to one version. */
export function standardLabels(experiment: string, component: Component, version?: string): Labels {
  const labels: Labels = {
    [NAME_LABEL]: component === 'model' ? 'sms-model' : 'sms-app',
    [INSTANCE_LABEL]: experiment,
    [COMPONENT_LABEL]: component,
    [PART_OF_LABEL]: PART_OF,
    [MANAGED_BY_LABEL]: MANAGED_BY,
    [EXPERIMENT_LABEL]: experiment,
  };
  if (version !== undefined) {
    labels[APP_VERSION_LABEL] = version;
    labels[VERSION_LABEL] = version;
  }
  return labels;
}

/** What the component's Services select: all of its pods in this experiment. */
export function componentSelector(experiment: string, component: 'app' | 'model'): Labels {
  return { [EXPERIMENT_LABEL]: experiment, [COMPONENT_LABEL]: component };
}
