import assert from 'node:assert/strict';
import type { Label } from '../../../src/model/dataset.ts';
import { stratifiedFolds } from '../../../src/model/folds.ts';
import { confusion, figures, mcc } from '../../../src/model/scores.ts';
import { tuneThreshold } from '../../../src/model/threshold.ts';

describe('evaluation figures', () => {
  it('computes the figures with spam as the positive class', () => {
    const actual: Label[] = ['spam', 'spam', 'spam', 'ham', 'ham', 'ham', 'ham', 'ham'];
    const predicted: Label[] = ['spam', 'spam', 'ham', 'spam', 'ham', 'ham', 'ham', 'ham'];
    const table = confusion(actual, predicted);
    assert.deepEqual(table, { truePositives: 2, falsePositives: 1, trueNegatives: 4, falseNegatives: 1 });
    const result = figures(table);
    assert.equal(result.accuracy, 6 / 8);
    assert.equal(result.spamCaught, 2 / 3);
    assert.equal(result.hamBlocked, 1 / 5);
    assert.equal(result.precision, 2 / 3);
    assert.ok(Math.abs(result.mcc - (2 * 4 - 1 * 1) / Math.sqrt(3 * 3 * 5 * 5)) < 1e-12);
  });

  it('gives MCC 1 for a perfect and 0 for a constant classifier', () => {
    assert.equal(mcc({ truePositives: 5, falsePositives: 0, trueNegatives: 7, falseNegatives: 0 }), 1);
    assert.equal(mcc({ truePositives: 0, falsePositives: 0, trueNegatives: 7, falseNegatives: 5 }), 0);
  });
});

describe('decision threshold', () => {
  const scored = [
    { label: 'spam' as const, logOdds: 9 },
    { label: 'spam' as const, logOdds: 5 },
    { label: 'ham' as const, logOdds: 3 },
    { label: 'spam' as const, logOdds: 2 },
    { label: 'ham' as const, logOdds: -1 },
    { label: 'ham' as const, logOdds: -4 },
  ];

  it('picks the midpoint of the cut with the best MCC, the higher one on a tie', () => {
    // Cutting between 5 and 3 misses one spam; between 2 and -1 blocks one ham: both MCC 0.707.
    // The tie goes to the higher threshold, which blocks less ham.
    assert.equal(tuneThreshold(scored, { kind: 'best-mcc' }), 4);
    assert.equal(tuneThreshold(scored.filter((message) => message.logOdds !== 3), { kind: 'best-mcc' }), 0.5);
  });

  it('honours a cap on the share of ham blocked', () => {
    assert.equal(tuneThreshold(scored, { kind: 'best-mcc-capped-ham-blocked', maxHamBlocked: 0 }), 4);
  });

  it('can call everything ham when no cut is better', () => {
    const hopeless = [
      { label: 'ham' as const, logOdds: 5 },
      { label: 'spam' as const, logOdds: 1 },
    ];
    assert.equal(tuneThreshold(hopeless, { kind: 'best-mcc-capped-ham-blocked', maxHamBlocked: 0 }), 6);
  });
});

describe('stratified folds', () => {
  const classes = [...Array<string>(20).fill('ham'), ...Array<string>(10).fill('spam')];

  it('spreads each class evenly and repeats for the same seed', () => {
    const folds = stratifiedFolds(classes, 5, 7);
    for (let fold = 0; fold < 5; fold += 1) {
      assert.equal(folds.filter((f, index) => f === fold && classes[index] === 'ham').length, 4);
      assert.equal(folds.filter((f, index) => f === fold && classes[index] === 'spam').length, 2);
    }
    assert.deepEqual(stratifiedFolds(classes, 5, 7), folds);
    assert.notDeepEqual(stratifiedFolds(classes, 5, 8), folds);
  });

  it('refuses fewer than two folds', () => {
    assert.throws(() => stratifiedFolds(classes, 1, 1), /at least 2/);
  });
});
