import assert from 'node:assert/strict';
import { smsExperimentSchema, type SmsExperiment, type SmsExperimentStatus } from '../../../../src/crd/schema.ts';
import { alignedAtCommonInstant, judgeStep, sameStep, stepPlan, type StepPlan } from '../../../../src/operator/controller/analysis.ts';
import { createAnalysisLoop } from '../../../../src/operator/controller/analysis-loop.ts';
import { reconcilerPart } from '../../../../src/operator/controller/status.ts';
import type { PrometheusClient, Series } from '../../../../src/operator/prometheus/client.ts';
import type { CacheEntry } from '../../../../src/operator/runtime/informers.ts';
import { liveMetadataSchema } from '../../../../src/operator/kube/objects.ts';
import { ManualClock } from '../support/manual-clock.ts';
import { memoryLogger } from '../support/memory-logger.ts';

const T0 = Date.parse('2026-01-01T00:00:00Z');

function experiment(spec: Record<string, unknown>, status?: SmsExperimentStatus): SmsExperiment {
  return smsExperimentSchema.parse({
    apiVersion: 'experiments.sms-app.io/v1alpha1',
    kind: 'SmsExperiment',
    metadata: { name: 'demo', namespace: 'team', uid: 'u1', generation: 2 },
    spec,
    ...(status ? { status } : {}),
  });
}

const canaryStatus: SmsExperimentStatus = { mode: 'canary', weights: { stable: 90, canary: 10 }, mirrorPercent: 0 };

