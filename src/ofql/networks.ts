/**
 * OFQL networks on TensorFlow.js, with parameters as plain tf.Variables so that we control
 * initialisation, naming and (de)serialisation.
 *
 * Architecture (docs/reference.md §4 and §5):
 * - Actor = average velocity u(a_t, r, t; s), DQL's noise MLP [DQL agents/model.py `MLP`] with a
 *   second time embedding for r [OFQL]:
 *     x = concat(a_t, emb_t(t), emb_r(r), s)
 *     emb(.) = SinusoidalPosEmb(16) -> Linear(16,32) -> Mish -> Linear(32,16)
 *     3 x [Linear 256, Mish] -> Linear(256, act_dim)
 * - Critic = twin Q nets, each 3 x [Linear 256, Mish] + Linear(256, 1) on concat(s, a)
 *   [DQL agents/ql_diffusion.py `Critic`].
 * - One-step action a = eps - u(eps, r=0, t=1; s) [OFQL].
 *
 * Tensor layout: a Linear computes y = x W + b with W of shape [in, out] and b of shape [out].
 * PyTorch's nn.Linear stores weight as [out, in] (y = x W^T + b); `toTorchLayout` converts.
 *
 * Initialisation mimics PyTorch's nn.Linear default: weight and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))
 * (kaiming_uniform with a = sqrt(5) gives exactly that bound), drawn from the project's seeded
 * xoshiro `Rng` in parameter-name order (weight row-major, then bias), so a seed fixes every weight
 * on every backend.
 *
 * Forward-mode derivative: TF.js has reverse-mode AD only, so `actorJvp` propagates tangents by
 * hand, layer by layer (see there). It is checked against finite differences and against the
 * exact identity <w, J v> = <J^T w, v> with J^T w from tf.grad (test/ofql-networks.test.ts).
 */
import { tf } from './tf.js';
import type { Rng } from '../rng.js';
import type { OfqlConfig } from './config.js';

type Tensor = tf.Tensor;
/** tfjs-core's CustomGradientFunc (not re-exported by @tensorflow/tfjs). */
type CustomGradientFunc = Parameters<typeof tf.customGrad>[0];

/** y = x W + b. */
export interface LinearParams<T extends Tensor = Tensor> {
  /** [in, out] */
  weight: T;
  /** [out] */
  bias: T;
}

/** SinusoidalPosEmb(d) -> Linear(d, 2d) -> Mish -> Linear(2d, d). Torch names: `.1`, `.3`. */
export type TimeEmbedParams<T extends Tensor = Tensor> = [LinearParams<T>, LinearParams<T>];

export interface ActorParams<T extends Tensor = Tensor> {
  /** Embedding of t (torch name `t_embed`). */
  tEmbed: TimeEmbedParams<T>;
  /** Embedding of r (torch name `r_embed`). */
  rEmbed: TimeEmbedParams<T>;
  /** `depth` hidden Linear layers, each followed by Mish (torch name `mid_layer.{0,2,4}`). */
  mid: LinearParams<T>[];
  /** Output Linear(hidden, act_dim) (torch name `final_layer`). */
  final: LinearParams<T>;
  /** t and r are multiplied by this before the sinusoidal embedding (config.timeScale). */
  timeScale: number;
}

/** One Q net: `depth` x [Linear, Mish] then Linear(hidden, 1). Torch names `q1_model.{0,2,4,6}`. */
export type QNetParams<T extends Tensor = Tensor> = LinearParams<T>[];

export interface CriticParams<T extends Tensor = Tensor> {
  q1: QNetParams<T>;
  q2: QNetParams<T>;
}

export type ActorVars = ActorParams<tf.Variable>;
export type CriticVars = CriticParams<tf.Variable>;

/** A parameter read back from the engine: row-major data plus its shape (in OUR layout). */
export interface NamedArray {
  data: Float32Array;
  shape: number[];
}

// ---------------------------------------------------------------------------------------------
// Activations
// ---------------------------------------------------------------------------------------------

