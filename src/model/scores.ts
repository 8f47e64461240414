// Classification figures with spam as the positive class: "spam caught" is recall, "ham blocked"
// is the false-positive rate.
import type { Label } from './dataset.ts';

export interface Confusion {
  truePositives: number;
  falsePositives: number;
  trueNegatives: number;
  falseNegatives: number;
}

export interface Figures {
  messages: number;
  accuracy: number;
  spamCaught: number;
  hamBlocked: number;
  precision: number;
  f1: number;
  mcc: number;
}

export function confusion(actual: readonly Label[], predicted: readonly Label[]): Confusion {
  if (actual.length !== predicted.length) throw new Error(`${actual.length} labels but ${predicted.length} predictions`);
  const result: Confusion = { truePositives: 0, falsePositives: 0, trueNegatives: 0, falseNegatives: 0 };
  for (const [index, label] of actual.entries()) {
    const guess = predicted[index];
    if (label === 'spam') {
      if (guess === 'spam') result.truePositives += 1;
      else result.falseNegatives += 1;
    } else if (guess === 'spam') result.falsePositives += 1;
    else result.trueNegatives += 1;
  }
  return result;
}

const ratio = (numerator: number, denominator: number) => (denominator === 0 ? 0 : numerator / denominator);

/** Matthews correlation coefficient; 0 when any margin of the table is empty. */
export function mcc({ truePositives: tp, falsePositives: fp, trueNegatives: tn, falseNegatives: fn }: Confusion): number {
  const denominator = Math.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn));
  return denominator === 0 ? 0 : (tp * tn - fp * fn) / denominator;
}

export function figures(table: Confusion): Figures {
  const { truePositives: tp, falsePositives: fp, trueNegatives: tn, falseNegatives: fn } = table;
  const precision = ratio(tp, tp + fp);
  const spamCaught = ratio(tp, tp + fn);
  return {
    messages: tp + fp + tn + fn,
    accuracy: ratio(tp + tn, tp + fp + tn + fn),
    spamCaught,
    hamBlocked: ratio(fp, fp + tn),
    precision,
    f1: ratio(2 * precision * spamCaught, precision + spamCaught),
    mcc: mcc(table),
  };
}

/** The mean of each figure over several runs (e.g. cross-validation folds). */
export function meanFigures(runs: readonly Figures[]): Figures {
  if (runs.length === 0) throw new Error('no runs to average');
  const mean = (pick: (figures: Figures) => number) => runs.reduce((sum, run) => sum + pick(run), 0) / runs.length;
  return {
    messages: runs.reduce((sum, run) => sum + run.messages, 0),
    accuracy: mean((run) => run.accuracy),
    spamCaught: mean((run) => run.spamCaught),
    hamBlocked: mean((run) => run.hamBlocked),
    precision: mean((run) => run.precision),
    f1: mean((run) => run.f1),
    mcc: mean((run) => run.mcc),
  };
}
