// Exact counts from raw counter values. Prometheus' increase() extrapolates to the window's edges
// and returns fractions; here each series' raw values are differenced instead, and a value lower
// than the last one is a counter reset (the process restarted and counts from 0 again). Pure, and
// the memory is plain JSON, so it can live in an experiment's status and survive a failover.
import type { Sample, Series } from './client.ts';

export interface SeriesMemory {
  labels: Record<string, string>;
  /** The last raw sample seen (Prometheus' timestamp in seconds, the raw value). */
  lastTimestamp: number;
  lastValue: number;
  /** Increase since the baseline, resets included: always a whole number. */
  counted: number;
  resets: number;
}

/** Every series seen since the baseline, by its label set (seriesKey). */
export interface CounterMemory {
  series: Record<string, SeriesMemory>;
}

export class CountError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CountError';
  }
}

/** A stable key for a label set: the labels sorted by name, as PromQL would print them. */
export function seriesKey(labels: Readonly<Record<string, string>>): string {
  return Object.keys(labels)
    .sort()
    .map((name) => `${name}=${JSON.stringify(labels[name])}`)
    .join(',');
}

function checkedSamples(series: Series): Sample[] {
  const samples = [...series.samples].sort((a, b) => a.timestamp - b.timestamp);
  for (const { value } of samples) {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new CountError(`series {${seriesKey(series.labels)}} has value ${value}, not a whole count: is it a counter of events?`);
    }
  }
  return samples;
}

/**
 * The baseline: the raw values now count as zero. Every series must hold whole, non-negative
 * values (CountError otherwise).
 */
export function startCounters(observed: readonly Series[]): CounterMemory {
  const series: Record<string, SeriesMemory> = {};
  for (const one of observed) {
    const last = checkedSamples(one).at(-1);
    if (last === undefined) continue;
    series[seriesKey(one.labels)] = { labels: { ...one.labels }, lastTimestamp: last.timestamp, lastValue: last.value, counted: 0, resets: 0 };
  }
  return { series };
}

/**
 * Adds what happened since the memory's last samples. Samples not newer than a series' last one
 * are skipped, so reading the same scrape twice counts it once; a series first seen after the
 * baseline started at 0 after it (a new pod, or a status code's first request); a series that is
 * absent now is kept as it was, and counted from its last value should it come back.
 */
export function advanceCounters(memory: CounterMemory, observed: readonly Series[]): CounterMemory {
  const series: Record<string, SeriesMemory> = {};
  for (const [key, one] of Object.entries(memory.series)) series[key] = { ...one, labels: { ...one.labels } };
  for (const one of observed) {
    const key = seriesKey(one.labels);
    const current = series[key] ?? { labels: { ...one.labels }, lastTimestamp: Number.NEGATIVE_INFINITY, lastValue: 0, counted: 0, resets: 0 };
    for (const sample of checkedSamples(one)) {
      if (sample.timestamp <= current.lastTimestamp) continue;
      if (sample.value >= current.lastValue) {
        current.counted += sample.value - current.lastValue;
      } else {
        // Restarted from 0: everything it holds now is new. (What it counted after its last
        // sample before the restart is lost: no scrape saw it.)
        current.counted += sample.value;
        current.resets += 1;
      }
      current.lastTimestamp = sample.timestamp;
      current.lastValue = sample.value;
    }
    // A series first seen now with one sample has lastTimestamp set; JSON has no -Infinity.
    if (Number.isFinite(current.lastTimestamp)) series[key] = current;
  }
  return { series };
}

/** Sums `counted` over series by a key of their labels; series mapped to undefined are left out. */
export function sumCounted(memory: CounterMemory, keyOf: (labels: Readonly<Record<string, string>>) => string | undefined): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const one of Object.values(memory.series)) {
    const key = keyOf(one.labels);
    if (key !== undefined) totals[key] = (totals[key] ?? 0) + one.counted;
  }
  return totals;
}

/** Resets seen per key of the labels, for the log and the status. */
export function resetsBy(memory: CounterMemory, keyOf: (labels: Readonly<Record<string, string>>) => string | undefined): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const one of Object.values(memory.series)) {
    const key = keyOf(one.labels);
    if (key !== undefined && one.resets > 0) totals[key] = (totals[key] ?? 0) + one.resets;
  }
  return totals;
}