/**
 * Mish(x) = x * tanh(softplus(x)) (Misra 2019; torch.nn.Mish), evaluated through the logistic
 * sigmoid only: with s = sigmoid(x), exp(softplus(x)) = 1 + e^x = 1 / (1 - s), so
 *   tanh(softplus(x)) = ((1+e^x)^2 - 1) / ((1+e^x)^2 + 1) = s (2 - s) / (1 + (1 - s)^2),
 * which has no overflow or cancellation for any x (numerator s(2-s) instead of 1 - (1-s)^2).
 * This is an exact rewrite, used because on the wasm backend Sigmoid is a vectorised XNNPACK
 * kernel while Softplus and Tanh are scalar loops several times slower. The gradient is supplied
 * by hand (tf.customGrad) as dy * mish'(x), reusing s and tanh(softplus(x)) from the forward pass.
 */
export const mish: (x: Tensor) => Tensor = tf.customGrad(((x: Tensor, save: tf.GradSaveFunc) => {
  const { y, s, th } = mishParts(x);
  save([x, s, th]);
  return {
    value: y,
    gradFunc: (dy: Tensor, saved: Tensor[]) => {
      const [xs, ss, ths] = saved as [Tensor, Tensor, Tensor];
      return [tf.mul(dy, mishPrimeFromParts(xs, ss, ths))];
    },
  };
}) as CustomGradientFunc) as (x: Tensor) => Tensor;

/** s = sigmoid(x), th = tanh(softplus(x)), y = x * th. */
function mishParts(x: Tensor): { y: Tensor; s: Tensor; th: Tensor } {
  const s = tf.sigmoid(x);
  const oneMinusS = tf.sub(1, s);
  const th = tf.div(tf.mul(s, tf.add(oneMinusS, 1)), tf.add(tf.square(oneMinusS), 1));
  return { y: tf.mul(x, th), s, th };
}

/**
 * d Mish / dx = tanh(sp) + x * sigmoid(x) * sech^2(sp), sp = softplus(x), since
 * d sp/dx = sigmoid(x) and d tanh(y)/dy = sech^2(y) = 1 - tanh^2(y).
 */
function mishPrimeFromParts(x: Tensor, s: Tensor, th: Tensor): Tensor {
  return tf.add(th, tf.mul(tf.mul(x, s), tf.sub(1, tf.square(th))));
}

/** Mish'(x) (see mishPrimeFromParts). */
export function mishDerivative(x: Tensor): Tensor {
  return tf.tidy(() => {
    const { s, th } = mishParts(x);
    return mishPrimeFromParts(x, s, th);
  });
}

/** Reference Mish straight from the definition x * tanh(softplus(x)) (for tests). */
export function mishReference(x: Tensor): Tensor {
  return tf.tidy(() => tf.mul(x, tf.tanh(tf.softplus(x))));
}

/** Mish and its derivative at the same point, sharing the sigmoid. */
function mishWithDerivative(x: Tensor): { y: Tensor; dy: Tensor } {
  const { y, s, th } = mishParts(x);
  return { y, dy: mishPrimeFromParts(x, s, th) };
}

// ---------------------------------------------------------------------------------------------
// Building blocks
// ---------------------------------------------------------------------------------------------

/** Cached [1, n] ones: db = 1^T dy as a matMul (the wasm Sum over axis 0 is ~4x slower). */
const onesRows = new Map<number, Tensor>();
function onesRow(n: number): Tensor {
  let t = onesRows.get(n);
  if (!t || t.isDisposed) {
    t = tf.keep(tf.ones([1, n]));
    onesRows.set(n, t);
  }
  return t;
}

/**
 * y = x W + b with a hand-written gradient: dx = dy W^T, dW = x^T dy, db = sum_rows(dy), where the
 * transposes are explicit tf.transpose calls feeding non-transposed matMuls. Reason: tfjs's built-in
 * MatMul gradient uses matMul(..., transposeA/transposeB), which the wasm backend runs outside its
 * XNNPACK fast path (measured 5-20x slower at 256x256); an explicit transpose is cheap. The forward
 * pass uses tf.fused.matMul (bias add fused into the matMul kernel).
 */
const linearOp = tf.customGrad(((x: Tensor, w: Tensor, b: Tensor, save: tf.GradSaveFunc) => {
  save([x, w]);
  return {
    value: tf.fused.matMul({ a: x, b: w, bias: b }),
    gradFunc: (dy: Tensor, saved: Tensor[]) => {
      const [xs, ws] = saved as [Tensor, Tensor];
      const db = tf.reshape(tf.matMul(onesRow(dy.shape[0] as number), dy), [dy.shape[1] as number]);
      return [tf.matMul(dy, tf.transpose(ws)), tf.matMul(tf.transpose(xs), dy), db];
    },
  };
}) as CustomGradientFunc) as (x: Tensor, w: Tensor, b: Tensor) => Tensor;

