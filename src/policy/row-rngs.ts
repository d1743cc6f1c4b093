/**
 * Per-row randomness for stochastic policies: row j of an act() call draws from an Rng seeded with
 * deriveSeed(deriveSeed(episodeSeed_j, POLICY_NOISE_STREAM), step_j), so an episode's actions depend
 * only on its seed, never on the worker count or on the rows it shares a batch with. The OFQL
 * checkpoint policy and ONNX models with a `noise` input draw the same numbers, so an exported OFQL
 * actor acts exactly like its checkpoint.
 */
import { Rng, deriveSeed } from '../rng.js';
import type { ActContext } from './types.js';

/** Mixed into the episode seed so the policy's noise differs from the env's reset-noise stream. */
export const POLICY_NOISE_STREAM = 0x0f91;

/** Re-seeded Rngs, one per row (reused between calls); `fallback` for every row without a context. */
export class RowRngs {
  private readonly rows: Rng[] = [];
  private readonly picked: Rng[] = [];
  private readonly fallback: Rng;

  constructor(runSeed: number) {
    this.fallback = new Rng(deriveSeed(runSeed, POLICY_NOISE_STREAM));
  }

  /** The Rng of each of the n rows, seeded for this step (the array is reused: read it before the next call). */
  forRows(n: number, ctx: ActContext | undefined): Rng[] {
    this.picked.length = n;
    for (let j = 0; j < n; j++) {
      if (ctx === undefined) {
        this.picked[j] = this.fallback;
        continue;
      }
      const seed = deriveSeed(deriveSeed(ctx.episodeSeeds[j]!, POLICY_NOISE_STREAM), ctx.steps[j]!);
      const r = (this.rows[j] ??= new Rng(seed));
      r.seed(seed);
      this.picked[j] = r;
    }
    return this.picked;
  }
}
