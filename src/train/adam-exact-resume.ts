/**
 * Make a restored tf.js Adam continue bit-for-bit.
 *
 * tf.js AdamOptimizer keeps beta1^(t+1) and beta2^(t+1) in `accBeta1` / `accBeta2`, updated by one
 * float32 multiplication per step; `setWeights` instead recomputes them as pow(beta, t + 1). The two
 * differ in the last bits, so a resumed run's bias correction (and from then on every parameter)
 * drifts from the uninterrupted run's by rounding noise from the first resumed step on (measured:
 * the critic update of the first resumed step already differs).
 *
 * This wraps AdamOptimizer.prototype.setWeights once per process: after the original, it sets
 * both accumulators to the exact float32 product the optimizer would hold after `iterations`
 * steps (Math.fround products are correctly rounded float32 multiplications, as the backends'
 * Mul). Everything else is untouched. The proper home of this fix is the agent's optimizer
 * restore (src/ofql/train-step.ts restoreOptimizer); the wrapper is idempotent and stays correct
 * if that is fixed too (both set the same values).
 */
import { tf } from '../ofql/tf.js';

const PATCHED = Symbol.for('ofql-eval.adamExactResume');

/** float32 value of beta^(steps+1) computed as the optimizer does: steps float32 products. */
export function accumulatedBeta(beta: number, steps: number): number {
  const b = Math.fround(beta);
  let acc = b;
  for (let i = 0; i < steps; i++) acc = Math.fround(acc * b);
  return acc;
}

interface AdamInternals {
  beta1: number;
  beta2: number;
  accBeta1?: tf.Variable;
  accBeta2?: tf.Variable;
  iterations: number;
}

/** Install the wrapper (idempotent). Returns false if this tf.js version lacks the fields it needs. */
export function installExactAdamResume(): boolean {
  const proto = tf.AdamOptimizer.prototype as unknown as Record<symbol | string, unknown>;
  if (proto[PATCHED]) return true;
  const original = proto.setWeights as ((this: unknown, w: Array<{ name: string; tensor: tf.Tensor }>) => Promise<void>) | undefined;
  if (typeof original !== 'function') return false;
  proto.setWeights = async function patchedSetWeights(this: AdamInternals, weights: Array<{ name: string; tensor: tf.Tensor }>): Promise<void> {
    await original.call(this, weights);
    const t = this.iterations;
    if (this.accBeta1 && this.accBeta2 && Number.isSafeInteger(t) && t >= 0) {
      const b1 = accumulatedBeta(this.beta1, t);
      const b2 = accumulatedBeta(this.beta2, t);
      tf.tidy(() => {
        this.accBeta1!.assign(tf.scalar(b1));
        this.accBeta2!.assign(tf.scalar(b2));
      });
    }
  };
  proto[PATCHED] = true;
  return true;
}
