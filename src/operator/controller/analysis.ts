// The experiment's evidence, judged: which signals a step has, what counts as a new step, and how
// collected counts become status.analysis. Pure: the analysis loop does the I/O (analysis-loop.ts),
// src/analysis the statistics, prometheus/ the counting. A step is what one comparison is about:
// the mode, the versions and the split in effect; when any of them changes the evidence restarts,
// since counts of another split or version say nothing about this one.
import { judgeExperiment, judgeShadow, stepSignalVerdict, stepVerdict, type ExperimentState, type ShadowState, type SignalCounts, type Verdict } from '../../analysis/index.ts';
import type { AnalysisStatus, SmsExperiment, SmsExperimentStatus } from '../../crd/schema.ts';
import { toKubeTime } from '../runtime/clock.ts';
import {
  errorsSignal,
  guessesSignal,
  shadowDisagreementSignal,
  shadowPairs,
  slowSignal,
  spamSignal,
  type CountSignal,
  type CountsByVersion,
} from '../prometheus/signals.ts';
import type { CounterMemory } from '../prometheus/counters.ts';
import type { Series } from '../prometheus/client.ts';
import { experimentNames } from '../render/index.ts';

/** The signals of a canary step, in status order. Fixed per step: each one's share of α depends on how many there are. */
export const CANARY_SIGNALS = ['errors', 'slow', 'spam', 'guesses'] as const;

export interface StepPlan {
  /** What the step compares; a change starts a new step. */
  step: string;
  kind: 'canary' | 'shadow';
  /** The versions whose series must be present. */
  versions: string[];
  signals: CountSignal[];
  /** Canary: designed weights in effect. */
  split?: { stable: number; canary: number };
}

export type StepProblem = { reason: 'NoTrafficSplit' | 'NotReconciledYet'; message: string };

/**
 * What the current step of an experiment collects, from the traffic in effect (status), not the spec.
 * `run` names a progression's run and its restarts of a step's evidence: part of the step, so a new
 * run (another canary image at the same weight, say) or a restart never inherits the old evidence.
 */
export function stepPlan(experiment: SmsExperiment, run?: string): StepPlan | StepProblem {
  const plan = stepPlanOf(experiment);
  return 'reason' in plan || run === undefined ? plan : { ...plan, step: `${plan.step} ${run}` };
}

function stepPlanOf(experiment: SmsExperiment): StepPlan | StepProblem {
  const { spec, status } = experiment;
  const { namespace, name } = experiment.metadata;
  if (status?.mode === undefined || status.weights === undefined) return { reason: 'NotReconciledYet', message: 'no traffic is in effect yet' };
  const names = experimentNames(name);
  if (status.mode === 'canary') {
    const { stable, canary } = status.weights;
    if (stable === 0 || canary === 0) {
      return { reason: 'NoTrafficSplit', message: `the split in effect is ${stable}/${canary}: with one version serving there is nothing to compare` };
    }
    const scope = { matchers: { namespace, service: names.appService } };
    const versions = [spec.app.stable.version, spec.app.canary.version];
    return {
      step: `canary app ${versions.join('/')} model ${spec.model.stable.version}/${spec.model.canary.version} split ${stable}/${canary}`,
      kind: 'canary',
      versions,
      split: { stable, canary },
      signals: [errorsSignal(scope), slowSignal(scope, spec.analysis.slowRequestSeconds), spamSignal(scope), guessesSignal(scope)],
    };
  }
  const mirror = status.mirrorPercent ?? 0;
  if (mirror === 0) return { reason: 'NoTrafficSplit', message: 'nothing is mirrored to the shadow (mirrorPercent 0 in effect)' };
  const scope = { matchers: { namespace, service: names.modelService } };
  return {
    step: `shadow model ${spec.model.stable.version} vs ${spec.model.shadow.version} (artifact ${spec.model.shadow.artifact}) mirror ${mirror}%`,
    kind: 'shadow',
    versions: [spec.model.shadow.version],
    signals: [shadowDisagreementSignal(scope)],
  };
}

/** A series whose newest sample is this much older than the newest of all has stopped (its pod is gone). */
const STOPPED_SERIES_SECONDS = 30;

/**
 * Every series of an answer read at one instant. Targets are scraped at different moments, so the
 * newest samples of the stable and the canary pods are up to a scrape interval apart; under load
 * that skew alone looks like a broken split to the sample-ratio test, and its running p-value
 * never forgets it. So counts are taken at the newest instant every live series has reached: a
 * series with a later sample is interpolated there (rounded down, so it stays a whole count that
 * never runs ahead of what was scraped), and its later samples are counted next round.
 */
export function alignedAtCommonInstant(observed: readonly Series[]): Series[] {
  const newest = observed.map((series) => series.samples.at(-1)?.timestamp).filter((time): time is number => time !== undefined);
  if (newest.length === 0) return [...observed];
  const latest = Math.max(...newest);
  const cutoff = Math.min(...newest.filter((time) => time >= latest - STOPPED_SERIES_SECONDS));
  return observed.map((series) => {
    const before = series.samples.filter((sample) => sample.timestamp <= cutoff);
    const last = before.at(-1);
    const next = series.samples.find((sample) => sample.timestamp > cutoff);
    // Nothing to interpolate: no sample on one side, one exactly at the instant, or a reset between.
    if (last === undefined || next === undefined || last.timestamp === cutoff || next.value < last.value) return { labels: series.labels, samples: before };
    const value = Math.floor(last.value + ((next.value - last.value) * (cutoff - last.timestamp)) / (next.timestamp - last.timestamp));
    return { labels: series.labels, samples: [...before, { timestamp: cutoff, value }] };
  });
}

