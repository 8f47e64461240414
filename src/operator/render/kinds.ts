// Every kind render() can produce, for the operator's watches and for pruning objects that a
// spec change dropped (list each kind by the experiment label, delete what render() no longer returns).

export interface RenderableKind {
  group: string;
  version: string;
  apiVersion: string;
  kind: string;
  plural: string;
  /** The CRDs the kind comes from, when it is not built into Kubernetes. */
  requires?: 'istio' | 'prometheus-operator';
}

const KINDS: readonly (Omit<RenderableKind, 'apiVersion'>)[] = [
  { group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps' },
  { group: '', version: 'v1', kind: 'Service', plural: 'services' },
  { group: 'apps', version: 'v1', kind: 'Deployment', plural: 'deployments' },
  { group: 'networking.istio.io', version: 'v1', kind: 'DestinationRule', plural: 'destinationrules', requires: 'istio' },
  { group: 'networking.istio.io', version: 'v1', kind: 'Gateway', plural: 'gateways', requires: 'istio' },
  { group: 'networking.istio.io', version: 'v1', kind: 'VirtualService', plural: 'virtualservices', requires: 'istio' },
  { group: 'networking.k8s.io', version: 'v1', kind: 'Ingress', plural: 'ingresses' },
  { group: 'monitoring.coreos.com', version: 'v1', kind: 'ServiceMonitor', plural: 'servicemonitors', requires: 'prometheus-operator' },
  { group: 'monitoring.coreos.com', version: 'v1', kind: 'PrometheusRule', plural: 'prometheusrules', requires: 'prometheus-operator' },
  {
    group: 'monitoring.coreos.com',
    version: 'v1alpha1',
    kind: 'AlertmanagerConfig',
    plural: 'alertmanagerconfigs',
    requires: 'prometheus-operator',
  },
];

/** A fresh list on every call, so callers may sort or filter it. */
export function renderableKinds(): RenderableKind[] {
  return KINDS.map((kind) => ({ ...kind, apiVersion: kind.group === '' ? kind.version : `${kind.group}/${kind.version}` }));
}
