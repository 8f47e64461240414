// Shadow agreement: the shadow pod classifies each mirrored message with the stable model and its
// own, and counts the pairs. Two statements, sharing α (α/2 each):
// - the agreement rate with a confidence sequence: the Beta(1, 1) mixture of binomial likelihood
//   ratios, inverted over the rate and intersected over time (Robbins' mixture);
// - the lean of the disagreements: under H₀ a disagreement is shadow-only-spam or stable-only-spam
//   with probability ½ each (a sequential McNemar test), the mixture test with ρ = (½, ½) and
//   prior Beta(k/2, k/2), with a confidence sequence for the shadow-only-spam share.
import { AnalysisInputError, requireCount, requireNotDecreased, requirePositive, requireProbability } from './errors.ts';
import { type LogInterval, UNBOUNDED, intersect } from './interval.ts';
import { logBayesFactor, logOddsInterval } from './mixture.ts';
import { logistic } from './special.ts';
import { DEFAULT_ALPHA, DEFAULT_CONCENTRATION, runningMinimum } from './signal.ts';

/** Cumulative counts of classified pairs (stable model's verdict × shadow model's verdict). */
export interface ShadowPairs {
  readonly bothSpam: number;
  readonly bothHam: number;
  /** The shadow says spam, the stable model ham. */
  readonly shadowOnlySpam: number;
  /** The stable model says spam, the shadow ham. */
  readonly stableOnlySpam: number;
}

export type Lean = 'shadow-flags-more-spam' | 'stable-flags-more-spam' | 'no-lean-yet';

export interface ShadowOptions {
  readonly alpha?: number;
  /** Concentration k of the lean test's prior Beta(k/2, k/2). */
  readonly concentration?: number;
}

export interface ShadowState {
  readonly version: 1;
  readonly alpha: number;
  readonly concentration: number;
  readonly pairs: ShadowPairs;
  readonly agreementLogOdds: LogInterval;
  readonly leanLogP: number;
  readonly leanLogOdds: LogInterval;
  readonly lean: Exclude<Lean, 'no-lean-yet'> | null;
}

export interface ShadowJudgement {
  readonly state: ShadowState;
  readonly agreement: {
    /** Share of pairs where both models agree; null before the first pair. */
    readonly rate: number | null;
    /** Confidence sequence at level 1 − α/2. */
    readonly interval: [number, number];
  };
  readonly lean: {
    readonly verdict: Lean;
    /** Anytime-valid p-value of "no lean", Bonferroni-adjusted (compare with α). */
    readonly pValue: number;
    /** Share of disagreements where only the shadow says spam; null before the first disagreement. */
    readonly shadowOnlySpamShare: number | null;
    /** Confidence sequence for that share at level 1 − α/2. */
    readonly interval: [number, number];
  };
  readonly pairs: ShadowPairs;
}

const AGREEMENT_PRIOR = { a: 1, b: 1 };
const PAIR_FIELDS = ['bothSpam', 'bothHam', 'shadowOnlySpam', 'stableOnlySpam'] as const;

function shareInterval(interval: LogInterval): [number, number] {
  return [interval.lower === null ? 0 : logistic(interval.lower), interval.upper === null ? 1 : logistic(interval.upper)];
}

export function judgeShadow(state: ShadowState | undefined, pairs: ShadowPairs, options: ShadowOptions = {}): ShadowJudgement {
  const alpha = requireProbability(options.alpha ?? DEFAULT_ALPHA, 'alpha');
  const concentration = requirePositive(options.concentration ?? DEFAULT_CONCENTRATION, 'concentration');
  if (state?.version !== undefined && state.version !== 1) throw new AnalysisInputError('state.version', `must be 1, got ${JSON.stringify(state.version)}`);
  if (state && state.alpha !== alpha) throw new AnalysisInputError('alpha', `differs from the state's (${state.alpha}); a new α starts a fresh state`);
  if (state && state.concentration !== concentration) throw new AnalysisInputError('concentration', `differs from the state's (${state.concentration})`);
  for (const field of PAIR_FIELDS) {
    requireCount(pairs[field], field);
    if (state) requireNotDecreased(state.pairs[field], pairs[field], field);
  }
  const logAlphaPerStatement = Math.log(alpha / 2);
  const agreed = pairs.bothSpam + pairs.bothHam;
  const disagreed = pairs.shadowOnlySpam + pairs.stableOnlySpam;

  const agreementLogOdds = intersect(state?.agreementLogOdds ?? UNBOUNDED, logOddsInterval(AGREEMENT_PRIOR, agreed, disagreed, -logAlphaPerStatement));
  const leanPrior = { a: concentration / 2, b: concentration / 2 };
  const leanLogP = runningMinimum(state?.leanLogP ?? 0, logBayesFactor(leanPrior, pairs.shadowOnlySpam, pairs.stableOnlySpam, 0.5, 0.5));
  const leanLogOdds = intersect(state?.leanLogOdds ?? UNBOUNDED, logOddsInterval(leanPrior, pairs.shadowOnlySpam, pairs.stableOnlySpam, -logAlphaPerStatement));
  let lean = state?.lean ?? null;
  if (lean === null && leanLogP <= logAlphaPerStatement) lean = pairs.shadowOnlySpam > pairs.stableOnlySpam ? 'shadow-flags-more-spam' : 'stable-flags-more-spam';

  const kept: ShadowPairs = { bothSpam: pairs.bothSpam, bothHam: pairs.bothHam, shadowOnlySpam: pairs.shadowOnlySpam, stableOnlySpam: pairs.stableOnlySpam };
  return {
    state: { version: 1, alpha, concentration, pairs: kept, agreementLogOdds, leanLogP, leanLogOdds, lean },
    agreement: { rate: agreed + disagreed > 0 ? agreed / (agreed + disagreed) : null, interval: shareInterval(agreementLogOdds) },
    lean: {
      verdict: lean ?? 'no-lean-yet',
      pValue: Math.min(1, 2 * Math.exp(leanLogP)),
      shadowOnlySpamShare: disagreed > 0 ? pairs.shadowOnlySpam / disagreed : null,
      interval: shareInterval(leanLogOdds),
    },
    pairs: kept,
  };
}
