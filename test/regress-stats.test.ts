/**
 * The regression gate's statistics and decision rule (eval/gate/compare.ts), in process.
 *
 * Reference numbers: worked by hand from the formulas below, and checked with SciPy 1.17.1:
 *   scipy.stats.ttest_ind(new, base, equal_var=False, alternative='less')  -> statistic, pvalue, df
 * Formulas (s = sample std, ddof = 1):
 *   v_b = s_b^2/n_b, v_n = s_n^2/n_n, t = (mean_n - mean_b)/sqrt(v_b + v_n),
 *   df = (v_b + v_n)^2 / (v_b^2/(n_b - 1) + v_n^2/(n_n - 1)), p = P(T_df <= t).
 */
import { describe, expect, it } from 'vitest';
import { baselineFromResult } from '../eval/gate/baseline.js';
import {
  RegressInputError,
  RegressMismatchError,
  type WelchResult,
  checkComparable,
  decide,
  decisionRuleText,
  minimumDetectableDrop,
  regress,
  resolveDecisionOptions,
  welchTTest,
} from '../eval/gate/compare.js';
import { scoresAround, syntheticResult } from './regress-helpers.js';

const range = (a: number, b: number): number[] => Array.from({ length: b - a + 1 }, (_, i) => a + i);

describe('welchTTest (one-sided, H1: new < baseline)', () => {
  it('[1..5] (new) vs [2..6] (baseline): t = -1, df = 8, p = 0.173297', () => {
    // means 3 and 4; s^2 = 2.5 each; v = 2.5/5 = 0.5 each; se = sqrt(1) = 1
    // t = (3 - 4)/1 = -1; df = 1^2 / (0.5^2/4 + 0.5^2/4) = 1/0.125 = 8
    // p = P(T_8 <= -1) = 0.17329675354366708 (scipy)
    const w = welchTTest(range(2, 6), range(1, 5));
    expect(w.meanBaseline).toBe(4);
    expect(w.meanNew).toBe(3);
    expect(w.stdBaseline).toBeCloseTo(Math.sqrt(2.5), 14);
    expect(w.diff).toBe(-1);
    expect(w.se).toBeCloseTo(1, 14);
    expect(w.t).toBeCloseTo(-1, 14);
    expect(w.df).toBeCloseTo(8, 12);
    expect(w.p).toBeCloseTo(0.17329675354366708, 11);
    expect(w.zeroVariance).toBe(false);
  });

  it('the other direction: [2..6] (new) vs [1..5] (baseline): t = +1, p = 1 - 0.173297 = 0.826703', () => {
    const w = welchTTest(range(1, 5), range(2, 6));
    expect(w.t).toBeCloseTo(1, 14);
    expect(w.df).toBeCloseTo(8, 12);
    expect(w.p).toBeCloseTo(0.8267032464563329, 11);
  });

  it('unequal variances and sizes: new [9,10,11] vs baseline [10,12,...,20]', () => {
    // baseline: n 6, mean 15, s^2 = (25+9+1+1+9+25)/5 = 14, v_b = 14/6 = 7/3
    // new:      n 3, mean 10, s^2 = (1+0+1)/2 = 1,          v_n = 1/3
    // t = -5 / sqrt(8/3) = -3.0618621784789726
    // df = (8/3)^2 / ((7/3)^2/5 + (1/3)^2/2) = (64/9) / (103/90) = 640/103 = 6.2135922330097095
    // p = P(T_6.2136 <= -3.06186) = 0.010605094340287521 (scipy)
    const w = welchTTest([10, 12, 14, 16, 18, 20], [9, 10, 11]);
    expect(w.t).toBeCloseTo(-5 / Math.sqrt(8 / 3), 13);
    expect(w.t).toBeCloseTo(-3.0618621784789726, 13);
    expect(w.df).toBeCloseTo(640 / 103, 12);
    expect(w.p).toBeCloseTo(0.010605094340287521, 12);
  });

  it('a clear drop: t = -10.954451, df = 11.986301, p = 6.7021e-8', () => {
    // new [60,62,58,61,59,63,57,60]: mean 60, s^2 = 36/7; baseline [70,71,69,72,68,70]: mean 70, s^2 = 2
    // v_n = 36/56 = 0.642857, v_b = 2/6 = 0.333333; t = -10/sqrt(0.976190) = -10.954451150103322
    // df = 0.976190^2 / (0.642857^2/7 + 0.333333^2/5) = 11.986301369863012; p = 6.702112777316601e-08 (scipy)
    const w = welchTTest([70, 71, 69, 72, 68, 70], [60, 62, 58, 61, 59, 63, 57, 60]);
    expect(w.t).toBeCloseTo(-10.954451150103322, 12);
    expect(w.df).toBeCloseTo(11.986301369863012, 11);
    expect(Math.abs(w.p - 6.702112777316601e-8) / 6.702112777316601e-8).toBeLessThan(1e-8);
  });

  it('one constant sample: df comes from the other sample alone (n - 1)', () => {
    // baseline [50,50,50,50] (v_b = 0), new [50,52,48]: mean 50, t = 0, df = v_n^2/(v_n^2/2) = 2, p = 0.5 (scipy)
    const w = welchTTest([50, 50, 50, 50], [50, 52, 48]);
    expect(w.zeroVariance).toBe(false);
    expect(w.t).toBe(0);
    expect(w.df).toBeCloseTo(2, 12);
    expect(w.p).toBeCloseTo(0.5, 14);
  });

  it('both samples constant (deterministic policy): exact comparison, t = -inf/+inf/0, p = 0/1/0.5, df = n_b + n_n - 2', () => {
    const lower = welchTTest([50, 50, 50], [45, 45, 45, 45]);
    expect(lower).toMatchObject({ zeroVariance: true, t: -Infinity, p: 0, df: 5, se: 0, diff: -5 });
    const higher = welchTTest([50, 50, 50], [55, 55]);
    expect(higher).toMatchObject({ zeroVariance: true, t: Infinity, p: 1, df: 3 });
    const same = welchTTest([50, 50], [50, 50, 50]);
    expect(same).toMatchObject({ zeroVariance: true, t: 0, p: 0.5, df: 3 });
  });

  it('rejects fewer than 2 values and non-finite values', () => {
    expect(() => welchTTest([1], [1, 2])).toThrow(RegressInputError);
    expect(() => welchTTest([1, 2], [3])).toThrow(/at least 2/);
    expect(() => welchTTest([1, NaN], [1, 2])).toThrow(/not a finite number/);
    expect(() => welchTTest([1, 2], [1, Infinity])).toThrow(/not a finite number/);
  });
});

