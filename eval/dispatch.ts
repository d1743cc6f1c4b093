/**
 * Running a planned evaluation (eval/eval-plan.ts) over the worker pool.
 *
 * Scheduling: exactly one chunk in flight per worker; the next chunk goes to the first worker that
 * answers. A crashed worker (process.exit, WASM abort, ...) has its chunk retried once on a fresh
 * single-worker pool and recorded in `retries`; a second crash of that chunk fails the run.
 *
 * Stopping (a failure, or the signal aborted by Ctrl-C): every running chunk is asked to return at
 * its next step, and workers still busy after a grace are terminated. What was answered stays in
 * the tally (eval/tally.ts), from which the partial result is made.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { formatEpisodes } from '../src/policy/errors.js';
import { DEFAULT_PROGRESS_INTERVAL_MS, type EvaluateOptions, type Progress } from './options.js';
import type { EvalPlan, Job } from './eval-plan.js';
import { EvalPool } from './pool.js';
import type { RetryRecord } from './result.js';
import { WATCH, watchBufferBytes } from './runner.js';
import type { RunTally } from './tally.js';
import { overdueMessage, watchHead, watchdogPeriodMs } from './watchdog.js';
import type { ChunkReply } from './worker.js';

/** How long a stopping run waits for running chunks to return before it terminates their workers (ms). */
const STOP_GRACE_MS = 300;
/** The same while a worker is still inside its policy factory (ms). */
const STOP_LOAD_GRACE_MS = 5000;
const STOP_POLL_MS = 25;
/** How long a finished run waits for late worker errors before the pool goes (ms; see onIdleError). */
const IDLE_ERROR_SETTLE_MS = 25;

/** How the run ended. */
export interface DispatchOutcome {
  /** The run's (first) error, or null. */
  failure: string | null;
  /** Stopped by the signal rather than by a failure. */
  interrupted: boolean;
}

interface InFlight {
  job: Job;
  controller: AbortController;
  /** Shared watch record of the chunk (WATCH in eval/runner.ts). */
  watch: SharedArrayBuffer;
  abortReason: null | 'timeout' | 'stop';
  /** The fresh single-worker pool of a retry. */
  ownPool?: EvalPool;
}

export class ChunkDispatcher {
  private readonly queue: Job[];
  private readonly inFlight = new Set<InFlight>();
  /** Chunks in flight on the main pool (retries run on their own). */
  private mainInFlight = 0;
  private readonly pool: EvalPool | undefined;
  private readonly ownsPool: boolean;
  private failure: string | null = null;
  private interrupted = false;
  private stopping = false;
  private stopTimer: NodeJS.Timeout | undefined;
  /** The watchdog and the progress ticker. */
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly unsubscribe: Array<() => void> = [];
  /** Ends the run; undefined before it starts and once it has ended. */
  private finish: (() => void) | undefined;

  constructor(
    private readonly plan: EvalPlan,
    private readonly tally: RunTally,
    private readonly options: EvaluateOptions,
    /** performance.now() when the run began. */
    private readonly t0: number,
  ) {
    this.queue = [...plan.jobs];
    this.ownsPool = !options.pool;
    const heapLimitMb = options.workerHeapLimitMb;
    this.pool = this.queue.length > 0 ? (options.pool ?? new EvalPool(plan.settings.workers, { heapLimitMb })) : undefined;
  }

  /** Run every job, or until stopped; then release the pool and report the final progress. */
  async run(): Promise<DispatchOutcome> {
    const { signal } = this.options;
    if (signal?.aborted) this.onAbort();
    signal?.addEventListener('abort', this.onAbort, { once: true });
    if (this.pool) this.unsubscribe.push(this.pool.onIdleError(this.onIdleError));
    await new Promise<void>((resolve) => {
      this.finish = resolve;
      this.startTimers();
      this.pump();
    });
    await this.close();
    return { failure: this.failure, interrupted: this.interrupted };
  }

  private async close(): Promise<void> {
    this.options.signal?.removeEventListener('abort', this.onAbort);
    if (this.stopTimer) clearInterval(this.stopTimer);
    // Give a worker's error that was sent right after its last answer the time to arrive.
    if (this.pool && !this.stopping) await sleep(IDLE_ERROR_SETTLE_MS);
    if (this.pool && this.ownsPool) await this.pool.destroy();
    for (const u of this.unsubscribe) u();
    this.options.onProgress?.(this.progress());
  }

