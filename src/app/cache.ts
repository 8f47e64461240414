// The answer cache: repeated messages skip the model. Bounded in entries and in age; a Map keeps
// insertion order, so the first key is always the next to evict, and a hit under the lru policy
// re-inserts its key to make it the most recent. Every operation is O(1).
import type { CachePolicy } from './config.ts';

export interface CacheOptions {
  policy: CachePolicy;
  maxEntries: number;
  ttlMs: number;
  now?: () => number;
}

export interface AnswerCache<V> {
  readonly policy: CachePolicy;
  get(key: string): V | undefined;
  set(key: string, value: V): void;
  readonly size: number;
}

interface Entry<V> {
  value: V;
  expiresAt: number;
}

export function createCache<V>({ policy, maxEntries, ttlMs, now = Date.now }: CacheOptions): AnswerCache<V> {
  if (policy === 'none') {
    return { policy, get: () => undefined, set: () => undefined, size: 0 };
  }
  const entries = new Map<string, Entry<V>>();
  return {
    policy,
    get(key) {
      const entry = entries.get(key);
      if (entry === undefined) return undefined;
      if (entry.expiresAt <= now()) {
        entries.delete(key);
        return undefined;
      }
      if (policy === 'lru') {
        entries.delete(key);
        entries.set(key, entry);
      }
      return entry.value;
    },
    set(key, value) {
      // Re-setting a key renews it under both policies: it holds a fresh answer.
      entries.delete(key);
      entries.set(key, { value, expiresAt: now() + ttlMs });
      while (entries.size > maxEntries) {
        const oldest = entries.keys().next();
        if (oldest.done === true) break;
        entries.delete(oldest.value);
      }
    },
    get size() {
      return entries.size;
    },
  };
}

/**
 * The cache key: the same message however it was pasted. Unicode NFC and collapsed whitespace only;
 * case and punctuation stay, because the model reads them (all-caps words, "!") and two messages it
 * may answer differently must not share an entry.
 */
export function normaliseMessage(message: string): string {
  return message.normalize('NFC').replace(/\s+/g, ' ').trim();
}
