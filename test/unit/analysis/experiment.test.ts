import assert from 'node:assert/strict';
import { AnalysisInputError, type ExperimentState, judgeExperiment, judgeSignal, overallVerdict, type SignalCounts } from '../../../src/analysis/index.ts';

const SPLIT = { stable: 90, canary: 10 };
const counts = (stableTrials: number, stableEvents: number, canaryTrials: number, canaryEvents: number): SignalCounts => ({
  stable: { trials: stableTrials, events: stableEvents },
  canary: { trials: canaryTrials, events: canaryEvents },
});

describe('analysis: several signals share α', () => {
  it('Bonferroni: with m signals each test runs at α/(2m), and p-values are adjusted by 2m', () => {
    const snapshot = { errors: counts(9000, 20, 1000, 9), slow: counts(9000, 40, 1000, 5), spam: counts(900, 90, 100, 10) };
    const judged = judgeExperiment(undefined, snapshot, { split: SPLIT });
    for (const [name, signal] of Object.entries(judged.signals)) {
      const state = judged.state.signals[name];
      assert.ok(state);
      assert.equal(state.signalCount, 3);
      assert.ok(Math.abs(signal.pValue - Math.min(1, 6 * Math.exp(state.rateLogP))) < 1e-15, name);
      // the same signal alone gets α/2 per test and a p-value adjusted by 2 only
      const alone = judgeSignal(undefined, snapshot[name as keyof typeof snapshot], { split: SPLIT });
      assert.equal(alone.state.rateLogP, state.rateLogP);
      assert.ok(alone.pValue <= signal.pValue);
    }
  });

  it('a difference one signal alone would call worse needs more evidence among three', () => {
    // raw p between α/6 and α/2: rejected alone, not with two more signals
    const sequence = Array.from({ length: 80 }, (_, i) => counts(900 * (i + 1), 2 * (i + 1), 100 * (i + 1), Math.floor(0.55 * (i + 1))));
    let aloneFirst = -1;
    let sharedFirst = -1;
    let alone;
    let shared: ExperimentState | undefined;
    for (const [i, snapshot] of sequence.entries()) {
      const a = judgeSignal(alone, snapshot, { split: SPLIT });
      alone = a.state;
      if (aloneFirst < 0 && a.verdict === 'worse') aloneFirst = i;
      const s = judgeExperiment(shared, { errors: snapshot, slow: counts(900 * (i + 1), 0, 100 * (i + 1), 0), spam: counts(900 * (i + 1), 0, 100 * (i + 1), 0) }, { split: SPLIT });
      shared = s.state;
      if (sharedFirst < 0 && s.signals.errors?.verdict === 'worse') sharedFirst = i;
    }
    assert.ok(aloneFirst >= 0, 'alone it should be called worse');
    assert.ok(sharedFirst === -1 || sharedFirst > aloneFirst, `shared at ${sharedFirst}, alone at ${aloneFirst}`);
  });

  it('the overall verdict: SRM before worse before better before no-difference-yet', () => {
    assert.equal(overallVerdict(['better', 'worse', 'no-difference-yet']), 'worse');
    assert.equal(overallVerdict(['better', 'no-difference-yet']), 'better');
    assert.equal(overallVerdict(['worse', 'sample-ratio-mismatch']), 'sample-ratio-mismatch');
    assert.equal(overallVerdict(['no-difference-yet', 'no-difference-yet']), 'no-difference-yet');
  });

  it('gives the overall verdict from its signals, and keeps its state through JSON', () => {
    let state: ExperimentState | undefined;
    let last;
    for (let i = 1; i <= 30; i += 1) {
      last = judgeExperiment(state, { errors: counts(900 * i, 2 * i, 100 * i, 2 * i), slow: counts(900 * i, 9 * i, 100 * i, i) }, { split: SPLIT });
      state = JSON.parse(JSON.stringify(last.state)) as ExperimentState;
    }
    assert.equal(last?.signals.errors?.verdict, 'worse');
    assert.equal(last?.signals.slow?.verdict, 'no-difference-yet');
    assert.equal(last?.verdict, 'worse');
  });

  it('refuses a set of signals other than the state’s, and names the signal of a bad count', () => {
    const first = judgeExperiment(undefined, { errors: counts(900, 1, 100, 0) }, { split: SPLIT });
    assert.throws(() => judgeExperiment(first.state, { errors: counts(900, 1, 100, 0), slow: counts(900, 1, 100, 0) }, { split: SPLIT }), /signals: are errors, slow but the state holds errors/);
    assert.throws(() => judgeExperiment(undefined, {}, { split: SPLIT }), /at least one signal/);
    assert.throws(
      () => judgeExperiment(first.state, { errors: counts(800, 1, 100, 0) }, { split: SPLIT }),
      (error: unknown) => error instanceof AnalysisInputError && error.field === 'signals.errors.stable.trials' && /decreased from 900 to 800/.test(error.message),
    );
  });
});
