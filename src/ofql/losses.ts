/**
 * OFQL / DQL loss pieces and parameter-update rules, each small enough to test on its own.
 * train-step.ts strings them together. Sources: docs/reference.md §4 and §5;
 * Zhendong-Wang/Diffusion-Policies-for-Offline-RL agents/ql_diffusion.py and agents/helpers.py (DQL);
 * zhuyu-cs/MeanFlow loss.py (MeanFlow (r, t) sampling and target).
 */
import { tf } from './tf.js';
import type { Rng } from '../rng.js';
import type { BcReduction, OfqlConfig } from './config.js';
import { actorJvp, type ActorParams } from './networks.js';

type Tensor = tf.Tensor;

// ---------------------------------------------------------------------------------------------
// Random draws (all on the JS side from the seeded Rng: same seed -> same batch noise on every backend)
// ---------------------------------------------------------------------------------------------

export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** One draw of logit-normal(mean, std): sigmoid(mean + std * N(0, 1)). */
export function logitNormal(rng: Rng, mean: number, std: number): number {
  return sigmoid(mean + std * rng.normal());
}

/** `n` standard normals. */
export function normals(rng: Rng, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.normal();
  return out;
}

export interface TimePairs {
  /** t in (0, 1), the later time (t = 1 is pure noise). */
  t: Float32Array;
  /** r <= t; equal to t for the flow-matching part of the batch. */
  r: Float32Array;
  /** 1 where r was set to t. */
  isFlow: Uint8Array;
}

/**
 * (t, r) for a batch [OFQL; MeanFlow sec. 4.3]: two logit-normal(mean, std) draws per sample,
 * sorted so r <= t; then a `flowRatio` fraction of the samples gets r = t (plain flow matching).
 *
 * 'fixed-count' (default): exactly round(flowRatio * B) samples, picked by a partial Fisher-Yates
 * shuffle -- docs/reference.md §5 says "half of the pairs get r = t", and a fixed count keeps the
 * per-batch split exact. 'bernoulli': independent per-sample coin (zhuyu-cs/MeanFlow loss.py,
 * `torch.rand(B) < 1 - ratio_r_not_equal_t`). Both have the same expectation.
 */
export function sampleTimePairs(
  rng: Rng,
  batch: number,
  cfg: Pick<OfqlConfig, 'logitNormalMean' | 'logitNormalStd' | 'flowRatio' | 'flowRatioSampling'>,
): TimePairs {
  const t = new Float32Array(batch);
  const r = new Float32Array(batch);
  for (let i = 0; i < batch; i++) {
    const x = logitNormal(rng, cfg.logitNormalMean, cfg.logitNormalStd);
    const y = logitNormal(rng, cfg.logitNormalMean, cfg.logitNormalStd);
    t[i] = Math.max(x, y);
    r[i] = Math.min(x, y);
  }
  const isFlow = new Uint8Array(batch);
  if (cfg.flowRatioSampling === 'bernoulli') {
    for (let i = 0; i < batch; i++) isFlow[i] = rng.random() < cfg.flowRatio ? 1 : 0;
  } else {
    const k = Math.round(cfg.flowRatio * batch);
    const idx = Array.from({ length: batch }, (_, i) => i);
    for (let i = 0; i < k; i++) {
      const j = i + Math.floor(rng.random() * (batch - i));
      [idx[i], idx[j]] = [idx[j]!, idx[i]!];
      isFlow[idx[i]!] = 1;
    }
  }
  for (let i = 0; i < batch; i++) if (isFlow[i]) r[i] = t[i]!;
  return { t, r, isFlow };
}

// ---------------------------------------------------------------------------------------------
// Behaviour (average-velocity / MeanFlow) loss
// ---------------------------------------------------------------------------------------------

export interface MeanFlowTarget {
  /** a_t = (1 - t) a + t eps. */
  at: Tensor;
  /** Conditional velocity v = eps - a (= d a_t / dt). */
  v: Tensor;
  /** u_tgt = v - (t - r) * (v . d_a u + d_t u), to be used under stop-gradient. */
  uTgt: Tensor;
}

/**
 * Regression target of the average-velocity loss [OFQL; MeanFlow eq. 10]:
 *   a_t = (1 - t) a + t eps,  v = eps - a,
 *   u_tgt = v - (t - r) * JVP,  JVP = d/d(eps) u(a_t + eps v, r, t + eps; s)  (tangent (v, 0, 1)).
 * Computed with the current actor parameters and no tape: it is a constant (stop-gradient) in the
 * loss. With r = t the bracket is multiplied by 0 and u_tgt = v exactly (flow matching).
 * t, r: [B, 1]; a, eps: [B, A]; s: [B, S].
 */
export function meanFlowTarget(
  actor: ActorParams,
  a: Tensor,
  eps: Tensor,
  t: Tensor,
  r: Tensor,
  s: Tensor,
): MeanFlowTarget {
  return tf.tidy(() => {
    const at = tf.add(tf.mul(tf.sub(1, t), a), tf.mul(t, eps));
    const v = tf.sub(eps, a);
    const { du } = actorJvp(actor, at, r, t, s, v);
    const uTgt = tf.sub(v, tf.mul(tf.sub(t, r), du));
    return { at, v, uTgt };
  });
}

/**
 * || u - sg(u_tgt) ||^2 reduced per `reduction`:
 * 'mean' (default) = mean over batch and action dims, DQL's WeightedL2 (`F.mse_loss(..., 'none')`
 * then `.mean()`); 'sum-action-mean-batch' = MeanFlow's per-sample squared norm averaged over the batch
 * (= act_dim x 'mean').
 */
