// The time-driven half of the controller: every interval, for every experiment, read the step's
// counts from Prometheus, judge them, and write status.analysis and the Analysed condition. It lives
// beside the level-triggered reconciler and keeps all of its state in the status (the counters'
// memory and the statistics' running state), so a restart or a failover continues the same step.
// It writes with a field manager of its own, so its part of the status and the reconciler's never
// overwrite each other. With spec.analysis.progression it also runs the progression (progression.ts):
// it decides the run's weights in status.progression, and the reconciler puts them in effect.
import { REQUEST_ANNOTATION, type AnalysisStatus, type Condition, type ProgressionStatus, type SmsExperiment } from '../../crd/schema.ts';
import type { Applier } from '../apply/applier.ts';
import { overRange } from '../prometheus/signals.ts';
import { countAnswer } from '../prometheus/collect.ts';
import type { PrometheusClient, PrometheusProblem } from '../prometheus/client.ts';
import type { CounterMemory } from '../prometheus/counters.ts';
import type { CountsByVersion } from '../prometheus/signals.ts';
import { toKubeTime, type CancelTimer, type Clock } from '../runtime/clock.ts';
import type { EventRecorder, EventSubject } from '../runtime/events.ts';
import type { CacheEntry } from '../runtime/informers.ts';
import { experimentLogger, type Logger } from '../runtime/logging.ts';
import type { OperatorMetrics } from '../runtime/metrics.ts';
import { alignedAtCommonInstant, analysisSummary, judgeStep, sameStep, stepPlan, storedStateOf, type StepPlan } from './analysis.ts';
import { findCondition } from './conditions.ts';
import { effectiveSpec, nextProgression, runIdentity, runKey, type ProgressionOutcome } from './progression.ts';
import { experimentSubject, SMS_EXPERIMENT } from './experiment.ts';
import { ANALYSIS_CONDITION, PROMOTED_CONDITION, ROLLED_BACK_CONDITION } from './status.ts';

export const ANALYSED = ANALYSIS_CONDITION;
export const PROMOTED = PROMOTED_CONDITION;
export const ROLLED_BACK = ROLLED_BACK_CONDITION;

export interface AnalysisLoopOptions {
  experiments: () => Iterable<CacheEntry<SmsExperiment>>;
  prometheus: PrometheusClient;
  /** An applier with the analysis' own field manager. */
  writer: Pick<Applier, 'applyStatus'>;
  recorder: EventRecorder;
  metrics: Pick<OperatorMetrics, 'setAnalysis' | 'countError' | 'setProgression' | 'countProgression'>;
  clock: Clock;
  logger: Logger;
  intervalMs: number;
  /** Where the counts come from, for messages. */
  prometheusUrl: string;
}

export interface AnalysisLoop {
  /** Runs one round over every experiment (the timer calls it; tests may too). */
  runOnce(): Promise<void>;
  start(): void;
  stop(): Promise<void>;
}

const REASON_OF = {
  worse: 'Worse',
  better: 'Better',
  'no-difference-yet': 'NoDifferenceYet',
  'sample-ratio-mismatch': 'SampleRatioMismatch',
  shadow: 'ShadowCompared',
} as const;

export function createAnalysisLoop(options: AnalysisLoopOptions): AnalysisLoop {
  let timer: CancelTimer | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;

  async function runOnce(): Promise<void> {
    for (const entry of options.experiments()) {
      if (!entry.valid || entry.metadata.deletionTimestamp !== undefined) continue;
      try {
        await analyse(options, entry.object);
      } catch (error) {
        // A status write that failed: the next round tries again; the log and metric say so.
        const { namespace, name } = entry.object.metadata;
        experimentLogger(options.logger, { namespace, name }).warn({ err: error }, 'Failed to write the analysis');
        options.metrics.countError('AnalysisWriteFailed');
      }
    }
  }

  const schedule = () => {
    if (stopped) return;
    timer = options.clock.setTimeout(() => {
      running = runOnce().finally(schedule);
    }, options.intervalMs);
  };

  return {
    runOnce,
    start() {
      if (timer === undefined && !stopped) schedule();
    },
    async stop() {
      stopped = true;
      timer?.();
      await running;
    },
  };
}

