/**
 * Built-in policies: `random` (uniform in [-1, 1]) and `zero` (all-zero actions).
 *
 * `random` draws the actions of row j from a generator seeded by (episode seed, step) when the
 * evaluator passes an `ActContext`, so an episode's actions depend only on its seed, never on
 * which worker runs it or which other episodes share the batch. Without a context (direct use)
 * it draws from one stream seeded by `spec.seed`.
 */
import { Rng, deriveSeed } from '../rng.js';
import type { ActContext, BuiltinPolicyName, Policy, PolicyFactory, PolicySpec } from './types.js';

/** Mixed into the episode seed so the policy's stream differs from the env's reset-noise stream. */
const RANDOM_POLICY_STREAM = 0x7a11d0;

export function createRandomPolicy(spec: PolicySpec): Policy {
  const { actionSize } = spec;
  const rng = new Rng(0);
  const fallback = new Rng(deriveSeed(spec.seed ?? 0, RANDOM_POLICY_STREAM));
  const out = new OutputBuffer(actionSize);
  return {
    description: 'uniform random actions in [-1, 1], seeded per (episode, step)',
    act(_obs: Float64Array, n: number, ctx?: ActContext): Float64Array {
      const view = out.rows(n);
      for (let j = 0; j < n; j++) {
        let g = fallback;
        if (ctx) {
          rng.seed(deriveSeed(deriveSeed(ctx.episodeSeeds[j], RANDOM_POLICY_STREAM), ctx.steps[j]));
          g = rng;
        }
        const o = j * actionSize;
        for (let k = 0; k < actionSize; k++) view[o + k] = 2 * g.random() - 1;
      }
      return view;
    },
  };
}

export function createZeroPolicy(spec: PolicySpec): Policy {
  const out = new OutputBuffer(spec.actionSize);
  return {
    description: 'all-zero actions',
    act(_obs: Float64Array, n: number): Float64Array {
      return out.rows(n).fill(0);
    },
  };
}

/** A growable action buffer with a cached n-row view per n (no allocation in steady state). */
class OutputBuffer {
  private buf = new Float64Array(0);
  private views: Float64Array[] = [];
  constructor(private readonly actionSize: number) {}
  rows(n: number): Float64Array {
    if (n * this.actionSize > this.buf.length) {
      this.buf = new Float64Array(Math.max(n, 2 * (this.buf.length / this.actionSize)) * this.actionSize);
      this.views = [];
    }
    return (this.views[n] ??= this.buf.subarray(0, n * this.actionSize));
  }
}

export const BUILTIN_POLICIES: Record<BuiltinPolicyName, PolicyFactory> = {
  random: createRandomPolicy,
  zero: createZeroPolicy,
};

export function isBuiltinPolicyName(name: string): name is BuiltinPolicyName {
  return Object.prototype.hasOwnProperty.call(BUILTIN_POLICIES, name);
}
