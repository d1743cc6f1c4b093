/**
 * Aggregate metrics over a run x task matrix of normalised scores, as defined by rliable
 * (Agarwal et al. 2021, "Deep RL at the Edge of the Statistical Precipice", NeurIPS;
 * google-research/rliable, rliable/metrics.py and rliable/library.py). docs/report.md states
 * each definition; test/report-metrics.test.ts checks them against values worked out by hand.
 *
 * Scores are held flat: the runs of task 0, then those of task 1, ... (`ScoreTable`), so that the
 * bootstrap (bootstrap.ts) can resample into one preallocated buffer and call these functions
 * without allocating. Tasks may have different numbers of runs; with equal numbers every
 * function equals rliable's on the (runs x tasks) matrix.
 */

/** Normalised scores of one policy: `values[offsets[m] .. offsets[m+1])` are the runs of task m. */
export interface ScoreTable {
  tasks: string[];
  values: Float64Array;
  /** tasks.length + 1 entries, offsets[0] = 0, ascending; every task has >= 1 run. */
  offsets: Int32Array;
}

/** rliable's optimality-gap threshold for scores normalised to 100 (its gamma = 1 on a 0..1 scale). */
export const OPTIMALITY_GAP_THRESHOLD = 100;
/** IQM discards this share of the sorted entries at each end (scipy.stats.trim_mean's proportiontocut). */
export const IQM_TRIM = 0.25;

/** A table from per-task arrays of run scores (the order of `tasks` is kept). */
export function scoreTable(columns: Record<string, ArrayLike<number>> | Map<string, ArrayLike<number>>): ScoreTable {
  const entries = columns instanceof Map ? [...columns.entries()] : Object.entries(columns);
  if (entries.length === 0) throw new RangeError('score table: no tasks');
  const offsets = new Int32Array(entries.length + 1);
  let n = 0;
  for (const [k, [task, col]] of entries.entries()) {
    if (col.length === 0) throw new RangeError(`score table: task ${task} has no runs`);
    n += col.length;
    offsets[k + 1] = n;
  }
  const values = new Float64Array(n);
  for (const [k, [task, col]] of entries.entries()) {
    for (let i = 0; i < col.length; i++) {
      if (!Number.isFinite(col[i])) throw new RangeError(`score table: task ${task} run ${i} is not a finite number`);
      values[offsets[k] + i] = col[i];
    }
  }
  return { tasks: entries.map(([t]) => t), values, offsets };
}

/** Mean over runs of each task, into `out` (length = tasks). */
export function taskMeans(values: Float64Array, offsets: Int32Array, out: Float64Array): Float64Array {
  for (let m = 0; m + 1 < offsets.length; m++) {
    let s = 0;
    for (let i = offsets[m]; i < offsets[m + 1]; i++) s += values[i];
    out[m] = s / (offsets[m + 1] - offsets[m]);
  }
  return out;
}

/** rliable `aggregate_mean`: the mean over tasks of the per-task mean over runs. */
export function aggregateMean(values: Float64Array, offsets: Int32Array, scratchTasks: Float64Array): number {
  const means = taskMeans(values, offsets, scratchTasks);
  let s = 0;
  for (let m = 0; m < offsets.length - 1; m++) s += means[m];
  return s / (offsets.length - 1);
}

/**
 * rliable `aggregate_median`: the median over tasks of the per-task mean over runs (numpy's
 * median: the mean of the two middle values for an even count). Sorts `scratchTasks` in place.
 */
export function aggregateMedian(values: Float64Array, offsets: Int32Array, scratchTasks: Float64Array): number {
  const m = offsets.length - 1;
  const means = taskMeans(values, offsets, scratchTasks).subarray(0, m).sort();
  return m % 2 === 1 ? means[(m - 1) / 2] : 0.5 * (means[m / 2 - 1] + means[m / 2]);
}

/**
 * rliable `aggregate_iqm` = scipy.stats.trim_mean(scores, 0.25, axis=None): over ALL run x task
 * entries flattened, drop floor(0.25 n) of the lowest and as many of the highest, average the
 * rest. (So fewer than 4 entries are not trimmed at all.) Sorts a copy in `scratchAll`.
 */
export function interquartileMean(values: Float64Array, scratchAll: Float64Array): number {
  const n = values.length;
  const sorted = scratchAll.subarray(0, n);
  sorted.set(values);
  sorted.sort();
  const cut = Math.floor(IQM_TRIM * n);
  let s = 0;
  for (let i = cut; i < n - cut; i++) s += sorted[i];
  return s / (n - 2 * cut);
}

/**
 * rliable `aggregate_optimality_gap`: gamma - mean(min(score, gamma)) over all entries: how far
 * the runs fall short of gamma on average, scores above gamma counting as gamma.
 */
export function optimalityGap(values: Float64Array, gamma = OPTIMALITY_GAP_THRESHOLD): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += Math.min(values[i], gamma);
  return gamma - s / values.length;
}

/**
 * rliable `run_score_deviation` (the score distribution, a performance profile's value at tau):
 * the share of all run x task entries whose score is strictly greater than tau.
 */
export function scoreDistribution(values: Float64Array, tau: number): number {
  let above = 0;
  for (let i = 0; i < values.length; i++) if (values[i] > tau) above++;
  return above / values.length;
}

/**
 * rliable `probability_of_improvement` P(X > Y): for each task the Mann-Whitney U statistic of X's
 * runs against Y's divided by n_x * n_y, i.e. the share of run pairs (x, y) with x > y, a tie
 * counting 1/2 (scipy.stats.mannwhitneyu's U with mid-ranks; rliable sets 0.5 when both columns
 * are identical, which this formula gives too); then the mean over tasks. The tables must have
 * the same tasks in the same order.
 */
export function probabilityOfImprovement(x: Float64Array, xOff: Int32Array, y: Float64Array, yOff: Int32Array): number {
  const tasks = xOff.length - 1;
  let total = 0;
  for (let m = 0; m < tasks; m++) {
    let wins = 0;
    for (let i = xOff[m]; i < xOff[m + 1]; i++) {
      const xi = x[i];
      for (let j = yOff[m]; j < yOff[m + 1]; j++) {
        const yj = y[j];
        if (xi > yj) wins += 1;
        else if (xi === yj) wins += 0.5;
      }
    }
    total += wins / ((xOff[m + 1] - xOff[m]) * (yOff[m + 1] - yOff[m]));
  }
  return total / tasks;
}

/** The four aggregate metrics in the order rliable's examples plot them. */
export const AGGREGATE_METRICS = ['median', 'iqm', 'mean', 'optimalityGap'] as const;
export type AggregateMetric = (typeof AGGREGATE_METRICS)[number];

/** Scratch buffers for `aggregateInto`, sized for one table (reused across bootstrap reps). */
export interface AggregateScratch {
  tasks: Float64Array;
  all: Float64Array;
}

export function aggregateScratch(table: ScoreTable): AggregateScratch {
  return { tasks: new Float64Array(table.tasks.length), all: new Float64Array(table.values.length) };
}

/** Writes median, IQM, mean, optimality gap of `values` (laid out by `offsets`) into out[0..3]. */
export function aggregateInto(values: Float64Array, offsets: Int32Array, scratch: AggregateScratch, out: Float64Array): void {
  out[0] = aggregateMedian(values, offsets, scratch.tasks);
  out[1] = interquartileMean(values, scratch.all);
  out[2] = aggregateMean(values, offsets, scratch.tasks);
  out[3] = optimalityGap(values);
}
