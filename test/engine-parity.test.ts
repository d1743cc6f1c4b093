/**
 * The ONNX engine (src/engine) against the TF.js agent (src/ofql/train-step.ts), the reference it
 * replaces for speed: same seed -> same initial weights bit for bit; same weights and batch -> the
 * same losses, Q values, MeanFlow targets (through the behaviour loss with r != t) and updated
 * weights to ~1e-5; the same actions. Plus what the engine must do on its own: exact resume,
 * a critic-only step that leaves everything else alone, and a TF.js checkpoint state continued.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createOrtOfqlAgent } from '../src/engine/ort-agent.js';
import { makeOfqlConfig, type OfqlConfig } from '../src/ofql/config.js';
import type { NamedArray } from '../src/ofql/networks.js';
import { initBackend } from '../src/ofql/tensor-backend.js';
import { createOfqlAgent, type OfqlAgent, type OfqlMetrics, type TransitionBatch } from '../src/ofql/train-step.js';
import { Rng } from '../src/rng.js';
import { randomBatch } from '../scripts/bench-batch.js';

const S = 5;
const A = 2;
const B = 32;

function config(overrides: Partial<OfqlConfig> = {}): OfqlConfig {
  return makeOfqlConfig({ obsDim: S, actDim: A }, { hiddenDim: 32, depth: 2, batchSize: B, gradNorm: 1, emaStartStep: 0, emaEvery: 1, ...overrides });
}

/** Episode ends in one row of ten, so the not-done mask matters in every batch. */
const batch = (rng: Rng): TransitionBatch => randomBatch(rng, B, S, A, 0.1);

const agents: OfqlAgent[] = [];
function pair(cfg: OfqlConfig, seed = 3): [OfqlAgent, OfqlAgent] {
  const p: [OfqlAgent, OfqlAgent] = [createOfqlAgent(cfg, seed), createOrtOfqlAgent(cfg, seed)];
  agents.push(...p);
  return p;
}

beforeAll(async () => {
  await initBackend('wasm');
});
afterEach(() => {
  while (agents.length) agents.pop()!.dispose();
});

/** Largest |x - y| over every named tensor (both maps must hold the same names and shapes). */
function maxDiff(x: Map<string, NamedArray>, y: Map<string, NamedArray>): number {
  expect([...y.keys()]).toEqual([...x.keys()]);
  let d = 0;
  for (const [name, a] of x) {
    const b = y.get(name)!;
    expect(b.shape, name).toEqual(a.shape);
    for (let i = 0; i < a.data.length; i++) d = Math.max(d, Math.abs(a.data[i]! - b.data[i]!));
  }
  return d;
}

const LOSSES = ['criticLoss', 'targetQMean', 'bcLoss', 'qLoss', 'actorLoss', 'criticGradNorm', 'actorGradNorm'] as const;

function expectSameMetrics(ref: OfqlMetrics, ours: OfqlMetrics, rel = 1e-5): void {
  for (const k of LOSSES) expect(Math.abs(ours[k] - ref[k]), `${k}: ${ours[k]} vs ${ref[k]}`).toBeLessThanOrEqual(rel * Math.max(1, Math.abs(ref[k])));
  expect([ours.step, ours.qRole, ours.ema, ours.flowFraction]).toEqual([ref.step, ref.qRole, ref.ema, ref.flowFraction]);
  if (Number.isNaN(ref.actionAtBound)) expect(ours.actionAtBound).toBeNaN();
  else expect(Math.abs(ours.actionAtBound - ref.actionAtBound)).toBeLessThanOrEqual(1 / (B * A));
}

