// Writes one owner's objects with server-side apply under one field manager, never taking over an
// object another owner created, skipping objects the cache shows already up to date, pruning owned
// objects that are no longer desired, and applying /status. It knows no kind of owner: the objects
// arrive labelled and carrying their controller reference (the renderer's job), and it checks that.
import { z } from 'zod';
import { apiStatusOf, isApiError, type KubeClient } from '../kube/client.ts';
import { freshness, withDesiredHash } from './live-diff.ts';
import {
  controllerOf,
  describeObject,
  isControlledBy,
  liveObjectSchema,
  objectKey,
  refOf,
  type DesiredObject,
  type LiveObject,
  type ObjectRef,
  type OwnerRef,
} from '../kube/objects.ts';
import { resourceTypeOf, type ResourceType, type TypeRef } from '../kube/resources.ts';

/** Read access to the informer caches of the owned kinds. */
export interface LiveObjectReader {
  get(type: TypeRef, namespace: string, name: string): LiveObject | undefined;
  /**
   * The objects of this type and namespace labelled as the named experiment's: an index of the
   * cache, so a pass costs what its own experiment holds, not what the namespace holds.
   */
  listOfExperiment(type: TypeRef, namespace: string, experiment: string): readonly LiveObject[];
}

/**
 * The owned kinds' objects that carry no experiment label, as a metadata-only watch sees them: what
 * lets a cache miss mean "no such object" instead of costing a GET before every create.
 */
export interface UnlabelledObjectReader {
  /** True when a synced watch covers this type and namespace, so that a miss means the object does not exist. */
  covers(type: TypeRef, namespace: string): boolean;
  get(type: TypeRef, namespace: string, name: string): LiveObject | undefined;
}

/** The object exists but belongs to someone else; nothing was written. Reason: OwnershipConflict. */
export class OwnershipConflictError extends Error {
  readonly reason = 'OwnershipConflict';
  readonly object: ObjectRef;
  /** Field managers of the existing object, e.g. ["kubectl-client-side-apply"]. */
  readonly managers: readonly string[];
  /**
   * The controller is a deleted incarnation of the same experiment (same name, other uid) whose
   * children garbage collection has not removed yet: this resolves itself, so retry quietly.
   */
  readonly previousIncarnation: boolean;

  constructor(object: ObjectRef, detail: string, managers: readonly string[], previousIncarnation = false) {
    const by = managers.length > 0 ? `; managed by ${managers.join(', ')}` : '';
    super(`${describeObject(object)} already exists and ${detail}${by}`);
    this.name = 'OwnershipConflictError';
    this.object = object;
    this.managers = managers;
    this.previousIncarnation = previousIncarnation;
  }
}

/** The API server refused an apply or delete. Reason: ApplyFailed or PruneFailed. */
export class ObjectWriteError extends Error {
  readonly reason: 'ApplyFailed' | 'PruneFailed';
  readonly object: ObjectRef;
  /** HTTP status, when the failure came from the API server. */
  readonly code: number | undefined;

  constructor(reason: 'ApplyFailed' | 'PruneFailed', object: ObjectRef, cause: unknown) {
    const verb = reason === 'ApplyFailed' ? 'apply' : 'delete';
    const detail = apiStatusOf(cause)?.message ?? (cause instanceof Error ? cause.message : String(cause));
    super(`Failed to ${verb} ${describeObject(object)}: ${detail}`, { cause });
    this.name = 'ObjectWriteError';
    this.reason = reason;
    this.object = object;
    this.code = isApiError(cause) ? cause.code : undefined;
  }
}

export type ApplyOutcome = 'created' | 'configured' | 'unchanged';

export interface ApplyReport {
  object: ObjectRef;
  outcome: ApplyOutcome;
  /** Why an apply was sent (from the no-op check), for debug logs. */
  why?: string;
  /** Managers whose conflicting fields were taken back with force, e.g. ["kubectl-edit"]. */
  tookOverFrom?: readonly string[];
  /**
   * The object as the API server holds it after this apply (its response), or as read when nothing
   * had to change: what readiness must be judged on, since the cache may not have seen the write yet.
   */
  live?: LiveObject | undefined;
}

