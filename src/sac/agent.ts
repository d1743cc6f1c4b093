/**
 * The SAC agent on the training engine: parameters, Adam moments and log alpha in JS, one
 * onnxruntime graph run for the Q nets' update (with the targets' soft update) and one for the
 * actor's and the temperature's (src/sac/graphs.ts). Deterministic: every random draw comes from
 * the agent's own generator, seeded from the run seed, in a fixed order.
 */
import type { NamedArray } from '../ofql/networks.js';
import { AdamState } from '../engine/optim.js';
import { SyncSession, type Feeds } from '../engine/ort-session.js';
import { feedAdam, ParamSet, renamed, takeAdam } from '../engine/param-set.js';
import { initParams } from '../engine/params.js';
import { UPDATE_IO } from '../engine/update-graph.js';
import { OptionError } from '../option-error.js';
import { Rng, deriveSeed } from '../rng.js';
import type { SacConfig } from './config.js';
import { SAC_IO, SAC_NETS, sacActGraph, sacActorLayers, sacActorStepGraph, sacCriticLayers, sacCriticStepGraph } from './graphs.js';

/** Streams of the agent's generators (mixed into the seed). */
const STREAMS = { actorInit: 1, criticInit: 2, updates: 3 } as const;
const GRAPH_PRODUCER = 'ofql-eval engine (sac)';

/** A minibatch of transitions, row-major float32. */
export interface SacBatch {
  states: Float32Array;
  actions: Float32Array;
  rewards: Float32Array;
  nextStates: Float32Array;
  /** 0 where the episode terminated (no bootstrap), else 1; a time-limit end is not a termination. */
  notDones: Float32Array;
}

export interface SacMetrics {
  criticLoss: number;
  qMean: number;
  targetQMean: number;
  actorLoss: number;
  alphaLoss: number;
  /** The temperature used in this update. */
  alpha: number;
  /** Mean log pi of the actor's fresh actions (minus the policy's entropy estimate). */
  logPiMean: number;
}

function fillNormals(rng: Rng, out: Float32Array): Float32Array {
  for (let i = 0; i < out.length; i++) out[i] = rng.normal();
  return out;
}

const criticList = (cfg: SacConfig, prefix: string) => {
  const { q1, q2 } = sacCriticLayers(cfg, prefix);
  return [...q1, ...q2];
};

export class SacAgent {
  readonly config: SacConfig;
  private readonly threads: number;
  private readonly actor: ParamSet;
  private readonly critic: ParamSet;
  private readonly target: ParamSet;
  private readonly logAlpha: Float32Array;
  private readonly actorOpt: AdamState;
  private readonly criticOpt: AdamState;
  private readonly alphaOpt = new AdamState([1]);
  /** Draws of the updates (eps of the TD target and of the actor's loss). */
  private readonly rng: Rng;
  private readonly sessions = new Map<string, SyncSession>();
  private readonly eps: Float32Array;
  private readonly nextEps: Float32Array;
  /** The soft update's tau and 1 - tau, fed to every critic step. */
  private readonly tau: Float32Array;
  private readonly keep: Float32Array;
  /** Gradient steps taken. */
  updates = 0;

  constructor(config: SacConfig, seed: number, options: { threads?: number } = {}) {
    this.config = config;
    const threads = options.threads ?? 1;
    if (!Number.isInteger(threads) || threads < 1) throw new OptionError(`--threads: expected an integer >= 1, got ${threads}`);
    this.threads = threads;
    const actorInit = initParams(sacActorLayers(config), new Rng(deriveSeed(seed, STREAMS.actorInit)));
    const criticInit = initParams(criticList(config, SAC_NETS.critic), new Rng(deriveSeed(seed, STREAMS.criticInit)));
    this.actor = new ParamSet(sacActorLayers(config), actorInit);
    this.critic = new ParamSet(criticList(config, SAC_NETS.critic), criticInit);
    this.target = new ParamSet(criticList(config, SAC_NETS.target), renamed(criticInit, SAC_NETS.critic, SAC_NETS.target));
    this.logAlpha = Float32Array.of(Math.log(config.initialAlpha));
    this.actorOpt = new AdamState(this.actor.arrays.map((a) => a.length));
    this.criticOpt = new AdamState(this.critic.arrays.map((a) => a.length));
    this.rng = new Rng(deriveSeed(seed, STREAMS.updates));
    this.eps = new Float32Array(config.batchSize * config.actDim);
    this.nextEps = new Float32Array(config.batchSize * config.actDim);
    this.tau = Float32Array.of(config.tau);
    this.keep = Float32Array.of(1 - config.tau);
  }