  private progress(): Progress {
    let done = this.tally.episodes;
    let steps = this.tally.envSteps;
    for (const f of this.inFlight) {
      const head = watchHead(f.watch);
      done += head[WATCH.episodesDone];
      steps += head[WATCH.envSteps];
    }
    return {
      done,
      total: this.plan.total,
      envSteps: steps,
      elapsedSeconds: (performance.now() - this.t0) / 1000,
      perEnv: this.tally.perEnv(),
      retries: this.tally.retryCount,
    };
  }

  /** The watchdog for act() calls and factories that never return (synchronous loops), and progress ticks. */
  private startTimers(): void {
    const period = watchdogPeriodMs(this.plan.settings.policyTimeoutMs, this.plan.policyLoadTimeoutMs);
    if (period > 0) this.timers.push(setInterval(() => this.watchChunks(), period));
    const { onProgress, progressIntervalMs = DEFAULT_PROGRESS_INTERVAL_MS } = this.options;
    if (onProgress) this.timers.push(setInterval(() => onProgress(this.progress()), progressIntervalMs));
  }

  /** A chunk stuck past its limit fails the run (stopping terminates its worker with the others). */
  private watchChunks(): void {
    const now = Date.now();
    for (const f of this.inFlight) {
      if (f.abortReason !== null) continue;
      const message = overdueMessage(
        {
          watch: f.watch,
          envId: this.tally.envId(f.job.envIndex),
          label: this.plan.label,
          policyTimeoutMs: this.plan.settings.policyTimeoutMs,
          loadTimeoutMs: this.plan.policyLoadTimeoutMs,
        },
        now,
      );
      if (message === null) continue;
      f.abortReason = 'timeout';
      this.fail(message);
    }
  }

  /** Hand out jobs while workers are free; end the run when nothing is left to wait for. */
  private pump(): void {
    while (!this.stopping && this.queue.length > 0) {
      const head = this.queue[0];
      if (head.attempt === 0 && this.mainInFlight >= this.plan.settings.workers) break;
      this.queue.shift();
      this.launch(head);
    }
    this.maybeDone();
  }

  private maybeDone(): void {
    if (this.finish === undefined || this.inFlight.size > 0 || !(this.stopping || this.queue.length === 0)) return;
    for (const t of this.timers) clearInterval(t);
    const finish = this.finish;
    this.finish = undefined;
    finish();
  }

  private launch(job: Job): void {
    const config = this.plan.configs[job.envIndex];
    const f: InFlight = {
      job,
      controller: new AbortController(),
      watch: new SharedArrayBuffer(watchBufferBytes(config.batchSize)),
      abortReason: null,
    };
    const runOn = this.workerFor(f);
    this.inFlight.add(f);
    runOn
      .run({ config, episodes: job.episodes, watch: f.watch, recordBelow: this.plan.record }, f.controller.signal)
      .then(
        (reply) => this.onReply(f, reply),
        (err: unknown) => this.onRejected(f, err),
      )
      .finally(() => this.settle(f));
  }

  /** The main pool for a first attempt; a fresh worker of its own for a retry. */
  private workerFor(f: InFlight): EvalPool {
    if (f.job.attempt === 0) {
      this.mainInFlight++;
      return this.pool!;
    }
    f.ownPool = new EvalPool(1, { heapLimitMb: this.options.workerHeapLimitMb ?? this.pool?.heapLimitMb });
    this.unsubscribe.push(f.ownPool.onIdleError(this.onIdleError));
    return f.ownPool;
  }

  private settle(f: InFlight): void {
    this.inFlight.delete(f);
    if (f.job.attempt === 0) this.mainInFlight--;
    const own = f.ownPool;
    // A retry's own worker also gets the settle time for a late error (see onIdleError).
    const released = own ? sleep(this.stopping ? 0 : IDLE_ERROR_SETTLE_MS).then(() => own.destroy()) : Promise.resolve();
    void released.finally(() => this.pump());
  }

  private onReply(f: InFlight, reply: ChunkReply): void {
    if (!reply.ok) {
      this.fail(reply.error.message);
      return;
    }
    this.tally.addChunk(f.job.envIndex, reply);
    if (f.job.retry) f.job.retry.outcome = 'succeeded';
  }

