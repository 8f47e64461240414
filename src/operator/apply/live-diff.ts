// Decides whether a desired object still needs an apply, from the live object in the informer cache
// alone, so a pass that changes nothing sends nothing to the API server.
//
// Three checks, each covering what the others miss:
//  1. Hash: the live object carries a hash of the desired object we last applied. A change in what we
//     want — including a field we stopped setting, which a subset check cannot see — changes the hash.
//  2. Subset: every field we set has the same value live. Catches edits and deletions of our fields.
//  3. Foreign managers: a manager other than us owns spec fields (someone hand-edited the object).
//     Catches a field added inside a structure we own, e.g. a route appended by `kubectl edit`.
// The cost of a wrong "needs apply" is one idempotent request; a wrong "up to date" is prevented by
// checks 1–3 plus level triggering: any later change to the object arrives as a watch event.
import { createHash } from 'node:crypto';
import { canonicalJson, isPlainObject } from '../../common/json.ts';
import type { DesiredObject, LiveObject } from '../kube/objects.ts';
import { withDigestedData } from '../kube/slim.ts';

export const DESIRED_HASH_ANNOTATION = 'experiments.sms-app.io/desired-hash';

/** A short, stable hash of a desired object (its own hash annotation excluded). */
export function desiredHash(desired: DesiredObject): string {
  const { [DESIRED_HASH_ANNOTATION]: _ignored, ...annotations } = desired.metadata.annotations ?? {};
  const subject = { ...desired, metadata: { ...desired.metadata, annotations } };
  return createHash('sha256').update(canonicalJson(subject)).digest('hex').slice(0, 20);
}

/** A copy of the desired object carrying its hash annotation. */
export function withDesiredHash(desired: DesiredObject): DesiredObject {
  return {
    ...desired,
    metadata: {
      ...desired.metadata,
      annotations: { ...desired.metadata.annotations, [DESIRED_HASH_ANNOTATION]: desiredHash(desired) },
    },
  };
}

/**
 * The path of the first field the desired value sets that the live value lacks or holds differently;
 * undefined when desired is a subset of live. Server-side additions (defaults, status, uid) are ignored.
 * Arrays must match in length and element-wise: an extra element live is drift, not a default.
 * An empty object, empty array or null in desired matches an absent live field, because the API
 * server drops empty optional fields of built-in kinds.
 */
export function firstDifference(desired: unknown, live: unknown, path = ''): string | undefined {
  if (live === undefined && isEmptyValue(desired)) return undefined;
  if (Array.isArray(desired)) {
    if (!Array.isArray(live) || live.length !== desired.length) return path || '.';
    for (let i = 0; i < desired.length; i++) {
      const difference = firstDifference(desired[i], live[i], `${path}[${i}]`);
      if (difference !== undefined) return difference;
    }
    return undefined;
  }
  if (isPlainObject(desired)) {
    if (!isPlainObject(live)) return path || '.';
    for (const [key, value] of Object.entries(desired)) {
      if (value === undefined) continue;
      const difference = firstDifference(value, live[key], `${path}.${key}`);
      if (difference !== undefined) return difference;
    }
    return undefined;
  }
  return Object.is(desired, live) ? undefined : path || '.';
}

function isEmptyValue(value: unknown): boolean {
  if (value === null) return true;
  if (Array.isArray(value)) return value.length === 0;
  return isPlainObject(value) && Object.values(value).every((member) => member === undefined);
}

/** Managers other than ours that own fields of the object itself beyond metadata (not its status). */
export function foreignManagers(live: LiveObject, fieldManager: string): string[] {
  const managers = new Set<string>();
  for (const entry of live.metadata.managedFields ?? []) {
    if (entry.manager === undefined || entry.manager === fieldManager || entry.subresource === 'status') continue;
    const topLevel = Object.keys(entry.fieldsV1 ?? {});
    if (topLevel.some((field) => field !== 'f:metadata' && field !== 'f:status' && field !== '.')) {
      managers.add(entry.manager);
    }
  }
  return [...managers];
}

export type Freshness = { upToDate: true } | { upToDate: false; why: string };

/** Whether applying `desired` (already carrying its hash annotation) could change `live`. */
export function freshness(desired: DesiredObject, live: LiveObject, fieldManager: string): Freshness {
  if (live.metadata.deletionTimestamp !== undefined) return { upToDate: false, why: 'the live object is being deleted' };
  const wanted = desired.metadata.annotations?.[DESIRED_HASH_ANNOTATION];
  const applied = live.metadata.annotations?.[DESIRED_HASH_ANNOTATION];
  if (wanted === undefined || wanted !== applied) return { upToDate: false, why: 'the desired object changed' };
  // The cache holds ConfigMap values as digests (kube/slim.ts): compare digests on both sides.
  const difference = desired.kind === 'ConfigMap' ? firstDifference(withDigestedData(desired), withDigestedData(live)) : firstDifference(desired, live);
  if (difference !== undefined) return { upToDate: false, why: `the live object differs at ${difference}` };
  const others = foreignManagers(live, fieldManager);
  if (others.length > 0) return { upToDate: false, why: `fields are managed by ${others.join(', ')}` };
  return { upToDate: true };
}
