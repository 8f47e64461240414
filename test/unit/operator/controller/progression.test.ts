import assert from 'node:assert/strict';
import { smsExperimentSpecSchema, type AnalysisStatus, type ProgressionStatus, type SmsExperimentSpec } from '../../../../src/crd/schema.ts';
import { effectiveSpec, nextProgression, runIdentity, runKey, type ProgressionInput, type ProgressionOutcome } from '../../../../src/operator/controller/progression.ts';
import { stepPlan, type StepPlan } from '../../../../src/operator/controller/analysis.ts';

const T0 = Date.parse('2026-01-01T00:00:00Z');

const canarySpec = (progression: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): SmsExperimentSpec =>
  smsExperimentSpecSchema.parse({ analysis: { progression: { steps: [10, 50, 100], minCanaryRequests: 100, ...progression } }, ...extra });
const shadowSpec = (fromShadow: Record<string, unknown> = {}): SmsExperimentSpec =>
  smsExperimentSpecSchema.parse({ mode: 'shadow', model: { shadow: { image: 'registry/model:candidate', artifact: 'v3' } }, analysis: { progression: { steps: [20, 100], fromShadow: { minComparisons: 100, ...fromShadow } } } });

type Arm = [trials: number, events: number];
/** A canary step's analysis: errors as given, the other signals healthy with plenty of requests. */
function evidence(errors: { stable: Arm; canary: Arm; interval: [number, number]; verdict?: AnalysisStatus['verdict'] }, verdict: AnalysisStatus['verdict'] = errors.verdict ?? 'no-difference-yet'): AnalysisStatus {
  const signal = (name: string, stable: Arm, canary: Arm, interval: [number, number], own: string) => ({
    name,
    stable: { trials: stable[0], events: stable[1] },
    canary: { trials: canary[0], events: canary[1] },
    verdict: own as 'worse',
    pValue: 1,
    srmPValue: 1,
    interval,
  });
  const healthy = (name: string) => signal(name, errors.stable, [errors.canary[0], 0], [0, -1], 'no-difference-yet');
  return {
    step: 'step',
    stepStartedAt: new Date(T0).toISOString(),
    alpha: 0.05,
    verdict,
    signals: [signal('errors', errors.stable, errors.canary, errors.interval, errors.verdict ?? 'no-difference-yet'), healthy('slow'), healthy('spam'), healthy('guesses')],
  };
}
const GOOD = evidence({ stable: [27_000, 0], canary: [3_000, 0], interval: [0, -1] });
const BAD = evidence({ stable: [9_000, 2], canary: [1_000, 40], interval: [4, 200], verdict: 'worse' }, 'worse');
const SRM = evidence({ stable: [9_000, 0], canary: [300, 0], interval: [0, -1], verdict: 'sample-ratio-mismatch' }, 'sample-ratio-mismatch');

function round(spec: SmsExperimentSpec, stored: ProgressionStatus | undefined, extra: Partial<ProgressionInput> = {}): ProgressionOutcome {
  const weights = stored?.weights ?? { stable: 90, canary: 10 };
  return nextProgression({ spec, stored, inEffect: { mode: stored?.mode ?? 'canary', weights, mirrorPercent: stored?.mode === 'shadow' ? 10 : 0 }, analysis: undefined, request: undefined, now: T0, ...extra });
}

