// The three evaluation protocols. Every threshold is tuned inside the training part of a split
// (trainTokenized), never on the messages it is scored on.
import { deduplicate, type LabelledMessage } from './dataset.ts';
import { stratifiedFolds } from './folds.ts';
import type { TokenizedMessage } from './naive-bayes.ts';
import type { ModelPreset } from './presets.ts';
import { confusion, figures, meanFigures, type Figures } from './scores.ts';
import { SpamClassifier, tokenizeAll, trainTokenized } from './training.ts';

/** The dataset paper's protocol: the first 30% of the file trains, the remaining 70% tests. */
export const PAPER_TRAIN_SHARE = 0.3;
export const CROSS_VALIDATION_FOLDS = 5;

export interface ProtocolResult {
  protocol: string;
  description: string;
  figures: Figures;
  /** Per-fold figures, for cross-validation. */
  folds?: Figures[];
}

function score(training: readonly TokenizedMessage[], testing: readonly TokenizedMessage[], preset: ModelPreset, seed: number): Figures {
  const classifier = new SpamClassifier(trainTokenized(training, preset, seed));
  const predicted = testing.map((message) => (classifier.isSpam(message.tokens) ? 'spam' : 'ham'));
  return figures(confusion(testing.map((message) => message.label), predicted));
}

export function paperSplit(messages: readonly LabelledMessage[], preset: ModelPreset, seed: number): ProtocolResult {
  const tokenized = tokenizeAll(messages, preset.features);
  const cut = Math.floor(tokenized.length * PAPER_TRAIN_SHARE);
  return {
    protocol: '(a) paper split',
    description: `first ${cut} messages train, last ${tokenized.length - cut} test, file order`,
    figures: score(tokenized.slice(0, cut), tokenized.slice(cut), preset, seed),
  };
}

export function crossValidation(messages: readonly LabelledMessage[], preset: ModelPreset, seed: number, folds = CROSS_VALIDATION_FOLDS): ProtocolResult {
  const distinct = deduplicate(messages);
  const tokenized = tokenizeAll(distinct, preset.features);
  const assignment = stratifiedFolds(tokenized.map((message) => message.label), folds, seed);
  const perFold: Figures[] = [];
  for (let fold = 0; fold < folds; fold += 1) {
    const training = tokenized.filter((_, index) => assignment[index] !== fold);
    const testing = tokenized.filter((_, index) => assignment[index] === fold);
    perFold.push(score(training, testing, preset, seed));
  }
  return {
    protocol: `(b) ${folds}-fold CV`,
    description: `stratified, ${distinct.length} distinct messages, mean of ${folds} folds`,
    figures: meanFigures(perFold),
    folds: perFold,
  };
}

export function trainTest(training: readonly LabelledMessage[], testing: readonly LabelledMessage[], preset: ModelPreset, seed: number): ProtocolResult {
  return {
    protocol: '(c) train/test files',
    description: `${training.length} training messages, ${testing.length} test messages`,
    figures: score(tokenizeAll(training, preset.features), tokenizeAll(testing, preset.features), preset, seed),
  };
}
