// Every route and error path of the app, in process with app.request(), against the real model
// service (`node src/model/main.ts` on trained v1 and v2 artifacts) — never a stand-in for it.
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/app/config.ts';
import { createLogger } from '../../src/app/logging.ts';
import { assembleApp, type AssembledApp } from '../../src/app/server.ts';
import { startModelService, trainedModelsDir } from '../support/model-service.ts';

type ModelService = Awaited<ReturnType<typeof startModelService>>;

const SPAM_MESSAGE =
  'WINNER!! You have been chosen for a £900 cash prize. To claim, call 09050001234 now. Claim code XK52. Valid 12 hours only.';
const HAM_MESSAGE = "Ok lar... I'll meet you at the station at 7, don't be late";

function appFor(modelUrl: string, env: Record<string, string> = {}): AssembledApp {
  const config = loadConfig({ MODEL_HOST: modelUrl, ...env });
  return assembleApp(config, { logger: createLogger({ level: 'silent', version: config.appVersion }), processMetrics: false });
}

function postSms(app: AssembledApp, body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }): Promise<Response> {
  // Bytes, not a string: a string body would get a default text/plain Content-Type.
  const bytes = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  return Promise.resolve(app.app.request('/sms', { method: 'POST', headers, body: bytes }));
}

async function json(response: Response): Promise<Record<string, unknown>> {
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
  return (await response.json()) as Record<string, unknown>;
}

/** The value of one sample in the app's /metrics text, e.g. sample(text, 'sms_model_calls_total{version="v1"}'). */
async function sample(app: AssembledApp, series: string): Promise<number> {
  const text = await (await app.app.request('/metrics')).text();
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  assert.ok(line, `no sample ${series} in /metrics`);
  return Number(line.slice(series.length + 1));
}

