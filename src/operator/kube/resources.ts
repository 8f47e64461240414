// The API resources the operator reads or writes, with the REST names the URL needs.
// A static table instead of discovery: no extra requests per start, and a kind that is missing here
// fails loudly at the first apply instead of being guessed. The table knows Kubernetes, Istio and
// prometheus-operator kinds only; the SmsExperiment's own type belongs to the controller.

export interface ResourceType {
  apiVersion: string;
  kind: string;
  /** The lower-case plural REST name, e.g. "virtualservices". */
  plural: string;
  namespaced: boolean;
}

export interface TypeRef {
  apiVersion: string;
  kind: string;
}

const namespaced = (apiVersion: string, kind: string, plural: string): ResourceType => ({ apiVersion, kind, plural, namespaced: true });

export const LEASE = namespaced('coordination.k8s.io/v1', 'Lease', 'leases');
export const EVENT = namespaced('events.k8s.io/v1', 'Event', 'events');
export const NAMESPACE: ResourceType = { apiVersion: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false };
export const POD: ResourceType = { apiVersion: 'v1', kind: 'Pod', plural: 'pods', namespaced: true };
export const CUSTOM_RESOURCE_DEFINITION: ResourceType = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  plural: 'customresourcedefinitions',
  namespaced: false,
};

export const CONFIG_MAP = namespaced('v1', 'ConfigMap', 'configmaps');
export const SERVICE = namespaced('v1', 'Service', 'services');
export const DEPLOYMENT = namespaced('apps/v1', 'Deployment', 'deployments');
export const POD_DISRUPTION_BUDGET = namespaced('policy/v1', 'PodDisruptionBudget', 'poddisruptionbudgets');
export const INGRESS = namespaced('networking.k8s.io/v1', 'Ingress', 'ingresses');
export const DESTINATION_RULE = namespaced('networking.istio.io/v1', 'DestinationRule', 'destinationrules');
export const GATEWAY = namespaced('networking.istio.io/v1', 'Gateway', 'gateways');
export const VIRTUAL_SERVICE = namespaced('networking.istio.io/v1', 'VirtualService', 'virtualservices');
export const SERVICE_MONITOR = namespaced('monitoring.coreos.com/v1', 'ServiceMonitor', 'servicemonitors');
export const PROMETHEUS_RULE = namespaced('monitoring.coreos.com/v1', 'PrometheusRule', 'prometheusrules');
export const ALERTMANAGER_CONFIG = namespaced('monitoring.coreos.com/v1alpha1', 'AlertmanagerConfig', 'alertmanagerconfigs');

const KNOWN_TYPES: readonly ResourceType[] = [
  LEASE,
  EVENT,
  NAMESPACE,
  POD,
  CUSTOM_RESOURCE_DEFINITION,
  CONFIG_MAP,
  SERVICE,
  DEPLOYMENT,
  POD_DISRUPTION_BUDGET,
  INGRESS,
  DESTINATION_RULE,
  GATEWAY,
  VIRTUAL_SERVICE,
  SERVICE_MONITOR,
  PROMETHEUS_RULE,
  ALERTMANAGER_CONFIG,
];

export function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

/** The version part of an apiVersion ("v1" of "apps/v1" and of "v1"). */
export function versionOf(apiVersion: string): string {
  return apiVersion.slice(apiVersion.indexOf('/') + 1);
}

/**
 * Identifies a kind across API versions ("networking.istio.io/VirtualService"): the same object is
 * served under every version of its group, so caches and tables key on group and kind only.
 */
export function typeKey(ref: TypeRef): string {
  return `${groupOf(ref.apiVersion)}/${ref.kind}`;
}

const typesByKey = new Map(KNOWN_TYPES.map((type) => [typeKey(type), type]));

export class UnknownResourceTypeError extends Error {
  constructor(ref: TypeRef) {
    super(`Resource type ${ref.kind} (${ref.apiVersion}) is not in the operator's resource table (src/operator/kube/resources.ts)`);
    this.name = 'UnknownResourceTypeError';
  }
}

/** The resource type of a kind, addressed at the version the caller asked for. */
export function resourceTypeOf(ref: TypeRef): ResourceType {
  const type = typesByKey.get(typeKey(ref));
  if (!type) throw new UnknownResourceTypeError(ref);
  return type.apiVersion === ref.apiVersion ? type : { ...type, apiVersion: ref.apiVersion };
}

/** The CRD name (plural.group) that serves a custom type, e.g. "virtualservices.networking.istio.io". */
export function crdNameOf(type: ResourceType): string | undefined {
  const group = groupOf(type.apiVersion);
  return group.includes('.') && !group.endsWith('.k8s.io') ? `${type.plural}.${group}` : undefined;
}

/**
 * The REST path of a collection, an object, or an object's subresource.
 * `namespace` undefined on a namespaced type means "across all namespaces" (list and watch only).
 */
export function resourcePath(
  type: ResourceType,
  location: { namespace?: string | undefined; name?: string | undefined; subresource?: string | undefined } = {},
): string {
  const root = type.apiVersion.includes('/') ? `/apis/${type.apiVersion}` : `/api/${type.apiVersion}`;
  const parts = [root];
  if (type.namespaced && location.namespace !== undefined) {
    parts.push('namespaces', encodeURIComponent(location.namespace));
  }
  parts.push(type.plural);
  if (location.name !== undefined) parts.push(encodeURIComponent(location.name));
  if (location.subresource !== undefined) parts.push(location.subresource);
  return parts.join('/');
}
