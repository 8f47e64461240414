import assert from 'node:assert/strict';
import { pino } from 'pino';
import { createHealthRoutes, createHealthServer, type Readiness } from '../../../../src/operator/runtime/health-server.ts';
import { createMetrics } from '../../../../src/operator/runtime/metrics.ts';

describe('health server', () => {
  const metrics = createMetrics({ processMetrics: false });
  let readiness: Readiness = { ready: false, waitingFor: ['SmsExperiment in all namespaces'] };
  const route = createHealthRoutes({ registry: metrics.registry, readiness: () => readiness });

  it('is not ready until the informers synced, and says what it waits for', async () => {
    readiness = { ready: false, waitingFor: ['SmsExperiment in all namespaces', 'Deployment in all namespaces'] };
    const response = await route('GET', '/readyz');
    assert.equal(response.status, 503);
    assert.equal(response.body, 'not ready: waiting for SmsExperiment in all namespaces; Deployment in all namespaces\n');
    readiness = {
      ready: false,
      problem: 'caches did not sync within 2m0s',
      waitingFor: ['ServiceMonitor in team-a (last error: HTTP 403: servicemonitors is forbidden)'],
    };
    assert.equal(
      (await route('GET', '/readyz')).body,
      'not ready: caches did not sync within 2m0s: waiting for ServiceMonitor in team-a (last error: HTTP 403: servicemonitors is forbidden)\n',
    );
    readiness = { ready: true };
    assert.deepEqual(await route('GET', '/readyz?verbose'), { status: 200, contentType: 'text/plain; charset=utf-8', body: 'ok\n' });
  });

  it('is live by default and reports a liveness failure', async () => {
    assert.equal((await route('GET', '/healthz')).status, 200);
    const sick = createHealthRoutes({ registry: metrics.registry, readiness: () => ({ ready: true }), liveness: () => ({ live: false, reason: 'event loop stalled' }) });
    assert.deepEqual(await sick('GET', '/healthz'), { status: 503, contentType: 'text/plain; charset=utf-8', body: 'not live: event loop stalled\n' });
  });

  it('serves the registry in the Prometheus text format', async () => {
    const response = await route('GET', '/metrics');
    assert.equal(response.status, 200);
    assert.match(response.contentType, /^text\/plain; version=0\.0\.4/);
    assert.match(response.body, /^smsx_operator_reconcile_total\{result="success"\} 0$/m);
  });

  it('answers 404 for unknown paths and 405 for other methods', async () => {
    assert.equal((await route('GET', '/')).status, 404);
    assert.equal((await route('POST', '/metrics')).status, 405);
    assert.equal((await route('HEAD', '/healthz')).status, 200);
  });

  it('listens on a port and closes cleanly', async () => {
    readiness = { ready: true };
    const server = createHealthServer({ registry: metrics.registry, readiness: () => readiness, logger: pino({ level: 'silent' }) });
    const address = await server.listen(0, '127.0.0.1');
    try {
      const ready = await fetch(`http://127.0.0.1:${address.port}/readyz`);
      assert.equal(ready.status, 200);
      assert.equal(await ready.text(), 'ok\n');
      const scraped = await fetch(`http://127.0.0.1:${address.port}/metrics`);
      assert.match(await scraped.text(), /smsx_operator_workqueue_depth 0/);
    } finally {
      await server.close();
    }
  });
});
