// The decision rule of progressive delivery: from one step's evidence (what status.analysis holds)
// to what happens to the weights. Pure: the caller passes the time spent in the step.
//
// Canary. A gate bounds one signal: the canary may have up to (1 + margin)× the stable version's
// event rate, or any rate below negligibleRate. It fails when the rate ratio's confidence sequence
// lies wholly above 1 + margin (rollback); it passes when the sequence lies wholly below it, or
// when the canary's own rate has an anytime-valid upper bound below negligibleRate. A sample-ratio
// mismatch on a request signal halts the step: its rates are then not comparable either way.
import { AnalysisInputError, requireCount, requireProbability } from './errors.ts';
import { logOddsInterval } from './mixture.ts';
import { logistic } from './special.ts';

export type GateSignal = 'errors' | 'slow' | 'spam' | 'guesses';

export interface Gate {
  readonly signal: GateSignal;
  /** Relative, ≥ 0: the canary may have up to (1 + margin)× the stable version's rate. */
  readonly margin: number;
  /** In [0, 1): a canary whose event rate is shown below this passes whatever the ratio. */
  readonly negligibleRate: number;
}

export interface StepRule {
  readonly gates: readonly Gate[];
  /** Canary requests (the errors signal's canary trials) before the evidence may advance the step. */
  readonly minCanaryRequests: number;
  readonly maxStepSeconds: number;
  /** What a step that reached maxStepSeconds without showing its gates pass does. */
  readonly onMaxDuration: 'advance' | 'hold';
  /** The experiment's α, the one the evidence was judged with. */
  readonly alpha: number;
  /** How many signals share α in the step (the evidence's signals). */
  readonly signalCount: number;
}

type EvidenceVerdict = 'worse' | 'better' | 'no-difference-yet' | 'sample-ratio-mismatch';

export interface StepEvidence {
  /** Checked but not decided on: a rollback needs the margin, a halt a request signal's mismatch. */
  readonly verdict: EvidenceVerdict;
  readonly signals: ReadonlyArray<{
    readonly name: string;
    readonly stable: { readonly trials: number; readonly events: number };
    readonly canary: { readonly trials: number; readonly events: number };
    readonly verdict: string;
    /** The rate ratio's confidence sequence [low, high]; high −1 is unbounded (as in status). */
    readonly interval: readonly number[];
  }>;
}

export type StepDecision =
  | { readonly action: 'rollback'; readonly signal: GateSignal; readonly message: string }
  | { readonly action: 'halt'; readonly message: string }
  | { readonly action: 'advance'; readonly reason: 'evidence' | 'max-duration'; readonly message: string }
  | { readonly action: 'hold'; readonly message: string }
  | { readonly action: 'wait'; readonly message: string };

const GATE_SIGNALS: readonly string[] = ['errors', 'slow', 'spam', 'guesses'] satisfies readonly GateSignal[];
const VERDICTS: readonly string[] = ['worse', 'better', 'no-difference-yet', 'sample-ratio-mismatch'] satisfies readonly EvidenceVerdict[];
/** Their trials are every request, so their split is the experiment's (see docs/analysis.md). */
const REQUEST_SIGNALS: readonly string[] = ['errors', 'slow'];
/** Robbins' mixture: the canary's rate θ ~ Beta(1, 1), as for the shadow's agreement rate. */
const RATE_PRIOR = { a: 1, b: 1 };

/** Array.isArray without its narrowing to any[] (these inputs come from JSON). */
const isList = (value: unknown): boolean => Array.isArray(value);

type Signal = StepEvidence['signals'][number];

interface GateReading {
  readonly gate: Gate;
  readonly signal: Signal;
  readonly low: number;
  /** null: unbounded. */
  readonly high: number | null;
  /** Anytime-valid upper bound on the canary's event rate. */
  readonly rateBound: number;
  readonly worse: boolean;
  readonly withinMargin: boolean;
  readonly negligible: boolean;
}

