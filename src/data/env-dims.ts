/**
 * Observation and action widths expected of a dataset for an env id, and the episode cut used by
 * D4RL's `qlearning_dataset` for files without `timeouts` (both from the registry).
 */
import { D4RL_MAX_EPISODE_STEPS, TASK_SPACES, getEnvEntry } from '../registry.js';

/**
 * Expected widths for `envId` (any id the registry knows, e.g. `hopper-medium-v2`, `Hopper-v3`),
 * or undefined for ids without a simulated task (antmaze, adroit, kitchen). Unknown ids throw the
 * registry's `UnknownEnvError`.
 */
export function envDims(envId: string): { observationSize: number; actionSize: number } | undefined {
  const task = getEnvEntry(envId).task;
  return task === undefined ? undefined : { ...TASK_SPACES[task] };
}
