// Wires the real parts from the configuration and serves the app over HTTP with @hono/node-server.
// Shutdown is graceful: /readyz turns 503, the listener closes, requests in flight get to finish
// (up to the configured time), idle keep-alive connections are closed at once.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { createApp, type CachedAnswer, type SmsApp } from './app.ts';
import { createCache } from './cache.ts';
import type { AppConfig } from './config.ts';
import type { Logger } from './logging.ts';
import { createMetrics, type AppMetrics } from './metrics.ts';
import { createModelClient } from './model-client.ts';

export interface AssembledApp extends SmsApp {
  metrics: AppMetrics;
}

export interface AssembleOptions {
  logger: Logger;
  /** Process metrics on /metrics; tests that build many apps in one process turn them off. */
  processMetrics?: boolean;
}

export function assembleApp(config: AppConfig, { logger, processMetrics = true }: AssembleOptions): AssembledApp {
  const metrics = createMetrics({ version: config.appVersion, processMetrics });
  const modelClient = createModelClient({ baseUrl: config.modelUrl, timeoutMs: config.modelTimeoutMs, onCall: metrics.modelCalled });
  const cache = createCache<CachedAnswer>(config.cache);
  return { ...createApp({ appVersion: config.appVersion, modelClient, cache, metrics, logger }), metrics };
}

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  /** Graceful stop; resolves once every request in flight was answered or the time ran out. */
  close(): Promise<void>;
}

export interface ServerOptions {
  port: number;
  /** Interface to listen on; by default all of them, IPv6 and IPv4 where the host has both. */
  host?: string;
  shutdownTimeoutMs: number;
  logger: Logger;
}

export async function startServer(app: SmsApp, { port, host, shutdownTimeoutMs, logger }: ServerOptions): Promise<RunningServer> {
  const server = await new Promise<Server>((resolve, reject) => {
    const fetch = (request: Request, env: unknown) => app.app.fetch(request, env);
    const created = serve(host === undefined ? { fetch, port } : { fetch, port, hostname: host }, () => resolve(created)) as Server;
    created.once('error', reject);
  });
  // Node's default is 5 s; a longer idle time makes it rare that the sidecar proxy sends a request on
  // a connection the app is closing at that moment.
  server.keepAliveTimeout = 65_000;
  const address = server.address() as AddressInfo;
  const url = `http://${host === undefined || host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host}:${address.port}`;

  let closing: Promise<void> | undefined;
  return {
    url,
    port: address.port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        app.markShuttingDown();
        const forceTimer = setTimeout(() => {
          logger.warn({ shutdownTimeoutMs }, 'Closed connections that were still busy at the shutdown deadline');
          server.closeAllConnections();
        }, shutdownTimeoutMs);
        server.close(() => {
          clearTimeout(forceTimer);
          resolve();
        });
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}
