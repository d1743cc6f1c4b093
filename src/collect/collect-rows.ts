/**
 * Rolling out episodes 0, 1, 2, ... on the behaviour pool and handing them on in episode order
 * until a row budget is met. Workers roll out chunks of episodes in parallel (each chunk on the
 * batched rollout loop, src/behaviour/collect-episodes.ts); chunks are passed on in episode
 * order, so what the sink gets does not depend on the number of workers or the batch size.
 */
import { performance } from 'node:perf_hooks';
import type { CollectConfig, EpisodeData } from '../behaviour/collect-episodes.js';
import { BehaviourPool, DEFAULT_BEHAVIOUR_WORKERS } from '../behaviour/pool.js';
import type { ResolvedCheckpointDir } from '../checkpoint/run-dir.js';
import { DEFAULT_MAX_EPISODE_STEPS } from '../make-env.js';
import type { PolicyRef } from '../policy/types.js';
import { DEFAULT_COLLECT_BATCH, checkCollectOptions, type CollectProgress, type CollectRunOptions, type CollectStats } from './options.js';
import { resolveCollectPolicy, type CollectPolicy } from './policy.js';

/** How long collect waits for its running tasks before terminating the workers (ms). */
const COLLECT_STOP_GRACE_MS = 10_000;
/** Chunk tasks kept in flight per worker thread. */
const CHUNKS_IN_FLIGHT_PER_WORKER = 2;
/** Default interval of `onProgress` calls (ms). */
const DEFAULT_PROGRESS_INTERVAL_MS = 500;

export type EpisodeSink = (ep: EpisodeData, rows: number) => void;

/** What `collectRows` reports: the numbers, and the policy it rolled out. */
export type CollectRowsResult = CollectStats & { policy: PolicyRef; ckpt?: string; ckptResolved?: ResolvedCheckpointDir };

/** The numbers of what the sink was given; cuts the episode that meets the budget. */
class RowTally {
  rows = 0;
  episodes = 0;
  private complete = 0;
  private terminated = 0;
  private returnSum = 0;
  private lastCut = false;
  private dims: Pick<CollectStats, 'observationSize' | 'actionSize' | 'qposSize' | 'qvelSize'> | undefined;

  constructor(
    readonly steps: number,
    private readonly sink: EpisodeSink,
  ) {}

  /** Hand `ep` (its first rows up to the budget) to the sink; nothing once the budget is met. */
  give(ep: EpisodeData): void {
    if (this.rows >= this.steps) return;
    const m = Math.min(ep.length, this.steps - this.rows);
    this.dims ??= {
      observationSize: ep.observations.length / ep.length,
      actionSize: ep.actions.length / ep.length,
      qposSize: ep.qpos.length / ep.length,
      qvelSize: ep.qvel.length / ep.length,
    };
    this.sink(ep, m);
    this.rows += m;
    this.episodes++;
    if (m === ep.length) {
      this.complete++;
      this.returnSum += ep.return;
      if (ep.terminated) this.terminated++;
    } else {
      this.lastCut = true;
    }
  }

  stats(wallSeconds: number): CollectStats {
    return {
      rows: this.rows,
      episodes: this.episodes,
      completeEpisodes: this.complete,
      meanReturn: this.complete > 0 ? this.returnSum / this.complete : NaN,
      terminatedEpisodes: this.terminated,
      lastEpisodeCut: this.lastCut,
      wallSeconds,
      stepsPerSecond: wallSeconds > 0 ? this.rows / wallSeconds : 0,
      ...this.dims!,
    };
  }
}

/**
 * Chunk c = episodes c * chunkSize ... (c + 1) * chunkSize - 1. Launches chunks while the rows
 * received could fall short of the budget, buffers answers that come early, and gives them to
 * the tally in chunk order. Settles once the budget is met, on the first failure, or on abort.
 */
class ChunkSchedule {
  /** Tasks not yet settled (awaited before the pool goes). */
  readonly running = new Set<Promise<unknown>>();
  private readonly buffered = new Map<number, EpisodeData[]>();
  private bufferedRows = 0;
  private nextChunk = 0;
  private nextToGive = 0;
  private inFlight = 0;
  private failure: unknown;
  private finished = false;
  private resolveAll: () => void = () => undefined;
  private rejectAll: (err: unknown) => void = () => undefined;
  private readonly onAbort = (): void => {
    this.failure ??= new Error('collection interrupted');
    this.settle();
  };

  constructor(
    private readonly pool: BehaviourPool,
    private readonly config: CollectConfig,
    private readonly chunkSize: number,
    private readonly maxInFlight: number,
    private readonly tally: RowTally,
    private readonly signal: AbortSignal | undefined,
  ) {}

