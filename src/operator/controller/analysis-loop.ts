// The time-driven half of the controller: every interval, for every experiment, read the step's
// counts from Prometheus, judge them, and write status.analysis and the Analysed condition. It lives
// beside the level-triggered reconciler and keeps all of its state in the status (the counters'
// memory and the statistics' running state), so a restart or a failover continues the same step.
// It writes with a field manager of its own, so its part of the status and the reconciler's never
// overwrite each other. It only observes: no weight changes here.
import type { AnalysisStatus, Condition, SmsExperiment } from '../../crd/schema.ts';
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
import { experimentSubject, SMS_EXPERIMENT } from './experiment.ts';
import { ANALYSIS_CONDITION } from './status.ts';

export const ANALYSED = ANALYSIS_CONDITION;

export interface AnalysisLoopOptions {
  experiments: () => Iterable<CacheEntry<SmsExperiment>>;
  prometheus: PrometheusClient;
  /** An applier with the analysis' own field manager. */
  writer: Pick<Applier, 'applyStatus'>;
  recorder: EventRecorder;
  metrics: Pick<OperatorMetrics, 'setAnalysis' | 'countError'>;
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
  const before = findCondition(experiment.status?.conditions, ANALYSED);
  const plan = stepPlan(experiment);
  if ('reason' in plan) {
    await writeIfChanged(options, subject, experiment, undefined, { status: 'False', reason: plan.reason, message: plan.message }, before, now);
    return;
  }
  const previous = sameStep(experiment.status, plan);
  const collected = await collect(options, plan, storedStateOf(previous)?.counters ?? {});
  if (!collected.ok) {
    const message = `cannot read the evidence from Prometheus at ${options.prometheusUrl}: ${collected.problem.kind}: ${collected.problem.message}; no verdict is given from missing data`;
    if (before?.reason !== 'AnalysisUnavailable') log.warn({ problem: collected.problem.kind }, message);
    options.metrics.countError('AnalysisUnavailable');
    await writeIfChanged(options, subject, experiment, undefined, { status: 'False', reason: 'AnalysisUnavailable', message }, before, now);
    return;
  }
  const analysis = judgeStep(plan, previous, collected.value, { alpha: experiment.spec.analysis.alpha, now });
  const summary = analysisSummary(analysis);
  log.debug(
    { step: plan.step, verdict: analysis.verdict, signals: analysis.signals?.map((signal) => ({ name: signal.name, stable: signal.stable, canary: signal.canary, p: signal.pValue, srm: signal.srmPValue })) },
    'Analysed experiment',
  );
  for (const signal of analysis.signals ?? []) options.metrics.setAnalysis(namespace, name, signal.name, signal.pValue, signal.rateRatio ?? -1);
  if (analysis.shadow) options.metrics.setAnalysis(namespace, name, 'shadow-lean', analysis.shadow.leanPValue, analysis.shadow.agreementRate);
  const changedVerdict = previous === undefined ? summary.verdict !== 'no-difference-yet' && summary.verdict !== 'shadow' : previous.verdict !== analysis.verdict;
  const wroteCondition = await writeIfChanged(options, subject, experiment, analysis, { status: 'True', reason: REASON_OF[summary.verdict], message: summary.message }, before, now);
  if (changedVerdict && wroteCondition) {
    const bad = summary.verdict === 'worse' || summary.verdict === 'sample-ratio-mismatch';
    const details = { reason: REASON_OF[summary.verdict], message: `The analysis says ${summary.message}`, action: 'Analyse' };
    if (bad) options.recorder.warning(subject, log, details);
    else options.recorder.normal(subject, log, details);
  }
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

/**
 * Writes the analysis and its condition (lastTransitionTime kept while the status holds). A round
 * that only repeats the stored condition and has no new analysis writes nothing. Returns whether
 * the condition changed.
 */
async function writeIfChanged(
  options: AnalysisLoopOptions,
  subject: EventSubject,
  experiment: SmsExperiment,
  analysis: AnalysisStatus | undefined,
  draft: Draft,
  before: Condition | undefined,
  now: number,
): Promise<boolean> {
  const generation = experiment.metadata.generation ?? 0;
  const conditionChanged = before?.status !== draft.status || before.reason !== draft.reason || before.message !== draft.message;
  if (!conditionChanged && analysis === undefined) return false;
  const condition: Condition = {
    type: ANALYSED,
    ...draft,
    lastTransitionTime: before && before.status === draft.status ? before.lastTransitionTime : toKubeTime(now),
    observedGeneration: generation,
  };
  // The analysis in status stays what it was when this round has none (missing data is no evidence).
  const kept = analysis ?? experiment.status?.analysis;
  await options.writer.applyStatus(SMS_EXPERIMENT, subject, { conditions: [condition], ...(kept === undefined ? {} : { analysis: kept }) });
  if (before?.reason !== draft.reason && draft.reason === 'AnalysisUnavailable') {
    options.recorder.warning(subject, experimentLogger(options.logger, subject), { reason: draft.reason, message: draft.message, action: 'Analyse' });
  }
  return before?.reason !== draft.reason;
}
