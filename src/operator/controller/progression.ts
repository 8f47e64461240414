// Progressive delivery as a state machine over status.progression: pure functions of the spec, the
// stored run, the round's evidence and the clock. The analysis loop calls nextProgression once a
// round and writes what it returns; the reconciler renders effectiveSpec, so the driven weights
// reach the routing through the same render, readiness gate and apply as a person's weights do.
// Nothing here rewrites the user's spec: the run lives in status, which is also what makes a
// restart or a failover continue the same step.
import { createHash } from 'node:crypto';
import { decideShadow, decideStep, type StepDecision, type ShadowDecision } from '../../analysis/index.ts';
import {
  REQUEST_ACTIONS,
  TERMINAL_PHASES,
  type RequestAction,
  type AnalysisStatus,
  type ProgressionPhase,
  type ProgressionSpec,
  type ProgressionStatus,
  type SmsExperimentSpec,
} from '../../crd/schema.ts';
import { durationSeconds } from '../../crd/formats.ts';
import { toKubeTime } from '../runtime/clock.ts';
import { CANARY_SIGNALS } from './analysis.ts';


/** Ended steps kept in status, newest last. */
const HISTORY_LIMIT = 64;

type Weights = { stable: number; canary: number };

/** What a round knows when it decides. */
export interface ProgressionInput {
  spec: SmsExperimentSpec;
  stored: ProgressionStatus | undefined;
  /** The traffic the reconciler has put in effect (status.mode / status.weights / mirrorPercent). */
  inEffect: { mode?: 'canary' | 'shadow' | undefined; weights?: Weights | undefined; mirrorPercent?: number | undefined };
  /** This round's analysis when it is of the run's current step (undefined when there is none). */
  analysis: AnalysisStatus | undefined;
  /** The request annotation's value, if any. */
  request: string | undefined;
  now: number;
}

export interface ProgressionEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export interface ProgressionOutcome {
  progression: ProgressionStatus;
  events: ProgressionEvent[];
}

/** The versions and steps a run is about: a change of any of them starts a new run. */
export function runIdentity(spec: SmsExperimentSpec): string {
  const progression = spec.analysis.progression;
  const { app, model } = spec;
  const candidate = spec.mode === 'shadow' ? model.shadow : model.canary;
  return [
    `app ${app.stable.version}=${app.stable.image} -> ${app.canary.version}=${app.canary.image}`,
    `model ${model.stable.version}=${model.stable.image}@${model.stable.artifact} -> ${spec.mode === 'shadow' ? 'shadow ' : ''}${candidate.version}=${candidate.image}@${candidate.artifact}`,
    `steps ${(progression?.steps ?? []).join(',')}`,
  ].join('; ');
}

/** A short name of a run and its evidence epoch, for the analysis step: `run 1a2b3c4d epoch 0`. */
export function runKey(identity: string, epoch: number): string {
  return `run ${createHash('sha256').update(identity).digest('hex').slice(0, 8)} epoch ${epoch}`;
}

const sameWeights = (a: Weights | undefined, b: Weights | undefined) => a !== undefined && b !== undefined && a.stable === b.stable && a.canary === b.canary;
const stepWeights = (canary: number): Weights => ({ stable: 100 - canary, canary });

/** The spec the reconciler renders: the user's, with the run's mode and weights in effect. */
export function effectiveSpec(spec: SmsExperimentSpec, stored: ProgressionStatus | undefined): SmsExperimentSpec {
  const progression = spec.analysis.progression;
  if (progression === undefined) return spec;
  const run = stored?.run === runIdentity(spec) ? stored : startRun(spec, stored).progression;
  if (run.mode === 'shadow') return { ...spec, mode: 'shadow' };
  // A person's edit of spec.traffic.weights takes effect at once, before the loop has noted it.
  const edited = !sameWeights(spec.traffic.weights, run.acknowledgedWeights);
  const weights = edited || run.weightsFrom === 'spec' ? spec.traffic.weights : run.weights;
  const model = spec.mode === 'shadow' ? { ...spec.model, canary: shadowAsCanary(spec) } : spec.model;
  return { ...spec, mode: 'canary', model, traffic: { ...spec.traffic, weights: { ...weights } } };
}

