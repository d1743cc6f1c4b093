/**
 * A Piscina pool for ARS rollouts and dataset collection (worker: rollout-worker.ts), and the
 * in-process equivalents. Work is cut into small tasks handed out dynamically; every result is
 * keyed by its index, so what a caller gets does not depend on the number of threads.
 */
import { join } from 'node:path';
import { WorkerPool, compiledFile } from '../worker-pool.js';
import type { RolloutExecutor } from './ars.js';
import type { CollectConfig, EpisodeData } from './collect-episodes.js';
import { runRollouts, type RolloutEnv, type RolloutOutcome, type RolloutSpec } from './rollout.js';
import type { BehaviourTask } from './rollout-worker.js';

/** Default thread count for behaviour work: 2 (the machine this was built for has 2 cores). */
export const DEFAULT_BEHAVIOUR_WORKERS = 2;

export function resolveBehaviourWorkerFile(): string {
  return compiledFile(import.meta.url, 'rollout-worker.js', join('src', 'behaviour'), 'behaviour worker');
}

/** The project's WorkerPool (src/worker-pool.ts) with the rollout worker, and the work it is cut into. */
export class BehaviourPool extends WorkerPool<BehaviourTask, unknown> {
  constructor(workers: number = DEFAULT_BEHAVIOUR_WORKERS) {
    super({ filename: resolveBehaviourWorkerFile(), workers, name: 'behaviour pool' });
  }

  private runAs<T>(task: BehaviourTask): Promise<T> {
    return this.run(task) as Promise<T>;
  }

  /** A RolloutExecutor for ARS on `envId`, cutting the rollouts into ~2 tasks per thread. */
  arsExecutor(envId: string, maxEpisodeSteps: number): RolloutExecutor {
    return async (base, specs, settings) => {
      const per = Math.max(1, Math.ceil(specs.length / (2 * this.workers)));
      const tasks: Promise<RolloutOutcome[]>[] = [];
      for (let i = 0; i < specs.length; i += per) {
        tasks.push(this.runAs<RolloutOutcome[]>({ kind: 'ars', envId, maxEpisodeSteps, base, specs: specs.slice(i, i + per), settings }));
      }
      return (await Promise.all(tasks)).flat();
    };
  }

  collect(config: CollectConfig, episodes: number[]): Promise<EpisodeData[]> {
    return this.runAs<EpisodeData[]>({ kind: 'collect', config, episodes });
  }
}

/** Run rollouts in this thread on one env (tests, fake envs). */
export function localArsExecutor(env: RolloutEnv): RolloutExecutor {
  return async (base, specs: RolloutSpec[], settings) => runRollouts(env, base, specs, settings);
}
