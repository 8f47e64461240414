// Cross-check with savvi, the reference implementation of Lindon & Malek's tests: the fixtures hold
// savvi's p-values and confidence sequences for fixed count sequences, made by
// hack/savvi-fixtures.py with the same prior (k = 100) and the per-test level of one signal.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { judgeShadow, judgeSignal, type ShadowState, type SignalCounts, type SignalState, type Split } from '../../../src/analysis/index.ts';
import { logGamma } from '../../../src/analysis/special.ts';

const fixtures = path.resolve(import.meta.dirname, '../../fixtures/savvi');
const read = <T>(file: string): T => JSON.parse(readFileSync(path.join(fixtures, file), 'utf8')) as T;

interface RateCase {
  name: string;
  split: Split;
  snapshots: SignalCounts[];
  expected: { rateP: number; srmP: number; logRatioInterval: [number | null, number | null] }[];
}
interface LeanCase {
  name: string;
  discordant: [number, number][];
  expectedP: number[];
}
const rateFixture = read<{ k: number; alpha: number; cases: RateCase[] }>('rate-and-srm.json');
const leanFixture = read<{ k: number; alpha: number; cases: LeanCase[] }>('lean.json');
const gammaFixture = read<{ points: [number, number][] }>('log-gamma.json');

const P_TOLERANCE = 1e-9;
/** savvi finds its confidence sets with a convex solver (cvxpy), to the solver's tolerance only. */
const INTERVAL_TOLERANCE = 1e-5;

function assertSameP(actual: number, expected: number, where: string): void {
  assert.ok(Math.abs(actual - expected) <= P_TOLERANCE, `${where}: p ${actual} but savvi ${expected}`);
  // Tiny p-values too: the same to 1e-9 in log.
  if (expected > 0) assert.ok(Math.abs(Math.log(actual) - Math.log(expected)) <= P_TOLERANCE * Math.max(1, -Math.log(expected)), `${where}: log p ${Math.log(actual)} but savvi ${Math.log(expected)}`);
}

describe('analysis: cross-check with savvi', () => {
  it('uses the fixtures made with savvi at k = 100 and the per-test level of one signal at α = 0.05', () => {
    assert.equal(rateFixture.k, 100);
    assert.equal(rateFixture.alpha, 0.05 / 2);
    assert.ok(rateFixture.cases.length >= 5);
  });

  for (const fixture of rateFixture.cases) {
    it(`rate and SRM p-values equal savvi's to 1e-9: ${fixture.name}`, () => {
      let state: SignalState | undefined;
      fixture.snapshots.forEach((counts, index) => {
        const judgement = judgeSignal(state, counts, { split: fixture.split, alpha: 0.05, concentration: rateFixture.k });
        state = judgement.state;
        const expected = fixture.expected[index];
        assert.ok(expected);
        assertSameP(Math.exp(state.rateLogP), expected.rateP, `snapshot ${index} rate`);
        assertSameP(Math.exp(state.srmLogP), expected.srmP, `snapshot ${index} SRM`);
      });
    });

    it(`the rate ratio's confidence sequence matches savvi's to its solver's tolerance: ${fixture.name}`, () => {
      let state: SignalState | undefined;
      let compared = 0;
      fixture.snapshots.forEach((counts, index) => {
        state = judgeSignal(state, counts, { split: fixture.split, alpha: 0.05, concentration: rateFixture.k }).state;
        const [lower, upper] = fixture.expected[index]?.logRatioInterval ?? [null, null];
        for (const [ours, theirs, side] of [[state.logRatio.lower, lower, 'lower'], [state.logRatio.upper, upper, 'upper']] as const) {
          if (theirs === null) continue; // savvi's solver reports no finite bound
          assert.ok(ours !== null, `snapshot ${index} ${side}: open here, ${theirs} in savvi`);
          assert.ok(Math.abs(ours - theirs) <= INTERVAL_TOLERANCE * Math.max(1, Math.abs(theirs)), `snapshot ${index} ${side}: ${ours} but savvi ${theirs}`);
          compared += 1;
        }
      });
      assert.ok(compared >= fixture.snapshots.length, `only ${compared} bounds compared`);
    });
  }

  for (const fixture of leanFixture.cases) {
    it(`the shadow lean p-values equal savvi's (ρ = ½, ½) to 1e-9: ${fixture.name}`, () => {
      let state: ShadowState | undefined;
      fixture.discordant.forEach(([shadowOnlySpam, stableOnlySpam], index) => {
        const judgement = judgeShadow(state, { bothSpam: 10 * index, bothHam: 90 * index, shadowOnlySpam, stableOnlySpam }, { alpha: 0.05, concentration: leanFixture.k });
        state = judgement.state;
        assertSameP(Math.exp(state.leanLogP), fixture.expectedP[index] ?? Number.NaN, `snapshot ${index}`);
      });
    });
  }

  it("log Γ equals scipy's gammaln to 1e-12 (relative above 1)", () => {
    for (const [x, expected] of gammaFixture.points) {
      const actual = logGamma(x);
      assert.ok(Math.abs(actual - expected) <= 1e-12 * Math.max(1, Math.abs(expected)), `logGamma(${x}) = ${actual}, scipy ${expected}`);
    }
  });
});
