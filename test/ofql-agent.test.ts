/**
 * The OFQL agent end to end on tiny networks (wasm backend): learning on a synthetic problem,
 * determinism, tensor-memory flatness, EMA / target bookkeeping, act(), checkpoint round trips.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../src/ofql/tf.js';
import { initBackend } from '../src/ofql/tensor-backend.js';
import { Rng } from '../src/rng.js';
import { makeOfqlConfig, type OfqlConfig } from '../src/ofql/config.js';
import { createOfqlAgent, type OfqlAgent, type TransitionBatch } from '../src/ofql/train-step.js';

/** 1-D state, 1-D behaviour action a = f(s); reward prefers f(s). */
const f = (s: number) => 0.8 * Math.sin(2 * s);

function tinyConfig(overrides: Partial<OfqlConfig> = {}): OfqlConfig {
  return makeOfqlConfig({ obsDim: 1, actDim: 1 }, { hiddenDim: 32, depth: 2, batchSize: 64, ...overrides });
}

function toyBatch(rng: Rng, B: number): TransitionBatch {
  const states = Float32Array.from({ length: B }, () => rng.uniform(-1, 1));
  const actions = Float32Array.from(states, (s) => f(s));
  return {
    states,
    actions,
    rewards: Float32Array.from(actions, (a, i) => -((a - f(states[i]!)) ** 2)),
    nextStates: Float32Array.from({ length: B }, () => rng.uniform(-1, 1)),
    notDones: Float32Array.from({ length: B }, () => (rng.random() < 0.1 ? 0 : 1)),
  };
}

const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;

const agents: OfqlAgent[] = [];
function make(cfg: OfqlConfig, seed: number): OfqlAgent {
  const a = createOfqlAgent(cfg, seed);
  agents.push(a);
  return a;
}

beforeAll(async () => {
  await initBackend('wasm');
});

afterEach(() => {
  while (agents.length) agents.pop()!.dispose();
});

