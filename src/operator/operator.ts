// The running operator: every module of src/operator wired together in the start-up order of
// docs/operator-design.md. main.ts owns the process (flags, signals, exit codes); this file owns the
// controller, so that anything embedding the operator gets the same start and the same shutdown.
import type { AddressInfo } from 'node:net';
import type { KubeConfig } from '@kubernetes/client-node';
import { smsExperimentSchema, type SmsExperiment } from '../crd/schema.ts';
import { createApplier, type LiveObjectReader } from './apply/applier.ts';
import type { OperatorConfig } from './config.ts';
import { experimentKey, keysOfExperiment, keysOfOwner, ownedResourceTypes, SMS_EXPERIMENT } from './controller/experiment.ts';
import { describeMissingCrds, describeUnservedApis, findMissingCrds, findUnservedApis, usedResourceTypes } from './controller/preflight.ts';
import { createReconciler } from './controller/reconciler.ts';
import { createKubeClient, type KubeClient } from './kube/client.ts';
import { withRequestCounting } from './kube/counting-client.ts';
import { liveObjectSchema, type LiveObject } from './kube/objects.ts';
import { CONFIG_MAP, POD, type ResourceType } from './kube/resources.ts';
import { slimConfigMap, slimManagedFields, slimPod, slimToOwnership } from './kube/slim.ts';
import { createAnalysisLoop } from './controller/analysis-loop.ts';
import { createPrometheusClient } from './prometheus/client.ts';
import { EXPERIMENT_LABEL, renderPlan } from './render/index.ts';
import { systemClock, type CancelTimer, type Clock } from './runtime/clock.ts';
import { createEventRecorder } from './runtime/events.ts';
import { createHealthServer } from './runtime/health-server.ts';
import {
  clientNodeInformerFactory,
  InformerSet,
  metadataOnlyInformerFactory,
  ResourceInformer,
  startPeriodicResync,
  type InformerFactory,
  type LiveMetadata,
  type ResourceInformerOptions,
} from './runtime/informers.ts';
import { LeaderElector } from './runtime/leader-election.ts';
import type { Logger } from './runtime/logging.ts';
import { createMetrics } from './runtime/metrics.ts';
import { WorkQueue } from './runtime/work-queue.ts';
import { OwnWrites } from './runtime/own-writes.ts';

/** The `reportingController` of the operator's Events. */
export const REPORTING_CONTROLLER = 'experiments.sms-app.io/sms-experiment-operator';

/**
 * Exit codes of the process (main.ts exits with them): 1 start-up failed or leadership lost, 2 invalid
 * configuration, 3 a watch had not listed its objects within --cache-sync-timeout.
 */
export const EXIT_CODES = { startupFailed: 1, leadershipLost: 1, invalidConfig: 2, cacheSyncTimeout: 3 } as const;

/** Start-up failed for a reason a person must fix (missing CRDs, unreachable API server). */
export class StartupError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StartupError';
  }
}

export interface RunningOperator {
  /** Where /metrics, /healthz and /readyz are served. */
  readonly address: AddressInfo;
  /**
   * Resolves with an exit code when the operator ends by itself. Leadership lost (1): the process
   * should exit at once, without stop(), since another replica may already lead. Cache sync timeout
   * (3): the operator has already stopped (and released the Lease); the process should exit.
   */
  readonly ended: Promise<number>;
  /** Graceful shutdown: running reconciles finish, the Lease is released, watches and server close. */
  stop(): Promise<void>;
}

export interface StartOptions {
  config: OperatorConfig;
  logger: Logger;
  kubeConfig: KubeConfig;
  clock?: Clock;
  /** Replaceable in tests; client-node's ListWatch by default. */
  makeInformer?: InformerFactory;
}

const SYNC_POLL_MS = 100;