export interface Applier {
  /** Applies one object for its owner. Throws OwnershipConflictError or ObjectWriteError. */
  applyObject(desired: DesiredObject, owner: OwnerRef): Promise<ApplyReport>;
  /** Applies every object (independently and concurrently); failures are collected, not thrown. */
  applyAll(
    desired: readonly DesiredObject[],
    owner: OwnerRef,
  ): Promise<{ reports: ApplyReport[]; failures: Array<OwnershipConflictError | ObjectWriteError> }>;
  /**
   * Deletes the objects of `types` this experiment controls that are not in `keep`.
   * Only run it after every desired object applied, so a mode switch never removes the old
   * objects before the new ones exist. Throws ObjectWriteError (PruneFailed).
   */
  prune(owner: OwnerRef, keep: readonly ObjectRef[], types: readonly ResourceType[]): Promise<ObjectRef[]>;
  /** Applies the /status of an object of `type`. Resolves false if the object no longer exists. */
  applyStatus(type: ResourceType, object: { namespace: string; name: string }, status: unknown): Promise<boolean>;
}

export interface ApplierOptions {
  client: KubeClient;
  cache: LiveObjectReader;
  /** Without it, every cache miss is a GET (ownership must be judged on the real object). */
  unlabelled?: UnlabelledObjectReader | undefined;
  fieldManager: string;
  /** Told of every successful write with the version its response carries (runtime/own-writes.ts). */
  onWritten?: (kind: string, written: { namespace: string; name: string; resourceVersion?: string | undefined }) => void;
}

/** Of a status write's response, the version it made (the object itself is not read). */
const writtenVersionSchema = z.object({ metadata: z.object({ resourceVersion: z.string() }) });

/** An apply response as a live object; undefined when it is not one (the caller falls back to the cache). */
function parsedResponse(response: unknown): LiveObject | undefined {
  const parsed = liveObjectSchema.safeParse(response);
  return parsed.success ? parsed.data : undefined;
}

export function createApplier({ client, cache, unlabelled, fieldManager, onWritten }: ApplierOptions): Applier {
  const written = (kind: string, response: LiveObject | undefined): LiveObject | undefined => {
    if (response) onWritten?.(kind, response.metadata);
    return response;
  };

  async function readLive(type: ResourceType, ref: ObjectRef, owner: OwnerRef): Promise<LiveObject | undefined> {
    // The label-selected cache holds the objects we labelled; the unlabelled watch everything else
    // of the kind (metadata only). Between them a miss means the object does not exist, and a
    // foreign object is refused on its metadata. The one case neither catches is the one a GET
    // never caught either: an object someone else creates in the moment before our create (here,
    // before its watch event arrives). A field of theirs that differs from ours makes that apply a
    // 409, refused below; with none, the create merges into it, as it would after a GET.
    const cached = cache.get(type, ref.namespace, ref.name);
    if (cached) return cached;
    if (unlabelled?.covers(type, ref.namespace) === true) {
      const other = unlabelled.get(type, ref.namespace, ref.name);
      if (other === undefined || !isControlledBy(other, owner)) return other;
      // Ours, but someone removed its label: the no-op check needs the whole object.
    }
    const fetched = await client.get(type, ref);
    return fetched === undefined ? undefined : liveObjectSchema.parse(fetched);
  }

  async function applyObject(desiredObject: DesiredObject, owner: OwnerRef): Promise<ApplyReport> {
    assertOwnedBy(desiredObject, owner);
    const desired = withDesiredHash(desiredObject);
    const ref = refOf(desired);
    const type = resourceTypeOf(desired);

    let live: LiveObject | undefined;
    try {
      live = await readLive(type, ref, owner);
    } catch (error) {
      throw new ObjectWriteError('ApplyFailed', ref, error);
    }
    if (live && !isControlledBy(live, owner)) throw foreignOwnerError(ref, live, owner);

    const state = live ? freshness(desired, live, fieldManager) : { upToDate: false as const, why: 'it does not exist' };
    if (state.upToDate) return { object: ref, outcome: 'unchanged', live };

    const outcome: ApplyOutcome = live ? 'configured' : 'created';
    let response: LiveObject | undefined;
    try {
      response = parsedResponse(await client.apply(type, desired, { fieldManager, force: false }));
    } catch (error) {
      if (!isApiError(error, 409)) throw new ObjectWriteError('ApplyFailed', ref, error);
      const managers = conflictingManagers(error);
      // No live object a moment ago: someone else created it in between. Never take that over.
      if (!live) throw new OwnershipConflictError(ref, 'was just created by another writer', managers);
      // Our object, hand-edited: the experiment is the source of truth for the fields we render.
      let response: unknown;
      try {
        response = await client.apply(type, desired, { fieldManager, force: true });
      } catch (forced) {
        throw new ObjectWriteError('ApplyFailed', ref, forced);
      }
      return { object: ref, outcome, why: state.why, tookOverFrom: managers, live: written(type.kind, parsedResponse(response)) };
    }
    return { object: ref, outcome, why: state.why, live: written(type.kind, response) };
  }

  return {
    applyObject,

    async applyAll(desired, owner) {
      const settled = await Promise.all(
        desired.map((object) =>
          applyObject(object, owner).then(
            (report) => ({ report }),
            (error: unknown) => ({ failure: asApplyFailure(object, error) }),
          ),
        ),
      );
      const reports: ApplyReport[] = [];
      const failures: Array<OwnershipConflictError | ObjectWriteError> = [];
      for (const result of settled) {
        if ('report' in result) reports.push(result.report);
        else failures.push(result.failure);
      }
      return { reports, failures };
    },

    async prune(owner, keep, types) {
      const kept = new Set(keep.map(objectKey));
      const deleted: ObjectRef[] = [];
      for (const type of types) {
        for (const live of cache.listOfExperiment(type, owner.namespace, owner.name)) {
          const ref = { ...refOf(live), apiVersion: type.apiVersion, kind: type.kind };
          if (!isControlledBy(live, owner) || kept.has(objectKey(ref))) continue;
          try {
            // The uid precondition protects an object recreated under the same name meanwhile.
            const removed = await client.delete(type, ref, { uid: live.metadata.uid, propagationPolicy: 'Background' });
            if (removed) deleted.push(ref);
          } catch (error) {
            throw new ObjectWriteError('PruneFailed', ref, error);
          }
        }
      }
      return deleted;
    },

    async applyStatus(type, object, status) {
      const body = {
        apiVersion: type.apiVersion,
        kind: type.kind,
        metadata: { namespace: object.namespace, name: object.name },
        status,
      };
      try {
        // Force: the operator is the only writer of this status, so a conflict can only come from
        // a stale manager (e.g. a renamed field manager) whose fields we must take over.
        const response = await client.apply(type, body, { fieldManager, force: true, subresource: 'status' });
        const version = writtenVersionSchema.safeParse(response);
        if (version.success) onWritten?.(type.kind, { ...object, resourceVersion: version.data.metadata.resourceVersion });
        return true;
      } catch (error) {
        if (isApiError(error, 404)) return false;
        throw error;
      }
    },
  };
}