describe('app API against the real model service', function () {
  this.timeout(120_000);
  let modelsDir: string;
  let model: ModelService;
  let app: AssembledApp;

  before(async () => {
    modelsDir = await trainedModelsDir();
    model = await startModelService({ modelsDir, version: 'v1' });
    app = appFor(model.url, { APP_VERSION: 'v1' });
  });
  after(async () => {
    await model?.stop();
  });

  describe('the page', () => {
    it('serves one page with the app version in its footer and strict security headers', async () => {
      const response = await app.app.request('/');
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('content-type'), 'text/html; charset=utf-8');
      const html = await response.text();
      assert.match(html, /<h1>Is this SMS spam\?<\/h1>/);
      assert.match(html, /app <strong id="app-version">v1<\/strong>/);
      assert.match(html, /<script src="\/app.js" defer><\/script>/);
      const csp = response.headers.get('content-security-policy') ?? '';
      assert.match(csp, /default-src 'none'/);
      assert.match(csp, /script-src 'self'/);
      assert.match(csp, /style-src 'self'/);
      assert.match(csp, /frame-ancestors 'none'/);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:/);
      assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(response.headers.get('x-frame-options'), 'DENY');
      assert.equal(response.headers.get('referrer-policy'), 'no-referrer');
      assert.equal(response.headers.get('x-powered-by'), null);
    });

    it('serves the script, style sheet and icon from the app itself', async () => {
      for (const [path, type] of [
        ['/app.js', 'text/javascript; charset=utf-8'],
        ['/app.css', 'text/css; charset=utf-8'],
        ['/favicon.svg', 'image/svg+xml'],
      ] as const) {
        const response = await app.app.request(path);
        assert.equal(response.status, 200, path);
        assert.equal(response.headers.get('content-type'), type, path);
        assert.ok((await response.text()).length > 100, `${path} has content`);
      }
    });

    it('answers a revalidation with 304', async () => {
      const etag = (await app.app.request('/app.css')).headers.get('etag');
      assert.ok(etag);
      const response = await app.app.request('/app.css', { headers: { 'if-none-match': etag } });
      assert.equal(response.status, 304);
      assert.equal(await response.text(), '');
    });

    it('answers HEAD like GET without a body', async () => {
      const response = await app.app.request('/', { method: 'HEAD' });
      assert.equal(response.status, 200);
      assert.equal(await response.text(), '');
    });
  });

  describe('POST /sms', () => {
    it('classifies spam through the model and names both versions', async () => {
      const response = await postSms(app, { sms: SPAM_MESSAGE, guess: 'spam' });
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('cache-control'), 'no-store');
      const body = await json(response);
      assert.deepEqual(Object.keys(body).sort(), ['appVersion', 'cached', 'guessCorrect', 'modelVersion', 'result', 'spamProbability']);
      assert.equal(body.result, 'spam');
      assert.equal(body.modelVersion, 'v1');
      assert.equal(body.appVersion, 'v1');
      assert.equal(body.cached, false);
      assert.equal(body.guessCorrect, true);
      assert.ok(typeof body.spamProbability === 'number' && body.spamProbability > 0.5 && body.spamProbability <= 1);
    });

    it('classifies ham, says when the guess was wrong, and leaves guessCorrect out without a guess', async () => {
      const guessed = await json(await postSms(app, { sms: HAM_MESSAGE, guess: 'spam' }));
      assert.equal(guessed.result, 'ham');
      assert.equal(guessed.guessCorrect, false);
      assert.ok(typeof guessed.spamProbability === 'number' && guessed.spamProbability < 0.5);
      const unguessed = await json(await postSms(app, { sms: `${HAM_MESSAGE}!` }));
      assert.equal('guessCorrect' in unguessed, false);
    });

    it('answers a repeated message from the cache, without calling the model', async () => {
      const message = `Are we still on for lunch tomorrow? ${Date.now()}`;
      const callsBefore = await sample(app, 'sms_model_calls_total{version="v1"}');
      const hitsBefore = await sample(app, 'sms_cache_hits_total{version="v1"}');
      const first = await json(await postSms(app, { sms: message }));
      const again = await json(await postSms(app, { sms: `  ${message.replace(' ', '   ')}\n` }));
      assert.equal(first.cached, false);
      assert.equal(again.cached, true);
      assert.equal(again.result, first.result);
      assert.equal(again.spamProbability, first.spamProbability);
      assert.equal(await sample(app, 'sms_model_calls_total{version="v1"}'), callsBefore + 1);
      assert.equal(await sample(app, 'sms_cache_hits_total{version="v1"}'), hitsBefore + 1);
    });

    it('calls the model every time when CACHE_POLICY=none', async () => {
      const uncached = appFor(model.url, { CACHE_POLICY: 'none' });
      const answers = [await json(await postSms(uncached, { sms: SPAM_MESSAGE })), await json(await postSms(uncached, { sms: SPAM_MESSAGE }))];
      assert.deepEqual(answers.map((answer) => answer.cached), [false, false]);
      assert.equal(await sample(uncached, 'sms_model_calls_total{version="v1"}'), 2);
      assert.equal(await sample(uncached, 'sms_cache_misses_total{version="v1"}'), 2);
      assert.equal(await sample(uncached, 'sms_cache_hits_total{version="v1"}'), 0);
    });
  });

  describe('bad input, answered like the model service answers it', () => {
    const oversized = JSON.stringify({ sms: 'x'.repeat(10 * 1024) });
    const cases: Array<{ name: string; body: string; headers: Record<string, string>; status: number; error: RegExp }> = [
      { name: 'no Content-Type', body: JSON.stringify({ sms: 'hi' }), headers: {}, status: 415, error: /Content-Type must be application\/json \(none was given\)/ },
      { name: 'a text/plain body', body: JSON.stringify({ sms: 'hi' }), headers: { 'content-type': 'text/plain' }, status: 415, error: /got "text\/plain"/ },
      { name: 'a form body', body: 'sms=hi', headers: { 'content-type': 'application/x-www-form-urlencoded' }, status: 415, error: /Content-Type must be application\/json/ },
      { name: 'invalid JSON', body: '{"sms": "hi"', headers: { 'content-type': 'application/json' }, status: 400, error: /the body is not valid JSON/ },
      { name: 'a JSON array', body: '["hi"]', headers: { 'content-type': 'application/json' }, status: 400, error: /the body must be a JSON object/ },
      { name: 'a missing "sms"', body: '{"text":"hi"}', headers: { 'content-type': 'application/json' }, status: 400, error: /"sms" is required/ },
      { name: 'a numeric "sms"', body: '{"sms":42}', headers: { 'content-type': 'application/json' }, status: 400, error: /"sms" must be a string/ },
      { name: 'an empty "sms"', body: '{"sms":""}', headers: { 'content-type': 'application/json' }, status: 400, error: /"sms" must not be empty/ },
      { name: 'a blank "sms"', body: '{"sms":"   "}', headers: { 'content-type': 'application/json' }, status: 400, error: /"sms" must not be empty/ },
      { name: 'a body over 10 kB with Content-Length', body: oversized, headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(oversized)) }, status: 413, error: /larger than 10240 bytes/ },
      { name: 'a body over 10 kB without Content-Length', body: oversized, headers: { 'content-type': 'application/json' }, status: 413, error: /larger than 10240 bytes/ },
    ];
    for (const { name, body, headers, status, error } of cases) {
      it(`${status} for ${name}`, async () => {
        const response = await postSms(app, body, headers);
        assert.equal(response.status, status);
        assert.match(String((await json(response)).error), error);
        const modelResponse = await fetch(`${model.url}/predict`, { method: 'POST', headers, body: Buffer.from(body) });
        assert.equal(modelResponse.status, status, 'the model service answers the same request with the same status');
        await modelResponse.body?.cancel();
      });
    }

    it('400 for a guess that is neither spam nor ham, or a misspelt field', async () => {
      const badGuess = await postSms(app, { sms: 'hi', guess: 'not sure' });
      assert.equal(badGuess.status, 400);
      assert.equal((await json(badGuess)).error, '"guess" must be "spam" or "ham" when given');
      const misspelt = await postSms(app, { sms: 'hi', gues: 'spam' });
      assert.equal(misspelt.status, 400);
      assert.equal((await json(misspelt)).error, 'unknown field "gues": only "sms" and "guess" are accepted');
    });

    it('accepts a body of exactly 10 kB', async () => {
      const prefix = '{"sms":"';
      const suffix = '"}';
      const body = `${prefix}${'a'.repeat(10 * 1024 - prefix.length - suffix.length)}${suffix}`;
      assert.equal(Buffer.byteLength(body), 10 * 1024);
      assert.equal((await postSms(app, body)).status, 200);
    });

    it('refusals still carry the security headers and do not count as classifications', async () => {
      const before = await sample(app, 'sms_messages_classified_total{result="ham",version="v1"}');
      const response = await postSms(app, '{}');
      assert.equal(response.status, 400);
      assert.match(response.headers.get('content-security-policy') ?? '', /default-src 'none'/);
      assert.equal(await sample(app, 'sms_messages_classified_total{result="ham",version="v1"}'), before);
    });
  });

  describe('other routes', () => {
    it('GET /healthz answers 200', async () => {
      const response = await app.app.request('/healthz');
      assert.equal(response.status, 200);
      assert.deepEqual(await json(response), { status: 'ok' });
    });

    it('GET /readyz answers 200 while the model service is ready', async () => {
      const response = await app.app.request('/readyz');
      assert.equal(response.status, 200);
      assert.deepEqual(await json(response), { ready: true });
    });

    it('GET /metrics exposes the seed metrics with the counts of the traffic so far', async () => {
      const fresh = appFor(model.url, { APP_VERSION: 'v1' });
      await postSms(fresh, { sms: SPAM_MESSAGE });
      await postSms(fresh, { sms: SPAM_MESSAGE });
      await postSms(fresh, { sms: HAM_MESSAGE });
      const response = await fresh.app.request('/metrics');
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      assert.equal(await sample(fresh, 'sms_messages_classified_total{result="spam",version="v1"}'), 2);
      assert.equal(await sample(fresh, 'sms_messages_classified_total{result="ham",version="v1"}'), 1);
      assert.equal(await sample(fresh, 'sms_cache_hits_total{version="v1"}'), 1);
      assert.equal(await sample(fresh, 'sms_cache_misses_total{version="v1"}'), 2);
      assert.equal(await sample(fresh, 'sms_model_calls_total{version="v1"}'), 2);
      assert.equal(await sample(fresh, 'sms_active_requests{version="v1"}'), 0);
      assert.equal(await sample(fresh, 'sms_request_latency_seconds_count{version="v1"}'), 3);
      assert.equal(await sample(fresh, 'sms_request_latency_seconds_bucket{le="10",version="v1"}'), 3);
    });

    it('404 JSON for an unknown path, 405 with Allow for a wrong method', async () => {
      const missing = await app.app.request('/admin');
      assert.equal(missing.status, 404);
      assert.deepEqual(await json(missing), { error: 'no such page: /admin' });
      assert.equal(missing.headers.get('x-content-type-options'), 'nosniff');
      const wrongMethod = await app.app.request('/sms');
      assert.equal(wrongMethod.status, 405);
      assert.equal(wrongMethod.headers.get('allow'), 'POST');
      assert.deepEqual(await json(wrongMethod), { error: 'GET is not allowed on /sms; use POST' });
      const postPage = await app.app.request('/', { method: 'POST' });
      assert.equal(postPage.status, 405);
      assert.equal(postPage.headers.get('allow'), 'GET, HEAD');
    });
  });

  describe('paired versions', () => {
    it('app v2 in front of model v2 names both', async () => {
      const modelV2 = await startModelService({ modelsDir, version: 'v2' });
      try {
        const appV2 = appFor(modelV2.url, { APP_VERSION: 'v2' });
        const body = await json(await postSms(appV2, { sms: SPAM_MESSAGE }));
        assert.equal(body.appVersion, 'v2');
        assert.equal(body.modelVersion, 'v2');
        assert.equal(body.result, 'spam');
        assert.equal(await sample(appV2, 'sms_messages_classified_total{result="spam",version="v2"}'), 1);
      } finally {
        await modelV2.stop();
      }
    });
  });
});