  run(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.resolveAll = resolve;
      this.rejectAll = reject;
      if (this.signal?.aborted) {
        this.onAbort();
        return;
      }
      this.signal?.addEventListener('abort', this.onAbort, { once: true });
      this.pump();
    });
  }

  private settle(): void {
    if (this.finished) return;
    if (this.failure === undefined && this.tally.rows < this.tally.steps) return;
    this.finished = true;
    this.signal?.removeEventListener('abort', this.onAbort);
    if (this.failure !== undefined) this.rejectAll(this.failure);
    else this.resolveAll();
  }

  private pump(): void {
    // Enough rows may already be buffered; only launch when the work received could fall short.
    while (!this.finished && this.failure === undefined && this.inFlight < this.maxInFlight && this.tally.rows + this.bufferedRows < this.tally.steps) {
      this.launch(this.nextChunk++);
    }
  }

  private launch(c: number): void {
    const episodes = Array.from({ length: this.chunkSize }, (_, j) => c * this.chunkSize + j);
    this.inFlight++;
    const task = this.pool.collect(this.config, episodes);
    this.running.add(task);
    void task.finally(() => this.running.delete(task)).catch(() => undefined);
    task.then(
      (data) => this.received(c, data),
      (err: unknown) => {
        this.inFlight--;
        this.failure ??= err;
        this.settle();
      },
    );
  }

  private received(c: number, data: EpisodeData[]): void {
    this.inFlight--;
    if (this.finished) return;
    this.buffered.set(c, data);
    for (const ep of data) this.bufferedRows += ep.length;
    try {
      this.drain();
    } catch (err) {
      this.failure ??= err;
    }
    this.settle();
    this.pump();
  }

  /** Give the buffered chunks that are next in order to the tally. */
  private drain(): void {
    while (this.tally.rows < this.tally.steps && this.buffered.has(this.nextToGive)) {
      const eps = this.buffered.get(this.nextToGive)!;
      this.buffered.delete(this.nextToGive);
      this.nextToGive++;
      for (const ep of eps) {
        this.bufferedRows -= ep.length;
        this.tally.give(ep);
      }
    }
  }
}

/** What the workers are told: the run's settings with their defaults. */
function collectConfig(options: CollectRunOptions, policy: CollectPolicy): { config: CollectConfig; chunkSize: number } {
  const batchSize = options.batchSize ?? DEFAULT_COLLECT_BATCH;
  const chunkSize = options.chunkSize ?? batchSize;
  const config: CollectConfig = {
    envId: options.env,
    maxEpisodeSteps: options.maxEpisodeSteps ?? DEFAULT_MAX_EPISODE_STEPS,
    policy: policy.ref,
    ckpt: policy.ckpt,
    seed: options.seed ?? 0,
    actionNoise: options.actionNoise ?? 0,
    epsilon: options.epsilon ?? 0,
    batchSize: Math.min(batchSize, chunkSize),
  };
  return { config, chunkSize };
}

/**
 * Roll out episodes 0, 1, 2, ... and hand them to `sink` in episode order until `steps` rows are
 * given (the last episode cut: `sink(ep, m)` with m < ep.length). The pool is used as given or
 * made (and destroyed) here.
 */
export async function collectRows(options: CollectRunOptions, sink: EpisodeSink): Promise<CollectRowsResult> {
  checkCollectOptions(options);
  const policy = await resolveCollectPolicy(options.policy, options.ckpt, options.cwd ?? process.cwd(), options.env, options.ofqlOptions);
  const { config, chunkSize } = collectConfig(options, policy);
  const pool = options.pool ?? new BehaviourPool(options.workers ?? DEFAULT_BEHAVIOUR_WORKERS);
  const tally = new RowTally(options.steps, sink);
  const schedule = new ChunkSchedule(pool, config, chunkSize, CHUNKS_IN_FLIGHT_PER_WORKER * pool.workers, tally, options.signal);
  const t0 = performance.now();
  const progress = (): CollectProgress => ({ rows: tally.rows, steps: tally.steps, episodes: tally.episodes, elapsedSeconds: (performance.now() - t0) / 1000 });
  const ticker = options.onProgress ? setInterval(() => options.onProgress?.(progress()), options.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS) : undefined;
  try {
    await schedule.run();
  } finally {
    if (ticker) clearInterval(ticker);
    // Let tasks still running finish before the workers go: a worker terminated inside an
    // onnxruntime call (--backend onnx, ONNX policies) aborts the whole process.
    // Bounded: a task stuck in a hung policy is terminated after COLLECT_STOP_GRACE_MS.
    await Promise.race([Promise.allSettled([...schedule.running]), new Promise((r) => setTimeout(r, COLLECT_STOP_GRACE_MS).unref())]);
    if (!options.pool) await pool.destroy();
  }
  options.onProgress?.(progress());
  return { ...tally.stats((performance.now() - t0) / 1000), policy: policy.ref, ckpt: policy.ckpt, ckptResolved: policy.ckptResolved };
}