/** The shadow model in the canary slot: its image, artifact and annotations; the slot keeps its version label and replicas. */
function shadowAsCanary(spec: SmsExperimentSpec): SmsExperimentSpec['model']['canary'] {
  const { shadow, canary } = spec.model;
  return { ...canary, image: shadow.image, artifact: shadow.artifact, ...(shadow.podAnnotations === undefined ? {} : { podAnnotations: shadow.podAnnotations }), replicas: Math.max(canary.replicas, shadow.replicas) };
}

function startRun(spec: SmsExperimentSpec, previous: ProgressionStatus | undefined): ProgressionOutcome {
  const rule = spec.analysis.progression as ProgressionSpec;
  const fromShadow = rule.fromShadow !== undefined;
  const first = rule.steps[0] ?? 100;
  const progression: ProgressionStatus = {
    run: runIdentity(spec),
    phase: fromShadow ? 'Shadowing' : 'Progressing',
    step: fromShadow ? 0 : 1,
    steps: rule.steps.length,
    mode: fromShadow ? 'shadow' : 'canary',
    weights: fromShadow ? { stable: 100, canary: 0 } : stepWeights(first),
    weightsFrom: 'steps',
    acknowledgedWeights: { ...spec.traffic.weights },
    epoch: 0,
    ...(previous?.handledRequest === undefined ? {} : { handledRequest: previous.handledRequest }),
    message: fromShadow ? 'judging the shadow model before it becomes the canary' : `step 1/${rule.steps.length}: waiting for ${first}% to take effect`,
    history: [],
  };
  const message = fromShadow
    ? `Started a run: the shadow model ${spec.model.shadow.version} (artifact ${spec.model.shadow.artifact}) is judged on mirrored traffic, then steps ${rule.steps.join(', ')}%`
    : `Started a run: canary steps ${rule.steps.join(', ')}%`;
  return { progression, events: [{ type: 'Normal', reason: 'RunStarted', message }] };
}

/** One round of the run: requests, edits, then the evidence. */
export function nextProgression(input: ProgressionInput): ProgressionOutcome {
  const { spec, now } = input;
  const rule = spec.analysis.progression as ProgressionSpec;
  const events: ProgressionEvent[] = [];
  let progression: ProgressionStatus;
  if (input.stored === undefined || input.stored.run !== runIdentity(spec)) {
    const started = startRun(spec, input.stored);
    progression = started.progression;
    events.push(...started.events);
  } else {
    progression = { ...input.stored, history: [...input.stored.history] };
  }
  const apply = (outcome: ProgressionOutcome) => {
    progression = outcome.progression;
    events.push(...outcome.events);
  };

  const request = parseRequest(input.request);
  if (request !== undefined && request.raw !== progression.handledRequest) apply(handleRequest(spec, rule, progression, request, input, now));
  apply(noteWeightEdit(spec, progression));

  // A step held at its maximum duration keeps being judged: later evidence still advances it, and
  // a regression still rolls it back.
  const held = progression.phase === 'Paused' && progression.pausedBy === 'max-duration';
  if (progression.phase === 'Progressing' || held) apply(progressCanary(spec, rule, progression, input, now));
  else if (progression.phase === 'Shadowing') apply(progressShadow(spec, rule, progression, input, now));
  return { progression, events };
}

type ParsedRequest = { raw: string; action: RequestAction | undefined; text: string };

function parseRequest(value: string | undefined): ParsedRequest | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const text = value.trim().split('/')[0] ?? '';
  const action = (REQUEST_ACTIONS as readonly string[]).includes(text) ? (text as RequestAction) : undefined;
  return { raw: value, action, text };
}