export function linear(p: LinearParams, x: Tensor): Tensor {
  return linearOp(x, p.weight, p.bias);
}

/**
 * Frequencies of DQL's SinusoidalPosEmb(dim) [DQL agents/helpers.py]:
 * f_k = exp(-k * ln(10000) / (dim/2 - 1)), k = 0 .. dim/2 - 1; emb = [sin(x f), cos(x f)].
 */
export function sinusoidalFrequencies(dim: number): Float32Array {
  const half = dim / 2;
  const c = Math.log(10000) / (half - 1);
  const f = new Float32Array(half);
  for (let k = 0; k < half; k++) f[k] = Math.exp(-k * c);
  return f;
}

/** Reshape [B] or [B,1] to [B,1]. */
function col(x: Tensor): Tensor {
  return x.rank === 2 ? x : tf.reshape(x, [-1, 1]);
}

/** Sinusoidal embedding of `scale * t` for t of shape [B] or [B,1]: [B, dim]. */
export function sinusoidalEmbedding(t: Tensor, dim: number, scale = 1): Tensor {
  return tf.tidy(() => {
    const arg = tf.mul(tf.mul(col(t), scale), tf.tensor2d(sinusoidalFrequencies(dim), [1, dim / 2]));
    return tf.concat([tf.sin(arg), tf.cos(arg)], 1);
  });
}

function timeEmbedDim(p: TimeEmbedParams): number {
  return p[0].weight.shape[0] as number;
}

/** emb(t) = Linear2(Mish(Linear1(SinPos(scale t)))). */
export function timeEmbedForward(p: TimeEmbedParams, t: Tensor, scale: number): Tensor {
  return tf.tidy(() => {
    const e = sinusoidalEmbedding(t, timeEmbedDim(p), scale);
    return linear(p[1], mish(linear(p[0], e)));
  });
}

/**
 * emb(t) and its directional derivative for a tangent dt ([B,1] tensor or scalar):
 * d/dt SinPos(scale t) = scale * f * [cos(scale t f), -sin(scale t f)], then through the MLP:
 * Linear: d(xW + b) = dx W; Mish: d mish(h) = mish'(h) dh.
 */
function timeEmbedJvp(p: TimeEmbedParams, t: Tensor, scale: number, dt: Tensor | number): { e: Tensor; de: Tensor } {
  const dim = timeEmbedDim(p);
  const f = tf.tensor2d(sinusoidalFrequencies(dim), [1, dim / 2]);
  const arg = tf.mul(tf.mul(col(t), scale), f);
  const sin = tf.sin(arg);
  const cos = tf.cos(arg);
  const emb = tf.concat([sin, cos], 1);
  // d arg = scale * f * dt
  const dArg = tf.mul(tf.mul(f, scale), typeof dt === 'number' ? dt : col(dt));
  const dEmb = tf.concat([tf.mul(cos, dArg), tf.mul(tf.neg(sin), dArg)], 1);
  const h = linear(p[0], emb);
  const dh = tf.matMul(dEmb, p[0].weight);
  const { y: m, dy: mPrime } = mishWithDerivative(h);
  const dm = tf.mul(mPrime, dh);
  return { e: linear(p[1], m), de: tf.matMul(dm, p[1].weight) };
}

// ---------------------------------------------------------------------------------------------
// Actor
// ---------------------------------------------------------------------------------------------

/**
 * u(a_t, r, t; s): [B, act_dim]. at [B, A], r and t [B] or [B, 1], s [B, S].
 * Input order concat(a_t, emb_t(t), emb_r(r), s) follows DQL's concat(x, t_emb, state) with emb_r
 * placed after emb_t.
 */
export function actorForward(params: ActorParams, at: Tensor, r: Tensor, t: Tensor, s: Tensor): Tensor {
  return tf.tidy(() => {
    const et = timeEmbedForward(params.tEmbed, t, params.timeScale);
    const er = timeEmbedForward(params.rEmbed, r, params.timeScale);
    let x = tf.concat([at, et, er, s], 1);
    for (const layer of params.mid) x = mish(linear(layer, x));
    return linear(params.final, x);
  });
}

