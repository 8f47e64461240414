// reconcile(key): one level-triggered pass over one SmsExperiment. It never asks why it runs: it
// reads the experiment from the cache, renders the whole desired state, applies what differs, prunes
// what is no longer desired, and writes /status only when the status it computes differs from the
// one stored. Every collaborator is injected, so the decisions are unit-tested without a cluster.
import { z } from 'zod';
import { API_VERSION, KIND, smsExperimentStatusSchema, type SmsExperiment, type SmsExperimentStatus } from '../../crd/schema.ts';
import { ObjectWriteError, OwnershipConflictError, type Applier, type ApplyReport, type LiveObjectReader } from '../apply/applier.ts';
import type { Clock } from '../runtime/clock.ts';
import {
  computeConditions,
  conditionTransitions,
  Reason,
  sidecarInjectionOf,
  statusEqual,
  type DeploymentReadiness,
  type ReconcileFailure,
} from './conditions.ts';
import type { EventRecorder, EventSubject } from '../runtime/events.ts';
import type { CacheEntry } from '../runtime/informers.ts';
import { experimentLogger, type Logger } from '../runtime/logging.ts';
import type { OperatorMetrics, ReconcileResult } from '../runtime/metrics.ts';
import { describeObject, isControlledBy, parseExperimentKey, refOf, type DesiredObject, type ExperimentRef, type ObjectRef } from '../kube/objects.ts';
import { COMPONENT_LABEL, RenderError, ROLE_LABEL, VERSION_LABEL } from '../render/index.ts';
import { typeKey, type ResourceType } from '../kube/resources.ts';
import type { ProcessResult } from '../runtime/work-queue.ts';

/** How long to wait for garbage collection of a deleted experiment's children before retrying. */
export const PREVIOUS_INCARNATION_RETRY_MS = 1_000;
/** Failure messages joined into one condition message, at most; the rest are counted. */
const MAX_FAILURES_IN_MESSAGE = 3;

export interface ReconcilerOptions {
  experiments: { lookup(namespace: string, name: string): CacheEntry<SmsExperiment> | undefined };
  /** The owned kinds' caches: Deployments for readiness, and what the applier and prune read. */
  liveObjects: LiveObjectReader;
  /** Labels of a namespace; undefined when the namespace is not (yet) in the cache. */
  namespaceLabels: (namespace: string) => Readonly<Record<string, string>> | undefined;
  applier: Applier;
  recorder: EventRecorder;
  metrics: Pick<OperatorMetrics, 'observeReconcile'>;
  clock: Clock;
  logger: Logger;
  render: (experiment: SmsExperiment, options: { monitoring: boolean }) => readonly DesiredObject[];
  /** False when the operator runs with --skip-monitoring. */
  monitoring: boolean;
  /** The owned kinds prune looks at (ownedResourceTypes({monitoring})). */
  ownedTypes: readonly ResourceType[];
  /** The experiment is gone: drop its backoff state (garbage collection removes its children). */
  onDeleted: (key: string) => void;
}

/** A reconcile that ended with failures; the queue retries it with backoff. */
export class ReconcileError extends Error {
  readonly reason: string;

  constructor(failure: ReconcileFailure, options?: { cause?: unknown }) {
    super(failure.message, options);
    this.name = 'ReconcileError';
    this.reason = failure.reason;
  }
}

/** The status write itself failed: no condition can say so, the log, metric and retry do. */
const STATUS_WRITE_FAILED = 'StatusWriteFailed';

type Outcome = { result: ReconcileResult; reason?: string; requeueAfterMs?: number; error?: Error };

/**
 * The status this process last wrote, per key. Until the watch delivers that write, the cache holds
 * an older status (and may still deliver intermediate versions); comparing against it would write
 * the same change, and log the same transitions, a second time. The operator is the status's only
 * writer, so what it wrote last is the truth until the cache shows it, or until WRITTEN_STATUS_TTL_MS
 * has passed (the watch surely delivered by then, and a status edited by hand gets repaired).
 */
type WrittenStatuses = Map<string, { uid: string; status: SmsExperimentStatus; writtenAt: number }>;
const WRITTEN_STATUS_TTL_MS = 10_000;

export function createReconciler(options: ReconcilerOptions): (key: string) => Promise<ProcessResult> {
  const { metrics } = options;
  const written: WrittenStatuses = new Map();
  return async function reconcile(key) {
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1_000;
    let outcome: Outcome;
    try {
      outcome = await reconcileOnce(options, written, key);
    } catch (error) {
      metrics.observeReconcile('error', seconds(), error instanceof ReconcileError ? error.reason : 'Unknown');
      throw error;
    }
    metrics.observeReconcile(outcome.result, seconds(), outcome.reason);
    if (outcome.error) throw outcome.error;
    return outcome.requeueAfterMs === undefined ? undefined : { requeueAfterMs: outcome.requeueAfterMs };
  };
}

