import assert from 'node:assert/strict';
import { createMetrics } from '../../../src/app/metrics.ts';

describe('app metrics', () => {
  it('exposes the seed metric names with the version label, zero before any traffic', async () => {
    const metrics = createMetrics({ version: 'v2', processMetrics: false });
    const text = await metrics.registry.metrics();
    for (const line of [
      'sms_messages_classified_total{result="spam",version="v2"} 0',
      'sms_messages_classified_total{result="ham",version="v2"} 0',
      'sms_cache_hits_total{version="v2"} 0',
      'sms_cache_misses_total{version="v2"} 0',
      'sms_model_calls_total{version="v2"} 0',
      'sms_active_requests{version="v2"} 0',
    ]) {
      assert.ok(text.includes(line), `missing: ${line}`);
    }
  });

  it('uses latency buckets from 5 ms to 10 s', async () => {
    const metrics = createMetrics({ version: 'v1', processMetrics: false });
    metrics.startRequest()();
    const buckets = [...(await metrics.registry.metrics()).matchAll(/sms_request_latency_seconds_bucket\{le="([^"]+)",version="v1"\}/g)].map((match) => match[1]);
    assert.deepEqual(buckets, ['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '+Inf']);
  });

  it('counts requests in flight until they finish', async () => {
    const metrics = createMetrics({ version: 'v1', processMetrics: false });
    const first = metrics.startRequest();
    const second = metrics.startRequest();
    assert.match(await metrics.registry.metrics(), /sms_active_requests\{version="v1"\} 2/);
    first();
    second();
    const text = await metrics.registry.metrics();
    assert.match(text, /sms_active_requests\{version="v1"\} 0/);
    assert.match(text, /sms_request_latency_seconds_count\{version="v1"\} 2/);
  });

  it('keeps two apps in one process apart', async () => {
    const v1 = createMetrics({ version: 'v1', processMetrics: false });
    const v2 = createMetrics({ version: 'v2', processMetrics: false });
    v1.classified('spam');
    assert.match(await v1.registry.metrics(), /sms_messages_classified_total\{result="spam",version="v1"\} 1/);
    assert.match(await v2.registry.metrics(), /sms_messages_classified_total\{result="spam",version="v2"\} 0/);
  });
});
