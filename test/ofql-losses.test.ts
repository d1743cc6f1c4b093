/**
 * OFQL loss pieces, update rules, config and backend selection.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../src/ofql/tf.js';
import { initBackend, BackendUnavailableError } from '../src/ofql/tensor-backend.js';
import { Rng } from '../src/rng.js';
import {
  DQL_TASK_HYPERPARAMETERS,
  OFQL_DEFAULTS,
  OfqlConfigError,
  gradNormForTask,
  makeOfqlConfig,
  ofqlConfigForTask,
  validateConfig,
  type OfqlConfig,
} from '../src/ofql/config.js';
import {
  behaviourLoss,
  clipByGlobalNorm,
  criticLoss,
  criticTarget,
  emaAction,
  emaUpdate,
  globalNorm,
  logitNormal,
  maxOverRepeats,
  qLoss,
  sampleTimePairs,
  sigmoid,
  softUpdate,
} from '../src/ofql/losses.js';

beforeAll(async () => {
  await initBackend('wasm');
});

/** Standard normal quantile (Acklam's rational approximation is overkill; bisection on erf). */
function normalQuantile(p: number): number {
  const cdf = (x: number) => 0.5 * (1 + erf(x / Math.SQRT2));
  let lo = -10;
  let hi = 10;
  for (let i = 0; i < 100; i++) {
    const mid = (lo + hi) / 2;
    if (cdf(mid) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}
function erf(x: number): number {
  // Abramowitz-Stegun 7.1.26 (|error| < 1.5e-7)
  const s = Math.sign(x);
  const a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-a * a);
  return s * y;
}
function median(xs: ArrayLike<number>): number {
  const a = Array.from(xs).sort((p, q) => p - q);
  return a.length % 2 ? a[(a.length - 1) / 2]! : (a[a.length / 2 - 1]! + a[a.length / 2]!) / 2;
}

describe('(t, r) sampler', () => {
  const cfg = { logitNormalMean: -0.4, logitNormalStd: 1.0, flowRatio: 0.5, flowRatioSampling: 'fixed-count' as const };

  it('logit-normal draws have median sigmoid(mean)', () => {
    const rng = new Rng(1);
    const xs = Float64Array.from({ length: 20000 }, () => logitNormal(rng, -0.4, 1.0));
    expect(median(xs)).toBeCloseTo(sigmoid(-0.4), 2);
    expect(Math.min(...xs)).toBeGreaterThan(0);
    expect(Math.max(...xs)).toBeLessThan(1);
  });

  it('r <= t always, exactly round(0.5 B) pairs with r = t, medians as predicted', () => {
    const rng = new Rng(2);
    const ts: number[] = [];
    const rsFree: number[] = [];
    for (let k = 0; k < 40; k++) {
      const B = 256;
      const { t, r, isFlow } = sampleTimePairs(rng, B, cfg);
      let eq = 0;
      for (let i = 0; i < B; i++) {
        expect(r[i]).toBeLessThanOrEqual(t[i]!);
        expect(t[i]).toBeGreaterThan(0);
        expect(t[i]).toBeLessThan(1);
        if (isFlow[i]) {
          expect(r[i]).toBe(t[i]);
          eq++;
        } else rsFree.push(r[i]!);
        ts.push(t[i]!);
      }
      expect(eq).toBe(128);
    }
    // t = max of two iid logit-normals: P(t <= m) = F(m)^2 = 1/2 -> m = sigmoid(mu + sigma * z_{sqrt(1/2)}).
    // (NOT sigmoid(-0.4): that is the median of one draw, checked above.)
    const z = normalQuantile(Math.SQRT1_2);
    expect(median(ts)).toBeCloseTo(sigmoid(-0.4 + z), 2);
    // r (where not reset to t) = min of the two: median sigmoid(mu - sigma * z).
    expect(median(rsFree)).toBeCloseTo(sigmoid(-0.4 - z), 2);
  });

  it('bernoulli mode: fraction of r = t ~ flowRatio', () => {
    const rng = new Rng(3);
    let eq = 0;
    const N = 20000;
    const { isFlow, r, t } = sampleTimePairs(rng, N, { ...cfg, flowRatio: 0.3, flowRatioSampling: 'bernoulli' });
    for (let i = 0; i < N; i++) {
      eq += isFlow[i]!;
      expect(r[i]).toBeLessThanOrEqual(t[i]!);
    }
    expect(eq / N).toBeGreaterThan(0.28);
    expect(eq / N).toBeLessThan(0.32);
  });

  it('flowRatio 0 and 1 are the two extremes', () => {
    const rng = new Rng(4);
    const a = sampleTimePairs(rng, 64, { ...cfg, flowRatio: 0 });
    expect(a.isFlow.every((x) => x === 0)).toBe(true);
    const b = sampleTimePairs(rng, 64, { ...cfg, flowRatio: 1 });
    expect(Array.from(b.r)).toEqual(Array.from(b.t));
  });

  it('same Rng seed -> same pairs', () => {
    const a = sampleTimePairs(new Rng(5), 32, cfg);
    const b = sampleTimePairs(new Rng(5), 32, cfg);
    expect(Array.from(a.t)).toEqual(Array.from(b.t));
    expect(Array.from(a.r)).toEqual(Array.from(b.r));
  });
});

describe('losses', () => {
  it('critic target with not_done = 0 equals the reward; otherwise r + gamma min(Q1, Q2)', () => {
    const reward = tf.tensor2d([[1.5], [-2], [0.25]]);
    const q1 = tf.tensor2d([[10], [3], [-1]]);
    const q2 = tf.tensor2d([[7], [4], [-3]]);
    const y0 = criticTarget(reward, tf.zeros([3, 1]), q1, q2, 0.99).dataSync();
    expect(Array.from(y0)).toEqual(Array.from(reward.dataSync()));
    const y1 = criticTarget(reward, tf.ones([3, 1]), q1, q2, 0.99).dataSync();
    expect(y1[0]).toBeCloseTo(1.5 + 0.99 * 7, 5);
    expect(y1[1]).toBeCloseTo(-2 + 0.99 * 3, 5);
    expect(y1[2]).toBeCloseTo(0.25 + 0.99 * -3, 5);
  });

  it('critic loss = MSE(Q1) + MSE(Q2)', () => {
    const y = tf.tensor2d([[1], [2]]);
    const l = criticLoss(tf.tensor2d([[2], [2]]), tf.tensor2d([[1], [5]]), y).dataSync()[0];
    expect(l).toBeCloseTo((1 + 0) / 2 + (0 + 9) / 2, 6);
  });

  it('max-Q backup takes the max over each group of consecutive repeats', () => {
    const q = tf.tensor2d([[1], [5], [2], [-1], [-3], [-2]]);
    expect(Array.from(maxOverRepeats(q, 2, 3).dataSync())).toEqual([5, -1]);
  });

  it('behaviour loss reductions', () => {
    const u = tf.tensor2d([
      [1, 2],
      [3, 4],
    ]);
    const tgt = tf.tensor2d([
      [0, 0],
      [0, 0],
    ]);
    expect(behaviourLoss(u, tgt, 'mean').dataSync()[0]).toBeCloseTo(30 / 4, 6);
    expect(behaviourLoss(u, tgt, 'sum-action-mean-batch').dataSync()[0]).toBeCloseTo(30 / 2, 6);
  });

  it('q loss = -mean(Qa) / mean|Qb| with the denominator carrying no gradient', () => {
    const qa = tf.tensor2d([[2], [4]]);
    expect(qLoss(qa, 3).dataSync()[0]).toBeCloseTo(-1, 6);
    const g = tf.grad((x: tf.Tensor) => qLoss(x, 3))(qa).dataSync();
    expect(g[0]).toBeCloseTo(-1 / (2 * 3), 6);
  });
});

describe('updates', () => {
  it('global-norm clipping caps the norm (torch clip_grad_norm_ semantics) and reports the pre-clip norm', () => {
    const g = [tf.tensor1d([3, 0]), tf.tensor2d([[0, 4]])]; // norm 5
    const { grads, norm } = clipByGlobalNorm(g, 1);
    expect(norm).toBeCloseTo(5, 5);
    expect(globalNorm(grads)).toBeCloseTo(1, 5);
    expect(Array.from(grads[0]!.dataSync())[0]).toBeCloseTo(3 / (5 + 1e-6), 6);
    // no clipping when under the cap, or when gn is 0 / undefined
    const h = [tf.tensor1d([0.3, 0.4])];
    expect(clipByGlobalNorm(h, 1).grads[0]).toBe(h[0]);
    expect(clipByGlobalNorm(h, 0).grads[0]).toBe(h[0]);
    expect(clipByGlobalNorm(h, undefined).norm).toBeCloseTo(0.5, 6);
  });

  it('soft update: target <- tau * source + (1 - tau) * target', () => {
    const target = tf.variable(tf.tensor1d([1, 2, 3]));
    const source = tf.tensor1d([11, -2, 3]);
    softUpdate([target], [source], 0.005);
    const v = target.dataSync();
    expect(v[0]).toBeCloseTo(0.005 * 11 + 0.995 * 1, 6);
    expect(v[1]).toBeCloseTo(0.005 * -2 + 0.995 * 2, 6);
    expect(v[2]).toBeCloseTo(3, 6);
  });

  it('EMA update: ema <- decay * ema + (1 - decay) * model', () => {
    const ema = tf.variable(tf.tensor1d([1, 0]));
    emaUpdate([ema], [tf.tensor1d([0, 1])], 0.995);
    expect(ema.dataSync()[0]).toBeCloseTo(0.995, 6);
    expect(ema.dataSync()[1]).toBeCloseTo(0.005, 6);
  });

  it('EMA schedule = DQL: every 5 steps from step 1000, nothing (or copy) before', () => {
    const cfg = { emaEvery: 5, emaStartStep: 1000, emaWarmup: 'hold-initial' as const };
    const updates: number[] = [];
    for (let s = 0; s < 1021; s++) {
      const a = emaAction(s, cfg);
      if (a === 'update') updates.push(s);
      expect(a).not.toBe('copy');
    }
    expect(updates).toEqual([1000, 1005, 1010, 1015, 1020]);
    const copy = { ...cfg, emaWarmup: 'copy' as const };
    expect(emaAction(0, copy)).toBe('copy');
    expect(emaAction(995, copy)).toBe('copy');
    expect(emaAction(996, copy)).toBe('none');
    expect(emaAction(1000, copy)).toBe('update');
  });
});

describe('config', () => {
  it('defaults are the paper / DQL values', () => {
    const c = makeOfqlConfig({ obsDim: 17, actDim: 6 });
    expect(c).toMatchObject({
      hiddenDim: 256,
      depth: 3,
      timeEmbDim: 64, // the OFQL paper's appendix B (DQL: 16, --preset dql)
      discount: 0.99,
      tau: 0.005,
      actorLr: 3e-4,
      criticLr: 3e-4,
      batchSize: 256,
      emaDecay: 0.995,
      emaEvery: 5,
      emaStartStep: 1000,
      eta: 0.01, // from the OFQL paper's grid (DQL: 1.0, --preset dql)
      logitNormalMean: -0.4,
      logitNormalStd: 1.0,
      flowRatio: 0.5,
      maxQBackup: false,
      maxQBackupSamples: 10,
      maxAction: 1.0,
    });
    expect(OFQL_DEFAULTS.gradNorm).toBeUndefined();
  });

  it('per-task gn equals docs/reference.md §4, and the task config uses DQL\'s row', () => {
    const gn: Record<string, number> = {
      'halfcheetah-medium-v2': 9,
      'halfcheetah-medium-replay-v2': 2,
      'halfcheetah-medium-expert-v2': 7,
      'hopper-medium-v2': 9,
      'hopper-medium-replay-v2': 4,
      'hopper-medium-expert-v2': 5,
      'walker2d-medium-v2': 1,
      'walker2d-medium-replay-v2': 4,
      'walker2d-medium-expert-v2': 5,
    };
    for (const [id, v] of Object.entries(gn)) expect(gradNormForTask(id)).toBe(v);
    expect(gradNormForTask('Hopper-Medium-Replay-V2')).toBe(4);
    const c = ofqlConfigForTask('antmaze-medium-play-v0', { obsDim: 29, actDim: 8 }, {}, 'dql');
    expect(c).toMatchObject({ actorLr: 1e-3, criticLr: 3e-4, eta: 2.0, gradNorm: 2.0, maxQBackup: true, timeEmbDim: 16 });
    // The OFQL paper's values where it differs from DQL: time embedding 64, eta from its grid.
    const o = ofqlConfigForTask('antmaze-medium-play-v0', { obsDim: 29, actDim: 8 });
    expect(o).toMatchObject({ actorLr: 1e-3, eta: 0.01, gradNorm: 2.0, maxQBackup: true, timeEmbDim: 64 });
    expect([0.001, 0.01, 0.1, 0.3, 0.5]).toContain(o.eta);
    expect(ofqlConfigForTask('hopper-medium-v2', { obsDim: 11, actDim: 3 }, { eta: 0.3 }, 'dql')).toMatchObject({ eta: 0.3, timeEmbDim: 16 });
    expect(Object.keys(DQL_TASK_HYPERPARAMETERS)).toHaveLength(20);
    expect(() => gradNormForTask('hopper-random-v2')).toThrow(/no DQL hyper-parameters for 'hopper-random-v2'; known ids: .*hopper-medium-v2/);
  });

  it('validateConfig names the offending field', () => {
    const good = makeOfqlConfig({ obsDim: 3, actDim: 2 });
    const bad = (patch: Partial<OfqlConfig>) => () => validateConfig({ ...good, ...patch });
    expect(bad({ obsDim: 0 })).toThrow(OfqlConfigError);
    expect(bad({ obsDim: 0 })).toThrow(/OfqlConfig\.obsDim: must be a positive integer, got 0/);
    expect(bad({ hiddenDim: 2.5 })).toThrow(/OfqlConfig\.hiddenDim/);
    expect(bad({ timeEmbDim: 7 })).toThrow(/OfqlConfig\.timeEmbDim: must be even/);
    expect(bad({ discount: 1.5 })).toThrow(/OfqlConfig\.discount: must be in \[0, 1\], got 1.5/);
    expect(bad({ flowRatio: -0.1 })).toThrow(/OfqlConfig\.flowRatio/);
    expect(bad({ logitNormalStd: 0 })).toThrow(/OfqlConfig\.logitNormalStd/);
    expect(bad({ gradNorm: Number.NaN })).toThrow(/OfqlConfig\.gradNorm: must be a finite number/);
    expect(bad({ flowRatioSampling: 'half' as never })).toThrow(/OfqlConfig\.flowRatioSampling: must be one of fixed-count, bernoulli/);
    expect(bad({ actorLr: 0 })).toThrow(/OfqlConfig\.actorLr/);
    expect(bad({ gradNorm: 0 })).not.toThrow();
  });
});

describe('backend selection', () => {
  it("'tensorflow' without tfjs-node installed fails with install advice", async () => {
    const err = await initBackend('tensorflow').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendUnavailableError);
    expect(String((err as Error).message)).toMatch(/npm install @tensorflow\/tfjs-node@4\.22\.0/);
    expect(String((err as Error).message)).toMatch(/tfjs-node-gpu/);
    expect(tf.getBackend()).toBe('wasm'); // unchanged
  });

  it('wasm and cpu initialise; unknown names are refused', async () => {
    expect((await initBackend('cpu')).name).toBe('cpu');
    expect((await initBackend()).name).toBe('wasm');
    await expect(initBackend('webgpu' as never)).rejects.toThrow(/unknown backend 'webgpu'/);
  });
});