async function reconcileOnce(options: ReconcilerOptions, written: WrittenStatuses, key: string): Promise<Outcome> {
  const { experiments, applier, render, monitoring } = options;
  const { namespace, name } = parseExperimentKey(key);
  const log = experimentLogger(options.logger, { namespace, name });

  const entry = experiments.lookup(namespace, name);
  if (!entry) {
    written.delete(key);
    options.onDeleted(key);
    log.debug('Skipped deleted experiment');
    return { result: 'success' };
  }
  // Garbage collection is removing it (foreground deletion); nothing to keep in sync any more.
  if (entry.metadata.deletionTimestamp !== undefined) return { result: 'success' };

  const subject: EventSubject = { namespace, name, uid: entry.metadata.uid ?? '', resourceVersion: entry.metadata.resourceVersion };
  const generation = entry.metadata.generation ?? 0;
  const context: PassContext = { options, log, subject, generation, key, written };
  const stored = (cached: SmsExperimentStatus | undefined): SmsExperimentStatus | undefined => {
    const memo = written.get(key);
    if (!memo) return cached;
    // A recreated experiment (same name, new uid) starts from its own status.
    if (memo.uid !== subject.uid || statusEqual(cached, memo.status) || options.clock.now() - memo.writtenAt >= WRITTEN_STATUS_TTL_MS) {
      written.delete(key);
      return cached;
    }
    return memo.status;
  };

  if (!entry.valid) return invalidSpec(context, stored(previousStatusOf(entry.raw)), entry.error);
  const experiment = entry.object;
  let desired: readonly DesiredObject[];
  try {
    desired = render(experiment, { monitoring });
  } catch (error) {
    if (error instanceof RenderError) return invalidSpec(context, stored(experiment.status), error.message);
    throw error;
  }

  const owner: ExperimentRef = { namespace, name, uid: subject.uid };
  const { reports, failures } = await applier.applyAll(desired, owner);
  logApplied(log, reports);
  let pruned: ObjectRef[] = [];
  // Only after every apply succeeded: a mode switch must never remove the old routing before the new exists.
  if (failures.length === 0) {
    try {
      pruned = await applier.prune(owner, desired.map(refOf), options.ownedTypes);
    } catch (error) {
      // prune only throws ObjectWriteError; anything else is a bug, reported against the experiment.
      failures.push(error instanceof ObjectWriteError ? error : new ObjectWriteError('PruneFailed', { apiVersion: API_VERSION, kind: KIND, namespace, name }, error));
    }
  }
  if (pruned.length > 0) log.info({ objects: pruned.map(describeObject) }, 'Pruned objects');

  if (failures.length > 0 && failures.every((failure) => failure instanceof OwnershipConflictError && failure.previousIncarnation)) {
    // The experiment was deleted and created again; GC is still removing the old one's children.
    log.info({ objects: failures.map((failure) => describeObject(failure.object)) }, 'Waited for garbage collection of the previous experiment');
    return { result: 'requeue', requeueAfterMs: PREVIOUS_INCARNATION_RETRY_MS };
  }

  const failure = summarizeFailures(failures);
  const previous = stored(experiment.status);
  const deployments = desired.filter(isDeployment).map((deployment) => readinessOf(deployment, options.liveObjects, owner.uid));
  const conditions = computeConditions(
    previous?.conditions,
    {
      generation,
      failure,
      deployments: deployments.map((deployment) => deployment.readiness),
      sidecarInjection: sidecarInjectionOf(options.namespaceLabels(namespace)),
      monitoringSkipped: !monitoring && experiment.spec.monitoring.enabled,
    },
    options.clock.now(),
  );
  const applied = new Set(reports.map((report) => objectKey(report.object)));
  const status: SmsExperimentStatus = {
    observedGeneration: generation,
    conditions,
    // What is in effect: after a failure the previous values still are (the new ones may not be).
    ...(failure ? previousTraffic(previous) : trafficInEffect(experiment)),
    ready: readyCount(deployments),
    replicas: deployments.map((deployment) => deployment.replicas),
    ownedObjects: ownedObjectsAfter(desired, applied, failure ? previous?.ownedObjects : undefined),
  };
  // Before the status write, which fails too when the API server is what failed.
  for (const failed of failures) {
    options.recorder.warning(subject, log, { reason: failed.reason, message: failed.message, action: actionOf(failed) });
  }
  await writeStatus(context, previous, status, failure?.reason);
  if (failure) return { result: 'error', reason: failure.reason, error: new ReconcileError(failure) };
  log.debug({ created: count(reports, 'created'), configured: count(reports, 'configured'), pruned: pruned.length }, 'Reconciled experiment');
  return { result: 'success' };
}

