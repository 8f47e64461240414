import assert from 'node:assert/strict';
import {
  AnalysisInputError,
  decideShadow,
  decideStep,
  judgeExperiment,
  logBayesFactor,
  type ShadowEvidence,
  type ShadowRule,
  type SignalCounts,
  type StepEvidence,
  type StepRule,
} from '../../../src/analysis/index.ts';

const RULE: StepRule = {
  gates: [
    { signal: 'errors', margin: 0.2, negligibleRate: 0.01 },
    { signal: 'slow', margin: 0.2, negligibleRate: 0.01 },
  ],
  minCanaryRequests: 200,
  maxStepSeconds: 600,
  onMaxDuration: 'advance',
  alpha: 0.05,
  signalCount: 4,
};

type Signal = StepEvidence['signals'][number];
const UNBOUNDED = -1;

/** One signal of the evidence: counts, the ratio interval as status holds it, and a verdict. */
function signal(name: string, [stableTrials, stableEvents, canaryTrials, canaryEvents]: number[], interval: number[] = [0, UNBOUNDED], verdict = 'no-difference-yet'): Signal {
  return { name, stable: { trials: stableTrials ?? 0, events: stableEvents ?? 0 }, canary: { trials: canaryTrials ?? 0, events: canaryEvents ?? 0 }, verdict, interval };
}

/** Four signals, errors and slow as given, spam and guesses unremarkable. */
function evidence(errors: Signal, slow: Signal, verdict: StepEvidence['verdict'] = 'no-difference-yet'): StepEvidence {
  return { verdict, signals: [errors, slow, signal('spam', [9000, 1170, 1000, 130], [0.8, 1.25]), signal('guesses', [9000, 450, 1000, 50], [0.7, 1.4])] };
}

/** Errors and slow without any event, after `canary` canary and 9× as many stable requests. */
const quiet = (canary: number): StepEvidence => evidence(signal('errors', [9 * canary, 0, canary, 0]), signal('slow', [9 * canary, 0, canary, 0]));

/** Smallest number of canary requests without events whose Beta(1, 1) bound is below `rate`. */
function requestsForNegligible(rate: number, alpha: number, signalCount: number): number {
  // with no event, BF(θ) = 1 / ((n + 1)·(1 − θ)ⁿ), so the bound solves (1 − θ)ⁿ = α′ / (n + 1)
  const bound = (n: number) => 1 - Math.pow((alpha / (2 * signalCount)) / (n + 1), 1 / n);
  let n = 1;
  while (bound(n) >= rate) n += 1;
  return n;
}

function inputError(run: () => unknown, field: string, problem?: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof AnalysisInputError, String(error));
    assert.equal(error.field, field);
    if (problem) assert.match(error.problem, problem);
    return true;
  });
}

