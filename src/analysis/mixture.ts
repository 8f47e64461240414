// The two-category Dirichlet (Beta) mixture test of Lindon & Malek (2022), the one piece every
// verdict of this module is built from. Category A happens with probability θ; the null is a
// point θ₀; the mixture over θ ~ Beta(a, b) of likelihood ratios L(θ)/L(θ₀) is a test martingale
// under θ₀, so 1/BF is a p-value at any stopping time (Ville's inequality), and the set of θ₀ a
// level-α test would not reject is a confidence sequence.
//
// Counts enter only through their totals: the Beta-binomial marginal likelihood is exchangeable,
// so a poll that brings many events at once gives the same factor as one event at a time.
import { logBeta, logistic, softplus, xLogY } from './special.ts';

export interface BetaPrior {
  /** Pseudo-count of category A (for the canary tests: k·ρ_canary). */
  readonly a: number;
  /** Pseudo-count of category B. */
  readonly b: number;
}

/** log of the mixture's marginal likelihood over the Beta prior, without the binomial coefficient. */
function logMarginal(prior: BetaPrior, countA: number, countB: number): number {
  return logBeta(prior.a + countA, prior.b + countB) - logBeta(prior.a, prior.b);
}

/**
 * log BF of "θ ~ Beta(a, b)" against "θ = θ₀" after countA and countB events. Both null shares are
 * passed (θ₀ and 1 − θ₀) so that a split like 90/10 uses log 0.9 exactly, not log(1 − 0.1).
 */
export function logBayesFactor(prior: BetaPrior, countA: number, countB: number, nullShareA: number, nullShareB: number): number {
  return logMarginal(prior, countA, countB) - xLogY(countA, nullShareA) - xLogY(countB, nullShareB);
}

/** Bounds on the log-odds u = log(θ / (1 − θ)); null means unbounded (θ may be 0 or 1). */
export interface LogOddsInterval {
  readonly lower: number | null;
  readonly upper: number | null;
}

const NEWTON_STEPS = 200;

/**
 * The log-odds u whose BF stays below e^threshold: {u : log BF(σ(u)) < threshold}, an interval
 * because log BF is convex in u:
 *   g(u) = C + countA·softplus(−u) + countB·softplus(u) − threshold,  g'(u) = n·σ(u) − countA.
 * With no event of a category the bound on that side is open (null).
 */
export function logOddsInterval(prior: BetaPrior, countA: number, countB: number, threshold: number): LogOddsInterval {
  const slack = threshold - logMarginal(prior, countA, countB); // > 0: the marginal likelihood never exceeds the maximum likelihood
  if (countA === 0 && countB === 0) return { lower: null, upper: null };
  // With one category empty, g is monotone and its root has a closed form.
  if (countB === 0) return { lower: -Math.log(Math.expm1(slack / countA)), upper: null };
  if (countA === 0) return { lower: null, upper: Math.log(Math.expm1(slack / countB)) };
  const n = countA + countB;
  const g = (u: number) => countA * softplus(-u) + countB * softplus(u) - slack;
  const slope = (u: number) => n * logistic(u) - countA;
  const best = Math.log(countA / countB); // g is smallest here, and negative
  const spread = Math.max(1, Math.sqrt(2 * slack * (1 / countA + 1 / countB)));
  return { lower: convexRoot(g, slope, best, -spread), upper: convexRoot(g, slope, best, spread) };
}

/**
 * The root of a convex g on one side of its minimum at `best`: step outwards until g > 0, then
 * Newton's method from outside, which for a convex function never overshoots the root.
 */
function convexRoot(g: (u: number) => number, slope: (u: number) => number, best: number, step: number): number {
  let u = best + step;
  while (g(u) <= 0) {
    step *= 2;
    u = best + step;
  }
  for (let i = 0; i < NEWTON_STEPS; i += 1) {
    const value = g(u);
    if (value <= 0) return u; // on the root to rounding
    const next = u - value / slope(u);
    if (!(Math.abs(next - u) > 1e-13 * (1 + Math.abs(u)))) return next;
    u = next;
  }
  return u;
}

/** θ from its log-odds, with null bounds mapped to 0 and 1. */
export function shareFromLogOdds(logOdds: number | null, unbounded: 0 | 1): number {
  return logOdds === null ? unbounded : logistic(logOdds);
}
