/**
 * The OFQL agent on the ONNX engine: the same OfqlAgent as src/ofql/train-step.ts (same seeds, same
 * random draws in the same order -- OfqlAgentBase makes them for both -- same update rules, same
 * checkpoint names), with the networks' forward and backward passes run as three onnxruntime
 * graphs (src/engine/step-graphs.ts) and the parameters, Adam moments, clipping, EMA and target
 * updates kept in JS (src/engine/optim.ts).
 *
 * Why: onnxruntime's CPU matrix kernels (MLAS) use the machine's widest vector units (AVX-512
 * here) and run a whole graph per call, where the TF.js wasm backend has 128-bit SIMD and one call
 * per op; docs/benchmarks.md has the measured step times against PyTorch on the same CPU.
 */
import type { OfqlConfig } from '../ofql/config.js';
import { normals } from '../ofql/losses.js';
import type { NamedArray } from '../ofql/networks.js';
import {
  AGENT_STREAMS,
  OfqlAgentBase,
  drawBySoftmaxQ,
  shareAtBound,
  type ActorDraws,
  type ActorMetrics,
  type CriticMetrics,
  type NetworkUpdates,
  type OfqlAgent,
  type OfqlMetrics,
  type TransitionBatch,
} from '../ofql/train-step.js';
import { Rng, deriveSeed } from '../rng.js';
import { AdamState, softUpdate } from './optim.js';
import { SyncSession, type EngineDevice, type Feeds } from './ort-session.js';
import { actGraph, actorStepGraph, criticStepGraph, IO } from './step-graphs.js';
import { UPDATE_IO } from './update-graph.js';
import { actorLayers, actorLayout, criticLayers, initParams } from './params.js';
import { ParamSet, feedAdam, renamed, takeAdam } from './param-set.js';
import { OptionError } from '../option-error.js';

export interface EngineOptions {
  /** onnxruntime intra-op threads (default 1). */
  threads?: number;
  /** Where the graphs run (src/engine/ort-session.ts): 'cpu' (default) or 'webgpu'. */
  device?: EngineDevice;
}

/** Rows of x ([B, width]) each repeated k times in place (torch.repeat_interleave). */
function repeatRows(x: Float32Array, width: number, k: number): Float32Array {
  if (k === 1) return x;
  const B = x.length / width;
  const out = new Float32Array(B * k * width);
  for (let b = 0; b < B; b++) for (let j = 0; j < k; j++) out.set(x.subarray(b * width, (b + 1) * width), (b * k + j) * width);
  return out;
}

/** The producer name written into the graphs this agent builds. */
const GRAPH_PRODUCER = 'ofql-eval engine';
/** Sessions kept before act()'s (one per batch size) are dropped: evaluation batch sizes vary. */
const MAX_SESSIONS = 16;

/** The OFQL agent on onnxruntime: parameters and Adam state in JS, one graph run per update. */
class OrtOfqlAgent extends OfqlAgentBase {
  private readonly threads: number;
  private readonly device: EngineDevice;
  private readonly actor: ParamSet;
  private readonly emaActor: ParamSet;
  private readonly critic: ParamSet;
  private readonly criticTarget: ParamSet;
  private readonly actorOpt: AdamState;
  private readonly criticOpt: AdamState;
  /** Graphs are built per batch size, on first use. */
  private readonly sessions = new Map<string, SyncSession>();

  constructor(config: OfqlConfig, seed: number, options: EngineOptions) {
    super(config, seed);
    const threads = options.threads ?? 1;
    if (!Number.isInteger(threads) || threads < 1) throw new OptionError(`engine threads: expected an integer >= 1, got ${threads}`);
    this.threads = threads;
    this.device = options.device ?? 'cpu';
    const cfg = this.config;
    // Same draws as networks.ts initActor / initCritic; EMA and target start as copies.
    const actorInit = initParams(actorLayers(actorLayout(cfg, 'actor')), new Rng(deriveSeed(seed, AGENT_STREAMS.actorInit)));
    const criticInit = initParams(criticLayers(cfg, 'critic'), new Rng(deriveSeed(seed, AGENT_STREAMS.criticInit)));
    this.actor = new ParamSet(actorLayers(actorLayout(cfg, 'actor')), actorInit);
    this.emaActor = new ParamSet(actorLayers(actorLayout(cfg, 'ema_actor')), renamed(actorInit, 'actor', 'ema_actor'));
    this.critic = new ParamSet(criticLayers(cfg, 'critic'), criticInit);
    this.criticTarget = new ParamSet(criticLayers(cfg, 'critic_target'), renamed(criticInit, 'critic', 'critic_target'));
    const sizes = (p: ParamSet) => p.arrays.map((a) => a.length);
    this.actorOpt = new AdamState(sizes(this.actor));
    this.criticOpt = new AdamState(sizes(this.critic));
  }