  get alpha(): number {
    return Math.exp(this.logAlpha[0]!);
  }

  private session(key: string, build: () => { encode(v: string): Uint8Array }): SyncSession {
    let s = this.sessions.get(key);
    if (!s) {
      s = new SyncSession(build().encode(GRAPH_PRODUCER), this.threads);
      this.sessions.set(key, s);
    }
    return s;
  }

  /** One gradient step on `batch` (batchSize rows): the Q nets and targets, then the actor and alpha. */
  update(batch: SacBatch): SacMetrics {
    const alpha = this.alpha;
    const critic = this.updateCritic(batch);
    const actor = this.updateActorAndAlpha(batch);
    this.updates++;
    return { ...critic, actorLoss: actor.actorLoss, alphaLoss: actor.alphaLoss, alpha, logPiMean: actor.logPiMean };
  }

  private rows(data: Float32Array, width: number): { data: Float32Array; shape: number[] } {
    return { data, shape: [this.config.batchSize, width] };
  }

  /** Q nets: Adam on the TD error, then the targets' soft update (one graph run). */
  private updateCritic(batch: SacBatch): Pick<SacMetrics, 'criticLoss' | 'qMean' | 'targetQMean'> {
    const cfg = this.config;
    const { obsDim: S, actDim: A } = cfg;
    const feeds: Feeds = {
      [SAC_IO.states]: this.rows(batch.states, S),
      [SAC_IO.actions]: this.rows(batch.actions, A),
      [SAC_IO.rewards]: this.rows(batch.rewards, 1),
      [SAC_IO.nextStates]: this.rows(batch.nextStates, S),
      [SAC_IO.notDones]: this.rows(batch.notDones, 1),
      [SAC_IO.nextEps]: this.rows(fillNormals(this.rng, this.nextEps), A),
      [SAC_IO.logAlpha]: { data: this.logAlpha, shape: [] },
      [UPDATE_IO.tau]: { data: this.tau, shape: [] },
      [UPDATE_IO.keep]: { data: this.keep, shape: [] },
    };
    this.actor.feed(feeds);
    this.critic.feed(feeds);
    this.target.feed(feeds);
    feedAdam(feeds, SAC_NETS.critic, this.critic, this.criticOpt);
    const out = this.session(`critic:${cfg.batchSize}`, () => sacCriticStepGraph(cfg, cfg.batchSize)).run(feeds);
    takeAdam(out, this.critic, this.criticOpt);
    this.target.takeUpdated(out);
    return { criticLoss: out[SAC_IO.criticLoss]![0]!, qMean: out[SAC_IO.qMean]![0]!, targetQMean: out[SAC_IO.targetQMean]![0]! };
  }

  /** Actor through the updated Q nets, and the temperature (one graph run). */
  private updateActorAndAlpha(batch: SacBatch): Pick<SacMetrics, 'actorLoss' | 'alphaLoss' | 'logPiMean'> {
    const cfg = this.config;
    const feeds: Feeds = {
      [SAC_IO.states]: this.rows(batch.states, cfg.obsDim),
      [SAC_IO.eps]: this.rows(fillNormals(this.rng, this.eps), cfg.actDim),
      [SAC_IO.logAlpha]: { data: this.logAlpha, shape: [] },
    };
    this.actor.feed(feeds);
    this.critic.feed(feeds);
    feedAdam(feeds, SAC_NETS.actor, this.actor, this.actorOpt);
    if (cfg.alphaLr > 0) this.feedAlphaAdam(feeds);
    const out = this.session(`actor:${cfg.batchSize}`, () => sacActorStepGraph(cfg, cfg.batchSize)).run(feeds);
    takeAdam(out, this.actor, this.actorOpt);
    if (cfg.alphaLr > 0) {
      this.logAlpha[0] = out[UPDATE_IO.newParam(SAC_IO.logAlpha)]![0]!;
      this.alphaOpt.advance([out[UPDATE_IO.newMoment1(SAC_IO.logAlpha)]!], [out[UPDATE_IO.newMoment2(SAC_IO.logAlpha)]!]);
    }
    return { actorLoss: out[SAC_IO.actorLoss]![0]!, alphaLoss: out[SAC_IO.alphaLoss]![0]!, logPiMean: out[SAC_IO.logPiMean]![0]! };
  }

