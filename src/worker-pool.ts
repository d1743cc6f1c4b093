/**
 * The one Piscina pool of the project, parameterised by its worker file: a fixed number of warm
 * threads (one task at a time each), a JS heap limit per thread so that a leaking plug-in fails its
 * task instead of taking the machine's memory, and a record of the errors a worker raises while it
 * runs no task. The evaluation pool (eval/pool.ts) and the behaviour pool (src/behaviour/pool.ts)
 * are this with their worker files.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { workerHeapLimitMb } from './limits.js';
import { packageRoot } from './mujoco/bridge.js';
import { OptionError } from './option-error.js';

/**
 * A compiled file next to the calling module (when running from dist/), else at `distPath` under
 * the package's dist/ (when running through tsx / vitest from the sources).
 */
export function compiledFile(callerUrl: string, file: string, distPath: string, what: string): string {
  const candidates = [join(dirname(fileURLToPath(callerUrl)), file), join(packageRoot, 'dist', distPath, file)];
  for (const c of candidates) if (existsSync(c)) return c;
  throw new Error(`ofql-eval: compiled ${what} not found (looked for ${candidates.join(', ')}); run 'npm run build' first`);
}

export interface WorkerPoolOptions {
  /** The compiled worker module. */
  filename: string;
  workers: number;
  /** JS heap limit of each thread in MB (default: workerHeapLimitMb(workers)). */
  heapLimitMb?: number;
  /** For messages: 'evaluation pool'. */
  name: string;
  /** Piscina's queue bound: 'auto' (threads squared) for the evaluator's few chunks in flight; default unbounded (collect queues all its tasks at once). */
  maxQueue?: number | 'auto';
}

export class WorkerPool<Task, Reply> {
  readonly workers: number;
  /** JS heap limit of each worker thread (MB); a worker past it dies with ERR_WORKER_OUT_OF_MEMORY. */
  readonly heapLimitMb: number;
  /** Errors a worker raised while not running a task (recorded, not fatal). */
  readonly idleErrors: Error[] = [];
  private readonly piscina: Piscina<Task, Reply>;
  private readonly idleListeners = new Set<(err: Error) => void>();
  private destroying: Promise<void> | undefined;
  private readonly name: string;

  constructor(o: WorkerPoolOptions) {
    if (!Number.isSafeInteger(o.workers) || o.workers < 1) throw new OptionError(`workers must be a positive integer, got ${String(o.workers)}`);
    this.workers = o.workers;
    this.name = o.name;
    this.heapLimitMb = o.heapLimitMb ?? workerHeapLimitMb(o.workers);
    this.piscina = new Piscina<Task, Reply>({
      resourceLimits: { maxOldGenerationSizeMb: this.heapLimitMb },
      filename: o.filename,
      minThreads: o.workers,
      maxThreads: o.workers,
      idleTimeout: 2 ** 31 - 1,
      concurrentTasksPerWorker: 1,
      // 'sync' would park idle workers in Atomics.wait, where their timers cannot run.
      atomics: 'async',
      ...(o.maxQueue !== undefined ? { maxQueue: o.maxQueue } : {}),
    });
    // Without a listener an 'error' event would end the process.
    this.piscina.on('error', (err: Error) => {
      this.idleErrors.push(err);
      for (const l of this.idleListeners) l(err);
    });
  }

  /**
   * Be told of errors a worker raises while it runs no task (Piscina's 'error' event), e.g. a
   * policy's timer that throws after its chunk was answered. Returns the unsubscribe function.
   */
  onIdleError(listener: (err: Error) => void): () => void {
    this.idleListeners.add(listener);
    return () => this.idleListeners.delete(listener);
  }

  run(task: Task, signal?: AbortSignal): Promise<Reply> {
    if (this.destroying) return Promise.reject(new Error(`${this.name} is destroyed`));
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