export function decideStep(rule: StepRule, evidence: StepEvidence, elapsedSeconds: number): StepDecision {
  validateRule(rule);
  const signals = validateEvidence(evidence, rule);
  requireElapsed(elapsedSeconds);

  // Each bound on a canary's rate is one more statement at the level of a rate test, α/(2m); a
  // gate's pass is an OR of it and the ratio's, so it errs with probability up to α/m.
  const rateThreshold = Math.log((2 * rule.signalCount) / rule.alpha);
  const readings = rule.gates.map((gate) => readGate(gate, signals.get(gate.signal) as Signal, rateThreshold));

  const failed = readings.find((reading) => reading.worse);
  if (failed) {
    return { action: 'rollback', signal: failed.gate.signal, message: `${failed.gate.signal} worse beyond the ${percent(failed.gate.margin)} margin: ${counts(failed.signal)}, rate ratio interval ${interval(failed)}` };
  }
  const mismatched = REQUEST_SIGNALS.map((name) => signals.get(name)).find((signal) => signal?.verdict === 'sample-ratio-mismatch');
  if (mismatched) {
    return {
      action: 'halt',
      message: `sample-ratio mismatch on ${mismatched.name} (canary ${mismatched.canary.trials}, stable ${mismatched.stable.trials} requests): the split is not the designed one, so its rates cannot be trusted either way`,
    };
  }

  const requests = (signals.get('errors') as Signal).canary.trials;
  const enoughRequests = requests >= rule.minCanaryRequests;
  const pending = readings.filter((reading) => !reading.withinMargin && !reading.negligible);
  if (enoughRequests && pending.length === 0) {
    return { action: 'advance', reason: 'evidence', message: `every gate passes after ${requests} canary requests: ${readings.map(passed).join('; ')}` };
  }
  const missing = [...(enoughRequests ? [] : [`${requests} of ${rule.minCanaryRequests} canary requests`]), ...pending.map(unproven)].join('; ');
  if (elapsedSeconds >= rule.maxStepSeconds) {
    const limit = `the step's maximum of ${rule.maxStepSeconds} s reached`;
    if (rule.onMaxDuration === 'advance') return { action: 'advance', reason: 'max-duration', message: `${limit} without a rollback, advancing without proof: ${missing}` };
    return { action: 'hold', message: `${limit}, holding: ${missing}` };
  }
  return { action: 'wait', message: `waiting: ${missing}` };
}

function readGate(gate: Gate, signal: Signal, rateThreshold: number): GateReading {
  const [low = 0, rawHigh = -1] = signal.interval;
  const high = rawHigh === -1 ? null : rawHigh;
  const limit = 1 + gate.margin;
  const rateBound = canaryRateBound(signal.canary, rateThreshold);
  return {
    gate,
    signal,
    low,
    high,
    rateBound,
    worse: low > limit,
    withinMargin: high !== null && high < limit,
    // With no event in either version the ratio's interval stays [0, unbounded) however long the
    // step runs: this is the path by which a healthy canary without errors advances at all.
    negligible: rateBound < gate.negligibleRate,
  };
}

/**
 * Upper end of the Beta(1, 1) mixture's confidence sequence for events/trials, from this poll's
 * counts alone: every poll's interval covers the rate at once with the sequence's probability, so
 * one needs no state (the running intersection, which would need one, is only tighter).
 */
function canaryRateBound(arm: Signal['canary'], threshold: number): number {
  const { upper } = logOddsInterval(RATE_PRIOR, arm.events, arm.trials - arm.events, threshold);
  return upper === null ? 1 : logistic(upper);
}

/**
 * Three significant digits, rounded the way a bound may be: a lower end down, an upper end up,
 * so that a printed bound never claims more than the computed one.
 */
