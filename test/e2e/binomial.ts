// How far a traffic split may stray from its configured weight before an end-to-end check calls it
// wrong: the exact binomial acceptance range, so that the check fails on a real routing error and
// only with a chosen, tiny probability on chance alone.

export interface CountRange {
  /** Smallest count accepted (inclusive). */
  low: number;
  /** Largest count accepted (inclusive). */
  high: number;
}

/**
 * The counts k of Binomial(trials, probability) to accept: P(X < low) ≤ falseAlarmRate / 2 and
 * P(X > high) ≤ falseAlarmRate / 2, with low as large and high as small as that allows.
 */
export function binomialAcceptanceRange(trials: number, probability: number, falseAlarmRate = 1e-4): CountRange {
  if (!Number.isInteger(trials) || trials < 0) throw new RangeError(`trials must be a non-negative integer, got ${trials}`);
  if (!(probability >= 0 && probability <= 1)) throw new RangeError(`probability must be between 0 and 1, got ${probability}`);
  if (!(falseAlarmRate > 0 && falseAlarmRate < 1)) throw new RangeError(`falseAlarmRate must be between 0 and 1 (exclusive), got ${falseAlarmRate}`);
  if (probability === 0) return { low: 0, high: 0 };
  if (probability === 1) return { low: trials, high: trials };

  // log P(X = k), by the ratio of successive terms: no factorials, no overflow for large trials.
  const logPmf = new Float64Array(trials + 1);
  logPmf[0] = trials * Math.log1p(-probability);
  const logOdds = Math.log(probability) - Math.log1p(-probability);
  for (let k = 0; k < trials; k += 1) {
    logPmf[k + 1] = (logPmf[k] ?? 0) + Math.log((trials - k) / (k + 1)) + logOdds;
  }
  const peak = logPmf.reduce((max, value) => Math.max(max, value), -Infinity);
  const mass = Array.from(logPmf, (value) => Math.exp(value - peak));
  const total = mass.reduce((sum, value) => sum + value, 0);
  const tail = (falseAlarmRate / 2) * total;

  let low = 0;
  for (let below = 0; low < trials && below + (mass[low] ?? 0) <= tail; low += 1) below += mass[low] ?? 0;
  let high = trials;
  for (let above = 0; high > 0 && above + (mass[high] ?? 0) <= tail; high -= 1) above += mass[high] ?? 0;
  return { low, high };
}

/** A one-line verdict for test output: "37 of 400 (9.3%), accepted 20..62 for 10%". */
export function describeSplit(observed: number, trials: number, probability: number, range: CountRange): string {
  const share = trials === 0 ? 0 : (100 * observed) / trials;
  return `${observed} of ${trials} (${share.toFixed(1)}%), accepted ${range.low}..${range.high} for ${(100 * probability).toFixed(0)}%`;
}
