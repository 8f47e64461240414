// One line of `npm run analysis:judge`: an experiment's designed split and its cumulative counts,
// judged snapshot by snapshot with the same code the operator runs. Pure: text in, text out.
import { z } from 'zod';
import { AnalysisInputError } from './errors.ts';
import { DEFAULT_ALPHA, DEFAULT_CONCENTRATION, type SignalState, judgeSignal } from './signal.ts';

const shown = (input: unknown) => (input === undefined ? 'nothing' : JSON.stringify(input));
const requiredThen = (expected: string) => (issue: { input?: unknown }) => (issue.input === undefined ? 'is required' : `must be ${expected}, got ${shown(issue.input)}`);

const count = z
  .number({ error: requiredThen('a non-negative integer') })
  .refine((value) => Number.isSafeInteger(value) && value >= 0, { error: (issue) => `must be a non-negative integer, got ${shown(issue.input)}` });
const arm = z.strictObject({ trials: count, events: count }, { error: requiredThen('an object {"trials", "events"}') });
const snapshot = z.strictObject({ stable: arm, canary: arm }, { error: requiredThen('an object {"stable", "canary"}') });
const weight = z.number({ error: requiredThen('a number') }).refine((value) => value > 0 && value < 100, { error: (issue) => `must be between 0 and 100 (exclusive), got ${shown(issue.input)}` });
const split = z
  .strictObject({ stable: weight, canary: weight }, { error: requiredThen('an object {"stable", "canary"} of weights in percent') })
  .refine((value) => Math.abs(value.stable + value.canary - 100) <= 1e-9, { error: (issue) => `stable + canary must be 100 (percent), got ${sum(issue.input)}` });
const experiment = z.strictObject(
  {
    alpha: z.number({ error: requiredThen('a number') }).refine((value) => value > 0 && value < 1, { error: (issue) => `must be between 0 and 1 (exclusive), got ${shown(issue.input)}` }).default(DEFAULT_ALPHA),
    concentration: z.number({ error: requiredThen('a number') }).refine((value) => value > 0 && Number.isFinite(value), { error: (issue) => `must be a finite number greater than 0, got ${shown(issue.input)}` }).default(DEFAULT_CONCENTRATION),
    split,
    snapshots: z.array(snapshot, { error: requiredThen('an array of cumulative counts') }),
  },
  { error: requiredThen('a JSON object {"alpha", "split", "snapshots"}') },
);

function sum(input: unknown): string {
  const value = input as { stable: number; canary: number };
  return String(value.stable + value.canary);
}

export type JudgeLineResult = { ok: true; output: string } | { ok: false; error: string };

/** e.g. ["snapshots", 2, "canary", "events"] → snapshots[2].canary.events */
export function fieldPath(path: readonly PropertyKey[]): string {
  return path.map((part, index) => (typeof part === 'number' ? `[${part}]` : `${index === 0 ? '' : '.'}${String(part)}`)).join('');
}

function issueText(issue: z.core.$ZodIssue): string {
  const where = fieldPath(issue.path);
  if (issue.code === 'unrecognized_keys') {
    const fields = issue.keys.map((key) => `"${key}"`).join(', ');
    return `${where === '' ? '' : `${where}: `}unknown field${issue.keys.length === 1 ? '' : 's'} ${fields}`;
  }
  return where === '' ? issue.message : `${where}: ${issue.message}`;
}

/** Judges one input line (lineNumber counts from 1) into one output line, or says what is wrong with it. */
export function judgeLine(text: string, lineNumber: number): JudgeLineResult {
  const refuse = (problem: string): JudgeLineResult => ({ ok: false, error: `line ${lineNumber}: ${problem}` });
  if (text.trim() === '') return refuse('empty line; expected one experiment as a JSON object');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return refuse(`not valid JSON (${(error as Error).message})`);
  }
  const parsed = experiment.safeParse(json);
  if (!parsed.success) return refuse(issueText(parsed.error.issues[0] as z.core.$ZodIssue));
  const { alpha, concentration, snapshots } = parsed.data;
  const options = { split: parsed.data.split, alpha, concentration };
  const judged: string[] = [];
  let state: SignalState | undefined;
  for (let index = 0; index < snapshots.length; index += 1) {
    try {
      const judgement = judgeSignal(state, snapshots[index] as (typeof snapshots)[number], options);
      state = judgement.state;
      const { verdict, pValue, rateRatio, interval, srmPValue } = judgement;
      judged.push(JSON.stringify({ verdict, pValue, rateRatio, interval, srmPValue }));
    } catch (error) {
      if (error instanceof AnalysisInputError) return refuse(`snapshots[${index}].${error.field}: ${error.problem}`);
      throw error;
    }
  }
  return { ok: true, output: `[${judged.join(',')}]` };
}
