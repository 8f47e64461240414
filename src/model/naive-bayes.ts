// Multinomial naive Bayes in log space. Training counts tokens per class; prediction sums one
// precomputed log-likelihood ratio per token of the message, so its cost grows with the message's
// length and not with the vocabulary (unknown tokens add nothing).
import type { Label } from './dataset.ts';

export interface TokenizedMessage {
  label: Label;
  tokens: readonly string[];
}

/** A vocabulary entry: the token and how often it occurred in spam and in ham. */
export type TokenCounts = [token: string, spam: number, ham: number];

export interface NaiveBayesCounts {
  /** Laplace (add-alpha) smoothing of every token's count. */
  alpha: number;
  /** Count a token once per message rather than every time it occurs. */
  binary: boolean;
  documents: { spam: number; ham: number };
  /** In order of first occurrence in the training data (so the same data gives the same order). */
  vocabulary: TokenCounts[];
}

function countedTokens(tokens: readonly string[], binary: boolean): Iterable<string> {
  return binary ? new Set(tokens) : tokens;
}

export function trainCounts(messages: readonly TokenizedMessage[], options: { alpha: number; binary: boolean }): NaiveBayesCounts {
  if (!(options.alpha > 0)) throw new Error(`alpha must be positive, got ${options.alpha}`);
  const counts = new Map<string, [number, number]>();
  const documents = { spam: 0, ham: 0 };
  for (const message of messages) {
    documents[message.label] += 1;
    const column = message.label === 'spam' ? 0 : 1;
    for (const token of countedTokens(message.tokens, options.binary)) {
      let entry = counts.get(token);
      if (entry === undefined) {
        entry = [0, 0];
        counts.set(token, entry);
      }
      entry[column] += 1;
    }
  }
  if (documents.spam === 0 || documents.ham === 0) {
    throw new Error(`training needs both classes, got ${documents.spam} spam and ${documents.ham} ham messages`);
  }
  const vocabulary: TokenCounts[] = [...counts].map(([token, [spam, ham]]) => [token, spam, ham]);
  return { alpha: options.alpha, binary: options.binary, documents, vocabulary };
}

const seen = new Set<string>();

/** The counts turned into what prediction needs: a prior log-odds and one log-likelihood ratio per token. */
export class NaiveBayes {
  readonly #weights: Map<string, number>;
  readonly #priorLogOdds: number;
  readonly #binary: boolean;

  constructor(counts: NaiveBayesCounts) {
    const { alpha, vocabulary, documents } = counts;
    let spamTotal = 0;
    let hamTotal = 0;
    for (const [, spam, ham] of vocabulary) {
      spamTotal += spam;
      hamTotal += ham;
    }
    const size = vocabulary.length;
    const spamDenominator = Math.log(spamTotal + alpha * size);
    const hamDenominator = Math.log(hamTotal + alpha * size);
    this.#weights = new Map();
    for (const [token, spam, ham] of vocabulary) {
      this.#weights.set(token, Math.log(spam + alpha) - spamDenominator - (Math.log(ham + alpha) - hamDenominator));
    }
    this.#priorLogOdds = Math.log(documents.spam) - Math.log(documents.ham);
    this.#binary = counts.binary;
  }

  /** log P(spam | tokens) - log P(ham | tokens), up to the naive independence assumption. */
  logOdds(tokens: readonly string[]): number {
    let sum = this.#priorLogOdds;
    if (!this.#binary) {
      for (const token of tokens) sum += this.#weights.get(token) ?? 0;
      return sum;
    }
    // One reused set instead of one per message: prediction is synchronous, so it is never shared.
    seen.clear();
    for (const token of tokens) {
      if (seen.has(token)) continue;
      seen.add(token);
      sum += this.#weights.get(token) ?? 0;
    }
    return sum;
  }
}

export function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}
