/**
 * SAC's hand-written gradients (src/sac/graphs.ts) against central finite differences of an
 * independent float64 implementation of the same losses, on small nets. The graphs' Adam is made
 * to return the gradient itself: at its first step with zero moments the update is
 * -lr g / (|g| + eps), so with lr = eps = 1e6 the parameter moves by -g (to ~1e-6 relative).
 */
import { describe, expect, it } from 'vitest';
import { SyncSession, type Feeds } from '../src/engine/ort-session.js';
import { initParams, paramShapes, type LayerSpec } from '../src/engine/params.js';
import { UPDATE_IO } from '../src/engine/update-graph.js';
import { Rng } from '../src/rng.js';
import { makeSacConfig, targetEntropy, type SacConfig } from '../src/sac/config.js';
import { SAC_IO, sacActGraph, sacActorLayers, sacActorStepGraph, sacCriticLayers, sacCriticStepGraph } from '../src/sac/graphs.js';

const BIG = 1e6;
const cfg: SacConfig = makeSacConfig(3, 2, {
  hiddenDim: 6,
  depth: 2,
  batchSize: 5,
  actorLr: BIG,
  criticLr: BIG,
  alphaLr: BIG,
  adamEpsilon: BIG,
  logStdMin: -1.5,
  logStdMax: 0.5,
  initialAlpha: 0.3,
});
const B = cfg.batchSize;
const { obsDim: S, actDim: A } = cfg;

type Params = Map<string, Float64Array>;

const actorL = sacActorLayers(cfg);
const critic = sacCriticLayers(cfg, 'critic');
const target = sacCriticLayers(cfg, 'critic_target');

function randomParams(layers: LayerSpec[], seed: number, scale = 1): Params {
  const out: Params = new Map();
  for (const [name, v] of initParams(layers, new Rng(seed))) out.set(name, Float64Array.from(v.data, (x) => x * scale));
  return out;
}

function randomArray(rng: Rng, n: number, scale = 1): Float64Array {
  return Float64Array.from({ length: n }, () => rng.normal() * scale);
}

// ---- float64 reference ------------------------------------------------------------------------

/** ReLU MLP on one row. */
function mlp(p: Params, layers: LayerSpec[], x: readonly number[]): number[] {
  let cur = [...x];
  layers.forEach((l, i) => {
    const w = p.get(`${l.name}.weight`)!;
    const b = p.get(`${l.name}.bias`)!;
    const next = Array.from({ length: l.outDim }, (_, o) => {
      let s = b[o]!;
      for (let k = 0; k < l.inDim; k++) s += cur[k]! * w[k * l.outDim + o]!;
      return s;
    });
    cur = i === layers.length - 1 ? next : next.map((h) => Math.max(h, 0));
  });
  return cur;
}

const row = (x: Float64Array, b: number, w: number) => Array.from(x.subarray(b * w, (b + 1) * w));

/** a and log pi for row b. */
function policy(p: Params, s: number[], eps: number[]): { a: number[]; logPi: number } {
  const out = mlp(p, actorL, s);
  let logPi = 0;
  const a = eps.map((e, j) => {
    const logStd = Math.min(Math.max(out[A + j]!, cfg.logStdMin), cfg.logStdMax);
    const u = out[j]! + Math.exp(logStd) * e;
    logPi += -0.5 * e * e - logStd - 0.5 * Math.log(2 * Math.PI) - Math.log(1 - Math.tanh(u) ** 2);
    return Math.tanh(u);
  });
  return { a, logPi };
}

const q = (p: Params, layers: LayerSpec[], s: number[], a: number[]) => mlp(p, layers, [...s, ...a])[0]!;

interface Batch {
  s: Float64Array;
  a: Float64Array;
  r: Float64Array;
  s2: Float64Array;
  nd: Float64Array;
  eps: Float64Array;
  nextEps: Float64Array;
}

function criticLoss(pc: Params, pa: Params, pt: Params, logAlpha: number, d: Batch): number {
  let loss = 0;
  for (let b = 0; b < B; b++) {
    const s2 = row(d.s2, b, S);
    const next = policy(pa, s2, row(d.nextEps, b, A));
    const soft = Math.min(q(pt, target.q1, s2, next.a), q(pt, target.q2, s2, next.a)) - Math.exp(logAlpha) * next.logPi;
    const y = d.r[b]! + cfg.discount * d.nd[b]! * soft;
    const s = row(d.s, b, S);
    const a = row(d.a, b, A);
    loss += ((q(pc, critic.q1, s, a) - y) ** 2 + (q(pc, critic.q2, s, a) - y) ** 2) / B;
  }
  return loss;
}