interface PassContext {
  options: ReconcilerOptions;
  log: Logger;
  subject: EventSubject;
  generation: number;
  key: string;
  written: WrittenStatuses;
}

/**
 * A spec the API server accepted but the operator cannot use. Retrying cannot help, so this is not
 * an error for the queue: the next spec edit enqueues the experiment again.
 */
async function invalidSpec(context: PassContext, previous: SmsExperimentStatus | undefined, message: string): Promise<Outcome> {
  const { options, subject, log, generation } = context;
  const failure: ReconcileFailure = { reason: Reason.InvalidSpec, message };
  const conditions = computeConditions(
    previous?.conditions,
    { generation, failure, deployments: [], sidecarInjection: 'unknown', monitoringSkipped: false },
    options.clock.now(),
  );
  options.recorder.warning(subject, log, { reason: failure.reason, message, action: 'Render' });
  await writeStatus(context, previous, { ...previous, observedGeneration: generation, conditions }, failure.reason);
  return { result: 'error', reason: failure.reason };
}

/**
 * Writes the status if it changed, and records its condition transitions. `failureReason` names a
 * failure this pass records a Warning of its own for: transitions to it would only repeat that.
 */
async function writeStatus(
  context: PassContext,
  previous: SmsExperimentStatus | undefined,
  status: SmsExperimentStatus,
  failureReason: string | undefined,
): Promise<void> {
  const { options, subject, log } = context;
  if (statusEqual(previous, status)) return;
  try {
    const stored = await options.applier.applyStatus(subject, status);
    if (!stored) return; // deleted meanwhile: its watch event ends this key
    context.written.set(context.key, { uid: subject.uid, status, writtenAt: options.clock.now() });
  } catch (error) {
    log.warn({ err: error }, 'Failed to write status');
    throw new ReconcileError({ reason: STATUS_WRITE_FAILED, message: `Failed to write the status: ${errorMessage(error)}` }, { cause: error });
  }
  log.debug({ conditions: status.conditions?.map((c) => `${c.type}=${c.status}`), ready: status.ready }, 'Wrote status');

  // Events on transitions only, so an unchanged pass (which writes nothing) records nothing.
  for (const { type, from, to } of conditionTransitions(previous?.conditions, status.conditions ?? [])) {
    if (to.reason === failureReason) continue;
    const details = { reason: to.reason, message: `${type} is ${to.status}: ${to.message}`, fields: { condition: type, from: from ?? 'none', to: to.status } };
    if (isBadNews(type, from, to.status, to.reason)) options.recorder.warning(subject, log, details);
    else options.recorder.normal(subject, log, details);
  }
}

/**
 * A Warning for Degraded becoming True and for Ready becoming False because something failed or
 * broke; a fresh experiment whose pods are still starting is not bad news.
 */
function isBadNews(type: string, from: string | undefined, to: string, reason: string): boolean {
  if (type === 'Degraded') return to === 'True';
  if (type === 'Ready') return to === 'False' && (from === 'True' || reason !== Reason.DeploymentsNotReady);
  return false;
}

function summarizeFailures(failures: ReadonlyArray<OwnershipConflictError | ObjectWriteError>): ReconcileFailure | undefined {
  const [first] = failures;
  if (!first) return undefined;
  // One reason for the condition: an ownership conflict needs a person, so it outranks the others.
  const reason = failures.find((failure) => failure.reason === Reason.OwnershipConflict)?.reason ?? first.reason;
  const messages = failures.slice(0, MAX_FAILURES_IN_MESSAGE).map((failure) => failure.message);
  const more = failures.length - messages.length;
  return { reason, message: messages.join('; ') + (more > 0 ? `; and ${more} more` : '') };
}

function actionOf(failure: OwnershipConflictError | ObjectWriteError): string {
  return failure.reason === 'PruneFailed' ? 'Prune' : 'Apply';
}

function previousStatusOf(raw: unknown): SmsExperimentStatus | undefined {
  const parsed = z.looseObject({ status: smsExperimentStatusSchema.optional() }).safeParse(raw);
  return parsed.success ? parsed.data.status : undefined;
}

/** The traffic split the rendered routing puts in effect for the spec. */
export function trafficInEffect(experiment: SmsExperiment): Pick<SmsExperimentStatus, 'mode' | 'weights' | 'mirrorPercent'> {
  const { mode, traffic } = experiment.spec;
  return mode === 'canary'
    ? { mode, weights: { ...traffic.weights }, mirrorPercent: 0 }
    : // Shadow: users only reach stable, and the shadow model gets the mirrored share.
      { mode, weights: { stable: 100, canary: 0 }, mirrorPercent: traffic.mirrorPercent };
}

function previousTraffic(previous: SmsExperimentStatus | undefined): Pick<SmsExperimentStatus, 'mode' | 'weights' | 'mirrorPercent'> {
  return { mode: previous?.mode, weights: previous?.weights, mirrorPercent: previous?.mirrorPercent };
}