const active = (phase: ProgressionPhase) => phase === 'Progressing' || phase === 'Shadowing';

function handleRequest(spec: SmsExperimentSpec, rule: ProgressionSpec, run: ProgressionStatus, request: ParsedRequest, input: ProgressionInput, now: number): ProgressionOutcome {
  const handled = { ...run, handledRequest: request.raw };
  const refuse = (why: string): ProgressionOutcome => ({ progression: handled, events: [{ type: 'Warning', reason: 'RequestIgnored', message: `Ignored the request "${request.raw}": ${why}` }] });
  const at = stepLabel(run);
  switch (request.action) {
    case undefined:
      return refuse(`unknown action "${request.text}"; one of ${REQUEST_ACTIONS.join(', ')}`);
    case 'pause':
      if (!active(run.phase) && run.phase !== 'Halted') return refuse(`the run is ${run.phase}`);
      return {
        progression: { ...handled, phase: 'Paused', pausedBy: 'request', message: `paused by request at ${at}`, nextAction: 'kubectl smsx resume to continue, abort to roll back' },
        events: [{ type: 'Normal', reason: 'Paused', message: `Paused the run at ${at} by request` }],
      };
    case 'resume': {
      if (run.phase !== 'Paused' && run.phase !== 'Halted') return refuse(`the run is ${run.phase}, not Paused or Halted`);
      // After a halt or an edit the evidence of the step cannot be kept: it starts over.
      const fresh = run.phase === 'Halted' || run.pausedBy === 'weights-edited';
      const { pausedBy: _pausedBy, nextAction: _nextAction, stepStartedAt: _started, ...rest } = handled;
      const resumed: ProgressionStatus = {
        ...rest,
        phase: run.mode === 'shadow' ? 'Shadowing' : 'Progressing',
        weightsFrom: 'steps',
        acknowledgedWeights: { ...spec.traffic.weights },
        epoch: fresh ? run.epoch + 1 : run.epoch,
        message: `resumed at ${at}${fresh ? ', the step\'s evidence starts over' : ''}`,
      };
      return { progression: resumed, events: [{ type: 'Normal', reason: 'Resumed', message: `Resumed the run at ${at}${fresh ? '; the step\'s evidence starts over' : ''}` }] };
    }
    case 'abort': {
      if (TERMINAL_PHASES.has(run.phase)) return refuse(`the run already ended (${run.phase})`);
      const ended = endStep(handled, 'Aborted', canaryRequestsOf(input.analysis, run), 'aborted by request', now);
      const aborted: ProgressionStatus = {
        ...ended,
        phase: 'Aborted',
        weights: { stable: 100, canary: 0 },
        weightsFrom: 'steps',
        acknowledgedWeights: { ...spec.traffic.weights },
        message: `aborted by request at ${at}: all traffic back to stable`,
        nextAction: 'kubectl smsx retry to run the steps again; a change of versions starts a new run',
      };
      return { progression: aborted, events: [{ type: 'Warning', reason: 'Aborted', message: `Aborted the run at ${at} by request: all traffic back to stable` }] };
    }
    case 'skip':
      if (TERMINAL_PHASES.has(run.phase)) return refuse(`the run already ended (${run.phase})`);
      return advance(spec, rule, handled, 'Skipped', `skipped by request at ${at} (no evidence judged)`, canaryRequestsOf(input.analysis, run), now);
    case 'promote':
      if (run.phase === 'Promoted') return refuse('the run is already Promoted');
      return promote(spec, endStep(handled, 'Skipped', canaryRequestsOf(input.analysis, run), 'promoted by request, the analysis skipped', now), 'promoted by request, the analysis skipped');
    case 'retry': {
      if (!TERMINAL_PHASES.has(run.phase)) return refuse(`the run is ${run.phase}; retry restarts a run that ended`);
      const restarted = startRun(spec, handled);
      return { progression: { ...restarted.progression, epoch: run.epoch + 1 }, events: restarted.events };
    }
  }
}

