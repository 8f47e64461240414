import assert from 'node:assert/strict';
import { register as globalRegistry } from 'prom-client';
import { createMetrics } from '../../../../src/operator/runtime/metrics.ts';

async function value(metrics: ReturnType<typeof createMetrics>, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  const sample = metric?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l) && (Object.keys(labels).length > 0 || !('le' in v.labels)));
  return sample?.value;
}

describe('metrics', () => {
  it('uses its own registry, not the global one', () => {
    const metrics = createMetrics({ processMetrics: false });
    assert.notEqual(metrics.registry, globalRegistry);
    assert.equal(globalRegistry.getSingleMetric('smsx_operator_reconcile_total'), undefined);
    createMetrics({ processMetrics: false }); // a second instance does not collide
  });

  it('counts reconciles by result and errors by reason, and times them', async () => {
    const metrics = createMetrics({ processMetrics: false });
    assert.equal(await value(metrics, 'smsx_operator_reconcile_total', { result: 'error' }), 0, 'pre-created at zero');
    metrics.observeReconcile('success', 0.004);
    metrics.observeReconcile('requeue', 0.02);
    metrics.observeReconcile('error', 0.3, 'OwnershipConflict');
    metrics.observeReconcile('error', 0.3);
    metrics.countError('StatusWriteFailed');
    assert.equal(await value(metrics, 'smsx_operator_reconcile_total', { result: 'success' }), 1);
    assert.equal(await value(metrics, 'smsx_operator_reconcile_total', { result: 'requeue' }), 1);
    assert.equal(await value(metrics, 'smsx_operator_reconcile_total', { result: 'error' }), 2);
    assert.equal(await value(metrics, 'smsx_operator_reconcile_errors_total', { reason: 'OwnershipConflict' }), 1);
    assert.equal(await value(metrics, 'smsx_operator_reconcile_errors_total', { reason: 'Unknown' }), 1);
    assert.equal(await value(metrics, 'smsx_operator_reconcile_errors_total', { reason: 'StatusWriteFailed' }), 1);
    const text = await metrics.registry.metrics();
    assert.match(text, /^smsx_operator_reconcile_duration_seconds_bucket\{le="0\.005"\} 1$/m);
    assert.match(text, /^smsx_operator_reconcile_duration_seconds_count 4$/m);
  });

  it('exports each experiment\'s conditions and progression phase, replacing the old series and dropping them when it is gone', async () => {
    const metrics = createMetrics({ processMetrics: false });
    const series = async () =>
      ((await metrics.registry.getMetricsAsJSON()).filter((metric) => ['smsx_operator_experiment_condition', 'smsx_operator_progression_phase', 'smsx_operator_analysis_p_value'].includes(metric.name)))
        .flatMap((metric) => metric.values.map((one) => `${metric.name}{${Object.entries(one.labels).map(([key, label]) => `${key}=${String(label)}`).join(',')}} ${one.value}`))
        .sort();
    metrics.setConditions('sms', 'a', [{ type: 'Ready', status: 'False' }, { type: 'Degraded', status: 'True' }]);
    metrics.setConditions('sms', 'a', [{ type: 'Ready', status: 'True' }, { type: 'Degraded', status: 'False' }]);
    metrics.setConditions('sms', 'b', [{ type: 'Degraded', status: 'True' }]);
    metrics.setProgression('sms', 'a', 1, 10, 'Progressing');
    metrics.setProgression('sms', 'a', 1, 0, 'RolledBack');
    metrics.setAnalysis('sms', 'a', 'errors', 0.01, 2);
    assert.deepEqual(await series(), [
      'smsx_operator_analysis_p_value{namespace=sms,experiment=a,signal=errors} 0.01',
      'smsx_operator_experiment_condition{namespace=sms,experiment=a,condition=Degraded,status=False} 1',
      'smsx_operator_experiment_condition{namespace=sms,experiment=a,condition=Ready,status=True} 1',
      'smsx_operator_experiment_condition{namespace=sms,experiment=b,condition=Degraded,status=True} 1',
      'smsx_operator_progression_phase{namespace=sms,experiment=a,phase=RolledBack} 1',
    ]);
    metrics.forgetExperiment('sms', 'a');
    assert.deepEqual(await series(), ['smsx_operator_experiment_condition{namespace=sms,experiment=b,condition=Degraded,status=True} 1']);
  });

  it('counts informer restarts by kind and reads the queue depth at scrape time', async () => {
    const metrics = createMetrics({ processMetrics: false });
    metrics.informerRestarted('Deployment');
    metrics.informerRestarted('Deployment');
    let depth = 3;
    metrics.trackQueueDepth(() => depth);
    assert.equal(await value(metrics, 'smsx_operator_informer_restarts_total', { kind: 'Deployment' }), 2);
    assert.equal(await value(metrics, 'smsx_operator_workqueue_depth'), 3);
    depth = 0;
    assert.equal(await value(metrics, 'smsx_operator_workqueue_depth'), 0);
  });

  it('computes the age of the last successful sync at scrape time, from start before the first', async () => {
    let now = 10_000;
    const metrics = createMetrics({ processMetrics: false, now: () => now });
    now = 12_500;
    assert.equal(await value(metrics, 'smsx_operator_last_successful_sync_age_seconds'), 2.5);
    metrics.observeReconcile('success', 0.01);
    now = 13_000;
    assert.equal(await value(metrics, 'smsx_operator_last_successful_sync_age_seconds'), 0.5);
    metrics.observeReconcile('error', 0.01, 'ApplyFailed');
    now = 20_000;
    assert.equal(await value(metrics, 'smsx_operator_last_successful_sync_age_seconds'), 7.5, 'an error does not reset the age');
  });

  it('includes the default process metrics', async () => {
    const metrics = createMetrics();
    assert.match(await metrics.registry.metrics(), /^process_cpu_user_seconds_total /m);
  });
});
