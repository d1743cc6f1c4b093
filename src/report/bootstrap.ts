/**
 * Stratified bootstrap confidence intervals, as rliable computes them (rliable/library.py
 * `StratifiedBootstrap`, `StratifiedIndependentBootstrap`, `get_interval_estimates`, on top of
 * arch.bootstrap's `conf_int(method='percentile')`):
 *
 * - one replicate resamples, for every task separately, that task's runs with replacement (as many
 *   draws as it has runs); tasks are never resampled (rliable's default `task_bootstrap=False`);
 * - a statistic is computed on every replicate; the interval is the percentile interval: the
 *   (1-level)/2 and (1+level)/2 quantiles of the replicates, with numpy.percentile's default
 *   linear interpolation;
 * - a statistic of two tables (probability of improvement) resamples each table independently.
 *
 * Reproducible: the draws come from the project's Rng (src/rng.ts) seeded by the caller, so the
 * same seed gives the same interval on every platform. The replicate loop allocates nothing:
 * one resample buffer, typed-array scratch, and one results array of reps x statistics.
 */
import { Rng } from '../rng.js';
import type { ScoreTable } from './metrics.js';

/** rliable's default number of bootstrap replicates (`get_interval_estimates(reps=50000)`). */
export const DEFAULT_BOOTSTRAP_REPS = 50_000;
/** rliable's default interval size. */
export const DEFAULT_CONFIDENCE = 0.95;
/** rliable's default replicates for performance profiles (`create_performance_profile(reps=2000)`). */
export const PROFILE_BOOTSTRAP_REPS = 2_000;

const TWO_POW_32 = 4294967296;

export interface BootstrapOptions {
  reps?: number;
  seed: number;
  /** Interval coverage, e.g. 0.95. */
  level?: number;
}

export interface Interval {
  low: number;
  high: number;
}

/** numpy.percentile(sorted, 100 q) with the default 'linear' method; `sorted` ascending. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = q * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  const frac = pos - lo;
  return frac === 0 ? sorted[lo] : sorted[lo] + (sorted[hi] - sorted[lo]) * frac;
}

/** Draws one stratified replicate of a table into a reused buffer. */
export class StratifiedResampler {
  readonly sample: Float64Array;
  constructor(
    readonly table: ScoreTable,
    private readonly rng: Rng,
  ) {
    this.sample = new Float64Array(table.values.length);
  }

  /** A fresh replicate in `this.sample` (same layout, same offsets as the table). */
  next(): Float64Array {
    const { values, offsets } = this.table;
    const out = this.sample;
    for (let m = 0; m + 1 < offsets.length; m++) {
      const start = offsets[m];
      const n = offsets[m + 1] - start;
      // floor(u32 * n / 2^32): a uniform index in [0, n) up to a bias below n / 2^32.
      for (let i = 0; i < n; i++) out[start + i] = values[start + Math.floor((this.rng.nextUint32() * n) / TWO_POW_32)];
    }
    return out;
  }
}

/** Checks the options and fills in rliable's defaults. */
export function bootstrapSettings(opts: BootstrapOptions): { reps: number; seed: number; level: number } {
  const reps = opts.reps ?? DEFAULT_BOOTSTRAP_REPS;
  const level = opts.level ?? DEFAULT_CONFIDENCE;
  if (!Number.isSafeInteger(reps) || reps < 1) throw new RangeError(`bootstrap reps must be an integer >= 1, got ${String(reps)}`);
  if (!(level > 0 && level < 1)) throw new RangeError(`confidence level must be in (0, 1), got ${String(level)}`);
  return { reps, seed: opts.seed, level };
}

/**
 * Percentile intervals of `k` statistics from `reps` replicates stored row by row in `results`
 * (reps x k). Sorts a column copy per statistic.
 */
export function percentileIntervals(results: Float64Array, reps: number, k: number, level: number): Interval[] {
  const col = new Float64Array(reps);
  const tail = (1 - level) / 2;
  const intervals: Interval[] = [];
  for (let s = 0; s < k; s++) {
    for (let r = 0; r < reps; r++) col[r] = results[r * k + s];
    col.sort();
    intervals.push({ low: quantileSorted(col, tail), high: quantileSorted(col, 1 - tail) });
  }
  return intervals;
}

/**
 * Stratified-bootstrap percentile intervals of `k` statistics of one table. `statistic(values,
 * out)` writes the k statistics of a replicate (laid out like `table.values`, with
 * `table.offsets`) into out[0..k); it is called once on the table itself (the point estimates)
 * and once per replicate.
 */
export function bootstrapTable(
  table: ScoreTable,
  k: number,
  statistic: (values: Float64Array, out: Float64Array) => void,
  opts: BootstrapOptions,
): { point: number[]; intervals: Interval[] } {
  const { reps, seed, level } = bootstrapSettings(opts);
  const out = new Float64Array(k);
  statistic(table.values, out);
  const point = [...out];
  const results = new Float64Array(reps * k);
  const resampler = new StratifiedResampler(table, new Rng(seed));
  for (let r = 0; r < reps; r++) {
    statistic(resampler.next(), results.subarray(r * k, (r + 1) * k));
  }
  return { point, intervals: percentileIntervals(results, reps, k, level) };
}

/**
 * Like bootstrapTable for a statistic of two tables, each resampled independently within each of
 * its tasks (rliable's StratifiedIndependentBootstrap); one statistic.
 */
export function bootstrapPair(
  x: ScoreTable,
  y: ScoreTable,
  statistic: (xs: Float64Array, ys: Float64Array) => number,
  opts: BootstrapOptions,
): { point: number; interval: Interval } {
  const { reps, seed, level } = bootstrapSettings(opts);
  const rng = new Rng(seed);
  const rx = new StratifiedResampler(x, rng);
  const ry = new StratifiedResampler(y, rng);
  const results = new Float64Array(reps);
  for (let r = 0; r < reps; r++) results[r] = statistic(rx.next(), ry.next());
  return { point: statistic(x.values, y.values), interval: percentileIntervals(results, reps, 1, level)[0] };
}
