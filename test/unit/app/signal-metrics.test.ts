// The counters the experiment's analysis reads: requests by status code and guesses by outcome.
// Through createApp with a stand-in model client (a unit test of the request path's counting);
// test/integration/evidence-signals.test.ts reads the same counters through a real Prometheus.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createApp, type CachedAnswer } from '../../../src/app/app.ts';
import { createCache } from '../../../src/app/cache.ts';
import { createLogger } from '../../../src/app/logging.ts';
import { createMetrics } from '../../../src/app/metrics.ts';
import { ModelUnavailableError, type ModelClient, type Prediction } from '../../../src/app/model-client.ts';

const silent = new Writable({ write: (_chunk, _encoding, done) => done() });

function appWith(predict: ModelClient['predict']) {
  const metrics = createMetrics({ version: 'v2', processMetrics: false });
  const { app } = createApp({
    appVersion: 'v2',
    modelClient: { predict, isReady: () => Promise.resolve(true) },
    cache: createCache<CachedAnswer>({ policy: 'none', maxEntries: 10, ttlMs: 60_000 }),
    metrics,
    logger: createLogger({ level: 'silent', version: 'v2', destination: silent }),
  });
  const post = (body: string, contentType = 'application/json') => Promise.resolve(app.request('/sms', { method: 'POST', headers: { 'content-type': contentType }, body: Buffer.from(body) }));
  const sample = async (pattern: RegExp) => Number((await metrics.registry.metrics()).match(pattern)?.[1] ?? 'NaN');
  return { post, sample };
}

const spamAnswer = (): Promise<Prediction> => Promise.resolve({ result: 'spam', spamProbability: 0.99, modelVersion: 'v2', classifier: 'naive-bayes' } as Prediction);

describe('app signal metrics', () => {
  it('has sms_requests_total{code="200"}, both guess outcomes and the latency buckets at 0 before any traffic', async () => {
    const text = await createMetrics({ version: 'v1', processMetrics: false }).registry.metrics();
    for (const line of ['sms_request_latency_seconds_bucket{le="+Inf",version="v1"} 0', 'sms_request_latency_seconds_bucket{le="0.005",version="v1"} 0', 'sms_requests_total{version="v1",code="200"} 0', 'sms_guesses_total{version="v1",outcome="correct"} 0', 'sms_guesses_total{version="v1",outcome="wrong"} 0']) {
      assert.ok(text.includes(line), `missing: ${line}`);
    }
  });

  it('counts each answered request once under its status code, model failures and refusals included', async () => {
    let modelUp = true;
    const { post, sample } = appWith(() => (modelUp ? spamAnswer() : Promise.reject(new ModelUnavailableError('the model service is unavailable'))));
    for (let i = 0; i < 3; i += 1) assert.equal((await post('{"sms":"win a prize"}')).status, 200);
    modelUp = false;
    for (let i = 0; i < 2; i += 1) assert.equal((await post('{"sms":"win a prize"}')).status, 503);
    assert.equal((await post('{"sms":""}')).status, 400);
    assert.equal((await post('{"sms":"x"}', 'text/plain')).status, 415);
    assert.equal(await sample(/sms_requests_total\{version="v2",code="200"\} (\d+)/), 3);
    assert.equal(await sample(/sms_requests_total\{version="v2",code="503"\} (\d+)/), 2);
    assert.equal(await sample(/sms_requests_total\{version="v2",code="400"\} (\d+)/), 1);
    assert.equal(await sample(/sms_requests_total\{version="v2",code="415"\} (\d+)/), 1);
    // The latency histogram counts the same requests.
    assert.equal(await sample(/sms_request_latency_seconds_count\{version="v2"\} (\d+)/), 7);
  });

  it('counts guesses by whether they matched the answer, and nothing for requests without a guess', async () => {
    const { post, sample } = appWith(spamAnswer);
    await post('{"sms":"a","guess":"spam"}');
    await post('{"sms":"b","guess":"spam"}');
    await post('{"sms":"c","guess":"ham"}');
    await post('{"sms":"d"}');
    assert.equal(await sample(/sms_guesses_total\{version="v2",outcome="correct"\} (\d+)/), 2);
    assert.equal(await sample(/sms_guesses_total\{version="v2",outcome="wrong"\} (\d+)/), 1);
  });
});