export function behaviourLoss(u: Tensor, uTgt: Tensor, reduction: BcReduction = 'mean'): tf.Scalar {
  return tf.tidy(() => {
    const se = tf.squaredDifference(u, uTgt);
    return (reduction === 'mean' ? tf.mean(se) : tf.mean(tf.sum(se, 1))) as tf.Scalar;
  });
}

// ---------------------------------------------------------------------------------------------
// Critic
// ---------------------------------------------------------------------------------------------

/**
 * Max-Q backup reduction [DQL ql_diffusion.py]: q holds K consecutive rows per state
 * (torch.repeat_interleave order); returns the max over each group: [B, 1].
 */
export function maxOverRepeats(q: Tensor, batch: number, repeats: number): Tensor {
  return tf.tidy(() => tf.max(tf.reshape(q, [batch, repeats]), 1, true));
}

/**
 * TD target y = r + not_done * discount * min(Q1', Q2') [DQL ql_diffusion.py], [B, 1];
 * q1Next/q2Next come from the target critic at (s', a'), a' from the EMA actor.
 */
export function criticTarget(
  reward: Tensor,
  notDone: Tensor,
  q1Next: Tensor,
  q2Next: Tensor,
  discount: number,
): Tensor {
  return tf.tidy(() => tf.add(reward, tf.mul(tf.mul(notDone, discount), tf.minimum(q1Next, q2Next))));
}

/** MSE(Q1, y) + MSE(Q2, y) [DQL: F.mse_loss(current_q1, target_q) + F.mse_loss(current_q2, target_q)]. */
export function criticLoss(q1: Tensor, q2: Tensor, target: Tensor): tf.Scalar {
  return tf.tidy(() => tf.add(tf.mean(tf.squaredDifference(q1, target)), tf.mean(tf.squaredDifference(q2, target))) as tf.Scalar);
}

/**
 * q_loss = -Q_a(s, a_new).mean() / |Q_b(s, a_new)|.mean().detach() [DQL]; docs/reference.md §5 writes
 * it as alpha = eta / E|Q|. `qbAbsMean` is a plain number: being a JS constant, it carries no gradient
 * (the "detach").
 */
export function qLoss(qa: Tensor, qbAbsMean: number): tf.Scalar {
  return tf.tidy(() => tf.div(tf.neg(tf.mean(qa)), qbAbsMean) as tf.Scalar);
}

// ---------------------------------------------------------------------------------------------
// Gradient clipping and parameter averaging
// ---------------------------------------------------------------------------------------------

/** Global L2 norm of a list of tensors, as a number. */
export function globalNorm(tensors: readonly Tensor[]): number {
  return tf.tidy(() => tf.sqrt(tf.addN(tensors.map((g) => tf.sum(tf.square(g))))).dataSync()[0]!);
}

/**
 * torch.nn.utils.clip_grad_norm_(max_norm, norm_type=2) semantics: total = ||concat(grads)||_2;
 * coef = maxNorm / (total + 1e-6); if coef < 1 every gradient is scaled by coef. Returns the new
 * gradients (the inputs are disposed when replaced) and the PRE-clip norm (what DQL logs).
 * maxNorm undefined or <= 0: no clipping (DQL: `if self.grad_norm > 0`).
 */
export function clipByGlobalNorm(grads: Tensor[], maxNorm: number | undefined): { grads: Tensor[]; norm: number } {
  const norm = globalNorm(grads);
  if (maxNorm === undefined || !(maxNorm > 0)) return { grads, norm };
  const coef = maxNorm / (norm + 1e-6);
  if (!(coef < 1)) return { grads, norm };
  const scaled = grads.map((g) => tf.mul(g, coef));
  tf.dispose(grads);
  return { grads: scaled, norm };
}

/** target <- tau * source + (1 - tau) * target, element-wise [DQL: soft update every step]. */
export function softUpdate(target: readonly tf.Variable[], source: readonly Tensor[], tau: number): void {
  if (target.length !== source.length) throw new Error(`softUpdate: ${target.length} targets vs ${source.length} sources`);
  tf.tidy(() => {
    target.forEach((tv, i) => tv.assign(tf.add(tf.mul(source[i]!, tau), tf.mul(tv, 1 - tau))));
  });
}

/** ema <- decay * ema + (1 - decay) * model [DQL helpers.py EMA.update_average]. */
export function emaUpdate(ema: readonly tf.Variable[], model: readonly Tensor[], decay: number): void {
  softUpdate(ema, model, 1 - decay);
}

/** ema <- model (copy). */
export function copyInto(target: readonly tf.Variable[], source: readonly Tensor[]): void {
  if (target.length !== source.length) throw new Error(`copyInto: ${target.length} targets vs ${source.length} sources`);
  tf.tidy(() => target.forEach((tv, i) => tv.assign(source[i]!)));
}

/**
 * What happens to the EMA actor after gradient step `step` (0-based counter BEFORE it is
 * incremented, exactly DQL's `self.step`): DQL calls step_ema when `step % update_ema_every == 0`,
 * and step_ema returns early when `step < step_start_ema`. So with the defaults the first EMA update
 * is at step 1000, then 1005, 1010, ...; before that the EMA actor keeps its initial weights
 * ('hold-initial', DQL) or is overwritten with the online weights ('copy', diffuser-style).
 */
export function emaAction(
  step: number,
  cfg: Pick<OfqlConfig, 'emaEvery' | 'emaStartStep' | 'emaWarmup'>,
): 'update' | 'copy' | 'none' {
  if (step % cfg.emaEvery !== 0) return 'none';
  if (step >= cfg.emaStartStep) return 'update';
  return cfg.emaWarmup === 'copy' ? 'copy' : 'none';
}
