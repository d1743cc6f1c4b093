/**
 * The settings of a collect run (`collect`, `collectRows`; the `collect` command fills them from
 * its flags), their checks, and the numbers a run reports.
 */
import { UsageError, checkIntFlag } from '../cli-errors.js';
import type { BehaviourPool } from '../behaviour/pool.js';
import type { MetadataValue } from '../data/d4rl-hdf5.js';
import { MAX_ENV_BATCH_SIZE, MAX_EPISODE_STEPS } from '../limits.js';
import { getEnvEntry } from '../registry.js';
import { assertSeed } from '../rng.js';

/** Env slots per worker (rows per act call) unless `batchSize` says otherwise. */
export const DEFAULT_COLLECT_BATCH = 8;

const SIMULATED_HINT = "the locomotion ids ({halfcheetah,hopper,walker2d,ant}-<dataset>-v2, Hopper-v3, ...; see 'ofql-eval list')";

export interface CollectProgress {
  rows: number;
  steps: number;
  episodes: number;
  elapsedSeconds: number;
}

export interface CollectRunOptions {
  /** Env id, e.g. `hopper-medium-v2`. */
  env: string;
  /** Built-in policy name or ES module path; optional when `ckpt` is a linear-policy JSON. */
  policy?: string;
  ckpt?: string;
  /** Rows to collect. */
  steps: number;
  actionNoise?: number;
  epsilon?: number;
  seed?: number;
  /** Worker threads (default 2). Ignored when `pool` is given. */
  workers?: number;
  /** Env slots per worker (rows per act call; default 8). */
  batchSize?: number;
  /** Episodes per task handed to a worker (default = batchSize). */
  chunkSize?: number;
  maxEpisodeSteps?: number;
  /** Base for relative paths (default process.cwd()). */
  cwd?: string;
  /** A pool to use (kept afterwards). */
  pool?: BehaviourPool;
  /** OFQL checkpoint policy options (the evaluator's --sampler, --backend, ...), keyed by option name. */
  ofqlOptions?: Record<string, unknown>;
  onProgress?: (p: CollectProgress) => void;
  progressIntervalMs?: number;
  signal?: AbortSignal;
}

export interface CollectOptions extends CollectRunOptions {
  out: string;
  /** Element type of infos/qpos, infos/qvel (default float32, as D4RL's files). */
  infosDtype?: 'float32' | 'float64';
  /** Extra metadata entries (added to the standard ones). */
  metadata?: Record<string, MetadataValue>;
}

export interface CollectStats {
  rows: number;
  /** Episodes with at least one row written (the last one may be cut by the budget). */
  episodes: number;
  completeEpisodes: number;
  /** Mean undiscounted return of the complete episodes (NaN if none). */
  meanReturn: number;
  /** Episodes that ended by termination. */
  terminatedEpisodes: number;
  /** Whether the last episode was cut by the budget. */
  lastEpisodeCut: boolean;
  wallSeconds: number;
  stepsPerSecond: number;
  observationSize: number;
  actionSize: number;
  qposSize: number;
  qvelSize: number;
}

export interface CollectResult extends CollectStats {
  path: string;
  policy: string;
  metadata: Record<string, MetadataValue>;
}

/** Throws UsageError for an unusable setting (the CLI's checks). */
export function checkCollectOptions(o: CollectRunOptions): void {
  let entry;
  try {
    entry = getEnvEntry(o.env);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (!entry.task) throw new UsageError(`--env ${o.env} cannot be simulated (known for score normalisation only); collect simulates ${SIMULATED_HINT}`);
  checkIntFlag(o.steps, '--steps', 1);
  const noise = o.actionNoise ?? 0;
  if (typeof noise !== 'number' || !Number.isFinite(noise) || noise < 0) throw new UsageError(`--action-noise must be a number >= 0, got ${String(noise)}`);
  const eps = o.epsilon ?? 0;
  if (typeof eps !== 'number' || !(eps >= 0 && eps <= 1)) throw new UsageError(`--epsilon must be a probability in [0, 1], got ${String(eps)}`);
  try {
    assertSeed(o.seed ?? 0, '--seed');
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (o.workers !== undefined) checkIntFlag(o.workers, '--workers', 1);
  if (o.batchSize !== undefined) {
    checkIntFlag(o.batchSize, '--batch-size', 1);
    if (o.batchSize > MAX_ENV_BATCH_SIZE) {
      throw new UsageError(`--batch-size ${o.batchSize} is more than the limit of ${MAX_ENV_BATCH_SIZE} environments per worker (one worker's MuJoCo heap holds about 150; use more workers instead)`);
    }
  }
  if (o.chunkSize !== undefined) checkIntFlag(o.chunkSize, 'chunk size', 1);
  if (o.maxEpisodeSteps !== undefined) {
    checkIntFlag(o.maxEpisodeSteps, '--max-episode-steps', 1);
    if (o.maxEpisodeSteps > MAX_EPISODE_STEPS) {
      throw new UsageError(`--max-episode-steps ${o.maxEpisodeSteps} is more than the limit of ${MAX_EPISODE_STEPS} steps (each env slot buffers a whole episode)`);
    }
  }
}
