// The app's routes: the page, POST /sms, probes and metrics. Built from its parts (model client,
// cache, metrics, logger) so tests call `app.request()` without opening a port; errors of every
// route go through one mapper (onError) into a JSON body {"error": "..."}.
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { bodyLimit } from 'hono/body-limit';
import { methodNotAllowed } from 'hono/method-not-allowed';
import type { Logger } from 'pino';
import { normaliseMessage, type AnswerCache } from './cache.ts';
import type { AppMetrics } from './metrics.ts';
import { ModelResponseError, ModelUnavailableError, type ModelClient, type Prediction } from './model-client.ts';
import { ASSET_PATHS, loadPageAssets } from './page.ts';
import { contentTypeProblem, MAX_BODY_BYTES, parseSmsRequest } from './sms-request.ts';

export type CachedAnswer = Pick<Prediction, 'result' | 'spamProbability' | 'modelVersion'>;

export interface SmsAnswer extends CachedAnswer {
  appVersion: string;
  cached: boolean;
  guessCorrect?: boolean;
}

export interface AppDependencies {
  appVersion: string;
  modelClient: ModelClient;
  cache: AnswerCache<CachedAnswer>;
  metrics: AppMetrics;
  logger: Logger;
  /** Time the readiness probe gives the model's /readyz; below the pod probe's 2 s timeout. */
  readyTimeoutMs?: number;
}

export interface SmsApp {
  readonly app: Hono;
  /** From now on /readyz answers 503, so Kubernetes stops sending traffic while requests finish. */
  markShuttingDown(): void;
}

// No inline script or style anywhere: the page loads /app.js and /app.css from this origin only.
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

// On every answer, errors included. No Strict-Transport-Security: the app speaks plain HTTP inside
// the mesh, and HSTS belongs to whoever terminates TLS.
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), payment=()',
};

/**
 * Set before the handler runs, so they go out with the response as it is built. (Hono's
 * secureHeaders rewrites the finished Response instead: 8% of the app's CPU in a profile of
 * cached answers.)
 */
const securityHeaders: MiddlewareHandler = async (c, next) => {
  for (const name in SECURITY_HEADERS) c.header(name, SECURITY_HEADERS[name]);
  await next();
};

const MODEL_RETRY_AFTER_SECONDS = '5';

const tooLarge = (c: Context) => c.json({ error: `the body is larger than ${MAX_BODY_BYTES} bytes (10 kB), the most a message may be` }, 413);
const streamedBodyLimit = bodyLimit({ maxSize: MAX_BODY_BYTES, onError: tooLarge });

/**
 * A declared Content-Length is checked from the header alone, which leaves the body to
 * @hono/node-server's direct read (Hono's bodyLimit would first wrap it in a web stream, a third
 * of the cost of a cached answer); a chunked body is counted as it streams in.
 */
const limitBody: MiddlewareHandler = async (c, next) => {
  const declared = c.req.header('content-length');
  if (declared === undefined || c.req.header('transfer-encoding') !== undefined) return streamedBodyLimit(c, next);
  if (Number(declared) > MAX_BODY_BYTES) return tooLarge(c);
  await next();
};

