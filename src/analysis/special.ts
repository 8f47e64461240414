// Special functions for the mixture tests, in log space so that counts in the millions neither
// overflow nor lose the small differences the tests are made of.

const HALF_LOG_TWO_PI = 0.5 * Math.log(2 * Math.PI);
/** Below this the argument is shifted up first: there, Stirling's series to z⁻¹³ errs by less than 1e-19. */
const STIRLING_FROM = 15;

/** log Γ(x) for x > 0 (Stirling's series after shifting x up with Γ(z + 1) = z·Γ(z)). */
export function logGamma(x: number): number {
  if (!(x > 0) || !Number.isFinite(x)) throw new RangeError(`logGamma needs a finite x > 0, got ${x}`);
  let z = x;
  let product = 1;
  while (z < STIRLING_FROM) {
    product *= z;
    z += 1;
  }
  const inverse = 1 / z;
  const inverse2 = inverse * inverse;
  const series =
    inverse *
    (1 / 12 + inverse2 * (-1 / 360 + inverse2 * (1 / 1260 + inverse2 * (-1 / 1680 + inverse2 * (1 / 1188 + inverse2 * (-691 / 360360 + inverse2 * (1 / 156)))))));
  return (z - 0.5) * Math.log(z) - z + HALF_LOG_TWO_PI + series - Math.log(product);
}

/** log B(a, b) = log Γ(a) + log Γ(b) − log Γ(a + b). */
export function logBeta(a: number, b: number): number {
  return logGamma(a) + logGamma(b) - logGamma(a + b);
}

/** x·log y with 0·log 0 = 0 (a category that never occurred contributes nothing). */
export function xLogY(x: number, y: number): number {
  return x === 0 ? 0 : x * Math.log(y);
}

/** log(1 + eᵘ) without overflow for large u or loss of precision for very negative u. */
export function softplus(u: number): number {
  return u > 0 ? u + Math.log1p(Math.exp(-u)) : Math.log1p(Math.exp(u));
}

/** The logistic function 1 / (1 + e⁻ᵘ). */
export function logistic(u: number): number {
  return u >= 0 ? 1 / (1 + Math.exp(-u)) : Math.exp(u) / (1 + Math.exp(u));
}
