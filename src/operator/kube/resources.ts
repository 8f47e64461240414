// The API resources the operator reads or writes, with the REST names the URL needs.
// A static table instead of discovery: no extra requests per start, and a kind the renderer emits
// that is missing here fails loudly at the first apply instead of being guessed.
import { API_VERSION, KIND, PLURAL } from '../../crd/schema.ts';
import { renderableKinds } from '../render/kinds.ts';

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

export const SMS_EXPERIMENT: ResourceType = { apiVersion: API_VERSION, kind: KIND, plural: PLURAL, namespaced: true };
export const LEASE: ResourceType = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', plural: 'leases', namespaced: true };
export const EVENT: ResourceType = { apiVersion: 'events.k8s.io/v1', kind: 'Event', plural: 'events', namespaced: true };
export const NAMESPACE: ResourceType = { apiVersion: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false };
export const CUSTOM_RESOURCE_DEFINITION: ResourceType = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  plural: 'customresourcedefinitions',
  namespaced: false,
};

/** Kinds an experiment may own. `monitoring` marks the ones served by prometheus-operator CRDs. */
export interface OwnedResourceType extends ResourceType {
  monitoring: boolean;
}

// The renderer's list is the source of truth for what an experiment can own.
export const OWNED_RESOURCE_TYPES: readonly OwnedResourceType[] = renderableKinds().map((kind) => ({
  apiVersion: kind.apiVersion,
  kind: kind.kind,
  plural: kind.plural,
  namespaced: true,
  monitoring: kind.requires === 'prometheus-operator',
}));

/** The owned kinds to watch and prune, leaving out the monitoring ones when their CRDs are absent. */
export function ownedResourceTypes(options: { monitoring: boolean }): OwnedResourceType[] {
  return OWNED_RESOURCE_TYPES.filter((type) => options.monitoring || !type.monitoring);
}

const KNOWN_TYPES: readonly ResourceType[] = [
  SMS_EXPERIMENT,
  LEASE,
  EVENT,
  NAMESPACE,
  CUSTOM_RESOURCE_DEFINITION,
  ...OWNED_RESOURCE_TYPES,
];

export function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
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
