/**
 * Deterministic reference policies for the fidelity check (`npm run fidelity`), and the
 * episode statistics the report prints.
 *
 * Agent files (shared/fidelity/*.json, see its README) hold a policy trained by rl-zoo,
 * converted to plain JSON:
 *
 *   obsNorm (or null): x = clip((obs - mean) / sqrt(var + epsilon), -clip, clip)
 *   layers:            y = activation(W x + b), W row-major [out, in], bias may be null
 *   output:            'tanh' or 'clip' to [-1, 1] on the last layer's output
 *
 * `parseAgent` validates a parsed file (every shape is checked, so a malformed file fails
 * with a message naming the field, not with NaN actions), `loadAgent` reads one from disk, and
 * `MlpPolicy` runs it with preallocated buffers (no allocation per `act`).
 */
import { readJsonFile } from '../src/json-file.js';
import { mean, meanConfidenceInterval, populationStd, sampleStd } from '../src/stats.js';

export type Activation = 'none' | 'relu' | 'tanh';
export type OutputTransform = 'tanh' | 'clip';

export interface ObsNorm {
  mean: number[];
  var: number[];
  clip: number;
  epsilon: number;
}

export interface DenseLayer {
  /** [out, in] */
  shape: [number, number];
  /** row-major [out, in] */
  weight: number[];
  bias: number[] | null;
  activation: Activation;
}

export interface AgentFile {
  name: string;
  /** gym id the agent was trained on, e.g. `Hopper-v3`. */
  env: string;
  published: { meanReturn: number; stdReturn: number; episodes: number };
  obsNorm: ObsNorm | null;
  layers: DenseLayer[];
  output: OutputTransform;
  note?: string;
}

export class AgentFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AgentFormatError';
  }
}

const ACTIVATIONS: readonly string[] = ['none', 'relu', 'tanh'];
const OUTPUTS: readonly string[] = ['tanh', 'clip'];

/** Validate a parsed agent file; `source` names it in error messages. */
export function parseAgent(raw: unknown, source = '<agent>'): AgentFile {
  const fail = (msg: string): never => {
    throw new AgentFormatError(`${source}: ${msg}`);
  };
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail('expected a JSON object');
  const o = raw as Record<string, unknown>;

  const str = (k: string): string => {
    const v = o[k];
    if (typeof v !== 'string' || v.length === 0) fail(`field '${k}' must be a non-empty string`);
    return v as string;
  };
  const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
  const numArray = (v: unknown, n: number, what: string): number[] => {
    if (!Array.isArray(v)) return fail(`${what} must be an array`);
    if (v.length !== n) fail(`${what} must have ${n} entries, got ${v.length}`);
    for (let i = 0; i < v.length; i++) if (!isNum(v[i])) fail(`${what}[${i}] is not a finite number`);
    return v as number[];
  };

  const name = str('name');
  const env = str('env');

  const pub = o.published as Record<string, unknown> | undefined;
  if (!pub || typeof pub !== 'object') fail(`field 'published' must be an object`);
  for (const k of ['meanReturn', 'stdReturn', 'episodes']) {
    if (!isNum(pub![k])) fail(`published.${k} must be a finite number`);
  }
  const published = {
    meanReturn: pub!.meanReturn as number,
    stdReturn: pub!.stdReturn as number,
    episodes: pub!.episodes as number,
  };

  if (!Array.isArray(o.layers) || o.layers.length === 0) fail(`field 'layers' must be a non-empty array`);
  const layers: DenseLayer[] = [];
  let prevOut = -1;
  (o.layers as unknown[]).forEach((l, i) => {
    const what = `layers[${i}]`;
    if (l === null || typeof l !== 'object') fail(`${what} must be an object`);
    const L = l as Record<string, unknown>;
    const shape = L.shape;
    if (!Array.isArray(shape) || shape.length !== 2 || !shape.every((d) => Number.isSafeInteger(d) && (d as number) > 0)) {
      fail(`${what}.shape must be [out, in] with positive integers`);
    }
    const [nOut, nIn] = shape as [number, number];
    if (prevOut >= 0 && nIn !== prevOut) fail(`${what} takes ${nIn} inputs but layers[${i - 1}] gives ${prevOut}`);
    prevOut = nOut;
    const weight = numArray(L.weight, nOut * nIn, `${what}.weight`);
    const bias = L.bias === null || L.bias === undefined ? null : numArray(L.bias, nOut, `${what}.bias`);
    const act = L.activation ?? 'none';
    if (typeof act !== 'string' || !ACTIVATIONS.includes(act)) {
      fail(`${what}.activation must be one of ${ACTIVATIONS.join(', ')}, got ${JSON.stringify(act)}`);
    }
    layers.push({ shape: [nOut, nIn], weight, bias, activation: act as Activation });
  });
  const inputSize = layers[0].shape[1];

  let obsNorm: ObsNorm | null = null;
  if (o.obsNorm !== null && o.obsNorm !== undefined) {
    const n = o.obsNorm as Record<string, unknown>;
    if (typeof n !== 'object') fail(`field 'obsNorm' must be an object or null`);
    const mean = numArray(n.mean, inputSize, 'obsNorm.mean');
    const variance = numArray(n.var, inputSize, 'obsNorm.var');
    variance.forEach((v, i) => {
      if (v < 0) fail(`obsNorm.var[${i}] is negative`);
    });
    if (!isNum(n.clip) || (n.clip as number) <= 0) fail('obsNorm.clip must be a positive number');
    if (!isNum(n.epsilon) || (n.epsilon as number) < 0) fail('obsNorm.epsilon must be a non-negative number');
    obsNorm = { mean, var: variance, clip: n.clip as number, epsilon: n.epsilon as number };
  }

  const output = o.output;
  if (typeof output !== 'string' || !OUTPUTS.includes(output)) {
    fail(`field 'output' must be one of ${OUTPUTS.join(', ')}, got ${JSON.stringify(output)}`);
  }
  const note = typeof o.note === 'string' ? o.note : undefined;
  return { name, env, published, obsNorm, layers, output: output as OutputTransform, note };
}

