/**
 * Parameter updates as graph ops, appended to a step graph after its gradients, so that a whole
 * training step is two onnxruntime calls with no per-element JS loop (JS ran Adam over the 0.4 M
 * parameters about ten times slower than the vectorised kernels). The maths is tf.js's, op for op
 * in float32 (losses.ts clipByGlobalNorm, tf.js adam_optimizer.ts, losses.ts softUpdate):
 *   norm = sqrt(sum_k sum(g_k^2));  g_k *= min(maxNorm / (norm + 1e-6), 1)
 *   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
 *   p = (m / bias1) / (sqrt(v / bias2) + eps) * (-lr) + p     (bias_i = 1 - beta_i^t, fed per step)
 */
import type { GraphBuilder } from './graph.js';
import type { Grads } from './net-graphs.js';

/** Graph names of a parameter's update inputs and outputs. */
export const UPDATE_IO = {
  moment1: (p: string) => `m:${p}`,
  moment2: (p: string) => `v:${p}`,
  newParam: (p: string) => `new:${p}`,
  newMoment1: (p: string) => `new_m:${p}`,
  newMoment2: (p: string) => `new_v:${p}`,
  /** Scalar inputs 1 - beta1^t, 1 - beta2^t of this network's optimizer. */
  bias1: (net: string) => `bias1:${net}`,
  bias2: (net: string) => `bias2:${net}`,
  gradNorm: (net: string) => `grad_norm:${net}`,
  /** Scalar inputs tau and 1 - tau of a soft update (fed, so one graph can also skip it: 0 and 1). */
  tau: 'soft_update_tau',
  keep: 'soft_update_keep',
} as const;

export interface AdamSettings {
  lr: number;
  eps: number;
  /** Global-norm clip; undefined or <= 0: none. */
  maxNorm: number | undefined;
  beta1?: number;
  beta2?: number;
}

/**
 * Clip and Adam for the parameters `params` ([name, shape], graph inputs named as the parameter)
 * of network `net`, from their gradients. Outputs the new parameters and moments and the
 * pre-clip gradient norm; returns the new parameters' values (for a soft update after it).
 */
export function adamUpdate(g: GraphBuilder, net: string, params: ReadonlyArray<[string, number[]]>, grads: Grads, o: AdamSettings): Map<string, string> {
  const gradOf = (name: string) => {
    const v = grads.get(name);
    if (v === undefined) throw new Error(`internal: no gradient for ${name}`);
    return v;
  };
  const squares = params.map(([name]) => g.reduceSum(g.square(gradOf(name))));
  const norm = g.op('Sqrt', [g.op('Sum', squares)]);
  g.output(UPDATE_IO.gradNorm(net), norm, []);
  const clip = o.maxNorm !== undefined && o.maxNorm > 0;
  const coef = clip ? g.min(g.div(g.scalar(o.maxNorm!), g.add(norm, g.scalar(1e-6))), g.scalar(1)) : undefined;

  const beta1 = o.beta1 ?? 0.9;
  const beta2 = o.beta2 ?? 0.999;
  const bias1 = g.input(UPDATE_IO.bias1(net), []);
  const bias2 = g.input(UPDATE_IO.bias2(net), []);
  const updated = new Map<string, string>();
  for (const [name, shape] of params) {
    const grad = coef ? g.mul(gradOf(name), coef) : gradOf(name);
    const m = g.add(g.mul(g.input(UPDATE_IO.moment1(name), shape), g.scalar(beta1)), g.mul(grad, g.scalar(1 - beta1)));
    const v = g.add(g.mul(g.input(UPDATE_IO.moment2(name), shape), g.scalar(beta2)), g.mul(g.square(grad), g.scalar(1 - beta2)));
    const step = g.div(g.div(m, bias1), g.add(g.op('Sqrt', [g.div(v, bias2)]), g.scalar(o.eps)));
    const p = g.add(g.mul(step, g.scalar(-o.lr)), name);
    g.output(UPDATE_IO.newMoment1(name), m, shape);
    g.output(UPDATE_IO.newMoment2(name), v, shape);
    g.output(UPDATE_IO.newParam(name), p, shape);
    updated.set(name, p);
  }
  return updated;
}

/** target = tau source + (1 - tau) target for each [targetName, shape] (target params are graph inputs). */
export function softUpdateOutputs(g: GraphBuilder, targets: ReadonlyArray<[string, number[]]>, sources: readonly string[]): void {
  const tau = g.input(UPDATE_IO.tau, []);
  const keep = g.input(UPDATE_IO.keep, []);
  targets.forEach(([name, shape], k) => {
    g.output(UPDATE_IO.newParam(name), g.add(g.mul(sources[k]!, tau), g.mul(name, keep)), shape);
  });
}
