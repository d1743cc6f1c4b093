/**
 * `evaluate(options)`: run N episodes per environment of one policy over a worker pool and
 * return the result document (eval/RESULT_FORMAT.md).
 *
 * Work is cut into chunks of episodes (eval/schedule.ts) that are handed out dynamically: the
 * main thread keeps exactly one chunk in flight per worker and gives the next chunk to the
 * first worker that finishes. Episode i of a run seeded s is reset with deriveSeed(s, i) and its
 * result stored under i, so neither the number of workers nor the order of completion matters.
 *
 * A run reads top to bottom: eval/eval-plan.ts checks the options and cuts the work,
 * eval/dispatch.ts runs it over the pool, eval/tally.ts collects the answers in episode order,
 * eval/run-document.ts makes the document.
 *
 * Failure handling:
 * - a policy error (throws, NaN, wrong length, --policy-timeout) fails the run, naming the
 *   policy and the episode(s);
 * - a policy stuck in a synchronous loop cannot answer its own timer: the main thread watches a
 *   shared "act started at" record per worker and terminates the worker (eval/watchdog.ts);
 * - a crashed worker (process.exit, WASM abort, ...) -> its chunk is retried once on a fresh
 *   worker and recorded in `retries`; a second crash of that chunk fails the run;
 * - an aborted `signal` (Ctrl-C) stops the run: workers are terminated and the partial result
 *   (complete: false, interrupted: true) is returned.
 * A failed run throws `EvaluationError`, whose `.result` is the partial document.
 */
import { performance } from 'node:perf_hooks';
import { deriveSeed } from '../src/rng.js';
import { ChunkDispatcher } from './dispatch.js';
import type { EvaluateOptions } from './options.js';
import { planEvaluation } from './eval-plan.js';
import type { EvalResultDocument } from './result.js';
import { runDocument } from './run-document.js';
import { RunTally } from './tally.js';

export * from './options.js';
export { packageVersion } from '../src/package-version.js';

/** The run failed; `result` is the partial document (complete: false, error set). */
export class EvaluationError extends Error {
  readonly result: EvalResultDocument;
  constructor(message: string, result: EvalResultDocument) {
    super(message);
    this.name = 'EvaluationError';
    this.result = result;
  }
}

export async function evaluate(options: EvaluateOptions): Promise<EvalResultDocument> {
  const startedAt = new Date();
  const t0 = performance.now();
  const plan = await planEvaluation(options);
  const tally = new RunTally(plan.envIds, plan.scope);
  const outcome = await new ChunkDispatcher(plan, tally, options, t0).run();
  const wallSeconds = (performance.now() - t0) / 1000;
  const doc = runDocument({ plan, tally, outcome, startedAt, wallSeconds, command: options.command });
  if (outcome.failure !== null) throw new EvaluationError(outcome.failure, doc);
  return doc;
}

/** Seeds of episodes `indices` of a run seeded `seed` (what `seeds` in a result holds). */
export function episodeSeeds(seed: number, indices: readonly number[]): number[] {
  return indices.map((i) => deriveSeed(seed, i));
}