/**
 * Exact Jacobian-vector product of u at (a_t, r, t) along the tangent (v, dr, dt) (state fixed):
 *   du = d/d(eps) u(a_t + eps v, r + eps dr, t + eps dt; s) at eps = 0.
 * Defaults dr = 0, dt = 1: the MeanFlow total derivative du/dt = v . d_a u + d_t u [MeanFlow eq. 8;
 * zhuyu-cs/MeanFlow loss.py uses tangents (v, 0, 1) in torch.func.jvp].
 *
 * Tangent propagation, layer by layer (forward mode by hand):
 *   input:  dx0 = concat(v, d emb_t, d emb_r, 0)
 *   Linear: h = x W + b     ->  dh = dx W
 *   Mish:   y = mish(h)     ->  dy = mish'(h) * dh
 *   output: du = dx_L W_final
 * Returns both u (the primal, identical to actorForward) and du. No parameter gradients are
 * needed from this (OFQL's target is stop-gradient), so call it outside a gradient tape.
 */
export function actorJvp(
  params: ActorParams,
  at: Tensor,
  r: Tensor,
  t: Tensor,
  s: Tensor,
  v: Tensor,
  dr: Tensor | number = 0,
  dt: Tensor | number = 1,
): { u: Tensor; du: Tensor } {
  return tf.tidy(() => {
    const B = at.shape[0] as number;
    const { e: et, de: det } = timeEmbedJvp(params.tEmbed, t, params.timeScale, dt);
    let er: Tensor;
    let der: Tensor;
    if (typeof dr === 'number' && dr === 0) {
      er = timeEmbedForward(params.rEmbed, r, params.timeScale);
      der = tf.zeros(er.shape);
    } else {
      ({ e: er, de: der } = timeEmbedJvp(params.rEmbed, r, params.timeScale, dr));
    }
    let x = tf.concat([at, et, er, s], 1);
    let dx = tf.concat([v, det, der, tf.zeros([B, s.shape[1] as number])], 1);
    for (const layer of params.mid) {
      const h = linear(layer, x);
      const dh = tf.matMul(dx, layer.weight);
      const { y, dy } = mishWithDerivative(h);
      x = y;
      dx = tf.mul(dy, dh);
    }
    return { u: linear(params.final, x), du: tf.matMul(dx, params.final.weight) };
  });
}

/**
 * One-step action a = eps - u(eps, r=0, t=1; s) [OFQL]: the average velocity over [0, 1] moves the
 * noise eps (t=1) to an action (t=0) in one evaluation. Differentiable in the actor parameters.
 * If `maxAction` is given the result is clipped to [-maxAction, maxAction] (DQL clamps sampled
 * actions, agents/diffusion.py `sample`); the clip's gradient is zero outside the box, like torch.clamp.
 */
export function oneStepAction(params: ActorParams, eps: Tensor, s: Tensor, maxAction?: number): Tensor {
  return tf.tidy(() => {
    const B = eps.shape[0] as number;
    const u = actorForward(params, eps, tf.zeros([B, 1]), tf.ones([B, 1]), s);
    const a = tf.sub(eps, u);
    return maxAction === undefined ? a : tf.clipByValue(a, -maxAction, maxAction);
  });
}

// ---------------------------------------------------------------------------------------------
// Critic
// ---------------------------------------------------------------------------------------------

/** One Q net on concat(s, a): [B, 1]. */
export function qForward(q: QNetParams, s: Tensor, a: Tensor): Tensor {
  return tf.tidy(() => {
    let x = tf.concat([s, a], 1);
    for (let i = 0; i < q.length - 1; i++) x = mish(linear(q[i], x));
    return linear(q[q.length - 1], x);
  });
}

/** [Q1(s,a), Q2(s,a)], each [B, 1] (DQL Critic.forward). */
export function criticForward(c: CriticParams, s: Tensor, a: Tensor): [Tensor, Tensor] {
  return [qForward(c.q1, s, a), qForward(c.q2, s, a)];
}

/** min(Q1, Q2): [B, 1] (DQL Critic.q_min). */
export function criticMin(c: CriticParams, s: Tensor, a: Tensor): Tensor {
  return tf.tidy(() => tf.minimum(qForward(c.q1, s, a), qForward(c.q2, s, a)));
}

