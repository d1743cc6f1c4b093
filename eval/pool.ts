/**
 * The pool of evaluation workers (eval/worker.ts compiled to dist/eval/worker.js): the project's
 * WorkerPool (src/worker-pool.ts) with that worker. Can be created once and reused by several
 * `evaluate` calls (warm workers keep their MuJoCo module, environments and policies).
 */
import { availableParallelism } from 'node:os';
import { WorkerPool, compiledFile } from '../src/worker-pool.js';
import type { ChunkReply, ChunkTask } from './worker.js';

/** Path of the compiled worker: next to this file when built, else dist/eval/worker.js. */
export function resolveWorkerFile(): string {
  return compiledFile(import.meta.url, 'worker.js', 'eval', 'evaluation worker');
}

export function defaultWorkerCount(): number {
  return availableParallelism();
}

export class EvalPool extends WorkerPool<ChunkTask, ChunkReply> {
  constructor(workers: number = defaultWorkerCount(), options: { heapLimitMb?: number } = {}) {
    super({ filename: resolveWorkerFile(), workers, heapLimitMb: options.heapLimitMb, name: 'evaluation pool', maxQueue: 'auto' });
  }
}