function number(value: number, direction: 'down' | 'up' | 'nearest' = 'nearest'): string {
  if (value === 0 || !Number.isFinite(value)) return String(value);
  const scale = 10 ** (Math.floor(Math.log10(Math.abs(value))) - 2);
  const scaled = value / scale;
  const digits = direction === 'up' ? Math.ceil(scaled - 1e-9) : direction === 'down' ? Math.floor(scaled + 1e-9) : Math.round(scaled);
  const result = Number((digits * scale).toPrecision(3));
  return Math.abs(result) >= 1e6 ? result.toExponential(2) : String(result);
}
const percent = (share: number, direction: 'down' | 'up' | 'nearest' = 'nearest'): string => `${number(100 * share, direction)}%`;
const counts = (signal: Signal): string => `canary ${signal.canary.events}/${signal.canary.trials}, stable ${signal.stable.events}/${signal.stable.trials}`;
const interval = (reading: GateReading): string => `[${number(reading.low, 'down')}, ${reading.high === null ? 'unbounded)' : `${number(reading.high, 'up')}]`}`;
const rateBound = (reading: GateReading): string => `canary rate ≤ ${percent(reading.rateBound, 'up')}`;

function passed(reading: GateReading): string {
  const name = reading.gate.signal;
  if (reading.withinMargin) return `${name} within the ${percent(reading.gate.margin)} margin (${counts(reading.signal)}, rate ratio interval ${interval(reading)})`;
  return `${name} below ${percent(reading.gate.negligibleRate)} (${counts(reading.signal)}, ${rateBound(reading)})`;
}

function unproven(reading: GateReading): string {
  const { signal, margin, negligibleRate } = reading.gate;
  return `${signal} not shown within the ${percent(margin)} margin nor below ${percent(negligibleRate)} (${counts(reading.signal)}, rate ratio interval ${interval(reading)}, ${rateBound(reading)})`;
}

function validateRule(rule: StepRule): void {
  if (!isList(rule.gates) || rule.gates.length === 0) throw new AnalysisInputError('rule.gates', 'at least one gate is needed: without one nothing could roll a canary back');
  const seen = new Set<string>();
  rule.gates.forEach((gate, i) => {
    const field = `rule.gates[${i}]`;
    if (!GATE_SIGNALS.includes(gate.signal)) throw new AnalysisInputError(`${field}.signal`, `must be one of ${GATE_SIGNALS.join(', ')}, got ${JSON.stringify(gate.signal)}`);
    if (seen.has(gate.signal)) throw new AnalysisInputError(`${field}.signal`, `${gate.signal} has a gate already`);
    seen.add(gate.signal);
    if (typeof gate.margin !== 'number' || !(gate.margin >= 0) || !Number.isFinite(gate.margin)) throw new AnalysisInputError(`${field}.margin`, `must be a finite number ≥ 0, got ${JSON.stringify(gate.margin)}`);
    if (typeof gate.negligibleRate !== 'number' || !(gate.negligibleRate >= 0 && gate.negligibleRate < 1)) {
      throw new AnalysisInputError(`${field}.negligibleRate`, `must be a number in [0, 1), got ${JSON.stringify(gate.negligibleRate)}`);
    }
  });
  requireCount(rule.minCanaryRequests, 'rule.minCanaryRequests');
  if (typeof rule.maxStepSeconds !== 'number' || !(rule.maxStepSeconds > 0)) throw new AnalysisInputError('rule.maxStepSeconds', `must be a number > 0, got ${JSON.stringify(rule.maxStepSeconds)}`);
  if (rule.onMaxDuration !== 'advance' && rule.onMaxDuration !== 'hold') throw new AnalysisInputError('rule.onMaxDuration', `must be advance or hold, got ${JSON.stringify(rule.onMaxDuration)}`);
  requireProbability(rule.alpha, 'rule.alpha');
  if (!Number.isSafeInteger(rule.signalCount) || rule.signalCount < 1) throw new AnalysisInputError('rule.signalCount', `must be a positive integer, got ${JSON.stringify(rule.signalCount)}`);
}

