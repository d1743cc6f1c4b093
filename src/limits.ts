/**
 * Bounds on inputs that would otherwise crash or exhaust the machine (docs/robustness.md). Each
 * limit is refused (or, for the worker count, capped) before any work starts, with a message that
 * names the flag and the limit.
 */
import { availableParallelism, totalmem } from 'node:os';
import { OptionError } from './option-error.js';

/**
 * Episodes per environment. Every episode's outcome is kept in memory and in the result JSON;
 * 1e9 exhausted the heap (a native V8 crash, exit 133). 100000 episodes of 1000 steps is already
 * 1e8 env steps, days of work.
 */
export const MAX_EPISODES = 100_000;

/**
 * Environment slots per worker (--batch-size of run / baseline / regress / collect). One worker's
 * MuJoCo WebAssembly heap holds about 150 locomotion environments (measured: hopper and ant fail
 * to allocate at 160 / 200, work at 128); past it MuJoCo reports only "Could not allocate memory".
 */
export const MAX_ENV_BATCH_SIZE = 128;

/**
 * train --batch-size. The wasm backend aborts once a step's tensors pass its 4 GB address space;
 * 65536 rows of a locomotion MLP stay far below that. (The dataset size is the other bound.)
 */
export const MAX_TRAIN_BATCH_SIZE = 65_536;

/** JS heap of one worker thread (resourceLimits.maxOldGenerationSizeMb), see workerHeapLimitMb. */
export const MIN_WORKER_HEAP_MB = 512;
export const MAX_WORKER_HEAP_MB = 4096;

/**
 * The JS heap limit per worker thread: half the machine's memory shared by `workers`, within
 * [MIN_WORKER_HEAP_MB, MAX_WORKER_HEAP_MB]. A plug-in that leaks then fails its chunk with
 * ERR_WORKER_OUT_OF_MEMORY instead of swapping the machine to a halt. (MuJoCo and TF.js wasm
 * memory is outside this heap and bounded by WebAssembly itself.)
 */
export function workerHeapLimitMb(workers: number, totalBytes: number = totalmem()): number {
  const share = Math.floor(totalBytes / 2 ** 20 / 2 / Math.max(1, workers));
  return Math.max(MIN_WORKER_HEAP_MB, Math.min(MAX_WORKER_HEAP_MB, share));
}

/**
 * Worker threads actually started for `requested`: at most the available cores (more threads than
 * cores only share them, each holding its own MuJoCo heap). Says so through `warn` when it caps.
 */
export function capWorkers(requested: number, flag: string, warn: (message: string) => void, cores: number = availableParallelism()): number {
  if (!(requested > cores)) return requested; // (NaN passes through to the caller's own check)
  warn(`warning: ${flag} ${requested} is more than the ${cores} available core(s); using ${cores} worker thread(s)`);
  return cores;
}

/** OptionError `<flag> <value> is more than the limit of <max> <unit>` with the reason, when value > max. */
export function checkAtMost(value: number, max: number, flag: string, unit: string, why: string): void {
  if (value > max) throw new OptionError(`${flag} ${value} is more than the limit of ${max} ${unit} (${why})`);
}

/**
 * Largest |normalised score| the gate accepts. D4RL-normalised locomotion scores lie within a few
 * hundred points; +-1e308 overflowed the Welch test's variance and read "degrees of freedom must be
 * positive, got NaN". 1e9 keeps every square and sum far inside float64.
 */
export const MAX_ABS_SCORE = 1e9;

/**
 * --max-episode-steps. collect buffers a whole episode per env slot (11e9 floats for 1e9 steps:
 * "Invalid typed array length"); 1e6 steps is 1000 D4RL episodes long.
 */
export const MAX_EPISODE_STEPS = 1_000_000;

/**
 * --policy-timeout / --policy-load-timeout (ms). Node's timers hold 2^31 - 1 ms; a larger value
 * became a 1 ms timeout (TimeoutOverflowWarning), failing every asynchronous act() at once.
 */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;
