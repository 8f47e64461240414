import assert from 'node:assert/strict';
import { AnalysisInputError, judgeSignal, logBayesFactor, logOddsInterval, type SignalCounts, type SignalJudgement, type SignalState } from '../../../src/analysis/index.ts';
import { logistic } from '../../../src/analysis/special.ts';

const SPLIT_90_10 = { stable: 90, canary: 10 };
const counts = (stableTrials: number, stableEvents: number, canaryTrials: number, canaryEvents: number): SignalCounts => ({
  stable: { trials: stableTrials, events: stableEvents },
  canary: { trials: canaryTrials, events: canaryEvents },
});
const rawP = (state: SignalState) => Math.exp(state.rateLogP);

/** Judges a sequence from a fresh state; returns every judgement. */
function judgeAll(sequence: SignalCounts[], options: Parameters<typeof judgeSignal>[2], roundTrip = false): SignalJudgement[] {
  let state: SignalState | undefined;
  return sequence.map((snapshot) => {
    const judgement = judgeSignal(state, snapshot, options);
    state = roundTrip ? (JSON.parse(JSON.stringify(judgement.state)) as SignalState) : judgement.state;
    return judgement;
  });
}

/** Cumulative counts of a 90/10 split with a fixed pattern of events (deterministic, no randomness needed). */
function steady(polls: number, stableEventsPerPoll: number, canaryEventsPerPoll: number, canaryTrialsPerPoll = 100): SignalCounts[] {
  return Array.from({ length: polls }, (_, i) =>
    counts(900 * (i + 1), Math.floor(stableEventsPerPoll * (i + 1)), canaryTrialsPerPoll * (i + 1), Math.floor(canaryEventsPerPoll * (i + 1))),
  );
}

