// The signals of an experiment as PromQL selectors of raw counters, and how their counted series
// become exact counts per version. No rate(), no increase(), no sum(): summing in PromQL would hide
// one pod's counter reset behind the others, so every series comes back and is counted on its own
// (counters.ts), then added up here.
//
// Labels as Prometheus stores them after a ServiceMonitor scrape: the target labels come from the
// relabelling (`version` from the pod's version label, `pod`) and from prometheus-operator
// (`namespace`, `service`, `job`, `endpoint`, `container`, `instance`). A metric label with the
// same name as a target label is renamed `exported_<name>` (honorLabels is off), so the metrics'
// own `version` arrives as `exported_version`; the signals group by the target label `version`,
// the pod's, which every series has.
import type { Series } from './client.ts';
import { sumCounted, type CounterMemory } from './counters.ts';

export type Labels = Readonly<Record<string, string>>;

/** Which scraped series belong to one component of one experiment, e.g. {namespace, service}. */
export interface Scope {
  matchers: Labels;
  /** The label that names the version; `version` (the ServiceMonitor's target label) by default. */
  versionLabel?: string;
}

/** Per version: how many trials (requests, answers, guesses, compared messages) and how many events among them. */
export interface TrialCounts {
  trials: number;
  events: number;
}

export type CountsByVersion = Record<string, TrialCounts>;

export type SignalName = 'errors' | 'slow' | 'spam' | 'guesses' | 'shadow-disagreement';

export interface CountSignal {
  name: SignalName;
  /** What counts as a trial and as an event, for status and docs. */
  description: string;
  /** The instant query: a plain selector of raw counter series. */
  promql: string;
  /** Trials and events per version from the counted series. */
  countsByVersion(memory: CounterMemory): CountsByVersion;
  /** Why the answer cannot yield counts for these versions (a series it needs is absent), or undefined. */
  missing(observed: readonly Series[], versions: readonly string[]): string | undefined;
}

