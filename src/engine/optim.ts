/**
 * The optimizer state of the engine (Adam exactly as tf.js's AdamOptimizer keeps it, so a
 * checkpoint's optimizer state means the same thing in both engines) and the EMA update, in JS
 * over Float32Arrays. Element-wise steps round to float32 (Math.fround) where tf.js's kernels do.
 */
import type { NamedArray } from '../ofql/networks.js';

const f32 = Math.fround;

/** float32 value of beta^(steps+1), as tf.js accumulates it: `steps` float32 products. */
export function accumulatedBeta(beta: number, steps: number): number {
  const b = f32(beta);
  let acc = b;
  for (let i = 0; i < steps; i++) acc = f32(acc * b);
  return acc;
}

/**
 * Adam's state for a fixed list of parameter arrays, in tf.js's form (adam_optimizer.ts): the
 * moments m and v, the update count and beta^(t+1) as running float32 products. The update itself
 * runs inside the step graphs (src/engine/update-graph.ts):
 *   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
 *   p += -lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps).
 */
export class AdamState {
  /** Updates applied so far (PyTorch's `step`, tf.js's `iterations`). */
  steps = 0;
  private accBeta1: number;
  private accBeta2: number;
  m: Float32Array[];
  v: Float32Array[];

  constructor(
    sizes: readonly number[],
    readonly beta1 = 0.9,
    readonly beta2 = 0.999,
  ) {
    this.m = sizes.map((n) => new Float32Array(n));
    this.v = sizes.map((n) => new Float32Array(n));
    this.accBeta1 = f32(beta1);
    this.accBeta2 = f32(beta2);
  }

  /** 1 - beta1^t and 1 - beta2^t for the next update, as float32 (tf.js `oneMinusAccBeta*`). */
  biasCorrections(): [number, number] {
    return [f32(1 - this.accBeta1), f32(1 - this.accBeta2)];
  }

  /** Take the moments an update produced and advance the count. */
  advance(m: Float32Array[], v: Float32Array[]): void {
    this.m = m;
    this.v = v;
    this.accBeta1 = f32(this.accBeta1 * f32(this.beta1));
    this.accBeta2 = f32(this.accBeta2 * f32(this.beta2));
    this.steps += 1;
  }

  /** `<prefix>.step`, `<prefix>.<param>.exp_avg`, `<prefix>.<param>.exp_avg_sq` (train-step.ts names). */
  state(prefix: string, names: readonly string[], shapes: readonly number[][]): Map<string, NamedArray> {
    const out = new Map<string, NamedArray>([[`${prefix}.step`, { data: Float32Array.of(this.steps), shape: [] }]]);
    names.forEach((name, k) => {
      out.set(`${prefix}.${name}.exp_avg`, { data: Float32Array.from(this.m[k]!), shape: [...shapes[k]!] });
      out.set(`${prefix}.${name}.exp_avg_sq`, { data: Float32Array.from(this.v[k]!), shape: [...shapes[k]!] });
    });
    return out;
  }

  /** Inverse of state(); checks every entry before changing anything. */
  restore(prefix: string, names: readonly string[], shapes: readonly number[][], values: ReadonlyMap<string, NamedArray>): void {
    const get = (key: string, shape: readonly number[]) => {
      const x = values.get(key);
      if (!x) throw new Error(`optimizer state '${key}' missing`);
      if (x.shape.join('x') !== shape.join('x')) throw new Error(`optimizer state '${key}': shape ${x.shape} != ${shape}`);
      return x.data;
    };
    const steps = get(`${prefix}.step`, [])[0]!;
    if (!Number.isSafeInteger(steps) || steps < 0) throw new Error(`optimizer state '${prefix}.step': expected a count >= 0, got ${steps}`);
    const m = names.map((n, k) => get(`${prefix}.${n}.exp_avg`, shapes[k]!));
    const v = names.map((n, k) => get(`${prefix}.${n}.exp_avg_sq`, shapes[k]!));
    m.forEach((x, k) => this.m[k]!.set(x));
    v.forEach((x, k) => this.v[k]!.set(x));
    this.steps = steps;
    this.accBeta1 = accumulatedBeta(this.beta1, steps);
    this.accBeta2 = accumulatedBeta(this.beta2, steps);
  }
}

/** target <- tau source + (1 - tau) target, element-wise (losses.ts softUpdate; EMA with tau = 1 - decay). */
export function softUpdate(target: readonly Float32Array[], source: readonly Float32Array[], tau: number): void {
  const a = f32(tau);
  const b = f32(1 - tau);
  target.forEach((t, k) => {
    const s = source[k]!;
    for (let i = 0; i < t.length; i++) t[i] = f32(s[i]! * a) + f32(t[i]! * b);
  });
}
