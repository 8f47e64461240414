// One signal (errors, slow requests, spam verdicts...) of a canary step, judged incrementally:
// the caller keeps the returned state (JSON) and passes it back with the next cumulative counts.
//
// Two tests of Lindon & Malek's form, each at α / (2·signals) (Bonferroni over the experiment):
// - the rate test: given that an event happened, it came from the canary with probability ρ_canary
//   under H₀ (same event rate per request); Beta(k·ρ_canary, k·ρ_stable) mixture, two-sided;
// - the sample-ratio-mismatch (SRM) test: the same on trials, against the designed split. A broken
//   split (retries, traffic straight to pods) would otherwise pass for a difference in rates.
// p-values are running minima (p_t = min(p_{t−1}, 1/BF_t)); the rate ratio's confidence sequence
// is the running intersection of the inverted rate test, at the same level.
import { AnalysisInputError, requireCount, requireNotDecreased, requirePositive, requireProbability } from './errors.ts';
import { type LogInterval, UNBOUNDED, expBound, intersect, shift } from './interval.ts';
import { logBayesFactor, logOddsInterval } from './mixture.ts';

export type Verdict = 'worse' | 'better' | 'no-difference-yet' | 'sample-ratio-mismatch';
export type Direction = 'worse' | 'better';

export interface ArmCounts {
  /** Requests (or messages) the version handled since the step began. */
  readonly trials: number;
  /** Of those, the ones with the event: an error, a slow request, a spam verdict. */
  readonly events: number;
}

export interface SignalCounts {
  readonly stable: ArmCounts;
  readonly canary: ArmCounts;
}

/** Designed traffic weights in percent. */
export interface Split {
  readonly stable: number;
  readonly canary: number;
}

export const DEFAULT_ALPHA = 0.05;
export const DEFAULT_CONCENTRATION = 100;

export interface SignalOptions {
  readonly split: Split;
  /** False-verdict probability for the whole experiment (all signals, both tests each). */
  readonly alpha?: number;
  /** How many signals share alpha. */
  readonly signalCount?: number;
  /** Prior concentration k: the mixture is Beta(k·ρ_canary, k·ρ_stable). */
  readonly concentration?: number;
}

export interface SignalState {
  readonly version: 1;
  readonly split: Split;
  readonly alpha: number;
  readonly signalCount: number;
  readonly concentration: number;
  /** The counts of the last poll: the next ones may not be smaller. */
  readonly counts: SignalCounts;
  /** log of the rate test's running-minimum p-value (unadjusted, ≤ 0). */
  readonly rateLogP: number;
  /** log of the SRM test's running-minimum p-value (unadjusted, ≤ 0). */
  readonly srmLogP: number;
  /** Which side the rate test rejected on, fixed when it first did. */
  readonly direction: Direction | null;
  /** The rate ratio's confidence sequence so far, in log. */
  readonly logRatio: LogInterval;
}

export interface SignalJudgement {
  readonly state: SignalState;
  readonly verdict: Verdict;
  /** The rate test's anytime-valid p-value, Bonferroni-adjusted: compare it with alpha itself. */
  readonly pValue: number;
  /** (events_canary / ρ_canary) / (events_stable / ρ_stable); null when not finite (no stable events). */
  readonly rateRatio: number | null;
  /** Confidence sequence for the rate ratio at level 1 − α/(2·signals); null upper end = unbounded. */
  readonly interval: [number, number | null];
  /** The SRM test's anytime-valid p-value, Bonferroni-adjusted like pValue. */
  readonly srmPValue: number;
  readonly counts: SignalCounts;
}

interface Settings {
  readonly split: Split;
  readonly alpha: number;
  readonly signalCount: number;
  readonly concentration: number;
}

const SPLIT_TOLERANCE = 1e-9;

export function validateSplit(split: Split, field = 'split'): Split {
  requirePositive(split.stable, `${field}.stable`);
  requirePositive(split.canary, `${field}.canary`);
  const total = split.stable + split.canary;
  if (Math.abs(total - 100) > SPLIT_TOLERANCE) throw new AnalysisInputError(field, `stable + canary must be 100 (percent), got ${total}`);
  return split;
}

function settingsOf(options: SignalOptions): Settings {
  const signalCount = options.signalCount ?? 1;
  if (!Number.isSafeInteger(signalCount) || signalCount < 1) throw new AnalysisInputError('signalCount', `must be a positive integer, got ${signalCount}`);
  return {
    split: validateSplit(options.split),
    alpha: requireProbability(options.alpha ?? DEFAULT_ALPHA, 'alpha'),
    signalCount,
    concentration: requirePositive(options.concentration ?? DEFAULT_CONCENTRATION, 'concentration'),
  };
}

