// A seeded generator for the simulations and benchmarks (xoshiro128**, seeded by splitmix32):
// reproducible runs, a period of 2¹²⁸ − 1, far beyond the billions of draws of a simulation.

export interface Random {
  /** Uniform on [0, 1). */
  next(): number;
}

export function seededRandom(seed: number): Random {
  let s = seed >>> 0;
  const splitmix = () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix();
  let b = splitmix();
  let c = splitmix();
  let d = splitmix();
  return {
    next() {
      const result = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
      const t = b << 9;
      c ^= a;
      d ^= b;
      b ^= c;
      a ^= d;
      c ^= t;
      d = rotl(d, 11);
      return result / 4294967296;
    },
  };
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** Binomial(n, p) by inversion (sequential search from 0); fast for the small n·p of error counts. */
export function binomial(random: Random, n: number, p: number): number {
  if (n === 0 || p <= 0) return 0;
  if (p >= 1) return n;
  if (p > 0.5) return n - binomial(random, n, 1 - p);
  const q = 1 - p;
  const ratio = p / q;
  let probability = Math.pow(q, n);
  if (probability === 0) return normalBinomial(random, n, p); // n·p too large for inversion
  let cumulative = probability;
  const u = random.next();
  let k = 0;
  while (u > cumulative && k < n) {
    probability *= (ratio * (n - k)) / (k + 1);
    k += 1;
    cumulative += probability;
  }
  return k;
}

/** Poisson(mean) by inversion, for the traffic of one poll. */
export function poisson(random: Random, mean: number): number {
  if (mean > 500) return Math.max(0, Math.round(mean + Math.sqrt(mean) * standardNormal(random)));
  let probability = Math.exp(-mean);
  let cumulative = probability;
  const u = random.next();
  let k = 0;
  while (u > cumulative) {
    k += 1;
    probability *= mean / k;
    cumulative += probability;
    if (probability === 0) break;
  }
  return k;
}

function normalBinomial(random: Random, n: number, p: number): number {
  const value = Math.round(n * p + Math.sqrt(n * p * (1 - p)) * standardNormal(random));
  return Math.min(n, Math.max(0, value));
}

function standardNormal(random: Random): number {
  const u = 1 - random.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.next());
}
