import assert from 'node:assert/strict';
import { NaiveBayes, sigmoid, trainCounts, type TokenizedMessage } from '../../../src/model/naive-bayes.ts';

const messages: TokenizedMessage[] = [
  { label: 'spam', tokens: ['free', 'prize', 'free'] },
  { label: 'spam', tokens: ['win', 'prize'] },
  { label: 'ham', tokens: ['lunch', 'free'] },
];

describe('naive Bayes', () => {
  it('counts tokens per class, every occurrence or once per message', () => {
    const counts = trainCounts(messages, { alpha: 1, binary: false });
    assert.deepEqual(counts.documents, { spam: 2, ham: 1 });
    assert.deepEqual(new Map(counts.vocabulary.map(([token, spam, ham]) => [token, [spam, ham]])).get('free'), [2, 1]);
    const binary = trainCounts(messages, { alpha: 1, binary: true });
    assert.deepEqual(new Map(binary.vocabulary.map(([token, spam, ham]) => [token, [spam, ham]])).get('free'), [1, 1]);
  });

  it('computes the multinomial log-odds with add-alpha smoothing', () => {
    const model = new NaiveBayes(trainCounts(messages, { alpha: 1, binary: false }));
    // Vocabulary: free, prize, win, lunch (4). Spam tokens 5, ham tokens 2.
    const spam = (count: number) => Math.log((count + 1) / (5 + 4));
    const ham = (count: number) => Math.log((count + 1) / (2 + 4));
    const prior = Math.log(2 / 1);
    const expected = prior + (spam(2) - ham(1)) + (spam(2) - ham(0)) + (spam(0) - ham(1));
    assert.ok(Math.abs(model.logOdds(['free', 'prize', 'lunch']) - expected) < 1e-12);
  });

  it('ignores tokens it never saw, so cost follows the message and not the vocabulary', () => {
    const model = new NaiveBayes(trainCounts(messages, { alpha: 1, binary: false }));
    assert.equal(model.logOdds(['never', 'seen']), model.logOdds([]));
    assert.equal(model.logOdds([]), Math.log(2));
  });

  it('counts a repeated token once in binary mode', () => {
    const model = new NaiveBayes(trainCounts(messages, { alpha: 1, binary: true }));
    assert.equal(model.logOdds(['prize', 'prize', 'prize']), model.logOdds(['prize']));
  });

  it('refuses training data without both classes and a non-positive alpha', () => {
    assert.throws(() => trainCounts(messages.slice(0, 2), { alpha: 1, binary: false }), /both classes, got 2 spam and 0 ham/);
    assert.throws(() => trainCounts(messages, { alpha: 0, binary: false }), /alpha must be positive/);
  });

  it('maps log-odds to probabilities without overflow', () => {
    assert.equal(sigmoid(0), 0.5);
    assert.equal(sigmoid(1000), 1);
    assert.equal(sigmoid(-1000), 0);
    assert.ok(Math.abs(sigmoid(Math.log(3)) - 0.75) < 1e-12);
  });
});
