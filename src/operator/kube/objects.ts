// Object shapes the operator handles without knowing their kind, the zod schemas that admit them at
// the API boundary, the one way to build an object's key, and the controller-reference rules.
import { z } from 'zod';
import { typeKey } from './resources.ts';

export const ownerReferenceSchema = z.looseObject({
  apiVersion: z.string(),
  kind: z.string(),
  name: z.string(),
  uid: z.string(),
  controller: z.boolean().optional(),
  blockOwnerDeletion: z.boolean().optional(),
});
export type OwnerReference = z.output<typeof ownerReferenceSchema>;

/** The owner of a set of objects: what their controller reference points at. */
export interface OwnerRef {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  uid: string;
}

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
 * A complete object the operator wants to exist, as the renderer produces it: labelled and carrying
 * its controller reference already. Deliberately minimal so the apply layer does not depend on the
 * renderer's own types.
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

/** "namespace/name": the key of a namespaced object within one kind (and the work-queue key). */
export function namespacedName(ref: { namespace: string; name: string }): string {
  return `${ref.namespace}/${ref.name}`;
}

export function parseNamespacedName(key: string): { namespace: string; name: string } {
  const slash = key.indexOf('/');
  if (slash <= 0 || slash === key.length - 1) throw new Error(`Malformed key "${key}"`);
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/** "group/Kind/namespace/name": identifies an object across the API versions of its kind. */
export function objectKey(ref: ObjectRef): string {
  return `${typeKey(ref)}/${namespacedName(ref)}`;
}

type WithOwners = { metadata: { ownerReferences?: OwnerReference[] | undefined } };

/** The controller ownerReference of an object, if any (at most one may have controller: true). */
export function controllerOf(object: WithOwners): OwnerReference | undefined {
  return object.metadata.ownerReferences?.find((ref) => ref.controller === true);
}

/** True only when the object's controller is exactly this owner (same kind and uid, not merely same name). */
export function isControlledBy(object: WithOwners, owner: Pick<OwnerRef, 'kind' | 'uid'>): boolean {
  const controller = controllerOf(object);
  return controller !== undefined && controller.kind === owner.kind && controller.uid === owner.uid;
}
