// Status conditions as pure functions of what one reconcile observed. No I/O and no clock: the caller
// passes `now`, so the same inputs always give the same conditions and tests need no fake timers.
import type { Condition, SmsExperimentStatus } from '../../crd/schema.ts';
import { toKubeTime } from '../runtime/clock.ts';
import { compareStrings } from '../../common/compare.ts';
import { canonicalJson } from '../../common/json.ts';
import { pendingRollout, type DeploymentReadiness } from './readiness.ts';

export const ConditionType = {
  Ready: 'Ready',
  Progressing: 'Progressing',
  Degraded: 'Degraded',
} as const;
export type ConditionType = (typeof ConditionType)[keyof typeof ConditionType];

export const Reason = {
  Reconciled: 'Reconciled',
  RolloutInProgress: 'RolloutInProgress',
  DeploymentsNotReady: 'DeploymentsNotReady',
  ApplyFailed: 'ApplyFailed',
  OwnershipConflict: 'OwnershipConflict',
  PruneFailed: 'PruneFailed',
  InvalidSpec: 'InvalidSpec',
  SidecarsMissing: 'SidecarsMissing',
  PodsFailing: 'PodsFailing',
  MonitoringCRDsMissing: 'MonitoringCRDsMissing',
  TrafficHeld: 'TrafficHeld',
  RolloutStalled: 'RolloutStalled',
  PreviousExperimentNotGone: 'PreviousExperimentNotGone',
  HostConflict: 'HostConflict',
} as const;

/** Why a reconcile could not bring the objects to the desired state; `reason` is CamelCase. */
export interface ReconcileFailure {
  reason: string;
  message: string;
}

export interface ConditionInputs {
  /** metadata.generation of the experiment this pass acted on. */
  generation: number;
  failure?: ReconcileFailure | undefined;
  deployments: readonly DeploymentReadiness[];
  /** Traffic the spec asks for that this pass held back, one message each (empty when none). */
  held: readonly string[];
  /** Containers that cannot start or keep crashing (pod-failures.ts); undefined when none. */
  podsFailing?: string | undefined;
  /** Why some pods lack the Istio sidecar; undefined when every pod has it (or there are none). */
  sidecarsMissing?: string | undefined;
  /** The spec asks for monitoring but the operator runs without it (--skip-monitoring). */
  monitoringSkipped: boolean;
}

/**
 * Ready, Progressing and Degraded for one pass. `lastTransitionTime` is carried over from `previous`
 * whenever a condition keeps its status, so rewriting an unchanged status changes nothing.
 */
