// One small node:http server for /metrics, /healthz and /readyz. The routing is a plain function
// from (method, path) to a response, so tests call it without opening a port.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Logger } from './logging.ts';

export interface Readiness {
  ready: boolean;
  /** What went wrong beyond waiting, e.g. the cache sync timeout having passed. */
  problem?: string;
  /** What readiness still waits for, e.g. watches without their first sync (and their last error). */
  waitingFor?: readonly string[];
}

export interface HealthRoutesOptions {
  registry: Registry;
  /** Ready once every informer has synced; the same answer on a leader and a standby. */
  readiness: () => Readiness;
  /** Live unless something is wedged beyond self-repair; defaults to always live. */
  liveness?: () => { live: boolean; reason?: string };
}

export interface HttpResponse {
  status: number;
  contentType: string;
  body: string;
}

const TEXT = 'text/plain; charset=utf-8';

export function createHealthRoutes({ registry, readiness, liveness }: HealthRoutesOptions) {
  return async function route(method: string, url: string): Promise<HttpResponse> {
    const path = new URL(url, 'http://localhost').pathname;
    if (!['/metrics', '/healthz', '/readyz'].includes(path)) return { status: 404, contentType: TEXT, body: 'not found\n' };
    if (method !== 'GET' && method !== 'HEAD') return { status: 405, contentType: TEXT, body: 'method not allowed\n' };

    if (path === '/metrics') {
      return { status: 200, contentType: registry.contentType, body: await registry.metrics() };
    }
    if (path === '/healthz') {
      const state = liveness?.() ?? { live: true };
      return state.live
        ? { status: 200, contentType: TEXT, body: 'ok\n' }
        : { status: 503, contentType: TEXT, body: `not live: ${state.reason ?? 'unknown'}\n` };
    }
    const state = readiness();
    if (state.ready) return { status: 200, contentType: TEXT, body: 'ok\n' };
    const problem = state.problem ? `: ${state.problem}` : '';
    const waiting = state.waitingFor?.length ? `: waiting for ${state.waitingFor.join('; ')}` : '';
    return { status: 503, contentType: TEXT, body: `not ready${problem}${waiting}\n` };
  };
}

export interface HealthServer {
  /** Resolves with the bound address once listening (port 0 picks a free port). */
  listen(port: number, host: string): Promise<AddressInfo>;
  close(): Promise<void>;
}

export function createHealthServer(options: HealthRoutesOptions & { logger: Logger }): HealthServer {
  const route = createHealthRoutes(options);
  const server: Server = createServer((request, response) => {
    route(request.method ?? 'GET', request.url ?? '/').then(
      ({ status, contentType, body }) => {
        response.writeHead(status, { 'Content-Type': contentType });
        response.end(request.method === 'HEAD' ? undefined : body);
      },
      (error: unknown) => {
        options.logger.error({ err: error, path: request.url }, 'Failed to serve health request');
        response.writeHead(500, { 'Content-Type': TEXT });
        response.end('internal error\n');
      },
    );
  });
  // Scrapes and probes are short; do not let a stuck client hold the process open on shutdown.
  server.keepAliveTimeout = 5_000;

  return {
    listen(port, host) {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const address = server.address();
          if (address === null || typeof address === 'string') reject(new Error(`Unexpected server address ${String(address)}`));
          else resolve(address);
        });
      });
    },
    close() {
      return new Promise((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeIdleConnections();
      });
    },
  };
}
