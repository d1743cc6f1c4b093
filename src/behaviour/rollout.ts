/**
 * ARS rollouts: episodes of a (possibly perturbed) linear policy in any environment with the
 * `RolloutEnv` shape (the locomotion envs have it; tests use small fake envs), played one after
 * another on one env slot of the batched rollout loop (src/batched-rollout.ts). Pure function of
 * its inputs: the env's reset seed, the direction's noise seed and the policy parameters, so it
 * gives the same numbers on any thread.
 */
import { VectorEnv, type StepEnv } from '../../envs/vector-env.js';
import { BatchedRollout, type EpisodePlan } from '../batched-rollout.js';
import type { Policy } from '../policy/types.js';
import { Rng } from '../rng.js';
import { LinearActor, type LinearParams } from './linear.js';
import { RunningStat } from './running-stat.js';

/** What a rollout needs from an environment (LocomotionEnv satisfies it): one env slot. */
export type RolloutEnv = StepEnv;

/** Names the policy in the loop's error messages. */
const ARS_POLICY_NAME = 'ARS linear policy';

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

/** The rollout policy: the base policy perturbed by the current spec's direction, keeping observation statistics. */
class PerturbedLinearPolicy implements Policy {
  private actor: LinearActor;
  private readonly action: Float64Array;
  stats: RunningStat | undefined;

  constructor(
    private readonly base: LinearParams,
    private readonly settings: RolloutSettings,
  ) {
    this.actor = new LinearActor(base);
    this.action = new Float64Array(base.actionSize);
  }

  /** Switch to `spec`'s policy, M + sign * nu * delta, with fresh statistics. */
  use(spec: RolloutSpec): void {
    const { base, settings } = this;
    let M = base.M;
    if (spec.deltaSeed !== null) {
      const delta = directionNoise(spec.deltaSeed, M.length);
      M = new Float64Array(M.length);
      const f = spec.sign * settings.nu;
      for (let i = 0; i < M.length; i++) M[i] = base.M[i] + f * delta[i];
    }
    this.actor = new LinearActor({ ...base, M });
    this.stats = settings.collectStats ? new RunningStat(base.observationSize) : undefined;
  }

  /** One row (the loop runs one slot): the statistics see every observation the policy acts on. */
  act(obs: Float64Array): Float64Array {
    this.stats?.push(obs);
    this.actor.actInto(obs, 0, this.action, 0);
    return this.action;
  }
}

/** Run each of `specs` to the end of its episode (termination or the env's own time limit), in order. */
export function runRollouts(env: RolloutEnv, base: LinearParams, specs: readonly RolloutSpec[], settings: RolloutSettings): RolloutOutcome[] {
  const O = env.observationSize;
  const A = env.actionSize;
  if (base.observationSize !== O || base.actionSize !== A) {
    throw new RangeError(`rollout: policy is ${base.actionSize} x ${base.observationSize}, env ${A} x ${O}`);
  }
  const policy = new PerturbedLinearPolicy(base, settings);
  const loop = new BatchedRollout(new VectorEnv([env]), policy, { policyName: ARS_POLICY_NAME });
  // Episode k of the plan is spec k, reset with the spec's own seed.
  const plan: EpisodePlan = { count: specs.length, index: (k) => k, seed: (k) => specs[k].episodeSeed };
  const outcomes: RolloutOutcome[] = [];
  let shifted = 0;
  loop.runSync(plan, {
    episodeStart: (_slot, k) => {
      policy.use(specs[k]);
      shifted = 0;
    },
    afterStep: (_slot, reward) => {
      shifted += reward - settings.shift;
    },
    episodeEnd: (end) => {
      const stats = policy.stats;
      outcomes.push({
        index: specs[end.index].index,
        return: end.return,
        shiftedReturn: shifted,
        steps: end.length,
        terminated: end.terminated,
        stats: stats ? { n: stats.n, mean: stats.mean, m2: stats.m2 } : undefined,
      });
    },
  });
  return outcomes;
}

/** Run `spec` to the end of its episode (termination or the env's own time limit). */
export function runRollout(env: RolloutEnv, base: LinearParams, spec: RolloutSpec, settings: RolloutSettings): RolloutOutcome {
  return runRollouts(env, base, [spec], settings)[0];
}
