import assert from 'node:assert/strict';
import { AnalysisInputError, judgeShadow, type ShadowJudgement, type ShadowPairs, type ShadowState } from '../../../src/analysis/index.ts';

function judgeAll(sequence: ShadowPairs[], roundTrip = false): ShadowJudgement[] {
  let state: ShadowState | undefined;
  return sequence.map((pairs) => {
    const judgement = judgeShadow(state, pairs);
    state = roundTrip ? (JSON.parse(JSON.stringify(judgement.state)) as ShadowState) : judgement.state;
    return judgement;
  });
}

/** Per poll: 100 pairs, 2 of them shadow-only-spam and `stableOnly` stable-only-spam. */
const polls = (n: number, shadowOnly: number, stableOnly: number): ShadowPairs[] =>
  Array.from({ length: n }, (_, i) => ({ bothSpam: 13 * (i + 1), bothHam: (87 - shadowOnly - stableOnly) * (i + 1), shadowOnlySpam: shadowOnly * (i + 1), stableOnlySpam: stableOnly * (i + 1) }));

describe('analysis: shadow agreement', () => {
  it('the agreement rate lies in its confidence sequence, which only shrinks', () => {
    const judged = judgeAll(polls(50, 2, 2));
    for (const [i, judgement] of judged.entries()) {
      const [lower, upper] = judgement.agreement.interval;
      assert.equal(judgement.agreement.rate, 0.96);
      assert.ok(lower < 0.96 && 0.96 < upper, `${i}: ${lower}..${upper}`);
      if (i > 0) {
        const [previousLower, previousUpper] = (judged[i - 1] as ShadowJudgement).agreement.interval;
        assert.ok(lower >= previousLower && upper <= previousUpper);
      }
    }
    const [lower, upper] = judged.at(-1)?.agreement.interval ?? [0, 1];
    assert.ok(upper - lower < 0.03, `after 5,000 pairs the interval is ${lower}..${upper}`);
  });

  it('no lean when disagreements split evenly', () => {
    const judged = judgeAll(polls(100, 2, 2));
    assert.ok(judged.every((j) => j.lean.verdict === 'no-lean-yet'));
    assert.equal(judged.at(-1)?.lean.shadowOnlySpamShare, 0.5);
  });

  it('the shadow flags more spam when its disagreements lean that way, and the other way round', () => {
    const shadowMore = judgeAll(polls(40, 3, 1)).at(-1);
    assert.equal(shadowMore?.lean.verdict, 'shadow-flags-more-spam');
    assert.ok((shadowMore?.lean.pValue ?? 1) <= 0.05 && (shadowMore?.lean.interval[0] ?? 0) > 0.5);
    const stableMore = judgeAll(polls(40, 1, 3)).at(-1);
    assert.equal(stableMore?.lean.verdict, 'stable-flags-more-spam');
    assert.ok((stableMore?.lean.interval[1] ?? 1) < 0.5);
  });

  it('before any pair: no rate, full intervals, no lean', () => {
    const judgement = judgeShadow(undefined, { bothSpam: 0, bothHam: 0, shadowOnlySpam: 0, stableOnlySpam: 0 });
    assert.equal(judgement.agreement.rate, null);
    assert.deepEqual(judgement.agreement.interval, [0, 1]);
    assert.deepEqual(judgement.lean.interval, [0, 1]);
    assert.equal(judgement.lean.pValue, 1);
    assert.equal(judgement.lean.shadowOnlySpamShare, null);
  });

  it('a state through JSON judges as one kept in memory', () => {
    assert.deepEqual(judgeAll(polls(30, 3, 1), true), judgeAll(polls(30, 3, 1)));
  });

  it('refuses negative or decreasing counts, naming the field', () => {
    assert.throws(() => judgeShadow(undefined, { bothSpam: -1, bothHam: 0, shadowOnlySpam: 0, stableOnlySpam: 0 }), (error: unknown) => error instanceof AnalysisInputError && error.field === 'bothSpam');
    const first = judgeShadow(undefined, { bothSpam: 5, bothHam: 5, shadowOnlySpam: 1, stableOnlySpam: 1 });
    assert.throws(() => judgeShadow(first.state, { bothSpam: 5, bothHam: 4, shadowOnlySpam: 1, stableOnlySpam: 1 }), /bothHam: decreased from 5 to 4/);
    assert.throws(() => judgeShadow(first.state, { bothSpam: 5, bothHam: 5, shadowOnlySpam: 1, stableOnlySpam: 1 }, { alpha: 0.01 }), /alpha: differs/);
  });
});
