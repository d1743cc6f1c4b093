/**
 * N copies of one environment in one thread, stepped by one call, with every buffer reused: the
 * env side of batching (slots that reset and step; nothing about policies). The one batched
 * rollout loop, src/batched-rollout.ts, drives it: it asks a policy for the running slots'
 * actions, steps them here, and restarts finished slots with new seeds (`resetAt`).
 */
import { makeEnv, type MakeEnvOptions } from '../src/make-env.js';
import type { LocomotionEnv } from './locomotion-env.js';
import { EnvUsageError } from './locomotion-env.js';

/**
 * What a slot needs from an environment: reset and the allocation-free step. LocomotionEnv has
 * all of it; the optional members (name, horizon, non-finite flag, cleanup) are read when present,
 * so that small fake envs (ARS tests) can be batched too.
 */
export interface StepEnv {
  readonly observationSize: number;
  readonly actionSize: number;
  reset(seed: number): Float64Array;
  stepInto(
    actions: ArrayLike<number>,
    actionOffset: number,
    obsOut: Float64Array,
    obsOffset: number,
  ): { reward: number; terminated: boolean; truncated: boolean };
  readonly id?: string;
  readonly maxEpisodeSteps?: number;
  readonly lastInfo?: { readonly nonFiniteState: boolean };
  close?(): void;
}

/** Name of a batch of envs that do not say their id (fakes). */
const UNNAMED_ENV = 'env';

export class VectorEnv<E extends StepEnv = LocomotionEnv> {
  readonly id: string;
  readonly numEnvs: number;
  readonly observationSize: number;
  readonly actionSize: number;
  readonly maxEpisodeSteps: number;
  /** numEnvs x observationSize, row i = latest observation of slot i. */
  readonly observations: Float64Array;
  /** Reward of each slot's last step (0 for slots that did not step). */
  readonly rewards: Float64Array;
  /** 1 where the last step terminated / truncated the slot's episode. */
  readonly terminated: Uint8Array;
  readonly truncated: Uint8Array;
  /** 1 while a slot has an episode under way (after `resetAt`, until it ends). */
  readonly running: Uint8Array;
  /** 1 where the last step ended with a non-finite physics state. */
  readonly nonFinite: Uint8Array;

  private readonly envs: E[];

  constructor(envs: E[]) {
    if (envs.length === 0) throw new RangeError('VectorEnv needs at least one env');
    const first = envs[0];
    for (const e of envs) {
      if (e.id !== first.id || e.maxEpisodeSteps !== first.maxEpisodeSteps) {
        throw new RangeError(`VectorEnv envs must share one id and horizon; got ${first.id} and ${e.id}`);
      }
    }
    this.envs = envs;
    this.id = first.id ?? UNNAMED_ENV;
    this.numEnvs = envs.length;
    this.observationSize = first.observationSize;
    this.actionSize = first.actionSize;
    // An env without a horizon of its own (a fake) ends its episodes itself.
    this.maxEpisodeSteps = first.maxEpisodeSteps ?? Infinity;
    this.observations = new Float64Array(this.numEnvs * this.observationSize);
    this.rewards = new Float64Array(this.numEnvs);
    this.terminated = new Uint8Array(this.numEnvs);
    this.truncated = new Uint8Array(this.numEnvs);
    this.running = new Uint8Array(this.numEnvs);
    this.nonFinite = new Uint8Array(this.numEnvs);
  }

  /** Start a new episode in slot `i` with `seed`; its observation lands in row i. */
  resetAt(i: number, seed: number): void {
    this.checkSlot(i);
    const obs = this.envs[i].reset(seed);
    this.observations.set(obs, i * this.observationSize);
    this.running[i] = 1;
    this.rewards[i] = 0;
    this.terminated[i] = 0;
    this.truncated[i] = 0;
    this.nonFinite[i] = 0;
  }

  /** Reset every slot, slot i with seeds[i]. */
  reset(seeds: ArrayLike<number>): void {
    if (seeds.length !== this.numEnvs) {
      throw new RangeError(`reset needs ${this.numEnvs} seeds, got ${seeds.length}`);
    }
    for (let i = 0; i < this.numEnvs; i++) this.resetAt(i, seeds[i]);
  }

  /** Stop slot i without finishing its episode (e.g. no more episodes to hand out). */
  release(i: number): void {
    this.checkSlot(i);
    this.running[i] = 0;
  }

  /**
   * Step every running slot with its row of `actions` (numEnvs x actionSize; rows of idle slots
   * are ignored). Slots whose episode ends stop running. Returns how many slots stepped.
   */
  step(actions: ArrayLike<number>): number {
    if (actions.length !== this.numEnvs * this.actionSize) {
      throw new EnvUsageError(
        `${this.id}: vector step needs ${this.numEnvs} x ${this.actionSize} = ${this.numEnvs * this.actionSize} actions, got ${actions.length}`,
      );
    }
    let stepped = 0;
    for (let i = 0; i < this.numEnvs; i++) {
      if (this.running[i] === 0) {
        this.rewards[i] = 0;
        this.terminated[i] = 0;
        this.truncated[i] = 0;
        this.nonFinite[i] = 0;
        continue;
      }
      const env = this.envs[i];
      const r = env.stepInto(actions, i * this.actionSize, this.observations, i * this.observationSize);
      this.rewards[i] = r.reward;
      this.terminated[i] = r.terminated ? 1 : 0;
      this.truncated[i] = r.truncated ? 1 : 0;
      this.nonFinite[i] = env.lastInfo?.nonFiniteState === true ? 1 : 0;
      if (r.terminated || r.truncated) this.running[i] = 0;
      stepped++;
    }
    return stepped;
  }

  /** The env behind slot i (for state access). */
  env(i: number): E {
    this.checkSlot(i);
    return this.envs[i];
  }

  close(): void {
    for (const e of this.envs) e.close?.();
  }

  private checkSlot(i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.numEnvs) {
      throw new RangeError(`slot ${i} out of range 0..${this.numEnvs - 1}`);
    }
  }
}

/** `numEnvs` copies of env `id` sharing one compiled model. */
export async function makeVectorEnv(id: string, numEnvs: number, options: MakeEnvOptions = {}): Promise<VectorEnv> {
  if (!Number.isSafeInteger(numEnvs) || numEnvs < 1) {
    throw new RangeError(`numEnvs must be a positive integer, got ${String(numEnvs)}`);
  }
  const envs: LocomotionEnv[] = [];
  for (let i = 0; i < numEnvs; i++) envs.push(await makeEnv(id, options));
  return new VectorEnv(envs);
}
