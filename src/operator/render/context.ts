// What every builder needs, computed once from the experiment.
import { API_VERSION, KIND, type SmsExperiment, type SmsExperimentSpec } from '../../crd/schema.ts';
import { experimentNames, type ExperimentNames } from './names.ts';
import type { OwnerReference } from '../kube/objects.ts';
import { specTraffic, type RetainedSubsets, type TrafficPlan } from './traffic.ts';
import { DEFAULT_DASHBOARD_LABEL } from './labels.ts';
import type { DesiredMetadata, Labels, RenderOptions } from './types.ts';

/** The metadata the monitoring objects and dashboards get: the operator's defaults, then the spec's. */
export interface MonitoringMetadata {
  labels: Labels;
  annotations: Record<string, string>;
  dashboardLabel: { key: string; value: string };
}

export interface RenderContext {
  experiment: string;
  namespace: string;
  spec: SmsExperimentSpec;
  names: ExperimentNames;
  owner: OwnerReference;
  /** What the routing sends where (the spec's unless the controller holds traffic back). */
  traffic: TrafficPlan;
  retainedSubsets: RetainedSubsets;
  monitoring: MonitoringMetadata;
}

export function renderContext(experiment: SmsExperiment, options: RenderOptions = {}): RenderContext {
  const { name, namespace, uid } = experiment.metadata;
  return {
    experiment: name,
    namespace,
    spec: experiment.spec,
    names: experimentNames(name),
    // The one place owner references are made: garbage collection deletes everything with this
    // reference when the experiment goes away, and the applier refuses objects without it.
    owner: { apiVersion: API_VERSION, kind: KIND, name, uid: uid ?? '', controller: true, blockOwnerDeletion: true },
    traffic: options.traffic ?? specTraffic(experiment.spec),
    retainedSubsets: options.retainedSubsets ?? { app: [], model: [] },
    monitoring: monitoringMetadata(experiment.spec, options),
  };
}

function monitoringMetadata(spec: SmsExperimentSpec, options: RenderOptions): MonitoringMetadata {
  const defaults = options.monitoringDefaults;
  return {
    labels: { ...defaults?.labels, ...spec.monitoring.labels },
    annotations: { ...defaults?.annotations, ...spec.monitoring.annotations },
    dashboardLabel: { ...(spec.monitoring.dashboardLabel ?? defaults?.dashboardLabel ?? DEFAULT_DASHBOARD_LABEL) },
  };
}

export function objectMetadata(
  context: RenderContext,
  name: string,
  labels: Labels,
  annotations?: Record<string, string>,
): DesiredMetadata {
  return {
    name,
    namespace: context.namespace,
    labels,
    ...(annotations === undefined ? {} : { annotations }),
    ownerReferences: [{ ...context.owner }],
  };
}
