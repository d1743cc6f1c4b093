/**
 * Action samplers for a trained OFQL agent (`ofql-eval --sampler`). NFE table: docs/samplers.md.
 *
 * Time convention (ours, docs/reference.md §5): t = 0 data, t = 1 noise,
 *   a_t = (1 - t) a + t eps,   u(a_t, r, t; s) = average velocity on [r, t],   a_r = a_t - (t - r) u.
 *
 * - one-step    a = clip(eps - u(eps, 0, 1; s))                                   (OFQL's own action)
 *               eps ~ N(0, I), or noiseScale * N(0, I) when the spec sets it (0: deterministic)
 * - dql         N candidates per state, scored by the target critic's min(Q1, Q2), one drawn with
 *               probability softmax(Q) (DQL's evaluation rule, docs/reference.md §4; N = 50)
 * - best-of-n   N candidates, argmax min(Q1, Q2)
 * - qgbs        Q-guided beam search (docs/reference.md §6) in our time convention:
 *                 their t' = SNR / (1 + SNR) (t' = 1 action) is our t = 1 - t' = 1 / (1 + SNR);
 *                 re-noise  a_t = (1 - t) a + t eps;  complete with the flow map t -> 0:
 *                 a = a_t - t u(a_t, 0, t; s);  trust-region step on the action
 *                 a <- clip(a + eta grad_a Q / (||grad_a Q|| + kappa))
 *               (their u* = u_ref + eta g / (||g|| + kappa) with a_1 = a_0 + u moves the action by
 *               +eta g / (||g|| + kappa); with our a = eps - u that is u* = u_ref - eta g / (...)).
 *               Algorithm: M one-step actions; K rounds of { B re-noised completions of each beam,
 *               keep the best M of parents + children by Q, trust-region step on each, re-score };
 *               return argmax Q. Actor NFE = M (1 + K B).
 *
 * Randomness: one Rng per row (`rngs[j]`); a row's action depends only on its own Rng and state,
 * never on the other rows of the batch (the evaluator seeds rngs[j] from (episode seed, step)).
 * Passing the SAME Rng for every row reproduces `agent.act(obs, n, rng)` for one-step and dql
 * (same draw order).
 *
 * Critic used for scoring: the target critic (DQL's sample_action uses `critic_target.q_min`).
 */
import { tf } from './tf.js';
import type { Rng } from '../rng.js';
import type { OfqlConfig } from './config.js';
import {
  actorForward,
  criticMin,
  type ActorParams,
  type CriticParams,
  type LinearParams,
  type NamedArray,
} from './networks.js';
import type { OfqlAgent } from './train-step.js';
import type { NfeCounts, QgbsParams, SamplerSpec } from './sampler-spec.js';


type Tensor = tf.Tensor;

// ---------------------------------------------------------------------------------------------
// Networks a sampler needs
// ---------------------------------------------------------------------------------------------

/** The two functions every sampler is built from (tensors in, tensors out; callers tidy). */
export interface SamplerNets {
  readonly obsDim: number;
  readonly actDim: number;
  readonly maxAction: number;
  /** Average velocity u(a_t, r, t; s): at [B, A], r and t [B, 1], s [B, S] -> [B, A]. One actor NFE per row. */
  velocity(at: Tensor, r: Tensor, t: Tensor, s: Tensor): Tensor;
  /** min(Q1, Q2)(s, a) of the scoring critic: [B, 1]. One critic NFE per row. */
  q(s: Tensor, a: Tensor): Tensor;
  /** grad_a min(Q1, Q2)(s, a), [B, A] (rows independent): one critic forward + backward per row. */
  qGrad(s: Tensor, a: Tensor): Tensor;
  dispose(): void;
}

function linearFromNamed(named: ReadonlyMap<string, NamedArray>, name: string): LinearParams {
  const w = named.get(`${name}.weight`);
  const b = named.get(`${name}.bias`);
  if (!w || !b) throw new Error(`sampler: parameter '${name}.weight' / '${name}.bias' missing`);
  return { weight: tf.tensor(w.data, w.shape), bias: tf.tensor(b.data, b.shape) };
}