  private feedAlphaAdam(feeds: Feeds): void {
    const name = SAC_IO.logAlpha;
    feeds[UPDATE_IO.moment1(name)] = { data: this.alphaOpt.m[0]!, shape: [] };
    feeds[UPDATE_IO.moment2(name)] = { data: this.alphaOpt.v[0]!, shape: [] };
    const [b1, b2] = this.alphaOpt.biasCorrections();
    feeds[UPDATE_IO.bias1('alpha')] = { data: Float32Array.of(b1), shape: [] };
    feeds[UPDATE_IO.bias2('alpha')] = { data: Float32Array.of(b2), shape: [] };
  }

  /**
   * Actions for n observations (row-major float32): tanh(mean) when `noise` is null, else
   * tanh(mean + std noise) with the caller's standard normal `noise` (n x actDim).
   */
  act(obs: Float32Array, n: number, noise: Float32Array | null): Float32Array {
    const cfg = this.config;
    const feeds: Feeds = { [SAC_IO.obs]: { data: obs, shape: [n, cfg.obsDim] } };
    if (noise) feeds[SAC_IO.noise] = { data: noise, shape: [n, cfg.actDim] };
    this.actor.feed(feeds);
    return this.session(`act:${n}:${noise ? 's' : 'd'}`, () => sacActGraph(cfg, n, noise === null)).run(feeds)[SAC_IO.action]!;
  }

  /** actor.*, critic.*, critic_target.* and log_alpha, copied. */
  namedTensors(): Map<string, NamedArray> {
    const out = new Map<string, NamedArray>();
    for (const p of [this.actor, this.critic, this.target]) p.read(out);
    out.set(SAC_IO.logAlpha, { data: Float32Array.from(this.logAlpha), shape: [] });
    return out;
  }

  /** The actor's parameters only (what a policy snapshot keeps). */
  actorTensors(): Map<string, NamedArray> {
    const out = new Map<string, NamedArray>();
    this.actor.read(out);
    return out;
  }

  /** Load what namedTensors() gave (checked first), or only the actor's entries with `actorOnly`. */
  loadNamedTensors(values: ReadonlyMap<string, NamedArray>, actorOnly = false): void {
    const nets = actorOnly ? [this.actor] : [this.actor, this.critic, this.target];
    for (const p of nets) p.check(values);
    if (!actorOnly && values.get(SAC_IO.logAlpha)?.data.length !== 1) throw new Error(`parameter '${SAC_IO.logAlpha}' missing or not a scalar`);
    for (const p of nets) p.load(values);
    if (!actorOnly) this.logAlpha[0] = values.get(SAC_IO.logAlpha)!.data[0]!;
  }

  /** Adam state of the three optimizers (actor_optim, critic_optim, alpha_optim). */
  optimizerState(): Map<string, NamedArray> {
    const { actor, critic } = this;
    return new Map([
      ...this.actorOpt.state('actor_optim', actor.names, actor.shapes),
      ...this.criticOpt.state('critic_optim', critic.names, critic.shapes),
      ...this.alphaOpt.state('alpha_optim', [SAC_IO.logAlpha], [[]]),
    ]);
  }

  /** Inverse of optimizerState() (checked first). */
  loadOptimizerState(values: ReadonlyMap<string, NamedArray>): void {
    const { actor, critic } = this;
    this.actorOpt.restore('actor_optim', actor.names, actor.shapes, values);
    this.criticOpt.restore('critic_optim', critic.names, critic.shapes, values);
    this.alphaOpt.restore('alpha_optim', [SAC_IO.logAlpha], [[]], values);
  }

  /** The generator of the updates' draws (for an exact resume). */
  get rngState(): number[] {
    return this.rng.getState();
  }

  set rngState(state: readonly number[]) {
    this.rng.setState(state);
  }

  close(): void {
    for (const s of this.sessions.values()) s.dispose();
    this.sessions.clear();
  }
}
