// The statistics of the experiments: pure functions of cumulative counts (no I/O, no clock), with
// state the caller keeps as JSON between polls. docs/analysis.md describes the method.
export { AnalysisInputError } from './errors.ts';
export {
  type ExperimentJudgement,
  type ExperimentOptions,
  type ExperimentState,
  type SignalResult,
  REQUEST_SIGNALS,
  judgeExperiment,
  overallVerdict,
  stepSignalVerdict,
  stepVerdict,
} from './experiment.ts';
export { logBayesFactor, logOddsInterval } from './mixture.ts';
export {
  type Gate,
  type GateSignal,
  type ShadowDecision,
  type ShadowEvidence,
  type ShadowLean,
  type ShadowRule,
  type StepDecision,
  type StepEvidence,
  type StepRule,
  decideShadow,
  decideStep,
} from './progression.ts';
export {
  type ArmCounts,
  DEFAULT_ALPHA,
  DEFAULT_CONCENTRATION,
  type Direction,
  type SignalCounts,
  type SignalJudgement,
  type SignalOptions,
  type SignalState,
  type Split,
  type Verdict,
  judgeSignal,
} from './signal.ts';
export { type Lean, type ShadowJudgement, type ShadowOptions, type ShadowPairs, type ShadowState, judgeShadow } from './shadow.ts';
