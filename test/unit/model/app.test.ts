// The model service's routes in process (Hono app.request), with a real model trained on the
// fixture corpus.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createModelApp, MAX_BODY_BYTES } from '../../../src/model/app.ts';
import { loadArtifact, type LoadedModel } from '../../../src/model/artifact.ts';
import { trainToDirectory } from '../../../src/model/build-artifact.ts';
import { readDataset } from '../../../src/model/dataset.ts';
import { createServiceLogger } from '../../../src/model/logging.ts';
import type { ModelState } from '../../../src/model/model-state.ts';
import { createModelMetrics, type ModelMetrics } from '../../../src/model/service-metrics.ts';
import { FIXTURE_CORPUS } from '../../support/model-service.ts';
import { sumSamples } from '../../support/operator.ts';

const SPAM = 'WINNER! Claim your £900 cash prize, call 09061790121 now';
const HAM = 'are you coming to dinner tonight?';

describe('model service routes', () => {
  let directory: string;
  let loaded: LoadedModel;
  let state: ModelState;
  let metrics: ModelMetrics;
  let logLines: string[];
  let app: ReturnType<typeof createModelApp>;

  const makeApp = (shadowMode: boolean) => {
    metrics = createModelMetrics();
    logLines = [];
    const logger = createServiceLogger('info', { write: (line: string) => logLines.push(line) });
    return createModelApp({ state: () => state, metrics, shadowMode, logger });
  };

  const predict = (body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
    app.request('/predict', { method: 'POST', headers, body });

  async function errorOf(response: Response): Promise<{ status: number; error: string }> {
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    const body = (await response.json()) as { error: string };
    return { status: response.status, error: body.error };
  }

  before(async () => {
    directory = await mkdtemp(path.join(tmpdir(), 'sms-model-app-test-'));
    const dataset = await readDataset(FIXTURE_CORPUS);
    const { directory: artifact } = await trainToDirectory({ dataset, version: 'v1', seed: 42, created: new Date().toISOString(), modelsDirectory: directory, evaluate: false });
    loaded = await loadArtifact(artifact);
  });
  after(() => rm(directory, { recursive: true, force: true }));

  beforeEach(() => {
    state = { status: 'ready', loaded };
    app = makeApp(false);
  });

  it('classifies a message with the fields of the app ↔ model contract', async () => {
    const response = await predict(JSON.stringify({ sms: SPAM }));
    assert.equal(response.status, 200);
    const body = (await response.json()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body).sort(), ['classifier', 'modelVersion', 'result', 'spamProbability']);
    assert.equal(body.result, 'spam');
    assert.equal(body.modelVersion, 'v1');
    assert.equal(body.classifier, 'naive-bayes');
    assert.ok(typeof body.spamProbability === 'number' && body.spamProbability > 0.5 && body.spamProbability <= 1);

    const ham = (await (await predict(JSON.stringify({ sms: HAM, guess: 'ham' }))).json()) as { result: string; spamProbability: number };
    assert.equal(ham.result, 'ham');
    assert.ok(ham.spamProbability < 0.5 && ham.spamProbability >= 0);
  });

  it('accepts a charset on the JSON content type', async () => {
    assert.equal((await predict(JSON.stringify({ sms: HAM }), { 'content-type': 'application/json; charset=utf-8' })).status, 200);
  });

  describe('refuses bad input with a JSON error naming the problem', () => {
    const cases: [string, string, Record<string, string> | undefined, number, string][] = [
      ['missing sms', '{"text":"hi"}', undefined, 400, 'missing field "sms"'],
      ['empty sms', '{"sms":""}', undefined, 400, '"sms" must not be empty'],
      ['blank sms', '{"sms":"  \\n "}', undefined, 400, '"sms" must not be empty'],
      ['number sms', '{"sms":42}', undefined, 400, '"sms" must be a string, got number'],
      ['null sms', '{"sms":null}', undefined, 400, '"sms" must be a string, got null'],
      ['array sms', '{"sms":["hi"]}', undefined, 400, '"sms" must be a string, got an array'],
      ['object sms', '{"sms":{"text":"hi"}}', undefined, 400, '"sms" must be a string, got an object'],
      ['array body', '["hi"]', undefined, 400, 'request body must be a JSON object with an "sms" string, got an array'],
      ['string body', '"hi"', undefined, 400, 'request body must be a JSON object with an "sms" string, got string'],
      ['null body', 'null', undefined, 400, 'request body must be a JSON object with an "sms" string, got null'],
      ['invalid JSON', '{"sms": "hi"', undefined, 400, 'request body is not valid JSON'],
      ['empty body', '', undefined, 400, 'request body is not valid JSON'],
      ['text/plain', '{"sms":"hi"}', { 'content-type': 'text/plain' }, 415, 'Content-Type must be application/json, got "text/plain"'],
      ['form', 'sms=hi', { 'content-type': 'application/x-www-form-urlencoded' }, 415, 'Content-Type must be application/json, got "application/x-www-form-urlencoded"'],
      ['body over 10 kB', JSON.stringify({ sms: 'a'.repeat(MAX_BODY_BYTES) }), undefined, 413, `request body is larger than ${MAX_BODY_BYTES} bytes`],
    ];
    for (const [name, body, headers, status, message] of cases) {
      it(`${name} → ${status}`, async () => {
        assert.deepEqual(await errorOf(await predict(body, headers)), { status, error: message });
      });
    }

    it('no content type → 415', async () => {
      // A string body would get text/plain from the Request constructor; bytes get no type at all.
      const response = await app.request('/predict', { method: 'POST', body: new TextEncoder().encode('{"sms":"hi"}') });
      assert.deepEqual(await errorOf(response), { status: 415, error: 'Content-Type must be application/json, got none' });
    });

    it('body over 10 kB without a Content-Length (chunked) → 413', async () => {
      const chunk = new TextEncoder().encode(`{"sms":"${'a'.repeat(4096)}`);
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let index = 0; index < 4; index += 1) controller.enqueue(chunk);
          controller.close();
        },
      });
      const request = new Request('http://localhost/predict', { method: 'POST', headers: { 'content-type': 'application/json' }, body: stream, duplex: 'half' });
      assert.deepEqual(await errorOf(await app.request(request)), { status: 413, error: `request body is larger than ${MAX_BODY_BYTES} bytes` });
    });

    it('a body of exactly 10 kB is accepted', async () => {
      const body = JSON.stringify({ sms: 'a'.repeat(MAX_BODY_BYTES - '{"sms":""}'.length) });
      assert.equal(body.length, MAX_BODY_BYTES);
      assert.equal((await predict(body)).status, 200);
    });

    it('unknown routes and wrong methods', async () => {
      assert.deepEqual(await errorOf(await app.request('/classify', { method: 'POST' })), { status: 404, error: 'no route for POST /classify' });
      assert.deepEqual(await errorOf(await app.request('/predict')), { status: 405, error: 'method GET not allowed on /predict; use POST' });
    });
  });

  it('is live always, ready only with a model, and says why not', async () => {
    assert.equal((await app.request('/healthz')).status, 200);
    assert.deepEqual(await (await app.request('/readyz')).json(), { status: 'ready', modelVersion: 'v1' });

    state = { status: 'loading', waitingFor: 'artifact directory /models/v9 does not exist and MODEL_URL is not set' };
    let response = await app.request('/readyz');
    assert.equal(response.status, 503);
    assert.deepEqual(await response.json(), { status: 'not ready', reason: 'model not loaded yet: artifact directory /models/v9 does not exist and MODEL_URL is not set' });
    assert.deepEqual(await errorOf(await predict(JSON.stringify({ sms: HAM }))), {
      status: 503,
      error: 'model not loaded yet: artifact directory /models/v9 does not exist and MODEL_URL is not set',
    });

    state = { status: 'failed', problem: '/models/v1/model.json is corrupt' };
    response = await app.request('/readyz');
    assert.equal(response.status, 503);
    assert.deepEqual(await response.json(), { status: 'not ready', reason: 'model failed to load: /models/v1/model.json is corrupt' });
    assert.equal((await app.request('/healthz')).status, 200);
  });

  it('reports not ready while draining but still answers requests that arrive', async () => {
    let draining = false;
    const logger = createServiceLogger('silent');
    app = createModelApp({ state: () => state, metrics: createModelMetrics({ processMetrics: false }), shadowMode: false, logger, draining: () => draining });
    assert.equal((await app.request('/readyz')).status, 200);
    draining = true;
    const response = await app.request('/readyz');
    assert.equal(response.status, 503);
    assert.deepEqual(await response.json(), { status: 'not ready', reason: 'service is shutting down' });
    assert.equal((await predict(JSON.stringify({ sms: HAM }))).status, 200);
  });

  it('exposes the seed metrics and process metrics after traffic', async () => {
    await predict(JSON.stringify({ sms: SPAM }));
    await predict(JSON.stringify({ sms: HAM }));
    await predict('{"sms":""}');
    const response = await app.request('/metrics');
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    assert.equal(sumSamples(text, 'sms_model_predictions_total', { version: 'v1', source: 'live' }), 2);
    assert.equal(sumSamples(text, 'sms_model_predictions_total', { source: 'shadow' }), 0);
    assert.equal(sumSamples(text, 'sms_model_inference_seconds_count', { version: 'v1' }), 2);
    assert.ok(sumSamples(text, 'sms_model_inference_seconds_sum', { version: 'v1' }) > 0);
    assert.equal(sumSamples(text, 'sms_model_inflight_requests', { version: 'v1' }), 0);
    assert.match(text, /^process_cpu_user_seconds_total /m);
    assert.match(text, /^nodejs_eventloop_lag_seconds /m);
  });

  it('counts a request in flight while its body is still arriving', async () => {
    let send: ReadableStreamDefaultController<Uint8Array> | undefined;
    const stream = new ReadableStream<Uint8Array>({ start: (controller) => void (send = controller) });
    const request = new Request('http://localhost/predict', { method: 'POST', headers: { 'content-type': 'application/json' }, body: stream, duplex: 'half' });
    const pending = app.request(request);
    send?.enqueue(new TextEncoder().encode('{"sms":'));
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(sumSamples(await (await app.request('/metrics')).text(), 'sms_model_inflight_requests', { version: 'v1' }), 1);
    send?.enqueue(new TextEncoder().encode(JSON.stringify(HAM) + '}'));
    send?.close();
    assert.equal((await pending).status, 200);
    assert.equal(sumSamples(await (await app.request('/metrics')).text(), 'sms_model_inflight_requests', { version: 'v1' }), 0);
  });

  describe('labels shadow traffic', () => {
    const count = async (source: string) => sumSamples(await (await app.request('/metrics')).text(), 'sms_model_predictions_total', { version: 'v1', source });

    it('by the Host Istio gives mirrored requests, with and without a port', async () => {
      for (const host of ['sms-app-model-shadow:8081', 'sms-app-model-shadow', 'sms-app-model:8081', 'sms-app-model']) {
        await predict(JSON.stringify({ sms: HAM }), { 'content-type': 'application/json', host });
      }
      assert.equal(await count('shadow'), 2);
      assert.equal(await count('live'), 2);
    });

    it('all of it when SHADOW_MODE is on', async () => {
      app = makeApp(true);
      await predict(JSON.stringify({ sms: HAM }), { 'content-type': 'application/json', host: 'sms-app-model:8081' });
      await predict(JSON.stringify({ sms: SPAM }));
      assert.equal(await count('shadow'), 2);
      assert.equal(await count('live'), 0);
    });
  });

  it('logs nothing for ordinary requests, bad ones included', async () => {
    await predict(JSON.stringify({ sms: HAM }));
    await predict('nope');
    assert.deepEqual(logLines, []);
  });
});
