/** Public API of ofql-eval. */
export { makeEnv, DEFAULT_MAX_EPISODE_STEPS, type MakeEnvOptions } from './make-env.js';
export {
  normalizedScore,
  listEnvs,
  getEnvEntry,
  UnknownEnvError,
  D4RL_REFERENCE_SCORES,
  D4RL_MAX_EPISODE_STEPS,
  TASK_SPACES,
  type EnvEntry,
  type LocomotionTask,
} from './registry.js';
export type { Env, EnvState, StepInfo, StepResult } from '../envs/locomotion-env.js';
export { EnvUsageError } from '../envs/locomotion-env.js';
export { OptionError } from './option-error.js';
export { VectorEnv, makeVectorEnv } from '../envs/vector-env.js';
export { MujocoError, loadMujoco, mujocoVersion, mujocoPackageVersion } from './mujoco/bridge.js';
export { Rng, deriveSeed } from './rng.js';
export * from './data/index.js';
export * as ofql from './ofql/index.js';
export * from './checkpoint/index.js';
export * from '../eval/index.js';
export * from './policy/index.js';
export { mean, sampleStd, standardError, tQuantile, tCdf, meanConfidenceInterval, type ConfidenceInterval } from './stats.js';
export * as train from './train/index.js';
