// Several signals of one canary step judged together, sharing the experiment's α by Bonferroni:
// each signal gets α/m, split evenly between its rate test and its SRM test (α/(2m) each). Simple,
// valid whatever the dependence between signals (errors and slow requests share their requests),
// and a signal added or removed mid-step would change every share, so the set is fixed per step.
import { AnalysisInputError } from './errors.ts';
import { type SignalCounts, type SignalJudgement, type SignalState, type Split, type Verdict, judgeSignal } from './signal.ts';

export interface ExperimentOptions {
  readonly split: Split;
  /** False-verdict probability for the whole experiment; default 0.05. */
  readonly alpha?: number;
  readonly concentration?: number;
}

export interface ExperimentState {
  readonly version: 1;
  readonly signals: Readonly<Record<string, SignalState>>;
}

export type SignalResult = Omit<SignalJudgement, 'state'>;

export interface ExperimentJudgement {
  readonly state: ExperimentState;
  /** sample-ratio-mismatch if any signal's split is broken, else worse if any signal is, else better if any is. */
  readonly verdict: Verdict;
  readonly signals: Readonly<Record<string, SignalResult>>;
}

const PRECEDENCE: readonly Verdict[] = ['sample-ratio-mismatch', 'worse', 'better', 'no-difference-yet'];

export function overallVerdict(verdicts: Iterable<Verdict>): Verdict {
  let best = PRECEDENCE.length - 1;
  for (const verdict of verdicts) best = Math.min(best, PRECEDENCE.indexOf(verdict));
  return PRECEDENCE[best] ?? 'no-difference-yet';
}

export function judgeExperiment(state: ExperimentState | undefined, counts: Readonly<Record<string, SignalCounts>>, options: ExperimentOptions): ExperimentJudgement {
  const names = Object.keys(counts).sort();
  if (names.length === 0) throw new AnalysisInputError('signals', 'at least one signal is needed');
  if (state) {
    if (state.version !== 1) throw new AnalysisInputError('state.version', `must be 1, got ${JSON.stringify(state.version)}`);
    const kept = Object.keys(state.signals).sort();
    if (kept.join('\n') !== names.join('\n')) {
      throw new AnalysisInputError('signals', `are ${names.join(', ')} but the state holds ${kept.join(', ')}; the set of signals is fixed for a step (it decides each one's share of α)`);
    }
  }
  const signalOptions = { ...options, signalCount: names.length };
  const states: Record<string, SignalState> = {};
  const signals: Record<string, SignalResult> = {};
  for (const name of names) {
    let judgement: SignalJudgement;
    try {
      judgement = judgeSignal(state?.signals[name], counts[name] as SignalCounts, signalOptions);
    } catch (error) {
      if (error instanceof AnalysisInputError) throw new AnalysisInputError(`signals.${name}.${error.field}`, error.problem);
      throw error;
    }
    const { state: signalState, ...result } = judgement;
    states[name] = signalState;
    signals[name] = result;
  }
  return { state: { version: 1, signals: states }, verdict: overallVerdict(Object.values(signals).map((s) => s.verdict)), signals };
}

/**
 * Signals whose trials are every request, so their trials follow the designed split: only their
 * sample-ratio mismatch is the experiment's. Spam and guesses count answered requests only, so a
 * canary that fails more (errors: worse) shifts their trials too; their own mismatch then says that,
 * not that the split is broken, and it does not override the other verdicts.
 */
export const REQUEST_SIGNALS: ReadonlySet<string> = new Set(['errors', 'slow']);

/** A signal's verdict as a canary step reports it (see REQUEST_SIGNALS for why a mismatch may not count). */
export function stepSignalVerdict(name: string, signal: SignalResult | undefined, alpha: number): Verdict {
  if (signal === undefined) return 'no-difference-yet';
  if (signal.verdict !== 'sample-ratio-mismatch') return signal.verdict;
  // The rate test rejected too: a canary that fails answers later than the stable version, which
  // skews the split of completed requests for a while; the failure is the finding, not the split.
  const [low, high] = signal.interval;
  if (signal.pValue <= alpha && low > 1) return 'worse';
  if (signal.pValue <= alpha && high !== null && high < 1) return 'better';
  return REQUEST_SIGNALS.has(name) ? 'sample-ratio-mismatch' : 'no-difference-yet';
}

/**
 * The step's verdict from its signals'. A clear regression outranks a mismatch of the split: the
 * canary's failures are what lags its completed requests (so every request signal sees the
 * mismatch at once), and rolling it back is right either way. A mismatch still outranks "better"
 * and "no difference", which it would bias.
 */
export function stepVerdict(verdicts: readonly Verdict[]): Verdict {
  return verdicts.includes('worse') ? 'worse' : overallVerdict(verdicts);
}