describe('OFQL agent', () => {
  it('a few hundred steps on a toy problem lower the behaviour loss and fit the behaviour action', () => {
    // lr 3e-3 (10x the default) so that 200 tiny steps are enough; EMA from step 0 so act() sees training.
    const agent = make(
      tinyConfig({ actorLr: 3e-3, criticLr: 3e-3, emaStartStep: 0, emaEvery: 1, emaDecay: 0.9, gradNorm: 5 }),
      0,
    );
    const rng = new Rng(1);
    const bc: number[] = [];
    for (let i = 0; i < 200; i++) {
      const m = agent.trainStep(toyBatch(rng, 64));
      expect(Number.isFinite(m.bcLoss) && Number.isFinite(m.criticLoss) && Number.isFinite(m.qLoss)).toBe(true);
      bc.push(m.bcLoss);
    }
    const first = mean(bc.slice(0, 25));
    const last = mean(bc.slice(-25));
    expect(last).toBeLessThan(0.5 * first);
    // one-step actions of the EMA actor approach f(s) (the data has no action noise)
    const obs = Float32Array.from({ length: 41 }, (_, i) => -1 + i / 20);
    const act = agent.act(obs, 1, new Rng(2));
    const mse = mean(Array.from(obs, (s, i) => (act[i]! - f(s)) ** 2));
    const baseline = mean(Array.from(obs, (s) => f(s) ** 2)); // predicting 0
    expect(mse).toBeLessThan(0.5 * baseline);
    expect(agent.step).toBe(200);
  });

  it('is deterministic: same seed -> identical metrics and weights; other seed differs', () => {
    const cfg = tinyConfig({ gradNorm: 1 });
    const a = make(cfg, 42);
    const b = make(cfg, 42);
    const c = make(cfg, 43);
    const batch = toyBatch(new Rng(3), 64);
    const ma = a.trainStep(batch);
    const mb = b.trainStep(batch);
    const mc = c.trainStep(batch);
    expect(mb).toEqual(ma);
    expect(mc.bcLoss).not.toBe(ma.bcLoss);
    const wa = a.namedTensors();
    const wb = b.namedTensors();
    for (const [k, v] of wa) expect(Array.from(wb.get(k)!.data)).toEqual(Array.from(v.data));
    expect(ma.flowFraction).toBe(0.5);
  });

  it('keeps tf.memory().numTensors flat across steps (and act / criticStep)', () => {
    const agent = make(tinyConfig({ gradNorm: 0.01, emaStartStep: 2, emaEvery: 1 }), 1);
    const rng = new Rng(4);
    agent.trainStep(toyBatch(rng, 64)); // Adam creates its moment slots on the first step
    agent.trainStep(toyBatch(rng, 64));
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) {
      const m = agent.trainStep(toyBatch(rng, 64));
      expect(m.ema).toBe('update');
      agent.criticStep(toyBatch(rng, 64));
      agent.act(new Float32Array([0.1, 0.2, 0.3]), 1, rng);
      agent.act(new Float32Array([0.1, 0.2, 0.3]), 4, rng);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('dispose() frees everything the agent made (incl. optimizer-state round trips)', async () => {
    const cycle = async () => {
      const a = createOfqlAgent(tinyConfig(), 13);
      a.trainStep(toyBatch(new Rng(12), 16));
      await a.setOptimizerState(await a.getOptimizerState());
      a.trainStep(toyBatch(new Rng(13), 16));
      a.dispose();
    };
    await cycle(); // first use may create long-lived caches (e.g. the [1, B] ones row)
    const before = tf.memory().numTensors;
    await cycle();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('max-Q backup variant runs and stays flat too', () => {
    const agent = make(tinyConfig({ maxQBackup: true, maxQBackupSamples: 10 }), 2);
    const rng = new Rng(5);
    agent.trainStep(toyBatch(rng, 16));
    const before = tf.memory().numTensors;
    const m = agent.trainStep(toyBatch(rng, 16));
    expect(Number.isFinite(m.criticLoss)).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('target critic follows the soft update; EMA actor holds its initial weights until emaStartStep (DQL)', () => {
    const agent = make(tinyConfig({ emaStartStep: 3, emaEvery: 1, emaDecay: 0.5, tau: 0.25 }), 3);
    const rng = new Rng(6);
    const w0 = agent.namedTensors();
    const key = 'critic.q1_model.2.weight';
    const ema = 'ema_actor.mid_layer.2.weight';
    const act = 'actor.mid_layer.2.weight';
    let prev = w0;
    for (let s = 0; s < 5; s++) {
      const m = agent.trainStep(toyBatch(rng, 32));
      const w = agent.namedTensors();
      // target' = tau * critic(after this step's update) + (1 - tau) * target
      const tgt = w.get(key.replace('critic.', 'critic_target.'))!.data;
      const crit = w.get(key)!.data;
      const tgtPrev = prev.get(key.replace('critic.', 'critic_target.'))!.data;
      for (let i = 0; i < 20; i++) expect(tgt[i]).toBeCloseTo(0.25 * crit[i]! + 0.75 * tgtPrev[i]!, 5);
      if (s < 3) {
        expect(m.ema).toBe('none');
        expect(Array.from(w.get(ema)!.data)).toEqual(Array.from(w0.get(act)!.data)); // still the initial actor
      } else {
        expect(m.ema).toBe('update');
        const e = w.get(ema)!.data;
        const ePrev = prev.get(ema)!.data;
        const a = w.get(act)!.data;
        for (let i = 0; i < 20; i++) expect(e[i]).toBeCloseTo(0.5 * ePrev[i]! + 0.5 * a[i]!, 5);
      }
      prev = w;
    }
  });

  it("emaWarmup 'copy' copies the online actor before the start step", () => {
    const agent = make(tinyConfig({ emaStartStep: 100, emaEvery: 1, emaWarmup: 'copy' }), 4);
    agent.trainStep(toyBatch(new Rng(7), 32));
    const w = agent.namedTensors();
    expect(Array.from(w.get('ema_actor.final_layer.weight')!.data)).toEqual(Array.from(w.get('actor.final_layer.weight')!.data));
  });

  it('gradient clipping: pre-clip norm reported, the gradient Adam receives has norm gn', async () => {
    const gn = 1e-3;
    const agent = make(tinyConfig({ gradNorm: gn }), 5);
    const m = agent.trainStep(toyBatch(new Rng(8), 64));
    expect(m.criticGradNorm).toBeGreaterThan(gn);
    expect(m.actorGradNorm).toBeGreaterThan(gn);
    // After one Adam step exp_avg = (1 - beta1) * g_applied, so ||exp_avg|| = 0.1 * ||g_applied||.
    const opt = await agent.getOptimizerState();
    for (const prefix of ['actor_optim.', 'critic_optim.']) {
      let ss = 0;
      for (const [k, v] of opt) if (k.startsWith(prefix) && k.endsWith('.exp_avg')) for (const x of v.data) ss += x * x;
      expect(Math.sqrt(ss) / 0.1).toBeCloseTo(gn, 6);
    }
    // without clipping, the applied gradient is the raw one
    const free = make(tinyConfig({ gradNorm: 0 }), 5);
    const mf = free.trainStep(toyBatch(new Rng(8), 64));
    const optF = await free.getOptimizerState();
    let ss = 0;
    for (const [k, v] of optF) if (k.startsWith('critic_optim.') && k.endsWith('.exp_avg')) for (const x of v.data) ss += x * x;
    expect(Math.sqrt(ss) / 0.1 / mf.criticGradNorm).toBeCloseTo(1, 4);
  });

  it('act(): shapes, action box, n candidates with softmax choice, reproducible with the same Rng', () => {
    const agent = make(tinyConfig({ maxAction: 0.05 }), 6);
    const obs = new Float32Array([0.5, -0.5, 0.9]);
    const a1 = agent.act(obs, 1, new Rng(9));
    const a50 = agent.act(obs, 50, new Rng(9));
    expect(a1).toHaveLength(3);
    expect(a50).toHaveLength(3);
    for (const x of [...a1, ...a50]) expect(Math.abs(x)).toBeLessThanOrEqual(Math.fround(0.05));
    expect(Array.from(agent.act(obs, 50, new Rng(9)))).toEqual(Array.from(a50));
    expect(() => agent.act(obs, 0, new Rng(1))).toThrow(/n must be a positive integer/);
    expect(() => agent.act(new Float32Array(0), 1, new Rng(1))).toThrow(/obs must be/);
  });

  it('checkpoint round trip: weights + Adam state + training state reproduce the next step exactly', async () => {
    const cfg = tinyConfig({ gradNorm: 2 });
    const rng = new Rng(10);
    const a = make(cfg, 11);
    for (let i = 0; i < 3; i++) a.trainStep(toyBatch(rng, 32));
    const weights = a.namedTensors();
    const opt = await a.getOptimizerState();
    const state = a.getTrainingState();
    expect(opt.get('actor_optim.step')!.data[0]).toBe(3);
    expect(opt.has('critic_optim.critic.q2_model.4.bias.exp_avg_sq')).toBe(true);

    const b = make(cfg, 999);
    b.loadNamedTensors(weights);
    await b.setOptimizerState(opt);
    b.setTrainingState(state);
    const batch = toyBatch(rng, 32);
    const ma = a.trainStep(batch);
    const mb = b.trainStep(batch);
    expect(mb).toEqual(ma);
    expect(() => b.loadNamedTensors(new Map())).toThrow(/missing/);
  });

  it('behaviour cloning (trainCritic false, eta 0): only the actor learns; critic-based calls refuse', () => {
    expect(() => tinyConfig({ trainCritic: false })).toThrow(/trainCritic.*needs eta = 0, got eta 0.01/);
    const agent = make(tinyConfig({ trainCritic: false, eta: 0, actorLr: 3e-3, gradNorm: 5 }), 5);
    const before = agent.namedTensors();
    const rng = new Rng(6);
    const bc: number[] = [];
    for (let i = 0; i < 100; i++) {
      const m = agent.trainStep(toyBatch(rng, 64));
      expect([m.criticLoss, m.criticGradNorm, m.targetQMean, m.qLoss]).toEqual([0, 0, 0, 0]);
      expect(m.actorLoss).toBe(m.bcLoss);
      bc.push(m.bcLoss);
    }
    expect(mean(bc.slice(-20))).toBeLessThan(0.5 * mean(bc.slice(0, 20)));
    const after = agent.namedTensors();
    let actorMoved = false;
    for (const [k, v] of before) {
      const same = Array.from(after.get(k)!.data).every((x, i) => x === v.data[i]);
      if (k.startsWith('critic')) expect(same, k).toBe(true);
      if (k.startsWith('actor.') && !same) actorMoved = true;
    }
    expect(actorMoved).toBe(true);
    expect(() => agent.act(new Float32Array([0.1]), 4, new Rng(1))).toThrow(/trainCritic = false.*use n = 1/);
    expect(agent.act(new Float32Array([0.1]), 1, new Rng(1))).toHaveLength(1);
    expect(() => agent.criticStep(toyBatch(rng, 8))).toThrow(/behaviour cloning only/);
  });

  it('actionAtBound: share of one-step actions at the bound (1 for an actor pushed outside the box; NaN in BC)', () => {
    const agent = make(tinyConfig({ actorLr: 1e-12, criticLr: 1e-12 }), 8);
    const batch = toyBatch(new Rng(9), 64);
    const m0 = agent.trainStep(batch);
    expect(m0.actionAtBound).toBeGreaterThanOrEqual(0);
    expect(m0.actionAtBound).toBeLessThan(0.5); // an untrained actor: a ~ eps, mostly inside the box
    const w = agent.namedTensors();
    const bias = w.get('actor.final_layer.bias')!;
    w.set('actor.final_layer.bias', { ...bias, data: Float32Array.from(bias.data, () => 50) }); // a = eps - u ~ -50
    agent.loadNamedTensors(w);
    expect(agent.trainStep(batch).actionAtBound).toBe(1);
    const bc = make(tinyConfig({ trainCritic: false, eta: 0 }), 8);
    expect(bc.trainStep(batch).actionAtBound).toBeNaN();
  });

  it('rejects malformed batches with the field name', () => {
    const agent = make(tinyConfig(), 12);
    const b = toyBatch(new Rng(11), 8);
    expect(() => agent.trainStep({ ...b, actions: new Float32Array(3) })).toThrow(/TransitionBatch\.actions: expected Float32Array of length 8/);
  });
});