describe('decision rule: regression iff p < alpha AND drop >= min-effect', () => {
  const w = (p: number, diff: number): WelchResult => ({
    nBaseline: 10, nNew: 10, meanBaseline: 50, meanNew: 50 + diff, stdBaseline: 1, stdNew: 1, diff, se: 1, t: diff, df: 18, p, zeroVariance: false,
  });

  it.each([
    // p, diff (new - base), alpha, minEffect, verdict
    [0.001, -5, 0.01, 2, 'regression'], // significant and large
    [0.001, -1, 0.01, 2, 'pass'], // significant but drop < min-effect
    [0.02, -5, 0.01, 2, 'pass'], // large but not significant
    [0.01, -5, 0.01, 2, 'pass'], // p == alpha is not < alpha
    [0.0099, -2, 0.01, 2, 'regression'], // drop == min-effect counts (>=)
    [0.001, -1.9999, 0.01, 2, 'pass'],
    [0.001, -0.5, 0.01, 0, 'regression'], // min-effect 0: the test alone decides
    [0.9, 3, 0.01, 0, 'pass'], // an improvement never fails
  ] as const)('p=%f diff=%f alpha=%f min-effect=%f -> %s', (p, diff, alpha, minEffect, verdict) => {
    const d = decide(w(p, diff), alpha, minEffect);
    expect(d.verdict).toBe(verdict);
    expect(d.drop).toBe(-diff);
    expect(d.significant).toBe(p < alpha);
    expect(d.largeEnough).toBe(-diff >= minEffect);
  });

  it('with real samples: a clear drop regresses, unless the min-effect is larger', () => {
    const t = welchTTest([70, 71, 69, 72, 68, 70], [60, 62, 58, 61, 59, 63, 57, 60]); // drop 10, p 6.7e-8
    expect(decide(t, 0.01, 2).verdict).toBe('regression');
    expect(decide(t, 0.01, 10).verdict).toBe('regression');
    const big = decide(t, 0.01, 10.5);
    expect(big.verdict).toBe('pass');
    expect(big.reason).toMatch(/significant .* but < min-effect 10\.50/);
  });

  it('drop 5 with p = 0.0106: passes at alpha 0.01, regresses at alpha 0.05', () => {
    const t = welchTTest([10, 12, 14, 16, 18, 20], [9, 10, 11]);
    expect(decide(t, 0.01, 2).verdict).toBe('pass');
    expect(decide(t, 0.01, 2).reason).toMatch(/not significant: p = 0\.0106 >= alpha 0\.01/);
    expect(decide(t, 0.05, 2).verdict).toBe('regression');
  });

  it('zero variance: the min-effect decides', () => {
    expect(decide(welchTTest([50, 50, 50], [48.5, 48.5, 48.5]), 0.01, 2).verdict).toBe('pass'); // exact drop 1.5 < 2
    expect(decide(welchTTest([50, 50, 50], [48, 48, 48]), 0.01, 2).verdict).toBe('regression'); // exact drop 2 >= 2
    expect(decide(welchTTest([50, 50, 50], [50, 50, 50]), 0.01, 0).verdict).toBe('pass'); // equal: p = 0.5
  });

  it('bonferroni divides alpha by the number of environments; bad options are rejected', () => {
    expect(resolveDecisionOptions({ alpha: 0.03, correction: 'bonferroni' }, 3).alphaPerTest).toBeCloseTo(0.01, 15);
    expect(resolveDecisionOptions({}, 9)).toEqual({ alpha: 0.01, alphaPerTest: 0.01, minEffect: 2, correction: 'none' });
    expect(() => resolveDecisionOptions({ alpha: 0 }, 1)).toThrow(/alpha must be in \(0, 1\)/);
    expect(() => resolveDecisionOptions({ alpha: 1 }, 1)).toThrow(RegressInputError);
    expect(() => resolveDecisionOptions({ minEffect: -1 }, 1)).toThrow(/min-effect/);
    expect(decisionRuleText(0.01, 2)).toMatch(/REGRESSES if and only if p < alpha = 0\.01 AND drop = \(baseline mean - new mean\) >= min-effect = 2\.00/);
  });
});

