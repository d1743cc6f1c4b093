/**
 * OFQL samplers (src/ofql/samplers.ts): one-step and dql reproduce the agent's act(); best-of-n,
 * dql and qgbs prefer high-Q actions under a hand-set critic; NFE counts match the formulas
 * (qgbs: actor M (1 + K B)); per-row randomness makes rows independent of the batch; the policy
 * plug-in is deterministic per (episode seed, step).
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../src/ofql/tf.js';
import { initBackend } from '../src/ofql/tensor-backend.js';
import { Rng } from '../src/rng.js';
import { makeOfqlConfig, type OfqlConfig } from '../src/ofql/config.js';
import { createOfqlAgent, type OfqlAgent } from '../src/ofql/train-step.js';
import {
  actorParamsFromNamed,
  countingNets,
  sampleActions,
  samplerNetsFromAgent,
  samplerNetsFromParams,
  type SamplerNets,
} from '../src/ofql/samplers.js';
import { describeSampler, makeSamplerSpec, samplerNfe, type SamplerSpec } from '../src/ofql/sampler-spec.js';
import type { CriticParams } from '../src/ofql/networks.js';

const S = 3;
const A = 2;
const cfg = (o: Partial<OfqlConfig> = {}) => makeOfqlConfig({ obsDim: S, actDim: A }, { hiddenDim: 16, depth: 2, timeEmbDim: 4, ...o });
const obsOf = (B: number, seed = 1) => {
  const r = new Rng(seed);
  return Float32Array.from({ length: B * S }, () => r.uniform(-1, 1));
};
const same = (x: Float32Array, y: Float32Array) => Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(Buffer.from(y.buffer, y.byteOffset, y.byteLength));

const agents: OfqlAgent[] = [];
const nets: SamplerNets[] = [];
const agent = (c: OfqlConfig, seed: number) => (agents.push(createOfqlAgent(c, seed)), agents.at(-1)!);
const track = (n: SamplerNets) => (nets.push(n), n);

beforeAll(async () => {
  await initBackend('wasm');
});
afterEach(() => {
  while (nets.length) nets.pop()!.dispose();
  while (agents.length) agents.pop()!.dispose();
});

/** Linear critic Q(s, a) = d . a (both twins), favouring action direction d. */
function linearCritic(d: number[]): CriticParams {
  const w = new Float32Array((S + A) * 1);
  d.forEach((v, k) => (w[S + k] = v));
  const lin = () => ({ weight: tf.tensor2d(w, [S + A, 1]), bias: tf.zeros([1]) });
  return { q1: [lin()], q2: [lin()] };
}

function handSetNets(a: OfqlAgent, d: number[]): SamplerNets {
  const actor = actorParamsFromNamed(a.namedTensors(), 'ema_actor', a.config);
  return track(samplerNetsFromParams(actor, linearCritic(d), { obsDim: S, actDim: A, maxAction: 1 }, true));
}

const dot = (acts: Float32Array, d: number[]) => {
  let s = 0;
  for (let i = 0; i < acts.length; i++) s += acts[i]! * d[i % A]!;
  return s / (acts.length / A);
};