function validateEvidence(evidence: StepEvidence, rule: StepRule): Map<string, Signal> {
  if (!VERDICTS.includes(evidence.verdict)) throw new AnalysisInputError('evidence.verdict', `must be one of ${VERDICTS.join(', ')}, got ${JSON.stringify(evidence.verdict)}`);
  if (!isList(evidence.signals)) throw new AnalysisInputError('evidence.signals', 'must be a list');
  const signals = new Map<string, Signal>();
  evidence.signals.forEach((signal, i) => {
    if (typeof signal.name !== 'string' || signal.name === '') throw new AnalysisInputError(`evidence.signals[${i}].name`, `must be a signal's name, got ${JSON.stringify(signal.name)}`);
    if (signals.has(signal.name)) throw new AnalysisInputError(`evidence.signals[${i}].name`, `${signal.name} appears twice`);
    const field = `evidence.signals.${signal.name}`;
    for (const arm of ['stable', 'canary'] as const) {
      const trials = requireCount(signal[arm]?.trials, `${field}.${arm}.trials`);
      const events = requireCount(signal[arm]?.events, `${field}.${arm}.events`);
      if (events > trials) throw new AnalysisInputError(`${field}.${arm}.events`, `${events} events exceed ${trials} trials`);
    }
    if (!VERDICTS.includes(signal.verdict)) throw new AnalysisInputError(`${field}.verdict`, `must be one of ${VERDICTS.join(', ')}, got ${JSON.stringify(signal.verdict)}`);
    const [low, high] = signal.interval ?? [];
    const validLow = typeof low === 'number' && low >= 0 && Number.isFinite(low);
    const validHigh = high === -1 || (typeof high === 'number' && Number.isFinite(high) && validLow && high >= low);
    if (signal.interval?.length !== 2 || !validLow || !validHigh) {
      throw new AnalysisInputError(`${field}.interval`, `must be [low, high] with 0 ≤ low ≤ high (high −1 for unbounded), got ${JSON.stringify(signal.interval)}`);
    }
    signals.set(signal.name, signal);
  });
  // The interval levels were set by the number of signals: a bound at another level would not add up.
  if (rule.signalCount !== signals.size) throw new AnalysisInputError('rule.signalCount', `is ${rule.signalCount} but the evidence has ${signals.size} signals; it must count the signals that share α`);
  if (!signals.has('errors')) throw new AnalysisInputError('evidence.signals', 'no errors signal, whose canary trials count the step\'s requests');
  for (const gate of rule.gates) {
    if (!signals.has(gate.signal)) throw new AnalysisInputError('evidence.signals', `no ${gate.signal} signal, which a gate needs`);
  }
  return signals;
}

/**
 * Shadow. The shadow model advances (to a canary, say) once it agrees with the stable model often
 * enough, shown by the agreement rate's confidence sequence, and its disagreements do not lean a
 * way the rule refuses; it is rejected once the sequence lies wholly below minAgreement, the lean
 * is a refused one, or the time is up.
 */
export type ShadowLean = 'shadow-flags-more-spam' | 'stable-flags-more-spam';

export interface ShadowRule {
  /** In (0, 1]: the agreement rate the shadow must be shown to reach. */
  readonly minAgreement: number;
  readonly minComparisons: number;
  readonly rejectLeans: readonly ShadowLean[];
  readonly maxSeconds: number;
}

export interface ShadowEvidence {
  readonly bothSpam: number;
  readonly bothHam: number;
  readonly shadowOnlySpam: number;
  readonly stableOnlySpam: number;
  /** The agreement rate's confidence sequence [low, high]. */
  readonly agreementInterval: readonly number[];
  readonly lean: string;
}

export type ShadowDecision =
  | { readonly action: 'advance'; readonly message: string }
  | { readonly action: 'reject'; readonly message: string }
  | { readonly action: 'wait'; readonly message: string };

const LEANS: readonly string[] = ['shadow-flags-more-spam', 'stable-flags-more-spam', 'no-lean-yet'];
const PAIR_FIELDS = ['bothSpam', 'bothHam', 'shadowOnlySpam', 'stableOnlySpam'] as const;

