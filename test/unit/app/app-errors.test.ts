// The one error mapper, for the failures the real model service cannot be made to produce: a bug
// in the app itself (500) and the model refusing a message the app accepted. A stand-in model
// client (a unit test of one function); every other path runs against the real model service in
// test/integration/app-api.test.ts.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createApp, type CachedAnswer } from '../../../src/app/app.ts';
import { createCache } from '../../../src/app/cache.ts';
import { createLogger } from '../../../src/app/logging.ts';
import { createMetrics } from '../../../src/app/metrics.ts';
import { ModelResponseError, type ModelClient } from '../../../src/app/model-client.ts';

function appWith(predict: ModelClient['predict']) {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const { app } = createApp({
    appVersion: 'v1',
    modelClient: { predict, isReady: () => Promise.resolve(true) },
    cache: createCache<CachedAnswer>({ policy: 'lru', maxEntries: 10, ttlMs: 60_000 }),
    metrics: createMetrics({ version: 'v1', processMetrics: false }),
    logger: createLogger({ level: 'info', version: 'v1', destination }),
  });
  const post = () => Promise.resolve(app.request('/sms', { method: 'POST', headers: { 'content-type': 'application/json' }, body: Buffer.from('{"sms":"hello"}') }));
  return { post, lines };
}

describe('app error mapping', () => {
  it('answers 500 "internal error" to a bug, logs it with its stack, and keeps the security headers', async () => {
    const { post, lines } = appWith(() => Promise.reject(new TypeError('cannot read properties of undefined')));
    const response = await post();
    assert.equal(response.status, 500);
    assert.deepEqual(await response.json(), { error: 'internal error' });
    assert.match(response.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    assert.equal(lines.length, 1);
    const line = JSON.parse(lines[0] ?? '{}') as { level: string; msg: string; err: { message: string; stack: string } };
    assert.deepEqual([line.level, line.msg, line.err.message], ['error', 'Failed to serve request', 'cannot read properties of undefined']);
    assert.match(line.err.stack, /TypeError/);
  });

  it('passes on the model refusing a message with its status and reason', async () => {
    const { post } = appWith(() => Promise.reject(new ModelResponseError('the model service refused the message: "sms" must not be empty', 400)));
    const response = await post();
    assert.equal(response.status, 400);
    assert.deepEqual(await response.json(), { error: 'the model service refused the message: "sms" must not be empty' });
  });
});