describe('analysis', () => {
  describe('stepPlan', () => {
    it('judges the split in effect, not the spec, and waits for one with two versions', () => {
      const plan = stepPlan(experiment({}, canaryStatus)) as StepPlan;
      assert.deepEqual(plan.split, { stable: 90, canary: 10 });
      assert.deepEqual(plan.versions, ['v1', 'v2']);
      assert.deepEqual(plan.signals.map((signal) => signal.name), ['errors', 'slow', 'spam', 'guesses']);
      assert.match(plan.signals[0]?.promql ?? '', /^sms_requests_total\{namespace="team",service="demo-app"\}$/);
      const held = stepPlan(experiment({}, { ...canaryStatus, weights: { stable: 100, canary: 0 } }));
      assert.deepEqual(held, { reason: 'NoTrafficSplit', message: 'the split in effect is 100/0: with one version serving there is nothing to compare' });
      assert.equal((stepPlan(experiment({})) as { reason: string }).reason, 'NotReconciledYet');
    });

    it('starts a new step when the split or a version changes', () => {
      const first = stepPlan(experiment({}, canaryStatus)) as StepPlan;
      const resplit = stepPlan(experiment({}, { ...canaryStatus, weights: { stable: 50, canary: 50 } })) as StepPlan;
      const renamed = stepPlan(experiment({ app: { canary: { version: 'v3' } } }, canaryStatus)) as StepPlan;
      assert.equal(new Set([first.step, resplit.step, renamed.step]).size, 3);
      const status = { ...canaryStatus, analysis: { step: first.step, stepStartedAt: 'x', alpha: 0.05 } };
      assert.ok(sameStep(status, first));
      assert.equal(sameStep(status, resplit), undefined);
    });

    it('compares the shadow with the stable model in shadow mode', () => {
      const plan = stepPlan(experiment({ mode: 'shadow' }, { mode: 'shadow', weights: { stable: 100, canary: 0 }, mirrorPercent: 10 })) as StepPlan;
      assert.equal(plan.kind, 'shadow');
      assert.deepEqual(plan.versions, ['shadow']);
      assert.match(plan.signals[0]?.promql ?? '', /^sms_model_shadow_comparisons_total\{namespace="team",service="demo-model"\}$/);
    });
  });

  describe('alignedAtCommonInstant', () => {
    const series = (version: string, samples: Array<[number, number]>): Series => ({ labels: { version }, samples: samples.map(([timestamp, value]) => ({ timestamp, value })) });

    it('reads every live series at the newest instant all have reached, interpolating down to a whole count', () => {
      const aligned = alignedAtCommonInstant([series('v1', [[10, 100], [11, 200]]), series('v2', [[10.4, 10]])]);
      assert.deepEqual(aligned[0]?.samples, [{ timestamp: 10, value: 100 }, { timestamp: 10.4, value: 140 }]);
      assert.deepEqual(aligned[1]?.samples, [{ timestamp: 10.4, value: 10 }]);
    });

    it('ignores a stopped series for the instant, and does not interpolate across a reset', () => {
      const aligned = alignedAtCommonInstant([series('gone', [[1, 5]]), series('v1', [[100, 50], [101, 3]]), series('v2', [[100.5, 9]])]);
      assert.deepEqual(aligned[0]?.samples, [{ timestamp: 1, value: 5 }]);
      assert.deepEqual(aligned[1]?.samples, [{ timestamp: 100, value: 50 }], 'the reset is counted next round');
    });
  });

  it('judgeStep: counts in, a verdict per signal and overall, state that survives JSON', () => {
    const plan = stepPlan(experiment({}, canaryStatus)) as StepPlan;
    const counts = (stable: [number, number], canary: [number, number]) => ({ v1: { trials: stable[0], events: stable[1] }, v2: { trials: canary[0], events: canary[1] } });
    const collected = {
      counts: { errors: counts([9000, 9], [1000, 60]), slow: counts([9000, 90], [1000, 10]), spam: counts([8991, 900], [940, 94]), guesses: counts([0, 0], [0, 0]) },
      counters: {},
    };
    const first = judgeStep(plan, undefined, collected, { alpha: 0.05, now: T0 });
    assert.equal(first.verdict, 'worse');
    assert.equal(first.signals?.find((signal) => signal.name === 'errors')?.verdict, 'worse');
    assert.equal(first.stepStartedAt, '2026-01-01T00:00:00Z');
    const roundTripped = JSON.parse(JSON.stringify(first)) as typeof first;
    const again = judgeStep(plan, roundTripped, collected, { alpha: 0.05, now: T0 + 1_000 });
    assert.equal(again.stepStartedAt, '2026-01-01T00:00:00Z', 'the step keeps its start');
    assert.deepEqual(again.signals, first.signals);
    for (const signal of again.signals ?? []) for (const value of [signal.pValue, signal.srmPValue, signal.rateRatio ?? 0, ...(signal.interval ?? [])]) assert.ok(Number.isFinite(value));
  });

  it('judgeStep: a failing canary is worse even while its completed requests lag behind the split', () => {
    const plan = stepPlan(experiment({}, canaryStatus)) as StepPlan;
    const lagging = { v1: { trials: 9000, events: 0 }, v2: { trials: 300, events: 200 } };
    const balanced = { v1: { trials: 9000, events: 0 }, v2: { trials: 300, events: 0 } };
    const judged = judgeStep(plan, undefined, { counts: { errors: lagging, slow: balanced, spam: balanced, guesses: balanced }, counters: {} }, { alpha: 0.05, now: T0 });
    const errors = judged.signals?.find((signal) => signal.name === 'errors');
    assert.ok((errors?.srmPValue ?? 1) <= 0.05, 'the split of completed requests is off');
    assert.equal(errors?.verdict, 'worse');
    assert.equal(judged.signals?.find((signal) => signal.name === 'slow')?.verdict, 'sample-ratio-mismatch', 'slow counts every request too');
    assert.equal(judged.verdict, 'worse', 'the regression outranks the mismatch it causes');
    const mismatchOnly = judgeStep(plan, undefined, { counts: { errors: balanced, slow: balanced, spam: balanced, guesses: balanced }, counters: {} }, { alpha: 0.05, now: T0 });
    assert.equal(mismatchOnly.verdict, 'sample-ratio-mismatch', 'a broken split with no regression is reported as such');
  });

  it('reconcilerPart leaves out what the analysis loop owns', () => {
    const status: SmsExperimentStatus = {
      ...canaryStatus,
      conditions: [
        { type: 'Ready', status: 'True', reason: 'Reconciled', message: '', lastTransitionTime: 'x' },
        { type: 'Analysed', status: 'True', reason: 'Worse', message: '', lastTransitionTime: 'x' },
      ],
      analysis: { step: 's', stepStartedAt: 'x', alpha: 0.05 },
    };
    assert.deepEqual(reconcilerPart(status), { ...canaryStatus, conditions: [status.conditions?.[0]] });
  });

  it('the loop: Prometheus unreachable gives AnalysisUnavailable, one Warning, and keeps the last analysis', async () => {
    const kept = { step: 'earlier', stepStartedAt: 'x', alpha: 0.05, verdict: 'no-difference-yet' as const };
    let object = experiment({}, { ...canaryStatus, analysis: kept });
    const writes: Array<Record<string, unknown>> = [];
    const warnings: string[] = [];
    const unreachable: PrometheusClient = { baseUrl: 'http://prometheus:9090', query: () => Promise.resolve({ ok: false, problem: { kind: 'unreachable', message: 'connect ECONNREFUSED' } }) };
    const loop = createAnalysisLoop({
      experiments: () => [{ valid: true, object, metadata: liveMetadataSchema.parse(object.metadata) } satisfies CacheEntry<SmsExperiment>],
      prometheus: unreachable,
      writer: {
        applyStatus: (_type, _subject, status) => {
          writes.push(status as Record<string, unknown>);
          object = experiment({}, { ...object.status, ...(status as SmsExperimentStatus) });
          return Promise.resolve(true);
        },
      },
      recorder: { normal: () => undefined, warning: (_s, _l, details) => warnings.push(details.reason), flush: () => Promise.resolve() },
      metrics: { setAnalysis: () => undefined, countError: () => undefined, setProgression: () => undefined, countProgression: () => undefined },
      clock: new ManualClock(T0),
      logger: memoryLogger().logger,
      intervalMs: 1_000,
      prometheusUrl: 'http://prometheus:9090',
    });
    await loop.runOnce();
    await loop.runOnce();
    assert.equal(writes.length, 1, 'an unchanged condition is not written again');
    const [write] = writes as Array<{ conditions: Array<{ type: string; status: string; reason: string; message: string }>; analysis: unknown }>;
    assert.equal(write?.conditions[0]?.reason, 'AnalysisUnavailable');
    assert.match(write?.conditions[0]?.message ?? '', /^cannot read the evidence from Prometheus at http:\/\/prometheus:9090: unreachable: connect ECONNREFUSED; no verdict/);
    assert.deepEqual(write?.analysis, kept, 'missing data changes no evidence');
    assert.deepEqual(warnings, ['AnalysisUnavailable']);
  });
});
