// Object names, all derived from the experiment name so several experiments share a namespace.
// With the experiment `sms-app` they are the seed's names (sms-app-app, sms-app-model-v1, ...).
import { createHash } from 'node:crypto';

/** Grafana rejects dashboard uids longer than 40 characters. */
const GRAFANA_UID_MAX = 40;

export interface ExperimentNames {
  config: string;
  appDeployment: { stable: string; canary: string };
  modelDeployment: { stable: string; canary: string; shadow: string };
  appService: string;
  /** Service selecting one app version only; the NGINX Ingress uses the stable one. */
  appVersionService(version: string): string;
  modelService: string;
  modelVersionService(version: string): string;
  /** Istio `app` label of the pods: the component Service name, unique per experiment. */
  appWorkload: string;
  modelWorkload: string;
  gateway: string;
  appVirtualService: string;
  appDestinationRule: string;
  modelVirtualService: string;
  modelDestinationRule: string;
  ingress: string;
  appServiceMonitor: string;
  modelServiceMonitor: string;
  prometheusRule: string;
  alertmanagerConfig: string;
  metricsDashboard: string;
  experimentDashboard: string;
  metricsDashboardUid: string;
  experimentDashboardUid: string;
}

export function experimentNames(experiment: string): ExperimentNames {
  const prefix = (suffix: string) => `${experiment}-${suffix}`;
  return {
    config: prefix('config'),
    appDeployment: { stable: prefix('app'), canary: prefix('app-canary') },
    modelDeployment: { stable: prefix('model'), canary: prefix('model-canary'), shadow: prefix('model-shadow') },
    appService: prefix('app'),
    appVersionService: (version) => prefix(`app-${version}`),
    modelService: prefix('model'),
    modelVersionService: (version) => prefix(`model-${version}`),
    appWorkload: prefix('app'),
    modelWorkload: prefix('model'),
    gateway: prefix('gateway'),
    appVirtualService: prefix('vs'),
    appDestinationRule: prefix('app-dr'),
    modelVirtualService: prefix('model-vs'),
    modelDestinationRule: prefix('model-dr'),
    ingress: prefix('ingress'),
    appServiceMonitor: prefix('app'),
    modelServiceMonitor: prefix('model'),
    prometheusRule: prefix('alerts'),
    alertmanagerConfig: prefix('email'),
    metricsDashboard: prefix('dashboard-metrics'),
    experimentDashboard: prefix('dashboard-experiment'),
    metricsDashboardUid: grafanaUid(prefix('metrics')),
    experimentDashboardUid: grafanaUid(prefix('experiment')),
  };
}

/** Keeps readable uids (sms-app-metrics) and shortens long ones deterministically. */
function grafanaUid(uid: string): string {
  if (uid.length <= GRAFANA_UID_MAX) return uid;
  const digest = createHash('sha256').update(uid).digest('hex').slice(0, 8);
  return `${uid.slice(0, GRAFANA_UID_MAX - digest.length - 1)}-${digest}`;
}