/** Read and validate one agent file. */
export function loadAgent(path: string): AgentFile {
  const raw = readJsonFile(path, (stage, why) =>
    new AgentFormatError(stage === 'read' ? `cannot read agent file ${path}: ${why}` : `${path}: not valid JSON: ${why}`),
  );
  return parseAgent(raw, path);
}

/** A dense feed-forward policy; `act` reuses its buffers. */
export class MlpPolicy {
  readonly inputSize: number;
  readonly outputSize: number;
  private readonly layers: ReadonlyArray<{
    nOut: number;
    nIn: number;
    w: Float64Array;
    b: Float64Array | null;
    act: Activation;
    y: Float64Array;
  }>;
  private readonly x: Float64Array;
  private readonly normMean: Float64Array | null;
  private readonly normInvStd: Float64Array | null;
  private readonly normClip: number;
  private readonly output: OutputTransform;

  constructor(agent: AgentFile) {
    this.inputSize = agent.layers[0].shape[1];
    this.outputSize = agent.layers[agent.layers.length - 1].shape[0];
    this.layers = agent.layers.map((l) => ({
      nOut: l.shape[0],
      nIn: l.shape[1],
      w: Float64Array.from(l.weight),
      b: l.bias ? Float64Array.from(l.bias) : null,
      act: l.activation,
      y: new Float64Array(l.shape[0]),
    }));
    this.x = new Float64Array(this.inputSize);
    const n = agent.obsNorm;
    this.normMean = n ? Float64Array.from(n.mean) : null;
    this.normInvStd = n ? Float64Array.from(n.var, (v) => 1 / Math.sqrt(v + n.epsilon)) : null;
    this.normClip = n ? n.clip : Infinity;
    this.output = agent.output;
  }

  /**
   * Deterministic action for `obs` (length `inputSize`), written into `out` (a new array if
   * omitted). Every entry is in [-1, 1].
   */
  act(obs: ArrayLike<number>, out: Float64Array = new Float64Array(this.outputSize)): Float64Array {
    if (obs.length !== this.inputSize) {
      throw new RangeError(`policy takes ${this.inputSize} observation entries, got ${obs.length}`);
    }
    if (out.length !== this.outputSize) {
      throw new RangeError(`policy writes ${this.outputSize} action entries, out has ${out.length}`);
    }
    const x = this.x;
    const mean = this.normMean;
    const inv = this.normInvStd;
    if (mean && inv) {
      const c = this.normClip;
      for (let i = 0; i < x.length; i++) {
        const z = (obs[i] - mean[i]) * inv[i];
        x[i] = z < -c ? -c : z > c ? c : z;
      }
    } else {
      for (let i = 0; i < x.length; i++) x[i] = obs[i];
    }
    let input: Float64Array = x;
    for (const L of this.layers) {
      const { nOut, nIn, w, b, act, y } = L;
      for (let r = 0; r < nOut; r++) {
        let s = b ? b[r] : 0;
        const row = r * nIn;
        for (let c = 0; c < nIn; c++) s += w[row + c] * input[c];
        y[r] = act === 'relu' ? (s > 0 ? s : 0) : act === 'tanh' ? Math.tanh(s) : s;
      }
      input = y;
    }
    if (this.output === 'tanh') {
      for (let j = 0; j < out.length; j++) out[j] = Math.tanh(input[j]);
    } else {
      for (let j = 0; j < out.length; j++) {
        const a = input[j];
        out[j] = a < -1 ? -1 : a > 1 ? 1 : a;
      }
    }
    return out;
  }
}

// ---- episode statistics -------------------------------------------------------------

export interface Summary {
  n: number;
  mean: number;
  /** Population standard deviation (ddof = 0, as numpy's np.std / the rl-zoo benchmark). */
  std: number;
  /** Sample standard deviation (ddof = 1), used for the confidence interval. */
  sampleStd: number;
  /** Two-sided 95% confidence interval of the mean, Student-t with n-1 degrees of freedom. */
  ci95: [number, number];
}

/** n, mean, population and sample std, and the Student-t 95% CI of the mean (src/stats.ts). */
export function summarize(values: ArrayLike<number>): Summary {
  const n = values.length;
  if (n === 0) throw new RangeError('summarize needs at least one value');
  const m = mean(values);
  const ci = meanConfidenceInterval(values, 0.95);
  return {
    n,
    mean: m,
    std: populationStd(values),
    sampleStd: sampleStd(values),
    ci95: ci ? [ci.low, ci.high] : [NaN, NaN],
  };
}