describe('app API when the model service is down or slow', function () {
  this.timeout(120_000);
  let modelsDir: string;

  before(async () => {
    modelsDir = await trainedModelsDir();
  });

  it('503 saying the model service is unavailable once it stopped, after exactly one retry; /readyz 503, /healthz 200', async () => {
    const model = await startModelService({ modelsDir, version: 'v1' });
    const app = appFor(model.url, { APP_VERSION: 'v1' });
    assert.equal((await postSms(app, { sms: HAM_MESSAGE })).status, 200);
    await model.stop();

    const callsBefore = await sample(app, 'sms_model_calls_total{version="v1"}');
    const response = await postSms(app, { sms: SPAM_MESSAGE });
    assert.equal(response.status, 503);
    assert.equal(response.headers.get('retry-after'), '5');
    assert.match(response.headers.get('content-security-policy') ?? '', /default-src 'none'/, 'errors carry the security headers too');
    assert.equal((await json(response)).error, 'the model service is unavailable: it refused the connection');
    assert.equal(await sample(app, 'sms_model_calls_total{version="v1"}'), callsBefore + 2, 'one call and one retry');
    assert.equal(await sample(app, 'sms_active_requests{version="v1"}'), 0);

    const cachedStill = await json(await postSms(app, { sms: HAM_MESSAGE }));
    assert.equal(cachedStill.cached, true, 'a cached answer is still served while the model is down');

    const ready = await app.app.request('/readyz');
    assert.equal(ready.status, 503);
    assert.deepEqual(await json(ready), { ready: false, reason: 'the model service is unavailable or not ready' });
    assert.equal((await app.app.request('/healthz')).status, 200);
  });

  it('503 when the model service does not answer within MODEL_TIMEOUT_MS, without a retry', async () => {
    const model = await startModelService({ modelsDir, version: 'v1' });
    try {
      const app = appFor(model.url, { MODEL_TIMEOUT_MS: '300' });
      assert.equal((await postSms(app, { sms: HAM_MESSAGE })).status, 200);
      model.kill('SIGSTOP');
      const started = performance.now();
      const response = await postSms(app, { sms: SPAM_MESSAGE });
      const elapsedMs = performance.now() - started;
      assert.equal(response.status, 503);
      assert.equal((await json(response)).error, 'the model service is unavailable: it did not answer in time');
      assert.ok(elapsedMs >= 290 && elapsedMs < 2_000, `answered after ${Math.round(elapsedMs)} ms`);
      assert.equal(await sample(app, 'sms_model_calls_total{version="v1"}'), 2, 'the first request and the timed-out one; no retry');
    } finally {
      // Its graceful stop is not what this test is about, so no waiting for one.
      model.kill('SIGKILL');
      await model.exited;
    }
  });

  it('502 when MODEL_HOST points at something that is not the model service', async () => {
    const model = await startModelService({ modelsDir, version: 'v1' });
    try {
      const app = appFor(`${model.url}/not-the-model`);
      const response = await postSms(app, { sms: SPAM_MESSAGE });
      assert.equal(response.status, 502);
      assert.match(String((await json(response)).error), /^the model service answered 404: /);
    } finally {
      await model.stop();
    }
  });

  it('/readyz 503 while the model service runs without a loaded model', async () => {
    const model = await startModelService({ modelsDir, version: 'v9', waitFor: 'live' });
    try {
      const app = appFor(model.url);
      const ready = await app.app.request('/readyz');
      assert.equal(ready.status, 503);
      const response = await postSms(app, { sms: SPAM_MESSAGE });
      assert.equal(response.status, 503);
      assert.equal((await json(response)).error, 'the model service is unavailable: it answered 503');
    } finally {
      await model.stop();
    }
  });
});
