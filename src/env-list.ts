/**
 * What `--env` accepts: env ids (src/registry.ts), named suites of them, comma-separated lists of
 * both. Used by every command that names environments and by the evaluator.
 */
import { getEnvEntry, listEnvs } from './registry.js';

export const SUITES: Readonly<Record<string, readonly string[]>> = {
  /**
   * The D4RL locomotion table of offline-RL papers (IQL, CQL, TD3+BC, FQL, ...): HalfCheetah,
   * Hopper, Walker2d x medium, medium-replay, medium-expert, v2. The three datasets of one
   * family share one simulator; a policy module tells them apart by `spec.envId` (e.g. to load
   * the right checkpoint).
   */
  'd4rl-locomotion': ['halfcheetah', 'hopper', 'walker2d'].flatMap((f) =>
    ['medium', 'medium-replay', 'medium-expert'].map((d) => `${f}-${d}-v2`),
  ),
};

export class EnvListError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EnvListError';
  }
}

/**
 * `hopper-medium-v2,walker2d-medium-v2` / suite names / arrays of those -> the env ids, in
 * order, duplicates dropped. Every id must be one ofql-eval simulates.
 */
export function expandEnvList(input: string | readonly string[]): string[] {
  const parts = (typeof input === 'string' ? [input] : input)
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (parts.length === 0) throw new EnvListError('no environment given (--env)');
  const out: string[] = [];
  for (const p of parts) {
    const ids = SUITES[p] ?? [p];
    for (const id of ids) {
      let entry;
      try {
        entry = getEnvEntry(id);
      } catch {
        throw new EnvListError(
          `unknown environment '${id}'. Use a suite (${Object.keys(SUITES).join(', ')}) or a simulated id such as ` +
            `hopper-medium-v2, halfcheetah-expert-v2, walker2d-medium-replay-v2, ant-medium-v2, Hopper-v3 ('ofql-eval list' shows all ${listEnvs({ simulated: true }).length})`,
        );
      }
      if (!entry.task) {
        throw new EnvListError(
          `environment '${id}' is known for score normalisation only and cannot be simulated ('ofql-eval list' shows the simulated ids)`,
        );
      }
      if (!out.includes(id)) out.push(id);
    }
  }
  return out;
}
