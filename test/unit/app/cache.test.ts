import assert from 'node:assert/strict';
import { createCache, normaliseMessage } from '../../../src/app/cache.ts';
import type { CachePolicy } from '../../../src/app/config.ts';

function cacheAt(policy: CachePolicy, maxEntries: number, ttlMs = 60_000) {
  let time = 1_000;
  const cache = createCache<string>({ policy, maxEntries, ttlMs, now: () => time });
  return { cache, advance: (ms: number) => (time += ms) };
}

describe('answer cache', () => {
  it('returns what was stored until the TTL runs out', () => {
    const { cache, advance } = cacheAt('lru', 10, 5_000);
    cache.set('win a prize', 'spam');
    advance(4_999);
    assert.equal(cache.get('win a prize'), 'spam');
    advance(1);
    assert.equal(cache.get('win a prize'), undefined);
    assert.equal(cache.size, 0, 'an expired entry is dropped when it is found');
  });

  it('lru: a hit keeps an entry, the least recently used one is evicted', () => {
    const { cache } = cacheAt('lru', 2);
    cache.set('a', 'A');
    cache.set('b', 'B');
    assert.equal(cache.get('a'), 'A');
    cache.set('c', 'C');
    assert.equal(cache.get('b'), undefined);
    assert.equal(cache.get('a'), 'A');
    assert.equal(cache.get('c'), 'C');
    assert.equal(cache.size, 2);
  });

  it('fifo: the oldest insertion is evicted whatever its hits', () => {
    const { cache } = cacheAt('fifo', 2);
    cache.set('a', 'A');
    cache.set('b', 'B');
    assert.equal(cache.get('a'), 'A');
    cache.set('c', 'C');
    assert.equal(cache.get('a'), undefined);
    assert.equal(cache.get('b'), 'B');
    assert.equal(cache.get('c'), 'C');
  });

  it('setting a key again renews its age and position', () => {
    const { cache, advance } = cacheAt('fifo', 2, 1_000);
    cache.set('a', 'old');
    cache.set('b', 'B');
    advance(900);
    cache.set('a', 'new');
    cache.set('c', 'C');
    assert.equal(cache.get('b'), undefined, 'b is now the oldest insertion');
    advance(900);
    assert.equal(cache.get('a'), 'new');
  });

  it('none: never stores anything', () => {
    const { cache } = cacheAt('none', 10);
    cache.set('a', 'A');
    assert.equal(cache.get('a'), undefined);
    assert.equal(cache.size, 0);
  });

  it('never holds more than maxEntries', () => {
    const { cache } = cacheAt('lru', 100);
    for (let index = 0; index < 1_000; index++) cache.set(`message ${index}`, 'ham');
    assert.equal(cache.size, 100);
    assert.equal(cache.get('message 899'), undefined);
    assert.equal(cache.get('message 900'), 'ham');
  });
});

describe('normaliseMessage', () => {
  it('gives one key to the same message pasted with different whitespace', () => {
    assert.equal(normaliseMessage('  Call   now!\n\tFree  prize '), 'Call now! Free prize');
  });

  it('gives one key to composed and decomposed accents', () => {
    assert.equal(normaliseMessage('cafe\u0301'), normaliseMessage('caf\u00e9'));
  });

  it('keeps case and punctuation, which the model reads', () => {
    assert.notEqual(normaliseMessage('FREE entry!!'), normaliseMessage('free entry'));
  });
});
