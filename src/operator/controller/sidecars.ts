// Whether the experiment's pods really run the Istio sidecar, judged from the pods themselves: the
// namespace label is only one of the ways injection is switched on (pod labels, revisions, a
// webhook's own selectors) and says nothing about pods created before it changed.
import type { LiveObjectReader } from '../apply/applier.ts';
import type { LiveObject } from '../kube/objects.ts';
import { POD } from '../kube/resources.ts';
import { COMPONENT_LABEL, ROLE_LABEL, type PlannedWorkload } from '../render/index.ts';

/** The annotation the injector writes on every pod it injects. */
export const SIDECAR_STATUS_ANNOTATION = 'sidecar.istio.io/status';
export const SIDECAR_CONTAINER = 'istio-proxy';

type PodSpecShape = { containers?: Array<{ name?: string }>; initContainers?: Array<{ name?: string }> };

/** Injected: the injector's status annotation, or an istio-proxy container (native sidecars are init containers). */
export function hasSidecar(pod: LiveObject): boolean {
  if (pod.metadata.annotations?.[SIDECAR_STATUS_ANNOTATION] !== undefined) return true;
  const spec = (pod as { spec?: PodSpecShape }).spec;
  return [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])].some((container) => container.name === SIDECAR_CONTAINER);
}

export interface SidecarGap {
  deployment: string;
  withoutSidecar: number;
  pods: number;
}

/** Per Deployment with running (not terminating) pods lacking the sidecar: how many of how many. */
export function sidecarGaps(experiment: string, namespace: string, workloads: readonly PlannedWorkload[], pods: LiveObjectReader): SidecarGap[] {
  const all = pods.listOfExperiment(POD, namespace, experiment).filter((pod) => pod.metadata.deletionTimestamp === undefined);
  const gaps: SidecarGap[] = [];
  for (const workload of workloads) {
    const own = all.filter((pod) => pod.metadata.labels?.[COMPONENT_LABEL] === workload.component && pod.metadata.labels[ROLE_LABEL] === workload.role);
    const withoutSidecar = own.filter((pod) => !hasSidecar(pod)).length;
    if (withoutSidecar > 0) gaps.push({ deployment: workload.deployment, withoutSidecar, pods: own.length });
  }
  return gaps;
}

export function sidecarGapMessage(gaps: readonly SidecarGap[]): string {
  const which = gaps.map((gap) => `${gap.withoutSidecar} of ${gap.pods} pods of Deployment ${gap.deployment}`).join(', ');
  return (
    `${which} run without the Istio sidecar, so paired routing to the model and mirroring skip their calls; ` +
    'enable injection for the namespace (istio-injection=enabled or an istio.io/rev label) and restart those pods'
  );
}