/**
 * Every desired object must already name its owner as controller, and no other controller: owner
 * references are stamped in one place (the renderer), and a mismatch is a bug, never applied.
 */
export function assertOwnedBy(desired: DesiredObject, owner: OwnerRef): void {
  const controllers = (desired.metadata.ownerReferences ?? []).filter((ref) => ref.controller === true);
  const [controller] = controllers;
  if (controllers.length !== 1 || controller === undefined || controller.kind !== owner.kind || controller.uid !== owner.uid || controller.name !== owner.name) {
    throw new Error(`${describeObject(refOf(desired))} is rendered without a controller reference to ${owner.kind} ${owner.name} (uid ${owner.uid})`);
  }
}

function asApplyFailure(object: DesiredObject, error: unknown): OwnershipConflictError | ObjectWriteError {
  if (error instanceof OwnershipConflictError || error instanceof ObjectWriteError) return error;
  return new ObjectWriteError('ApplyFailed', refOf(object), error);
}

function foreignOwnerError(ref: ObjectRef, live: LiveObject, owner: OwnerRef): OwnershipConflictError {
  const controller = controllerOf(live);
  const unique = [
    ...new Set(
      (live.metadata.managedFields ?? [])
        .filter((entry) => entry.subresource !== 'status')
        .flatMap((entry) => (entry.manager === undefined ? [] : [entry.manager])),
    ),
  ];
  if (!controller) return new OwnershipConflictError(ref, `is not controlled by ${owner.kind} ${owner.name}`, unique);
  const previousIncarnation = controller.kind === owner.kind && controller.name === owner.name;
  const detail = previousIncarnation
    ? `is still controlled by a deleted ${owner.kind} of the same name (uid ${controller.uid})`
    : `is controlled by ${controller.kind} ${controller.name}`;
  return new OwnershipConflictError(ref, detail, unique, previousIncarnation);
}

/** The field managers named in a 409 apply conflict ("conflict with \"kubectl-edit\" using apps/v1"). */
export function conflictingManagers(error: unknown): string[] {
  const status = apiStatusOf(error);
  const texts = [status?.message, ...(status?.details?.causes ?? []).map((cause) => cause.message)];
  const managers = new Set<string>();
  for (const text of texts) {
    for (const match of (text ?? '').matchAll(/conflicts? with "([^"]+)"/g)) {
      if (match[1]) managers.add(match[1]);
    }
  }
  return [...managers];
}
