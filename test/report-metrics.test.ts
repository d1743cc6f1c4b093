import { describe, expect, it } from 'vitest';
import {
  aggregateInto,
  aggregateMean,
  aggregateMedian,
  aggregateScratch,
  interquartileMean,
  optimalityGap,
  probabilityOfImprovement,
  scoreDistribution,
  scoreTable,
} from '../src/report/metrics.js';
import { StratifiedResampler, bootstrapPair, bootstrapTable, quantileSorted } from '../src/report/bootstrap.js';
import { Rng } from '../src/rng.js';

// 3 runs x 2 tasks. Task A runs 10, 20, 30 (mean 20); task B runs 40, 50, 200 (mean 96.667).
const T = scoreTable({ A: [10, 20, 30], B: [40, 50, 200] });
const scratch = aggregateScratch(T);

describe('aggregate metrics (rliable definitions, values worked out by hand)', () => {
  it('mean and median are of the per-task means', () => {
    expect(aggregateMean(T.values, T.offsets, scratch.tasks)).toBeCloseTo((20 + 290 / 3) / 2, 12);
    // Two tasks: numpy's median is the mean of the two task means.
    expect(aggregateMedian(T.values, T.offsets, scratch.tasks)).toBeCloseTo((20 + 290 / 3) / 2, 12);
    const odd = scoreTable({ a: [5, 5], b: [1], c: [2, 4] }); // task means 5, 1, 3 -> median 3
    expect(aggregateMedian(odd.values, odd.offsets, new Float64Array(3))).toBe(3);
    const four = scoreTable({ a: [4], b: [1], c: [3], d: [2] }); // means 1..4 -> (2 + 3) / 2
    expect(aggregateMedian(four.values, four.offsets, new Float64Array(4))).toBe(2.5);
  });

  it('IQM trims floor(n/4) entries of the flattened matrix at each end', () => {
    // sorted 10 20 30 40 50 200, cut 1 -> mean(20, 30, 40, 50) = 35
    expect(interquartileMean(T.values, scratch.all)).toBe(35);
    // 8 entries, cut 2: sorted 0 1 2 3 4 5 6 100 -> mean(2, 3, 4, 5) = 3.5
    const eight = scoreTable({ a: [100, 0, 6, 1], b: [5, 2, 4, 3] });
    expect(interquartileMean(eight.values, new Float64Array(8))).toBe(3.5);
    // 3 entries: floor(0.75) = 0, nothing trimmed (scipy.stats.trim_mean)
    const three = scoreTable({ a: [1, 2, 9] });
    expect(interquartileMean(three.values, new Float64Array(3))).toBe(4);
    // ties at the cut: sorted 1 1 1 1 5, cut 1 -> mean(1, 1, 1) = 1
    const ties = scoreTable({ a: [1, 5, 1], b: [1, 1] });
    expect(interquartileMean(ties.values, new Float64Array(5))).toBe(1);
  });

  it('optimality gap clips at 100', () => {
    // min(., 100): 10 20 30 40 50 100 -> mean 250/6; gap = 100 - 41.667
    expect(optimalityGap(T.values)).toBeCloseTo(100 - 250 / 6, 12);
    expect(optimalityGap(new Float64Array([150, 120]))).toBe(0);
    expect(optimalityGap(new Float64Array([0.5, 1.5]), 1)).toBe(0.25);
  });

  it('score distribution counts scores strictly above tau', () => {
    expect(scoreDistribution(T.values, 30)).toBe(0.5); // 40, 50, 200
    expect(scoreDistribution(T.values, 9.99)).toBe(1);
    expect(scoreDistribution(T.values, 10)).toBeCloseTo(5 / 6, 15);
    expect(scoreDistribution(T.values, 200)).toBe(0);
  });

  it('probability of improvement counts ties as 1/2 and averages tasks', () => {
    const x = scoreTable({ A: [1, 2], B: [5] });
    const y = scoreTable({ A: [2, 3], B: [5] });
    // A: pairs (1,2) 0, (1,3) 0, (2,2) 1/2, (2,3) 0 -> 1/8; B: identical columns -> 1/2
    expect(probabilityOfImprovement(x.values, x.offsets, y.values, y.offsets)).toBe((1 / 8 + 1 / 2) / 2);
    expect(probabilityOfImprovement(y.values, y.offsets, x.values, x.offsets)).toBe((7 / 8 + 1 / 2) / 2);
    // different run counts: 3 against 1, 2, 3 -> (1 + 1 + 1/2) / 3
    const a = scoreTable({ t: [3] });
    const b = scoreTable({ t: [1, 2, 3] });
    expect(probabilityOfImprovement(a.values, a.offsets, b.values, b.offsets)).toBeCloseTo(2.5 / 3, 15);
  });

  it('aggregateInto writes median, IQM, mean, optimality gap in that order', () => {
    const out = new Float64Array(4);
    aggregateInto(T.values, T.offsets, scratch, out);
    expect([...out]).toEqual([
      aggregateMedian(T.values, T.offsets, new Float64Array(2)),
      35,
      aggregateMean(T.values, T.offsets, new Float64Array(2)),
      optimalityGap(T.values),
    ]);
  });

  it('refuses empty tasks and non-finite scores', () => {
    expect(() => scoreTable({ a: [] })).toThrow(/task a has no runs/);
    expect(() => scoreTable({ a: [1, NaN] })).toThrow(/task a run 1 is not a finite number/);
  });
});

