import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { OPERATOR_METRICS_JOB, OWN_MONITORING_FILES, operatorAlertRules, operatorDashboard } from '../../../src/operator/own-monitoring.ts';
import { createMetrics } from '../../../src/operator/runtime/metrics.ts';

const repositoryRoot = path.resolve(import.meta.dirname, '../../..');

/** Metric names a PromQL expression selects (identifiers followed by `{`). */
const selectedMetrics = (expr: string) => [...expr.matchAll(/([a-z_:][a-z0-9_:]*)\{/g)].map((match) => match[1] ?? '');

describe("the operator's own dashboard and alerts", () => {
  it('are committed as npm run generate writes them (config/manager, hence the bundle)', async () => {
    for (const [file, generate] of Object.entries(OWN_MONITORING_FILES)) {
      assert.equal(await readFile(path.join(repositoryRoot, file), 'utf8'), generate(), `${file} is stale: run npm run generate`);
    }
    const kustomization = await readFile(path.join(repositoryRoot, 'config/manager/kustomization.yaml'), 'utf8');
    for (const file of Object.keys(OWN_MONITORING_FILES)) assert.ok(kustomization.includes(path.basename(file)), `config/manager/kustomization.yaml lists ${file}`);
  });

  it('query only metrics the operator exports, each scoped to its metrics job', async () => {
    const exported = new Set((await createMetrics({ processMetrics: false }).registry.getMetricsAsJSON()).flatMap((metric) => [metric.name, `${metric.name}_bucket`]));
    exported.add('up');
    const expressions = [...operatorDashboard().panels.flatMap((panel) => panel.targets.map((target) => target.expr)), ...operatorAlertRules().map((rule) => rule.expr)];
    for (const expr of expressions) {
      const metrics = selectedMetrics(expr);
      assert.ok(metrics.length > 0, expr);
      for (const metric of metrics) assert.ok(exported.has(metric), `${metric} in ${expr} is not an operator metric`);
      assert.equal(expr.split(`job="${OPERATOR_METRICS_JOB}"`).length - 1, metrics.length, `every selector of ${expr} names the job`);
    }
  });

  it('covers what the issue asks: reconciles, errors by reason, queue depth, API requests, experiments by condition and phase', () => {
    const titles = operatorDashboard().panels.map((panel) => panel.title);
    for (const wanted of ['Reconciles/s by result', 'Reconcile errors/s by reason', 'Work queue depth', 'API requests/s by verb and code', 'Experiments by condition', 'Experiments by progression phase']) {
      assert.ok(titles.includes(wanted), `${wanted} in ${titles.join(', ')}`);
    }
    assert.deepEqual(operatorAlertRules().map((rule) => rule.alert), ['SmsExperimentOperatorDown', 'SmsExperimentReconcileErrors', 'SmsExperimentDegraded', 'SmsExperimentRolledBack']);
  });
});
