/**
 * The OFQL one-step actor as an ONNX model (`ofql-eval export-onnx`, and the `onnx` backend of the
 * OFQL checkpoint policy):
 *
 *   inputs   obs [n, S], noise [n, A]            (noise: the eps of a = eps - u(eps, r=0, t=1; s))
 *   output   action [n, A] = clip(noise - u, -maxAction, maxAction)
 *
 * At r = 0 and t = 1 both time embeddings are constants, so they are computed here (float64) and
 * folded into the first layer's bias: x W0 + b0 with x = concat(eps, emb_t, emb_r, s) becomes
 * concat(eps, s) W0' + (b0 + emb_t W0_t + emb_r W0_r). The graph is then a plain MLP:
 * Concat, depth x (Gemm, Mish), Gemm, Sub, Clip.
 */
import type { OfqlConfig } from './config.js';
import type { NamedArray } from './networks.js';
import { encodeOnnxModel, type Initializer, type NodeSpec } from '../onnx/model.js';

export const OFQL_ONNX_INPUTS = { obs: 'obs', noise: 'noise' } as const;
export const OFQL_ONNX_OUTPUT = 'action';

type Weights = ReadonlyMap<string, NamedArray>;

function param(w: Weights, name: string): NamedArray {
  const p = w.get(name);
  if (p === undefined) throw new Error(`OFQL ONNX export: the checkpoint has no tensor ${name}`);
  return p;
}

const softplus = (x: number): number => (x > 20 ? x : Math.log1p(Math.exp(x)));
const mish = (x: number): number => x * Math.tanh(softplus(x));

/** y = x W + b for one row x (W [in, out] row-major). */
function linearRow(x: ArrayLike<number>, W: NamedArray, b: NamedArray): Float64Array {
  const [inDim, outDim] = W.shape as [number, number];
  const y = Float64Array.from(b.data);
  for (let i = 0; i < inDim; i++) {
    const xi = x[i]!;
    for (let o = 0; o < outDim; o++) y[o]! += xi * W.data[i * outDim + o]!;
  }
  return y;
}

/** emb(tau) = Linear(2T, T)(Mish(Linear(T, 2T)(sinusoidal(scale * tau)))) of one scalar (networks.ts timeEmbedForward). */
export function timeEmbedding(w: Weights, prefix: string, tau: number, cfg: Pick<OfqlConfig, 'timeEmbDim' | 'timeScale'>): Float64Array {
  const half = cfg.timeEmbDim / 2;
  const c = Math.log(10000) / (half - 1);
  const e = new Float64Array(cfg.timeEmbDim);
  for (let k = 0; k < half; k++) {
    const arg = cfg.timeScale * tau * Math.exp(-k * c);
    e[k] = Math.sin(arg);
    e[half + k] = Math.cos(arg);
  }
  const h = linearRow(e, param(w, `${prefix}.1.weight`), param(w, `${prefix}.1.bias`)).map(mish);
  return linearRow(h, param(w, `${prefix}.3.weight`), param(w, `${prefix}.3.bias`));
}

/** First layer with the constant embeddings folded in: W0' [A + S, H] and b0' [H]. */
function foldedFirstLayer(w: Weights, actor: string, cfg: OfqlConfig): { W: Float32Array; b: Float32Array } {
  const { actDim: A, obsDim: S, timeEmbDim: T, hiddenDim: H } = cfg;
  const W0 = param(w, `${actor}.mid_layer.0.weight`);
  const emb = [...timeEmbedding(w, `${actor}.t_embed`, 1, cfg), ...timeEmbedding(w, `${actor}.r_embed`, 0, cfg)];
  const bias = Float64Array.from(param(w, `${actor}.mid_layer.0.bias`).data);
  for (let i = 0; i < 2 * T; i++) for (let o = 0; o < H; o++) bias[o]! += emb[i]! * W0.data[(A + i) * H + o]!;
  const W = new Float32Array((A + S) * H);
  W.set(W0.data.subarray(0, A * H), 0);
  W.set(W0.data.subarray((A + 2 * T) * H, (A + 2 * T + S) * H), A * H);
  return { W, b: Float32Array.from(bias) };
}

export interface OfqlOnnxOptions {
  /** Which actor: 'ema' (tensors ema_actor.*) or 'online' (actor.*). */
  actor: 'ema' | 'online';
  /** Recorded in the model's metadata. */
  metadata?: Record<string, string>;
  producerVersion: string;
}

/** The ONNX bytes of the one-step actor of an OFQL checkpoint's weights. */
export function ofqlActorOnnx(w: Weights, cfg: OfqlConfig, o: OfqlOnnxOptions): Uint8Array {
  const actor = o.actor === 'online' ? 'actor' : 'ema_actor';
  const { actDim: A, obsDim: S, hiddenDim: H, depth } = cfg;
  const first = foldedFirstLayer(w, actor, cfg);
  const initializers: Initializer[] = [
    { name: 'W0', shape: [A + S, H], data: first.W },
    { name: 'b0', shape: [H], data: first.b },
    { name: 'low', shape: [], data: Float32Array.of(-cfg.maxAction) },
    { name: 'high', shape: [], data: Float32Array.of(cfg.maxAction) },
  ];
  const nodes: NodeSpec[] = [{ op: 'Concat', inputs: [OFQL_ONNX_INPUTS.noise, OFQL_ONNX_INPUTS.obs], outputs: ['x'], attributes: { axis: { int: 1 } } }];
  let x = 'x';
  for (let i = 0; i <= depth; i++) {
    if (i > 0) {
      const name = i === depth ? 'final_layer' : `mid_layer.${2 * i}`;
      initializers.push({ name: `W${i}`, shape: param(w, `${actor}.${name}.weight`).shape, data: param(w, `${actor}.${name}.weight`).data });
      initializers.push({ name: `b${i}`, shape: param(w, `${actor}.${name}.bias`).shape, data: param(w, `${actor}.${name}.bias`).data });
    }
    const out = i === depth ? 'u' : `h${i}`;
    nodes.push({ op: 'Gemm', inputs: [x, `W${i}`, `b${i}`], outputs: [out] });
    if (i < depth) nodes.push({ op: 'Mish', inputs: [out], outputs: [`m${i}`] });
    x = `m${i}`;
  }
  nodes.push({ op: 'Sub', inputs: [OFQL_ONNX_INPUTS.noise, 'u'], outputs: ['a'] });
  nodes.push({ op: 'Clip', inputs: ['a', 'low', 'high'], outputs: [OFQL_ONNX_OUTPUT] });
  return encodeOnnxModel({
    name: 'ofql_one_step_actor',
    inputs: [
      { name: OFQL_ONNX_INPUTS.obs, shape: ['n', S] },
      { name: OFQL_ONNX_INPUTS.noise, shape: ['n', A] },
    ],
    outputs: [{ name: OFQL_ONNX_OUTPUT, shape: ['n', A] }],
    initializers,
    nodes,
    metadata: o.metadata,
    producerVersion: o.producerVersion,
  });
}
