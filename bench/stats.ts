// Summaries the simulation benchmarks print: shares with their 95% Wilson interval, and medians.

/** Wilson score interval for a share, 95%. */
export function wilson(successes: number, n: number): [number, number] {
  const z = 1.959963984540054;
  const p = successes / n;
  const centre = (p + (z * z) / (2 * n)) / (1 + (z * z) / n);
  const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / (1 + (z * z) / n);
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

export const percent = (share: number, digits = 2) => `${(100 * share).toFixed(digits)}%`;

export const shareWithInterval = (successes: number, n: number) => {
  const [low, high] = wilson(successes, n);
  return `${percent(successes / n)} [${percent(low)}, ${percent(high)}]`;
};

export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}
