// Shrinks cached objects to what the operator reads, in place: the informers apply these to every
// object they receive before caching it, and client-node's ListWatch holds that same object, so one
// slimmed copy is all that stays in memory. What each keeps is what its readers read, no more:
//  - managedFields: live-diff.ts's foreignManagers reads manager, subresource and the top-level keys
//    of fieldsV1 (f:spec, f:metadata …); applier.ts's foreignOwnerError reads manager and
//    subresource. Operation and apiVersion stay for a person reading a debug dump. The nested field
//    sets (most of an object's size: a Deployment's run to kilobytes per manager) and the time go.
//  - pods: controller/sidecars.ts reads the metadata (labels, annotations, deletionTimestamp) and the
//    names of the containers and init containers; keysOfOwner reads ownerReferences and labels;
//    controller/pod-failures.ts each container status's name, restart count, waiting reason and
//    message, and last exit code.
//  - ConfigMaps: each value of data and binaryData becomes its digest, which is all the no-op check
//    compares (live-diff.ts digests the desired values the same way). Two of an experiment's three
//    ConfigMaps are Grafana dashboards, tens of KiB of JSON each, and nothing else reads them.
//  - objects the operator does not own (the unlabelled watch): who controls them and who manages
//    them, which is all the ownership guard reads before it refuses to write to one.
//  - an object whose parsed copy is what gets cached (a schema with defaults copies): its identity,
//    which the ListWatch needs to match later events and relists (namespace, name, resourceVersion).

import { createHash } from 'node:crypto';

/** The value every slimmed fieldsV1 key points at: only the key itself is ever read. */
const NO_FIELDS: Readonly<Record<string, never>> = Object.freeze({});

type Loose = Record<string, unknown>;

