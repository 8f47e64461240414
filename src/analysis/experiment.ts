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
