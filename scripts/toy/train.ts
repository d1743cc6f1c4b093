/**
 * Unconditional 2-D training of the OFQL actor network for the toy study (paper appendix C),
 * built only from src/ofql's blocks -- no new network code:
 *   - network: `initActor` / `actorForward` (networks.ts), the DQL-style MLP with two sinusoidal
 *     time embeddings (t and r), here with obsDim = 0 (no state: a [B, 0] tensor is concatenated),
 *     actDim = 2, hidden 64, depth 3, Mish;
 *   - (t, r): `sampleTimePairs` (losses.ts): two logit-normal(mean, std) draws sorted so r <= t,
 *     then a `flowRatio` fraction of the batch gets r = t;
 *   - target: `meanFlowTarget` (losses.ts) u_tgt = v - (t - r) (v . d_a u + d_t u) with the exact
 *     hand-written JVP `actorJvp`, stop-gradient; loss: `behaviourLoss` ('mean' reduction);
 *   - one-step sampling: `oneStepAction` a = eps - u(eps, 0, 1).
 *
 * Two models per dataset:
 *   'average'  (u): MeanFlow loss, flow ratio 0.5 (OFQL);
 *   'marginal' (v): the same network and loss with flow ratio 1.0, i.e. r = t for every sample, so
 *                   u_tgt = v exactly and the network learns the marginal velocity v(a_t, t) =
 *                   u(a_t, t, t). The JVP term is multiplied by t - r = 0, so it is skipped
 *                   (mathematically identical, and half the cost).
 * Time convention (docs/reference.md §5): a_t = (1 - t) a + t eps, t = 0 data, t = 1 noise.
 */
import { tf } from '../../src/ofql/tf.js';
import { Rng, deriveSeed } from '../../src/rng.js';
import { initActor, actorForward, actorNamedParams, oneStepAction, type ActorVars } from '../../src/ofql/networks.js';
import { behaviourLoss, meanFlowTarget, normals, sampleTimePairs } from '../../src/ofql/losses.js';

type Tensor = tf.Tensor;

export type ToyModelKind = 'average' | 'marginal';

export interface ToyTrainOptions {
  kind: ToyModelKind;
  /** Training set, row-major [N * 2]; N must be a multiple of batchSize (one epoch = N / batchSize batches). */
  data: Float32Array;
  epochs: number;
  batchSize: number;
  /** Adam learning rate. */
  lr: number;
  /** Seed of the network initialisation (use the same for u and v to start both from one net). */
  initSeed: number;
  /** Seed of the training stream (shuffles, (t, r), noise). */
  trainSeed: number;
  hiddenDim?: number;
  depth?: number;
  timeEmbDim?: number;
  logitNormalMean?: number;
  logitNormalStd?: number;
  /** Fraction with r = t; default 0.5 for 'average'; forced to 1 for 'marginal'. */
  flowRatio?: number;
  /** Called after every epoch with the epoch index and the mean loss over its batches. */
  onEpoch?: (epoch: number, meanLoss: number) => void;
}

export interface ToyModel {
  kind: ToyModelKind;
  actor: ActorVars;
  /** Mean loss of every epoch. */
  epochLoss: number[];
  steps: number;
  trainSeconds: number;
  dispose(): void;
}

export const TOY_NET = { obsDim: 0, actDim: 2, hiddenDim: 64, depth: 3, timeEmbDim: 16, timeScale: 1 } as const;

/** Fresh actor for the toy (obsDim 0, actDim 2). */
export function initToyActor(seed: number, o: Pick<ToyTrainOptions, 'hiddenDim' | 'depth' | 'timeEmbDim'> = {}): ActorVars {
  return initActor(
    {
      ...TOY_NET,
      hiddenDim: o.hiddenDim ?? TOY_NET.hiddenDim,
      depth: o.depth ?? TOY_NET.depth,
      timeEmbDim: o.timeEmbDim ?? TOY_NET.timeEmbDim,
    },
    new Rng(seed),
  );
}

/**
 * The toy loss on batch `a` ([B, 2]) for given (t, r) ([B, 1]) and noise eps ([B, 2]), as a closure
 * for tf.variableGrads. `useJvp` true: the OFQL/MeanFlow loss via meanFlowTarget (exact JVP,
 * computed now, outside the closure = stop-gradient). `useJvp` false (only valid when r = t
 * everywhere): the flow-matching loss || u(a_t, t, t) - (eps - a) ||^2, which is what the MeanFlow
 * target reduces to when t - r = 0. Tensors created here are the caller's to dispose (use tidy).
 */
export function toyLoss(actor: ActorVars, a: Tensor, t: Tensor, r: Tensor, eps: Tensor, useJvp: boolean): () => tf.Scalar {
  const B = a.shape[0] as number;
  const s = tf.zeros([B, 0]);
  let at: Tensor;
  let uTgt: Tensor;
  if (useJvp) {
    const tgt = meanFlowTarget(actor, a, eps, t, r, s);
    at = tgt.at;
    uTgt = tgt.uTgt;
  } else {
    at = tf.add(tf.mul(tf.sub(1, t), a), tf.mul(t, eps));
    uTgt = tf.sub(eps, a);
  }
  return () => behaviourLoss(actorForward(actor, at, r, t, s), uTgt, 'mean');
}

/**
 * One gradient step of the toy loss on batch `a` ([B, 2] tensor); returns the loss value.
 * 'average': flow ratio cfg.flowRatio with the exact-JVP MeanFlow target. 'marginal': flow ratio 1
 * (all r = t), so the JVP term vanishes and is skipped.
 */