// ---------------------------------------------------------------------------------------------
// Initialisation
// ---------------------------------------------------------------------------------------------

/** PyTorch-default-like Linear init from a seeded Rng: W, b ~ U(-1/sqrt(fanIn), 1/sqrt(fanIn)). */
export function initLinear(rng: Rng, fanIn: number, fanOut: number): LinearParams<tf.Variable> {
  const bound = 1 / Math.sqrt(fanIn);
  const w = new Float32Array(fanIn * fanOut);
  for (let i = 0; i < w.length; i++) w[i] = rng.uniform(-bound, bound);
  const b = new Float32Array(fanOut);
  for (let i = 0; i < b.length; i++) b[i] = rng.uniform(-bound, bound);
  // tidy frees the temporary tensors; the variables (not tracked by tidy) survive.
  return tf.tidy(() => ({ weight: tf.variable(tf.tensor2d(w, [fanIn, fanOut])), bias: tf.variable(tf.tensor1d(b)) }));
}

type NetDims = Pick<OfqlConfig, 'obsDim' | 'actDim' | 'hiddenDim' | 'depth' | 'timeEmbDim' | 'timeScale'>;

function initTimeEmbed(rng: Rng, d: number): TimeEmbedParams<tf.Variable> {
  return [initLinear(rng, d, 2 * d), initLinear(rng, 2 * d, d)];
}

/** Fresh actor variables; draws happen in `actorNamedParams` order. */
export function initActor(dims: NetDims, rng: Rng): ActorVars {
  const { obsDim, actDim, hiddenDim, depth, timeEmbDim } = dims;
  const tEmbed = initTimeEmbed(rng, timeEmbDim);
  const rEmbed = initTimeEmbed(rng, timeEmbDim);
  const mid: LinearParams<tf.Variable>[] = [];
  let fanIn = actDim + 2 * timeEmbDim + obsDim;
  for (let i = 0; i < depth; i++) {
    mid.push(initLinear(rng, fanIn, hiddenDim));
    fanIn = hiddenDim;
  }
  const final = initLinear(rng, hiddenDim, actDim);
  return { tEmbed, rEmbed, mid, final, timeScale: dims.timeScale };
}

function initQNet(dims: NetDims, rng: Rng): QNetParams<tf.Variable> {
  const layers: LinearParams<tf.Variable>[] = [];
  let fanIn = dims.obsDim + dims.actDim;
  for (let i = 0; i < dims.depth; i++) {
    layers.push(initLinear(rng, fanIn, dims.hiddenDim));
    fanIn = dims.hiddenDim;
  }
  layers.push(initLinear(rng, dims.hiddenDim, 1));
  return layers;
}

/** Fresh twin critic (q1 fully drawn, then q2). */
export function initCritic(dims: NetDims, rng: Rng): CriticVars {
  return { q1: initQNet(dims, rng), q2: initQNet(dims, rng) };
}

/** Independent variable copy (DQL's copy.deepcopy for the EMA actor and the target critic). */
export function cloneActor(p: ActorParams): ActorVars {
  const c = (l: LinearParams): LinearParams<tf.Variable> =>
    tf.tidy(() => ({ weight: tf.variable(l.weight.clone()), bias: tf.variable(l.bias.clone()) }));
  return {
    tEmbed: [c(p.tEmbed[0]), c(p.tEmbed[1])],
    rEmbed: [c(p.rEmbed[0]), c(p.rEmbed[1])],
    mid: p.mid.map(c),
    final: c(p.final),
    timeScale: p.timeScale,
  };
}

export function cloneCritic(p: CriticParams): CriticVars {
  const c = (l: LinearParams): LinearParams<tf.Variable> =>
    tf.tidy(() => ({ weight: tf.variable(l.weight.clone()), bias: tf.variable(l.bias.clone()) }));
  return { q1: p.q1.map(c), q2: p.q2.map(c) };
}

// ---------------------------------------------------------------------------------------------
// Names and (de)serialisation
// ---------------------------------------------------------------------------------------------

