/**
 * A Piscina pool of evaluation workers (eval/worker.ts compiled to dist/eval/worker.js).
 * Can be created once and reused by several `evaluate` calls (warm workers keep their MuJoCo
 * module, environments and policies).
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { workerHeapLimitMb } from '../src/limits.js';
import { packageRoot } from '../src/mujoco/bridge.js';
import type { ChunkReply, ChunkTask } from './worker.js';

/** Path of the compiled worker: next to this file when built, else dist/eval/worker.js. */
export function resolveWorkerFile(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, 'worker.js'), join(packageRoot, 'dist', 'eval', 'worker.js')];
  for (const c of candidates) if (existsSync(c)) return c;
  throw new Error(`ofql-eval: compiled worker not found (looked for ${candidates.join(', ')}); run 'npm run build' first`);
}

export function defaultWorkerCount(): number {
  return availableParallelism();
}

export class EvalPool {
  readonly workers: number;
  private readonly piscina: Piscina<ChunkTask, ChunkReply>;
  private destroying: Promise<void> | undefined;
  /** Errors a worker raised while not running a task (logged, not fatal). */
  readonly idleErrors: Error[] = [];

  /** JS heap limit of each worker thread (MB); a worker past it dies with ERR_WORKER_OUT_OF_MEMORY. */
  readonly heapLimitMb: number;

  constructor(workers: number = defaultWorkerCount(), options: { heapLimitMb?: number } = {}) {
    if (!Number.isSafeInteger(workers) || workers < 1) {
      throw new RangeError(`workers must be a positive integer, got ${String(workers)}`);
    }
    this.workers = workers;
    this.heapLimitMb = options.heapLimitMb ?? workerHeapLimitMb(workers);
    this.piscina = new Piscina<ChunkTask, ChunkReply>({
      // A leaking plug-in fails its chunk (a worker crash, retried once) instead of taking the machine's memory.
      resourceLimits: { maxOldGenerationSizeMb: this.heapLimitMb },
      filename: resolveWorkerFile(),
      minThreads: workers,
      maxThreads: workers,
      idleTimeout: 2 ** 31 - 1,
      concurrentTasksPerWorker: 1,
      // 'sync' would park idle workers in Atomics.wait, where their timers cannot run.
      atomics: 'async',
      maxQueue: 'auto',
    });
    this.piscina.on('error', (err: Error) => {
      this.idleErrors.push(err);
      for (const l of this.idleListeners) l(err);
    });
  }

  private readonly idleListeners = new Set<(err: Error) => void>();

  /**
   * Be told of errors a worker raises while it runs no task (Piscina's 'error' event), e.g. a
   * policy's timer that throws after its chunk was answered. Returns the unsubscribe function.
   */
  onIdleError(listener: (err: Error) => void): () => void {
    this.idleListeners.add(listener);
    return () => this.idleListeners.delete(listener);
  }

  run(task: ChunkTask, signal?: AbortSignal): Promise<ChunkReply> {
    if (this.destroying) return Promise.reject(new Error('evaluation pool is destroyed'));
    return this.piscina.run(task, { signal: signal ?? null });
  }

  /** Live worker threads (for tests: none may be left after destroy). */
  get threadCount(): number {
    return this.piscina.threads.length;
  }

  /** Terminate every worker (running tasks are rejected) and wait until they exited. Idempotent. */
  destroy(): Promise<void> {
    this.destroying ??= this.piscina.destroy();
    return this.destroying;
  }
}
