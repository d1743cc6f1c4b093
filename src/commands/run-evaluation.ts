/**
 * Run one evaluation for a CLI command through the `evaluate` API: progress on stderr, Ctrl-C /
 * SIGTERM stop the workers and return the partial document, a failed run returns its partial
 * document with the error. Shared by `ofql-eval baseline` and `ofql-eval regress` (the default
 * `run` command in src/cli.ts).
 */
import { abortOnSignals } from '../cli-errors.js';
import { type EvaluateOptions, EvaluationError, evaluate } from '../../eval/evaluate.js';
import { type ProgressMode, createProgressReporter } from '../../eval/progress.js';
import type { EvalResultDocument } from '../../eval/result.js';
import { capWorkers } from '../limits.js';

export interface CliEvaluation {
  doc: EvalResultDocument;
  /** The run failed (policy error, worker crashed twice): the message; else null. */
  failed: string | null;
  /** The signal that stopped the run, if any (doc.interrupted is then true). */
  signal: NodeJS.Signals | null;
}

export type CliEvaluateOptions = Omit<EvaluateOptions, 'signal' | 'onProgress' | 'progressIntervalMs' | 'onRetry'> & {
  progress?: ProgressMode;
  /** Prefix of the messages on stderr, e.g. 'ofql-eval regress'. */
  name?: string;
  /** What the stderr line on the first SIGINT / SIGTERM says is happening; default 'stopping the workers'. */
  stopMessage?: string;
};

export async function runEvaluationForCli(options: CliEvaluateOptions): Promise<CliEvaluation> {
  const { progress = 'auto', name = 'ofql-eval', stopMessage = 'stopping the workers', ...evalOptions } = options;
  const controller = new AbortController();
  const reporter = createProgressReporter(progress);
  // More threads than cores only share them (each with its own MuJoCo heap): cap, and say so.
  if (evalOptions.workers !== undefined && !evalOptions.pool) {
    evalOptions.workers = capWorkers(evalOptions.workers, '--workers', (m) => reporter.log(`${name}: ${m}`));
  }
  const stop = abortOnSignals(controller, (sig) => reporter.log(`\n${name}: ${sig} received: ${stopMessage} (again to quit at once)`));
  let doc: EvalResultDocument;
  let failed: string | null = null;
  try {
    doc = await evaluate({
      ...evalOptions,
      signal: controller.signal,
      onProgress: (p) => reporter.update(p),
      progressIntervalMs: 250,
      onRetry: (envId, r) =>
        reporter.log(`${name}: a worker crashed on ${envId} episodes ${r.episodes.join(', ')} (${r.error}); retrying them once on a fresh worker`),
    });
  } catch (err) {
    if (err instanceof EvaluationError) {
      doc = err.result;
      failed = err.message;
    } else {
      reporter.stop();
      throw err;
    }
  } finally {
    stop.dispose();
  }
  reporter.stop();
  return { doc, failed, signal: stop.received() };
}