/**
 * The desired objects that exist after this pass. After a failure, objects the previous status
 * listed and prune did not get to remove are still there, so they stay listed.
 */
function ownedObjectsAfter(
  desired: readonly DesiredObject[],
  applied: ReadonlySet<string>,
  leftOver: SmsExperimentStatus['ownedObjects'],
): NonNullable<SmsExperimentStatus['ownedObjects']> {
  const owned = desired.map(refOf).filter((ref) => applied.has(objectKey(ref)));
  const desiredKeys = new Set(desired.map((object) => objectKey(refOf(object))));
  const stale = (leftOver ?? []).filter((object) => !desiredKeys.has(`${typeKey(object)}/${object.name}`));
  return [...owned.map(({ apiVersion, kind, name }) => ({ apiVersion, kind, name })), ...stale];
}

function objectKey(ref: ObjectRef): string {
  return `${typeKey(ref)}/${ref.name}`;
}

// ---- Deployments ----

const deploymentStateSchema = z.looseObject({
  metadata: z.looseObject({ generation: z.number().int().optional() }),
  status: z
    .looseObject({
      observedGeneration: z.number().int().optional(),
      replicas: z.number().int().optional(),
      updatedReplicas: z.number().int().optional(),
      readyReplicas: z.number().int().optional(),
      availableReplicas: z.number().int().optional(),
    })
    .optional(),
});

const deploymentRoleSchema = z.object({
  [COMPONENT_LABEL]: z.enum(['app', 'model']),
  [ROLE_LABEL]: z.enum(['stable', 'canary', 'shadow']),
  [VERSION_LABEL]: z.string(),
});

type VersionReplicas = NonNullable<SmsExperimentStatus['replicas']>[number];

interface DeploymentState {
  readiness: DeploymentReadiness;
  replicas: VersionReplicas;
}

function isDeployment(object: DesiredObject): boolean {
  return object.apiVersion === 'apps/v1' && object.kind === 'Deployment';
}

/** Rollout facts of one desired Deployment from the cache; one owned by someone else counts as absent. */
function readinessOf(desired: DesiredObject, cache: LiveObjectReader, ownerUid: string): DeploymentState {
  const { name, namespace } = desired.metadata;
  const desiredReplicas = z.object({ spec: z.looseObject({ replicas: z.number().int().min(0) }) }).parse(desired).spec.replicas;
  // The renderer labels every Deployment with its component, role and version.
  const role = deploymentRoleSchema.parse(desired.metadata.labels ?? {});
  const live = cache.get(desired, namespace, name);
  const state = live && isControlledBy(live, ownerUid) ? deploymentStateSchema.safeParse(live) : undefined;
  const observed = state?.success ? state.data : undefined;
  return {
    readiness: {
      name,
      found: observed !== undefined,
      desiredReplicas,
      generation: observed?.metadata.generation,
      observedGeneration: observed?.status?.observedGeneration,
      replicas: observed?.status?.replicas,
      updatedReplicas: observed?.status?.updatedReplicas,
      availableReplicas: observed?.status?.availableReplicas,
    },
    replicas: {
      component: role[COMPONENT_LABEL],
      role: role[ROLE_LABEL],
      version: role[VERSION_LABEL],
      deployment: name,
      desired: desiredReplicas,
      ready: observed?.status?.readyReplicas ?? 0,
    },
  };
}

/** "<ready>/<desired>" pods over every desired Deployment: the Ready printer column. */
function readyCount(deployments: readonly DeploymentState[]): string {
  const ready = deployments.reduce((sum, { replicas }) => sum + Math.min(replicas.ready, replicas.desired), 0);
  const desired = deployments.reduce((sum, { replicas }) => sum + replicas.desired, 0);
  return `${ready}/${desired}`;
}

// ---- logging helpers ----

function logApplied(log: Logger, reports: readonly ApplyReport[]): void {
  const changed = reports.filter((report) => report.outcome !== 'unchanged');
  if (changed.length === 0) return;
  const restored = changed.filter((report) => report.tookOverFrom !== undefined);
  log.info(
    {
      created: changed.filter((report) => report.outcome === 'created').map((report) => describeObject(report.object)),
      configured: changed.filter((report) => report.outcome === 'configured').map((report) => `${describeObject(report.object)} (${report.why ?? 'changed'})`),
    },
    'Applied objects',
  );
  if (restored.length > 0) {
    log.info(
      { objects: restored.map((report) => describeObject(report.object)), managers: [...new Set(restored.flatMap((report) => report.tookOverFrom ?? []))] },
      'Restored hand-edited fields',
    );
  }
}

function count(reports: readonly ApplyReport[], outcome: ApplyReport['outcome']): number {
  return reports.filter((report) => report.outcome === outcome).length;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
