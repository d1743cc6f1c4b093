/**
 * The OFQL agent on the ONNX engine: the same OfqlAgent as src/ofql/train-step.ts (same seeds, same
 * random draws in the same order, same update rules, same checkpoint names), with the networks'
 * forward and backward passes run as three onnxruntime graphs (src/engine/step-graphs.ts) and the
 * parameters, Adam moments, clipping, EMA and target updates kept in JS (src/engine/optim.ts).
 *
 * Why: onnxruntime's CPU matrix kernels (MLAS) use the machine's widest vector units (AVX-512
 * here) and run a whole graph per call, where the TF.js wasm backend has 128-bit SIMD and one call
 * per op; docs/benchmarks.md has the measured step times against PyTorch on the same CPU.
 */
import { validateConfig, type OfqlConfig } from '../ofql/config.js';
import { emaAction, normals, sampleTimePairs } from '../ofql/losses.js';
import type { NamedArray } from '../ofql/networks.js';
import {
  AGENT_STREAMS,
  checkBatch,
  drawBySoftmaxQ,
  shareAtBound,
  type CriticMetrics,
  type OfqlAgent,
  type OfqlMetrics,
  type TransitionBatch,
} from '../ofql/train-step.js';
import { Rng, assertSeed, deriveSeed } from '../rng.js';
import { AdamState, softUpdate } from './optim.js';
import { SyncSession, type Feeds } from './ort-session.js';
import { actGraph, actorStepGraph, criticStepGraph, IO } from './step-graphs.js';
import { UPDATE_IO } from './update-graph.js';
import { actorLayers, actorLayout, criticLayers, initParams, paramShapes, type LayerSpec } from './params.js';

export interface EngineOptions {
  /** onnxruntime intra-op threads (default 1). */
  threads?: number;
}

/** One network's parameters: names, shapes and the live arrays, in checkpoint order. */
class ParamSet {
  readonly names: string[];
  readonly shapes: number[][];
  arrays: Float32Array[];

  constructor(layers: readonly LayerSpec[], values: ReadonlyMap<string, NamedArray>) {
    const specs = paramShapes(layers);
    this.names = specs.map(([n]) => n);
    this.shapes = specs.map(([, s]) => s);
    this.arrays = this.names.map((n) => Float32Array.from(values.get(n)!.data));
  }

  /** Feeds under the parameter names, or with `from` replaced by `to` as prefix. */
  feed(into: Feeds, from = '', to = ''): void {
    this.names.forEach((n, k) => {
      into[to + n.slice(from.length)] = { data: this.arrays[k]!, shape: this.shapes[k]! };
    });
  }

  /** Values of a Q net (`<prefix>.q1_model.*` or q2) fed under another prefix. */
  feedPart(into: Feeds, part: string, to: string): void {
    this.names.forEach((n, k) => {
      if (n.startsWith(part)) into[to + n.slice(part.length)] = { data: this.arrays[k]!, shape: this.shapes[k]! };
    });
  }

  read(out: Map<string, NamedArray>): void {
    this.names.forEach((n, k) => out.set(n, { data: Float32Array.from(this.arrays[k]!), shape: [...this.shapes[k]!] }));
  }

  /** Check that `values` has every parameter with its shape (before anything is changed). */
  check(values: ReadonlyMap<string, NamedArray>): void {
    this.names.forEach((n, k) => {
      const v = values.get(n);
      if (!v) throw new Error(`parameter '${n}' missing from the given tensors`);
      const want = this.shapes[k]!.join('x');
      if (v.shape.join('x') !== want || v.data.length !== this.arrays[k]!.length) {
        throw new Error(`parameter '${n}': shape ${v.shape.join('x')} does not match ${want}`);
      }
    });
  }

  /** Take the new values a graph produced (`new:<param>` outputs). */
  takeUpdated(out: Record<string, Float32Array>): void {
    this.arrays = this.names.map((n) => out[UPDATE_IO.newParam(n)]!);
  }