export async function startOperator({ config, logger, kubeConfig, clock = systemClock, makeInformer }: StartOptions): Promise<RunningOperator> {
  const metrics = createMetrics();
  const client: KubeClient = withRequestCounting(createKubeClient(kubeConfig), (verb, resource, code) => metrics.countApiRequest(verb, resource, code));

  const monitoring = await checkCrds(client, config, logger);
  await checkServedApis(client, config, monitoring);
  const ownedTypes = ownedResourceTypes({ monitoring });

  // Keys arriving before the workers run are dropped: starting workers enqueues every experiment.
  let queue: WorkQueue | undefined;
  const enqueue = (key: string) => queue?.add(key);
  // Passes that only check (start-up, resync, after an outage) wait behind keys something changed.
  const enqueueInBackground = (key: string) => queue?.add(key, { background: true });
  // The reconciler's own writes: their watch events are cached without a pass of their own.
  const ownWrites = new OwnWrites();
  const isOwnWrite = (type: ResourceType) => (metadata: LiveMetadata) => ownWrites.isEcho(type.kind, metadata);
  const informerFactory = makeInformer ?? clientNodeInformerFactory(kubeConfig);
  const watchedNamespaces = config.namespaces === 'all' ? [undefined] : config.namespaces;
  const common = {
    client,
    makeInformer: informerFactory,
    logger,
    clock,
    enqueue,
    onRestart: (kind: string) => metrics.informerRestarted(kind),
    // Keys that backed off while the API server was away run now, not at their next retry.
    onRecovered: () => enqueueAll(),
  };

  const experiments = new InformerSet<SmsExperiment>(
    watchedNamespaces.map(
      (namespace) =>
        new ResourceInformer<SmsExperiment>({
          ...common,
          type: SMS_EXPERIMENT,
          namespace,
          schema: smsExperimentSchema,
          // The schema applies defaults, so the cache holds zod's copy: the received object is
          // then only the ListWatch's bookkeeping and shrinks to its identity (unless invalid:
          // the reconciler reads the status of an invalid experiment from it).
          slim: slimManagedFields,
          releaseAfterParse: true,
          // The reconciler's status writes; the analysis loop writes through an applier of its own,
          // whose writes (status.progression sets the weights) must reach the reconciler.
          isOwnWrite: isOwnWrite(SMS_EXPERIMENT),
          keysOf: keysOfExperiment,
        }),
    ),
  );
  const experimentKeys = (namespace?: string): string[] => {
    const keys: string[] = [];
    for (const informer of experiments.informers) {
      for (const entry of informer.entries()) {
        if (namespace === undefined || entry.metadata.namespace === namespace) keys.push(experimentKey(entry.metadata));
      }
    }
    return keys;
  };
  const enqueueAll = () => {
    for (const key of experimentKeys()) enqueueInBackground(key);
  };

  // One informer per owned kind and watched namespace, each kind's options from `optionsOf`.
  const perOwnedKind = (optionsOf: (type: ResourceType) => Omit<ResourceInformerOptions<LiveObject>, 'type' | 'namespace'>) =>
    new InformerSet<LiveObject>(
      ownedTypes.flatMap((type) => watchedNamespaces.map((namespace) => new ResourceInformer<LiveObject>({ ...optionsOf(type), type, namespace }))),
    );
  // Label-selected: only objects an experiment owns are cached whole. A foreign object with a
  // desired name is caught by the unlabelled watch below.
  const owned = perOwnedKind((type) => ({
    ...common,
    labelSelector: EXPERIMENT_LABEL,
    indexLabel: EXPERIMENT_LABEL,
    isOwnWrite: isOwnWrite(type),
    schema: liveObjectSchema,
    cacheReceivedObjects: true,
    // The no-op check reads whole objects, but of managedFields only who manages which
    // top-level field, and of ConfigMap values only their digests.
    slim: type.kind === CONFIG_MAP.kind ? slimConfigMap : slimManagedFields,
    keysOf: keysOfOwner,
  }));
  // Every other object of the owned kinds (no experiment label), metadata only and reduced to who
  // controls and manages it: with both watches a cache miss means the object does not exist, so a
  // create needs no GET first, and a foreign object is still refused before anything is written.
  // Nothing here is ours, so its events enqueue nothing.
  const metadataInformerFactory = makeInformer ?? metadataOnlyInformerFactory(kubeConfig);
  const unlabelled = perOwnedKind(() => ({
    ...common,
    makeInformer: metadataInformerFactory,
    labelSelector: `!${EXPERIMENT_LABEL}`,
    metadataOnly: true,
    schema: liveObjectSchema,
    cacheReceivedObjects: true,
    slim: slimToOwnership,
    keysOf: () => undefined,
  }));
  // The experiments' pods (by the experiment label their templates carry): sidecar injection is
  // judged on them, and a pod that gains or loses its sidecar re-evaluates its experiment.
  const pods = new InformerSet<LiveObject>(
    watchedNamespaces.map(
      (namespace) =>
        new ResourceInformer<LiveObject>({
          ...common,
          type: POD,
          namespace,
          labelSelector: EXPERIMENT_LABEL,
          indexLabel: EXPERIMENT_LABEL,
          schema: liveObjectSchema,
          cacheReceivedObjects: true,
          // Only the metadata and the container names are read (the sidecar check).
          slim: slimPod,
          keysOf: keysOfOwner,
        }),
    ),
  );
  const allInformers = new InformerSet<unknown>([...experiments.informers, ...owned.informers, ...unlabelled.informers, ...pods.informers]);

  let syncTimedOut = false;
  const syncBound = formatDuration(config.cacheSyncTimeoutMs);
  const server = createHealthServer({
    registry: metrics.registry,
    logger,
    readiness: () => ({
      ready: allInformers.hasSynced(),
      ...(syncTimedOut ? { problem: `caches did not sync within ${syncBound} (--cache-sync-timeout)` } : {}),
      waitingFor: allInformers.unsynced(),
    }),
  });
  const address = await server.listen(config.metrics.port, config.metrics.bindAddress);
  logger.info({ address: address.address, port: address.port }, 'Serving metrics and probes');

  // Every replica watches, so a standby takes over with warm caches.
  allInformers.start();

  const recorder = createEventRecorder({
    client,
    reportingController: REPORTING_CONTROLLER,
    reportingInstance: config.leaderElection.identity.slice(0, 128),
    logger,
    clock,
  });
  const ownedObjects = experimentObjects(owned);
  const applier = createApplier({
    client,
    cache: ownedObjects,
    unlabelled,
    fieldManager: config.fieldManager,
    onWritten: (kind, written) => ownWrites.record(kind, written),
  });
  const reconcile = createReconciler({
    experiments: {
      lookup: (namespace, name) => experiments.lookup(SMS_EXPERIMENT, namespace, name),
      *all() {
        for (const informer of experiments.informers) yield* informer.entries();
      },
    },
    liveObjects: ownedObjects,
    pods: experimentObjects(pods),
    applier,
    recorder,
    metrics,
    clock,
    logger,
    // The operator's monitoring flags are render options: the renderer stays pure.
    render: (experiment, options) => renderPlan(experiment, { ...options, monitoringDefaults: config.monitoringDefaults }),
    monitoring,
    allowSharedHosts: config.allowSharedHosts,
    ownedTypes,
    onDeleted: (key) => queue?.forget(key),
  });

  // The time-driven analysis (only with --prometheus-url): its own field manager for its part of the status.
  const { prometheusUrl } = config.analysis;
  const analysisLoop =
    prometheusUrl === undefined
      ? undefined
      : createAnalysisLoop({
          experiments: function* () {
            for (const informer of experiments.informers) yield* informer.entries();
          },
          prometheus: createPrometheusClient({ baseUrl: prometheusUrl }),
          writer: createApplier({ client, cache: ownedObjects, fieldManager: `${config.fieldManager}-analysis` }),
          recorder,
          metrics,
          clock,
          logger,
          intervalMs: config.analysis.intervalMs,
          prometheusUrl,
        });

  let stopping = false;
  let stopResync: CancelTimer = () => undefined;
  let cancelSyncTimeout: CancelTimer = () => undefined;
  let resolveEnded: (code: number) => void = () => undefined;
  const ended = new Promise<number>((resolve) => (resolveEnded = resolve));

  const startWorkers = async () => {
    while (!allInformers.hasSynced()) {
      if (stopping) return;
      await new Promise((resolve) => clock.setTimeout(() => resolve(undefined), SYNC_POLL_MS));
    }
    if (stopping || queue) return;
    const workQueue = new WorkQueue({
      process: reconcile,
      concurrency: config.concurrency,
      clock,
      // The reconciler already logged the failure where it happened, with the experiment's key.
      onFailure: (key, error, retryInMs) => logger.debug({ key, err: error, retryInMs }, 'Scheduled retry'),
    });
    queue = workQueue;
    metrics.trackQueueDepth(() => workQueue.depth);
    const keys = experimentKeys();
    logger.info({ experiments: keys.length, concurrency: config.concurrency }, 'Started workers');
    for (const key of keys) workQueue.add(key, { background: true });
    stopResync = startPeriodicResync({ periodMs: config.resyncPeriodMs, keys: () => experimentKeys(), enqueue: enqueueInBackground, clock });
    if (analysisLoop) {
      analysisLoop.start();
      logger.info({ prometheus: prometheusUrl, intervalMs: config.analysis.intervalMs }, 'Started the analysis');
    }
  };

  const { leaderElection } = config;
  const elector = leaderElection.enabled
    ? new LeaderElector({
        client,
        namespace: leaderElection.leaseNamespace,
        name: leaderElection.leaseName,
        identity: leaderElection.identity,
        leaseDurationMs: leaderElection.leaseDurationMs,
        renewIntervalMs: leaderElection.renewIntervalMs,
        logger,
        clock,
        renewDeadlineMs: leaderElection.renewDeadlineMs,
        onStartedLeading: () => {
          metrics.setLeading(true);
          void startWorkers();
        },
        onStoppedLeading: () => {
          // Another replica may reconcile soon: take no more work at once; a restart re-joins as a candidate.
          stopping = true;
          metrics.setLeading(false);
          stopResync();
          void queue?.shutdown();
          resolveEnded(EXIT_CODES.leadershipLost);
        },
      })
    : undefined;
  if (elector) elector.start();
  else {
    metrics.setLeading(true);
    void startWorkers();
  }

  let stopped: Promise<void> | undefined;
  const shutdown = async (code: number) => {
    stopping = true;
    cancelSyncTimeout();
    metrics.setLeading(false);
    stopResync();
    await analysisLoop?.stop();
    await queue?.shutdown();
    await recorder.flush();
    await elector?.stop();
    await allInformers.stop();
    await server.close();
    logger.info('Stopped operator');
    resolveEnded(code);
  };
  const stop = (code = 0) => (stopped ??= shutdown(code));

  // A watch whose list keeps failing (RBAC without list, a kind the server stopped serving) would
  // otherwise leave the operator waiting forever with nothing but a warn line: after the bound it
  // says which watch and why, at error level, and ends (controller-runtime's CacheSyncTimeout).
  cancelSyncTimeout = clock.setTimeout(() => {
    const unsynced = allInformers.unsyncedWatches();
    if (unsynced.length === 0 || stopping) return;
    syncTimedOut = true;
    logger.error({ cacheSyncTimeout: syncBound, unsynced }, 'Failed to sync caches in time');
    void stop(EXIT_CODES.cacheSyncTimeout);
  }, config.cacheSyncTimeoutMs);

  return {
    address,
    ended,
    stop: () => stop(),
  };
}