describe('samplers', () => {
  it('one-step and dql with one shared Rng reproduce agent.act bit for bit', () => {
    const a = agent(cfg(), 3);
    const n = track(samplerNetsFromAgent(a));
    const obs = obsOf(6);
    const rows = (seed: number) => Array(6).fill(new Rng(seed)) as Rng[];
    expect(same(sampleActions(n, { name: 'one-step' }, obs, rows(5)), a.act(obs, 1, new Rng(5)))).toBe(true);
    expect(same(sampleActions(n, makeSamplerSpec('dql', { n: 10 }), obs, rows(6)), a.act(obs, 10, new Rng(6)))).toBe(true);
  });

  it('rows are independent of the batch: a row alone gives the same action as inside a batch', () => {
    const a = agent(cfg(), 4);
    const n = track(samplerNetsFromAgent(a));
    const obs = obsOf(4, 2);
    for (const spec of [makeSamplerSpec('one-step'), makeSamplerSpec('best-of-n', { n: 5 }), makeSamplerSpec('qgbs', { M: 3, B: 2, K: 2 })]) {
      const all = sampleActions(n, spec, obs, [0, 1, 2, 3].map((j) => new Rng(100 + j)));
      for (const j of [0, 3]) {
        const one = sampleActions(n, spec, obs.slice(j * S, (j + 1) * S), [new Rng(100 + j)]);
        expect(Array.from(one), describeSampler(spec)).toEqual(Array.from(all.subarray(j * A, (j + 1) * A)));
      }
    }
  });

  it('with a critic favouring a known direction, best-of-n / dql / qgbs beat one-step in Q on average', () => {
    const a = agent(cfg(), 5);
    const d = [1, -0.5];
    const n = handSetNets(a, d);
    const B = 200;
    const obs = obsOf(B, 3);
    const q = (spec: SamplerSpec, seed: number) => dot(sampleActions(n, spec, obs, Array.from({ length: B }, (_, j) => new Rng(seed * 1000 + j))), d);
    const qOne = q(makeSamplerSpec('one-step'), 1);
    const qBest = q(makeSamplerSpec('best-of-n', { n: 16 }), 2);
    const qDql = q(makeSamplerSpec('dql', { n: 16 }), 3);
    const qQgbs = q(makeSamplerSpec('qgbs'), 4);
    expect(qBest).toBeGreaterThan(qOne + 0.05);
    expect(qDql).toBeGreaterThan(qOne);
    expect(qQgbs).toBeGreaterThan(qOne + 0.05);
    // qgbs's trust-region step moves along grad Q = d: better than best-of-M with M = 4.
    expect(qQgbs).toBeGreaterThan(q(makeSamplerSpec('best-of-n', { n: 4 }), 5));
  });

  it('qgbs with K = 0 is best-of-M (same draws)', () => {
    const a = agent(cfg(), 6);
    const n = track(samplerNetsFromAgent(a));
    const obs = obsOf(5, 4);
    const rngs = (s: number) => Array.from({ length: 5 }, (_, j) => new Rng(s + j));
    const x = sampleActions(n, makeSamplerSpec('qgbs', { K: 0, M: 7 }), obs, rngs(9));
    const y = sampleActions(n, makeSamplerSpec('best-of-n', { n: 7 }), obs, rngs(9));
    expect(same(x, y)).toBe(true);
  });

  it('NFE counts (counting wrapper) match the formulas; qgbs actor NFE = M (1 + K B)', () => {
    const a = agent(cfg(), 7);
    const Bn = 3;
    const obs = obsOf(Bn, 5);
    const specs: SamplerSpec[] = [
      makeSamplerSpec('one-step'),
      makeSamplerSpec('dql'),
      makeSamplerSpec('best-of-n', { n: 8 }),
      makeSamplerSpec('qgbs'),
      makeSamplerSpec('qgbs', { K: 2, B: 3, M: 5 }),
      makeSamplerSpec('qgbs', { K: 0, M: 32 }),
    ];
    for (const spec of specs) {
      const { nets: c, counts } = countingNets(track(samplerNetsFromAgent(a)));
      sampleActions(c, spec, obs, Array.from({ length: Bn }, (_, j) => new Rng(j)));
      const f = samplerNfe(spec);
      expect(counts, describeSampler(spec)).toEqual({ actor: Bn * f.actor, critic: Bn * f.critic, criticGrad: Bn * f.criticGrad });
      if (spec.name === 'qgbs') expect(f.actor).toBe(spec.M * (1 + spec.K * spec.B));
    }
    expect(samplerNfe(makeSamplerSpec('qgbs'))).toEqual({ actor: 20, critic: 24, criticGrad: 4 });
  });

  it('sampler specs: defaults, descriptions and errors', () => {
    expect(makeSamplerSpec('qgbs')).toEqual({ name: 'qgbs', K: 1, B: 4, M: 4, SNR: 1.5, eta: 0.3, kappa: 1e-3 });
    expect(makeSamplerSpec('dql')).toEqual({ name: 'dql', n: 50 });
    expect(makeSamplerSpec('best-of-n')).toEqual({ name: 'best-of-n', n: 32 });
    expect(describeSampler(makeSamplerSpec('qgbs', { K: 2 }))).toBe('qgbs(K=2,B=4,M=4,SNR=1.5,eta=0.3,kappa=0.001)');
    expect(() => makeSamplerSpec('qgbs', { SNR: 0 })).toThrow(/SNR must be a number > 0/);
    expect(() => makeSamplerSpec('nope')).toThrow(/unknown sampler 'nope'/);
    expect(makeSamplerSpec('one-step', { noiseScale: 1 })).toEqual({ name: 'one-step' }); // the default is not recorded
    expect(describeSampler(makeSamplerSpec('one-step', { noiseScale: 0 }))).toBe('one-step(noiseScale=0)');
    expect(() => makeSamplerSpec('one-step', { noiseScale: -0.1 })).toThrow(/noiseScale must be a number >= 0/);
    expect(() => makeSamplerSpec('dql', { noiseScale: 0.5 })).toThrow(/sampler dql: noiseScale \(--noise-scale\) applies to the one-step sampler only/);
  });

  it('one-step with a noise scale maps scale * eps (same draws), and scale 0 ignores the Rng', () => {
    const a = agent(cfg(), 4);
    const n = track(samplerNetsFromAgent(a));
    const B = 5;
    const obs = obsOf(B, 9);
    const rngs = (seed: number) => Array.from({ length: B }, (_, j) => new Rng(seed + j));
    const half = sampleActions(n, makeSamplerSpec('one-step', { noiseScale: 0.5 }), obs, rngs(3));
    // By hand: the same normals, halved, through a = clip(eps - u(eps, 0, 1; s)).
    const eps = new Float32Array(B * A);
    const r = rngs(3);
    for (let i = 0; i < B * A; i++) eps[i] = 0.5 * r[Math.floor(i / A)]!.normal();
    const byHand = tf.tidy(() => {
      const e = tf.tensor2d(eps, [B, A]);
      const u = n.velocity(e, tf.zeros([B, 1]), tf.ones([B, 1]), tf.tensor2d(obs, [B, S]));
      return Float32Array.from(tf.clipByValue(tf.sub(e, u), -1, 1).dataSync() as Float32Array);
    });
    expect(same(half, byHand)).toBe(true);
    const full = sampleActions(n, makeSamplerSpec('one-step'), obs, rngs(3));
    expect(same(half, full)).toBe(false);
    const zero = makeSamplerSpec('one-step', { noiseScale: 0 });
    expect(same(sampleActions(n, zero, obs, rngs(3)), sampleActions(n, zero, obs, rngs(100)))).toBe(true);
  });

  it('actions stay in the action box and tensors do not leak', () => {
    const a = agent(cfg(), 8);
    const n = track(samplerNetsFromAgent(a));
    const obs = obsOf(4, 6);
    const pass = () => {
      for (const name of ['one-step', 'dql', 'best-of-n', 'qgbs']) {
        const out = sampleActions(n, makeSamplerSpec(name, { n: 4 }), obs, Array.from({ length: 4 }, (_, j) => new Rng(j)));
        expect(out.length).toBe(4 * A);
        for (const v of out) expect(Math.abs(v)).toBeLessThanOrEqual(1);
      }
    };
    pass(); // warm-up: networks.ts caches a ones row per gradient batch size
    const before = tf.memory().numTensors;
    pass();
    pass();
    expect(tf.memory().numTensors).toBe(before);
  });
});