export function decideShadow(rule: ShadowRule, evidence: ShadowEvidence, elapsedSeconds: number): ShadowDecision {
  validateShadowRule(rule);
  const [low, high] = validateShadowEvidence(evidence);
  requireElapsed(elapsedSeconds);
  const comparisons = PAIR_FIELDS.reduce((sum, field) => sum + evidence[field], 0);
  const agreed = evidence.bothSpam + evidence.bothHam;
  const seen = `${agreed} of ${comparisons} messages agree, agreement interval [${percent(low, 'down')}, ${percent(high, 'up')}]`;
  const target = percent(rule.minAgreement);

  if (high < rule.minAgreement) return { action: 'reject', message: `agreement below ${target}: ${seen}` };
  const refused = (rule.rejectLeans as readonly string[]).includes(evidence.lean);
  if (refused) return { action: 'reject', message: `the disagreements lean a refused way (${evidence.lean}: ${evidence.shadowOnlySpam} shadow-only spam, ${evidence.stableOnlySpam} stable-only spam); ${seen}` };
  const enough = comparisons >= rule.minComparisons;
  if (enough && low >= rule.minAgreement) return { action: 'advance', message: `agreement shown at ${target} or more: ${seen}` };
  const missing = [...(enough ? [] : [`${comparisons} of ${rule.minComparisons} comparisons`]), ...(low >= rule.minAgreement ? [] : [`agreement not yet shown at ${target} or more`])].join(', ');
  if (elapsedSeconds >= rule.maxSeconds) return { action: 'reject', message: `the maximum of ${rule.maxSeconds} s reached without advancing (${missing}): ${seen}` };
  return { action: 'wait', message: `waiting (${missing}): ${seen}` };
}

function validateShadowRule(rule: ShadowRule): void {
  if (typeof rule.minAgreement !== 'number' || !(rule.minAgreement > 0 && rule.minAgreement <= 1)) {
    throw new AnalysisInputError('rule.minAgreement', `must be a number in (0, 1], got ${JSON.stringify(rule.minAgreement)}`);
  }
  requireCount(rule.minComparisons, 'rule.minComparisons');
  if (!isList(rule.rejectLeans)) throw new AnalysisInputError('rule.rejectLeans', 'must be a list');
  rule.rejectLeans.forEach((lean, i) => {
    if (lean !== 'shadow-flags-more-spam' && lean !== 'stable-flags-more-spam') {
      throw new AnalysisInputError(`rule.rejectLeans[${i}]`, `must be shadow-flags-more-spam or stable-flags-more-spam, got ${JSON.stringify(lean)}`);
    }
  });
  if (typeof rule.maxSeconds !== 'number' || !(rule.maxSeconds > 0)) throw new AnalysisInputError('rule.maxSeconds', `must be a number > 0, got ${JSON.stringify(rule.maxSeconds)}`);
}

function validateShadowEvidence(evidence: ShadowEvidence): [number, number] {
  for (const field of PAIR_FIELDS) requireCount(evidence[field], `evidence.${field}`);
  const [low, high] = evidence.agreementInterval ?? [];
  if (evidence.agreementInterval?.length !== 2 || typeof low !== 'number' || typeof high !== 'number' || !(low >= 0 && low <= high && high <= 1)) {
    throw new AnalysisInputError('evidence.agreementInterval', `must be [low, high] with 0 ≤ low ≤ high ≤ 1, got ${JSON.stringify(evidence.agreementInterval)}`);
  }
  if (!LEANS.includes(evidence.lean)) throw new AnalysisInputError('evidence.lean', `must be one of ${LEANS.join(', ')}, got ${JSON.stringify(evidence.lean)}`);
  return [low, high];
}

function requireElapsed(seconds: number): void {
  if (typeof seconds !== 'number' || !(seconds >= 0) || !Number.isFinite(seconds)) throw new AnalysisInputError('elapsedSeconds', `must be a finite number ≥ 0, got ${JSON.stringify(seconds)}`);
}