describe('analysis: one signal', () => {
  describe('the mixture test on hand-checked cases', () => {
    it('Beta(1, 1) at 50/50: BF = x!·y!/(x+y+1)! · 2^(x+y)', () => {
      const prior = { a: 1, b: 1 };
      assert.ok(Math.abs(logBayesFactor(prior, 3, 0, 0.5, 0.5) - Math.log(2)) < 1e-12); // 3!/4! · 8
      assert.ok(Math.abs(logBayesFactor(prior, 10, 0, 0.5, 0.5) - Math.log(1024 / 11)) < 1e-12);
      assert.ok(Math.abs(logBayesFactor(prior, 2, 2, 0.5, 0.5) - Math.log((4 / 120) * 16)) < 1e-12);
      assert.equal(logBayesFactor(prior, 0, 0, 0.5, 0.5), 0);
    });

    it('k = 100 at 90/10 with 5 canary events and none on stable: BF = 10⁵ · Π (10+i)/(100+i), i < 5', () => {
      const expected = 1e5 * ((10 * 11 * 12 * 13 * 14) / (100 * 101 * 102 * 103 * 104));
      const judgement = judgeSignal(undefined, counts(900, 0, 100, 5), { split: SPLIT_90_10 });
      assert.ok(Math.abs(rawP(judgement.state) - 1 / expected) < 1e-12, String(rawP(judgement.state)));
      assert.ok(Math.abs(judgement.pValue - 2 / expected) < 1e-12); // one signal: two tests share α
      assert.equal(judgement.rateRatio, null); // no stable event: no finite ratio
      assert.equal(judgement.interval[1], null);
    });

    it('the rate ratio weighs events by the designed shares', () => {
      const judgement = judgeSignal(undefined, counts(900, 9, 100, 5), { split: SPLIT_90_10 });
      assert.ok(Math.abs((judgement.rateRatio ?? 0) - 5) < 1e-12); // (5 / 0.1) / (9 / 0.9)
    });

    it('the confidence set ends where log BF reaches the threshold', () => {
      const prior = { a: 10, b: 90 };
      const threshold = Math.log(40);
      for (const [x, y] of [[7, 40], [1, 1], [30, 3], [200, 1800]] as const) {
        const { lower, upper } = logOddsInterval(prior, x, y, threshold);
        assert.ok(lower !== null && upper !== null && lower < Math.log(x / y) && Math.log(x / y) < upper);
        for (const u of [lower, upper]) {
          assert.ok(Math.abs(logBayesFactor(prior, x, y, logistic(u), logistic(-u)) - threshold) < 1e-9, `${x}/${y} at ${u}`);
        }
      }
    });

    it('with no events on a side, that side of the confidence set is open, and the other end has the closed form', () => {
      const prior = { a: 10, b: 90 };
      const threshold = Math.log(40);
      const onlyA = logOddsInterval(prior, 6, 0, threshold);
      assert.equal(onlyA.upper, null);
      const theta = logistic(onlyA.lower ?? Number.NaN);
      assert.ok(Math.abs(logBayesFactor(prior, 6, 0, theta, 1 - theta) - threshold) < 1e-9);
      assert.equal(logOddsInterval(prior, 0, 4, threshold).lower, null);
      assert.deepEqual(logOddsInterval(prior, 0, 0, threshold), { lower: null, upper: null });
    });
  });

  describe('over time', () => {
    it('the p-value never rises, though 1/BF does when the evidence fades', () => {
      // A burst of canary errors, then only stable errors: BF first grows, then shrinks.
      const sequence = [counts(900, 0, 100, 6), counts(1800, 0, 200, 9), ...Array.from({ length: 20 }, (_, i) => counts(2700 + 900 * i, 20 * (i + 1), 300 + 100 * i, 9))];
      const judged = judgeAll(sequence, { split: SPLIT_90_10 });
      let inverseBfRose = false;
      for (let i = 1; i < judged.length; i += 1) {
        const previous = judged[i - 1] as SignalJudgement;
        const current = judged[i] as SignalJudgement;
        assert.ok(current.pValue <= previous.pValue, `p rose at ${i}`);
        const snapshot = sequence[i] as SignalCounts;
        const inverseBf = Math.exp(-logBayesFactor({ a: 10, b: 90 }, snapshot.canary.events, snapshot.stable.events, 0.1, 0.9));
        if (inverseBf > rawP(current.state) * 1.01) inverseBfRose = true;
      }
      assert.ok(inverseBfRose, 'the case should have 1/BF above the running minimum');
    });

    it('the interval only shrinks, and excludes 1 exactly when the verdict is not no-difference-yet', () => {
      const judged = judgeAll(steady(60, 2, 0.7), { split: SPLIT_90_10 });
      let sawWorse = false;
      for (let i = 0; i < judged.length; i += 1) {
        const current = judged[i] as SignalJudgement;
        const [lower, upper] = current.interval;
        if (i > 0) {
          const [previousLower, previousUpper] = (judged[i - 1] as SignalJudgement).interval;
          assert.ok(lower >= previousLower && (upper ?? Infinity) <= (previousUpper ?? Infinity), `interval grew at ${i}`);
        }
        const excludesOne = lower > 1 || (upper !== null && upper < 1);
        assert.equal(excludesOne, current.verdict !== 'no-difference-yet', `at ${i}: ${JSON.stringify(current.interval)} ${current.verdict}`);
        if (current.verdict === 'worse') sawWorse = true;
      }
      assert.ok(sawWorse);
    });

    it('a state that went through JSON gives the same judgements as one kept in memory', () => {
      const sequence = [counts(0, 0, 0, 0), ...steady(40, 1.5, 0.4)];
      const inMemory = judgeAll(sequence, { split: SPLIT_90_10 });
      const throughJson = judgeAll(sequence, { split: SPLIT_90_10 }, true);
      assert.deepEqual(throughJson, inMemory);
      const last = JSON.parse(JSON.stringify(inMemory.at(-1)?.state)) as SignalState;
      assert.equal(last.version, 1);
      assert.deepEqual(last.counts, sequence.at(-1));
    });

    it('the same counts again change nothing', () => {
      const first = judgeSignal(undefined, counts(900, 3, 100, 4), { split: SPLIT_90_10 });
      const again = judgeSignal(first.state, counts(900, 3, 100, 4), { split: SPLIT_90_10 });
      assert.deepEqual(again, first);
    });
  });

  describe('verdicts', () => {
    it('worse when the canary errs more, with the ratio above 1', () => {
      const last = judgeAll(steady(30, 2, 1), { split: SPLIT_90_10 }).at(-1);
      assert.equal(last?.verdict, 'worse');
      assert.ok((last?.rateRatio ?? 0) > 1 && (last?.interval[0] ?? 0) > 1);
      assert.ok((last?.pValue ?? 1) <= 0.05);
    });

    it('better when the canary errs less (two-sided), with the ratio below 1', () => {
      const last = judgeAll(steady(60, 9, 0.1), { split: SPLIT_90_10 }).at(-1);
      assert.equal(last?.verdict, 'better');
      assert.ok((last?.interval[1] ?? Infinity) < 1);
    });

    it('no-difference-yet when both err alike', () => {
      const judged = judgeAll(steady(100, 9, 1), { split: SPLIT_90_10 });
      assert.ok(judged.every((j) => j.verdict === 'no-difference-yet'));
      const last = judged.at(-1);
      assert.ok((last?.interval[0] ?? 2) < 1 && 1 < (last?.interval[1] ?? 0));
    });

    it('sample-ratio-mismatch when the requests do not follow the designed split, even with worse errors', () => {
      // 80/20 served against 90/10 designed; the canary's extra errors come with its extra requests.
      const sequence = Array.from({ length: 30 }, (_, i) => counts(800 * (i + 1), 8 * (i + 1), 200 * (i + 1), 2 * (i + 1)));
      const last = judgeAll(sequence, { split: SPLIT_90_10 }).at(-1);
      assert.equal(last?.verdict, 'sample-ratio-mismatch');
      assert.ok((last?.srmPValue ?? 1) <= 0.05);
    });

    it('keeps the direction it first rejected on', () => {
      const sequence = steady(30, 2, 1);
      const judged = judgeAll(sequence, { split: SPLIT_90_10 });
      const firstWorse = judged.findIndex((j) => j.verdict === 'worse');
      assert.ok(firstWorse >= 0);
      assert.ok(judged.slice(firstWorse).every((j) => j.verdict === 'worse' && j.state.direction === 'worse'));
    });

    it('a smaller α needs more evidence', () => {
      const sequence = steady(40, 2, 0.8);
      const firstAt = (alpha: number) => judgeAll(sequence, { split: SPLIT_90_10, alpha }).findIndex((j) => j.verdict === 'worse');
      assert.ok(firstAt(0.05) >= 0);
      assert.ok(firstAt(0.001) > firstAt(0.05) || firstAt(0.001) === -1);
    });
  });

  describe('input', () => {
    const refused: [string, () => unknown, string, RegExp][] = [
      ['a negative count', () => judgeSignal(undefined, counts(-1, 0, 1, 0), { split: SPLIT_90_10 }), 'stable.trials', /non-negative integer, got -1/],
      ['a fractional count', () => judgeSignal(undefined, counts(10, 0.5, 1, 0), { split: SPLIT_90_10 }), 'stable.events', /non-negative integer, got 0.5/],
      ['NaN', () => judgeSignal(undefined, counts(10, 0, Number.NaN, 0), { split: SPLIT_90_10 }), 'canary.trials', /non-negative integer/],
      ['more events than trials', () => judgeSignal(undefined, counts(10, 0, 1, 2), { split: SPLIT_90_10 }), 'canary.events', /2 events exceed 1 trials/],
      ['a split not summing to 100', () => judgeSignal(undefined, counts(1, 0, 1, 0), { split: { stable: 90, canary: 5 } }), 'split', /must be 100 \(percent\), got 95/],
      ['a zero weight', () => judgeSignal(undefined, counts(1, 0, 1, 0), { split: { stable: 100, canary: 0 } }), 'split.canary', /greater than 0/],
      ['α of 1', () => judgeSignal(undefined, counts(1, 0, 1, 0), { split: SPLIT_90_10, alpha: 1 }), 'alpha', /between 0 and 1/],
      ['a zero concentration', () => judgeSignal(undefined, counts(1, 0, 1, 0), { split: SPLIT_90_10, concentration: 0 }), 'concentration', /greater than 0/],
    ];
    for (const [what, call, field, message] of refused) {
      it(`refuses ${what}, naming ${field}`, () => {
        assert.throws(call, (error: unknown) => error instanceof AnalysisInputError && error.field === field && message.test(error.message));
      });
    }

    it('refuses counts that decrease (a counter reset is the caller’s to resolve)', () => {
      const first = judgeSignal(undefined, counts(900, 3, 100, 1), { split: SPLIT_90_10 });
      assert.throws(
        () => judgeSignal(first.state, counts(900, 2, 100, 1), { split: SPLIT_90_10 }),
        (error: unknown) => error instanceof AnalysisInputError && error.field === 'stable.events' && /decreased from 3 to 2/.test(error.message),
      );
    });

    it('refuses a state kept for another split or α', () => {
      const first = judgeSignal(undefined, counts(900, 3, 100, 1), { split: SPLIT_90_10 });
      assert.throws(() => judgeSignal(first.state, counts(900, 3, 100, 1), { split: { stable: 80, canary: 20 } }), /^AnalysisInputError: split: differs from the state's \(90\/10\)/);
      assert.throws(() => judgeSignal(first.state, counts(900, 3, 100, 1), { split: SPLIT_90_10, alpha: 0.01 }), /alpha: differs/);
    });
  });
});
