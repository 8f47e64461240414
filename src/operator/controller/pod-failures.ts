// Containers that cannot start or keep crashing, judged from the experiment's pods: a Deployment
// only says so after its progress deadline (ten minutes by default), while the pod says it at once.
// What is named here makes the experiment Degraded (conditions.ts); traffic already stays away,
// since a pod that is not ready serves nothing (readiness.ts).
import type { LiveObjectReader } from '../apply/applier.ts';
import type { LiveObject } from '../kube/objects.ts';
import { POD } from '../kube/resources.ts';
import { COMPONENT_LABEL, ROLE_LABEL, type PlannedWorkload } from '../render/index.ts';

/**
 * Waiting reasons that waiting does not fix: the kubelet backs off restarting a crashed container, or
 * cannot pull or create it. ContainerCreating and PodInitializing are not failures.
 */
export const FAILING_WAITING_REASONS: ReadonlySet<string> = new Set([
  'CrashLoopBackOff',
  'ImagePullBackOff',
  'ErrImagePull',
  'ErrImageNeverPull',
  'InvalidImageName',
  'CreateContainerConfigError',
  'CreateContainerError',
  'RunContainerError',
]);

/** The fields of a container status this module reads (kube/slim.ts keeps exactly these). */
export interface ContainerStatusShape {
  name?: string;
  restartCount?: number;
  state?: { waiting?: { reason?: string; message?: string } };
  lastState?: { terminated?: { exitCode?: number; reason?: string } };
}

type PodStatusShape = { containerStatuses?: ContainerStatusShape[]; initContainerStatuses?: ContainerStatusShape[] };

export interface PodFailure {
  deployment: string;
  pod: string;
  container: string;
  reason: string;
  restarts: number;
  exitCode?: number | undefined;
  message?: string | undefined;
}

/** Every failing container of the experiment's running (not terminating) pods, per Deployment. */
export function podFailures(experiment: string, namespace: string, workloads: readonly PlannedWorkload[], pods: LiveObjectReader): PodFailure[] {
  const own = pods.listOfExperiment(POD, namespace, experiment).filter((pod) => pod.metadata.deletionTimestamp === undefined);
  const failures: PodFailure[] = [];
  for (const workload of workloads) {
    for (const pod of own) {
      if (pod.metadata.labels?.[COMPONENT_LABEL] !== workload.component || pod.metadata.labels[ROLE_LABEL] !== workload.role) continue;
      failures.push(...failingContainers(pod).map((failure) => ({ deployment: workload.deployment, pod: pod.metadata.name, ...failure })));
    }
  }
  return failures;
}

function failingContainers(pod: LiveObject): Array<Omit<PodFailure, 'deployment' | 'pod'>> {
  const status = (pod as { status?: PodStatusShape }).status;
  return [...(status?.initContainerStatuses ?? []), ...(status?.containerStatuses ?? [])].flatMap((container) => {
    const reason = container.state?.waiting?.reason;
    if (reason === undefined || !FAILING_WAITING_REASONS.has(reason)) return [];
    return [{
      container: container.name ?? '(unnamed)',
      reason,
      restarts: container.restartCount ?? 0,
      exitCode: container.lastState?.terminated?.exitCode,
      message: container.state?.waiting?.message,
    }];
  });
}

/** One sentence per failing container, e.g. "Deployment x: container app of pod x-1 is in CrashLoopBackOff (3 restarts, last exit code 1)". */
export function podFailureMessage(failures: readonly PodFailure[]): string {
  const shown = failures.slice(0, 3).map((failure) => {
    const details = [
      failure.restarts > 0 ? `${failure.restarts} restart${failure.restarts === 1 ? '' : 's'}` : undefined,
      failure.exitCode === undefined ? undefined : `last exit code ${failure.exitCode}`,
    ].filter((detail) => detail !== undefined);
    const why = failure.reason === 'CrashLoopBackOff' || failure.message === undefined ? '' : `: ${failure.message}`;
    return `Deployment ${failure.deployment}: container ${failure.container} of pod ${failure.pod} is in ${failure.reason}${details.length > 0 ? ` (${details.join(', ')})` : ''}${why}`;
  });
  const more = failures.length > 3 ? `; and ${failures.length - 3} more` : '';
  return `${shown.join('; ')}${more}; kubectl logs --previous and kubectl describe pod say why`;
}