/** A duration as the flags write it: "2m", "5s", "1500ms". */
function formatDuration(ms: number): string {
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1_000 === 0) return `${ms / 1_000}s`;
  return `${ms}ms`;
}

/** Fails fast naming each group/version the cluster does not serve and what to install. */
async function checkServedApis(client: KubeClient, config: OperatorConfig, monitoring: boolean): Promise<void> {
  let unserved;
  try {
    unserved = await findUnservedApis(client, usedResourceTypes({ leaderElection: config.leaderElection.enabled, monitoring }));
  } catch (error) {
    throw new StartupError(`Cannot start: API discovery failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const problem = describeUnservedApis(unserved);
  if (problem !== undefined) throw new StartupError(problem);
}

/** Fails fast with the CRD names to install; returns whether monitoring objects are rendered. */
async function checkCrds(client: KubeClient, config: OperatorConfig, logger: Logger): Promise<boolean> {
  let missing;
  try {
    missing = await findMissingCrds(client);
  } catch (error) {
    throw new StartupError(`Cannot start: failed to read the CRDs from the API server: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
  const problem = describeMissingCrds(missing, { skipMonitoring: config.skipMonitoring });
  if (problem !== undefined) throw new StartupError(problem);
  if (config.skipMonitoring) {
    logger.warn({ missingCrds: missing.monitoring }, 'Skipped monitoring objects for every experiment (--skip-monitoring)');
  }
  return !config.skipMonitoring;
}

/** An informer set indexed by the experiment label, read as one experiment's objects. */
function experimentObjects(set: InformerSet<LiveObject>): LiveObjectReader {
  return {
    get: (type, namespace, name) => set.get(type, namespace, name),
    listOfExperiment: (type, namespace, experiment) => set.listByLabel(type, namespace, experiment),
  };
}
