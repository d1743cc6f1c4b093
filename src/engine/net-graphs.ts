/**
 * The OFQL networks (src/ofql/networks.ts) written as ONNX graph pieces, with their reverse-mode
 * gradients and forward-mode tangents written out by hand. Same maths, same op order as the
 * TF.js code where rounding could differ (Mish through the sigmoid, the sinusoidal embedding),
 * checked against it in test/engine-parity.test.ts.
 *
 * Every network here is a chain "Linear, act, Linear, act, ..., Linear" (DQL's Mish MLPs, the Q
 * nets, the time embeddings, and SAC's ReLU nets in src/sac/ all have that shape), so one forward
 * (keeping what the backward pass needs), one backward and one tangent function serve all of them:
 *   Linear  h = x W + b      backward: dW = x^T dh, db = sum_rows dh, dx = dh W^T;  tangent: dh = dx W
 *   act     y = act(h)       backward and tangent: multiply by act'(h)  (Mish, or ReLU: 1 where h > 0)
 */
import type { GraphBuilder } from './graph.js';
import { sinusoidalFrequencies } from '../ofql/networks.js';

/** One Linear layer: the graph inputs holding W [in, out] and b [out], and the parameter name. */
export interface LinearRef {
  /** Parameter name without `.weight` / `.bias` (e.g. `actor.mid_layer.0`). */
  name: string;
  weight: string;
  bias: string;
  inDim: number;
  outDim: number;
}

export interface ActorRef {
  tEmbed: LinearRef[];
  rEmbed: LinearRef[];
  /** mid layers then the final layer. */
  trunk: LinearRef[];
  embDim: number;
  timeScale: number;
}

/** Parameter gradients by parameter name (`<layer>.weight` / `<layer>.bias`), summed over uses. */
export type Grads = Map<string, string>;

/** The hidden activation of a chain. */
export type Activation = 'mish' | 'relu';

interface MishParts {
  h: string;
  s: string;
  th: string;
}

/** What a chain's backward and tangent passes need from its forward pass. */
export interface ChainTape {
  /** Input of each layer. */
  inputs: string[];
  /** act'(h) after layer i (every layer but the last); built on first use, once. */
  prime(i: number): string;
  out: string;
}

/**
 * Mish through the sigmoid only, as networks.ts mishParts: s = sigmoid(h), th = tanh(softplus(h))
 * = s (2 - s) / (1 + (1 - s)^2), y = h th.
 */
function mish(g: GraphBuilder, h: string): { y: string; parts: MishParts } {
  const s = g.sigmoid(h);
  const oneMinusS = g.sub(g.scalar(1), s);
  const th = g.div(g.mul(s, g.add(oneMinusS, g.scalar(1))), g.add(g.square(oneMinusS), g.scalar(1)));
  return { y: g.mul(h, th), parts: { h, s, th } };
}

/** mish'(h) = th + h s (1 - th^2) (networks.ts mishPrimeFromParts). */
function mishPrime(g: GraphBuilder, p: MishParts): string {
  return g.add(p.th, g.mul(g.mul(p.h, p.s), g.sub(g.scalar(1), g.square(p.th))));
}

/** The activation of h, and a builder of its derivative there. */
function activate(g: GraphBuilder, h: string, activation: Activation): { y: string; prime: () => string } {
  if (activation === 'relu') {
    const y = g.op('Relu', [h]);
    return { y, prime: () => g.op('Cast', [g.op('Greater', [h, g.scalar(0)])], { to: { int: 1 } }) };
  }
  const m = mish(g, h);
  return { y: m.y, prime: () => mishPrime(g, m.parts) };
}

/** Forward pass of a Linear/activation chain, keeping its tape. */
export function chainForward(g: GraphBuilder, layers: readonly LinearRef[], x: string, activation: Activation = 'mish'): ChainTape {
  const inputs: string[] = [];
  const builders: Array<() => string> = [];
  let cur = x;
  layers.forEach((l, i) => {
    inputs.push(cur);
    const h = g.gemm(cur, l.weight, { bias: l.bias });
    if (i === layers.length - 1) {
      cur = h;
      return;
    }
    const a = activate(g, h, activation);
    builders.push(a.prime);
    cur = a.y;
  });
  const primes: string[] = [];
  return { inputs, out: cur, prime: (i) => (primes[i] ??= builders[i]!()) };
}

function accumulate(g: GraphBuilder, grads: Grads, name: string, value: string): void {
  const prev = grads.get(name);
  grads.set(name, prev === undefined ? value : g.add(prev, value));
}

/**
 * Backward pass of a chain from dOut (gradient of the loss w.r.t. its output): adds every layer's
 * dW and db to `grads` (null: a fixed network, only the input gradient is wanted) and returns the
 * gradient w.r.t. the first layer's pre-activation (so the caller takes only the input columns it
 * needs, see inputGradient).
 */
export function chainBackward(g: GraphBuilder, layers: readonly LinearRef[], tape: ChainTape, dOut: string, grads: Grads | null): string {
  let dh = dOut;
  for (let i = layers.length - 1; i >= 0; i--) {
    const l = layers[i]!;
    if (grads) {
      accumulate(g, grads, `${l.name}.weight`, g.gemm(tape.inputs[i]!, dh, { transA: true }));
      accumulate(g, grads, `${l.name}.bias`, g.reduceSum(dh, [0]));
    }
    if (i === 0) break;
    dh = g.mul(g.gemm(dh, l.weight, { transB: true }), tape.prime(i - 1));
  }
  return dh;
}

