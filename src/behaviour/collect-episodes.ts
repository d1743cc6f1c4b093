/**
 * Rolling out a policy and keeping every step, for `ofql-eval collect` (src/collect/). Runs in a
 * worker thread (rollout-worker.ts) or in-process, on the one batched rollout loop
 * (src/batched-rollout.ts, as the evaluator does); what collection adds through the loop's hooks
 * is the action noise and the per-step record of every transition.
 *
 * Episode i is reset with deriveSeed(seed, i) and draws its action noise from its own generator
 * seeded with deriveSeed(deriveSeed(seed, i), COLLECT_NOISE_STREAM), so its data depend on
 * (seed, i) and the policy's answer for its row only: never on the thread, the batch or the
 * other episodes (for row-wise policies, which every policy in this project is).
 *
 * Executed action per step: with probability `epsilon` uniform in [-1, 1]^A, else the policy's
 * action plus N(0, actionNoise^2) per entry; then clipped to [-1, 1] and rounded to float32, so
 * the float32 `actions` written to the file are exactly what the env executed.
 */
import type { LocomotionEnv } from '../../envs/locomotion-env.js';
import { seededEpisodes, type EpisodeEnd, type RolloutHooks } from '../batched-rollout.js';
import { LoadedRollout } from '../loaded-rollout.js';
import { makeEnvsWithPolicy, type EnvsWithPolicyConfig } from '../policy/load.js';
import type { Policy } from '../policy/types.js';
import { Rng, deriveSeed } from '../rng.js';

/** Mixed into the episode seed for the noise generator (differs from the env's and the random policy's streams). */
export const COLLECT_NOISE_STREAM = 0xc011ec7;

/** The slots and policy (src/policy/load.ts) and the noise on the executed actions. */
export interface CollectConfig extends EnvsWithPolicyConfig {
  /** Std of the Gaussian noise added to the policy's action (0 = none). */
  actionNoise: number;
  /** Probability of a uniform random action instead (0 = never). */
  epsilon: number;
}

/** One finished episode, row-major. */
export interface EpisodeData {
  index: number;
  seed: number;
  length: number;
  /** Ended by the env's termination rule (else by the time limit). */
  terminated: boolean;
  return: number;
  observations: Float32Array;
  nextObservations: Float32Array;
  actions: Float32Array;
  rewards: Float64Array;
  qpos: Float64Array;
  qvel: Float64Array;
}

/** Noise settings of one run. */
type NoiseSettings = Pick<CollectConfig, 'actionNoise' | 'epsilon'>;

/** One episode under way: its noise generator and its rows so far (buffers for a whole horizon). */
class EpisodeRecord {
  readonly rng: Rng;
  t = 0;
  readonly obs: Float32Array;
  readonly next: Float32Array;
  readonly act: Float32Array;
  readonly rew: Float64Array;
  readonly qpos: Float64Array;
  readonly qvel: Float64Array;

  constructor(seed: number, horizon: number, private readonly env: LocomotionEnv) {
    this.rng = new Rng(deriveSeed(seed, COLLECT_NOISE_STREAM));
    this.obs = new Float32Array(horizon * env.observationSize);
    this.next = new Float32Array(horizon * env.observationSize);
    this.act = new Float32Array(horizon * env.actionSize);
    this.rew = new Float64Array(horizon);
    this.qpos = new Float64Array(horizon * env.nq);
    this.qvel = new Float64Array(horizon * env.nv);
  }

  /** Replace the policy's action by the executed one (see the header) and keep the step's inputs. */
  beforeStep(action: Float64Array, noise: NoiseSettings, observations: Float64Array, row: number): void {
    const { rng, t, env } = this;
    const A = action.length;
    const O = env.observationSize;
    if (noise.epsilon > 0 && rng.random() < noise.epsilon) {
      for (let k = 0; k < A; k++) action[k] = rng.uniform(-1, 1);
    } else if (noise.actionNoise > 0) {
      for (let k = 0; k < A; k++) action[k] += noise.actionNoise * rng.normal();
    }
    for (let k = 0; k < A; k++) {
      const a = action[k];
      action[k] = Math.fround(a > 1 ? 1 : a < -1 ? -1 : a);
      this.act[t * A + k] = action[k];
    }
    for (let k = 0; k < O; k++) this.obs[t * O + k] = observations[row * O + k];
    env.copyQposInto(this.qpos, t * env.nq);
    env.copyQvelInto(this.qvel, t * env.nv);
  }

  afterStep(reward: number, observations: Float64Array, row: number): void {
    const O = this.env.observationSize;
    const t = this.t;
    for (let k = 0; k < O; k++) this.next[t * O + k] = observations[row * O + k];
    this.rew[t] = reward;
    this.t = t + 1;
  }

  finish(end: EpisodeEnd): EpisodeData {
    const L = end.length;
    const { observationSize: O, actionSize: A, nq, nv } = this.env;
    return {
      index: end.index,
      seed: end.seed,
      length: L,
      terminated: end.terminated,
      return: end.return,
      observations: this.obs.slice(0, L * O),
      nextObservations: this.next.slice(0, L * O),
      actions: this.act.slice(0, L * A),
      rewards: this.rew.slice(0, L),
      qpos: this.qpos.slice(0, L * nq),
      qvel: this.qvel.slice(0, L * nv),
    };
  }
}

export class CollectRunner extends LoadedRollout<CollectConfig> {
  readonly envs: LocomotionEnv[];
  readonly nq: number;
  readonly nv: number;

  private constructor(config: CollectConfig, envs: LocomotionEnv[], policy: Policy) {
    super(config, envs, policy);
    this.envs = envs;
    this.nq = envs[0].nq;
    this.nv = envs[0].nv;
  }

  static async create(config: CollectConfig): Promise<CollectRunner> {
    const { envs, policy } = await makeEnvsWithPolicy(config);
    return new CollectRunner(config, envs, policy);
  }

  /**
   * Run `episodes` (global indices) to their ends; results in list order. `noise` overrides the
   * config's actionNoise / epsilon (the envs and the loaded policy do not depend on them).
   */
  async run(episodes: readonly number[], noise: Partial<NoiseSettings> = {}): Promise<EpisodeData[]> {
    const settings: NoiseSettings = { actionNoise: noise.actionNoise ?? this.config.actionNoise, epsilon: noise.epsilon ?? this.config.epsilon };
    const results = new Map<number, EpisodeData>();
    await this.loop.run(seededEpisodes(episodes, this.config.seed), this.hooks(settings, results));
    return episodes.map((i) => results.get(i)!);
  }

  /** The loop's hooks for one run: noise on the actions, every transition kept, episodes into `results`. */
  private hooks(noise: NoiseSettings, results: Map<number, EpisodeData>): RolloutHooks {
    const { vec, envs } = this;
    const horizon = this.config.maxEpisodeSteps;
    const records: Array<EpisodeRecord | null> = new Array<EpisodeRecord | null>(envs.length).fill(null);
    return {
      episodeStart: (s, _index, seed) => {
        records[s] = new EpisodeRecord(seed, horizon, envs[s]);
      },
      beforeStep: (s, action) => records[s]!.beforeStep(action, noise, vec.observations, s),
      afterStep: (s, reward) => records[s]!.afterStep(reward, vec.observations, s),
      episodeEnd: (end) => {
        results.set(end.index, records[end.slot]!.finish(end));
        records[end.slot] = null;
      },
    };
  }
}