async function analyse(options: AnalysisLoopOptions, experiment: SmsExperiment): Promise<void> {
  const { namespace, name } = experiment.metadata;
  const log = experimentLogger(options.logger, { namespace, name });
  const now = options.clock.now();
  const subject = experimentSubject(experiment.metadata);
  const rule = experiment.spec.analysis.progression;
  const storedRun = rule === undefined ? undefined : experiment.status?.progression;
  // The evidence is of the traffic the run put in effect (the shadow's model in the canary slot, say).
  const effective = rule === undefined ? experiment : { ...experiment, spec: effectiveSpec(experiment.spec, storedRun) };
  const plan = stepPlan(effective, rule === undefined ? undefined : runKey(runIdentity(experiment.spec), storedRun?.run === runIdentity(experiment.spec) ? storedRun.epoch : 0));
  let analysis: AnalysisStatus | undefined;
  let draft: Draft;
  let changedVerdict = false;
  if ('reason' in plan) {
    draft = { status: 'False', reason: plan.reason, message: plan.message };
  } else {
    const previous = sameStep(experiment.status, plan);
    const collected = await collect(options, plan, storedStateOf(previous)?.counters ?? {});
    if (collected.ok) {
      analysis = judgeStep(plan, previous, collected.value, { alpha: experiment.spec.analysis.alpha, now });
      const summary = analysisSummary(analysis);
      log.debug(
        { step: plan.step, verdict: analysis.verdict, signals: analysis.signals?.map((signal) => ({ name: signal.name, stable: signal.stable, canary: signal.canary, p: signal.pValue, srm: signal.srmPValue })) },
        'Analysed experiment',
      );
      for (const signal of analysis.signals ?? []) options.metrics.setAnalysis(namespace, name, signal.name, signal.pValue, signal.rateRatio ?? -1);
      if (analysis.shadow) options.metrics.setAnalysis(namespace, name, 'shadow-lean', analysis.shadow.leanPValue, analysis.shadow.agreementRate);
      changedVerdict = previous === undefined ? summary.verdict !== 'no-difference-yet' && summary.verdict !== 'shadow' : previous.verdict !== analysis.verdict;
      draft = { status: 'True', reason: REASON_OF[summary.verdict], message: summary.message };
    } else {
      const message = `cannot read the evidence from Prometheus at ${options.prometheusUrl}: ${collected.problem.kind}: ${collected.problem.message}; no verdict is given from missing data`;
      if (findCondition(experiment.status?.conditions, ANALYSED)?.reason !== 'AnalysisUnavailable') log.warn({ problem: collected.problem.kind }, message);
      options.metrics.countError('AnalysisUnavailable');
      draft = { status: 'False', reason: 'AnalysisUnavailable', message };
    }
  }

  let run: ProgressionOutcome | undefined;
  if (rule !== undefined) {
    run = nextProgression({
      spec: experiment.spec,
      stored: storedRun,
      inEffect: { mode: experiment.status?.mode, weights: experiment.status?.weights, mirrorPercent: experiment.status?.mirrorPercent },
      analysis,
      request: experiment.metadata.annotations?.[REQUEST_ANNOTATION],
      now,
    });
    options.metrics.setProgression(namespace, name, run.progression.step, run.progression.mode === 'shadow' ? 0 : run.progression.weights.canary, run.progression.phase);
  }
  const drafts: Record<string, Draft> = { [ANALYSED]: draft, ...(run ? progressionConditions(run.progression) : {}) };
  const before = findCondition(experiment.status?.conditions, ANALYSED);
  const wrote = await writeIfChanged(options, subject, experiment, { analysis, progression: run?.progression }, drafts, now);
  if (!wrote) return;
  if (changedVerdict && before?.reason !== draft.reason && analysis !== undefined) {
    const summary = analysisSummary(analysis);
    const bad = summary.verdict === 'worse' || summary.verdict === 'sample-ratio-mismatch';
    const details = { reason: REASON_OF[summary.verdict], message: `The analysis says ${summary.message}`, action: 'Analyse' };
    if (bad) options.recorder.warning(subject, log, details);
    else options.recorder.normal(subject, log, details);
  }
  for (const event of run?.events ?? []) {
    options.metrics.countProgression(event.reason);
    const details = { reason: event.reason, message: event.message, action: 'Progress' };
    if (event.type === 'Warning') options.recorder.warning(subject, log, details);
    else options.recorder.normal(subject, log, details);
  }
}