  private get nets(): ParamSet[] {
    return [this.actor, this.emaActor, this.critic, this.criticTarget];
  }

  private session(key: string, build: () => { encode(v: string): Uint8Array }): SyncSession {
    let s = this.sessions.get(key);
    if (!s) {
      s = new SyncSession(build().encode(GRAPH_PRODUCER), this.threads, this.device);
      this.sessions.set(key, s);
    }
    return s;
  }

  private batchFeeds(b: TransitionBatch, B: number): Feeds {
    const { obsDim: S, actDim: A } = this.config;
    return {
      [IO.states]: { data: b.states, shape: [B, S] },
      [IO.actions]: { data: b.actions, shape: [B, A] },
      [IO.rewards]: { data: b.rewards, shape: [B, 1] },
      [IO.notDones]: { data: b.notDones, shape: [B, 1] },
    };
  }

  protected updateNetworks(batch: TransitionBatch, B: number): NetworkUpdates {
    const critic = this.criticIfTrained(() => this.updateCritic(batch, B, true));
    const draws = this.drawActorNoise(B);
    return { critic, draws, actor: this.updateActor(batch, B, draws) };
  }

  protected updateTargets(ema: OfqlMetrics['ema']): void {
    // 3. EMA actor (4., the target critic, was updated in the critic graph).
    const { emaActor, actor } = this;
    if (ema === 'update') softUpdate(emaActor.arrays, actor.arrays, 1 - this.config.emaDecay);
    else if (ema === 'copy') emaActor.arrays.forEach((a, k) => a.set(actor.arrays[k]!));
  }

  protected updateCriticOnly(batch: TransitionBatch, B: number): CriticMetrics {
    return this.updateCritic(batch, B, false);
  }

  /** The critic's update, and with `softUpdateTarget` the target critic's (step 4, done here). */
  private updateCritic(b: TransitionBatch, B: number, softUpdateTarget: boolean): CriticMetrics {
    const cfg = this.config;
    const { obsDim: S, actDim: A } = cfg;
    const K = cfg.maxQBackup ? cfg.maxQBackupSamples : 1;
    const feeds = this.batchFeeds(b, B);
    feeds[IO.nextStates] = { data: repeatRows(b.nextStates, S, K), shape: [B * K, S] };
    feeds[IO.nextNoise] = { data: normals(this.rng, B * K * A), shape: [B * K, A] };
    this.emaActor.feed(feeds);
    this.critic.feed(feeds);
    this.criticTarget.feed(feeds);
    feedAdam(feeds, 'critic', this.critic, this.criticOpt);
    const tau = softUpdateTarget ? cfg.tau : 0;
    feeds[UPDATE_IO.tau] = { data: Float32Array.of(tau), shape: [] };
    feeds[UPDATE_IO.keep] = { data: Float32Array.of(1 - tau), shape: [] };
    const out = this.session(`critic:${B}`, () => criticStepGraph(cfg, B)).run(feeds);
    takeAdam(out, this.critic, this.criticOpt);
    this.criticTarget.takeUpdated(out);
    return { criticLoss: out[IO.criticLoss]![0]!, criticGradNorm: out[UPDATE_IO.gradNorm('critic')]![0]!, targetQMean: out[IO.targetQMean]![0]! };
  }