/** A person changed spec.traffic.weights since the run noted them: their weights take effect, and an active run pauses. */
function noteWeightEdit(spec: SmsExperimentSpec, run: ProgressionStatus): ProgressionOutcome {
  if (run.mode !== 'canary' || sameWeights(spec.traffic.weights, run.acknowledgedWeights)) return { progression: run, events: [] };
  const { stable, canary } = spec.traffic.weights;
  const edited: ProgressionStatus = { ...run, weightsFrom: 'spec', acknowledgedWeights: { stable, canary } };
  if (TERMINAL_PHASES.has(run.phase)) {
    return {
      progression: { ...edited, message: `${run.message}; spec.traffic.weights ${stable}/${canary} are in effect (edited after the run ended)` },
      events: [{ type: 'Normal', reason: 'WeightsEdited', message: `spec.traffic.weights were edited to ${stable}/${canary} after the run ended (${run.phase}); they are in effect` }],
    };
  }
  const at = stepLabel(run);
  return {
    progression: {
      ...edited,
      phase: 'Paused',
      pausedBy: 'weights-edited',
      message: `paused at ${at}: spec.traffic.weights were edited to ${stable}/${canary}, which are in effect`,
      nextAction: `kubectl smsx resume to drive the steps again from ${at} (your weights are then superseded), or kubectl smsx abort`,
    },
    events: [{ type: 'Warning', reason: 'WeightsEdited', message: `spec.traffic.weights were edited to ${stable}/${canary} during ${at}: the run is paused and your weights are in effect; kubectl smsx resume continues the steps` }],
  };
}

function stepLabel(run: ProgressionStatus): string {
  return run.step === 0 ? 'the shadow phase' : `step ${run.step}/${run.steps} (${run.weights.canary}%)`;
}

function canaryRequestsOf(analysis: AnalysisStatus | undefined, run: ProgressionStatus): number {
  if (run.mode === 'shadow') {
    const shadow = analysis?.shadow;
    return shadow === undefined ? 0 : shadow.bothSpam + shadow.bothHam + shadow.shadowOnlySpam + shadow.stableOnlySpam;
  }
  return analysis?.signals?.find((signal) => signal.name === 'errors')?.canary.trials ?? 0;
}

function endStep(run: ProgressionStatus, outcome: string, canaryRequests: number, message: string, now: number): ProgressionStatus {
  const record = {
    step: run.step,
    canaryWeight: run.mode === 'shadow' ? 0 : run.weights.canary,
    startedAt: run.stepStartedAt ?? toKubeTime(now),
    endedAt: toKubeTime(now),
    outcome,
    canaryRequests,
    message,
  };
  const { stepStartedAt: _started, pausedBy: _pausedBy, ...rest } = run;
  return { ...rest, history: [...run.history, record].slice(-HISTORY_LIMIT) };
}

/** To the next step, or promoted after the last one (a step of 100% is the promotion). */
function advance(spec: SmsExperimentSpec, rule: ProgressionSpec, run: ProgressionStatus, outcome: string, message: string, canaryRequests: number, now: number): ProgressionOutcome {
  const ended = endStep(run, outcome, canaryRequests, message, now);
  const nextIndex = run.mode === 'shadow' ? 0 : run.step;
  const next = rule.steps[nextIndex];
  if (next === undefined || next >= 100) return promote(spec, ended, message);
  const label = `step ${nextIndex + 1}/${rule.steps.length} (${next}%)`;
  const { nextAction: _nextAction, ...rest } = ended;
  return {
    progression: { ...rest, phase: 'Progressing', mode: 'canary', step: nextIndex + 1, weights: stepWeights(next), weightsFrom: 'steps', message: `${label}: waiting for ${next}% to take effect` },
    events: [{ type: 'Normal', reason: run.mode === 'shadow' ? 'ShadowPassed' : 'StepAdvanced', message: `${run.mode === 'shadow' ? 'The shadow model passed' : `Step ${run.step}/${run.steps} (${run.weights.canary}%) passed`}: ${message}; on to ${label}` }],
  };
}

