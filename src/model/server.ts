// The running service: config → model loading in the background → HTTP server. Stopping stops
// accepting connections, lets requests in flight finish (up to the grace period), then resolves.
import { serve } from '@hono/node-server';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { createModelApp } from './app.ts';
import type { ModelServiceConfig } from './config.ts';
import { loadModel } from './model-loader.ts';
import type { ModelState } from './model-state.ts';
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
  let draining = false;
  const app = createModelApp({ state: () => state, metrics, shadowMode: config.shadowMode, logger, draining: () => draining });

  const server = await new Promise<Server>((resolve, reject) => {
    const created = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, () => resolve(created)) as Server;
    created.once('error', reject);
  });
  // Short keep-alive so a draining server is not held open by idle clients.
  server.keepAliveTimeout = 5_000;
  const port = (server.address() as AddressInfo).port;
  logger.info({ port, host: config.host, artifact: config.artifact, directory: config.artifactDirectory, shadowMode: config.shadowMode }, 'Started model service');

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