function actorLoss(pa: Params, pc: Params, logAlpha: number, d: Batch): { loss: number; logPiMean: number } {
  let loss = 0;
  let logPiMean = 0;
  for (let b = 0; b < B; b++) {
    const s = row(d.s, b, S);
    const pi = policy(pa, s, row(d.eps, b, A));
    loss += (Math.exp(logAlpha) * pi.logPi - Math.min(q(pc, critic.q1, s, pi.a), q(pc, critic.q2, s, pi.a))) / B;
    logPiMean += pi.logPi / B;
  }
  return { loss, logPiMean };
}

/** Central differences of f with respect to every entry of `p`. */
function numericGrads(p: Params, f: () => number, h = 1e-6): Map<string, Float64Array> {
  const out = new Map<string, Float64Array>();
  for (const [name, x] of p) {
    const g = new Float64Array(x.length);
    for (let i = 0; i < x.length; i++) {
      const keep = x[i]!;
      x[i] = keep + h;
      const up = f();
      x[i] = keep - h;
      const down = f();
      x[i] = keep;
      g[i] = (up - down) / (2 * h);
    }
    out.set(name, g);
  }
  return out;
}

// ---- graph side -------------------------------------------------------------------------------

function feedParams(feeds: Feeds, p: Params, withAdam: boolean): void {
  for (const layers of [actorL, critic.q1, critic.q2, target.q1, target.q2]) {
    for (const [name, shape] of paramShapes(layers)) {
      const x = p.get(name);
      if (!x) continue;
      feeds[name] = { data: Float32Array.from(x), shape };
      if (withAdam) {
        feeds[UPDATE_IO.moment1(name)] = { data: new Float32Array(x.length), shape };
        feeds[UPDATE_IO.moment2(name)] = { data: new Float32Array(x.length), shape };
      }
    }
  }
}

function feedBias(feeds: Feeds, net: string): void {
  feeds[UPDATE_IO.bias1(net)] = { data: Float32Array.of(1 - 0.9), shape: [] };
  feeds[UPDATE_IO.bias2(net)] = { data: Float32Array.of(1 - 0.999), shape: [] };
}

function run(graph: { encode(v: string): Uint8Array }, feeds: Feeds): Record<string, Float32Array> {
  const session = new SyncSession(graph.encode('test'), 1);
  try {
    return session.run(feeds);
  } finally {
    session.dispose();
  }
}

/** The gradient a graph applied to `name`: old - new (see the header). */
function appliedGrad(out: Record<string, Float32Array>, p: Params, name: string): Float64Array {
  const updated = out[UPDATE_IO.newParam(name)]!;
  return Float64Array.from(p.get(name)!, (x, i) => Math.fround(x) - updated[i]!);
}

function expectClose(got: Float64Array, want: Float64Array, what: string): void {
  const scale = Math.max(1e-3, ...Array.from(want, Math.abs));
  for (let i = 0; i < want.length; i++) {
    if (Math.abs(got[i]! - want[i]!) > 2e-3 * scale) throw new Error(`${what}[${i}]: graph ${got[i]} vs reference ${want[i]} (scale ${scale})`);
  }
}

function makeData(seed: number): { d: Batch; pa: Params; pc: Params; pt: Params } {
  const rng = new Rng(seed);
  const d: Batch = {
    s: randomArray(rng, B * S),
    a: Float64Array.from(randomArray(rng, B * A), (x) => Math.tanh(x)),
    r: randomArray(rng, B),
    s2: randomArray(rng, B * S),
    nd: Float64Array.from({ length: B }, (_, b) => (b === 1 ? 0 : 1)),
    eps: randomArray(rng, B * A),
    nextEps: randomArray(rng, B * A),
  };
  // Larger actor weights so some log stds fall outside the clamp (its mask is tested too).
  return { d, pa: randomParams(actorL, seed + 1, 3), pc: randomParams([...critic.q1, ...critic.q2], seed + 2), pt: randomParams([...target.q1, ...target.q2], seed + 3) };
}

const f32 = (x: Float64Array) => Float32Array.from(x);

