// The app's Prometheus metrics, named exactly as the seed's dashboards and alert query them, on a
// registry of this app instance (never prom-client's global one, so tests can run several apps).
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export type SpamResult = 'spam' | 'ham';
/** Whether the user's guess (the request's optional `guess`) matched the answer. */
export type GuessOutcome = 'correct' | 'wrong';

export interface AppMetrics {
  readonly registry: Registry;
  /** Marks one classification request in flight; call the returned function when it is answered. */
  startRequest(): () => void;
  /** Counts one answered POST /sms by its HTTP status code, errors included. */
  readonly answered: (statusCode: number) => void;
  readonly guessed: (outcome: GuessOutcome) => void;
  readonly classified: (result: SpamResult) => void;
  readonly cacheHit: () => void;
  readonly cacheMiss: () => void;
  readonly modelCalled: () => void;
}

// 5 ms to 10 s, as the seed specifies (Prometheus' classic default buckets).
export const LATENCY_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

export interface MetricsOptions {
  version: string;
  /** Process metrics (CPU, memory, event-loop lag); off where many apps share one test process. */
  processMetrics?: boolean;
}

export function createMetrics({ version, processMetrics = true }: MetricsOptions): AppMetrics {
  const registry = new Registry();
  if (processMetrics) collectDefaultMetrics({ register: registry });

  const classifiedTotal = new Counter({
    name: 'sms_messages_classified_total',
    help: 'SMS messages classified, by result (spam or ham) and app version',
    labelNames: ['result', 'version'] as const,
    registers: [registry],
  });
  const activeRequests = new Gauge({
    name: 'sms_active_requests',
    help: 'Classification requests in flight',
    labelNames: ['version'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'sms_request_latency_seconds',
    help: 'Time to answer a classification request (POST /sms), errors included',
    labelNames: ['version'] as const,
    buckets: [...LATENCY_BUCKETS_SECONDS],
    registers: [registry],
  });
  // Not in the seed: exact per-version counts of requests and server errors for the experiment's
  // analysis (a histogram's _count has no status code).
  const requestsTotal = new Counter({
    name: 'sms_requests_total',
    help: 'Classification requests (POST /sms) answered, by HTTP status code and app version',
    labelNames: ['version', 'code'] as const,
    registers: [registry],
  });
  const guessesTotal = new Counter({
    name: 'sms_guesses_total',
    help: "Answers to requests that carried a guess, by whether the user's guess matched the answer",
    labelNames: ['version', 'outcome'] as const,
    registers: [registry],
  });
  const cacheHits = new Counter({ name: 'sms_cache_hits_total', help: 'Classifications answered from the cache', labelNames: ['version'] as const, registers: [registry] });
  const cacheMisses = new Counter({ name: 'sms_cache_misses_total', help: 'Classifications not in the cache', labelNames: ['version'] as const, registers: [registry] });
  const modelCalls = new Counter({
    name: 'sms_model_calls_total',
    help: 'HTTP calls to the model service, a retry counted as a call of its own',
    labelNames: ['version'] as const,
    registers: [registry],
  });

  // Label children resolved once: the hot path then does no label lookups.
  const labels = { version };
  const active = activeRequests.labels(labels);
  const latencyOfVersion = latency.labels(labels);
  const hits = cacheHits.labels(labels);
  const misses = cacheMisses.labels(labels);
  const calls = modelCalls.labels(labels);
  const byResult = { spam: classifiedTotal.labels({ result: 'spam', version }), ham: classifiedTotal.labels({ result: 'ham', version }) };
  const byOutcome = { correct: guessesTotal.labels({ version, outcome: 'correct' }), wrong: guessesTotal.labels({ version, outcome: 'wrong' }) };
  // Status codes are resolved on first use; 200 is there from the start.
  const byCode = new Map<number, ReturnType<typeof requestsTotal.labels>>();
  const ofCode = (statusCode: number) => {
    let child = byCode.get(statusCode);
    if (child === undefined) {
      child = requestsTotal.labels({ version, code: String(statusCode) });
      byCode.set(statusCode, child);
    }
    return child;
  };
  // Zero series exist from the start, so rate() and ratios work before the first request.
  for (const counter of [hits, misses, calls, byResult.spam, byResult.ham, byOutcome.correct, byOutcome.wrong, ofCode(200)]) counter.inc(0);
  active.set(0);
  // prom-client writes a histogram's buckets only once it has observed something; zero() makes
  // them exist from the start too, so a version without traffic yet still has its series.
  latency.zero(labels);

  return {
    registry,
    startRequest() {
      active.inc();
      const stopTimer = latencyOfVersion.startTimer();
      return () => {
        stopTimer();
        active.dec();
      };
    },
    answered: (statusCode) => ofCode(statusCode).inc(),
    guessed: (outcome) => byOutcome[outcome].inc(),
    classified: (result) => byResult[result].inc(),
    cacheHit: () => hits.inc(),
    cacheMiss: () => misses.inc(),
    modelCalled: () => calls.inc(),
  };
}
