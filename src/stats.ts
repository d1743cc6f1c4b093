/**
 * Small, dependency-free statistics for evaluation summaries.
 *
 * - `sampleStd` is the sample standard deviation with Bessel's correction (ddof = 1), the
 *   estimator of the population spread. (numpy's `np.std` default, used by many D4RL papers,
 *   is ddof = 0; for 150 episodes the two differ by a factor sqrt(150/149) = 1.0034.)
 * - `tQuantile(p, df)` is the inverse CDF of Student's t distribution, computed from the
 *   regularised incomplete beta function (Lentz continued fraction) and refined by Newton steps.
 * - `meanConfidenceInterval` is the two-sided Student t interval
 *   mean +- t_{(1+level)/2, n-1} * s / sqrt(n).
 */

/** Arithmetic mean (NaN for an empty list). Summation in index order: same input -> same bits. */
export function mean(values: ArrayLike<number>): number {
  const n = values.length;
  if (n === 0) return NaN;
  let s = 0;
  for (let i = 0; i < n; i++) s += values[i];
  return s / n;
}

/** Sample standard deviation, ddof = 1 (NaN for fewer than 2 values). Two-pass for accuracy. */
export function sampleStd(values: ArrayLike<number>): number {
  const n = values.length;
  if (n < 2) return NaN;
  const m = mean(values);
  let ss = 0;
  for (let i = 0; i < n; i++) {
    const d = values[i] - m;
    ss += d * d;
  }
  return Math.sqrt(ss / (n - 1));
}

/**
 * Population standard deviation, ddof = 0 (numpy's `np.std` default; NaN for an empty list).
 * Two-pass, like `sampleStd`.
 */
export function populationStd(values: ArrayLike<number>): number {
  const n = values.length;
  if (n === 0) return NaN;
  const m = mean(values);
  let ss = 0;
  for (let i = 0; i < n; i++) {
    const d = values[i] - m;
    ss += d * d;
  }
  return Math.sqrt(ss / n);
}

/** Standard error of the mean, s / sqrt(n) with the ddof = 1 s (NaN for fewer than 2 values). */
export function standardError(values: ArrayLike<number>): number {
  return sampleStd(values) / Math.sqrt(values.length);
}

/** ln Gamma(x) for x > 0 (Lanczos, g = 7, n = 9; ~15 significant digits). */
export function logGamma(x: number): number {
  if (x < 0.5) {
    // Reflection: Gamma(x) Gamma(1-x) = pi / sin(pi x)
    return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  }
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  const xm = x - 1;
  let a = c[0];
  const t = xm + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (xm + i);
  return 0.5 * Math.log(2 * Math.PI) + (xm + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction of the incomplete beta function (modified Lentz). */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const TINY = 1e-300;
  const EPS = 1e-16;
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 10000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < EPS) break;
  }
  return h;
}

/** Regularised incomplete beta function I_x(a, b), 0 <= x <= 1, a, b > 0. */
export function regularizedIncompleteBeta(x: number, a: number, b: number): number {
  if (!(x >= 0 && x <= 1)) throw new RangeError(`x must be in [0, 1], got ${x}`);
  if (!(a > 0 && b > 0)) throw new RangeError(`a and b must be positive, got ${a}, ${b}`);
  if (x === 0 || x === 1) return x;
  const lnFront = logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log1p(-x);
  const front = Math.exp(lnFront);
  if (x < (a + 1) / (a + b + 2)) return (front * betaContinuedFraction(a, b, x)) / a;
  return 1 - (front * betaContinuedFraction(b, a, 1 - x)) / b;
}

/** CDF of Student's t distribution with `df` degrees of freedom (df > 0, may be fractional). */
export function tCdf(t: number, df: number): number {
  if (!(df > 0)) throw new RangeError(`degrees of freedom must be positive, got ${df}`);
  if (Number.isNaN(t)) return NaN;
  if (t === Infinity) return 1;
  if (t === -Infinity) return 0;
  const x = df / (df + t * t);
  const tail = 0.5 * regularizedIncompleteBeta(x, df / 2, 0.5);
  return t > 0 ? 1 - tail : tail;
}

/** Density of Student's t distribution. */
function tPdf(t: number, df: number): number {
  const lnC = logGamma((df + 1) / 2) - logGamma(df / 2) - 0.5 * Math.log(df * Math.PI);
  return Math.exp(lnC - ((df + 1) / 2) * Math.log1p((t * t) / df));
}

/**
 * Quantile (inverse CDF) of Student's t: the t with P(T <= t) = p. Accurate to ~1e-12
 * relative; e.g. tQuantile(0.975, 149) = 1.9760, tQuantile(0.975, 1) = 12.7062.
 */
export function tQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`p must be in (0, 1), got ${p}`);
  if (!(df > 0)) throw new RangeError(`degrees of freedom must be positive, got ${df}`);
  if (p === 0.5) return 0;
  if (p < 0.5) return -tQuantile(1 - p, df);
  // Bracket [0, hi] with CDF(hi) >= p, then bisection to a tight interval, then Newton.
  let lo = 0;
  let hi = 1;
  while (tCdf(hi, df) < p) {
    lo = hi;
    hi *= 2;
    if (hi > 1e300) return Infinity;
  }
  for (let i = 0; i < 60 && hi - lo > 1e-9 * Math.max(1, hi); i++) {
    const mid = 0.5 * (lo + hi);
    if (tCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  let t = 0.5 * (lo + hi);
  for (let i = 0; i < 8; i++) {
    const f = tCdf(t, df) - p;
    const dens = tPdf(t, df);
    if (!(dens > 0)) break;
    const next = t - f / dens;
    if (!(next >= lo && next <= hi)) break;
    if (Math.abs(next - t) <= 1e-15 * Math.abs(t)) {
      t = next;
      break;
    }
    t = next;
  }
  return t;
}

export interface ConfidenceInterval {
  /** Lower bound. */
  low: number;
  /** Upper bound. */
  high: number;
  /** Half-width: t * s / sqrt(n). */
  halfWidth: number;
  /** Confidence level, e.g. 0.95. */
  level: number;
  /** The Student t quantile used, t_{(1+level)/2, n-1}. */
  t: number;
}

/**
 * Two-sided Student t confidence interval of the mean: mean +- t_{(1+level)/2, n-1} s / sqrt(n),
 * s the ddof = 1 sample std. `null` for fewer than 2 values (the interval is undefined).
 */
export function meanConfidenceInterval(values: ArrayLike<number>, level = 0.95): ConfidenceInterval | null {
  if (!(level > 0 && level < 1)) throw new RangeError(`confidence level must be in (0, 1), got ${level}`);
  const n = values.length;
  if (n < 2) return null;
  const m = mean(values);
  const t = tQuantile((1 + level) / 2, n - 1);
  const halfWidth = (t * sampleStd(values)) / Math.sqrt(n);
  return { low: m - halfWidth, high: m + halfWidth, halfWidth, level, t };
}

export interface Describe {
  n: number;
  mean: number;
  /** Sample std, ddof = 1. */
  std: number;
  min: number;
  max: number;
  median: number;
}

/** n, mean, std (ddof = 1), min, max, median. */
export function describe(values: ArrayLike<number>): Describe {
  const n = values.length;
  if (n === 0) return { n: 0, mean: NaN, std: NaN, min: NaN, max: NaN, median: NaN };
  const sorted = Array.from(values).sort((a, b) => a - b);
  const median = n % 2 === 1 ? sorted[(n - 1) / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
  return { n, mean: mean(values), std: sampleStd(values), min: sorted[0], max: sorted[n - 1], median };
}
