/** Input the judge refuses; `field` names the offending value (e.g. "canary.events"). */
export class AnalysisInputError extends Error {
  readonly field: string;
  readonly problem: string;

  constructor(field: string, problem: string) {
    super(`${field}: ${problem}`);
    this.name = 'AnalysisInputError';
    this.field = field;
    this.problem = problem;
  }
}

export function requireCount(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new AnalysisInputError(field, `must be a non-negative integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Counts are cumulative since the step began: a smaller value is a counter reset the caller must resolve first. */
export function requireNotDecreased(previous: number, value: number, field: string): void {
  if (value < previous) {
    throw new AnalysisInputError(field, `decreased from ${previous} to ${value}: counts are cumulative since the step began (resolve counter resets before judging)`);
  }
}

export function requireProbability(value: unknown, field: string): number {
  if (typeof value !== 'number' || !(value > 0 && value < 1)) throw new AnalysisInputError(field, `must be a number between 0 and 1 (exclusive), got ${JSON.stringify(value)}`);
  return value;
}

export function requirePositive(value: unknown, field: string): number {
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) throw new AnalysisInputError(field, `must be a finite number greater than 0, got ${JSON.stringify(value)}`);
  return value;
}