/**
 * Stable parameter names, PyTorch-state_dict-like; the numeric index is the module's position in
 * DQL's nn.Sequential (odd positions are the Mish / SinusoidalPosEmb modules, which own no
 * parameters):
 *   <prefix>.t_embed.1.{weight,bias}   Linear(16, 32)      (t_embed.0 = SinusoidalPosEmb, .2 = Mish)
 *   <prefix>.t_embed.3.{weight,bias}   Linear(32, 16)
 *   <prefix>.r_embed.1 / .3            same for r
 *   <prefix>.mid_layer.{0,2,4}.{weight,bias}   Linear(in, 256), Linear(256, 256) x 2
 *   <prefix>.final_layer.{weight,bias}          Linear(256, act_dim)
 * Weights are in OUR layout [in, out]; PyTorch's is [out, in] (see toTorchLayout).
 * Order = init draw order = optimizer-state order. Never reorder: checkpoints depend on it.
 */
export function actorNamedParams<T extends Tensor>(prefix: string, p: ActorParams<T>): Array<[string, T]> {
  const out: Array<[string, T]> = [];
  const push = (name: string, l: LinearParams<T>) => {
    out.push([`${prefix}.${name}.weight`, l.weight], [`${prefix}.${name}.bias`, l.bias]);
  };
  push('t_embed.1', p.tEmbed[0]);
  push('t_embed.3', p.tEmbed[1]);
  push('r_embed.1', p.rEmbed[0]);
  push('r_embed.3', p.rEmbed[1]);
  p.mid.forEach((l, i) => push(`mid_layer.${2 * i}`, l));
  push('final_layer', p.final);
  return out;
}

/**
 * Critic names as DQL's Critic module: <prefix>.q1_model.{0,2,4,6}.{weight,bias} then q2_model
 * (Linear at even nn.Sequential positions, Mish at odd ones; the last index is the Linear(256, 1)).
 */
export function criticNamedParams<T extends Tensor>(prefix: string, p: CriticParams<T>): Array<[string, T]> {
  const out: Array<[string, T]> = [];
  for (const [qName, q] of [['q1_model', p.q1], ['q2_model', p.q2]] as const) {
    q.forEach((l, i) => {
      out.push([`${prefix}.${qName}.${2 * i}.weight`, l.weight], [`${prefix}.${qName}.${2 * i}.bias`, l.bias]);
    });
  }
  return out;
}

/** Read parameters back as Float32Arrays (copies), keeping the list order. */
export function readNamed(list: ReadonlyArray<[string, Tensor]>): Map<string, NamedArray> {
  const m = new Map<string, NamedArray>();
  for (const [name, t] of list) m.set(name, { data: Float32Array.from(t.dataSync() as Float32Array), shape: [...t.shape] });
  return m;
}

/** Assign values (our layout) to variables by name; every name in `list` must be present with its shape. */
export function assignNamed(list: ReadonlyArray<[string, tf.Variable]>, values: ReadonlyMap<string, NamedArray>): void {
  for (const [name, v] of list) {
    const src = values.get(name);
    if (!src) throw new Error(`parameter '${name}' missing from the given tensors`);
    const want = v.shape.join('x');
    if (src.shape.join('x') !== want || src.data.length !== v.size) {
      throw new Error(`parameter '${name}': shape ${src.shape.join('x')} does not match ${want}`);
    }
  }
  for (const [name, v] of list) {
    const src = values.get(name)!;
    tf.tidy(() => v.assign(tf.tensor(src.data, src.shape)));
  }
}

/** Copy of `named` with every 2-D `*.weight` transposed between our [in,out] and PyTorch's [out,in]. */
export function toTorchLayout(named: ReadonlyMap<string, NamedArray>): Map<string, NamedArray> {
  const out = new Map<string, NamedArray>();
  for (const [name, arr] of named) {
    if (name.endsWith('.weight') && arr.shape.length === 2) {
      const [rows, cols] = arr.shape as [number, number];
      const d = new Float32Array(arr.data.length);
      for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) d[j * rows + i] = arr.data[i * cols + j];
      out.set(name, { data: d, shape: [cols, rows] });
    } else {
      out.set(name, { data: Float32Array.from(arr.data), shape: [...arr.shape] });
    }
  }
  return out;
}

/** Inverse of toTorchLayout (transposition is its own inverse). */
export const fromTorchLayout = toTorchLayout;

/** Dispose every variable of a network. */
export function disposeNamed(list: ReadonlyArray<[string, Tensor]>): void {
  for (const [, t] of list) t.dispose();
}
