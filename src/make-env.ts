/** `makeEnv(id)`: the registry id -> a ready environment on this thread's MuJoCo module. */
import { ANT, AntEnv } from '../envs/ant.js';
import { HALF_CHEETAH, HalfCheetahEnv } from '../envs/half-cheetah.js';
import { HOPPER, HopperEnv } from '../envs/hopper.js';
import type { LocomotionConfig, LocomotionEnv } from '../envs/locomotion-env.js';
import { WALKER2D, Walker2dEnv } from '../envs/walker2d.js';
import { assetPath, compileModelFile, loadMujoco, type MainModule, type MjModel } from './mujoco/bridge.js';
import { D4RL_MAX_EPISODE_STEPS, type LocomotionTask, getEnvEntry, listEnvs } from './registry.js';
import { OptionError } from './option-error.js';

/** gym/D4RL episode cut (TimeLimit max_episode_steps). */
export const DEFAULT_MAX_EPISODE_STEPS = D4RL_MAX_EPISODE_STEPS;

export interface MakeEnvOptions {
  /** Truncation horizon; default 1000 as in D4RL. */
  maxEpisodeSteps?: number;
  /** Ant only: compute real contact forces (Gymnasium v4); default false (D4RL semantics). */
  contactForces?: boolean;
}

type Ctor = (mj: MainModule, model: MjModel, config: LocomotionConfig, options: MakeEnvOptions) => LocomotionEnv;

const TASKS: Record<LocomotionTask, { modelFile: string; create: Ctor }> = {
  // Each env file names its model once (its constants' modelFile).
  HalfCheetah: { modelFile: HALF_CHEETAH.modelFile, create: (mj, m, c) => new HalfCheetahEnv(mj, m, c) },
  Hopper: { modelFile: HOPPER.modelFile, create: (mj, m, c) => new HopperEnv(mj, m, c) },
  Walker2d: { modelFile: WALKER2D.modelFile, create: (mj, m, c) => new Walker2dEnv(mj, m, c) },
  Ant: { modelFile: ANT.modelFile, create: (mj, m, c, o) => new AntEnv(mj, m, c, { contactForces: o.contactForces }) },
};

/** The model file (in assets/) an env id simulates. */
export function modelFileFor(id: string): string {
  const task = getEnvEntry(id).task;
  if (!task) throw new Error(`environment '${id}' is known for score normalisation only; ofql-eval simulates: ${listEnvs({ simulated: true }).join(', ')}`);
  return TASKS[task].modelFile;
}

export async function makeEnv(id: string, options: MakeEnvOptions = {}): Promise<LocomotionEnv> {
  const entry = getEnvEntry(id);
  if (!entry.task) {
    throw new Error(
      `environment '${id}' is known for score normalisation only; ofql-eval simulates: ${listEnvs({ simulated: true }).join(', ')}`,
    );
  }
  const maxEpisodeSteps = options.maxEpisodeSteps ?? DEFAULT_MAX_EPISODE_STEPS;
  if (!Number.isSafeInteger(maxEpisodeSteps) || maxEpisodeSteps < 1) {
    throw new OptionError(`maxEpisodeSteps must be a positive integer, got ${String(options.maxEpisodeSteps)}`);
  }
  if (options.contactForces && entry.task !== 'Ant') {
    throw new Error(`contactForces applies to Ant only, not '${id}'`);
  }
  const task = TASKS[entry.task];
  const mj = await loadMujoco();
  const model = await compileModelFile(assetPath(task.modelFile));
  return task.create(mj, model, { id, maxEpisodeSteps }, options);
}
