/**
 * Periodic evaluation (`evalEvery`): the checkpoint just written is evaluated by the harness
 * (`evaluate` from eval/) with the OFQL checkpoint policy (src/policy/ofql-checkpoint.ts) in worker
 * threads, while training continues (one evaluation in flight at a time; `evalInBackground: false`
 * waits for each). One line per evaluation goes to eval.jsonl. Also the `ofql-eval` command that
 * evaluates a run's checkpoint the same way.
 */
import { performance } from 'node:perf_hooks';
import type { Summary } from '../../eval/result.js';
import type { OfqlConfig } from '../ofql/index.js';
import { BEST_OF_N_DEFAULT, DQL_DEFAULT_CANDIDATES } from '../ofql/sampler-spec.js';
import type { PolicyRef } from '../policy/types.js';
import { TrainError } from './errors.js';
import type { JsonlWriter } from './jsonl.js';
import type { Say, TrainOptions } from './options.js';

export interface EvalLine {
  step: number;
  envId: string;
  episodes: number;
  normalizedMean: number | null;
  normalizedStd: number | null;
  normalizedCi95: [number, number] | null;
  normalizedCi95HalfWidth: number | null;
  returnMean: number | null;
  returnStd: number | null;
  lengthMean: number | null;
  terminatedEpisodes: number | null;
  d4rlComparable: boolean;
  evalSeed: number;
  evalSeconds: number;
  wallTime: number;
  ckpt: string;
  error?: string;
  time: string;
}

export type EvalSampler = NonNullable<TrainOptions['evalSampler']>;

/** The summary fields an eval.jsonl line copies (null when the evaluation gave none). */
const SUMMARY_FIELDS = ['normalizedMean', 'normalizedStd', 'normalizedCi95', 'normalizedCi95HalfWidth', 'returnMean', 'returnStd', 'lengthMean', 'terminatedEpisodes'] as const;
type SummaryFields = Pick<EvalLine, (typeof SUMMARY_FIELDS)[number]>;
const summaryFields = (s: Summary | null): SummaryFields => Object.fromEntries(SUMMARY_FIELDS.map((k) => [k, s ? s[k] : null])) as unknown as SummaryFields;

/** Episodes per batch of one evaluation worker. */
const EVAL_BATCH_SIZE = 8;
/** The `command` recorded in the evaluations' result documents. */
const EVAL_COMMAND = ['ofql-eval', 'train', '(periodic evaluation)'];

/** The evaluations' action rule: DQL's by default, one-step in BC runs (no critic to rank actions with). */
export function evalSamplerOf(given: EvalSampler | undefined, config: OfqlConfig): EvalSampler {
  const sampler = given ?? (config.trainCritic ? 'dql' : 'one-step');
  if (!config.trainCritic && sampler !== 'one-step') {
    throw new TrainError({
      code: 'config',
      field: '--eval-sampler',
      detail: `--eval-sampler ${sampler} ranks actions with the critic, which behaviour cloning (--bc-only) does not train; use one-step`,
    });
  }
  return sampler;
}

/**
 * The OFQL checkpoint policy the harness's workers run; its options travel in the policy reference.
 * The backend is the one `ofql-eval --ckpt <run>@N --sampler <s>` uses by default (the ONNX actor
 * for one-step), so a training-time evaluation and that command give the same episodes: actions
 * that differ in the sixth decimal between backends can tip a walker over (docs/results.md).
 */
export async function evalPolicyOf(sampler: EvalSampler, config: OfqlConfig): Promise<PolicyRef> {
  const { ofqlPolicyRef } = await import('../policy/ofql-cli.js');
  const { defaultOfqlBackend } = await import('../policy/ofql-checkpoint.js');
  const n = sampler === 'dql' || sampler === 'best-of-n' ? config.evalCandidates : undefined;
  return ofqlPolicyRef({ sampler, backend: defaultOfqlBackend(sampler), ...(n === undefined ? {} : { n }) });
}

export interface PeriodicEvaluationOptions {
  envId: string;
  episodes: number;
  seed: number;
  workers: number;
  maxEpisodeSteps?: number;
  /** false: `start` waits for the evaluation. */
  inBackground: boolean;
  policy: PolicyRef;
  /** The run's wall time, recorded in each line. */
  wallTime: () => number;
  /** eval.jsonl. */
  file: JsonlWriter;
  say: Say;
  /** After each line. */
  onLine: () => void;
  /** Keeps a checkpoint from pruning while it is evaluated (src/train/checkpoints.ts). */
  checkpoints: { pin(dir: string): void; unpin(dir: string): void };
}

