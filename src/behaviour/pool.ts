/**
 * A Piscina pool for ARS rollouts and dataset collection (worker: rollout-worker.ts), and the
 * in-process equivalents. Work is cut into small tasks handed out dynamically; every result is
 * keyed by its index, so what a caller gets does not depend on the number of threads.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { workerHeapLimitMb } from '../limits.js';
import { packageRoot } from '../mujoco/bridge.js';
import type { RolloutExecutor } from './ars.js';
import type { CollectConfig, EpisodeData } from './collect-episodes.js';
import { runRollout, type RolloutEnv, type RolloutOutcome, type RolloutSpec } from './rollout.js';
import type { BehaviourTask } from './rollout-worker.js';

/** Default thread count for behaviour work: 2 (the machine this was built for has 2 cores). */
export const DEFAULT_BEHAVIOUR_WORKERS = 2;

export function resolveBehaviourWorkerFile(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, 'rollout-worker.js'), join(packageRoot, 'dist', 'src', 'behaviour', 'rollout-worker.js')];
  for (const c of candidates) if (existsSync(c)) return c;
  throw new Error(`ofql-eval: compiled behaviour worker not found (looked for ${candidates.join(', ')}); run 'npm run build' first`);
}

export class BehaviourPool {
  readonly workers: number;
  private readonly piscina: Piscina<BehaviourTask, unknown>;
  private destroyed: Promise<void> | undefined;
  /** Errors a worker raised outside a task (a crashed task rejects its own promise). */
  readonly idleErrors: Error[] = [];

  constructor(workers: number = DEFAULT_BEHAVIOUR_WORKERS) {
    if (!Number.isSafeInteger(workers) || workers < 1) throw new RangeError(`workers must be a positive integer, got ${String(workers)}`);
    this.workers = workers;
    this.piscina = new Piscina<BehaviourTask, unknown>({
      // As the evaluation pool: a leaking plug-in fails its task instead of taking the machine's memory.
      resourceLimits: { maxOldGenerationSizeMb: workerHeapLimitMb(workers) },
      filename: resolveBehaviourWorkerFile(),
      minThreads: workers,
      maxThreads: workers,
      idleTimeout: 2 ** 31 - 1,
      concurrentTasksPerWorker: 1,
      atomics: 'async',
    });
    // Without a listener an 'error' event would end the process.
    this.piscina.on('error', (err: Error) => {
      this.idleErrors.push(err);
    });
  }

  run<T>(task: BehaviourTask): Promise<T> {
    if (this.destroyed) return Promise.reject(new Error('behaviour pool is destroyed'));
    return this.piscina.run(task) as Promise<T>;
  }

  /** A RolloutExecutor for ARS on `envId`, cutting the rollouts into ~2 tasks per thread. */
  arsExecutor(envId: string, maxEpisodeSteps: number): RolloutExecutor {
    return async (base, specs, settings) => {
      const per = Math.max(1, Math.ceil(specs.length / (2 * this.workers)));
      const tasks: Promise<RolloutOutcome[]>[] = [];
      for (let i = 0; i < specs.length; i += per) {
        tasks.push(this.run<RolloutOutcome[]>({ kind: 'ars', envId, maxEpisodeSteps, base, specs: specs.slice(i, i + per), settings }));
      }
      return (await Promise.all(tasks)).flat();
    };
  }

  collect(config: CollectConfig, episodes: number[]): Promise<EpisodeData[]> {
    return this.run<EpisodeData[]>({ kind: 'collect', config, episodes });
  }

  destroy(): Promise<void> {
    this.destroyed ??= this.piscina.destroy();
    return this.destroyed;
  }
}

/** Run rollouts in this thread on one env (tests, fake envs). */
export function localArsExecutor(env: RolloutEnv): RolloutExecutor {
  return async (base, specs: RolloutSpec[], settings) => specs.map((s) => runRollout(env, base, s, settings));
}
