// How far each of the experiment's Deployments has rolled out, read from the informer cache, and
// the same judgement `kubectl rollout status` makes of it. The renderer says which Deployments exist
// and what they are (component, role, version); nothing is parsed back from labels.
import { z } from 'zod';
import type { SmsExperimentStatus } from '../../crd/schema.ts';
import type { LiveObjectReader } from '../apply/applier.ts';
import { isControlledBy, type LiveObject, type OwnerRef } from '../kube/objects.ts';
import { DEPLOYMENT } from '../kube/resources.ts';
import type { PlannedWorkload } from '../render/index.ts';

/** The rollout facts of one owned Deployment, as read from the informer cache. */
export interface DeploymentReadiness {
  name: string;
  /** Absent from the cluster (not created yet, or just deleted). */
  found: boolean;
  /** spec.replicas as rendered. */
  desiredReplicas: number;
  generation?: number | undefined;
  observedGeneration?: number | undefined;
  /** status.replicas: pods of every revision. */
  replicas?: number | undefined;
  updatedReplicas?: number | undefined;
  availableReplicas?: number | undefined;
  /** The Deployment controller's Progressing=False condition (ProgressDeadlineExceeded), if set. */
  stalled?: { reason: string; message: string } | undefined;
}

/**
 * Whether a version may be given new traffic: its Deployment has seen the spec this pass applied, every
 * pod it runs is of that spec, and at least one is available. (A complete rollout qualifies too.)
 * Pods of the old template do not count: they are what is being replaced.
 */
export function canServe(deployment: DeploymentReadiness): boolean {
  if (!deployment.found || deployment.desiredReplicas === 0) return false;
  if ((deployment.observedGeneration ?? 0) < (deployment.generation ?? 0)) return false;
  const updated = deployment.updatedReplicas ?? 0;
  const available = deployment.availableReplicas ?? 0;
  return updated >= 1 && updated === (deployment.replicas ?? 0) && available >= 1;
}

/** What a version waits for before it may take traffic, for conditions and logs. */
export function servingBlocker(deployment: DeploymentReadiness): string {
  const { name } = deployment;
  if (!deployment.found) return `Deployment ${name} does not exist yet`;
  if (deployment.desiredReplicas === 0) return `Deployment ${name} is scaled to 0`;
  if ((deployment.observedGeneration ?? 0) < (deployment.generation ?? 0)) return `Deployment ${name} has not observed its latest spec yet`;
  const old = (deployment.replicas ?? 0) - (deployment.updatedReplicas ?? 0);
  if (old > 0) return `Deployment ${name} still runs ${old} pod${old === 1 ? '' : 's'} of its previous spec`;
  return `Deployment ${name} has no available pod of its current spec yet`;
}

/** The same judgement as `kubectl rollout status`: undefined when complete, else what it waits for. */
export function pendingRollout(deployment: DeploymentReadiness): string | undefined {
  const { name, desiredReplicas } = deployment;
  if (!deployment.found) return `Deployment ${name} does not exist yet`;
  if ((deployment.observedGeneration ?? 0) < (deployment.generation ?? 0)) {
    return `Deployment ${name} has not observed its latest spec yet`;
  }
  const updated = deployment.updatedReplicas ?? 0;
  if (updated < desiredReplicas) return `Deployment ${name} has ${updated} of ${desiredReplicas} replicas updated`;
  const total = deployment.replicas ?? 0;
  if (total > updated) return `Deployment ${name} has ${total - updated} old replicas pending termination`;
  const available = deployment.availableReplicas ?? 0;
  if (available < updated) return `Deployment ${name} has ${available} of ${updated} updated replicas available`;
  return undefined;
}

const deploymentConditionSchema = z.looseObject({
  type: z.string(),
  status: z.string(),
  reason: z.string().optional(),
  message: z.string().optional(),
});

const deploymentStateSchema = z.looseObject({
  metadata: z.looseObject({ generation: z.number().int().optional() }),
  status: z
    .looseObject({
      conditions: z.array(deploymentConditionSchema).optional(),
      observedGeneration: z.number().int().optional(),
      replicas: z.number().int().optional(),
      updatedReplicas: z.number().int().optional(),
      readyReplicas: z.number().int().optional(),
      availableReplicas: z.number().int().optional(),
    })
    .optional(),
});

export type VersionReplicas = NonNullable<SmsExperimentStatus['replicas']>[number];

export interface DeploymentState {
  readiness: DeploymentReadiness;
  replicas: VersionReplicas;
}

/**
 * Rollout facts of one planned Deployment: from `applied` (the apply response of this pass) when there
 * is one, else from the cache. One owned by someone else counts as absent.
 */
export function deploymentStateOf(workload: PlannedWorkload, applied: LiveObject | undefined, cache: LiveObjectReader, owner: OwnerRef): DeploymentState {
  const name = workload.deployment;
  const live = applied ?? cache.get(DEPLOYMENT, owner.namespace, name);
  const state = live && isControlledBy(live, owner) ? deploymentStateSchema.safeParse(live) : undefined;
  const observed = state?.success ? state.data : undefined;
  const progressing = observed?.status?.conditions?.find((condition) => condition.type === 'Progressing');
  // Only a stall of the spec in hand: the controller keeps the condition until it observes a new one.
  const current = (observed?.status?.observedGeneration ?? 0) >= (observed?.metadata.generation ?? 0);
  const stalled =
    current && progressing?.status === 'False'
      ? { reason: progressing.reason ?? 'ProgressDeadlineExceeded', message: progressing.message ?? 'the rollout stopped making progress' }
      : undefined;
  return {
    readiness: {
      name,
      found: observed !== undefined,
      desiredReplicas: workload.replicas,
      generation: observed?.metadata.generation,
      observedGeneration: observed?.status?.observedGeneration,
      replicas: observed?.status?.replicas,
      updatedReplicas: observed?.status?.updatedReplicas,
      availableReplicas: observed?.status?.availableReplicas,
      stalled,
    },
    replicas: {
      component: workload.component,
      role: workload.role,
      version: workload.version,
      deployment: name,
      desired: workload.replicas,
      ready: observed?.status?.readyReplicas ?? 0,
    },
  };
}

/** "<ready>/<desired>" pods over every desired Deployment: the Ready printer column. */
export function readyCount(deployments: readonly DeploymentState[]): string {
  const ready = deployments.reduce((sum, { replicas }) => sum + Math.min(replicas.ready, replicas.desired), 0);
  const desired = deployments.reduce((sum, { replicas }) => sum + replicas.desired, 0);
  return `${ready}/${desired}`;
}