/** Promoted and RolledBack, for `kubectl wait --for=condition=Promoted`; their reason is the phase. */
function progressionConditions(progression: ProgressionStatus): Record<string, Draft> {
  const { phase, message } = progression;
  const rolledBack = phase === 'RolledBack' || phase === 'Aborted';
  return {
    [PROMOTED]: { status: phase === 'Promoted' ? 'True' : 'False', reason: phase, message },
    [ROLLED_BACK]: { status: rolledBack ? 'True' : 'False', reason: phase, message },
  };
}

type Collection = { ok: true; value: { counts: Record<string, CountsByVersion>; counters: Record<string, CounterMemory> } } | { ok: false; problem: PrometheusProblem };

/** Reads every signal of the step; the first problem wins and nothing is counted from that round. */
async function collect(options: AnalysisLoopOptions, plan: StepPlan, memory: Readonly<Record<string, CounterMemory>>): Promise<Collection> {
  // Every raw sample since the last round, so a reset between two rounds is seen.
  const rangeSeconds = Math.max(60, Math.ceil((2 * options.intervalMs) / 1_000));
  const results = await Promise.all(
    plan.signals.map(async (signal) => {
      const answer = await options.prometheus.query(overRange(signal, rangeSeconds).promql);
      return answer.ok ? countAnswer(signal, memory[signal.name], plan.versions, alignedAtCommonInstant(answer.value)) : answer;
    }),
  );
  const counts: Record<string, CountsByVersion> = {};
  const counters: Record<string, CounterMemory> = {};
  for (const [index, result] of results.entries()) {
    if (!result.ok) return result;
    const name = plan.signals[index]?.name ?? '';
    counts[name] = result.value.counts;
    counters[name] = result.value.memory;
  }
  return { ok: true, value: { counts, counters } };
}

type Draft = Pick<Condition, 'status' | 'reason' | 'message'>;

interface LoopPart {
  /** This round's analysis; undefined keeps the stored one (missing data is no evidence). */
  analysis: AnalysisStatus | undefined;
  progression: ProgressionStatus | undefined;
}

/**
 * Writes the loop's part of the status: its conditions (lastTransitionTime kept while a status
 * holds), the analysis and the run. A round that changes none of them writes nothing. Every write
 * carries every field the loop owns, since server-side apply removes an owned field left out.
 * Returns whether it wrote.
 */
async function writeIfChanged(options: AnalysisLoopOptions, subject: EventSubject, experiment: SmsExperiment, part: LoopPart, drafts: Record<string, Draft>, now: number): Promise<boolean> {
  const generation = experiment.metadata.generation ?? 0;
  const stored = experiment.status;
  const conditions: Condition[] = Object.entries(drafts).map(([type, draft]) => {
    const before = findCondition(stored?.conditions, type);
    return { type, ...draft, lastTransitionTime: before && before.status === draft.status ? before.lastTransitionTime : toKubeTime(now), observedGeneration: generation };
  });
  const conditionsChanged = conditions.some((condition) => {
    const before = findCondition(stored?.conditions, condition.type);
    return before?.status !== condition.status || before.reason !== condition.reason || before.message !== condition.message;
  });
  const progressionChanged = JSON.stringify(part.progression) !== JSON.stringify(stored?.progression);
  if (!conditionsChanged && part.analysis === undefined && !progressionChanged) return false;
  const kept = part.analysis ?? stored?.analysis;
  await options.writer.applyStatus(SMS_EXPERIMENT, subject, {
    conditions,
    ...(kept === undefined ? {} : { analysis: kept }),
    ...(part.progression === undefined ? {} : { progression: part.progression }),
  });
  const analysed = drafts[ANALYSED];
  const before = findCondition(stored?.conditions, ANALYSED);
  if (analysed && before?.reason !== analysed.reason && analysed.reason === 'AnalysisUnavailable') {
    options.recorder.warning(subject, experimentLogger(options.logger, subject), { reason: analysed.reason, message: analysed.message, action: 'Analyse' });
  }
  return true;
}
