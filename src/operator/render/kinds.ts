// Every kind render() can produce, for the operator's watches and for pruning objects that a
// spec change dropped (list each kind by the experiment label, delete what render() no longer returns).
import {
  ALERTMANAGER_CONFIG,
  CONFIG_MAP,
  DEPLOYMENT,
  DESTINATION_RULE,
  GATEWAY,
  groupOf,
  INGRESS,
  POD_DISRUPTION_BUDGET,
  PROMETHEUS_RULE,
  SERVICE,
  SERVICE_MONITOR,
  versionOf,
  VIRTUAL_SERVICE,
  type ResourceType,
} from '../kube/resources.ts';

export interface RenderableKind {
  group: string;
  version: string;
  apiVersion: string;
  kind: string;
  plural: string;
  /** The CRDs the kind comes from, when it is not built into Kubernetes. */
  requires?: 'istio' | 'prometheus-operator';
}

const KINDS: readonly { type: ResourceType; requires?: RenderableKind['requires'] }[] = [
  { type: CONFIG_MAP },
  { type: SERVICE },
  { type: DEPLOYMENT },
  { type: POD_DISRUPTION_BUDGET },
  { type: DESTINATION_RULE, requires: 'istio' },
  { type: GATEWAY, requires: 'istio' },
  { type: VIRTUAL_SERVICE, requires: 'istio' },
  { type: INGRESS },
  { type: SERVICE_MONITOR, requires: 'prometheus-operator' },
  { type: PROMETHEUS_RULE, requires: 'prometheus-operator' },
  { type: ALERTMANAGER_CONFIG, requires: 'prometheus-operator' },
];

/** A fresh list on every call, so callers may sort or filter it. */
export function renderableKinds(): RenderableKind[] {
  return KINDS.map(({ type, requires }) => ({
    group: groupOf(type.apiVersion),
    version: versionOf(type.apiVersion),
    apiVersion: type.apiVersion,
    kind: type.kind,
    plural: type.plural,
    ...(requires === undefined ? {} : { requires }),
  }));
}
