// The delta helper: exact counts from raw counter values, resets per series, plain JSON memory.
import assert from 'node:assert/strict';
import type { Series } from '../../../../src/operator/prometheus/client.ts';
import { advanceCounters, CountError, resetsBy, seriesKey, startCounters, sumCounted } from '../../../../src/operator/prometheus/counters.ts';

const series = (labels: Record<string, string>, ...samples: Array<[number, number]>): Series => ({ labels, samples: samples.map(([timestamp, value]) => ({ timestamp, value })) });
const byPod = (labels: Readonly<Record<string, string>>) => labels.pod;

describe('counter deltas', () => {
  it('counts from the baseline, not from the process start', () => {
    const memory = startCounters([series({ pod: 'a' }, [10, 500]), series({ pod: 'b' }, [10, 7])]);
    assert.deepEqual(sumCounted(memory, byPod), { a: 0, b: 0 });
    const next = advanceCounters(memory, [series({ pod: 'a' }, [11, 530]), series({ pod: 'b' }, [11, 7])]);
    assert.deepEqual(sumCounted(next, byPod), { a: 30, b: 0 });
  });

  it('handles a reset per series: the other series go on as before', () => {
    let memory = startCounters([series({ pod: 'a' }, [10, 100]), series({ pod: 'b' }, [10, 50])]);
    memory = advanceCounters(memory, [series({ pod: 'a' }, [11, 120]), series({ pod: 'b' }, [11, 60])]);
    // a restarted and has counted 5 since; b went on.
    memory = advanceCounters(memory, [series({ pod: 'a' }, [12, 5]), series({ pod: 'b' }, [12, 70])]);
    assert.deepEqual(sumCounted(memory, byPod), { a: 25, b: 20 });
    assert.deepEqual(resetsBy(memory, byPod), { a: 1 });
    memory = advanceCounters(memory, [series({ pod: 'a' }, [13, 9])]);
    assert.deepEqual(sumCounted(memory, byPod), { a: 29, b: 20 });
  });

  it('sees a reset between collections in a range answer (raw samples), which one instant value would hide', () => {
    const memory = startCounters([series({ pod: 'a' }, [10, 100])]);
    // Restarted after 10 s, then counted 130: the instant value alone (130 > 100) would say 30.
    const next = advanceCounters(memory, [series({ pod: 'a' }, [9, 90], [10, 100], [11, 104], [12, 3], [13, 130])]);
    assert.deepEqual(sumCounted(next, byPod), { a: 4 + 130 });
    assert.equal(next.series[seriesKey({ pod: 'a' })]?.resets, 1);
  });

  it('counts a reading of the same scrape once', () => {
    const memory = startCounters([series({ pod: 'a' }, [10, 1])]);
    const once = advanceCounters(memory, [series({ pod: 'a' }, [11, 4])]);
    const twice = advanceCounters(once, [series({ pod: 'a' }, [11, 4])]);
    assert.deepEqual(sumCounted(twice, byPod), { a: 3 });
  });

  it('counts a series first seen after the baseline from 0, and keeps one that went away', () => {
    let memory = startCounters([series({ pod: 'a', code: '200' }, [10, 10])]);
    memory = advanceCounters(memory, [series({ pod: 'a', code: '200' }, [11, 12]), series({ pod: 'a', code: '503' }, [11, 3])]);
    memory = advanceCounters(memory, [series({ pod: 'a', code: '200' }, [12, 13])]);
    assert.deepEqual(sumCounted(memory, (labels) => labels.code), { '200': 3, '503': 3 });
  });

  it('keeps its memory as plain JSON that round-trips', () => {
    let memory = startCounters([series({ pod: 'a', version: 'v1' }, [10, 10])]);
    memory = advanceCounters(memory, [series({ pod: 'a', version: 'v1' }, [11, 2]), series({ pod: 'b', version: 'v2' }, [11, 8])]);
    const restored = JSON.parse(JSON.stringify(memory)) as typeof memory;
    assert.deepEqual(restored, memory);
    const next = advanceCounters(restored, [series({ pod: 'a', version: 'v1' }, [12, 3])]);
    assert.deepEqual(sumCounted(next, (labels) => labels.version), { v1: 3, v2: 8 });
  });

  it('refuses values that are not whole non-negative counts, naming the series', () => {
    assert.throws(() => startCounters([series({ pod: 'a' }, [10, 1.5])]), (error: unknown) => error instanceof CountError && /series \{pod="a"\} has value 1\.5, not a whole count/.test(error.message));
    assert.throws(() => advanceCounters({ series: {} }, [series({ pod: 'a' }, [10, Number.NaN])]), CountError);
    assert.throws(() => advanceCounters({ series: {} }, [series({ pod: 'a' }, [10, -1])]), CountError);
  });
});
