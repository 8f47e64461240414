// The SmsExperiment as the controller sees it: its REST type, the kinds it may own, its queue key,
// and which experiment an owned object belongs to. The layers below know no SmsExperiment; this is
// where the domain meets them.
import { API_VERSION, KIND, PLURAL } from '../../crd/schema.ts';
import { controllerOf, namespacedName, parseNamespacedName, type OwnerRef, type OwnerReference } from '../kube/objects.ts';
import { resourceTypeOf, type ResourceType } from '../kube/resources.ts';
import type { EventSubject } from '../runtime/events.ts';
import { EXPERIMENT_LABEL, renderableKinds } from '../render/index.ts';

export const SMS_EXPERIMENT: ResourceType = { apiVersion: API_VERSION, kind: KIND, plural: PLURAL, namespaced: true };

/** Kinds an experiment may own. `monitoring` marks the ones served by prometheus-operator CRDs. */
export interface OwnedResourceType extends ResourceType {
  monitoring: boolean;
}

// The renderer's list is the source of truth for what an experiment can own.
export const OWNED_RESOURCE_TYPES: readonly OwnedResourceType[] = renderableKinds().map((kind) => ({
  ...resourceTypeOf(kind),
  monitoring: kind.requires === 'prometheus-operator',
}));

/** The owned kinds to watch and prune, leaving out the monitoring ones when their CRDs are absent. */
export function ownedResourceTypes(options: { monitoring: boolean }): OwnedResourceType[] {
  return OWNED_RESOURCE_TYPES.filter((type) => options.monitoring || !type.monitoring);
}

/** The work-queue key of an experiment: "namespace/name". */
export const experimentKey = namespacedName;
export const parseExperimentKey = parseNamespacedName;

/** The experiment as the subject of its Events (from the cached object's metadata). */
export function experimentSubject(metadata: { namespace: string; name: string; uid?: string | undefined; resourceVersion?: string | undefined }): EventSubject {
  return {
    apiVersion: SMS_EXPERIMENT.apiVersion,
    kind: SMS_EXPERIMENT.kind,
    namespace: metadata.namespace,
    name: metadata.name,
    uid: metadata.uid ?? '',
    resourceVersion: metadata.resourceVersion,
  };
}

/** The experiment as the owner of its objects (what their controller reference names). */
export function experimentOwner(metadata: { namespace: string; name: string; uid: string }): OwnerRef {
  return { apiVersion: API_VERSION, kind: KIND, namespace: metadata.namespace, name: metadata.name, uid: metadata.uid };
}

type OwnedMetadata = { metadata: { namespace: string; labels?: Record<string, string> | undefined; ownerReferences?: OwnerReference[] | undefined } };

/**
 * The key of the experiment an owned object belongs to: its SmsExperiment controller reference,
 * or else the experiment label (covers an object whose ownerReferences someone stripped by hand).
 */
export function owningExperimentKey(object: OwnedMetadata): string | undefined {
  const controller = controllerOf(object);
  if (controller && controller.kind === KIND && controller.apiVersion.startsWith(`${API_VERSION.split('/')[0]}/`)) {
    return experimentKey({ namespace: object.metadata.namespace, name: controller.name });
  }
  const labelled = object.metadata.labels?.[EXPERIMENT_LABEL];
  return labelled ? experimentKey({ namespace: object.metadata.namespace, name: labelled }) : undefined;
}

/** keysOf for the SmsExperiment informer: the experiment itself. */
export const keysOfExperiment = (object: { metadata: { namespace: string; name: string } }): string => experimentKey(object.metadata);

/** keysOf for owned kinds: the controlling SmsExperiment, or the experiment label. */
export const keysOfOwner = (object: OwnedMetadata): string | undefined => owningExperimentKey(object);
