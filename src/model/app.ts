// The model service's HTTP routes (Hono). Pure request → response: the model state, metrics and
// logger come in as options, so tests drive it with app.request() and no port.
import { Hono, type Context } from 'hono';
import type { Logger } from 'pino';
import { z } from 'zod';
import { isJsonMediaType, SMS_BODY_LIMIT_BYTES } from '../common/sms-input.ts';
import { describeUnready, type ModelState } from './model-state.ts';
import { readBodyWithin, requestHeader, type NodeEnv } from './request-body.ts';
import type { ModelMetrics } from './service-metrics.ts';
import { trafficSource } from './shadow.ts';
import { compareWithStable } from './shadow-comparison.ts';

export const MAX_BODY_BYTES = SMS_BODY_LIMIT_BYTES;

export interface ModelAppOptions {
  state: () => ModelState;
  metrics: ModelMetrics;
  /** Every request counts as shadow traffic (the shadow Deployment sets SHADOW_MODE=true). */
  shadowMode: boolean;
  /**
   * The stable model a shadow compares with (STABLE_MODEL_VERSION); undefined when none is
   * configured. Its state never affects readiness: the shadow serves whether or not it can compare.
   */
  stable?: () => ModelState;
  /** True once shutdown began: not ready any more, but requests that still arrive are served. */
  draining?: () => boolean;
  logger: Logger;
}

export interface PredictResponse {
  result: 'spam' | 'ham';
  spamProbability: number;
  modelVersion: string;
  classifier: 'naive-bayes';
}

const predictRequestSchema = z
  .object(
    {
      sms: z
        .string({ error: (issue) => (issue.input === undefined ? 'missing field "sms"' : `"sms" must be a string, got ${describeType(issue.input)}`) })
        .refine((text) => text.trim() !== '', '"sms" must not be empty'),
    },
    { error: (issue) => `request body must be a JSON object with an "sms" string, got ${describeType(issue.input)}` },
  )
  .loose();

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : typeof value;
}

const errorResponse = (c: Context<NodeEnv>, status: 400 | 404 | 405 | 413 | 415 | 500 | 503, message: string) => c.json({ error: message }, status);

export function createModelApp({ state, metrics, shadowMode, logger, stable, draining = () => false }: ModelAppOptions): Hono<NodeEnv> {
  const app = new Hono<NodeEnv>();

  app.get('/healthz', (c) => c.json({ status: 'ok' }));

  app.get('/readyz', (c) => {
    if (draining()) return c.json({ status: 'not ready', reason: 'service is shutting down' }, 503);
    const current = state();
    if (current.status === 'ready') return c.json({ status: 'ready', modelVersion: current.loaded.metadata.modelVersion, ...comparisonStatus() });
    return c.json({ status: 'not ready', reason: describeUnready(current) }, 503);
  });

  /** What /readyz says about the comparison with the stable model, when one is configured. */
  function comparisonStatus(): { comparison?: { status: 'comparing'; stableVersion: string } | { status: 'not comparing'; reason: string } } {
    if (stable === undefined) return {};
    const current = stable();
    if (current.status === 'ready') return { comparison: { status: 'comparing', stableVersion: current.loaded.metadata.modelVersion } };
    return { comparison: { status: 'not comparing', reason: `stable ${describeUnready(current)}` } };
  }

  app.get('/metrics', async (c) => {
    const text = await metrics.registry.metrics();
    return c.body(text, 200, { 'Content-Type': metrics.registry.contentType });
  });

  app.post('/predict', async (c) => {
    // Readiness first: without a model nothing else matters, and in-flight tracking needs the version.
    const current = state();
    if (current.status !== 'ready') return errorResponse(c, 503, describeUnready(current));
    const { classifier, metadata } = current.loaded;
    const done = metrics.trackInflight(metadata.modelVersion);
    try {
      const type = requestHeader(c, 'content-type');
      if (!isJsonMediaType(type)) {
        return errorResponse(c, 415, `Content-Type must be application/json, got ${type === undefined ? 'none' : JSON.stringify(type)}`);
      }
      const text = await readBodyWithin(c, MAX_BODY_BYTES);
      if (text === undefined) return errorResponse(c, 413, `request body is larger than ${MAX_BODY_BYTES} bytes`);
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        return errorResponse(c, 400, 'request body is not valid JSON');
      }
      const request = predictRequestSchema.safeParse(body);
      if (!request.success) return errorResponse(c, 400, request.error.issues[0]?.message ?? 'invalid request');

      const started = performance.now();
      const prediction = classifier.predict(request.data.sms);
      metrics.observeInference(metadata.modelVersion, (performance.now() - started) / 1000);
      metrics.countPrediction(metadata.modelVersion, trafficSource(shadowMode, requestHeader(c, 'host')));
      const stableState = stable?.();
      if (stableState?.status === 'ready') compareWithStable(request.data.sms, { version: metadata.modelVersion, ...prediction }, stableState.loaded, metrics, logger);
      const response: PredictResponse = { ...prediction, modelVersion: metadata.modelVersion, classifier: 'naive-bayes' };
      return c.json(response);
    } finally {
      done();
    }
  });

  app.all('/predict', (c) => errorResponse(c, 405, `method ${c.req.method} not allowed on /predict; use POST`));
  app.notFound((c) => errorResponse(c, 404, `no route for ${c.req.method} ${c.req.path}`));
  app.onError((error, c) => {
    logger.error({ err: error, path: c.req.path }, 'Failed to serve request');
    return errorResponse(c, 500, 'internal error');
  });
  return app;
}