export function toyTrainStep(
  actor: ActorVars,
  vars: tf.Variable[],
  opt: tf.Optimizer,
  a: Tensor,
  rng: Rng,
  cfg: { kind: ToyModelKind; logitNormalMean: number; logitNormalStd: number; flowRatio: number },
): number {
  const B = a.shape[0] as number;
  const A = a.shape[1] as number;
  const flowRatio = cfg.kind === 'marginal' ? 1 : cfg.flowRatio;
  const pairs = sampleTimePairs(rng, B, {
    logitNormalMean: cfg.logitNormalMean,
    logitNormalStd: cfg.logitNormalStd,
    flowRatio,
    flowRatioSampling: 'fixed-count',
  });
  const epsArr = normals(rng, B * A);
  return tf.tidy(() => {
    const t = tf.tensor2d(pairs.t, [B, 1]);
    const r = tf.tensor2d(pairs.r, [B, 1]);
    const eps = tf.tensor2d(epsArr, [B, A]);
    const { value, grads } = tf.variableGrads(toyLoss(actor, a, t, r, eps, flowRatio !== 1), vars);
    opt.applyGradients(grads);
    return value.dataSync()[0]!;
  });
}

/** Train one toy model. All randomness from `trainSeed`; the init from `initSeed`. */
export function trainToyModel(o: ToyTrainOptions): ToyModel {
  const N = o.data.length / 2;
  if (!Number.isInteger(N) || N === 0 || N % o.batchSize !== 0) {
    throw new RangeError(`training set of ${N} points is not a positive multiple of batchSize ${o.batchSize}`);
  }
  const batches = N / o.batchSize;
  const actor = initToyActor(o.initSeed, o);
  const vars = actorNamedParams('actor', actor).map(([, v]) => v as tf.Variable);
  // PyTorch Adam defaults (betas 0.9, 0.999, eps 1e-8).
  const opt = tf.train.adam(o.lr, 0.9, 0.999, 1e-8);
  const rng = new Rng(o.trainSeed);
  const cfg = {
    kind: o.kind,
    logitNormalMean: o.logitNormalMean ?? -0.4,
    logitNormalStd: o.logitNormalStd ?? 1.0,
    flowRatio: o.flowRatio ?? 0.5,
  };
  const perm = Uint32Array.from({ length: N }, (_, i) => i);
  const batch = new Float32Array(o.batchSize * 2);
  const epochLoss: number[] = [];
  const t0 = performance.now();
  let steps = 0;
  for (let e = 0; e < o.epochs; e++) {
    // Fisher-Yates reshuffle of the fixed training set every epoch.
    for (let i = N - 1; i > 0; i--) {
      const j = Math.floor(rng.random() * (i + 1));
      const tmp = perm[i]!;
      perm[i] = perm[j]!;
      perm[j] = tmp;
    }
    let sum = 0;
    for (let b = 0; b < batches; b++) {
      for (let i = 0; i < o.batchSize; i++) {
        const k = perm[b * o.batchSize + i]!;
        batch[2 * i] = o.data[2 * k]!;
        batch[2 * i + 1] = o.data[2 * k + 1]!;
      }
      const a = tf.tensor2d(batch, [o.batchSize, 2]);
      sum += toyTrainStep(actor, vars, opt, a, rng, cfg);
      a.dispose();
      steps++;
    }
    epochLoss.push(sum / batches);
    o.onEpoch?.(e, sum / batches);
  }
  const trainSeconds = (performance.now() - t0) / 1000;
  opt.dispose();
  return {
    kind: o.kind,
    actor,
    epochLoss,
    steps,
    trainSeconds,
    dispose() {
      tf.dispose(vars);
    },
  };
}

/**
 * Generate n samples from noise eps ~ N(0, I) (drawn from `seed`) with K steps on the uniform grid
 * t_k = 1 - k/K, k = 0..K:
 *   'euler'   : a <- a - (t_k - t_{k+1}) u(a, r = t_k, t = t_k)      (marginal velocity, Euler)
 *   'average' : a <- a - (t_k - t_{k+1}) u(a, r = t_{k+1}, t = t_k)  (average velocity, exact for a
 *               perfect u; K = 1 is OFQL's one-step action a = eps - u(eps, 0, 1))
 * Returns [n * 2] row-major.
 */
export function sampleToyModel(actor: ActorVars, n: number, steps: number, mode: 'euler' | 'average', seed: number): Float32Array {
  if (!Number.isInteger(steps) || steps < 1) throw new RangeError(`steps must be a positive integer, got ${steps}`);
  const rng = new Rng(seed);
  const eps = normals(rng, n * 2);
  return tf.tidy(() => {
    let a: Tensor = tf.tensor2d(eps, [n, 2]);
    const s = tf.zeros([n, 0]);
    if (mode === 'average' && steps === 1) {
      a = oneStepAction(actor, a, s);
    } else {
      for (let k = 0; k < steps; k++) {
        const t = 1 - k / steps;
        const tNext = 1 - (k + 1) / steps;
        const u = actorForward(actor, a, tf.fill([n, 1], mode === 'euler' ? t : tNext), tf.fill([n, 1], t), s);
        a = tf.sub(a, tf.mul(u, t - tNext));
      }
    }
    return Float32Array.from(a.dataSync() as Float32Array);
  });
}

/**
 * Seeds of the toy study's independent streams, derived from one base seed: the training set, two
 * held-out sets (A: the SWD reference; B: the noise floor and the "data" panel), the network init
 * (shared by u and v), u's and v's training streams (shuffles, (t, r), eps) and the sampling noise.
 */
export function toySeeds(base: number, datasetIndex: number) {
  const d = (k: number) => deriveSeed(base, datasetIndex * 100 + k);
  return {
    trainSet: d(0),
    heldOutA: d(1),
    heldOutB: d(2),
    init: d(3),
    trainAverage: d(4),
    trainMarginal: d(5),
    sampleNoise: d(6),
  };
}