function requireSameSettings(state: SignalState, settings: Settings): void {
  if (state.version !== 1) throw new AnalysisInputError('state.version', `must be 1, got ${JSON.stringify(state.version)}`);
  const same = (a: number, b: number) => a === b;
  const checks: [string, boolean, string][] = [
    ['split', same(state.split.stable, settings.split.stable) && same(state.split.canary, settings.split.canary), `${state.split.stable}/${state.split.canary}`],
    ['alpha', same(state.alpha, settings.alpha), String(state.alpha)],
    ['signalCount', same(state.signalCount, settings.signalCount), String(state.signalCount)],
    ['concentration', same(state.concentration, settings.concentration), String(state.concentration)],
  ];
  for (const [field, ok, kept] of checks) {
    if (!ok) throw new AnalysisInputError(field, `differs from the state's (${kept}); a new split or α starts a new step with a fresh state`);
  }
}

export function validateCounts(counts: SignalCounts, previous: SignalCounts | undefined, field = ''): SignalCounts {
  const prefix = field === '' ? '' : `${field}.`;
  for (const arm of ['stable', 'canary'] as const) {
    const trials = requireCount(counts[arm]?.trials, `${prefix}${arm}.trials`);
    const events = requireCount(counts[arm]?.events, `${prefix}${arm}.events`);
    if (events > trials) throw new AnalysisInputError(`${prefix}${arm}.events`, `${events} events exceed ${trials} trials`);
    if (previous) {
      requireNotDecreased(previous[arm].trials, trials, `${prefix}${arm}.trials`);
      requireNotDecreased(previous[arm].events, events, `${prefix}${arm}.events`);
    }
  }
  return counts;
}

/** Judges one poll's cumulative counts; pass the previous judgement's state (undefined at the step's start). */
export function judgeSignal(state: SignalState | undefined, counts: SignalCounts, options: SignalOptions): SignalJudgement {
  const settings = settingsOf(options);
  if (state) requireSameSettings(state, settings);
  validateCounts(counts, state?.counts);

  const { split, concentration, signalCount } = settings;
  const tests = 2 * signalCount;
  const logAlphaPerTest = Math.log(settings.alpha / tests);
  const canaryShare = split.canary / (split.stable + split.canary);
  const stableShare = split.stable / (split.stable + split.canary);
  const prior = { a: concentration * canaryShare, b: concentration * stableShare };
  const previous = state?.counts;

  // Both tests depend on their own counts only: unchanged counts change nothing.
  let { rateLogP, srmLogP, direction, logRatio } = state ?? { rateLogP: 0, srmLogP: 0, direction: null, logRatio: UNBOUNDED };
  const { canary, stable } = counts;
  if (!previous || previous.canary.events !== canary.events || previous.stable.events !== stable.events) {
    rateLogP = runningMinimum(rateLogP, logBayesFactor(prior, canary.events, stable.events, canaryShare, stableShare));
    const logOdds = logOddsInterval(prior, canary.events, stable.events, -logAlphaPerTest);
    // log-odds of "this event is the canary's" = log(ρ_c/ρ_s) + log rate ratio
    logRatio = intersect(logRatio, shift(logOdds, -Math.log(canaryShare / stableShare)));
    if (direction === null && rateLogP <= logAlphaPerTest) {
      direction = canary.events * stableShare > stable.events * canaryShare ? 'worse' : 'better';
    }
  }
  if (!previous || previous.canary.trials !== canary.trials || previous.stable.trials !== stable.trials) {
    srmLogP = runningMinimum(srmLogP, logBayesFactor(prior, canary.trials, stable.trials, canaryShare, stableShare));
  }

  const nextState: SignalState = { version: 1, ...settings, counts: copyCounts(counts), rateLogP, srmLogP, direction, logRatio };
  const verdict: Verdict = srmLogP <= logAlphaPerTest ? 'sample-ratio-mismatch' : (direction ?? 'no-difference-yet');
  return {
    state: nextState,
    verdict,
    pValue: Math.min(1, tests * Math.exp(rateLogP)),
    rateRatio: stable.events > 0 ? canary.events / canaryShare / (stable.events / stableShare) : null,
    interval: [expBound(logRatio.lower, 0), expBound(logRatio.upper, null)],
    srmPValue: Math.min(1, tests * Math.exp(srmLogP)),
    counts: nextState.counts,
  };
}

/** min(log p so far, −log BF); 0 − x rather than −x so that BF = 1 keeps log p = +0, not −0. */
export function runningMinimum(logP: number, logBf: number): number {
  return Math.min(logP, 0 - logBf);
}

function copyCounts(counts: SignalCounts): SignalCounts {
  return {
    stable: { trials: counts.stable.trials, events: counts.stable.events },
    canary: { trials: counts.canary.trials, events: counts.canary.events },
  };
}
