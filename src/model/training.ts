// Training: tokenize, pick the decision threshold by cross-validation inside the training data,
// then count every training message. The same data, preset and seed always give the same model.
import type { LabelledMessage } from './dataset.ts';
import { tokenize, type FeatureSettings } from './features.ts';
import { stratifiedFolds } from './folds.ts';
import { NaiveBayes, sigmoid, trainCounts, type NaiveBayesCounts, type TokenizedMessage } from './naive-bayes.ts';
import type { ModelPreset } from './presets.ts';
import { tuneThreshold, type ScoredMessage } from './threshold.ts';

export const THRESHOLD_FOLDS = 5;
/** Repeats of the threshold's cross-validation, pooled: one shuffle alone moves the threshold too much. */
export const THRESHOLD_REPEATS = 3;
export const DEFAULT_SEED = 42;

export interface TrainedModel {
  features: FeatureSettings;
  counts: NaiveBayesCounts;
  /** Log-odds above which a message is spam. */
  threshold: number;
}

export function tokenizeAll(messages: readonly LabelledMessage[], features: FeatureSettings): TokenizedMessage[] {
  return messages.map((message) => ({ label: message.label, tokens: tokenize(message.text, features) }));
}

/** Out-of-fold log-odds of every message: each scored by a model that never saw it. */
export function outOfFoldScores(messages: readonly TokenizedMessage[], preset: ModelPreset, folds: number, seed: number): ScoredMessage[] {
  const assignment = stratifiedFolds(messages.map((message) => message.label), folds, seed);
  const scored: ScoredMessage[] = [];
  for (let fold = 0; fold < folds; fold += 1) {
    const training = messages.filter((_, index) => assignment[index] !== fold);
    const model = new NaiveBayes(trainCounts(training, { alpha: preset.alpha, binary: preset.features.binary }));
    for (const [index, message] of messages.entries()) {
      if (assignment[index] === fold) scored.push({ label: message.label, logOdds: model.logOdds(message.tokens) });
    }
  }
  return scored;
}

export function trainTokenized(messages: readonly TokenizedMessage[], preset: ModelPreset, seed: number): TrainedModel {
  const pooled: ScoredMessage[] = [];
  for (let repeat = 0; repeat < THRESHOLD_REPEATS; repeat += 1) pooled.push(...outOfFoldScores(messages, preset, THRESHOLD_FOLDS, seed + repeat));
  const threshold = tuneThreshold(pooled, preset.threshold);
  const counts = trainCounts(messages, { alpha: preset.alpha, binary: preset.features.binary });
  return { features: preset.features, counts, threshold };
}

export function train(messages: readonly LabelledMessage[], preset: ModelPreset, seed = DEFAULT_SEED): TrainedModel {
  return trainTokenized(tokenizeAll(messages, preset.features), preset, seed);
}

export interface Prediction {
  result: 'spam' | 'ham';
  /** The posterior with the prior moved by the tuned threshold, so a message is spam exactly when it is above 0.5. */
  spamProbability: number;
}

/** A trained model ready to answer: tokenizer settings, log-likelihood ratios and threshold. */
export class SpamClassifier {
  readonly features: FeatureSettings;
  readonly threshold: number;
  readonly #bayes: NaiveBayes;

  constructor(model: TrainedModel) {
    this.features = model.features;
    this.threshold = model.threshold;
    this.#bayes = new NaiveBayes(model.counts);
  }

  logOdds(text: string): number {
    return this.#bayes.logOdds(tokenize(text, this.features));
  }

  /** Decision for already tokenized messages (evaluation reuses one tokenization). */
  isSpam(tokens: readonly string[]): boolean {
    return this.#bayes.logOdds(tokens) > this.threshold;
  }

  predict(text: string): Prediction {
    const margin = this.logOdds(text) - this.threshold;
    return { result: margin > 0 ? 'spam' : 'ham', spamProbability: sigmoid(margin) };
  }
}
