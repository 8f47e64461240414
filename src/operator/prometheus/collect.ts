// One collection of one signal: the query, the answer checked (whole counts, every version's
// series present), the memory advanced. A problem leaves the memory as it was, so a missed
// collection only delays counts and never invents or loses any that a later scrape still holds.
import { failure, type PrometheusClient, type Result, type Series } from './client.ts';
import { advanceCounters, CountError, startCounters, type CounterMemory } from './counters.ts';
import type { CountSignal, CountsByVersion } from './signals.ts';

export interface Collected {
  memory: CounterMemory;
  counts: CountsByVersion;
  /** The answer's newest sample time (seconds): what Prometheus had scraped by then; undefined for an empty answer. */
  observedAt: number | undefined;
}

export async function collectSignal(client: PrometheusClient, signal: CountSignal, memory: CounterMemory | undefined, versions: readonly string[]): Promise<Result<Collected>> {
  const answer = await client.query(signal.promql);
  if (!answer.ok) return answer;
  return countAnswer(signal, memory, versions, answer.value);
}

/** The pure half of collectSignal: an answer (and the memory so far) to counts. */
export function countAnswer(signal: CountSignal, memory: CounterMemory | undefined, versions: readonly string[], observed: readonly Series[]): Result<Collected> {
  const missing = signal.missing(observed, versions);
  if (missing !== undefined) return failure({ kind: 'series-missing', message: missing });
  let next: CounterMemory;
  try {
    next = memory === undefined ? startCounters(observed) : advanceCounters(memory, observed);
  } catch (error) {
    if (error instanceof CountError) return failure({ kind: 'bad-answer', message: `${signal.promql}: ${error.message}` });
    throw error;
  }
  const times = observed.flatMap((series) => series.samples.map((sample) => sample.timestamp));
  const observedAt = times.length === 0 ? undefined : Math.max(...times);
  return { ok: true, value: { memory: next, counts: signal.countsByVersion(next), observedAt } };
}
