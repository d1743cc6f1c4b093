/**
 * Pieces of the training loop: minibatch sampler (uniform, seeded, resumable), DQL reward tuning,
 * JSONL truncation on resume, and the exact Adam restore (agent-level resume equivalence).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOfqlAgent, initBackend, makeOfqlConfig } from '../src/ofql/index.js';
import { randomBatch } from '../scripts/bench-batch.js';
import { Rng } from '../src/rng.js';
import { UniformSampler, truncateJsonlAfterStep, tuneRewards } from '../src/train/index.js';
import { accumulatedBeta } from '../src/engine/optim.js';

let dir: string;
beforeAll(async () => {
  await initBackend('wasm');
  dir = mkdtempSync(join(tmpdir(), 'ofql-train-units-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function toyData(N: number, S = 2, A = 1) {
  return {
    N,
    observationSize: S,
    actionSize: A,
    observations: Float32Array.from({ length: N * S }, (_, i) => i),
    nextObservations: Float32Array.from({ length: N * S }, (_, i) => 1000 + i),
    actions: Float32Array.from({ length: N * A }, (_, i) => i / N),
    rewards: Float32Array.from({ length: N }, (_, i) => i),
    terminals: Float32Array.from({ length: N }, (_, i) => (i % 7 === 0 ? 1 : 0)),
  };
}

describe('UniformSampler', () => {
  it('draws whole transitions uniformly, with a resumable stream', () => {
    const data = toyData(10);
    const s = new UniformSampler(data, 4, 1);
    const counts = new Array(10).fill(0);
    for (let k = 0; k < 2500; k++) {
      const b = s.next();
      for (let j = 0; j < 4; j++) {
        const i = b.rewards[j]!;
        counts[i] += 1;
        expect(b.states[2 * j]).toBe(2 * i);
        expect(b.nextStates[2 * j + 1]).toBe(1000 + 2 * i + 1);
        expect(b.actions[j]).toBe(data.actions[i]);
        expect(b.notDones[j]).toBe(i % 7 === 0 ? 0 : 1);
      }
    }
    for (const c of counts) expect(Math.abs(c - 1000)).toBeLessThan(150);

    const a = new UniformSampler(data, 4, 9);
    a.next();
    const state = a.getState();
    const expected = Array.from(a.next().rewards);
    const b = new UniformSampler(data, 4, 123);
    b.setState(state);
    expect(Array.from(b.next().rewards)).toEqual(expected);
  });
});

describe('tuneRewards (DQL reward_tune)', () => {
  it('no / cql_antmaze / normalize', () => {
    const r = Float32Array.of(0, 1, 2, 3);
    expect(Array.from(tuneRewards(r, 'no'))).toEqual([0, 1, 2, 3]);
    expect(Array.from(tuneRewards(r, 'cql_antmaze'))).toEqual([-2, 2, 6, 10]);
    const n = tuneRewards(r, 'normalize'); // (r - 1.5) / std(ddof=1) = (r - 1.5) / 1.2910
    expect(n[0]).toBeCloseTo(-1.5 / Math.sqrt(5 / 3), 6);
    expect(n[3]).toBeCloseTo(1.5 / Math.sqrt(5 / 3), 6);
  });
});

describe('truncateJsonlAfterStep', () => {
  it('keeps lines up to the step and drops a torn last line', () => {
    const p = join(dir, 'm.jsonl');
    writeFileSync(p, '{"step":10}\n{"step":20}\n{"step":30}\n{"step":4');
    expect(truncateJsonlAfterStep(p, 20)).toEqual({ kept: 2, dropped: 2 });
    expect(readFileSync(p, 'utf8')).toBe('{"step":10}\n{"step":20}\n');
    writeFileSync(p, '{"step":10}\n{"step":2');
    expect(truncateJsonlAfterStep(p, 100)).toEqual({ kept: 1, dropped: 1 });
    expect(readFileSync(p, 'utf8')).toBe('{"step":10}\n');
    expect(truncateJsonlAfterStep(join(dir, 'none.jsonl'), 5)).toEqual({ kept: 0, dropped: 0 });
  });
});

describe('exact Adam restore', () => {
  it('accumulatedBeta is the float32 running product', () => {
    expect(accumulatedBeta(0.9, 0)).toBe(Math.fround(0.9));
    let acc = Math.fround(0.999);
    for (let i = 0; i < 500; i++) acc = Math.fround(acc * Math.fround(0.999));
    expect(accumulatedBeta(0.999, 500)).toBe(acc);
  });

  it('an agent restored from weights + Adam + training state continues bit-for-bit', async () => {
    const cfg = makeOfqlConfig({ obsDim: 11, actDim: 3 }, { hiddenDim: 16, batchSize: 32, gradNorm: 9, emaStartStep: 5 });
    const rng = new Rng(5);
    const batches = Array.from({ length: 30 }, () => randomBatch(rng, 32, 11, 3));
    const full = createOfqlAgent(cfg, 1);
    const want = batches.map((b) => full.trainStep(b));
    const first = createOfqlAgent(cfg, 1);
    for (const b of batches.slice(0, 15)) first.trainStep(b);
    const resumed = createOfqlAgent(cfg, 99);
    resumed.loadNamedTensors(first.namedTensors());
    await resumed.setOptimizerState(await first.getOptimizerState());
    resumed.setTrainingState(first.getTrainingState());
    const got = batches.slice(15).map((b) => resumed.trainStep(b));
    expect(got).toEqual(want.slice(15));
    for (const a of [full, first, resumed]) a.dispose();
  });
});