export function computeConditions(
  previous: readonly Condition[] | undefined,
  inputs: ConditionInputs,
  now: number,
): Condition[] {
  const pending = inputs.deployments.map(pendingRollout).filter((message) => message !== undefined);
  const stalls = inputs.deployments
    .filter((deployment) => deployment.stalled !== undefined)
    .map((deployment) => `Deployment ${deployment.name}: ${deployment.stalled?.reason}: ${deployment.stalled?.message}`);
  const { failure, held } = inputs;
  const waiting = [...pending, ...held].join('; ');

  // Ready only when every Deployment of this generation rolled out and the spec's routing is in place.
  const ready: Draft = failure
    ? { status: 'False', reason: failure.reason, message: failure.message }
    : stalls.length > 0
      ? { status: 'False', reason: Reason.RolloutStalled, message: stalls.join('; ') }
      : pending.length > 0
        ? { status: 'False', reason: Reason.DeploymentsNotReady, message: waiting }
        : held.length > 0
          ? { status: 'False', reason: Reason.TrafficHeld, message: waiting }
          : { status: 'True', reason: Reason.Reconciled, message: allAvailableMessage(inputs.deployments.length) };

  // A stalled rollout is no longer progressing (what kstatus and `kubectl rollout status` read too).
  const progressing: Draft = failure
    ? { status: 'False', reason: failure.reason, message: failure.message }
    : stalls.length > 0
      ? { status: 'False', reason: Reason.RolloutStalled, message: stalls.join('; ') }
      : pending.length > 0 || held.length > 0
        ? { status: 'True', reason: pending.length > 0 ? Reason.RolloutInProgress : Reason.TrafficHeld, message: waiting }
        : { status: 'False', reason: Reason.Reconciled, message: 'Rollout complete' };

  const degradations: Array<{ reason: string; message: string }> = [];
  if (failure) degradations.push(failure);
  if (inputs.podsFailing !== undefined) degradations.push({ reason: Reason.PodsFailing, message: inputs.podsFailing });
  if (stalls.length > 0) degradations.push({ reason: Reason.RolloutStalled, message: stalls.join('; ') });
  if (inputs.sidecarsMissing !== undefined) degradations.push({ reason: Reason.SidecarsMissing, message: inputs.sidecarsMissing });
  if (inputs.monitoringSkipped) {
    degradations.push({
      reason: Reason.MonitoringCRDsMissing,
      message:
        'The prometheus-operator CRDs are not in use (the operator runs with --skip-monitoring), so the ServiceMonitors, PrometheusRule and dashboards were skipped',
    });
  }
  const [worst] = degradations;
  const degraded: Draft = worst
    ? { status: 'True', reason: worst.reason, message: degradations.map((d) => d.message).join('; ') }
    : { status: 'False', reason: Reason.Reconciled, message: 'No degradation' };

  return [
    settle(previous, ConditionType.Ready, ready, inputs.generation, now),
    settle(previous, ConditionType.Progressing, progressing, inputs.generation, now),
    settle(previous, ConditionType.Degraded, degraded, inputs.generation, now),
  ];
}

type Draft = Pick<Condition, 'status' | 'reason' | 'message'>;

function allAvailableMessage(count: number): string {
  return count === 1 ? 'The deployment is available' : `All ${count} deployments are available`;
}

function settle(
  previous: readonly Condition[] | undefined,
  type: ConditionType,
  draft: Draft,
  generation: number,
  now: number,
): Condition {
  const before = findCondition(previous, type);
  const lastTransitionTime = before && before.status === draft.status ? before.lastTransitionTime : toKubeTime(now);
  return { type, ...draft, lastTransitionTime, observedGeneration: generation };
}

export function findCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((condition) => condition.type === type);
}

/**
 * Conditions whose status differs between two lists: the transitions worth an Event. A Degraded
 * condition that stays True with another reason counts too: a new cause (a rollout stalling in a
 * namespace already degraded by missing sidecars) must not go unannounced.
 */
export function conditionTransitions(
  before: readonly Condition[] | undefined,
  after: readonly Condition[],
): Array<{ type: string; from: Condition['status'] | undefined; to: Condition }> {
  return after
    .map((to) => ({ type: to.type, previous: findCondition(before, to.type), to }))
    .filter(({ previous, to }) => previous?.status !== to.status || (to.type === ConditionType.Degraded && to.status === 'True' && previous.reason !== to.reason))
    .map(({ type, previous, to }) => ({ type, from: previous?.status, to }));
}

/**
 * True when two statuses say the same thing. Lists whose order carries no meaning are compared as
 * sets, and absent equals undefined, so a status rebuilt in another order is not a change to write.
 */
export function statusEqual(a: SmsExperimentStatus | undefined, b: SmsExperimentStatus | undefined): boolean {
  return canonicalJson(normalizeStatus(a)) === canonicalJson(normalizeStatus(b));
}

function normalizeStatus(status: SmsExperimentStatus | undefined): SmsExperimentStatus {
  if (!status) return {};
  const byKey = <T>(items: readonly T[] | undefined, key: (item: T) => string): T[] | undefined =>
    items && [...items].sort((x, y) => compareStrings(key(x), key(y)));
  return {
    ...status,
    conditions: byKey(status.conditions, (c) => c.type),
    replicas: byKey(status.replicas, (r) => `${r.component}/${r.role}/${r.deployment}`),
    ownedObjects: byKey(status.ownedObjects, (o) => `${o.kind}/${o.name}/${o.apiVersion}`),
  };
}
