// reconcile(key): one level-triggered pass over one SmsExperiment. It never asks why it runs: it
// reads the experiment from the cache, renders the whole desired state, applies what differs, prunes
// what is no longer desired, and writes /status only when the status it computes differs from the
// one stored. Every collaborator is injected, so the decisions are unit-tested without a cluster.
// The pieces it orchestrates live beside it: status.ts (assembly), readiness.ts (Deployments),
// conditions.ts (condition math), event-policy.ts (which Events), status-memory.ts (own writes).
import type { SmsExperiment, SmsExperimentStatus } from '../../crd/schema.ts';
import { ObjectWriteError, OwnershipConflictError, type Applier, type ApplyReport, type LiveObjectReader } from '../apply/applier.ts';
import { describeObject, objectKey, refOf, type DesiredObject, type ObjectRef } from '../kube/objects.ts';
import type { ResourceType } from '../kube/resources.ts';
import { RenderError, type PlannedWorkload, type RenderOptions, type RenderPlan } from '../render/index.ts';
import type { Clock } from '../runtime/clock.ts';
import type { EventRecorder, EventSubject } from '../runtime/events.ts';
import type { CacheEntry } from '../runtime/informers.ts';
import { experimentLogger, type Logger } from '../runtime/logging.ts';
import type { OperatorMetrics, ReconcileResult } from '../runtime/metrics.ts';
import type { ProcessResult } from '../runtime/work-queue.ts';
import { computeConditions, conditionTransitions, Reason, statusEqual, type ReconcileFailure } from './conditions.ts';
import { failureEvent, transitionEvents, type PlannedEvent } from './event-policy.ts';
import { experimentOwner, experimentSubject, parseExperimentKey, SMS_EXPERIMENT } from './experiment.ts';
import { deploymentStateOf, readyCount, type DeploymentState } from './readiness.ts';
import { podFailureMessage, podFailures } from './pod-failures.ts';
import { sidecarGapMessage, sidecarGaps } from './sidecars.ts';
import { gateTraffic, liveRoutingOf, retainedSubsets, type ServingVersions } from './traffic-gate.ts';
import { ownedObjectsAfter, previousStatusOf, previousTraffic, reconcilerPart, summarizeFailures, trafficInEffect } from './status.ts';
import { WrittenStatuses } from './status-memory.ts';
import { effectiveSpec } from './progression.ts';
import { claimantOf, conflictMessage, hostConflict, routedHosts } from './host-claims.ts';

/** How long to wait for garbage collection of a deleted experiment's children before retrying. */
export const PREVIOUS_INCARNATION_RETRY_MS = 1_000;
/** After this long a previous incarnation still in the way becomes a condition and an event. */
export const PREVIOUS_INCARNATION_BOUND_MS = 30_000;

