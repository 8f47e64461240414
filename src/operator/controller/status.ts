// The experiment's status as one pass assembles it: what traffic is in effect, which objects exist,
// and how the failures of a pass read as one condition. Pure functions of what the pass saw.
import { z } from 'zod';
import { smsExperimentStatusSchema, type Mode, type SmsExperimentStatus } from '../../crd/schema.ts';
import type { TrafficPlan } from '../render/index.ts';
import type { ObjectWriteError, OwnershipConflictError } from '../apply/applier.ts';
import { objectKey, refOf, type DesiredObject } from '../kube/objects.ts';
import { Reason, type ReconcileFailure } from './conditions.ts';

/** Failure messages joined into one condition message, at most; the rest are counted. */
const MAX_FAILURES_IN_MESSAGE = 3;

export type TrafficStatus = Pick<SmsExperimentStatus, 'mode' | 'weights' | 'mirrorPercent'>;

/** The traffic split the applied routing puts in effect (the plan, which may hold some back). */
export function trafficInEffect(mode: Mode, plan: TrafficPlan): TrafficStatus {
  // Shadow: users only reach stable (the plan says 100/0), and the shadow model gets the mirrored share.
  return { mode, weights: { ...plan.weights }, mirrorPercent: mode === 'canary' ? 0 : plan.mirrorPercent };
}

/** After a failed pass the previous traffic is still what is in effect (the new may not be). */
export function previousTraffic(previous: SmsExperimentStatus | undefined): TrafficStatus {
  return { mode: previous?.mode, weights: previous?.weights, mirrorPercent: previous?.mirrorPercent };
}

/**
 * The desired objects that exist after this pass. After a failure, objects the previous status
 * listed and prune did not get to remove are still there, so they stay listed.
 */
export function ownedObjectsAfter(
  namespace: string,
  desired: readonly DesiredObject[],
  applied: ReadonlySet<string>,
  leftOver: SmsExperimentStatus['ownedObjects'],
): NonNullable<SmsExperimentStatus['ownedObjects']> {
  const owned = desired.map(refOf).filter((ref) => applied.has(objectKey(ref)));
  const desiredKeys = new Set(desired.map((object) => objectKey(refOf(object))));
  const stale = (leftOver ?? []).filter((object) => !desiredKeys.has(objectKey({ ...object, namespace })));
  return [...owned.map(({ apiVersion, kind, name }) => ({ apiVersion, kind, name })), ...stale];
}

/** The status of an experiment whose cached copy failed to parse, read loosely from the raw object. */
export function previousStatusOf(raw: unknown): SmsExperimentStatus | undefined {
  const parsed = z.looseObject({ status: smsExperimentStatusSchema.optional() }).safeParse(raw);
  return parsed.success ? parsed.data.status : undefined;
}

/** The failures of one pass as one condition: the most actionable reason, the first few messages. */
export function summarizeFailures(failures: ReadonlyArray<OwnershipConflictError | ObjectWriteError>): ReconcileFailure | undefined {
  const [first] = failures;
  if (!first) return undefined;
  // One reason for the condition: an ownership conflict needs a person, so it outranks the others.
  const reason = failures.find((failure) => failure.reason === Reason.OwnershipConflict)?.reason ?? first.reason;
  const messages = failures.slice(0, MAX_FAILURES_IN_MESSAGE).map((failure) => failure.message);
  const more = failures.length - messages.length;
  return { reason, message: messages.join('; ') + (more > 0 ? `; and ${more} more` : '') };
}

/** The conditions the analysis loop writes (with a field manager of its own). */
export const ANALYSIS_CONDITION = 'Analysed';
export const PROMOTED_CONDITION = 'Promoted';
export const ROLLED_BACK_CONDITION = 'RolledBack';
const LOOP_CONDITIONS: ReadonlySet<string> = new Set([ANALYSIS_CONDITION, PROMOTED_CONDITION, ROLLED_BACK_CONDITION]);

/**
 * The part of a stored status the reconciler writes: without status.analysis, status.progression
 * and the loop's conditions, which the analysis loop owns. Comparing only its own part keeps a pass
 * that changes nothing from writing.
 */
export function reconcilerPart(status: SmsExperimentStatus | undefined): SmsExperimentStatus | undefined {
  if (status === undefined) return undefined;
  const { analysis: _analysis, progression: _progression, ...own } = status;
  return own.conditions === undefined ? own : { ...own, conditions: own.conditions.filter((condition) => !LOOP_CONDITIONS.has(condition.type)) };
}
