/**
 * One ARS rollout: an episode of a (possibly perturbed) linear policy in any environment with the
 * `RolloutEnv` shape (the locomotion envs have it; tests use small fake envs). Pure function of
 * its inputs: the env's reset seed, the direction's noise seed and the policy parameters, so it
 * gives the same numbers on any thread.
 */
import { Rng } from '../rng.js';
import { LinearActor, type LinearParams } from './linear.js';
import { RunningStat } from './running-stat.js';

/** What a rollout needs from an environment (LocomotionEnv satisfies it). */
export interface RolloutEnv {
  readonly observationSize: number;
  readonly actionSize: number;
  reset(seed: number): Float64Array;
  stepInto(
    actions: ArrayLike<number>,
    actionOffset: number,
    obsOut: Float64Array,
    obsOffset: number,
  ): { reward: number; terminated: boolean; truncated: boolean };
}

export interface RolloutSpec {
  /** Caller's index, echoed in the outcome. */
  index: number;
  /** Env reset seed. */
  episodeSeed: number;
  /** Seed of the direction delta (standard normal entries), or null: the unperturbed policy. */
  deltaSeed: number | null;
  /** Policy M + sign * nu * delta. */
  sign: 1 | -1;
}

export interface RolloutSettings {
  /** Exploration noise nu (scale of the perturbation). */
  nu: number;
  /** Subtracted from every reward in `shiftedReturn` (ARS `shift`: 1 for hopper/walker2d/ant). */
  shift: number;
  /** Collect running statistics of the observations the policy saw. */
  collectStats: boolean;
}

export interface RolloutOutcome {
  index: number;
  /** Undiscounted sum of the env's rewards. */
  return: number;
  /** Sum of (reward - shift): what ARS ranks and updates with. */
  shiftedReturn: number;
  steps: number;
  terminated: boolean;
  /** Statistics of the observations fed to the policy (every step's input), if collected. */
  stats?: { n: number; mean: Float64Array; m2: Float64Array };
}

/** The direction delta for `deltaSeed`: `size` i.i.d. standard normal entries (row-major like M). */
export function directionNoise(deltaSeed: number, size: number): Float64Array {
  const rng = new Rng(deltaSeed);
  const d = new Float64Array(size);
  for (let i = 0; i < size; i++) d[i] = rng.normal();
  return d;
}

/** Run `spec` to the end of its episode (termination or the env's own time limit). */
export function runRollout(env: RolloutEnv, base: LinearParams, spec: RolloutSpec, settings: RolloutSettings): RolloutOutcome {
  const O = env.observationSize;
  const A = env.actionSize;
  if (base.observationSize !== O || base.actionSize !== A) {
    throw new RangeError(`rollout: policy is ${base.actionSize} x ${base.observationSize}, env ${A} x ${O}`);
  }
  let M = base.M;
  if (spec.deltaSeed !== null) {
    const delta = directionNoise(spec.deltaSeed, O * A);
    M = new Float64Array(O * A);
    const f = spec.sign * settings.nu;
    for (let i = 0; i < M.length; i++) M[i] = base.M[i] + f * delta[i];
  }
  const actor = new LinearActor({ ...base, M });
  const stats = settings.collectStats ? new RunningStat(O) : undefined;
  const obs = new Float64Array(O);
  obs.set(env.reset(spec.episodeSeed));
  const action = new Float64Array(A);
  let ret = 0;
  let shifted = 0;
  let steps = 0;
  let terminated = false;
  for (;;) {
    stats?.push(obs);
    actor.actInto(obs, 0, action, 0);
    const r = env.stepInto(action, 0, obs, 0);
    ret += r.reward;
    shifted += r.reward - settings.shift;
    steps++;
    if (r.terminated || r.truncated) {
      terminated = r.terminated;
      break;
    }
  }
  return {
    index: spec.index,
    return: ret,
    shiftedReturn: shifted,
    steps,
    terminated,
    stats: stats ? { n: stats.n, mean: stats.mean, m2: stats.m2 } : undefined,
  };
}