function isObject(value: unknown): value is Loose {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const KEPT_ENTRY_FIELDS = ['manager', 'operation', 'subresource', 'apiVersion'] as const;

/** One managedFields entry reduced to who manages which top-level fields. */
export function slimManagedFieldsEntry(entry: unknown): unknown {
  if (!isObject(entry)) return entry;
  const slim: Loose = {};
  for (const field of KEPT_ENTRY_FIELDS) {
    if (typeof entry[field] === 'string') slim[field] = entry[field];
  }
  if (isObject(entry.fieldsV1)) {
    const topLevel: Loose = {};
    for (const key of Object.keys(entry.fieldsV1)) topLevel[key] = NO_FIELDS;
    slim.fieldsV1 = topLevel;
  }
  return slim;
}

/** Reduces metadata.managedFields of an object to what the no-op and ownership checks read. Returns the object. */
export function slimManagedFields<T>(object: T): T {
  const metadata = isObject(object) ? object.metadata : undefined;
  if (isObject(metadata) && Array.isArray(metadata.managedFields)) {
    metadata.managedFields = metadata.managedFields.map(slimManagedFieldsEntry);
  }
  return object;
}

function containerNames(containers: unknown): Array<{ name: unknown }> | undefined {
  if (!Array.isArray(containers)) return undefined;
  return containers.map((container: unknown) => ({ name: isObject(container) ? container.name : undefined }));
}

function containerStatuses(statuses: unknown): Loose[] | undefined {
  if (!Array.isArray(statuses)) return undefined;
  return statuses.map((status: unknown) => {
    if (!isObject(status)) return {};
    const kept: Loose = { name: status.name, restartCount: status.restartCount };
    const waiting = isObject(status.state) && isObject(status.state.waiting) ? status.state.waiting : undefined;
    if (waiting) kept.state = { waiting: { reason: waiting.reason, message: waiting.message } };
    const terminated = isObject(status.lastState) && isObject(status.lastState.terminated) ? status.lastState.terminated : undefined;
    if (terminated) kept.lastState = { terminated: { exitCode: terminated.exitCode, reason: terminated.reason } };
    return kept;
  });
}

/**
 * A pod reduced to its metadata (without managedFields), the names of its containers and the
 * little of each container status that says it is failing: what the sidecar and pod-failure checks
 * read. Volumes, env, conditions and the rest go. Returns the object.
 */
export function slimPod<T>(object: T): T {
  if (!isObject(object)) return object;
  const pod: Loose = object;
  const spec = pod.spec;
  const status = pod.status;
  for (const key of Object.keys(pod)) {
    if (key !== 'apiVersion' && key !== 'kind' && key !== 'metadata') delete pod[key];
  }
  if (isObject(pod.metadata)) delete pod.metadata.managedFields;
  if (isObject(spec)) {
    const slimSpec: Loose = {};
    const containers = containerNames(spec.containers);
    const initContainers = containerNames(spec.initContainers);
    if (containers) slimSpec.containers = containers;
    if (initContainers) slimSpec.initContainers = initContainers;
    pod.spec = slimSpec;
  }
  if (isObject(status)) {
    const slimStatus: Loose = {};
    const statuses = containerStatuses(status.containerStatuses);
    const initStatuses = containerStatuses(status.initContainerStatuses);
    if (statuses) slimStatus.containerStatuses = statuses;
    if (initStatuses) slimStatus.initContainerStatuses = initStatuses;
    pod.status = slimStatus;
  }
  return object;
}

const IDENTITY_FIELDS = ['namespace', 'name', 'uid', 'resourceVersion'] as const;

/**
 * Deletes everything of an object but apiVersion, kind and the named metadata fields, in place.
 * Returns the metadata as it was, for callers that keep a reduced form of more of it.
 */
function keepOnlyMetadata(received: Loose, fields: readonly string[]): Loose | undefined {
  const metadata = received.metadata;
  for (const key of Object.keys(received)) {
    if (key !== 'apiVersion' && key !== 'kind') delete received[key];
  }
  if (!isObject(metadata)) return undefined;
  const kept: Loose = {};
  for (const field of fields) {
    if (metadata[field] !== undefined) kept[field] = metadata[field];
  }
  received.metadata = kept;
  return metadata;
}

/**
 * After a copying parse, the received object is only the ListWatch's bookkeeping: reduce it to
 * apiVersion, kind and the metadata that identify it (namespace, name, uid, resourceVersion).
 * Returns the object.
 */
export function releaseParsed<T>(object: T): T {
  if (isObject(object)) keepOnlyMetadata(object, IDENTITY_FIELDS);
  return object;
}

const OWNERSHIP_FIELDS = ['namespace', 'name', 'uid', 'resourceVersion', 'ownerReferences', 'deletionTimestamp'] as const;

/**
 * An object reduced to what the applier's ownership guard reads: its identity, owner references
 * and the managers of its managedFields (applier.ts foreignOwnerError). Labels, annotations and
 * everything outside metadata go. Returns the object.
 */
export function slimToOwnership<T>(object: T): T {
  if (!isObject(object)) return object;
  const metadata = keepOnlyMetadata(object, OWNERSHIP_FIELDS);
  if (metadata && Array.isArray(metadata.managedFields) && isObject(object.metadata)) {
    object.metadata.managedFields = metadata.managedFields.map((entry: unknown) =>
      isObject(entry) ? { manager: entry.manager, ...(entry.subresource === undefined ? {} : { subresource: entry.subresource }) } : entry,
    );
  }
  return object;
}

const DIGEST_PREFIX = 'sha256:';
const DIGEST_PATTERN = /^sha256:[A-Za-z0-9_-]{22}$/;

/** What a slimmed ConfigMap holds instead of a value: 128 bits of its SHA-256, tagged. */
export function valueDigest(value: string): string {
  return `${DIGEST_PREFIX}${createHash('sha256').update(value).digest('base64url').slice(0, 22)}`;
}

/**
 * A copy of a ConfigMap-shaped object whose data and binaryData values are digests (values that
 * already are digests stay), so that a slimmed live ConfigMap and a desired one compare field by field.
 */
export function withDigestedData<T extends object>(object: T): T {
  const copy: Loose = { ...(object as Loose) };
  for (const field of ['data', 'binaryData'] as const) {
    const values = copy[field];
    if (!isObject(values)) continue;
    copy[field] = Object.fromEntries(
      Object.entries(values).map(([key, value]) => [key, typeof value === 'string' && !DIGEST_PATTERN.test(value) ? valueDigest(value) : value]),
    );
  }
  return copy as T;
}

/** A ConfigMap reduced like every owned object (slimManagedFields), its values to their digests, in place. Returns the object. */
export function slimConfigMap<T>(object: T): T {
  slimManagedFields(object);
  if (!isObject(object)) return object;
  const received: Loose = object;
  const digested = withDigestedData(received);
  for (const field of ['data', 'binaryData'] as const) {
    if (digested[field] !== undefined) received[field] = digested[field];
  }
  return object;
}
