// The acceptance range of the traffic-split checks, against values worked out by hand.
import assert from 'node:assert/strict';
import { binomialAcceptanceRange, describeSplit } from './binomial.ts';

describe('binomialAcceptanceRange', () => {
  it('cuts each tail at half the false-alarm rate (10 fair coins, 5%)', () => {
    // P(X ≤ 1) = 11/1024 ≈ 0.011 ≤ 0.025 but P(X ≤ 2) = 56/1024 ≈ 0.055 > 0.025, and symmetrically.
    assert.deepEqual(binomialAcceptanceRange(10, 0.5, 0.05), { low: 2, high: 8 });
  });

  it('gives about ±3.9 standard deviations for a 90/10 split at a 1e-4 false-alarm rate', () => {
    // 400 requests at 10%: mean 40, sd 6; the normal approximation says 40 ± 23.
    const { low, high } = binomialAcceptanceRange(400, 0.1);
    assert.ok(low >= 17 && low <= 22, `low ${low}`);
    assert.ok(high >= 60 && high <= 66, `high ${high}`);
    assert.ok(low < 40 && high > 40);
  });

  it('is exact at the edges and mirror-symmetric', () => {
    assert.deepEqual(binomialAcceptanceRange(50, 0), { low: 0, high: 0 });
    assert.deepEqual(binomialAcceptanceRange(50, 1), { low: 50, high: 50 });
    const ten = binomialAcceptanceRange(1000, 0.1);
    const ninety = binomialAcceptanceRange(1000, 0.9);
    assert.deepEqual(ninety, { low: 1000 - ten.high, high: 1000 - ten.low });
  });

  it('stays finite for many trials (no factorial overflow)', () => {
    const { low, high } = binomialAcceptanceRange(100_000, 0.5);
    assert.ok(low > 49_000 && low < 50_000 && high > 50_000 && high < 51_000, `${low}..${high}`);
  });

  it('refuses bad arguments, naming them', () => {
    assert.throws(() => binomialAcceptanceRange(10.5, 0.1), /trials must be a non-negative integer/);
    assert.throws(() => binomialAcceptanceRange(10, 1.5), /probability must be between 0 and 1/);
    assert.throws(() => binomialAcceptanceRange(10, 0.1, 0), /falseAlarmRate/);
  });

  it('describes a split in one line', () => {
    assert.equal(describeSplit(37, 400, 0.1, { low: 20, high: 62 }), '37 of 400 (9.3%), accepted 20..62 for 10%');
  });
});