function promote(spec: SmsExperimentSpec, run: ProgressionStatus, message: string): ProgressionOutcome {
  const nextAction = promotionAdvice(spec);
  return {
    progression: { ...run, phase: 'Promoted', mode: 'canary', step: run.steps, weights: { stable: 0, canary: 100 }, weightsFrom: 'steps', message: `promoted: all traffic to the canary (${message})`, nextAction },
    events: [{ type: 'Normal', reason: 'Promoted', message: `Promoted the canary: all traffic to it (${message}); next: ${nextAction}` }],
  };
}

function promotionAdvice(spec: SmsExperimentSpec): string {
  const { app, model } = spec;
  const candidate = spec.mode === 'shadow' ? model.shadow : model.canary;
  const next = spec.mode === 'shadow' ? 'spec.model.shadow' : 'spec.app.canary and spec.model.canary';
  return (
    `promote: set spec.app.stable to the canary's image ${app.canary.image} and spec.model.stable to image ${candidate.image} artifact ${candidate.artifact}, ` +
    `and ${next} to the next candidate (a change of versions starts a new run), or remove spec.analysis.progression to keep these weights by hand`
  );
}

function rollBack(run: ProgressionStatus, signal: string, message: string, canaryRequests: number, now: number): ProgressionOutcome {
  const at = stepLabel(run);
  const ended = endStep(run, 'RolledBack', canaryRequests, message, now);
  const nextAction = `fix the canary (spec.app.canary / spec.model.canary: a new version starts a new run), or kubectl smsx retry`;
  return {
    progression: { ...ended, phase: 'RolledBack', weights: { stable: 100, canary: 0 }, weightsFrom: 'steps', message: `rolled back at ${at} on ${signal}: ${message}`, nextAction },
    events: [{ type: 'Warning', reason: 'RolledBack', message: `Rolled back at ${at}: ${message}; all traffic back to stable; next: ${nextAction}` }],
  };
}

/** Whether the traffic in effect is the run's current step, as routed (readiness may still hold it). */
function stepInEffect(run: ProgressionStatus, inEffect: ProgressionInput['inEffect']): boolean {
  if (run.mode === 'shadow') return inEffect.mode === 'shadow' && (inEffect.mirrorPercent ?? 0) > 0;
  return inEffect.mode === 'canary' && sameWeights(inEffect.weights, run.weights);
}

