import { describe as suite, expect, it } from 'vitest';
import {
  describe,
  logGamma,
  mean,
  meanConfidenceInterval,
  populationStd,
  regularizedIncompleteBeta,
  sampleStd,
  standardError,
  tCdf,
  tQuantile,
} from '../src/stats.js';

suite('tQuantile (Student t inverse CDF)', () => {
  // Reference values: R qt(p, df) / scipy.stats.t.ppf.
  const cases: [number, number, number][] = [
    [0.975, 149, 1.976013177679],
    [0.975, 1, 12.706204736175],
    [0.975, 2, 4.302652729750],
    [0.975, 4, 2.776445105198],
    [0.975, 9, 2.262157162799],
    [0.975, 10, 2.228138851986],
    [0.975, 29, 2.045229642133],
    [0.975, 99, 1.984216951986],
    [0.995, 30, 2.749995653567],
    [0.95, 20, 1.724718242921],
    [0.9, 5, 1.475884048824],
    [0.999, 3, 10.214531852407],
    [0.975, 1e7, 1.959964],
  ];
  for (const [p, df, want] of cases) {
    it(`t_{${p}, ${df}} = ${want}`, () => {
      expect(tQuantile(p, df)).toBeCloseTo(want, 6);
    });
  }

  it('matches scipy.stats.t.ppf to more digits', () => {
    expect(tQuantile(0.975, 1)).toBeCloseTo(12.706204736174694, 8);
    expect(tQuantile(0.975, 3)).toBeCloseTo(3.1824463052837078, 9);
    expect(tQuantile(0.975, 49)).toBeCloseTo(2.0095752371292392, 9);
    expect(tQuantile(0.975, 1e6)).toBeCloseTo(1.959966, 5);
    expect(tQuantile(0.025, 10)).toBeCloseTo(-2.2281388519862753, 9);
  });

  it('is antisymmetric and 0 at the median', () => {
    expect(tQuantile(0.5, 7)).toBe(0);
    expect(tQuantile(0.025, 149)).toBeCloseTo(-1.976013177679, 9);
  });

  it('inverts tCdf', () => {
    for (const df of [1, 3, 17, 149, 1000]) {
      for (const p of [0.6, 0.9, 0.975, 0.999]) expect(tCdf(tQuantile(p, df), df)).toBeCloseTo(p, 11);
    }
  });

  it('rejects p outside (0, 1) and df <= 0', () => {
    expect(() => tQuantile(0, 5)).toThrow(RangeError);
    expect(() => tQuantile(1, 5)).toThrow(RangeError);
    expect(() => tQuantile(0.9, 0)).toThrow(RangeError);
  });
});

suite('special functions', () => {
  it('logGamma matches factorials and Gamma(1/2)', () => {
    expect(logGamma(1)).toBeCloseTo(0, 13);
    expect(logGamma(5)).toBeCloseTo(Math.log(24), 12);
    expect(logGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 12);
    expect(logGamma(101)).toBeCloseTo(363.73937555556347, 9);
  });
  it('regularized incomplete beta: I_x(1,1) = x, symmetry', () => {
    expect(regularizedIncompleteBeta(0.3, 1, 1)).toBeCloseTo(0.3, 14);
    expect(regularizedIncompleteBeta(0.3, 2.5, 4) + regularizedIncompleteBeta(0.7, 4, 2.5)).toBeCloseTo(1, 13);
  });
  it('tCdf with 1 df is the Cauchy CDF', () => {
    for (const t of [-3, -0.5, 0, 1, 10]) expect(tCdf(t, 1)).toBeCloseTo(0.5 + Math.atan(t) / Math.PI, 12);
  });
});

suite('mean, sample std (ddof = 1), confidence interval', () => {
  const xs = [2, 4, 4, 4, 5, 5, 7, 9];
  it('mean and ddof=1 std', () => {
    expect(mean(xs)).toBe(5);
    // population std (ddof=0) is 2; the sample std is 2 * sqrt(8/7).
    expect(sampleStd(xs)).toBeCloseTo(2 * Math.sqrt(8 / 7), 14);
    expect(standardError(xs)).toBeCloseTo((2 * Math.sqrt(8 / 7)) / Math.sqrt(8), 14);
  });
  it('population std (ddof=0)', () => {
    expect(populationStd(xs)).toBeCloseTo(2, 14);
    expect(populationStd([1, 2, 3, 4])).toBeCloseTo(Math.sqrt(1.25), 14);
    expect(populationStd([3])).toBe(0);
    expect(populationStd([])).toBeNaN();
  });
  it('degenerate sizes', () => {
    expect(mean([])).toBeNaN();
    expect(sampleStd([3])).toBeNaN();
    expect(meanConfidenceInterval([3])).toBeNull();
  });
  it('95% CI = mean +- t_{0.975,n-1} s / sqrt(n)', () => {
    const ci = meanConfidenceInterval(xs)!;
    const half = (2.364624251593 * 2 * Math.sqrt(8 / 7)) / Math.sqrt(8); // t_{0.975,7}
    expect(ci.t).toBeCloseTo(2.364624251593, 9);
    expect(ci.low).toBeCloseTo(5 - half, 9);
    expect(ci.high).toBeCloseTo(5 + half, 9);
    expect(ci.halfWidth).toBeCloseTo(half, 9);
    expect(ci.level).toBe(0.95);
  });
  it('150 values use t_{0.975,149} = 1.976', () => {
    const v = Array.from({ length: 150 }, (_, i) => (i * 37) % 101);
    const ci = meanConfidenceInterval(v)!;
    expect(ci.t).toBeCloseTo(1.976013, 5);
    expect(ci.halfWidth).toBeCloseTo((1.976013177679 * sampleStd(v)) / Math.sqrt(150), 8);
  });
  it('describe: min, max, median', () => {
    expect(describe([3, 1, 2])).toMatchObject({ n: 3, min: 1, max: 3, median: 2, mean: 2, std: 1 });
    expect(describe([4, 1, 2, 3]).median).toBe(2.5);
  });
});