/** Actor params (tf tensors, caller disposes) from named tensors under `prefix` ('actor' / 'ema_actor'). */
export function actorParamsFromNamed(named: ReadonlyMap<string, NamedArray>, prefix: string, cfg: Pick<OfqlConfig, 'depth' | 'timeScale'>): ActorParams {
  const l = (n: string) => linearFromNamed(named, `${prefix}.${n}`);
  return {
    tEmbed: [l('t_embed.1'), l('t_embed.3')],
    rEmbed: [l('r_embed.1'), l('r_embed.3')],
    mid: Array.from({ length: cfg.depth }, (_, i) => l(`mid_layer.${2 * i}`)),
    final: l('final_layer'),
    timeScale: cfg.timeScale,
  };
}

/** Critic params from named tensors under `prefix` ('critic' / 'critic_target'). */
export function criticParamsFromNamed(named: ReadonlyMap<string, NamedArray>, prefix: string, cfg: Pick<OfqlConfig, 'depth'>): CriticParams {
  const q = (m: string) => Array.from({ length: cfg.depth + 1 }, (_, i) => linearFromNamed(named, `${prefix}.${m}.${2 * i}`));
  return { q1: q('q1_model'), q2: q('q2_model') };
}

function paramTensors(a: ActorParams, c: CriticParams): Tensor[] {
  const lins = [...a.tEmbed, ...a.rEmbed, ...a.mid, a.final, ...c.q1, ...c.q2];
  return lins.flatMap((l) => [l.weight, l.bias]);
}

/**
 * k Euler steps of the plain flow a' = -u(a, t, t; s) (r = t: the instantaneous velocity) from
 * t = 1 (noise `eps`) to t = 0 (action), clipped to the bound: the multi-step sampler the one-step
 * map u(eps, 0, 1; s) is compared with (scripts/bench-policy.ts, scripts/policy-vs-data.ts).
 */
export function flowEuler(actor: ActorParams, eps: Tensor, s: Tensor, k: number, maxAction: number): Tensor {
  return tf.tidy(() => {
    const n = eps.shape[0] as number;
    let a = eps;
    for (let i = 0; i < k; i++) {
      const t = tf.fill([n, 1], 1 - i / k);
      a = tf.sub(a, tf.mul(actorForward(actor, a, t, t, s), 1 / k));
    }
    return tf.clipByValue(a, -maxAction, maxAction);
  });
}

/**
 * SamplerNets for an agent: its evaluation actor (EMA unless config.evalActor = 'online') and its
 * target critic, copied out of the agent (the agent may be disposed or keep training).
 */
export function samplerNetsFromAgent(agent: OfqlAgent, opts: { actor?: 'ema' | 'online'; critic?: 'target' | 'online' } = {}): SamplerNets {
  const cfg = agent.config;
  const named = agent.namedTensors();
  const actorPrefix = (opts.actor ?? cfg.evalActor) === 'online' ? 'actor' : 'ema_actor';
  const criticPrefix = (opts.critic ?? 'target') === 'online' ? 'critic' : 'critic_target';
  return samplerNetsFromParams(
    actorParamsFromNamed(named, actorPrefix, cfg),
    criticParamsFromNamed(named, criticPrefix, cfg),
    { obsDim: cfg.obsDim, actDim: cfg.actDim, maxAction: cfg.maxAction },
    true,
  );
}

/** SamplerNets over given params; `owns` = dispose them with the nets. */
export function samplerNetsFromParams(
  actor: ActorParams,
  critic: CriticParams,
  dims: { obsDim: number; actDim: number; maxAction: number },
  owns = false,
): SamplerNets {
  return {
    ...dims,
    velocity: (at, r, t, s) => actorForward(actor, at, r, t, s),
    q: (s, a) => criticMin(critic, s, a),
    // d/da sum_b minQ(s_b, a_b) = per-row grad_a minQ (rows are independent).
    qGrad: (s, a) => tf.tidy(() => tf.grad((x: Tensor) => tf.sum(criticMin(critic, s, x)) as tf.Scalar)(a)),
    dispose: () => {
      if (owns) tf.dispose(paramTensors(actor, critic));
    },
  };
}