  /** 2. the actor, with the draws of train-step.ts; the Q nets are fed in their qRole order. */
  private updateActor(batch: TransitionBatch, B: number, { pairs, eps, epsNew, qRole }: ActorDraws): ActorMetrics {
    const cfg = this.config;
    const feeds = this.batchFeeds(batch, B);
    feeds[IO.t] = { data: pairs.t, shape: [B, 1] };
    feeds[IO.r] = { data: pairs.r, shape: [B, 1] };
    feeds[IO.eps] = { data: eps, shape: [B, cfg.actDim] };
    feeds[IO.epsNew] = { data: epsNew, shape: [B, cfg.actDim] };
    this.actor.feed(feeds);
    if (cfg.trainCritic) {
      this.critic.feedPart(feeds, qRole === 1 ? 'critic.q1_model' : 'critic.q2_model', IO.qa);
      this.critic.feedPart(feeds, qRole === 1 ? 'critic.q2_model' : 'critic.q1_model', IO.qb);
    }
    feedAdam(feeds, 'actor', this.actor, this.actorOpt);
    const out = this.session(`actor:${B}`, () => actorStepGraph(cfg, B)).run(feeds);
    takeAdam(out, this.actor, this.actorOpt);
    return {
      bcLoss: out[IO.bcLoss]![0]!,
      qLoss: cfg.trainCritic ? out[IO.qLoss]![0]! : 0,
      actorLoss: out[IO.actorLoss]![0]!,
      actorGradNorm: out[UPDATE_IO.gradNorm('actor')]![0]!,
      actionAtBound: cfg.trainCritic ? shareAtBound(out[IO.aNew]!, cfg.maxAction) : NaN,
    };
  }

  protected sampleActions(obs: Float32Array, B: number, n: number, rng: Rng): Float32Array {
    const cfg = this.config;
    const { obsDim: S, actDim: A } = cfg;
    const N = B * n;
    const feeds: Feeds = {
      [IO.obs]: { data: repeatRows(obs, S, n), shape: [N, S] },
      [IO.noise]: { data: normals(rng, N * A), shape: [N, A] },
    };
    const policy = cfg.evalActor === 'online' ? this.actor : this.emaActor;
    policy.feed(feeds, cfg.evalActor === 'online' ? 'actor' : 'ema_actor', IO.policy);
    if (n > 1) this.criticTarget.feed(feeds);
    this.evictActSessions();
    const out = this.session(`act:${N}:${n > 1}`, () => actGraph(cfg, N, n > 1)).run(feeds);
    return n === 1 ? out[IO.action]! : drawBySoftmaxQ(out[IO.action]!, out[IO.q]!, B, n, A, rng);
  }

  /** Drops act()'s sessions once there are more than MAX_SESSIONS in all. */
  private evictActSessions(): void {
    if (this.sessions.size <= MAX_SESSIONS) return;
    for (const [k, s] of this.sessions) {
      if (k.startsWith('act')) {
        s.dispose();
        this.sessions.delete(k);
      }
    }
  }

  namedTensors(): Map<string, NamedArray> {
    this.checkAlive();
    const out = new Map<string, NamedArray>();
    for (const p of this.nets) p.read(out);
    return out;
  }

  loadNamedTensors(values: ReadonlyMap<string, NamedArray>): void {
    this.checkAlive();
    for (const p of this.nets) p.check(values);
    for (const p of this.nets) p.load(values);
  }

  async getOptimizerState(): Promise<Map<string, NamedArray>> {
    this.checkAlive();
    const { actor, critic } = this;
    return new Map([...this.actorOpt.state('actor_optim', actor.names, actor.shapes), ...this.criticOpt.state('critic_optim', critic.names, critic.shapes)]);
  }

  async setOptimizerState(values: ReadonlyMap<string, NamedArray>): Promise<void> {
    this.checkAlive();
    this.actorOpt.restore('actor_optim', this.actor.names, this.actor.shapes, values);
    this.criticOpt.restore('critic_optim', this.critic.names, this.critic.shapes, values);
  }

  protected release(): void {
    for (const s of this.sessions.values()) s.dispose();
    this.sessions.clear();
  }
}

export function createOrtOfqlAgent(config: OfqlConfig, seed: number, options: EngineOptions = {}): OfqlAgent {
  return new OrtOfqlAgent(config, seed, options);
}