/** A PromQL string literal: backslash, double quote and line breaks escaped. */
export function promqlString(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

export function selector(metric: string, matchers: Labels): string {
  const names = Object.keys(matchers).sort();
  return `${metric}{${names.map((name) => `${name}=${promqlString(matchers[name] ?? '')}`).join(',')}}`;
}

const versionOf = (scope: Scope) => {
  const label = scope.versionLabel ?? 'version';
  return (labels: Labels) => labels[label];
};

/**
 * Builds a signal whose trials and events are sums over series with a weight each: `trial` and
 * `event` say how much a series adds (0, 1 or -1) to each.
 */
function weightedSignal(
  name: SignalName,
  description: string,
  promql: string,
  scope: Scope,
  weights: (labels: Labels) => { trial: number; event: number },
  required: ReadonlyArray<{ what: string; matches: (labels: Labels) => boolean }>,
): CountSignal {
  const version = versionOf(scope);
  const label = scope.versionLabel ?? 'version';
  return {
    name,
    description,
    promql,
    countsByVersion(memory) {
      const counts: CountsByVersion = {};
      for (const one of Object.values(memory.series)) {
        const of = version(one.labels);
        if (of === undefined) continue;
        const { trial, event } = weights(one.labels);
        const entry = (counts[of] ??= { trials: 0, events: 0 });
        entry.trials += trial * one.counted;
        entry.events += event * one.counted;
      }
      return counts;
    },
    missing(observed, versions) {
      const problems: string[] = [];
      for (const wanted of versions) {
        const ofVersion = observed.filter((series) => version(series.labels) === wanted);
        const absent = required.filter((need) => !ofVersion.some((series) => need.matches(series.labels))).map((need) => need.what);
        if (absent.length > 0) problems.push(`${label}="${wanted}": no ${absent.join(', no ')}`);
      }
      return problems.length === 0 ? undefined : `${promql} has no series for ${problems.join('; ')}`;
    },
  };
}

const anySeries = { what: 'series', matches: () => true };

/** Requests answered (`sms_requests_total`, every code) and server errors among them (5xx). */
export function errorsSignal(scope: Scope): CountSignal {
  return weightedSignal(
    'errors',
    'trials: POST /sms answers; events: answers with a 5xx status',
    selector('sms_requests_total', scope.matchers),
    scope,
    (labels) => ({ trial: 1, event: (labels.code ?? '').startsWith('5') ? 1 : 0 }),
    [anySeries],
  );
}

/**
 * Requests slower than a bucket bound of `sms_request_latency_seconds`: the +Inf bucket (every
 * request) minus the bucket of the bound. Buckets are matched by number, since Prometheus 3
 * writes `le="1"` as `le="1.0"`.
 */
export function slowSignal(scope: Scope, boundSeconds: number): CountSignal {
  const isBound = (labels: Labels) => labels.le !== undefined && Number(labels.le) === boundSeconds;
  const isAll = (labels: Labels) => labels.le === '+Inf';
  return weightedSignal(
    'slow',
    `trials: POST /sms answers; events: answers slower than ${boundSeconds} s`,
    selector('sms_request_latency_seconds_bucket', scope.matchers),
    scope,
    (labels) => (isAll(labels) ? { trial: 1, event: 1 } : isBound(labels) ? { trial: 0, event: -1 } : { trial: 0, event: 0 }),
    [
      { what: 'le="+Inf" bucket', matches: isAll },
      { what: `bucket with bound ${boundSeconds} (the threshold must be one of the histogram's bucket bounds)`, matches: isBound },
    ],
  );
}

/** Answers by result (`sms_messages_classified_total`): how many said spam. */
export function spamSignal(scope: Scope): CountSignal {
  return weightedSignal(
    'spam',
    'trials: answers given; events: answers that said spam',
    selector('sms_messages_classified_total', scope.matchers),
    scope,
    (labels) => ({ trial: labels.result === 'spam' || labels.result === 'ham' ? 1 : 0, event: labels.result === 'spam' ? 1 : 0 }),
    [
      { what: 'result="spam" series', matches: (labels) => labels.result === 'spam' },
      { what: 'result="ham" series', matches: (labels) => labels.result === 'ham' },
    ],
  );
}

/** Answers to requests with a guess (`sms_guesses_total`): how many guesses the answer contradicted. */
export function guessesSignal(scope: Scope): CountSignal {
  return weightedSignal(
    'guesses',
    "trials: answers to requests with a guess; events: answers that contradicted the user's guess",
    selector('sms_guesses_total', scope.matchers),
    scope,
    (labels) => ({ trial: labels.outcome === 'correct' || labels.outcome === 'wrong' ? 1 : 0, event: labels.outcome === 'wrong' ? 1 : 0 }),
    [anySeries],
  );
}

/** The four pairs of a shadow's comparison with the stable model, per shadow version. */
export interface ShadowPairs {
  /** Both said spam. */
  bothSpam: number;
  bothHam: number;
  /** The shadow said spam where the stable model said ham. */
  shadowOnlySpam: number;
  stableOnlySpam: number;
}

export const SHADOW_COMPARISONS_METRIC = 'sms_model_shadow_comparisons_total';

/** Compared messages (`sms_model_shadow_comparisons_total`, scraped from the model's Service) and disagreements among them. */
export function shadowDisagreementSignal(modelScope: Scope): CountSignal {
  return weightedSignal(
    'shadow-disagreement',
    'trials: messages the shadow classified with both models; events: messages where they disagreed',
    selector(SHADOW_COMPARISONS_METRIC, modelScope.matchers),
    modelScope,
    (labels) => ({ trial: 1, event: labels.stable_result !== labels.shadow_result ? 1 : 0 }),
    [{ what: `${SHADOW_COMPARISONS_METRIC} series (is the stable artifact loaded? see sms_model_shadow_comparison_available)`, matches: () => true }],
  );
}

/** The pairs per shadow version from the counted comparison series. */
export function shadowPairs(memory: CounterMemory, modelScope: Scope): Record<string, ShadowPairs> {
  const version = versionOf(modelScope);
  const pair = (labels: Labels) => {
    const of = version(labels);
    return of === undefined ? undefined : `${of}\n${labels.stable_result}\n${labels.shadow_result}`;
  };
  const byPair = sumCounted(memory, pair);
  const pairs: Record<string, ShadowPairs> = {};
  for (const [key, count] of Object.entries(byPair)) {
    const [of = '', stable, shadow] = key.split('\n');
    const entry = (pairs[of] ??= { bothSpam: 0, bothHam: 0, shadowOnlySpam: 0, stableOnlySpam: 0 });
    if (stable === 'spam' && shadow === 'spam') entry.bothSpam += count;
    else if (stable === 'ham' && shadow === 'ham') entry.bothHam += count;
    else if (stable === 'ham' && shadow === 'spam') entry.shadowOnlySpam += count;
    else if (stable === 'spam' && shadow === 'ham') entry.stableOnlySpam += count;
  }
  return pairs;
}

/**
 * The same signal read as every raw sample of the last `seconds` (a range selector, still an
 * instant query): a counter reset between two collections is then seen even when the counter has
 * since grown past its old value. The range should span at least the time between collections.
 */
export function overRange(signal: CountSignal, seconds: number): CountSignal {
  if (!Number.isInteger(seconds) || seconds < 1) throw new RangeError(`the range must be a whole number of seconds, at least 1 (got ${seconds})`);
  return { ...signal, promql: `${signal.promql}[${seconds}s]` };
}
