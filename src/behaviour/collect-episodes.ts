/**
 * Rolling out a policy and keeping every step, for `ofql-eval collect` (src/commands/collect.ts).
 * Runs in a worker thread (rollout-worker.ts) or in-process: B env slots stepped together, one
 * `policy.act` call per step for all running slots (as the evaluator does), finished slots
 * refilled with the next episode of the list.
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
import { makeEnvsWithPolicy } from '../policy/load.js';
import type { ActContext, Policy, PolicyRef } from '../policy/types.js';
import { Rng, deriveSeed } from '../rng.js';

/** Mixed into the episode seed for the noise generator (differs from the env's and the random policy's streams). */
export const COLLECT_NOISE_STREAM = 0xc011ec7;

export interface CollectConfig {
  envId: string;
  maxEpisodeSteps: number;
  policy: PolicyRef;
  /** Passed to the policy factory as spec.ckpt. */
  ckpt?: string;
  /** Run seed: episode i resets with deriveSeed(seed, i). */
  seed: number;
  /** Std of the Gaussian noise added to the policy's action (0 = none). */
  actionNoise: number;
  /** Probability of a uniform random action instead (0 = never). */
  epsilon: number;
  /** Env slots stepped together (rows per act call). */
  batchSize: number;
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

export class CollectRunner {
  readonly config: CollectConfig;
  readonly policy: Policy;
  readonly envs: LocomotionEnv[];
  readonly observationSize: number;
  readonly actionSize: number;
  readonly nq: number;
  readonly nv: number;

  private constructor(config: CollectConfig, envs: LocomotionEnv[], policy: Policy) {
    this.config = config;
    this.envs = envs;
    this.policy = policy;
    this.observationSize = envs[0].observationSize;
    this.actionSize = envs[0].actionSize;
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
  async run(episodes: readonly number[], noise: Partial<Pick<CollectConfig, 'actionNoise' | 'epsilon'>> = {}): Promise<EpisodeData[]> {
    const { envs, observationSize: O, actionSize: A, nq, nv } = this;
    const { seed, maxEpisodeSteps: T } = this.config;
    const actionNoise = noise.actionNoise ?? this.config.actionNoise;
    const epsilon = noise.epsilon ?? this.config.epsilon;
    const B = envs.length;
    const results = new Map<number, EpisodeData>();
    const obsAll = new Float64Array(B * O);
    const batch = new Float64Array(B * O);
    const ids = new Int32Array(B);
    const seeds = new Float64Array(B);
    const stepsArr = new Int32Array(B);
    const rowSlot = new Int32Array(B);
    const action = new Float64Array(A);
    interface Slot {
      index: number;
      seed: number;
      rng: Rng;
      t: number;
      ret: number;
      obs: Float32Array;
      next: Float32Array;
      act: Float32Array;
      rew: Float64Array;
      qpos: Float64Array;
      qvel: Float64Array;
    }
    const slots: (Slot | null)[] = new Array(B).fill(null);
    let next = 0;
    const start = (s: number): void => {
      const index = episodes[next++];
      const epSeed = deriveSeed(seed, index);
      obsAll.set(envs[s].reset(epSeed), s * O);
      slots[s] = {
        index,
        seed: epSeed,
        rng: new Rng(deriveSeed(epSeed, COLLECT_NOISE_STREAM)),
        t: 0,
        ret: 0,
        obs: new Float32Array(T * O),
        next: new Float32Array(T * O),
        act: new Float32Array(T * A),
        rew: new Float64Array(T),
        qpos: new Float64Array(T * nq),
        qvel: new Float64Array(T * nv),
      };
    };
    for (let s = 0; s < B && next < episodes.length; s++) start(s);

    for (;;) {
      let n = 0;
      for (let s = 0; s < B; s++) {
        const sl = slots[s];
        if (!sl) continue;
        rowSlot[n] = s;
        ids[n] = sl.index;
        seeds[n] = sl.seed;
        stepsArr[n] = sl.t;
        for (let k = 0; k < O; k++) batch[n * O + k] = obsAll[s * O + k];
        n++;
      }
      if (n === 0) break;
      const ctx: ActContext = { episodeIds: ids.subarray(0, n), episodeSeeds: seeds.subarray(0, n), steps: stepsArr.subarray(0, n) };
      let out: unknown = this.policy.act(batch.subarray(0, n * O), n, ctx);
      if (out !== null && typeof out === 'object' && typeof (out as PromiseLike<unknown>).then === 'function') out = await out;
      const acts = out as ArrayLike<number>;
      if (acts === null || typeof acts !== 'object' || acts.length !== n * A) {
        throw new Error(
          `policy act() returned ${acts === null || typeof acts !== 'object' ? String(acts) : `${acts.length} numbers`} for ${n} observations; expected ${n} x ${A} = ${n * A}`,
        );
      }
      for (let r = 0; r < n; r++) {
        const s = rowSlot[r];
        const sl = slots[s]!;
        const env = envs[s];
        const rng = sl.rng;
        const t = sl.t;
        if (epsilon > 0 && rng.random() < epsilon) {
          for (let k = 0; k < A; k++) action[k] = rng.uniform(-1, 1);
        } else {
          for (let k = 0; k < A; k++) {
            const a = acts[r * A + k];
            if (typeof a !== 'number' || !(a - a === 0)) {
              throw new Error(`policy act() returned ${String(a)} for action[${k}] of episode ${sl.index} (step ${t})`);
            }
            action[k] = actionNoise > 0 ? a + actionNoise * rng.normal() : a;
          }
        }
        for (let k = 0; k < A; k++) {
          const a = action[k];
          action[k] = Math.fround(a > 1 ? 1 : a < -1 ? -1 : a);
          sl.act[t * A + k] = action[k];
        }
        for (let k = 0; k < O; k++) sl.obs[t * O + k] = obsAll[s * O + k];
        const st = env.getState();
        sl.qpos.set(st.qpos, t * nq);
        sl.qvel.set(st.qvel, t * nv);
        const res = env.stepInto(action, 0, obsAll, s * O);
        for (let k = 0; k < O; k++) sl.next[t * O + k] = obsAll[s * O + k];
        sl.rew[t] = res.reward;
        sl.ret += res.reward;
        sl.t = t + 1;
        if (res.terminated || res.truncated) {
          const L = sl.t;
          results.set(sl.index, {
            index: sl.index,
            seed: sl.seed,
            length: L,
            terminated: res.terminated,
            return: sl.ret,
            observations: sl.obs.slice(0, L * O),
            nextObservations: sl.next.slice(0, L * O),
            actions: sl.act.slice(0, L * A),
            rewards: sl.rew.slice(0, L),
            qpos: sl.qpos.slice(0, L * nq),
            qvel: sl.qvel.slice(0, L * nv),
          });
          slots[s] = null;
          if (next < episodes.length) start(s);
        }
      }
    }
    return episodes.map((i) => results.get(i)!);
  }

  async close(): Promise<void> {
    for (const e of this.envs) e.close();
    await this.policy.close?.();
  }
}