/** The analysis' internal state kept in status: the statistics' and the counters'. */
export interface StoredState {
  experiment?: ExperimentState | undefined;
  shadow?: ShadowState | undefined;
  counters: Record<string, CounterMemory>;
}

export function storedStateOf(analysis: AnalysisStatus | undefined): StoredState | undefined {
  const state = analysis?.state as Partial<StoredState> | undefined;
  return state?.counters === undefined ? undefined : (state as StoredState);
}

/** The analysis of the same step, or undefined when the step changed (its evidence starts over). */
export function sameStep(status: SmsExperimentStatus | undefined, plan: StepPlan): AnalysisStatus | undefined {
  return status?.analysis?.step === plan.step ? status.analysis : undefined;
}

export interface Collected {
  counts: Record<string, CountsByVersion>;
  counters: Record<string, CounterMemory>;
}

/** A finite number for status: non-finite values (an unbounded interval, an undefined ratio) become -1. */
const finite = (value: number | null | undefined): number => (value === null || value === undefined || !Number.isFinite(value) ? -1 : value);

/** Judges what was collected for the step and gives the new status.analysis. */
export function judgeStep(plan: StepPlan, previous: AnalysisStatus | undefined, collected: Collected, options: { alpha: number; now: number }): AnalysisStatus {
  const stored = storedStateOf(previous);
  const base = {
    step: plan.step,
    stepStartedAt: previous?.stepStartedAt ?? toKubeTime(options.now),
    lastCollectedAt: toKubeTime(options.now),
    alpha: options.alpha,
  };
  if (plan.kind === 'shadow') {
    const [version = ''] = plan.versions;
    const memory = collected.counters['shadow-disagreement'];
    const pairs = (memory && shadowPairs(memory, { matchers: {} })[version]) ?? { bothSpam: 0, bothHam: 0, shadowOnlySpam: 0, stableOnlySpam: 0 };
    const judged = judgeShadow(stored?.shadow, pairs, { alpha: options.alpha });
    return {
      ...base,
      shadow: {
        version,
        ...pairs,
        agreementRate: finite(judged.agreement.rate),
        agreementInterval: judged.agreement.interval.map(finite),
        lean: judged.lean.verdict,
        leanPValue: judged.lean.pValue,
      },
      state: { shadow: judged.state, counters: collected.counters } satisfies StoredState,
    };
  }
  const [stableVersion = '', canaryVersion = ''] = plan.versions;
  const counts: Record<string, SignalCounts> = {};
  for (const name of CANARY_SIGNALS) {
    const byVersion = collected.counts[name] ?? {};
    counts[name] = { stable: byVersion[stableVersion] ?? { trials: 0, events: 0 }, canary: byVersion[canaryVersion] ?? { trials: 0, events: 0 } };
  }
  const judged = judgeExperiment(stored?.experiment, counts, { split: plan.split ?? { stable: 50, canary: 50 }, alpha: options.alpha });
  const verdictOf = (name: string): Verdict => stepSignalVerdict(name, judged.signals[name], options.alpha);
  const verdict = stepVerdict(CANARY_SIGNALS.map(verdictOf));
  return {
    ...base,
    verdict,
    signals: CANARY_SIGNALS.map((name) => {
      const signal = judged.signals[name];
      const own = counts[name] as SignalCounts;
      return {
        name,
        stable: { ...own.stable },
        canary: { ...own.canary },
        verdict: verdictOf(name),
        pValue: finite(signal?.pValue),
        srmPValue: finite(signal?.srmPValue),
        rateRatio: finite(signal?.rateRatio),
        interval: (signal?.interval ?? [0, Infinity]).map(finite),
      };
    }),
    state: { experiment: judged.state, counters: collected.counters } satisfies StoredState,
  };
}

/** One line for the Analysed condition and the verdict events. */
export function analysisSummary(analysis: AnalysisStatus): { verdict: Verdict | 'shadow'; message: string } {
  if (analysis.shadow) {
    const shadow = analysis.shadow;
    const compared = shadow.bothSpam + shadow.bothHam + shadow.shadowOnlySpam + shadow.stableOnlySpam;
    const [low = 0, high = 1] = shadow.agreementInterval;
    return {
      verdict: 'shadow',
      message:
        `the shadow model (${shadow.version}) agrees with the stable one on ${compared - shadow.shadowOnlySpam - shadow.stableOnlySpam} of ${compared} messages ` +
        `(${(shadow.agreementRate * 100).toFixed(1)}%, ${(low * 100).toFixed(1)}–${(high * 100).toFixed(1)}%); disagreements: ${shadow.shadowOnlySpam} shadow-only spam, ` +
        `${shadow.stableOnlySpam} stable-only spam, ${shadow.lean} (p=${shadow.leanPValue.toPrecision(3)})`,
    };
  }
  const verdict = analysis.verdict ?? 'no-difference-yet';
  const details = (analysis.signals ?? [])
    .map((signal) => `${signal.name} ${signal.verdict} (canary ${signal.canary.events}/${signal.canary.trials}, stable ${signal.stable.events}/${signal.stable.trials}, p=${signal.pValue.toPrecision(3)})`)
    .join('; ');
  return { verdict, message: `${verdict}: ${details}` };
}
