// The running service: config → model loading in the background → HTTP server. Stopping stops
// accepting connections, lets requests in flight finish (up to the grace period), then resolves.
import { serve } from '@hono/node-server';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { createModelApp } from './app.ts';
import type { ModelServiceConfig } from './config.ts';
import { loadModel } from './model-loader.ts';
import { describeUnready, type ModelState } from './model-state.ts';
import { createModelMetrics } from './service-metrics.ts';

export interface RunningService {
  port: number;
  state(): ModelState;
  /** Resolves once the model is loaded, has failed, or loading was stopped. */
  loading: Promise<void>;
  stop(): Promise<void>;
}

export async function startModelServer(config: ModelServiceConfig, logger: Logger): Promise<RunningService> {
  let state: ModelState = { status: 'loading', waitingFor: `reading ${config.artifactDirectory}` };
  const metrics = createModelMetrics();
  let stableState: ModelState = { status: 'loading', waitingFor: `reading ${config.stable?.artifactDirectory ?? ''}` };
  let draining = false;
  const app = createModelApp({
    state: () => state,
    metrics,
    shadowMode: config.shadowMode,
    logger,
    ...(config.stable === undefined ? {} : { stable: () => stableState }),
    draining: () => draining,
  });

  const server = await new Promise<Server>((resolve, reject) => {
    const created = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, () => resolve(created)) as Server;
    created.once('error', reject);
  });
  // Short keep-alive so a draining server is not held open by idle clients.
  server.keepAliveTimeout = 5_000;
  const port = (server.address() as AddressInfo).port;
  logger.info(
    { port, host: config.host, artifact: config.artifact, directory: config.artifactDirectory, shadowMode: config.shadowMode, stableArtifact: config.stable?.artifact },
    'Started model service',
  );

  const abort = new AbortController();
  const loading = loadModel({
    artifact: config.artifact,
    artifactDirectory: config.artifactDirectory,
    modelUrl: config.modelUrl,
    retryMs: config.retryMs,
    logger,
    signal: abort.signal,
    setState: (next) => {
      state = next;
    },
  }).catch((error: unknown) => {
    const problem = error instanceof Error ? error.message : String(error);
    state = { status: 'failed', problem };
    logger.error({ err: error }, `Failed to load model: ${problem}`);
  });

  // The stable artifact loads the same way, on its own; until it is there (or if it is refused) the
  // shadow serves without comparing, and /readyz, the log and a gauge say so.
  metrics.setComparisonAvailable(false);
  const stableLoading =
    config.stable === undefined
      ? Promise.resolve()
      : loadModel({
          artifact: config.stable.artifact,
          artifactDirectory: config.stable.artifactDirectory,
          modelUrl: config.modelUrl,
          retryMs: config.retryMs,
          logger: logger.child({ comparison: 'stable' }),
          signal: abort.signal,
          setState: (next) => {
            stableState = next;
          },
        }).catch((error: unknown) => {
          const problem = error instanceof Error ? error.message : String(error);
          stableState = { status: 'failed', problem };
          logger.error({ err: error, comparison: 'stable' }, `Failed to load the stable model to compare with: ${problem}`);
        });
  void Promise.all([loading, stableLoading]).then(() => {
    if (config.stable === undefined) return;
    if (state.status === 'ready' && stableState.status === 'ready') {
      metrics.prepareComparisons(state.loaded.metadata.modelVersion, stableState.loaded.metadata.modelVersion);
      metrics.setComparisonAvailable(true);
      logger.info({ version: state.loaded.metadata.modelVersion, stableVersion: stableState.loaded.metadata.modelVersion }, 'Comparing every answer with the stable model');
    } else if (stableState.status !== 'ready') {
      logger.warn({ reason: describeUnready(stableState) }, 'Serving without comparing with the stable model');
    }
  });

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= new Promise<void>((resolve) => {
      draining = true;
      abort.abort();
      const force = setTimeout(() => {
        logger.warn({ graceMs: config.shutdownGraceMs }, 'Closed connections still busy after the grace period');
        server.closeAllConnections();
      }, config.shutdownGraceMs);
      force.unref();
      // Keep-alive connections go idle as their last request finishes; close them as they do.
      const sweep = setInterval(() => server.closeIdleConnections(), 100);
      server.close(() => {
        clearTimeout(force);
        clearInterval(sweep);
        resolve();
      });
      server.closeIdleConnections();
    });
    return stopping;
  };

  return { port, state: () => state, loading, stop };
}