describe('stratified bootstrap', () => {
  it('quantiles interpolate linearly like numpy.percentile', () => {
    expect(quantileSorted([1, 2, 3, 4], 0.025)).toBeCloseTo(1.075, 12);
    expect(quantileSorted([1, 2, 3, 4], 0.975)).toBeCloseTo(3.925, 12);
    expect(quantileSorted([7], 0.975)).toBe(7);
    expect(quantileSorted([1, 2, 3], 0.5)).toBe(2);
  });

  it('resamples runs within each task only, about uniformly', () => {
    const t = scoreTable({ A: [1, 2, 3], B: [100, 200] });
    const rs = new StratifiedResampler(t, new Rng(1));
    const counts = new Map<number, number>();
    for (let r = 0; r < 30000; r++) {
      const s = rs.next();
      for (let i = 0; i < 3; i++) expect([1, 2, 3]).toContain(s[i]);
      for (let i = 3; i < 5; i++) expect([100, 200]).toContain(s[i]);
      for (const v of s) counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    for (const v of [1, 2, 3]) expect(counts.get(v)! / 90000).toBeCloseTo(1 / 3, 2);
    for (const v of [100, 200]) expect(counts.get(v)! / 60000).toBeCloseTo(1 / 2, 2);
  });

  it('two runs: the mean of a replicate is 0, 1/2 or 1 with probabilities 1/4, 1/2, 1/4', () => {
    const t = scoreTable({ A: [0, 1] });
    const { point, intervals } = bootstrapTable(t, 1, (v, out) => (out[0] = (v[0] + v[1]) / 2), { seed: 3, reps: 20000 });
    expect(point).toEqual([0.5]);
    // P(0) = 1/4 > 2.5 %: both percentile ends sit on the extreme values.
    expect(intervals[0]).toEqual({ low: 0, high: 1 });
    const narrow = bootstrapTable(t, 1, (v, out) => (out[0] = (v[0] + v[1]) / 2), { seed: 3, reps: 20000, level: 0.4 });
    // the 30 % and 70 % quantiles both fall in the 1/2 mass
    expect(narrow.intervals[0]).toEqual({ low: 0.5, high: 0.5 });
  });

  it('a single run per task gives a zero-width interval at the point estimate', () => {
    const t = scoreTable({ A: [42], B: [7] });
    const s = aggregateScratch(t);
    const { point, intervals } = bootstrapTable(t, 4, (v, out) => aggregateInto(v, t.offsets, s, out), { seed: 0, reps: 100 });
    expect(point[2]).toBe(24.5);
    for (let k = 0; k < 4; k++) expect(intervals[k]).toEqual({ low: point[k], high: point[k] });
  });

  it('is reproducible for a seed and changes with it', () => {
    const run = (seed: number) => bootstrapTable(T, 4, (v, out) => aggregateInto(v, T.offsets, scratch, out), { seed, reps: 2000 });
    expect(run(5)).toEqual(run(5));
    expect(run(5).intervals).not.toEqual(run(6).intervals);
    const iv = run(5).intervals[2];
    // mean of task means: each task mean lies within its runs' range
    expect(iv.low).toBeGreaterThanOrEqual((10 + 40) / 2);
    expect(iv.high).toBeLessThanOrEqual((30 + 200) / 2);
    expect(iv.low).toBeLessThan(iv.high);
  });

  it('probability of improvement: clearly separated policies give 1 with a [1, 1] interval', () => {
    const x = scoreTable({ A: [10, 11, 12], B: [5, 6] });
    const y = scoreTable({ A: [1, 2], B: [0, 1, 2] });
    const r = bootstrapPair(x, y, (a, b) => probabilityOfImprovement(a, x.offsets, b, y.offsets), { seed: 0, reps: 500 });
    expect(r).toEqual({ point: 1, interval: { low: 1, high: 1 } });
    const tie = bootstrapPair(x, x, (a, b) => probabilityOfImprovement(a, x.offsets, b, x.offsets), { seed: 0, reps: 2000 });
    expect(tie.point).toBe(0.5);
    expect(tie.interval.low).toBeLessThan(0.5);
    expect(tie.interval.high).toBeGreaterThan(0.5);
  });

  it('refuses bad settings', () => {
    expect(() => bootstrapTable(T, 1, () => {}, { seed: 0, reps: 0 })).toThrow(/reps must be an integer >= 1/);
    expect(() => bootstrapTable(T, 1, () => {}, { seed: 0, level: 1 })).toThrow(/confidence level/);
  });
});