describe('SAC graphs against a float64 reference', () => {
  it('critic step: loss, TD target and the gradient of both Q nets', () => {
    const { d, pa, pc, pt } = makeData(11);
    const logAlpha = Math.log(cfg.initialAlpha);
    const feeds: Feeds = {
      [SAC_IO.states]: { data: f32(d.s), shape: [B, S] },
      [SAC_IO.actions]: { data: f32(d.a), shape: [B, A] },
      [SAC_IO.rewards]: { data: f32(d.r), shape: [B, 1] },
      [SAC_IO.nextStates]: { data: f32(d.s2), shape: [B, S] },
      [SAC_IO.notDones]: { data: f32(d.nd), shape: [B, 1] },
      [SAC_IO.nextEps]: { data: f32(d.nextEps), shape: [B, A] },
      [SAC_IO.logAlpha]: { data: Float32Array.of(logAlpha), shape: [] },
      [UPDATE_IO.tau]: { data: Float32Array.of(0.25), shape: [] },
      [UPDATE_IO.keep]: { data: Float32Array.of(0.75), shape: [] },
    };
    // The reference works on float32-rounded values, as the graph sees them.
    for (const p of [pa, pc, pt]) for (const x of p.values()) x.set(Float32Array.from(x));
    feedParams(feeds, pa, false);
    feedParams(feeds, pt, false);
    feedParams(feeds, pc, true);
    feedBias(feeds, 'critic');
    const out = run(sacCriticStepGraph(cfg, B), feeds);

    expect(out[SAC_IO.criticLoss]![0]!).toBeCloseTo(criticLoss(pc, pa, pt, logAlpha, d), 4);
    const grads = numericGrads(pc, () => criticLoss(pc, pa, pt, logAlpha, d));
    for (const [name, want] of grads) expectClose(appliedGrad(out, pc, name), want, name);
    // The targets' soft update moves them a quarter of the way to the updated Q nets.
    const name = `${target.q1[0]!.name}.weight`;
    const updatedCritic = out[UPDATE_IO.newParam(name.replace('critic_target', 'critic'))]!;
    const newTarget = out[UPDATE_IO.newParam(name)]!;
    newTarget.forEach((x, i) => expect(x).toBeCloseTo(0.25 * updatedCritic[i]! + 0.75 * pt.get(name)![i]!, 5));
  });

  it('actor step: loss, log pi, the actor gradient through tanh, the clamp and min(Q1, Q2), and alpha', () => {
    const { d, pa, pc } = makeData(23);
    const logAlpha = Math.fround(Math.log(0.2));
    for (const p of [pa, pc]) for (const x of p.values()) x.set(Float32Array.from(x));
    const feeds: Feeds = {
      [SAC_IO.states]: { data: f32(d.s), shape: [B, S] },
      [SAC_IO.eps]: { data: f32(d.eps), shape: [B, A] },
      [SAC_IO.logAlpha]: { data: Float32Array.of(logAlpha), shape: [] },
      [UPDATE_IO.moment1(SAC_IO.logAlpha)]: { data: Float32Array.of(0), shape: [] },
      [UPDATE_IO.moment2(SAC_IO.logAlpha)]: { data: Float32Array.of(0), shape: [] },
    };
    feedParams(feeds, pa, true);
    feedParams(feeds, pc, false);
    feedBias(feeds, 'actor');
    feedBias(feeds, 'alpha');
    const out = run(sacActorStepGraph(cfg, B), feeds);

    const ref = actorLoss(pa, pc, logAlpha, d);
    expect(out[SAC_IO.actorLoss]![0]!).toBeCloseTo(ref.loss, 4);
    expect(out[SAC_IO.logPiMean]![0]!).toBeCloseTo(ref.logPiMean, 3);
    const grads = numericGrads(pa, () => actorLoss(pa, pc, logAlpha, d).loss);
    for (const [name, want] of grads) expectClose(appliedGrad(out, pa, name), want, name);
    // d/d log alpha of -log alpha (mean log pi + target entropy) = -(mean log pi + target entropy).
    const alphaGrad = logAlpha - out[UPDATE_IO.newParam(SAC_IO.logAlpha)]![0]!;
    expect(alphaGrad).toBeCloseTo(-(ref.logPiMean + targetEntropy(cfg)), 3);
    // Some log stds are clamped in this batch, so the clamp's zero gradient was exercised.
    const raw = Array.from({ length: B }, (_, b) => mlp(pa, actorL, row(d.s, b, S)).slice(A));
    expect(raw.flat().some((x) => x < cfg.logStdMin || x > cfg.logStdMax)).toBe(true);
  });

  it('act graph: tanh(mean) without noise, the reference sample with noise', () => {
    const { d, pa } = makeData(5);
    for (const x of pa.values()) x.set(Float32Array.from(x));
    const feeds: Feeds = { [SAC_IO.obs]: { data: f32(d.s), shape: [B, S] } };
    feedParams(feeds, pa, false);
    const mean = run(sacActGraph(cfg, B, true), feeds)[SAC_IO.action]!;
    feeds[SAC_IO.noise] = { data: f32(d.eps), shape: [B, A] };
    const sampled = run(sacActGraph(cfg, B, false), feeds)[SAC_IO.action]!;
    for (let b = 0; b < B; b++) {
      const out = mlp(pa, actorL, row(d.s, b, S));
      const ref = policy(pa, row(d.s, b, S), row(d.eps, b, A)).a;
      for (let j = 0; j < A; j++) {
        expect(mean[b * A + j]!).toBeCloseTo(Math.tanh(out[j]!), 5);
        expect(sampled[b * A + j]!).toBeCloseTo(ref[j]!, 5);
      }
    }
  });
});
