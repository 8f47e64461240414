// Object shapes the operator handles without knowing their kind, the zod schemas that admit them at
// the API boundary, and the ownership rules that decide which experiment an object belongs to.
import { z } from 'zod';
import { API_VERSION, KIND } from '../../crd/schema.ts';
import { EXPERIMENT_LABEL } from '../render/labels.ts';

export const ownerReferenceSchema = z.looseObject({
  apiVersion: z.string(),
  kind: z.string(),
  name: z.string(),
  uid: z.string(),
  controller: z.boolean().optional(),
  blockOwnerDeletion: z.boolean().optional(),
});
export type OwnerReference = z.output<typeof ownerReferenceSchema>;

export const managedFieldsEntrySchema = z.looseObject({
  manager: z.string().optional(),
  operation: z.string().optional(),
  apiVersion: z.string().optional(),
  subresource: z.string().optional(),
  fieldsType: z.string().optional(),
  fieldsV1: z.record(z.string(), z.unknown()).optional(),
});
export type ManagedFieldsEntry = z.output<typeof managedFieldsEntrySchema>;

/** Metadata of any namespaced object the operator watches; unknown fields pass through untouched. */
export const liveMetadataSchema = z.looseObject({
  name: z.string(),
  namespace: z.string(),
  uid: z.string().optional(),
  resourceVersion: z.string().optional(),
  generation: z.number().int().optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  ownerReferences: z.array(ownerReferenceSchema).optional(),
  managedFields: z.array(managedFieldsEntrySchema).optional(),
  deletionTimestamp: z.string().optional(),
});

/** Any namespaced object as read from the API server (list, watch or apply response). */
export const liveObjectSchema = z.looseObject({
  apiVersion: z.string(),
  kind: z.string(),
  metadata: liveMetadataSchema,
});
export type LiveObject = z.output<typeof liveObjectSchema>;

/**
 * What the renderer produces: a complete object the operator owns. Deliberately minimal so the
 * apply layer does not depend on the renderer's own types.
 */
export interface DesiredObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: OwnerReference[];
  };
  [field: string]: unknown;
}

/** The experiment as an owner: what ownerReferences and Events need to point at it. */
export interface ExperimentRef {
  namespace: string;
  name: string;
  uid: string;
}

/** Label on every owned object (the renderer sets it; apply re-stamps it), selecting by experiment. */
export { EXPERIMENT_LABEL } from '../render/labels.ts';

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
}

export function describeObject(ref: ObjectRef): string {
  return `${ref.kind} ${ref.namespace}/${ref.name}`;
}

export function refOf(object: { apiVersion: string; kind: string; metadata: { namespace: string; name: string } }): ObjectRef {
  return {
    apiVersion: object.apiVersion,
    kind: object.kind,
    namespace: object.metadata.namespace,
    name: object.metadata.name,
  };
}

/** The work-queue key of an experiment. */
export function experimentKey(ref: { namespace: string; name: string }): string {
  return `${ref.namespace}/${ref.name}`;
}

export function parseExperimentKey(key: string): { namespace: string; name: string } {
  const slash = key.indexOf('/');
  if (slash <= 0 || slash === key.length - 1) throw new Error(`Malformed experiment key "${key}"`);
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

export function controllerReferenceTo(owner: ExperimentRef): OwnerReference {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    name: owner.name,
    uid: owner.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

type WithOwners = { metadata: { ownerReferences?: OwnerReference[] | undefined } };

/** The controller ownerReference of an object, if any (at most one may have controller: true). */
export function controllerOf(object: WithOwners): OwnerReference | undefined {
  return object.metadata.ownerReferences?.find((ref) => ref.controller === true);
}

/** True only when the object's controller is exactly this experiment (same uid, not merely same name). */
export function isControlledBy(object: WithOwners, ownerUid: string): boolean {
  const controller = controllerOf(object);
  return controller !== undefined && controller.kind === KIND && controller.uid === ownerUid;
}

/**
 * The key of the experiment an owned object belongs to: its SmsExperiment controller reference,
 * or else the experiment label (covers an object whose ownerReferences someone stripped by hand).
 */
export function owningExperimentKey(object: {
  metadata: { namespace: string; labels?: Record<string, string> | undefined; ownerReferences?: OwnerReference[] | undefined };
}): string | undefined {
  const controller = controllerOf(object);
  if (controller && controller.kind === KIND && controller.apiVersion.startsWith(`${API_VERSION.split('/')[0]}/`)) {
    return experimentKey({ namespace: object.metadata.namespace, name: controller.name });
  }
  const labelled = object.metadata.labels?.[EXPERIMENT_LABEL];
  return labelled ? experimentKey({ namespace: object.metadata.namespace, name: labelled }) : undefined;
}