  /** A rejected task is a crashed worker, unless the run stopped it (a timeout already reported, or a stop). */
  private onRejected(f: InFlight, err: unknown): void {
    if (f.abortReason !== null || this.stopping) return;
    const message = workerErrorText(err, f.ownPool?.heapLimitMb ?? this.pool?.heapLimitMb);
    if (f.job.attempt === 0) {
      this.retry(f.job, message);
      return;
    }
    if (f.job.retry) f.job.retry.outcome = 'failed';
    const envId = this.tally.envId(f.job.envIndex);
    this.fail(`a worker crashed twice on ${envId} ${formatEpisodes(f.job.episodes)} (policy ${this.plan.label}): ${message}`);
  }

  /** The chunk once more, first in line, on a fresh worker. */
  private retry(job: Job, error: string): void {
    const retry: RetryRecord = { episodes: job.episodes, error, outcome: 'interrupted' };
    this.tally.addRetry(job.envIndex, retry);
    this.options.onRetry?.(this.tally.envId(job.envIndex), retry);
    this.queue.unshift({ ...job, attempt: 1, retry });
  }

  private fail(message: string): void {
    this.failure ??= message;
    this.stop();
  }

  private readonly onAbort = (): void => {
    if (!this.stopping) this.interrupted = true;
    this.stop();
  };

  // A throw outside any task (a policy's timer firing after its chunk was answered) kills the
  // worker but rejects no task: without this it went unreported, and the run looked clean.
  private readonly onIdleError = (err: Error): void => {
    if (this.stopping) return; // workers being terminated, or the run already failed
    this.fail(idleErrorMessage(this.plan.label, err));
  };

  // Stopping first asks every running chunk to return at its next step (WATCH.stop), and
  // terminates the workers only if some are still busy after STOP_GRACE_MS (a hung act()), or
  // after STOP_LOAD_GRACE_MS while a worker is still building its policy (a factory in the middle
  // of creating an onnxruntime session must not be terminated either).
  private stop(): void {
    if (this.stopping) return;
    this.stopping = true;
    for (const f of this.inFlight) watchHead(f.watch)[WATCH.stop] = 1;
    const stoppedAt = Date.now();
    this.stopTimer = setInterval(() => this.terminateWhenOverdue(stoppedAt), STOP_POLL_MS);
    this.stopTimer.unref();
  }

  private terminateWhenOverdue(stoppedAt: number): void {
    if (this.inFlight.size === 0) return clearInterval(this.stopTimer);
    const loading = [...this.inFlight].some((f) => f.abortReason !== 'timeout' && watchHead(f.watch)[WATCH.loadStart] > 0);
    if (Date.now() - stoppedAt >= (loading ? STOP_LOAD_GRACE_MS : STOP_GRACE_MS)) {
      clearInterval(this.stopTimer);
      this.terminate();
    }
  }

  // An owned pool is destroyed outright rather than having its tasks aborted: Piscina replaces a
  // worker killed by an abort, and a replacement started after destroy() would be left running.
  private terminate(): void {
    for (const f of this.inFlight) {
      f.abortReason ??= 'stop';
      if (f.ownPool) void f.ownPool.destroy();
      else if (!this.ownsPool) f.controller.abort(new Error('evaluation stopped'));
    }
    if (this.ownsPool) void this.pool?.destroy();
  }
}

/** A worker's crash as the run reports it; running out of the JS heap limit says which limit. */
function workerErrorText(err: unknown, heapLimitMb: number | undefined): string {
  const message = err instanceof Error ? err.message : String(err);
  if ((err as NodeJS.ErrnoException | undefined)?.code === 'ERR_WORKER_OUT_OF_MEMORY') {
    return `the worker ran out of its ${heapLimitMb ?? '?'} MB JS heap limit (resourceLimits; does the policy keep growing memory?): ${message}`;
  }
  return message;
}

function idleErrorMessage(label: string, err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  const what = code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'ran out of its JS heap limit outside act()' : 'threw outside act(), after its chunk had been answered';
  return `policy ${label}: a worker thread ${what} (an error from the policy's timers, callbacks or unhandled promise rejections): ${err.message}`;
}
