/**
 * What `evaluate` (eval/evaluate.ts) is asked to do, its defaults, and the progress it reports.
 */
import type { PolicyRef } from '../src/policy/types.js';
import type { EvalPool } from './pool.js';
import type { RetryRecord } from './result.js';
import type { Shard } from './schedule.js';

export const DEFAULT_EPISODES = 150;
export const DEFAULT_BATCH_SIZE = 8;
export const DEFAULT_POLICY_TIMEOUT_MS = 60_000;
/** Default limit on a policy factory: generous, since OFQL / TF.js setup takes seconds on a loaded machine. */
export const DEFAULT_POLICY_LOAD_TIMEOUT_MS = 120_000;
export const DEFAULT_PROGRESS_INTERVAL_MS = 500;

export interface EvaluateOptions {
  /** Env ids and/or suite names (`d4rl-locomotion`), or one comma-separated string. */
  env: string | readonly string[];
  /** Built-in name (`random`, `zero`) or a path to an ES module. */
  policy: string | PolicyRef;
  /**
   * Checkpoint for the policy (passed as `spec.ckpt`). For a policy whose kind reads training
   * runs (PolicyRef `ckptRunDir`, e.g. OFQL checkpoints) a training run directory (`<run>`,
   * `<run>@N`, `<run>/latest`) is resolved to the step-N/ directory it names
   * (src/checkpoint/run-dir.ts) and the workers load exactly that one.
   */
  ckpt?: string;
  /** `--ckpt` as the user typed it when `ckpt` is what it was already resolved to (recorded as policy.ckptGiven). */
  ckptGiven?: string;
  /** Episodes per env in the whole run (default 150). */
  episodes?: number;
  /** Run seed (default 0). */
  seed?: number;
  /** Worker threads (default: available cores), capped by the number of chunks. */
  workers?: number;
  /** Env slots per worker = rows per policy call (default 8). */
  batchSize?: number;
  /** Max episodes per chunk (default = batchSize). */
  chunkSize?: number;
  /** Episode horizon (default 1000 = D4RL); other values are flagged not D4RL-comparable. */
  maxEpisodeSteps?: number;
  /** Limit per act() call in ms (default 60000); 0 disables. */
  policyTimeoutMs?: number;
  /** Limit on the policy factory (per worker and env) in ms (default 120000); 0 disables. */
  policyLoadTimeoutMs?: number;
  /** Run only this share (`{index, count}` or 'i/n'). */
  shard?: Shard | string | null;
  /** Abort to stop early (Ctrl-C): the partial result is returned, `complete: false`. */
  signal?: AbortSignal;
  /** Called every `progressIntervalMs` (default DEFAULT_PROGRESS_INTERVAL_MS) and once at the end. */
  onProgress?: (p: Progress) => void;
  progressIntervalMs?: number;
  /** Called when a chunk is retried after a worker crash. */
  onRetry?: (envId: string, retry: RetryRecord) => void;
  /** Keep the qpos trajectory and rewards of the episodes with index < record (per env; default 0). */
  record?: number;
  /** Base for relative policy / ckpt paths (default process.cwd()). */
  cwd?: string;
  /** Recorded as `command` in the result. */
  command?: string[];
  /** A pool to use (kept alive afterwards); by default one is created and destroyed. */
  pool?: EvalPool;
  /** JS heap limit of each worker thread of an own pool, MB (default workerHeapLimitMb(workers), src/limits.ts). */
  workerHeapLimitMb?: number;
}

export interface Progress {
  /** Episodes finished (all envs) / to run. */
  done: number;
  total: number;
  envSteps: number;
  elapsedSeconds: number;
  perEnv: { envId: string; done: number; total: number }[];
  retries: number;
}