describe('progression', () => {
  describe('effectiveSpec', () => {
    it('leaves a spec without a progression as it is', () => {
      const spec = smsExperimentSpecSchema.parse({});
      assert.equal(effectiveSpec(spec, undefined), spec);
    });

    it('puts the first step in effect before the loop has written a run, and the run\'s weights after', () => {
      const spec = canarySpec();
      assert.deepEqual(effectiveSpec(spec, undefined).traffic.weights, { stable: 90, canary: 10 });
      const started = round(spec, undefined).progression;
      assert.deepEqual(effectiveSpec(spec, { ...started, weights: { stable: 50, canary: 50 } }).traffic.weights, { stable: 50, canary: 50 });
    });

    it('lets a person\'s edit of spec.traffic.weights take effect at once', () => {
      const started = round(canarySpec(), undefined).progression;
      const edited = canarySpec({}, { traffic: { weights: { stable: 100, canary: 0 } } });
      // Another spec (weights) but the same run: versions and steps are unchanged.
      assert.equal(runIdentity(edited), started.run);
      assert.deepEqual(effectiveSpec(edited, started).traffic.weights, { stable: 100, canary: 0 });
    });

    it('keeps shadow mode while the shadow is judged, then runs the shadow model in the canary slot', () => {
      const spec = shadowSpec();
      const started = round(spec, undefined).progression;
      assert.equal(effectiveSpec(spec, started).mode, 'shadow');
      const promoted = effectiveSpec(spec, { ...started, mode: 'canary', step: 1, weights: { stable: 80, canary: 20 } });
      assert.equal(promoted.mode, 'canary');
      assert.deepEqual(promoted.traffic.weights, { stable: 80, canary: 20 });
      assert.equal(promoted.model.canary.image, 'registry/model:candidate');
      assert.equal(promoted.model.canary.artifact, 'v3');
      assert.equal(promoted.model.canary.version, 'v2', 'the slot keeps its version label (its subset)');
    });
  });

  describe('the analysis step of a run', () => {
    it('differs for a new canary image at the same weight, and for a restart of the evidence, so no evidence is inherited', () => {
      const status = { mode: 'canary' as const, weights: { stable: 90, canary: 10 }, mirrorPercent: 0 };
      const planOf = (spec: SmsExperimentSpec, epoch: number) => {
        const experiment = { apiVersion: 'experiments.sms-app.io/v1alpha1' as const, kind: 'SmsExperiment' as const, metadata: { name: 'demo', namespace: 'team' }, spec, status };
        return (stepPlan(experiment, runKey(runIdentity(spec), epoch)) as StepPlan).step;
      };
      const first = canarySpec();
      const fixed = canarySpec({}, { app: { canary: { image: 'registry/app:fixed' } } });
      assert.notEqual(planOf(first, 0), planOf(fixed, 0));
      assert.notEqual(planOf(first, 0), planOf(first, 1));
      assert.equal(planOf(first, 0), planOf(canarySpec(), 0), 'the same run keeps its step');
      assert.match(planOf(first, 0), /split 90\/10 run [0-9a-f]{8} epoch 0$/);
    });
  });

  describe('nextProgression', () => {
    it('starts a run at the first step and waits until its weights are in effect', () => {
      const { progression, events } = round(canarySpec(), undefined, { inEffect: { mode: 'canary', weights: { stable: 100, canary: 0 } } });
      assert.equal(progression.phase, 'Progressing');
      assert.equal(progression.step, 1);
      assert.deepEqual(progression.weights, { stable: 90, canary: 10 });
      assert.equal(progression.stepStartedAt, undefined);
      assert.match(progression.message, /waiting for 10% to take effect \(in effect: 100\/0/);
      assert.deepEqual(events.map((event) => event.reason), ['RunStarted']);
    });

    it('starts the step\'s clock when its weights take effect and waits for evidence', () => {
      const started = round(canarySpec(), undefined).progression;
      const { progression, events } = round(canarySpec(), started);
      assert.equal(progression.stepStartedAt, '2026-01-01T00:00:00Z');
      assert.match(progression.message, /waiting for the first evidence/);
      assert.deepEqual(events, []);
    });

    it('advances on evidence, records the step, and promotes on reaching 100%', () => {
      const spec = canarySpec();
      const first = round(spec, round(spec, undefined).progression).progression;
      const second = round(spec, first, { analysis: GOOD, now: T0 + 60_000 });
      assert.equal(second.progression.step, 2);
      assert.deepEqual(second.progression.weights, { stable: 50, canary: 50 });
      assert.equal(second.progression.history.length, 1);
      assert.deepEqual({ ...second.progression.history[0], message: '' }, {
        step: 1, canaryWeight: 10, startedAt: '2026-01-01T00:00:00Z', endedAt: '2026-01-01T00:01:00Z', outcome: 'Advanced', canaryRequests: 3_000, message: '',
      });
      assert.deepEqual(second.events.map((event) => event.reason), ['StepAdvanced']);
      const inEffect = round(spec, second.progression, { now: T0 + 61_000 }).progression;
      const promoted = round(spec, inEffect, { analysis: GOOD, now: T0 + 120_000 });
      assert.equal(promoted.progression.phase, 'Promoted');
      assert.deepEqual(promoted.progression.weights, { stable: 0, canary: 100 });
      assert.match(promoted.progression.nextAction ?? '', /^promote: set spec.app.stable to the canary's image/);
      assert.deepEqual(promoted.events.map((event) => event.reason), ['Promoted']);
      // Terminal: later rounds change nothing.
      assert.deepEqual(round(spec, promoted.progression, { analysis: GOOD }).progression, promoted.progression);
    });

    it('promotes at once when the only step is 100%', () => {
      const spec = canarySpec({ steps: [100] });
      const { progression } = round(spec, undefined);
      assert.equal(progression.phase, 'Promoted');
      assert.deepEqual(progression.weights, { stable: 0, canary: 100 });
    });

    it('rolls back at once on a gate shown worse, naming the signal and its evidence', () => {
      const spec = canarySpec();
      const first = round(spec, round(spec, undefined).progression).progression;
      const { progression, events } = round(spec, first, { analysis: BAD, now: T0 + 5_000 });
      assert.equal(progression.phase, 'RolledBack');
      assert.deepEqual(progression.weights, { stable: 100, canary: 0 });
      assert.equal(events[0]?.type, 'Warning');
      assert.equal(events[0]?.reason, 'RolledBack');
      assert.match(events[0]?.message ?? '', /errors/);
      assert.match(events[0]?.message ?? '', /40\/1000|40\/1,000/);
      assert.equal(progression.history.at(-1)?.outcome, 'RolledBack');
    });

    it('halts on a broken split and resumes with fresh evidence', () => {
      const spec = canarySpec();
      const first = round(spec, round(spec, undefined).progression).progression;
      const halted = round(spec, first, { analysis: SRM });
      assert.equal(halted.progression.phase, 'Halted');
      assert.equal(halted.events[0]?.type, 'Warning');
      const resumed = round(spec, halted.progression, { request: 'resume/1' });
      assert.equal(resumed.progression.phase, 'Progressing');
      assert.equal(resumed.progression.epoch, first.epoch + 1);
      assert.equal(resumed.progression.handledRequest, 'resume/1');
    });

    it('holds a step that reached its maximum duration without evidence, or advances if asked to', () => {
      const undecided = evidence({ stable: [900, 0], canary: [100, 0], interval: [0, -1] });
      const hold = canarySpec({ maxStepDuration: '1m' });
      const first = round(hold, round(hold, undefined).progression).progression;
      const held = round(hold, first, { analysis: undecided, now: T0 + 61_000 });
      assert.equal(held.progression.phase, 'Paused');
      assert.equal(held.progression.pausedBy, 'max-duration');
      const stillHeld = round(hold, held.progression, { analysis: undecided, now: T0 + 70_000 });
      assert.equal(stillHeld.progression.phase, 'Paused');
      assert.deepEqual(stillHeld.events, [], 'held once, not every round');
      assert.equal(round(hold, held.progression, { analysis: GOOD, now: T0 + 90_000 }).progression.step, 2, 'later evidence still advances a held step');
      assert.equal(round(hold, held.progression, { analysis: BAD, now: T0 + 90_000 }).progression.phase, 'RolledBack', 'and a regression still rolls it back');
      const onward = canarySpec({ maxStepDuration: '1m', onMaxDuration: 'advance' });
      const advanced = round(onward, round(onward, round(onward, undefined).progression).progression, { analysis: undecided, now: T0 + 61_000 });
      assert.equal(advanced.progression.step, 2);
      assert.equal(round(onward, first, { analysis: undecided, now: T0 + 30_000 }).progression.step, 1, 'before the bound it waits');
    });

    it('acts on each request once: pause, resume, skip, promote, abort, retry', () => {
      const spec = canarySpec();
      const first = round(spec, round(spec, undefined).progression).progression;
      const paused = round(spec, first, { request: 'pause/a' }).progression;
      assert.equal(paused.phase, 'Paused');
      assert.equal(paused.pausedBy, 'request');
      assert.equal(round(spec, paused, { request: 'pause/a', analysis: GOOD }).progression.phase, 'Paused', 'paused: no evidence is acted on');
      const resumed = round(spec, paused, { request: 'resume/b' }).progression;
      assert.equal(resumed.phase, 'Progressing');
      assert.equal(resumed.epoch, first.epoch, 'a plain pause keeps the evidence');
      const skipped = round(spec, resumed, { request: 'skip/c' }).progression;
      assert.equal(skipped.step, 2);
      assert.equal(skipped.history.at(-1)?.outcome, 'Skipped');
      const aborted = round(spec, skipped, { request: 'abort/d' });
      assert.equal(aborted.progression.phase, 'Aborted');
      assert.deepEqual(aborted.progression.weights, { stable: 100, canary: 0 });
      assert.equal(aborted.events[0]?.type, 'Warning');
      const retried = round(spec, aborted.progression, { request: 'retry/e' }).progression;
      assert.equal(retried.phase, 'Progressing');
      assert.equal(retried.step, 1);
      assert.deepEqual(retried.history, []);
      const promoted = round(spec, retried, { request: 'promote/f' }).progression;
      assert.equal(promoted.phase, 'Promoted');
    });

    it('ignores an unknown or out-of-place request with a Warning', () => {
      const spec = canarySpec();
      const first = round(spec, round(spec, undefined).progression).progression;
      const unknown = round(spec, first, { request: 'rewind/1' });
      assert.equal(unknown.progression.phase, 'Progressing');
      assert.equal(unknown.events[0]?.reason, 'RequestIgnored');
      assert.match(unknown.events[0]?.message ?? '', /unknown action "rewind"/);
      const early = round(spec, first, { request: 'retry/2' });
      assert.match(early.events[0]?.message ?? '', /retry restarts a run that ended/);
    });

    it('pauses on a person\'s weight edit, their weights in effect, and resumes from the same step', () => {
      const spec = canarySpec();
      const first = round(spec, round(spec, undefined).progression).progression;
      const edited = canarySpec({}, { traffic: { weights: { stable: 70, canary: 30 } } });
      const paused = round(edited, first, { analysis: GOOD });
      assert.equal(paused.progression.phase, 'Paused');
      assert.equal(paused.progression.pausedBy, 'weights-edited');
      assert.equal(paused.progression.weightsFrom, 'spec');
      assert.equal(paused.events[0]?.reason, 'WeightsEdited');
      assert.deepEqual(effectiveSpec(edited, paused.progression).traffic.weights, { stable: 70, canary: 30 });
      const resumed = round(edited, paused.progression, { request: 'resume/x' }).progression;
      assert.equal(resumed.step, 1);
      assert.deepEqual(effectiveSpec(edited, resumed).traffic.weights, { stable: 90, canary: 10 }, 'resume drives the steps again');
      assert.equal(resumed.epoch, first.epoch + 1);
    });

    it('starts a new run when the versions under test change', () => {
      const spec = canarySpec();
      const rolledBack = round(spec, round(spec, round(spec, undefined).progression).progression, { analysis: BAD }).progression;
      const fixed = canarySpec({}, { app: { canary: { image: 'registry/app:fixed' } } });
      const { progression, events } = round(fixed, rolledBack);
      assert.equal(progression.phase, 'Progressing');
      assert.equal(progression.step, 1);
      assert.deepEqual(events.map((event) => event.reason), ['RunStarted']);
    });

    it('takes a shadow that agrees to the canary steps, and keeps one that disagrees in shadow', () => {
      const spec = shadowSpec({ minAgreement: 0.9 });
      const started = round(spec, undefined, { inEffect: { mode: 'shadow', weights: { stable: 100, canary: 0 }, mirrorPercent: 10 } }).progression;
      assert.equal(started.phase, 'Shadowing');
      const shadow = (agree: number, disagree: number, interval: [number, number]): AnalysisStatus => ({
        step: 'shadow',
        stepStartedAt: new Date(T0).toISOString(),
        alpha: 0.05,
        shadow: { version: 'shadow', bothSpam: Math.round(agree * 0.13), bothHam: agree - Math.round(agree * 0.13), shadowOnlySpam: disagree, stableOnlySpam: 0, agreementRate: agree / (agree + disagree), agreementInterval: interval, lean: 'no-lean-yet', leanPValue: 1 },
      });
      const shadowInEffect = { mode: 'shadow' as const, weights: { stable: 100, canary: 0 }, mirrorPercent: 10 };
      const passed = round(spec, started, { inEffect: shadowInEffect, analysis: shadow(1_000, 5, [0.95, 0.999]) });
      assert.equal(passed.progression.phase, 'Progressing');
      assert.equal(passed.progression.mode, 'canary');
      assert.deepEqual(passed.progression.weights, { stable: 80, canary: 20 });
      assert.deepEqual(passed.events.map((event) => event.reason), ['ShadowPassed']);
      assert.equal(passed.progression.history[0]?.outcome, 'ShadowPassed');
      const rejected = round(spec, started, { inEffect: shadowInEffect, analysis: shadow(600, 400, [0.5, 0.7]) });
      assert.equal(rejected.progression.phase, 'ShadowRejected');
      assert.equal(rejected.progression.mode, 'shadow');
      assert.match(rejected.progression.message, /stays in shadow/);
      assert.equal(rejected.events[0]?.type, 'Warning');
    });
  });
});