/** Wrap nets so that every evaluation is counted per row. */
export function countingNets(nets: SamplerNets): { nets: SamplerNets; counts: NfeCounts } {
  const counts: NfeCounts = { actor: 0, critic: 0, criticGrad: 0 };
  const rows = (x: Tensor) => x.shape[0] as number;
  return {
    counts,
    nets: {
      obsDim: nets.obsDim,
      actDim: nets.actDim,
      maxAction: nets.maxAction,
      velocity: (at, r, t, s) => ((counts.actor += rows(at)), nets.velocity(at, r, t, s)),
      q: (s, a) => ((counts.critic += rows(a)), nets.q(s, a)),
      qGrad: (s, a) => ((counts.criticGrad += rows(a)), nets.qGrad(s, a)),
      dispose: () => nets.dispose(),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Sampling
// ---------------------------------------------------------------------------------------------

/** Draw k*A normals for each row from that row's Rng, rows in order: [Bn * k * A] (row-major, row b's k draws together). */
function rowNoise(rngs: readonly Rng[], k: number, A: number): Float32Array {
  const out = new Float32Array(rngs.length * k * A);
  let i = 0;
  for (const rng of rngs) for (let j = 0; j < k * A; j++) out[i++] = rng.normal();
  return out;
}

/** x * scale in place (the draws are made either way, so every row's stream stays where it was). */
function scaled(x: Float32Array, scale: number): Float32Array {
  if (scale !== 1) for (let i = 0; i < x.length; i++) x[i] = x[i]! * scale;
  return x;
}

/** Repeat each row of x [B, D] k times: [B * k, D] (row b's copies together, like repeat_interleave). */
function repeatRows(x: Tensor, k: number): Tensor {
  if (k === 1) return x;
  const [B, D] = x.shape as [number, number];
  return tf.reshape(tf.tile(tf.reshape(x, [B, 1, D]), [1, k, 1]), [B * k, D]);
}

/** a = clip(eps - u(eps, 0, 1; s)). */
function oneStep(nets: SamplerNets, eps: Tensor, s: Tensor): Tensor {
  const n = eps.shape[0] as number;
  const u = nets.velocity(eps, tf.zeros([n, 1]), tf.ones([n, 1]), s);
  return tf.clipByValue(tf.sub(eps, u), -nets.maxAction, nets.maxAction);
}

/**
 * Actions for `obs` ([Bn * obsDim]) -> [Bn * actDim], one Rng per row (rngs.length = Bn).
 * All network work for the batch happens in a few large calls.
 */
export function sampleActions(nets: SamplerNets, spec: SamplerSpec, obs: Float32Array, rngs: readonly Rng[]): Float32Array {
  const { obsDim: S, actDim: A } = nets;
  const Bn = rngs.length;
  if (!(obs instanceof Float32Array) || obs.length !== Bn * S || Bn === 0) {
    throw new RangeError(`sampleActions: obs must be a Float32Array of ${Bn} x obsDim=${S} entries (one Rng per row), got length ${obs?.length}`);
  }
  switch (spec.name) {
    case 'one-step':
      return tf.tidy(() => {
        const s = tf.tensor2d(obs, [Bn, S]);
        const eps = tf.tensor2d(scaled(rowNoise(rngs, 1, A), spec.noiseScale ?? 1), [Bn, A]);
        return Float32Array.from(oneStep(nets, eps, s).dataSync() as Float32Array);
      });
    case 'dql':
    case 'best-of-n': {
      const n = spec.n;
      const [cand, q] = tf.tidy(() => {
        const sRep = repeatRows(tf.tensor2d(obs, [Bn, S]), n);
        const eps = tf.tensor2d(rowNoise(rngs, n, A), [Bn * n, A]);
        const a = oneStep(nets, eps, sRep);
        const qv = nets.q(sRep, a);
        return [Float32Array.from(a.dataSync() as Float32Array), Float32Array.from(qv.dataSync() as Float32Array)];
      });
      const out = new Float32Array(Bn * A);
      for (let b = 0; b < Bn; b++) {
        const pick = spec.name === 'dql' ? softmaxDraw(q, b * n, n, rngs[b]!) : argmax(q, b * n, n);
        out.set(cand.subarray((b * n + pick) * A, (b * n + pick + 1) * A), b * A);
      }
      return out;
    }
    case 'qgbs':
      return qgbs(nets, spec, obs, rngs);
  }
}

/** DQL: index drawn with probability softmax(q[off .. off+n)) (same arithmetic as OfqlAgent.act). */
function softmaxDraw(q: Float32Array, off: number, n: number, rng: Rng): number {
  let qmax = -Infinity;
  for (let k = 0; k < n; k++) qmax = Math.max(qmax, q[off + k]!);
  let z = 0;
  for (let k = 0; k < n; k++) z += Math.exp(q[off + k]! - qmax);
  let u = rng.random() * z;
  for (let k = 0; k < n; k++) {
    u -= Math.exp(q[off + k]! - qmax);
    if (u < 0) return k;
  }
  return n - 1;
}

/** First index of the maximum of q[off .. off+n). */
function argmax(q: Float32Array, off: number, n: number): number {
  let best = 0;
  for (let k = 1; k < n; k++) if (q[off + k]! > q[off + best]!) best = k;
  return best;
}

/**
 * QGBS (see the module comment). Rows of the working set are ordered (state b, beam m). Host-side
 * bookkeeping (selection) uses Float32Arrays; network calls are batched over all states.
 */
function qgbs(nets: SamplerNets, p: QgbsParams, obs: Float32Array, rngs: readonly Rng[]): Float32Array {
  const { obsDim: S, actDim: A, maxAction } = nets;
  const Bn = rngs.length;
  const { K, B, M, SNR, eta, kappa } = p;
  const tRe = 1 / (1 + SNR); // our re-noise time (their t' = SNR / (1 + SNR))
  const sT = tf.tensor2d(obs, [Bn, S]);
  try {
    // 1. M one-step actions per state and their Q.
    let [beams, beamQ] = tf.tidy(() => {
      const sRep = repeatRows(sT, M);
      const eps = tf.tensor2d(rowNoise(rngs, M, A), [Bn * M, A]);
      const a = oneStep(nets, eps, sRep);
      return [Float32Array.from(a.dataSync() as Float32Array), Float32Array.from(nets.q(sRep, a).dataSync() as Float32Array)];
    });
    for (let k = 0; k < K; k++) {
      // 2a. Re-noise each beam B times to time tRe and complete with the flow map tRe -> 0.
      const [child, childQ] = tf.tidy(() => {
        const aRep = repeatRows(tf.tensor2d(beams, [Bn * M, A]), B);
        const sRep = repeatRows(sT, M * B);
        const eps = tf.tensor2d(rowNoise(rngs, M * B, A), [Bn * M * B, A]);
        const at = tf.add(tf.mul(aRep, 1 - tRe), tf.mul(eps, tRe));
        const n = Bn * M * B;
        const u = nets.velocity(at, tf.zeros([n, 1]), tf.fill([n, 1], tRe), sRep);
        const a = tf.clipByValue(tf.sub(at, tf.mul(u, tRe)), -maxAction, maxAction);
        return [Float32Array.from(a.dataSync() as Float32Array), Float32Array.from(nets.q(sRep, a).dataSync() as Float32Array)];
      });
      // 2b. Keep the best M of (M parents + M*B children) per state by Q (ties: earlier first).
      const kept = new Float32Array(Bn * M * A);
      for (let b = 0; b < Bn; b++) {
        const pool: Array<{ q: number; src: Float32Array; row: number }> = [];
        for (let m = 0; m < M; m++) pool.push({ q: beamQ[b * M + m]!, src: beams, row: b * M + m });
        for (let j = 0; j < M * B; j++) pool.push({ q: childQ[b * M * B + j]!, src: child, row: b * M * B + j });
        const order = pool.map((_, i) => i).sort((x, y) => pool[y]!.q - pool[x]!.q || x - y);
        for (let m = 0; m < M; m++) {
          const e = pool[order[m]!]!;
          kept.set(e.src.subarray(e.row * A, (e.row + 1) * A), (b * M + m) * A);
        }
      }
      // 2c. Trust-region step a <- clip(a + eta g / (||g|| + kappa)), g = grad_a Q; re-score.
      [beams, beamQ] = tf.tidy(() => {
        const sRep = repeatRows(sT, M);
        const a = tf.tensor2d(kept, [Bn * M, A]);
        const grad = nets.qGrad(sRep, a);
        const norm = tf.sqrt(tf.sum(tf.square(grad), 1, true));
        const moved = tf.clipByValue(tf.add(a, tf.mul(tf.div(grad, tf.add(norm, kappa)), eta)), -maxAction, maxAction);
        return [Float32Array.from(moved.dataSync() as Float32Array), Float32Array.from(nets.q(sRep, moved).dataSync() as Float32Array)];
      });
    }
    // 3. argmax Q per state.
    const out = new Float32Array(Bn * A);
    for (let b = 0; b < Bn; b++) {
      const m = argmax(beamQ, b * M, M);
      out.set(beams.subarray((b * M + m) * A, (b * M + m + 1) * A), b * A);
    }
    return out;
  } finally {
    sT.dispose();
  }
}