/** Gradient w.r.t. input columns [start, end) of `layer`, from the gradient dh of its output. */
export function inputGradient(g: GraphBuilder, layer: LinearRef, dh: string, start: number, end: number): string {
  return g.gemm(dh, g.slice(layer.weight, start, end, 0), { transB: true });
}

/** Tangent of a chain's output for an input tangent dx, at the point of its tape. */
export function chainTangent(g: GraphBuilder, layers: readonly LinearRef[], tape: ChainTape, dx: string): string {
  let d = dx;
  layers.forEach((l, i) => {
    d = g.gemm(d, l.weight);
    if (i < layers.length - 1) d = g.mul(tape.prime(i), d);
  });
  return d;
}

// ---- time embedding ---------------------------------------------------------------------------

interface EmbedTape {
  sin: string;
  cos: string;
  chain: ChainTape;
}

/** emb(t) = chain(concat(sin(scale t f), cos(scale t f))), t [N, 1] (networks.ts timeEmbedForward). */
function embedForward(g: GraphBuilder, layers: readonly LinearRef[], t: string, a: ActorRef): EmbedTape {
  const f = sinusoidalFrequencies(a.embDim);
  const arg = g.mul(g.mul(t, g.scalar(a.timeScale)), g.floats(f, [1, f.length]));
  const sin = g.sin(arg);
  const cos = g.cos(arg);
  return { sin, cos, chain: chainForward(g, layers, g.concat([sin, cos], 1)) };
}

/** Tangent of emb(t) for dt = 1: d arg = scale f, d emb = [cos d arg, -sin d arg], then the chain. */
function embedTangent(g: GraphBuilder, layers: readonly LinearRef[], e: EmbedTape, a: ActorRef): string {
  const f = sinusoidalFrequencies(a.embDim);
  const dArg = g.floats(f.map((x) => Math.fround(x * a.timeScale)), [1, f.length]);
  const dEmb = g.concat([g.mul(e.cos, dArg), g.mul(g.neg(e.sin), dArg)], 1);
  return chainTangent(g, layers, e.chain, dEmb);
}

// ---- actor ------------------------------------------------------------------------------------

export interface ActorTape {
  t: EmbedTape;
  r: EmbedTape;
  trunk: ChainTape;
  /** Rows of the embeddings when they were computed once and broadcast (one-step action), else 0. */
  broadcastRows: number;
}

/** u(a_t, r, t; s) with x = concat(a_t, emb_t(t), emb_r(r), s) (networks.ts actorForward). */
export function actorForward(g: GraphBuilder, a: ActorRef, at: string, r: string, t: string, s: string): ActorTape {
  const te = embedForward(g, a.tEmbed, t, a);
  const re = embedForward(g, a.rEmbed, r, a);
  return { t: te, r: re, trunk: chainForward(g, a.trunk, g.concat([at, te.chain.out, re.chain.out, s], 1)), broadcastRows: 0 };
}

/**
 * One-step action a = eps - u(eps, r=0, t=1; s) on `rows` rows (networks.ts oneStepAction), the
 * two embeddings computed once on one row and broadcast (every row has the same t and r).
 * Returns the unclipped action and the tape.
 */
export function oneStepForward(g: GraphBuilder, a: ActorRef, eps: string, s: string, rows: number): { raw: string; tape: ActorTape } {
  const te = embedForward(g, a.tEmbed, g.floats(Float32Array.of(1), [1, 1]), a);
  const re = embedForward(g, a.rEmbed, g.floats(Float32Array.of(0), [1, 1]), a);
  const wide = (e: EmbedTape) => g.expand(e.chain.out, [rows, a.embDim]);
  const trunk = chainForward(g, a.trunk, g.concat([eps, wide(te), wide(re), s], 1));
  return { raw: g.sub(eps, trunk.out), tape: { t: te, r: re, trunk, broadcastRows: rows } };
}

/** Backward pass of the actor from du, adding every parameter's gradient to `grads`. */
export function actorBackward(g: GraphBuilder, a: ActorRef, tape: ActorTape, du: string, actDim: number, grads: Grads): void {
  const dh0 = chainBackward(g, a.trunk, tape.trunk, du, grads);
  const first = a.trunk[0]!;
  const E = a.embDim;
  for (const [layers, e, start] of [
    [a.tEmbed, tape.t, actDim],
    [a.rEmbed, tape.r, actDim + E],
  ] as const) {
    let dEmb = inputGradient(g, first, dh0, start, start + E);
    if (tape.broadcastRows > 0) dEmb = g.reduceSum(dEmb, [0], true);
    chainBackward(g, layers, e.chain, dEmb, grads);
  }
}

/**
 * MeanFlow's total derivative du/dt along the tangent (v, dr = 0, dt = 1) at the point of `tape`
 * (networks.ts actorJvp): dx0 = concat(v, d emb_t, 0, 0), then the trunk's tangent.
 */
export function actorTimeTangent(g: GraphBuilder, a: ActorRef, tape: ActorTape, v: string, rows: number, obsDim: number): string {
  const det = embedTangent(g, a.tEmbed, tape.t, a);
  const zeros = g.floats(new Float32Array(rows * (a.embDim + obsDim)), [rows, a.embDim + obsDim]);
  return chainTangent(g, a.trunk, tape.trunk, g.concat([v, det, zeros], 1));
}

// ---- critic -----------------------------------------------------------------------------------

/** Q(s, a) on concat(s, a): [N, 1] (networks.ts qForward). */
export function qForward(g: GraphBuilder, q: readonly LinearRef[], s: string, a: string): ChainTape {
  return chainForward(g, q, g.concat([s, a], 1));
}