function progressCanary(spec: SmsExperimentSpec, rule: ProgressionSpec, run: ProgressionStatus, input: ProgressionInput, now: number): ProgressionOutcome {
  // steps: [100] has nothing to compare: the first step is the promotion.
  if (run.weights.canary >= 100) return promote(spec, endStep(run, 'Promoted', 0, 'the first step is 100%', now), 'the first step is 100%');
  const label = stepLabel(run);
  if (!stepInEffect(run, input.inEffect)) {
    const held = input.inEffect.weights ? ` (in effect: ${input.inEffect.weights.stable}/${input.inEffect.weights.canary}; the readiness gate holds traffic until the canary answers)` : '';
    return { progression: { ...run, message: `${label}: waiting for ${run.weights.canary}% to take effect${held}` }, events: [] };
  }
  const started = run.stepStartedAt ?? toKubeTime(now);
  const current = { ...run, stepStartedAt: started };
  const analysis = input.analysis;
  if (analysis?.signals === undefined || analysis.verdict === undefined) return { progression: { ...current, message: `${label}: waiting for the first evidence` }, events: [] };
  const elapsed = Math.max(0, (now - Date.parse(started)) / 1_000);
  const decision: StepDecision = decideStep(
    {
      gates: rule.gates,
      minCanaryRequests: rule.minCanaryRequests,
      maxStepSeconds: durationSeconds(rule.maxStepDuration) ?? 600,
      onMaxDuration: rule.onMaxDuration,
      alpha: analysis.alpha,
      signalCount: CANARY_SIGNALS.length,
    },
    { verdict: analysis.verdict, signals: analysis.signals.map((signal) => ({ ...signal, interval: signal.interval ?? [0, -1] })) },
    elapsed,
  );
  const canaryRequests = canaryRequestsOf(analysis, run);
  switch (decision.action) {
    case 'rollback':
      return rollBack(current, decision.signal, decision.message, canaryRequests, now);
    case 'halt':
      return {
        progression: { ...current, phase: 'Halted', message: `halted at ${label}: ${decision.message}`, nextAction: 'find what breaks the split (retries, traffic straight to pods), then kubectl smsx resume (the step starts over) or abort' },
        events: [{ type: 'Warning', reason: 'Halted', message: `Halted the run at ${label}: ${decision.message}` }],
      };
    case 'advance':
      return advance(spec, rule, current, 'Advanced', decision.message, canaryRequests, now);
    case 'hold':
      if (current.phase === 'Paused') return { progression: { ...current, message: `held at ${label}: ${decision.message}` }, events: [] };
      return {
        progression: { ...current, phase: 'Paused', pausedBy: 'max-duration', message: `held at ${label}: ${decision.message}`, nextAction: 'kubectl smsx skip to take the next step anyway, resume to keep collecting, or abort' },
        events: [{ type: 'Warning', reason: 'Held', message: `Held the run at ${label}: ${decision.message}` }],
      };
    case 'wait':
      return { progression: { ...current, message: `${label}: ${decision.message}` }, events: [] };
  }
}

function progressShadow(spec: SmsExperimentSpec, rule: ProgressionSpec, run: ProgressionStatus, input: ProgressionInput, now: number): ProgressionOutcome {
  const fromShadow = rule.fromShadow;
  if (fromShadow === undefined) return { progression: run, events: [] };
  if (!stepInEffect(run, input.inEffect)) return { progression: { ...run, message: 'the shadow phase: waiting for mirrored traffic to take effect (the readiness gate holds it until the shadow answers)' }, events: [] };
  const started = run.stepStartedAt ?? toKubeTime(now);
  const current = { ...run, stepStartedAt: started };
  const shadow = input.analysis?.shadow;
  if (shadow === undefined) return { progression: { ...current, message: 'the shadow phase: waiting for the first evidence' }, events: [] };
  const elapsed = Math.max(0, (now - Date.parse(started)) / 1_000);
  const decision: ShadowDecision = decideShadow(
    { minAgreement: fromShadow.minAgreement, minComparisons: fromShadow.minComparisons, rejectLeans: fromShadow.rejectLeans, maxSeconds: durationSeconds(fromShadow.maxDuration) ?? 1_800 },
    shadow,
    elapsed,
  );
  const compared = canaryRequestsOf(input.analysis, run);
  switch (decision.action) {
    case 'advance':
      return advance(spec, rule, current, 'ShadowPassed', decision.message, compared, now);
    case 'reject': {
      const ended = endStep(current, 'ShadowRejected', compared, decision.message, now);
      return {
        progression: { ...ended, phase: 'ShadowRejected', message: `the shadow model stays in shadow: ${decision.message}`, nextAction: 'train a better model (a new spec.model.shadow artifact starts a new run), or kubectl smsx retry' },
        events: [{ type: 'Warning', reason: 'ShadowRejected', message: `The shadow model ${spec.model.shadow.version} (artifact ${spec.model.shadow.artifact}) stays in shadow: ${decision.message}` }],
      };
    }
    case 'wait':
      return { progression: { ...current, message: `the shadow phase: ${decision.message}` }, events: [] };
  }
}
