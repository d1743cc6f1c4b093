/**
 * Toy-study training (scripts/toy/train.ts) on the wasm backend: a few dozen small-batch steps lower
 * a held-out flow-matching loss for both models (and u's one-step SWD), the flow-matching shortcut equals the MeanFlow target at r = t, and the
 * samplers compute exactly a = eps - u(eps, 0, 1) (u) and Euler steps on v(a, t) = u(a, t, t) (v).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../src/ofql/tf.js';
import { initBackend } from '../src/ofql/tensor-backend.js';
import { actorForward, actorNamedParams, disposeNamed } from '../src/ofql/networks.js';
import { normals } from '../src/ofql/losses.js';
import { Rng } from '../src/rng.js';
import { sampleToy } from '../scripts/toy/data.js';
import { initToyActor, sampleToyModel, toyLoss, trainToyModel } from '../scripts/toy/train.js';
import { randomDirections, slicedWasserstein } from '../scripts/toy/swd.js';

beforeAll(async () => {
  await initBackend('wasm');
});

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

describe('toy training', () => {
  /**
   * Held-out flow-matching loss on a fixed batch (fixed a, eps, t; r = t): its target eps - a does
   * not move with the network, unlike the MeanFlow training loss (whose JVP target changes as u
   * sharpens, so the training loss itself need not decrease). Both models learn this part.
   */
  function heldOutFmLoss(actor: ReturnType<typeof initToyActor>): number {
    const B = 512;
    const rng = new Rng(11);
    const tv = Float32Array.from({ length: B }, () => rng.random());
    const ev = normals(rng, 2 * B);
    return tf.tidy(() => {
      const t = tf.tensor2d(tv, [B, 1]);
      return toyLoss(actor, tf.tensor2d(sampleToy('crescent', B, 12), [B, 2]), t, t, tf.tensor2d(ev, [B, 2]), false)().dataSync()[0]!;
    });
  }

  for (const kind of ['average', 'marginal'] as const) {
    const what = kind === 'average' ? 'the held-out flow-matching loss and the one-step SWD' : 'the held-out and the training loss';
    it(`${kind}: 48 steps of batch 128 lower ${what}`, () => {
      const before = tf.memory().numTensors;
      const data = sampleToy('crescent', 128 * 8, 1);
      const init = initToyActor(2);
      const lossBefore = heldOutFmLoss(init);
      const held = sampleToy('crescent', 1000, 13);
      const dirs = randomDirections(64, 2, 14);
      const swdBefore = slicedWasserstein(sampleToyModel(init, 1000, 1, 'average', 15), held, 2, dirs).sw1;
      disposeNamed(actorNamedParams('a', init));

      const m = trainToyModel({ kind, data, epochs: 6, batchSize: 128, lr: 1e-3, initSeed: 2, trainSeed: 3 });
      expect(m.steps).toBe(48);
      expect(m.epochLoss).toHaveLength(6);
      expect(m.epochLoss.every(Number.isFinite)).toBe(true);
      const lossAfter = heldOutFmLoss(m.actor);
      if (process.env.TOY_TEST_VERBOSE) console.log(kind, { lossBefore, lossAfter, swdBefore, epochLoss: m.epochLoss });
      expect(lossAfter).toBeLessThan(0.9 * lossBefore);
      if (kind === 'average') {
        const swdAfter = slicedWasserstein(sampleToyModel(m.actor, 1000, 1, 'average', 15), held, 2, dirs).sw1;
        if (process.env.TOY_TEST_VERBOSE) console.log({ swdAfter });
        expect(swdAfter).toBeLessThan(0.9 * swdBefore);
      } else {
        // Plain flow matching: its own training loss (fixed targets) goes down too.
        expect(mean(m.epochLoss.slice(-2))).toBeLessThan(m.epochLoss[0]!);
      }
      m.dispose();
      expect(tf.memory().numTensors).toBeLessThanOrEqual(before + 2); // cached ones-rows of the Linear gradient
    });
  }

  it('rejects a training set that is not a multiple of the batch size', () => {
    expect(() => trainToyModel({ kind: 'average', data: new Float32Array(20), epochs: 1, batchSize: 3, lr: 1e-3, initSeed: 0, trainSeed: 0 })).toThrow(
      RangeError,
    );
  });

  it('the flow-matching shortcut equals the exact-JVP MeanFlow loss when r = t', () => {
    const actor = initToyActor(4);
    const rng = new Rng(5);
    const B = 64;
    const tv = Float32Array.from({ length: B }, () => rng.random());
    tf.tidy(() => {
      const a = tf.tensor2d(sampleToy('spiral', B, 6), [B, 2]);
      const eps = tf.tensor2d(normals(rng, 2 * B), [B, 2]);
      const t = tf.tensor2d(tv, [B, 1]);
      const withJvp = toyLoss(actor, a, t, t, eps, true)().dataSync()[0]!;
      const shortcut = toyLoss(actor, a, t, t, eps, false)().dataSync()[0]!;
      expect(shortcut).toBeCloseTo(withJvp, 6);
      // With r < t the JVP correction matters.
      const r = tf.mul(t, 0.2);
      expect(Math.abs(toyLoss(actor, a, t, r, eps, true)().dataSync()[0]! - shortcut)).toBeGreaterThan(1e-6);
    });
    disposeNamed(actorNamedParams('a', actor));
  });

  it('samplers: u in one step is eps - u(eps, 0, 1); v in K Euler steps follows v(a, t) = u(a, t, t)', () => {
    const actor = initToyActor(7);
    const n = 32;
    const eps = normals(new Rng(8), 2 * n);
    const s = tf.zeros([n, 0]);
    const col = (x: number) => tf.fill([n, 1], x);
    const u1 = sampleToyModel(actor, n, 1, 'average', 8);
    const ref1 = tf.tidy(() => {
      const e = tf.tensor2d(eps, [n, 2]);
      return tf.sub(e, actorForward(actor, e, col(0), col(1), s)).dataSync();
    });
    expect(Array.from(u1).map((x, i) => x - ref1[i]!).every((d) => Math.abs(d) < 1e-6)).toBe(true);

    const v2 = sampleToyModel(actor, n, 2, 'euler', 8);
    const ref2 = tf.tidy(() => {
      let a: tf.Tensor = tf.tensor2d(eps, [n, 2]);
      a = tf.sub(a, tf.mul(actorForward(actor, a, col(1), col(1), s), 0.5));
      a = tf.sub(a, tf.mul(actorForward(actor, a, col(0.5), col(0.5), s), 0.5));
      return a.dataSync();
    });
    expect(Array.from(v2).map((x, i) => x - ref2[i]!).every((d) => Math.abs(d) < 1e-6)).toBe(true);

    const u2 = sampleToyModel(actor, n, 2, 'average', 8);
    const ref3 = tf.tidy(() => {
      let a: tf.Tensor = tf.tensor2d(eps, [n, 2]);
      a = tf.sub(a, tf.mul(actorForward(actor, a, col(0.5), col(1), s), 0.5));
      a = tf.sub(a, tf.mul(actorForward(actor, a, col(0), col(0.5), s), 0.5));
      return a.dataSync();
    });
    expect(Array.from(u2).map((x, i) => x - ref3[i]!).every((d) => Math.abs(d) < 1e-6)).toBe(true);
    expect(() => sampleToyModel(actor, n, 0, 'euler', 8)).toThrow(RangeError);
    s.dispose();
    disposeNamed(actorNamedParams('a', actor));
  });
});