/** Evaluations of the run's checkpoints, one at a time. */
export class PeriodicEvaluation {
  /** eval.jsonl's lines of this session. */
  readonly lines: EvalLine[] = [];
  private pending: Promise<void> | null = null;
  private readonly controller = new AbortController();

  constructor(private readonly o: PeriodicEvaluationOptions) {}

  /** Evaluate checkpoint `dir` of step `step`, after the previous evaluation has finished. */
  async start(step: number, dir: string): Promise<void> {
    if (this.pending) {
      this.o.say(`ofql-eval train: step ${step}: waiting for the previous evaluation to finish`);
      await this.pending;
    }
    this.o.checkpoints.pin(dir);
    const p = this.run(step, dir).finally(() => {
      this.o.checkpoints.unpin(dir);
      if (this.pending === p) this.pending = null;
    });
    this.pending = p;
    if (!this.o.inBackground) await p;
  }

  /** Drop the running evaluation (its checkpoint stays; evaluate it later with 'ofql-eval --ckpt'). */
  abort(): void {
    this.controller.abort();
  }

  /** Wait for the running evaluation (a stopped run does not say so). */
  async finish(interrupted: boolean): Promise<void> {
    if (!this.pending) return;
    if (!interrupted) this.o.say('ofql-eval train: waiting for the last evaluation to finish');
    await this.pending;
  }

  /** Abort the running evaluation, if any, and wait until it has ended. */
  async drop(): Promise<void> {
    if (!this.pending) return;
    this.abort();
    await this.pending.catch(() => undefined);
  }

  private async run(step: number, dir: string): Promise<void> {
    const line = await this.evaluate(step, dir);
    if (line === null) return;
    this.o.file.append(line as unknown as Record<string, unknown>);
    this.lines.push(line);
    this.o.onLine();
  }

  /** The eval.jsonl line of one evaluation (with `error` if it failed); null if it was interrupted. */
  private async evaluate(step: number, dir: string): Promise<EvalLine | null> {
    const { evaluate } = await import('../../eval/evaluate.js');
    const { envId, episodes, seed, say } = this.o;
    const t0 = performance.now();
    const base = { step, envId, episodes, evalSeed: seed, wallTime: this.o.wallTime(), ckpt: dir };
    const seconds = () => (performance.now() - t0) / 1000;
    try {
      const doc = await evaluate({
        env: envId,
        policy: this.o.policy,
        ckpt: dir,
        episodes,
        seed,
        workers: this.o.workers,
        batchSize: Math.min(EVAL_BATCH_SIZE, episodes),
        maxEpisodeSteps: this.o.maxEpisodeSteps,
        signal: this.controller.signal,
        command: EVAL_COMMAND,
      });
      if (doc.interrupted) {
        say(`ofql-eval train: evaluation of step ${step} interrupted (not logged)`);
        return null;
      }
      const s = doc.results[0]!.summary;
      const line: EvalLine = { ...base, ...summaryFields(s), d4rlComparable: doc.settings.d4rlComparable, evalSeconds: seconds(), time: new Date().toISOString() };
      const ci = s?.normalizedCi95HalfWidth;
      say(
        `ofql-eval train: eval @ step ${step}: normalised ${s ? s.normalizedMean.toFixed(1) : '?'}` +
          `${ci != null ? ` ± ${ci.toFixed(1)} (95% CI)` : ''}, return ${s ? s.returnMean.toFixed(1) : '?'} over ${episodes} episodes (${line.evalSeconds.toFixed(0)} s)`,
      );
      return line;
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      const line: EvalLine = { ...base, ...summaryFields(null), d4rlComparable: false, evalSeconds: seconds(), error: msg, time: new Date().toISOString() };
      say(`ofql-eval train: warning: evaluation of step ${step} failed: ${msg}`);
      return line;
    }
  }
}

/**
 * The `ofql-eval` command line that evaluates the newest checkpoint of the run `out` with the
 * sampler the periodic evaluations use (`sampler`, `candidates` = config.evalCandidates).
 */
export function evaluateCommandFor(out: string, envId: string, sampler: string, candidates: number): string {
  const args = ['ofql-eval', '--ckpt', out, '--env', envId];
  if (sampler !== 'one-step') {
    args.push('--sampler', sampler);
    const n = sampler === 'dql' ? DQL_DEFAULT_CANDIDATES : sampler === 'best-of-n' ? BEST_OF_N_DEFAULT : undefined;
    if (n !== undefined && n !== candidates) args.push('--sampler-n', String(candidates));
  }
  return args.map(shellWord).join(' ');
}

/** `word` as one POSIX shell word (quoted only when it has to be). */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