  load(values: ReadonlyMap<string, NamedArray>): void {
    this.names.forEach((n, k) => this.arrays[k]!.set(values.get(n)!.data));
  }
}

/** Rename `<from>.*` entries to `<to>.*` (the EMA actor and the target critic start as copies). */
function renamed(values: ReadonlyMap<string, NamedArray>, from: string, to: string): Map<string, NamedArray> {
  return new Map([...values].map(([n, v]) => [to + n.slice(from.length), v]));
}

/** Rows of x ([B, width]) each repeated k times in place (torch.repeat_interleave). */
function repeatRows(x: Float32Array, width: number, k: number): Float32Array {
  if (k === 1) return x;
  const B = x.length / width;
  const out = new Float32Array(B * k * width);
  for (let b = 0; b < B; b++) for (let j = 0; j < k; j++) out.set(x.subarray(b * width, (b + 1) * width), (b * k + j) * width);
  return out;
}

export function createOrtOfqlAgent(config: OfqlConfig, seed: number, options: EngineOptions = {}): OfqlAgent {
  validateConfig(config);
  assertSeed(seed);
  const threads = options.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`engine threads: expected an integer >= 1, got ${threads}`);
  const cfg: Readonly<OfqlConfig> = Object.freeze({ ...config });
  const { obsDim: S, actDim: A } = cfg;
  const version = 'ofql-eval engine';

  // Networks: same draws as networks.ts initActor / initCritic; EMA and target start as copies.
  const actorInit = initParams(actorLayers(actorLayout(cfg, 'actor')), new Rng(deriveSeed(seed, AGENT_STREAMS.actorInit)));
  const criticInit = initParams(criticLayers(cfg, 'critic'), new Rng(deriveSeed(seed, AGENT_STREAMS.criticInit)));
  const actor = new ParamSet(actorLayers(actorLayout(cfg, 'actor')), actorInit);
  const emaActor = new ParamSet(actorLayers(actorLayout(cfg, 'ema_actor')), renamed(actorInit, 'actor', 'ema_actor'));
  const critic = new ParamSet(criticLayers(cfg, 'critic'), criticInit);
  const criticTarget = new ParamSet(criticLayers(cfg, 'critic_target'), renamed(criticInit, 'critic', 'critic_target'));
  const nets = [actor, emaActor, critic, criticTarget];
  const sizes = (p: ParamSet) => p.arrays.map((a) => a.length);
  const actorOpt = new AdamState(sizes(actor));
  const criticOpt = new AdamState(sizes(critic));
  const rng = new Rng(deriveSeed(seed, AGENT_STREAMS.train));
  let step = 0;
  let disposed = false;

  // Graphs are built per batch size, on first use.
  const sessions = new Map<string, SyncSession>();
  const session = (key: string, build: () => { encode(v: string): Uint8Array }) => {
    let s = sessions.get(key);
    if (!s) {
      s = new SyncSession(build().encode(version), threads);
      sessions.set(key, s);
    }
    return s;
  };

  const checkAlive = () => {
    if (disposed) throw new Error('OFQL agent used after dispose()');
  };

  /** Feed a network's Adam moments and bias corrections; after the run, take what the update made. */
  function feedAdam(feeds: Feeds, net: string, p: ParamSet, opt: AdamState): void {
    p.names.forEach((n, k) => {
      feeds[UPDATE_IO.moment1(n)] = { data: opt.m[k]!, shape: p.shapes[k]! };
      feeds[UPDATE_IO.moment2(n)] = { data: opt.v[k]!, shape: p.shapes[k]! };
    });
    const [b1, b2] = opt.biasCorrections();
    feeds[UPDATE_IO.bias1(net)] = { data: Float32Array.of(b1), shape: [] };
    feeds[UPDATE_IO.bias2(net)] = { data: Float32Array.of(b2), shape: [] };
  }
  function takeAdam(out: Record<string, Float32Array>, p: ParamSet, opt: AdamState): void {
    p.takeUpdated(out);
    opt.advance(
      p.names.map((n) => out[UPDATE_IO.newMoment1(n)]!),
      p.names.map((n) => out[UPDATE_IO.newMoment2(n)]!),
    );
  }

  function batchFeeds(b: TransitionBatch, B: number): Feeds {
    return {
      [IO.states]: { data: b.states, shape: [B, S] },
      [IO.actions]: { data: b.actions, shape: [B, A] },
      [IO.rewards]: { data: b.rewards, shape: [B, 1] },
      [IO.notDones]: { data: b.notDones, shape: [B, 1] },
    };
  }

  /** The critic's update, and with `softUpdateTarget` the target critic's (step 4, done here). */
  function updateCritic(b: TransitionBatch, B: number, softUpdateTarget: boolean): CriticMetrics {
    const K = cfg.maxQBackup ? cfg.maxQBackupSamples : 1;
    const feeds = batchFeeds(b, B);
    feeds[IO.nextStates] = { data: repeatRows(b.nextStates, S, K), shape: [B * K, S] };
    feeds[IO.nextNoise] = { data: normals(rng, B * K * A), shape: [B * K, A] };
    emaActor.feed(feeds);
    critic.feed(feeds);
    criticTarget.feed(feeds);
    feedAdam(feeds, 'critic', critic, criticOpt);
    const tau = softUpdateTarget ? cfg.tau : 0;
    feeds[UPDATE_IO.tau] = { data: Float32Array.of(tau), shape: [] };
    feeds[UPDATE_IO.keep] = { data: Float32Array.of(1 - tau), shape: [] };
    const out = session(`critic:${B}`, () => criticStepGraph(cfg, B)).run(feeds);
    takeAdam(out, critic, criticOpt);
    criticTarget.takeUpdated(out);
    return { criticLoss: out[IO.criticLoss]![0]!, criticGradNorm: out[UPDATE_IO.gradNorm('critic')]![0]!, targetQMean: out[IO.targetQMean]![0]! };
  }

  function trainStep(batch: TransitionBatch): OfqlMetrics {
    checkAlive();
    const B = checkBatch(batch, S, A);
    const thisStep = step;
    // 1. Critic.
    const crit: CriticMetrics = cfg.trainCritic ? updateCritic(batch, B, true) : { criticLoss: 0, criticGradNorm: 0, targetQMean: 0 };

    // 2. Actor: the draws of train-step.ts, in its order.
    const pairs = sampleTimePairs(rng, B, cfg);
    const feeds = batchFeeds(batch, B);
    feeds[IO.t] = { data: pairs.t, shape: [B, 1] };
    feeds[IO.r] = { data: pairs.r, shape: [B, 1] };
    feeds[IO.eps] = { data: normals(rng, B * A), shape: [B, A] };
    feeds[IO.epsNew] = { data: normals(rng, B * A), shape: [B, A] };
    const qRole: 1 | 2 = rng.random() > 0.5 ? 1 : 2;
    actor.feed(feeds);
    if (cfg.trainCritic) {
      critic.feedPart(feeds, qRole === 1 ? 'critic.q1_model' : 'critic.q2_model', IO.qa);
      critic.feedPart(feeds, qRole === 1 ? 'critic.q2_model' : 'critic.q1_model', IO.qb);
    }
    feedAdam(feeds, 'actor', actor, actorOpt);
    const out = session(`actor:${B}`, () => actorStepGraph(cfg, B)).run(feeds);
    takeAdam(out, actor, actorOpt);

    // 3. EMA actor (4., the target critic, was updated in the critic graph).
    const ema = emaAction(thisStep, cfg);
    if (ema === 'update') softUpdate(emaActor.arrays, actor.arrays, 1 - cfg.emaDecay);
    else if (ema === 'copy') emaActor.arrays.forEach((a, k) => a.set(actor.arrays[k]!));

    step += 1;
    let nFlow = 0;
    for (let i = 0; i < B; i++) nFlow += pairs.isFlow[i]!;
    return {
      step: thisStep,
      ...crit,
      bcLoss: out[IO.bcLoss]![0]!,
      qLoss: cfg.trainCritic ? out[IO.qLoss]![0]! : 0,
      actorLoss: out[IO.actorLoss]![0]!,
      actorGradNorm: out[UPDATE_IO.gradNorm('actor')]![0]!,
      qRole,
      ema,
      flowFraction: nFlow / B,
      actionAtBound: cfg.trainCritic ? shareAtBound(out[IO.aNew]!, cfg.maxAction) : NaN,
    };
  }

  function criticStep(batch: TransitionBatch): CriticMetrics {
    checkAlive();
    if (!cfg.trainCritic) throw new Error('criticStep: this agent is behaviour cloning only (config.trainCritic = false)');
    return updateCritic(batch, checkBatch(batch, S, A), false);
  }

  function act(obs: Float32Array, n: number, actRng: Rng): Float32Array {
    checkAlive();
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`act: n must be a positive integer, got ${n}`);
    if (!(obs instanceof Float32Array) || obs.length === 0 || obs.length % S !== 0) {
      throw new RangeError(`act: obs must be a non-empty Float32Array with a multiple of obsDim=${S} entries`);
    }
    if (n > 1 && !cfg.trainCritic) {
      throw new RangeError(`act: n = ${n} ranks candidates by the critic, which a behaviour-cloning agent (trainCritic = false) never trained; use n = 1`);
    }
    const B = obs.length / S;
    const N = B * n;
    const feeds: Feeds = {
      [IO.obs]: { data: repeatRows(obs, S, n), shape: [N, S] },
      [IO.noise]: { data: normals(actRng, N * A), shape: [N, A] },
    };
    const policy = cfg.evalActor === 'online' ? actor : emaActor;
    policy.feed(feeds, cfg.evalActor === 'online' ? 'actor' : 'ema_actor', IO.policy);
    if (n > 1) criticTarget.feed(feeds);
    if (sessions.size > 16) for (const [k, s] of sessions) if (k.startsWith('act')) (s.dispose(), sessions.delete(k));
    const out = session(`act:${N}:${n > 1}`, () => actGraph(cfg, N, n > 1)).run(feeds);
    return n === 1 ? out[IO.action]! : drawBySoftmaxQ(out[IO.action]!, out[IO.q]!, B, n, A, actRng);
  }

  return {
    get config() {
      return cfg;
    },
    get step() {
      return step;
    },
    trainStep,
    criticStep,
    act,
    namedTensors() {
      checkAlive();
      const out = new Map<string, NamedArray>();
      for (const p of nets) p.read(out);
      return out;
    },
    loadNamedTensors(values) {
      checkAlive();
      for (const p of nets) p.check(values);
      for (const p of nets) p.load(values);
    },
    async getOptimizerState() {
      checkAlive();
      return new Map([...actorOpt.state('actor_optim', actor.names, actor.shapes), ...criticOpt.state('critic_optim', critic.names, critic.shapes)]);
    },
    async setOptimizerState(values) {
      checkAlive();
      actorOpt.restore('actor_optim', actor.names, actor.shapes, values);
      criticOpt.restore('critic_optim', critic.names, critic.shapes, values);
    },
    getTrainingState() {
      return { step, rng: rng.getState() };
    },
    setTrainingState(state) {
      if (!Number.isInteger(state.step) || state.step < 0) throw new RangeError(`training state: bad step ${state.step}`);
      rng.setState(state.rng);
      step = state.step;
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      for (const s of sessions.values()) s.dispose();
      sessions.clear();
    },
  };
}
