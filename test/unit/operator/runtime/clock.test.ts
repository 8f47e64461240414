import assert from 'node:assert/strict';
import { backoffDelay, toKubeTime, toMicroTime } from '../../../../src/operator/runtime/clock.ts';

describe('clock', () => {
  it('doubles the backoff from the base up to the cap', () => {
    const policy = { baseMs: 5, capMs: 1_000 };
    assert.deepEqual([0, 1, 2, 3, 4, 8, 9, 100, 10_000].map((n) => backoffDelay(n, policy)), [0, 5, 10, 20, 40, 640, 1_000, 1_000, 1_000]);
  });

  it('formats MicroTime with six fractional digits and Time with whole seconds', () => {
    const at = Date.parse('2025-06-07T08:09:10.123Z');
    assert.equal(toMicroTime(at), '2025-06-07T08:09:10.123000Z');
    assert.equal(toKubeTime(at), '2025-06-07T08:09:10Z');
  });
});