export function createApp({ appVersion, modelClient, cache, metrics, logger, readyTimeoutMs = 1_000 }: AppDependencies): SmsApp {
  const app = new Hono();
  const assets = loadPageAssets(appVersion);
  let shuttingDown = false;

  app.use(securityHeaders);
  app.use(async (c, next) => {
    await next();
    // Answers given while shutting down close their connection, so that keep-alive clients go
    // elsewhere and the server is not held open by connections that just became idle.
    if (shuttingDown) c.header('Connection', 'close');
  });
  app.use(methodNotAllowed({ app, onMethodNotAllowed: (c, methods) => c.json({ error: `${c.req.method} is not allowed on ${c.req.path}; use ${methods.join(', ')}` }, 405, { Allow: methods.join(', ') }) }));

  for (const assetPath of ASSET_PATHS) {
    const asset = assets.get(assetPath);
    if (asset === undefined) throw new Error(`Page asset ${assetPath} was not loaded`);
    app.get(assetPath, (c) => {
      // no-cache: revalidate every time, so a rollout to another version shows its own page at once.
      const headers = { 'Content-Type': asset.contentType, ETag: asset.etag, 'Cache-Control': 'no-cache' };
      if (c.req.header('if-none-match') === asset.etag) return c.body(null, 304, headers);
      return c.body(asset.body, 200, headers);
    });
  }

  app.post(
    '/sms',
    async (c, next) => {
      const finished = metrics.startRequest();
      try {
        // Hono turns a handler's error into the response (onError) before this returns, so the
        // status seen here is the one the client gets, 503 and 502 included.
        await next();
        metrics.answered(c.res.status);
      } finally {
        finished();
      }
    },
    async (c, next) => {
      // Checked before the size, in the model service's order, so both answer a request alike.
      const problem = contentTypeProblem(c.req.header('content-type'));
      if (problem !== undefined) return c.json({ error: problem }, 415);
      await next();
    },
    limitBody,
    async (c) => {
      const parsed = parseSmsRequest(await c.req.text());
      if (!parsed.ok) return c.json({ error: parsed.error }, 400);
      const { sms, guess } = parsed.request;

      const key = normaliseMessage(sms);
      let answer = cache.get(key);
      const cached = answer !== undefined;
      if (answer === undefined) {
        metrics.cacheMiss();
        const prediction = await modelClient.predict(sms);
        answer = { result: prediction.result, spamProbability: prediction.spamProbability, modelVersion: prediction.modelVersion };
        cache.set(key, answer);
      } else {
        metrics.cacheHit();
      }
      metrics.classified(answer.result);
      if (guess !== undefined) metrics.guessed(guess === answer.result ? 'correct' : 'wrong');
      const body: SmsAnswer = { ...answer, appVersion, cached, ...(guess === undefined ? {} : { guessCorrect: guess === answer.result }) };
      return c.json(body, 200, { 'Cache-Control': 'no-store' });
    },
  );

  app.get('/healthz', (c) => c.json({ status: 'ok' }));

  app.get('/readyz', async (c) => {
    c.header('Cache-Control', 'no-store');
    if (shuttingDown) return c.json({ ready: false, reason: 'the app is shutting down' }, 503);
    if (!(await modelClient.isReady(readyTimeoutMs))) return c.json({ ready: false, reason: 'the model service is unavailable or not ready' }, 503);
    return c.json({ ready: true });
  });

  app.get('/metrics', async (c) => c.body(await metrics.registry.metrics(), 200, { 'Content-Type': metrics.registry.contentType }));

  app.notFound((c) => c.json({ error: `no such page: ${c.req.path}` }, 404));

  app.onError((error, c) => {
    if (error instanceof ModelUnavailableError) {
      // Expected while the model restarts or scales: one line with the cause, no stack.
      const cause = error.cause instanceof Error ? error.cause.message : undefined;
      logger.warn({ error: error.message, cause }, 'Model service was unavailable');
      return c.json({ error: error.message }, 503, { 'Retry-After': MODEL_RETRY_AFTER_SECONDS });
    }
    if (error instanceof ModelResponseError) {
      // The model's own refusals keep their status, so the caller learns what is wrong with the message.
      if (error.status === 400 || error.status === 413 || error.status === 415) return c.json({ error: error.message }, error.status);
      logger.error({ err: error }, 'Model service broke the contract');
      return c.json({ error: error.message }, 502);
    }
    if (error instanceof HTTPException) return error.getResponse();
    logger.error({ err: error, path: c.req.path }, 'Failed to serve request');
    return c.json({ error: 'internal error' }, 500);
  });

  return {
    app,
    markShuttingDown() {
      shuttingDown = true;
    },
  };
}