describe('analysis: the progression rule of a canary step', () => {
  it('rolls back when a gate\'s ratio interval lies wholly above 1 + margin, naming the signal and the evidence', () => {
    const worse = evidence(signal('errors', [2790, 2, 310, 41], [3.1, 40], 'worse'), signal('slow', [2790, 0, 310, 0]), 'worse');
    const decision = decideStep(RULE, worse, 30);
    assert.equal(decision.action, 'rollback');
    assert.ok(decision.action === 'rollback' && decision.signal === 'errors');
    assert.equal(decision.message, 'errors worse beyond the 20% margin: canary 41/310, stable 2/2790, rate ratio interval [3.1, 40]');
  });

  it('a lower end at 1 + margin exactly is no rollback (it is not beyond the margin)', () => {
    const atMargin = evidence(signal('errors', [2790, 20, 310, 9], [1.2, 3], 'worse'), signal('slow', [2790, 0, 310, 0]));
    assert.equal(decideStep(RULE, atMargin, 30).action, 'wait');
    const justAbove = evidence(signal('errors', [2790, 20, 310, 9], [1.2000001, 3], 'worse'), signal('slow', [2790, 0, 310, 0]));
    assert.equal(decideStep(RULE, justAbove, 30).action, 'rollback');
  });

  it('the margin decides: a canary 1.5× worse within a 60% margin is no rollback', () => {
    const worse = evidence(signal('errors', [90000, 900, 10000, 150], [1.25, 1.8], 'worse'), signal('slow', [90000, 0, 10000, 0]));
    assert.equal(decideStep(RULE, worse, 30).action, 'rollback');
    const wide = { ...RULE, gates: [{ signal: 'errors' as const, margin: 0.6, negligibleRate: 0.01 }, { signal: 'slow' as const, margin: 0.2, negligibleRate: 0.01 }] };
    assert.equal(decideStep(wide, worse, 30).action, 'wait');
  });

  it('any gate rolls back, and only gated signals do', () => {
    const slowWorse = evidence(signal('errors', [9000, 0, 1000, 0]), signal('slow', [9000, 90, 1000, 40], [2, 6], 'worse'));
    const decision = decideStep(RULE, slowWorse, 30);
    assert.ok(decision.action === 'rollback' && decision.signal === 'slow', JSON.stringify(decision));
    assert.match(decision.message, /^slow worse beyond the 20% margin: canary 40\/1000, stable 90\/9000/);
    // spam far worse, but not gated
    const spamWorse: StepEvidence = { verdict: 'worse', signals: [signal('errors', [9000, 0, 3000, 0]), signal('slow', [9000, 0, 3000, 0]), signal('spam', [9000, 900, 3000, 900], [2, 4], 'worse'), signal('guesses', [9000, 450, 3000, 150], [0.7, 1.4])] };
    assert.equal(decideStep(RULE, spamWorse, 30).action, 'advance');
    const spamGated = { ...RULE, gates: [...RULE.gates, { signal: 'spam' as const, margin: 0.5, negligibleRate: 0 }] };
    assert.deepEqual(decideStep(spamGated, spamWorse, 30).action, 'rollback');
  });

  it('halts on a sample-ratio mismatch of errors or slow, not of spam or guesses', () => {
    for (const name of ['errors', 'slow']) {
      const signals = quiet(5000).signals.map((s) => (s.name === name ? { ...s, verdict: 'sample-ratio-mismatch' } : s));
      const decision = decideStep(RULE, { verdict: 'sample-ratio-mismatch', signals }, 30);
      assert.equal(decision.action, 'halt', name);
      assert.match(decision.message, new RegExp(`^sample-ratio mismatch on ${name} \\(canary 5000, stable 45000 requests\\)`));
    }
    for (const name of ['spam', 'guesses']) {
      const signals = quiet(5000).signals.map((s) => (s.name === name ? { ...s, verdict: 'sample-ratio-mismatch' } : s));
      assert.equal(decideStep(RULE, { verdict: 'sample-ratio-mismatch', signals }, 30).action, 'advance', name);
    }
  });

  it('rollback outranks halt, halt outranks advance, even past the maximum duration', () => {
    const both = evidence(signal('errors', [9000, 10, 1000, 50], [8, 90], 'sample-ratio-mismatch'), signal('slow', [9000, 0, 1000, 0], [0, UNBOUNDED], 'sample-ratio-mismatch'));
    assert.equal(decideStep(RULE, both, 30).action, 'rollback');
    assert.equal(decideStep(RULE, both, 6000).action, 'rollback');
    const mismatched = quiet(5000).signals.map((s) => (s.name === 'slow' ? { ...s, verdict: 'sample-ratio-mismatch' } : s));
    assert.equal(decideStep(RULE, quiet(5000), 30).action, 'advance');
    assert.equal(decideStep(RULE, { verdict: 'sample-ratio-mismatch', signals: mismatched }, 30).action, 'halt');
    assert.equal(decideStep(RULE, { verdict: 'sample-ratio-mismatch', signals: mismatched }, 6000).action, 'halt');
  });

  it('advances when the ratio interval lies wholly below 1 + margin; a high end at it exactly, or unbounded, does not', () => {
    const slow = signal('slow', [90000, 0, 10000, 0]);
    const within = decideStep(RULE, evidence(signal('errors', [90000, 900, 10000, 100], [0.8, 1.19]), slow), 30);
    assert.ok(within.action === 'advance' && within.reason === 'evidence', JSON.stringify(within));
    assert.match(within.message, /^every gate passes after 10000 canary requests: errors within the 20% margin \(canary 100\/10000, stable 900\/90000, rate ratio interval \[0\.8, 1\.19\]\); slow below 1% \(canary 0\/10000, stable 0\/90000, canary rate ≤ 0\.\d+%\)$/);
    // 100 canary errors in 10,000 are 1%, no longer negligible: the ratio alone decides
    assert.equal(decideStep(RULE, evidence(signal('errors', [90000, 900, 10000, 100], [0.8, 1.2]), slow), 30).action, 'wait');
    assert.equal(decideStep(RULE, evidence(signal('errors', [90000, 900, 10000, 100], [0.8, UNBOUNDED]), slow), 30).action, 'wait');
  });

  it('a healthy canary without any error advances through negligibleRate: the ratio interval stays unbounded', () => {
    const needed = requestsForNegligible(0.01, RULE.alpha, RULE.signalCount);
    assert.ok(needed > 1000 && needed < 1300, String(needed)); // ≈ 5/0.01 + the mixture's log(n) cost
    const before = decideStep(RULE, quiet(needed - 1), 30);
    assert.equal(before.action, 'wait');
    assert.match(before.message, /errors not shown within the 20% margin nor below 1% \(canary 0\/\d+, stable 0\/\d+, rate ratio interval \[0, unbounded\), canary rate ≤ 1(\.0\d*)?%\)/);
    const after = decideStep(RULE, quiet(needed), 30);
    assert.ok(after.action === 'advance' && after.reason === 'evidence', JSON.stringify(after));
  });

  it('the canary\'s rate bound is the Beta(1, 1) mixture\'s at level 1 − α/(2·signalCount)', () => {
    // with events too: the bound is where the mixture's Bayes factor reaches 2m/α, so halving α
    // or doubling the signals moves it the same way
    const threshold = Math.log((2 * RULE.signalCount) / RULE.alpha);
    const errorsAt = (events: number, trials: number) => evidence(signal('errors', [9 * trials, 9 * events, trials, events], [0, 30]), signal('slow', [9 * trials, 0, trials, 0]));
    // find the trials at which 10 errors become negligible at 2%, and check the factor there
    let trials = 200;
    while (decideStep({ ...RULE, gates: [{ signal: 'errors', margin: 0.2, negligibleRate: 0.02 }] }, errorsAt(10, trials), 30).action !== 'advance') trials += 1;
    const factorAt = (n: number) => logBayesFactor({ a: 1, b: 1 }, 10, n - 10, 0.02, 0.98);
    assert.ok(factorAt(trials) >= threshold && factorAt(trials - 1) < threshold, `${trials}: ${factorAt(trials - 1)} .. ${factorAt(trials)} vs ${threshold}`);
    const stricter = { ...RULE, alpha: 0.01, gates: [{ signal: 'errors' as const, margin: 0.2, negligibleRate: 0.02 }] };
    assert.equal(decideStep(stricter, errorsAt(10, trials), 30).action, 'wait');
    const fewerSignals = { ...RULE, signalCount: 2, gates: [{ signal: 'errors' as const, margin: 0.2, negligibleRate: 0.02 }] };
    const two: StepEvidence = { verdict: 'no-difference-yet', signals: errorsAt(10, trials - 40).signals.slice(0, 2) };
    assert.equal(decideStep(fewerSignals, two, 30).action, 'advance');
    assert.equal(decideStep({ ...RULE, gates: fewerSignals.gates }, errorsAt(10, trials - 40), 30).action, 'wait');
  });

  it('negligibleRate 0 never passes on the rate: only the ratio can', () => {
    const strict = { ...RULE, gates: RULE.gates.map((gate) => ({ ...gate, negligibleRate: 0 })) };
    assert.equal(decideStep(strict, quiet(1_000_000), 30).action, 'wait');
    assert.equal(decideStep(strict, quiet(1_000_000), 600).action, 'advance');
    assert.ok(decideStep({ ...strict, onMaxDuration: 'hold' }, quiet(1_000_000), 600).action === 'hold');
  });

  it('needs minCanaryRequests on the errors signal before the evidence advances', () => {
    // errors not gated: its canary trials still count the step's requests
    const slowOnly = { ...RULE, minCanaryRequests: 3000, gates: [{ signal: 'slow' as const, margin: 0.2, negligibleRate: 0.01 }] };
    const short = evidence(signal('errors', [9 * 2999, 0, 2999, 0]), signal('slow', [90000, 0, 10000, 0]));
    const decision = decideStep(slowOnly, short, 30);
    assert.equal(decision.action, 'wait');
    assert.equal(decision.message, 'waiting: 2999 of 3000 canary requests');
    const enough = evidence(signal('errors', [9 * 3000, 0, 3000, 0]), signal('slow', [90000, 0, 10000, 0]));
    assert.equal(decideStep(slowOnly, enough, 30).action, 'advance');
    assert.equal(decideStep({ ...slowOnly, minCanaryRequests: 0 }, short, 0).action, 'advance');
  });

  it('at the maximum duration: advances without proof (onMaxDuration advance) or holds (hold)', () => {
    const unproven = quiet(300);
    assert.equal(decideStep(RULE, unproven, 599.9).action, 'wait');
    const advanced = decideStep(RULE, unproven, 600);
    assert.ok(advanced.action === 'advance' && advanced.reason === 'max-duration', JSON.stringify(advanced));
    assert.match(advanced.message, /^the step's maximum of 600 s reached without a rollback, advancing without proof: errors not shown within the 20% margin nor below 1% \(canary 0\/300/);
    const hold = { ...RULE, onMaxDuration: 'hold' as const };
    assert.equal(decideStep(hold, unproven, 599.9).action, 'wait');
    const held = decideStep(hold, unproven, 600);
    assert.equal(held.action, 'hold');
    assert.match(held.message, /^the step's maximum of 600 s reached, holding: errors not shown/);
    assert.equal(decideStep(hold, unproven, 86_400).action, 'hold');
    // gates that pass but too few requests: held too, and the message says so
    const few = decideStep({ ...hold, minCanaryRequests: 100_000 }, quiet(5000), 600);
    assert.equal(few.action, 'hold');
    assert.equal(few.message, "the step's maximum of 600 s reached, holding: 5000 of 100000 canary requests");
  });

  it('evidence that arrives after the maximum still advances on evidence, and a regression still rolls back', () => {
    const hold = { ...RULE, onMaxDuration: 'hold' as const };
    const late = decideStep(hold, quiet(5000), 3600);
    assert.ok(late.action === 'advance' && late.reason === 'evidence');
    const afterAdvance = decideStep(RULE, quiet(5000), 3600);
    assert.ok(afterAdvance.action === 'advance' && afterAdvance.reason === 'evidence');
    const worse = evidence(signal('errors', [2790, 2, 310, 41], [3.1, 40], 'worse'), signal('slow', [2790, 0, 310, 0]));
    assert.equal(decideStep(hold, worse, 3600).action, 'rollback');
  });

  it('end to end with judgeExperiment, as the operator reports it', () => {
    const split = { stable: 90, canary: 10 };
    const judged = (canaryErrorRate: number, canaryTrials: number): StepEvidence => {
      const stableTrials = 9 * canaryTrials;
      const counts: Record<string, SignalCounts> = {
        errors: { stable: { trials: stableTrials, events: Math.round(stableTrials * 0.001) }, canary: { trials: canaryTrials, events: Math.round(canaryTrials * canaryErrorRate) } },
        slow: { stable: { trials: stableTrials, events: Math.round(stableTrials * 0.001) }, canary: { trials: canaryTrials, events: Math.round(canaryTrials * 0.001) } },
        spam: { stable: { trials: stableTrials, events: Math.round(stableTrials * 0.13) }, canary: { trials: canaryTrials, events: Math.round(canaryTrials * 0.13) } },
        guesses: { stable: { trials: stableTrials, events: Math.round(stableTrials * 0.05) }, canary: { trials: canaryTrials, events: Math.round(canaryTrials * 0.05) } },
      };
      const result = judgeExperiment(undefined, counts, { split, alpha: 0.05 });
      return {
        verdict: result.verdict,
        signals: Object.entries(result.signals).map(([name, s]) => ({ name, ...s.counts, verdict: s.verdict, interval: [s.interval[0], s.interval[1] ?? UNBOUNDED] })),
      };
    };
    assert.equal(decideStep(RULE, judged(0.001, 1000), 60).action, 'wait');
    const healthy = decideStep(RULE, judged(0.001, 4000), 60);
    assert.ok(healthy.action === 'advance' && healthy.reason === 'evidence', healthy.message);
    const failing = decideStep(RULE, judged(0.05, 1000), 60);
    assert.ok(failing.action === 'rollback' && failing.signal === 'errors', failing.message);
  });

  it('refuses a bad rule, naming the field', () => {
    const ok = quiet(1000);
    const gate = RULE.gates[0];
    assert.ok(gate);
    inputError(() => decideStep({ ...RULE, gates: [] }, ok, 0), 'rule.gates', /at least one gate/);
    inputError(() => decideStep({ ...RULE, gates: [{ ...gate, signal: 'latency' as 'slow' }] }, ok, 0), 'rule.gates[0].signal', /errors, slow, spam, guesses/);
    inputError(() => decideStep({ ...RULE, gates: [gate, { ...gate }] }, ok, 0), 'rule.gates[1].signal', /errors has a gate already/);
    for (const margin of [-0.1, Number.NaN, Infinity]) inputError(() => decideStep({ ...RULE, gates: [{ ...gate, margin }] }, ok, 0), 'rule.gates[0].margin');
    assert.equal(decideStep({ ...RULE, gates: [{ ...gate, margin: 0 }] }, ok, 0).action, 'wait');
    for (const negligibleRate of [-0.01, 1, Number.NaN]) inputError(() => decideStep({ ...RULE, gates: [{ ...gate, negligibleRate }] }, ok, 0), 'rule.gates[0].negligibleRate');
    for (const minCanaryRequests of [-1, 1.5]) inputError(() => decideStep({ ...RULE, minCanaryRequests }, ok, 0), 'rule.minCanaryRequests');
    for (const maxStepSeconds of [0, -5, Number.NaN]) inputError(() => decideStep({ ...RULE, maxStepSeconds }, ok, 0), 'rule.maxStepSeconds');
    inputError(() => decideStep({ ...RULE, onMaxDuration: 'promote' as 'hold' }, ok, 0), 'rule.onMaxDuration');
    for (const alpha of [0, 1, 5]) inputError(() => decideStep({ ...RULE, alpha }, ok, 0), 'rule.alpha');
    for (const signalCount of [0, 2.5]) inputError(() => decideStep({ ...RULE, signalCount }, ok, 0), 'rule.signalCount', /positive integer/);
    inputError(() => decideStep({ ...RULE, signalCount: 3 }, ok, 0), 'rule.signalCount', /evidence has 4 signals/);
    for (const elapsed of [-1, Number.NaN, Infinity]) inputError(() => decideStep(RULE, ok, elapsed), 'elapsedSeconds');
  });

  it('refuses bad evidence, naming the field', () => {
    const base = quiet(1000);
    const withSignal = (i: number, change: Partial<Signal> | Record<string, unknown>): StepEvidence => ({ ...base, signals: base.signals.map((s, j) => (j === i ? ({ ...s, ...change }) : s)) });
    inputError(() => decideStep(RULE, { ...base, verdict: 'fine' as 'worse' }, 0), 'evidence.verdict');
    inputError(() => decideStep(RULE, { ...base, signals: {} as StepEvidence['signals'] }, 0), 'evidence.signals', /list/);
    inputError(() => decideStep(RULE, withSignal(2, { name: '' }), 0), 'evidence.signals[2].name');
    inputError(() => decideStep(RULE, withSignal(2, { name: 'errors' }), 0), 'evidence.signals[2].name', /appears twice/);
    inputError(() => decideStep(RULE, withSignal(0, { canary: { trials: 10, events: -1 } }), 0), 'evidence.signals.errors.canary.events', /non-negative integer/);
    inputError(() => decideStep(RULE, withSignal(1, { stable: { trials: 10, events: 11 } }), 0), 'evidence.signals.slow.stable.events', /11 events exceed 10 trials/);
    inputError(() => decideStep(RULE, withSignal(1, { stable: undefined }), 0), 'evidence.signals.slow.stable.trials');
    inputError(() => decideStep(RULE, withSignal(3, { verdict: 'bad' }), 0), 'evidence.signals.guesses.verdict');
    for (const interval of [[0], [0, 1, 2], [2, 1], [-1, 2], [0, -2], [Number.NaN, 1], [0, Infinity]]) {
      inputError(() => decideStep(RULE, withSignal(0, { interval }), 0), 'evidence.signals.errors.interval', /\[low, high\]/);
    }
    assert.equal(decideStep(RULE, withSignal(0, { interval: [0.5, 0.5] }), 0).action, 'wait');
    const noErrors = { ...base, signals: [...base.signals.slice(1), signal('latency', [1, 0, 1, 0])] };
    inputError(() => decideStep(RULE, noErrors, 0), 'evidence.signals', /no errors signal/);
    const noSlow = { ...base, signals: [...base.signals.filter((s) => s.name !== 'slow'), signal('latency', [1, 0, 1, 0])] };
    inputError(() => decideStep(RULE, noSlow, 0), 'evidence.signals', /no slow signal, which a gate needs/);
  });
});

const SHADOW: ShadowRule = { minAgreement: 0.95, minComparisons: 300, rejectLeans: ['shadow-flags-more-spam'], maxSeconds: 3600 };

function pairs(agreed: number, shadowOnlySpam: number, stableOnlySpam: number, agreementInterval: number[], lean = 'no-lean-yet'): ShadowEvidence {
  return { bothSpam: Math.round(agreed * 0.13), bothHam: agreed - Math.round(agreed * 0.13), shadowOnlySpam, stableOnlySpam, agreementInterval, lean };
}

describe('analysis: the progression rule of a shadow', () => {
  it('advances once enough comparisons show the agreement at minAgreement or more, and no refused lean', () => {
    const decision = decideShadow(SHADOW, pairs(1990, 5, 5, [0.96, 0.999]), 60);
    assert.equal(decision.action, 'advance');
    assert.equal(decision.message, 'agreement shown at 95% or more: 1990 of 2000 messages agree, agreement interval [96%, 99.9%]');
    assert.equal(decideShadow(SHADOW, pairs(1990, 5, 5, [0.95, 0.999]), 60).action, 'advance');
    // a lean the rule accepts does not stop it
    assert.equal(decideShadow(SHADOW, pairs(1990, 1, 9, [0.96, 0.999], 'stable-flags-more-spam'), 60).action, 'advance');
  });

  it('waits for comparisons, and for the interval\'s low end', () => {
    const few = decideShadow(SHADOW, pairs(299, 0, 0, [0.96, 1]), 60);
    assert.equal(few.action, 'wait');
    assert.equal(few.message, 'waiting (299 of 300 comparisons): 299 of 299 messages agree, agreement interval [96%, 100%]');
    assert.equal(decideShadow(SHADOW, pairs(300, 0, 0, [0.96, 1]), 60).action, 'advance');
    const unsure = decideShadow(SHADOW, pairs(379, 0, 5, [0.949, 0.999]), 60);
    assert.equal(unsure.action, 'wait');
    assert.equal(unsure.message, 'waiting (agreement not yet shown at 95% or more): 379 of 384 messages agree, agreement interval [94.9%, 99.9%]');
  });

  it('rejects when the agreement is shown below minAgreement, or the lean is refused', () => {
    const low = decideShadow(SHADOW, pairs(900, 50, 50, [0.88, 0.9499]), 60);
    assert.equal(low.action, 'reject');
    assert.match(low.message, /^agreement below 95%: 900 of 1000 messages agree, agreement interval \[88%, 95%\]$/);
    assert.equal(decideShadow(SHADOW, pairs(900, 50, 50, [0.88, 0.95]), 60).action, 'wait');
    const leaning = decideShadow(SHADOW, pairs(1980, 18, 2, [0.97, 0.995], 'shadow-flags-more-spam'), 60);
    assert.equal(leaning.action, 'reject');
    assert.match(leaning.message, /^the disagreements lean a refused way \(shadow-flags-more-spam: 18 shadow-only spam, 2 stable-only spam\)/);
    assert.equal(decideShadow({ ...SHADOW, rejectLeans: [] }, pairs(1980, 18, 2, [0.97, 0.995], 'shadow-flags-more-spam'), 60).action, 'advance');
  });

  it('rejects at maxSeconds without an advance, saying what was missing; an advance at that time stands', () => {
    assert.equal(decideShadow(SHADOW, pairs(379, 0, 5, [0.949, 0.999]), 3599).action, 'wait');
    const late = decideShadow(SHADOW, pairs(379, 0, 5, [0.949, 0.999]), 3600);
    assert.equal(late.action, 'reject');
    assert.match(late.message, /^the maximum of 3600 s reached without advancing \(agreement not yet shown at 95% or more\)/);
    assert.equal(decideShadow(SHADOW, pairs(1990, 5, 5, [0.96, 0.999]), 3600).action, 'advance');
    // minAgreement 1 can never be shown while a disagreement is possible: only the time limit ends it
    assert.equal(decideShadow({ ...SHADOW, minAgreement: 1 }, pairs(5000, 0, 0, [0.998, 1]), 3600).action, 'reject');
  });

  it('refuses a bad rule or evidence, naming the field', () => {
    const ok = pairs(1990, 5, 5, [0.96, 0.999]);
    for (const minAgreement of [0, 1.01, Number.NaN]) inputError(() => decideShadow({ ...SHADOW, minAgreement }, ok, 0), 'rule.minAgreement');
    inputError(() => decideShadow({ ...SHADOW, minComparisons: -1 }, ok, 0), 'rule.minComparisons');
    inputError(() => decideShadow({ ...SHADOW, rejectLeans: 'shadow-flags-more-spam' as unknown as ShadowRule['rejectLeans'] }, ok, 0), 'rule.rejectLeans');
    inputError(() => decideShadow({ ...SHADOW, rejectLeans: ['no-lean-yet' as 'shadow-flags-more-spam'] }, ok, 0), 'rule.rejectLeans[0]');
    inputError(() => decideShadow({ ...SHADOW, maxSeconds: 0 }, ok, 0), 'rule.maxSeconds');
    inputError(() => decideShadow(SHADOW, { ...ok, stableOnlySpam: 1.5 }, 0), 'evidence.stableOnlySpam');
    for (const agreementInterval of [[0.9], [0.9, 0.8], [-0.1, 0.5], [0.5, 1.1]]) inputError(() => decideShadow(SHADOW, { ...ok, agreementInterval }, 0), 'evidence.agreementInterval');
    inputError(() => decideShadow(SHADOW, { ...ok, lean: 'left' }, 0), 'evidence.lean');
    inputError(() => decideShadow(SHADOW, ok, -1), 'elapsedSeconds');
  });
});
