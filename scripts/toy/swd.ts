/**
 * Sliced Wasserstein distance between two point clouds in R^d (Rabin et al. 2011; Bonneel et al.
 * 2015): project both clouds on L random unit directions theta_l, compute the exact 1-D
 * Wasserstein distance of each pair of projected empirical distributions (via their quantile
 * functions, i.e. sorted projections), and average:
 *   SW1 = (1/L) sum_l W1(theta_l . X, theta_l . Y)
 *   SW2 = sqrt( (1/L) sum_l W2^2(theta_l . X, theta_l . Y) )
 * Directions are standard-normal vectors normalised to unit length (uniform on the sphere), drawn
 * from a seeded Rng, so the same seed gives the same directions for every comparison.
 * Plain JS, float64 arithmetic.
 */
import { Rng } from '../../src/rng.js';

/** L unit directions in R^d, row-major [L * d]. */
export function randomDirections(L: number, d: number, seed: number): Float64Array {
  if (!Number.isInteger(L) || L < 1) throw new RangeError(`projections must be a positive integer, got ${L}`);
  if (!Number.isInteger(d) || d < 1) throw new RangeError(`dimension must be a positive integer, got ${d}`);
  const rng = new Rng(seed);
  const out = new Float64Array(L * d);
  for (let l = 0; l < L; l++) {
    let norm = 0;
    do {
      norm = 0;
      for (let k = 0; k < d; k++) {
        const z = rng.normal();
        out[l * d + k] = z;
        norm += z * z;
      }
    } while (norm < 1e-12);
    norm = Math.sqrt(norm);
    for (let k = 0; k < d; k++) out[l * d + k]! /= norm;
  }
  return out;
}

/**
 * Exact W_p^p between the empirical distributions of `a` and `b` (1-D, any sizes), both sorted
 * ascending: integral over q in (0,1) of |F_a^-1(q) - F_b^-1(q)|^p, walking the merged breakpoints
 * i/n and j/m of the two step quantile functions. For n = m this is mean_i |a_i - b_i|^p.
 */
export function wassersteinPow1d(a: ArrayLike<number>, b: ArrayLike<number>, p: 1 | 2): number {
  const n = a.length;
  const m = b.length;
  if (n === 0 || m === 0) throw new RangeError('wasserstein1d: empty sample');
  if (n === m) {
    let s = 0;
    for (let i = 0; i < n; i++) {
      const d = Math.abs(a[i]! - b[i]!);
      s += p === 1 ? d : d * d;
    }
    return s / n;
  }
  let i = 0;
  let j = 0;
  let q = 0; // current quantile level
  let s = 0;
  while (i < n && j < m) {
    const nextA = (i + 1) / n;
    const nextB = (j + 1) / m;
    const next = Math.min(nextA, nextB);
    const d = Math.abs(a[i]! - b[j]!);
    s += (next - q) * (p === 1 ? d : d * d);
    q = next;
    if (nextA <= next) i++;
    if (nextB <= next) j++;
  }
  return s;
}

export interface SwdResult {
  /** Sliced W1 (mean over projections of the 1-D W1). */
  sw1: number;
  /** Sliced W2 (root of the mean over projections of the 1-D W2^2). */
  sw2: number;
}

/**
 * Sliced Wasserstein distances between point clouds X ([n * d]) and Y ([m * d]), row-major, on the
 * given unit directions ([L * d], e.g. from randomDirections).
 */
export function slicedWasserstein(
  X: ArrayLike<number>,
  Y: ArrayLike<number>,
  d: number,
  directions: ArrayLike<number>,
): SwdResult {
  if (X.length % d !== 0 || Y.length % d !== 0) throw new RangeError(`point arrays must hold a multiple of d=${d} numbers`);
  if (directions.length % d !== 0 || directions.length === 0) throw new RangeError('bad directions array');
  const n = X.length / d;
  const m = Y.length / d;
  const L = directions.length / d;
  const px = new Float64Array(n);
  const py = new Float64Array(m);
  let s1 = 0;
  let s2 = 0;
  for (let l = 0; l < L; l++) {
    for (let i = 0; i < n; i++) {
      let v = 0;
      for (let k = 0; k < d; k++) v += X[i * d + k]! * directions[l * d + k]!;
      px[i] = v;
    }
    for (let i = 0; i < m; i++) {
      let v = 0;
      for (let k = 0; k < d; k++) v += Y[i * d + k]! * directions[l * d + k]!;
      py[i] = v;
    }
    px.sort();
    py.sort();
    s1 += wassersteinPow1d(px, py, 1);
    s2 += wassersteinPow1d(px, py, 2);
  }
  return { sw1: s1 / L, sw2: Math.sqrt(s2 / L) };
}