describe('ONNX engine vs the TF.js agent', () => {
  it('draws the same initial weights, bit for bit, under the same names', () => {
    const [tfjs, ort] = pair(config({ timeEmbDim: 8 }));
    expect(maxDiff(tfjs.namedTensors(), ort.namedTensors())).toBe(0);
  });

  const variants: Array<[string, Partial<OfqlConfig>]> = [
    ['the defaults (half the pairs r = t)', {}],
    ['r != t everywhere, so the MeanFlow JVP is in every target', { flowRatio: 0 }],
    ['max-Q backup over 4 next actions, sum-action-mean-batch behaviour loss', { maxQBackup: true, maxQBackupSamples: 4, bcReduction: 'sum-action-mean-batch' }],
    ['no clipping of the one-step actions or gradients, time scale 1000', { clipTrainActions: false, gradNorm: undefined, timeScale: 1000 }],
    ['behaviour cloning (no critic)', { trainCritic: false, eta: 0 }],
  ];
  for (const [label, overrides] of variants) {
    it(`same losses, Q and weights over 4 steps: ${label}`, () => {
      const [tfjs, ort] = pair(config(overrides));
      const rng = new Rng(7);
      for (let step = 0; step < 4; step++) {
        const bt = batch(rng);
        expectSameMetrics(tfjs.trainStep(bt), ort.trainStep(bt));
        expect(maxDiff(tfjs.namedTensors(), ort.namedTensors()), `weights after step ${step}`).toBeLessThan(1e-5);
      }
    });
  }

  it('acts alike: one-step actions and DQL candidate draws', () => {
    const [tfjs, ort] = pair(config());
    const rng = new Rng(2);
    for (let i = 0; i < 2; i++) {
      const bt = batch(rng);
      tfjs.trainStep(bt);
      ort.trainStep(bt);
    }
    const obs = Float32Array.from({ length: 6 * S }, (_, i) => Math.sin(i));
    for (const n of [1, 7]) {
      const x = tfjs.act(obs, n, new Rng(4));
      const y = ort.act(obs, n, new Rng(4));
      expect(y.length).toBe(6 * A);
      for (let i = 0; i < x.length; i++) expect(Math.abs(x[i]! - y[i]!), `n=${n} entry ${i}`).toBeLessThan(1e-5);
    }
  });

  it('continues a TF.js agent from its weights and Adam state', async () => {
    const cfg = config();
    const [tfjs, ort] = pair(cfg);
    const rng = new Rng(5);
    for (let i = 0; i < 3; i++) tfjs.trainStep(batch(rng));
    ort.loadNamedTensors(tfjs.namedTensors());
    await ort.setOptimizerState(await tfjs.getOptimizerState());
    ort.setTrainingState(tfjs.getTrainingState());
    const bt = batch(rng);
    expectSameMetrics(tfjs.trainStep(bt), ort.trainStep(bt));
    expect(maxDiff(tfjs.namedTensors(), ort.namedTensors())).toBeLessThan(1e-5);
  });
});

describe('ONNX engine on its own', () => {
  it('resumes exactly: the same metrics and weights as the run that never stopped', async () => {
    const cfg = config();
    const a = createOrtOfqlAgent(cfg, 1);
    const b = createOrtOfqlAgent(cfg, 99); // another seed: every restored piece must matter
    agents.push(a, b);
    const rng = new Rng(8);
    for (let i = 0; i < 3; i++) a.trainStep(batch(rng));
    b.loadNamedTensors(a.namedTensors());
    await b.setOptimizerState(await a.getOptimizerState());
    b.setTrainingState(a.getTrainingState());
    for (let i = 0; i < 3; i++) {
      const bt = batch(rng);
      expect(b.trainStep(bt)).toEqual(a.trainStep(bt));
    }
    expect(maxDiff(a.namedTensors(), b.namedTensors())).toBe(0);
    expect(await b.getOptimizerState()).toEqual(await a.getOptimizerState());
  });

  it('criticStep moves the critic only: actor, EMA, target critic and step counter stay', () => {
    const ort = createOrtOfqlAgent(config(), 0);
    agents.push(ort);
    const before = ort.namedTensors();
    ort.criticStep(batch(new Rng(1)));
    const after = ort.namedTensors();
    const changed = [...after].filter(([name, v]) => v.data.some((x, i) => x !== before.get(name)!.data[i])).map(([n]) => n.split('.')[0]);
    expect(new Set(changed)).toEqual(new Set(['critic']));
    expect(ort.step).toBe(0);
  });

  it('refuses what the TF.js agent refuses, with the same messages', () => {
    const [tfjs, ort] = pair(config({ trainCritic: false, eta: 0 }));
    const bad = { ...batch(new Rng(1)), rewards: new Float32Array(B - 1) };
    expect(() => ort.trainStep(bad)).toThrow(/TransitionBatch.states: expected Float32Array of length 155/);
    expect(() => tfjs.trainStep(bad)).toThrow(/TransitionBatch.states: expected Float32Array of length 155/);
    expect(() => ort.act(new Float32Array(S), 3, new Rng(1))).toThrow(/never trained/);
    expect(() => ort.criticStep(batch(new Rng(1)))).toThrow(/behaviour cloning only/);
    ort.dispose();
    expect(() => ort.trainStep(batch(new Rng(1)))).toThrow(/after dispose/);
  });
});