describe('minimumDetectableDrop', () => {
  it('(t_{1-alpha,2n-2} + t_{power,2n-2}) * sigma * sqrt(2/n), and the min-effect floor', () => {
    // n 50, sigma 10: SE = 10*sqrt(2/50) = 2; t_{0.99,98} = 2.3650024104869263, t_{0.8,98} = 0.8453043896234149 (scipy)
    // -> (2.3650024 + 0.8453044) * 2 = 6.420613600220682
    expect(minimumDetectableDrop({ n: 50, std: 10, alpha: 0.01, power: 0.8 })).toBeCloseTo(6.420613600220682, 9);
    // decision threshold (power 0.5): 2.3650024 * 2 = 4.730004820973853
    expect(minimumDetectableDrop({ n: 50, std: 10, power: 0.5 })).toBeCloseTo(4.730004820973853, 9);
    // min-effect above the test's threshold: 10 + 0.8453044 * 2
    expect(minimumDetectableDrop({ n: 50, std: 10, minEffect: 10 })).toBeCloseTo(10 + 2 * 0.8453043896234149, 9);
  });
});

describe('checkComparable / regress on result documents', () => {
  const base = baselineFromResult(
    syntheticResult({ scores: { 'hopper-medium-v2': scoresAround(60, 5, 20), 'walker2d-medium-v2': scoresAround(80, 3, 20) } }),
    { source: { kind: 'results', file: 'base.json' } },
  );

  it('passes an unchanged model and fails a clearly worse one, naming the environment', () => {
    const same = regress(base, syntheticResult({ scores: { 'hopper-medium-v2': scoresAround(60, 5, 20), 'walker2d-medium-v2': scoresAround(80, 3, 20) }, seed: 1 }));
    expect(same.passed).toBe(true);
    expect(same.regressions).toEqual([]);
    const worse = regress(base, syntheticResult({ scores: { 'hopper-medium-v2': scoresAround(60, 5, 20), 'walker2d-medium-v2': scoresAround(70, 3, 20) }, seed: 1 }));
    expect(worse.passed).toBe(false);
    expect(worse.regressions).toEqual(['walker2d-medium-v2']);
    const w = worse.envs.find((e) => e.envId === 'walker2d-medium-v2')!;
    expect(w.drop).toBeCloseTo(10, 10);
    expect(w.p).toBeLessThan(1e-10);
    expect(w.ciHalfWidthBaseline).toBeGreaterThan(0);
  });

  it('env order does not matter, the set does', () => {
    const swapped = syntheticResult({ scores: { 'walker2d-medium-v2': scoresAround(80, 3, 20), 'hopper-medium-v2': scoresAround(60, 5, 20) } });
    expect(regress(base, swapped).passed).toBe(true);
    const fewer = syntheticResult({ scores: { 'hopper-medium-v2': scoresAround(60, 5, 20) } });
    expect(() => checkComparable(base, fewer)).toThrow(RegressMismatchError);
    expect(() => checkComparable(base, fewer)).toThrow(/different environment sets.*missing in the new result: walker2d-medium-v2/);
    const other = syntheticResult({ scores: { 'hopper-medium-v2': [1, 2], 'walker2d-medium-v2': [1, 2], 'halfcheetah-medium-v2': [1, 2] } });
    expect(() => checkComparable(base, other)).toThrow(/not in the baseline: halfcheetah-medium-v2/);
  });

  it('different max episode steps is an error; non-D4RL settings need allowNonD4rl', () => {
    const scores = { 'hopper-medium-v2': [1, 2, 3], 'walker2d-medium-v2': [1, 2, 3] };
    expect(() => checkComparable(base, syntheticResult({ scores, maxEpisodeSteps: 500 }))).toThrow(/different max episode steps: baseline 1000, new 500/);
    const short = baselineFromResult(syntheticResult({ scores, maxEpisodeSteps: 500 }), { source: { kind: 'run' } });
    expect(() => checkComparable(short, syntheticResult({ scores, maxEpisodeSteps: 500 }))).toThrow(/not D4RL-comparable.*--allow-non-d4rl/);
    const warnings = checkComparable(short, syntheticResult({ scores, maxEpisodeSteps: 500 }), { allowNonD4rl: true });
    expect(warnings.join('\n')).toMatch(/not D4RL-comparable.*accepted: --allow-non-d4rl/);
    // allowNonD4rl never excuses different horizons
    expect(() => checkComparable(short, syntheticResult({ scores, maxEpisodeSteps: 400 }), { allowNonD4rl: true })).toThrow(/different max episode steps/);
  });

  it('incomplete or sharded new results are refused; version differences are warnings', () => {
    const scores = { 'hopper-medium-v2': [1, 2, 3], 'walker2d-medium-v2': [1, 2, 3] };
    expect(() => checkComparable(base, syntheticResult({ scores, complete: false }))).toThrow(/not complete \(error: synthetic failure\)/);
    const shard = syntheticResult({ scores });
    shard.settings.shard = { index: 0, count: 2 };
    expect(() => checkComparable(base, shard)).toThrow(/shard 0\/2.*merge/);
    const w = checkComparable(base, syntheticResult({ scores, toolVersion: '0.2.0', seed: 0 }));
    expect(w.join('\n')).toMatch(/ofql-eval version differs: baseline 0\.1\.0, new 0\.2\.0/);
    expect(w.join('\n')).toMatch(/same seed \(0\)/);
  });

  it('baselines refuse incomplete, sharded or too small results', () => {
    expect(() => baselineFromResult(syntheticResult({ scores: { 'hopper-medium-v2': [1, 2] }, complete: false }), { source: { kind: 'run' } })).toThrow(/not a complete result/);
    const shard = syntheticResult({ scores: { 'hopper-medium-v2': [1, 2] } });
    shard.settings.shard = { index: 1, count: 2 };
    expect(() => baselineFromResult(shard, { source: { kind: 'run' } })).toThrow(/merge the shards first/);
    expect(() => baselineFromResult(syntheticResult({ scores: { 'hopper-medium-v2': [1] } }), { source: { kind: 'run' } })).toThrow(/at least 2/);
  });
});