export interface ReconcilerOptions {
  experiments: {
    lookup(namespace: string, name: string): CacheEntry<SmsExperiment> | undefined;
    /** Every cached experiment: the others' hosts decide a host conflict. */
    all(): Iterable<CacheEntry<SmsExperiment>>;
  };
  /** The owned kinds' caches: Deployments for readiness, and what the applier and prune read. */
  liveObjects: LiveObjectReader;
  /** The experiments' pods (label-selected), for the sidecar check. */
  pods: LiveObjectReader;
  applier: Applier;
  recorder: EventRecorder;
  metrics: Pick<OperatorMetrics, 'observeReconcile' | 'countConditionTransition' | 'setConditions' | 'forgetExperiment'>;
  clock: Clock;
  logger: Logger;
  render: (experiment: SmsExperiment, options: RenderOptions & { monitoring: boolean }) => RenderPlan;
  /** False when the operator runs with --skip-monitoring. */
  monitoring: boolean;
  /** True with --allow-shared-hosts: no HostConflict check. */
  allowSharedHosts?: boolean;
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

export function createReconciler(options: ReconcilerOptions): (key: string) => Promise<ProcessResult> {
  const { metrics } = options;
  const written = new WrittenStatuses(options.clock);
  /** When each key first waited for a previous incarnation's garbage collection (monotonic ms). */
  const waitingSince = new Map<string, number>();
  return async function reconcile(key) {
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1_000;
    let outcome: Outcome;
    try {
      outcome = await reconcileOnce(options, written, waitingSince, key);
    } catch (error) {
      metrics.observeReconcile('error', seconds(), error instanceof ReconcileError ? error.reason : 'Unknown');
      throw error;
    }
    metrics.observeReconcile(outcome.result, seconds(), outcome.reason);
    if (outcome.error) throw outcome.error;
    return outcome.requeueAfterMs === undefined ? undefined : { requeueAfterMs: outcome.requeueAfterMs };
  };
}

async function reconcileOnce(options: ReconcilerOptions, written: WrittenStatuses, waitingSince: Map<string, number>, key: string): Promise<Outcome> {
  const { experiments, applier, render, monitoring } = options;
  const { namespace, name } = parseExperimentKey(key);
  const log = experimentLogger(options.logger, { namespace, name });

  const entry = experiments.lookup(namespace, name);
  if (!entry) {
    written.forget(key);
    waitingSince.delete(key);
    options.onDeleted(key);
    options.metrics.forgetExperiment(namespace, name);
    log.debug('Skipped deleted experiment');
    return { result: 'success' };
  }
  // Garbage collection is removing it (foreground deletion); nothing to keep in sync any more.
  if (entry.metadata.deletionTimestamp !== undefined) return { result: 'success' };

  const subject = experimentSubject(entry.metadata);
  const generation = entry.metadata.generation ?? 0;
  const context: PassContext = {
    options,
    log,
    subject,
    generation,
    key,
    written,
    previousIncarnationOverdue: () => {
      const now = options.clock.monotonic();
      const since = waitingSince.get(key) ?? now;
      waitingSince.set(key, since);
      return now - since >= PREVIOUS_INCARNATION_BOUND_MS;
    },
    previousIncarnationCleared: () => waitingSince.delete(key),
  };
  // Only the reconciler's part: status.analysis and the Analysed condition are the analysis loop's.
  const stored = (cached: SmsExperimentStatus | undefined) => reconcilerPart(written.stored(key, subject.uid, cached));

  if (!entry.valid) return invalidSpec(context, stored(previousStatusOf(entry.raw)), entry.error);
  // With spec.analysis.progression the run's mode and weights (status.progression) are in effect.
  const experiment = { ...entry.object, spec: effectiveSpec(entry.object.spec, entry.object.status?.progression) };
  let plan: RenderPlan;
  try {
    plan = render(experiment, { monitoring });
  } catch (error) {
    if (error instanceof RenderError) return invalidSpec(context, stored(experiment.status), error.message);
    throw error;
  }

  const conflict = options.allowSharedHosts === true ? undefined : hostConflict(claimantOf(experiment), otherClaimants(options.experiments.all()));
  if (conflict) {
    // Nothing is applied: the other experiment's traffic stays its own, and this one keeps what it had.
    const refused = await refuse(context, stored(experiment.status), { reason: Reason.HostConflict, message: conflictMessage(conflict) }, 'Route');
    return { ...refused, requeueAfterMs: HOST_CONFLICT_RETRY_MS };
  }

  const owner = experimentOwner({ namespace, name, uid: subject.uid });
  const live = liveRoutingOf(options.liveObjects, owner);

  // Wave 1, everything but the routing: Deployments, Services, and DestinationRules that keep every
  // subset live routing still names, so no route ever points at a subset that does not exist.
  const staging = plan.objects.filter((object) => object.kind !== 'VirtualService');
  const widened = render(experiment, { monitoring, retainedSubsets: retainedSubsets(live) }).objects.filter((object) => object.kind === 'DestinationRule');
  const first = await applier.applyAll(staging.map((object) => widened.find((rule) => sameObject(rule, object)) ?? object), owner);
  const reports = [...first.reports];
  const failures = [...first.failures];

  // Readiness of this generation, from the apply responses: the cache may not hold our writes yet.
  const appliedNow = new Map(first.reports.map((report) => [objectKey(report.object), report.live]));
  const deployments = plan.workloads.map((workload) =>
    deploymentStateOf(workload, appliedNow.get(objectKey({ ...DEPLOYMENT_REF, namespace, name: workload.deployment })), options.liveObjects, owner),
  );
  const gated = gateTraffic(experiment.spec, servingVersions(plan.workloads, deployments), live);
  // What is desired now: the spec's objects with the routing this pass may put in place.
  const desired: readonly DesiredObject[] = render(experiment, { monitoring, traffic: gated.plan }).objects;
  // A route to versions that cannot answer is no better than none: a new experiment's
  // VirtualServices are created once its stable versions answer, with the split already gated, in
  // one apply instead of a held route first and the split a pass later. Once they exist they are
  // kept up to date on every pass, whatever the readiness.
  const routingDeferred =
    !stableAnswers(plan.workloads, deployments) &&
    desired.every((object) => object.kind !== 'VirtualService' || options.liveObjects.get(object, namespace, object.metadata.name) === undefined);
  if (routingDeferred) gated.held.push('routing not created yet: the stable versions have no available pods');

  let routed = false;
  let pruned: ObjectRef[] = [];
  if (failures.length === 0 && !routingDeferred) {
    // Wave 2, the routing; wave 3, DestinationRules narrowed to what it names now; then prune.
    const routing = await applier.applyAll(desired.filter((object) => object.kind === 'VirtualService'), owner);
    reports.push(...routing.reports);
    failures.push(...routing.failures);
    routed = routing.failures.length === 0;
  }
  if (routed) {
    const narrowed = await applier.applyAll(desired.filter((object) => object.kind === 'DestinationRule'), owner);
    failures.push(...narrowed.failures);
  }
  // Only after every apply succeeded: a mode switch must never remove the old routing before the new
  // exists, nor an old version's Deployment while a route still names it.
  if (failures.length === 0) {
    try {
      pruned = await applier.prune(owner, desired.map(refOf), options.ownedTypes);
    } catch (error) {
      // prune only throws ObjectWriteError; anything else is a bug, reported against the experiment.
      failures.push(error instanceof ObjectWriteError ? error : new ObjectWriteError('PruneFailed', { apiVersion: owner.apiVersion, kind: owner.kind, namespace, name }, error));
    }
  }
  logApplied(log, reports);
  if (pruned.length > 0) log.info({ objects: pruned.map(describeObject) }, 'Pruned objects');
  if (gated.held.length > 0) log.info({ held: gated.held }, 'Held traffic back until versions can answer');

  const waitingForGc = failures.length > 0 && failures.every((failure) => failure instanceof OwnershipConflictError && failure.previousIncarnation);
  if (waitingForGc && !context.previousIncarnationOverdue()) {
    // The experiment was deleted and created again; GC is still removing the old one's children.
    log.info({ objects: failures.map((failure) => describeObject(failure.object)) }, 'Waited for garbage collection of the previous experiment');
    return { result: 'requeue', requeueAfterMs: PREVIOUS_INCARNATION_RETRY_MS };
  }
  if (!waitingForGc) context.previousIncarnationCleared();

  const failure = waitingForGc ? previousIncarnationFailure(failures) : summarizeFailures(failures);
  const previous = stored(experiment.status);
  const gaps = sidecarGaps(name, namespace, plan.workloads, options.pods);
  const failing = podFailures(name, namespace, plan.workloads, options.pods);
  const conditions = computeConditions(
    previous?.conditions,
    {
      generation,
      failure,
      deployments: deployments.map((deployment) => deployment.readiness),
      held: gated.held,
      podsFailing: failing.length > 0 ? podFailureMessage(failing) : undefined,
      sidecarsMissing: gaps.length > 0 ? sidecarGapMessage(gaps) : undefined,
      monitoringSkipped: !monitoring && experiment.spec.monitoring.enabled,
    },
    options.clock.now(),
  );
  const applied = new Set(reports.map((report) => objectKey(report.object)));
  const status: SmsExperimentStatus = {
    // observedGeneration and the traffic fields describe the same thing: after a failure both stay
    // what the last good pass put in effect (the conditions carry this generation and the failure).
    observedGeneration: failure ? previous?.observedGeneration : generation,
    conditions,
    ...(routed ? trafficInEffect(experiment.spec.mode, gated.plan) : previousTraffic(previous)),
    ready: readyCount(deployments),
    replicas: deployments.map((deployment) => deployment.replicas),
    ownedObjects: ownedObjectsAfter(namespace, desired, applied, failure ? previous?.ownedObjects : undefined),
    ...claimed(routed ? routedHosts(experiment.spec) : previous?.claimedHosts),
  };
  // Before the status write, which fails too when the API server is what failed.
  if (waitingForGc) {
    if (failure) options.recorder.warning(subject, log, { reason: failure.reason, message: failure.message, action: 'Apply' });
  } else {
    for (const failed of failures) record(options.recorder, subject, log, failureEvent(failed));
  }
  await writeStatus(context, previous, status, failure?.reason);
  if (failure) return { result: 'error', reason: failure.reason, error: new ReconcileError(failure) };
  log.debug({ created: count(reports, 'created'), configured: count(reports, 'configured'), pruned: pruned.length }, 'Reconciled experiment');
  return { result: 'success' };
}

const DEPLOYMENT_REF = { apiVersion: 'apps/v1', kind: 'Deployment' } as const;

function sameObject(a: DesiredObject, b: DesiredObject): boolean {
  return a.kind === b.kind && a.metadata.name === b.metadata.name;
}

/** Every stable Deployment that should have pods has an available one (the rollout need not be complete). */
function stableAnswers(workloads: readonly PlannedWorkload[], deployments: readonly DeploymentState[]): boolean {
  return workloads.every((workload, index) => {
    const readiness = deployments[index]?.readiness;
    if (workload.role !== 'stable' || readiness === undefined || readiness.desiredReplicas === 0) return true;
    return readiness.found && (readiness.availableReplicas ?? 0) >= 1;
  });
}

/** The Deployments whose readiness gates traffic, picked by role from the plan. */
function servingVersions(workloads: readonly PlannedWorkload[], deployments: readonly DeploymentState[]): ServingVersions {
  const find = (component: 'app' | 'model', role: 'canary' | 'shadow') => {
    const index = workloads.findIndex((workload) => workload.component === component && workload.role === role);
    return index === -1 ? undefined : deployments[index]?.readiness;
  };
  return { appCanary: find('app', 'canary'), modelCanary: find('model', 'canary'), modelShadow: find('model', 'shadow') };
}

/** GC of the previous experiment did not finish within the bound: a condition and an event say so. */
function previousIncarnationFailure(failures: ReadonlyArray<OwnershipConflictError | ObjectWriteError>): ReconcileFailure {
  const objects = failures.map((failure) => describeObject(failure.object));
  return {
    reason: Reason.PreviousExperimentNotGone,
    message:
      `Objects of a deleted experiment of the same name are still being garbage-collected after ${PREVIOUS_INCARNATION_BOUND_MS / 1_000}s: ` +
      `${objects.slice(0, 3).join(', ')}${objects.length > 3 ? ` and ${objects.length - 3} more` : ''}; check the garbage collector (kube-controller-manager) and finalizers on them`,
  };
}

interface PassContext {
  options: ReconcilerOptions;
  log: Logger;
  subject: EventSubject;
  generation: number;
  key: string;
  written: WrittenStatuses;
  /** Starts or continues the wait for a previous incarnation; true once it exceeded the bound. */
  previousIncarnationOverdue: () => boolean;
  previousIncarnationCleared: () => void;
}

/** A conflicting experiment may go away at any time; its deletion does not enqueue this one. */
export const HOST_CONFLICT_RETRY_MS = 10_000;

function claimed(hosts: readonly string[] | undefined): Pick<SmsExperimentStatus, 'claimedHosts'> {
  return hosts === undefined || hosts.length === 0 ? {} : { claimedHosts: [...hosts] };
}

function* otherClaimants(entries: Iterable<CacheEntry<SmsExperiment>>) {
  for (const entry of entries) {
    if (!entry.valid || entry.metadata.deletionTimestamp !== undefined) continue;
    yield claimantOf({ ...entry.object, spec: effectiveSpec(entry.object.spec, entry.object.status?.progression) });
  }
}

/**
 * A spec the API server accepted but the operator cannot use. Retrying cannot help, so this is not
 * an error for the queue: the next spec edit enqueues the experiment again.
 */
function invalidSpec(context: PassContext, previous: SmsExperimentStatus | undefined, message: string): Promise<Outcome> {
  return refuse(context, previous, { reason: Reason.InvalidSpec, message }, 'Render');
}

/** Applies nothing: the conditions, a Warning and the log say why; the traffic in effect stays. */
async function refuse(context: PassContext, previous: SmsExperimentStatus | undefined, failure: ReconcileFailure, action: string): Promise<Outcome> {
  const { options, subject, log, generation } = context;
  const { message } = failure;
  const conditions = computeConditions(
    previous?.conditions,
    { generation, failure, deployments: [], held: [], monitoringSkipped: false },
    options.clock.now(),
  );
  options.recorder.warning(subject, log, { reason: failure.reason, message, action });
  // observedGeneration stays with the traffic still in effect: this generation was not acted on.
  await writeStatus(context, previous, { ...previous, conditions }, failure.reason);
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
  // On every pass, written or not: after a restart the status is unchanged but the gauge is new.
  options.metrics.setConditions(subject.namespace, subject.name, status.conditions ?? []);
  if (statusEqual(previous, status)) return;
  try {
    const stored = await options.applier.applyStatus(SMS_EXPERIMENT, subject, status);
    if (!stored) return; // deleted meanwhile: its watch event ends this key
    context.written.remember(context.key, subject.uid, status);
  } catch (error) {
    log.warn({ err: error }, 'Failed to write status');
    throw new ReconcileError({ reason: STATUS_WRITE_FAILED, message: `Failed to write the status: ${errorMessage(error)}` }, { cause: error });
  }
  log.debug({ conditions: status.conditions?.map((c) => `${c.type}=${c.status}`), ready: status.ready }, 'Wrote status');

  for (const { type, to } of conditionTransitions(previous?.conditions, status.conditions ?? [])) {
    options.metrics.countConditionTransition(type, to.status, to.reason);
  }
  // Events on transitions only, so an unchanged pass (which writes nothing) records nothing.
  for (const event of transitionEvents(previous, status, failureReason)) record(options.recorder, subject, log, event);
}

function record(recorder: EventRecorder, subject: EventSubject, log: Logger, event: PlannedEvent): void {
  if (event.type === 'Warning') recorder.warning(subject, log, event.details);
  else recorder.normal(subject, log, event.details);
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
