// Seeded randomness and stratified folds, so cross-validation and training are repeatable.

/** mulberry32: a small, fast 32-bit generator; plenty for shuffling a few thousand indices. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let index = items.length - 1; index > 0; index -= 1) {
    const other = Math.floor(random() * (index + 1));
    [items[index], items[other]] = [items[other] as T, items[index] as T];
  }
  return items;
}

/**
 * Assigns every item a fold in 0..k-1 so that each class is spread evenly over the folds.
 * Returns the fold of each item, by index.
 */
export function stratifiedFolds(classes: readonly string[], k: number, seed: number): number[] {
  if (!Number.isInteger(k) || k < 2) throw new Error(`folds must be an integer of at least 2, got ${k}`);
  const random = seededRandom(seed);
  const byClass = new Map<string, number[]>();
  for (const [index, name] of classes.entries()) {
    const members = byClass.get(name) ?? [];
    members.push(index);
    byClass.set(name, members);
  }
  const folds = new Array<number>(classes.length).fill(0);
  // Each class continues where the previous one stopped, so fold sizes differ by at most one.
  let next = 0;
  for (const name of [...byClass.keys()].sort()) {
    for (const index of shuffle(byClass.get(name) ?? [], random)) {
      folds[index] = next % k;
      next += 1;
    }
  }
  return folds;
}
