// render(): a validated SmsExperiment in, every object the experiment needs out. Pure: no I/O, no
// clock, no randomness; the same experiment always yields the same objects in the same order
// (ConfigMap, Services, Deployments, Istio, Ingress, monitoring), each owned by the experiment.
import type { SmsExperiment } from '../../crd/schema.ts';
import { appConfigMap, configHash } from './config.ts';
import { renderContext } from './context.ts';
import { renderDashboards } from './dashboards/index.ts';
import { ingress } from './ingress.ts';
import { renderIstio } from './istio.ts';
import { alertmanagerConfig, prometheusRule, promtoolRuleFile as ruleFile, serviceMonitors } from './monitoring.ts';
import { RenderError, renderedProblems, specProblems } from './preconditions.ts';
import { renderServices } from './services.ts';
import type { PrometheusRuleObject, RenderedObject, RenderOptions } from './types.ts';
import { plannedWorkloads, renderDisruptionBudgets, renderWorkloads, type PlannedWorkload } from './workloads.ts';

/** What one experiment needs: its objects, and what the controller must know of its Deployments. */
export interface RenderPlan {
  objects: RenderedObject[];
  /** One per rendered Deployment, in the same order, so nothing is parsed back from labels. */
  workloads: PlannedWorkload[];
}

/**
 * Monitoring objects need spec.monitoring.enabled and the prometheus-operator CRDs
 * (options.monitoring, which the operator sets from discovery). The dashboards follow the same
 * switch: without kube-prometheus-stack there is no Grafana sidecar to load them.
 */
export function render(experiment: SmsExperiment, options: RenderOptions = {}): RenderedObject[] {
  return renderPlan(experiment, options).objects;
}

export function renderPlan(experiment: SmsExperiment, options: RenderOptions = {}): RenderPlan {
  const problems = specProblems(experiment);
  if (problems.length > 0) throw new RenderError(experiment.metadata.name, problems);

  const context = renderContext(experiment, options);
  const { spec } = context;
  const config = appConfigMap(context);
  const deployments = renderWorkloads(context, configHash(config));
  const objects: RenderedObject[] = [config, ...renderServices(context), ...deployments, ...renderDisruptionBudgets(context, deployments), ...renderIstio(context)];
  if (spec.ingress.enabled) objects.push(ingress(context));
  if (spec.monitoring.enabled && options.monitoring !== false) {
    objects.push(...serviceMonitors(context), prometheusRule(context));
    const email = alertmanagerConfig(context);
    if (email !== undefined) objects.push(email);
    objects.push(...renderDashboards(context));
  }

  const nameProblems = renderedProblems(objects);
  if (nameProblems.length > 0) throw new RenderError(experiment.metadata.name, nameProblems);
  return { objects, workloads: plannedWorkloads(context) };
}

/** The rendered PrometheusRule's groups as a `promtool check rules` file; undefined without monitoring. */
export function promtoolRuleFile(objects: RenderedObject[]): string | undefined {
  const rule = objects.find((object): object is PrometheusRuleObject => object.kind === 'PrometheusRule');
  return rule === undefined ? undefined : ruleFile(rule);
}

export { RenderError } from './preconditions.ts';
export { renderableKinds, type RenderableKind } from './kinds.ts';
export type { PlannedWorkload } from './workloads.ts';
export { durationToSeconds } from './duration.ts';
export { ROUTE_NAMES } from './istio.ts';
export { specTraffic, trafficEqual, type RetainedSubsets, type TrafficPlan } from './traffic.ts';
export { stickyCookieRegex, stickyCookieHeader, authorityRegex, escapeRegex } from './stickiness.ts';
export { experimentNames, type ExperimentNames } from './names.ts';
export * from './labels.ts';
export type * from './types.ts';
