/**
 * The OFQL training loop behind `ofql-eval train`: D4RL data -> uniform minibatches -> agent.trainStep,
 * with JSONL metrics, atomic resumable checkpoints, periodic evaluation through the harness,
 * exact resume and a clean stop on request (Ctrl-C).
 *
 * Output directory `<out>/`:
 *
 *   train-config.json   the effective hyper-parameters and run settings (rewritten at every start)
 *   metrics.jsonl       one line per --log-every steps: means over those steps (see MetricsLine)
 *   eval.jsonl          one line per evaluation (see EvalLine)
 *   step-00020000/      a complete, resumable OFQL checkpoint after 20000 steps (src/ofql/checkpoint.ts),
 *                       written atomically (writeCheckpointDir: temp dir + rename)
 *   latest -> step-00020000   symlink to the newest checkpoint
 *
 * `--ckpt <out>` evaluates the checkpoint `latest` names, `--ckpt <out>@N` step N
 * (src/checkpoint/run-dir.ts); `train` ends by printing that command (TrainResult.evaluateCommand).
 *
 * Periodic evaluation (`evalEvery`) writes a checkpoint, then runs the harness (`evaluate` from
 * eval/) on it with the OFQL checkpoint policy (src/policy/ofql-checkpoint.ts) in worker threads,
 * while training continues (one evaluation in flight at a time).
 *
 * Resume (`resume: true`) continues from the highest-numbered complete `step-N/`: weights of all
 * four networks, both Adam states, the agent's step and RNG, the minibatch sampler's RNG, and the
 * partially filled metrics window all come from the checkpoint, so a run of 2N steps and a run of
 * N steps resumed to 2N write identical metrics (timings aside). Lines of metrics.jsonl /
 * eval.jsonl beyond the resumed step are removed first.
 */
import { sha256File } from '../hash.js';
import { d4rlContentSha256 } from '../data/digest.js';
import { MAX_TRAIN_BATCH_SIZE } from '../limits.js';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import {
  RUN_DIR_FILES,
  emptyRunDetail,
  isRunDir,
  listRunCheckpoints,
  recoverCheckpointDir,
  resolveCheckpointDir,
  rngStateFromJson,
  rngStateToJson,
  stepDirName,
  type JsonValue,
} from '../checkpoint/index.js';
import { envDims, qlearningDataset, readD4rlFile } from '../data/index.js';
import { getEnvEntry } from '../registry.js';
import { assertSeed, deriveSeed } from '../rng.js';
import {
  DQL_TASK_HYPERPARAMETERS,
  DQL_PRESET,
  OfqlConfigError,
  makeOfqlConfig,
  ofqlConfigForTask,
  presetValues,
  type HyperParamPreset,
  type OfqlAgent,
  type OfqlConfig,
  type OfqlMetrics,
} from '../ofql/index.js';
import { loadOfqlCheckpoint, readOfqlCheckpointConfig, saveOfqlCheckpoint } from '../ofql/checkpoint.js';
import { BEST_OF_N_DEFAULT, DQL_DEFAULT_CANDIDATES } from '../ofql/sampler-spec.js';
import type { PolicyRef } from '../policy/types.js';
import { TrainError } from './errors.js';
import { summariseDiscountedReturn, type DiscountedReturnSummary } from '../data/mc-return.js';
import { agentFactory, type TrainBackend } from '../engine/index.js';
import { trainingPlotter } from '../report/training-page.js';
import { FLAG_OF_FIELD, type HyperParamField } from './hyper-params.js';

export { FLAG_OF_FIELD };
import { JsonlWriter, truncateJsonlAfterStep } from './jsonl.js';
import { createTrainProgress, type TrainProgressMode, type TrainProgressReporter } from './progress.js';
import { REWARD_TUNES, UniformSampler, tuneRewards, type RewardTune } from './sampler.js';

export const TRAIN_DEFAULTS = Object.freeze({
  /** OFQL paper: 1M gradient steps. */
  steps: 1_000_000,
  seed: 0,
  preset: 'ofql' as HyperParamPreset,
  /** The ONNX engine (src/engine); wasm / cpu / tensorflow = the TF.js agent on that backend. */
  backend: 'onnx' as TrainBackend,
  /** The ONNX engine's intra-op threads (docs/benchmarks.md: a second thread did not pay on 2 cores). */
  threads: 1,
  logEvery: 1000,
  saveEvery: 10_000,
  keep: 5,
  /** 0 = no periodic evaluation. DQL evaluates every 50 epochs = 50k steps. */
  evalEvery: 0,
  /** DQL: 10 evaluation episodes. */
  evalEpisodes: 10,
  evalWorkers: 1,
});

/** The trainer's own streams (the agent uses deriveSeed(seed, 0..2)). */
const STREAM = { sampler: 3 } as const;
const TRAINER_STATE_KIND = 'ofql-eval/train';
const TRAINER_STATE_VERSION = 1;

/** The run directory's own files (defined next to the run-directory resolver, src/checkpoint/run-dir.ts). */
export const FILES = RUN_DIR_FILES;

/** Hyper-parameters a user may override (flags: src/train/hyper-params.ts), and trainCritic (--bc-only). */
export type TrainOverrides = Partial<Pick<OfqlConfig, HyperParamField | 'trainCritic'>>;

export interface TrainOptions {
  /** D4RL-layout HDF5 file. */
  dataset: string;
  /** Env / D4RL id (`hopper-medium-v2`): dims are checked against it, the per-task DQL row is taken from it, evaluation runs it. */
  envId: string;
  /** Output directory. */
  out: string;
  /** Total gradient steps (a resumed run continues up to this number). Default 1M. */
  steps?: number;
  /** Run seed (initial weights, training noise, minibatches). Default 0. */
  seed?: number;
  /** Whose defaults where the OFQL paper and DQL differ (time embedding, eta): 'ofql' (default) or 'dql'. */
  preset?: HyperParamPreset;
  /** Explicit hyper-parameters (beat the per-task row; on resume they must equal the checkpoint's). */
  overrides?: TrainOverrides;
  /** DQL reward preprocessing; default from the per-task row ('no' for locomotion). */
  rewardTune?: RewardTune;
  /** Training engine: 'onnx' (default) or a TF.js backend. */
  backend?: TrainBackend;
  /** Intra-op threads of the ONNX engine (default 1). */
  threads?: number;
  /** Continue from the newest checkpoint in `out`. */
  resume?: boolean;
  /** Steps per metrics line (default 1000). */
  logEvery?: number;
  /** Steps between checkpoints (default 10000; 0 = only at the end / stop). */
  saveEvery?: number;
  /** Checkpoint directories to keep (newest first; 0 = all). Default 5. */
  keep?: number;
  /** Steps between evaluations (0 = none, default). Each evaluation writes a checkpoint first. */
  evalEvery?: number;
  evalEpisodes?: number;
  /** Run seed of the evaluations (same for every evaluation). Default seed + 100 (as DQL). */
  evalSeed?: number;
  evalWorkers?: number;
  /** Episode horizon for evaluation (default 1000 = D4RL; less only for tests). */
  evalMaxEpisodeSteps?: number;
  /** Evaluate without pausing training (default true); false waits for each evaluation. */
  evalInBackground?: boolean;
  /**
   * How the evaluated policy draws actions (src/ofql/samplers.ts): default 'dql' with
   * config.evalCandidates candidates (DQL's evaluation rule, = agent.act); 'one-step' is OFQL's plain
   * one-network-call action.
   */
  evalSampler?: 'one-step' | 'dql' | 'best-of-n' | 'qgbs';
  progress?: TrainProgressMode;
  /** Abort to stop: the current step finishes, a checkpoint is written, the result says interrupted. */
  signal?: AbortSignal;
  /** Messages (default: stderr). */
  log?: (message: string) => void;
  /** The effective configuration at start (default: stdout). */
  print?: (text: string) => void;
  /** fsync checkpoints (default true; tests turn it off). */
  fsync?: boolean;
  /** Keep this HTML file up to date with the run's learning curves and metrics (src/report/training-page.ts). */
  plot?: string;
  /** Called after every gradient step with its metrics (`metrics.step` is 0-based: the step just taken). */
  onStep?: (metrics: OfqlMetrics) => void;
}

export interface MetricsLine {
  /** Gradient steps done (this line covers steps step-count+1 .. step). */
  step: number;
  /** Steps averaged in this line. */
  count: number;
  bcLoss: number;
  qLoss: number;
  actorLoss: number;
  criticLoss: number;
  actorGradNorm: number;
  criticGradNorm: number;
  targetQMean: number;
  /** Share of one-step action entries at the action bound (OfqlMetrics.actionAtBound); null in BC runs. */
  actionAtBound: number | null;
  /** Training throughput over this line's steps (this session; excludes nothing). */
  stepsPerSec: number;
  /** Seconds of training wall time since the run's first start (summed over resumed sessions). */
  wallTime: number;
  /** ISO timestamp. */
  time: string;
}

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

export interface TrainResult {
  out: string;
  /** Steps done when the run ended. */
  step: number;
  /** Step the session started from (0 for a fresh run). */
  startStep: number;
  interrupted: boolean;
  /** Newest checkpoint written (or resumed from). */
  checkpoint: string | null;
  config: OfqlConfig;
  /** Mean training steps/s of this session (training steps only, no checkpoint / eval time). */
  stepsPerSecond: number;
  evals: EvalLine[];
  /**
   * The `ofql-eval` command line that evaluates this run's newest checkpoint the way the periodic
   * evaluations do (`--ckpt <out>`, as given); null without a checkpoint or a simulator for the env.
   */
  evaluateCommand: string | null;
  /** The same for exactly the checkpoint this session ended with (`--ckpt <out>@<step>`), which a later --resume does not move. */
  evaluateStepCommand: string | null;
}

/** Means accumulated over the current metrics window (restored on resume). */
const WINDOW_KEYS = ['bcLoss', 'qLoss', 'actorLoss', 'criticLoss', 'actorGradNorm', 'criticGradNorm', 'targetQMean', 'actionAtBound'] as const;
/** Window keys a checkpoint may lack (added later); a resumed window starts them at 0. */
const WINDOW_KEYS_ADDED = new Set<string>(['actionAtBound']);
type WindowKey = (typeof WINDOW_KEYS)[number];
interface WindowState {
  count: number;
  sums: Record<WindowKey, number>;
}
const emptyWindow = (): WindowState => ({ count: 0, sums: Object.fromEntries(WINDOW_KEYS.map((k) => [k, 0])) as Record<WindowKey, number> });

/** What the checkpoint's config.json `dataset` holds. */
export interface DatasetInfo {
  path: string;
  /** sha256 of the file's bytes. */
  sha256: string;
  /** sha256 of its content (src/data/digest.ts): equal for files regenerated from the same rollouts. */
  contentSha256: string;
  bytes: number;
  /** Rows in the file. */
  rows: number;
  /** Transitions after qlearning_dataset. */
  transitions: number;
  observationSize: number;
  actionSize: number;
  rewardTune: RewardTune;
  /** The data's discounted Monte-Carlo return (src/data/mc-return.ts) at the run's discount, the yardstick of the critic's mean Q; null with a reward tune. */
  discountedReturn: DiscountedReturnSummary | null;
}

export { stepDirName };

/** Complete checkpoint directories in `out`, by step ascending (src/checkpoint/run-dir.ts). */
export const listCheckpoints = listRunCheckpoints;


/**
 * A minibatch is drawn from the dataset's transitions: one larger than the dataset is a mistake
 * (usually a tiny test file), and used to abort the wasm backend after 4 GB instead of saying so.
 */
function checkBatchFitsDataset(batchSize: number, transitions: number, datasetPath: string): void {
  if (batchSize > transitions) {
    throw new TrainError({
      code: 'config',
      file: datasetPath,
      detail: `--batch-size ${batchSize} is larger than the dataset's ${transitions} transitions; use --batch-size ${transitions} or less`,
    });
  }
}

function checkInt(v: unknown, flag: string, min: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
    throw new TrainError({ code: 'config', detail: `${flag} must be an integer >= ${min}, got ${String(v)}` });
  }
  return v;
}


/** Per-task DQL row key for an env id, if the table has one. */
function tableKey(envId: string): string | undefined {
  const k = envId.trim().toLowerCase();
  return DQL_TASK_HYPERPARAMETERS[k] ? k : undefined;
}

/** Effective OfqlConfig for a fresh run, with where each non-default value came from. */
export function effectiveConfig(
  envId: string,
  dims: { obsDim: number; actDim: number },
  overrides: TrainOverrides = {},
  preset: HyperParamPreset = 'ofql',
): { config: OfqlConfig; sources: Record<string, string>; row: string | undefined } {
  const row = tableKey(envId);
  const clean = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) as TrainOverrides;
  let config: OfqlConfig;
  try {
    config = row ? ofqlConfigForTask(row, dims, clean, preset) : makeOfqlConfig(dims, { ...presetValues(preset), ...clean });
  } catch (e) {
    if (e instanceof OfqlConfigError) {
      const flag = FLAG_OF_FIELD[e.field];
      throw new TrainError({ code: 'config', field: flag ?? e.field, detail: `${flag ? `${flag}: ` : ''}${e.message}` }, { cause: e });
    }
    throw e;
  }
  const sources: Record<string, string> = {};
  if (row) for (const k of ['actorLr', 'gradNorm', 'maxQBackup']) sources[k] = `DQL table '${row}'`;
  if (preset === 'dql') for (const k of Object.keys(DQL_PRESET)) sources[k] = row && k === 'eta' ? `DQL table '${row}' (--preset dql)` : '--preset dql';
  else for (const k of Object.keys(DQL_PRESET)) sources[k] = 'OFQL paper (docs/hyper-parameters.md)';
  sources.obsDim = sources.actDim = 'dataset / env';
  for (const k of Object.keys(clean)) sources[k] = FLAG_OF_FIELD[k] ?? 'override';
  return { config, sources, row };
}

function describeConfig(config: OfqlConfig, sources: Record<string, string>): string {
  const keys = Object.keys(config) as Array<keyof OfqlConfig>;
  const width = Math.max(...keys.map((k) => k.length));
  return keys
    .map((k) => {
      const v = config[k];
      return `  ${k.padEnd(width)}  ${v === undefined ? '(none)' : String(v)}${sources[k] ? `   [${sources[k]}]` : ''}`;
    })
    .join('\n');
}

/** Atomically point `<out>/latest` at `name` (a relative symlink). Best effort: returns false if the OS refuses. */
function updateLatest(out: string, name: string): boolean {
  const link = join(out, FILES.latest);
  const tmp = join(out, `.latest-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    symlinkSync(name, tmp, 'dir');
    renameSync(tmp, link);
    return true;
  } catch {
    rmSync(tmp, { force: true });
    return false;
  }
}

/**
 * The run directory `--out` names. A checkpoint of a run (`<run>/latest`, `<run>/step-N`,
 * `<run>@N`) given where the run is meant: with --resume, the run's newest checkpoint is where it
 * continues anyway, so it names the run; any other checkpoint is refused, since training into a
 * checkpoint directory would write a second run inside it.
 */
function runDirOfOut(given: string, resume: boolean): { out: string; note: string | null } {
  const abs = resolve(given);
  if (isRunDir(abs)) return { out: abs, note: null };
  const r = resolveCheckpointDir(given);
  if (r.run === null) {
    if (existsSync(join(abs, 'config.json'))) {
      throw new TrainError({
        code: 'out',
        file: abs,
        detail: `is a checkpoint directory, not a training run directory (one holding ${stepDirName(0).replace(/0+$/, 'N')}/ checkpoints); give a new --out`,
      });
    }
    return { out: abs, note: null };
  }
  const newest = listRunCheckpoints(r.run).at(-1);
  if (resume && newest !== undefined && newest.dir === r.dir) {
    return { out: r.run, note: `--out ${given} is the newest checkpoint (step ${newest.step}) of the run ${r.run}: resuming that run` };
  }
  const which = r.step !== null ? `step ${r.step}` : 'a checkpoint';
  throw new TrainError({
    code: resume ? 'resume' : 'out',
    file: abs,
    detail: resume
      ? `is ${which} of the training run ${r.run}, but --resume continues a run from its newest checkpoint (step ${newest?.step ?? '?'}); give --out ${r.run} --resume`
      : `is ${which} of the training run ${r.run}, not a run directory: continue that run with --out ${r.run} --resume, or start a new one in another --out`,
  });
}

/**
 * Train OFQL on a D4RL dataset. Resolves when `steps` are done, or after a stop request (signal)
 * with `interrupted: true`; throws TrainError / DatasetError / CheckpointError naming file and field.
 */
export async function train(options: TrainOptions): Promise<TrainResult> {
  const log = options.log ?? ((m: string) => void process.stderr.write(`${m}\n`));
  const print = options.print ?? ((m: string) => void process.stdout.write(`${m}\n`));
  const { out, note: outNote } = runDirOfOut(options.out, options.resume ?? false);
  if (outNote !== null) log(`ofql-eval train: ${outNote}`);
  const envId = options.envId;
  const totalSteps = checkInt(options.steps ?? TRAIN_DEFAULTS.steps, '--steps', 1);
  const logEvery = checkInt(options.logEvery ?? TRAIN_DEFAULTS.logEvery, '--log-every', 1);
  const saveEvery = checkInt(options.saveEvery ?? TRAIN_DEFAULTS.saveEvery, '--save-every', 0);
  const keep = checkInt(options.keep ?? TRAIN_DEFAULTS.keep, '--keep', 0);
  const evalEvery = checkInt(options.evalEvery ?? TRAIN_DEFAULTS.evalEvery, '--eval-every', 0);
  const evalEpisodes = checkInt(options.evalEpisodes ?? TRAIN_DEFAULTS.evalEpisodes, '--eval-episodes', 1);
  const evalWorkers = checkInt(options.evalWorkers ?? TRAIN_DEFAULTS.evalWorkers, '--eval-workers', 1);
  const threads = checkInt(options.threads ?? TRAIN_DEFAULTS.threads, '--threads', 1);
  const fsync = options.fsync ?? true;
  if (options.seed !== undefined) checkInt(options.seed, '--seed', 0);
  const askedBatch = options.overrides?.batchSize;
  if (typeof askedBatch === 'number' && askedBatch > MAX_TRAIN_BATCH_SIZE) {
    // Before the dataset is read: the wasm backend aborted only after growing to 4 GB.
    throw new TrainError({ code: 'config', field: '--batch-size', detail: `--batch-size ${askedBatch} is more than the limit of ${MAX_TRAIN_BATCH_SIZE} rows (the wasm backend's 4 GB memory)` });
  }
  if (options.rewardTune !== undefined && !REWARD_TUNES.includes(options.rewardTune)) {
    throw new TrainError({ code: 'config', detail: `--reward-tune must be one of ${REWARD_TUNES.join(', ')}, got ${String(options.rewardTune)}` });
  }

  // ---- Environment --------------------------------------------------------------------------
  let entry;
  try {
    entry = getEnvEntry(envId);
  } catch (e) {
    throw new TrainError({ code: 'env', field: '--env', detail: (e as Error).message }, { cause: e });
  }
  const dimsOfEnv = envDims(envId);
  if (evalEvery > 0 && entry.task === undefined) {
    throw new TrainError({ code: 'config', field: '--eval-every', detail: `'${envId}' has no simulator in ofql-eval (only ${'locomotion'} tasks are simulated); drop --eval-every` });
  }

  // ---- Output directory ----------------------------------------------------------------------
  if (existsSync(out) && !statSync(out).isDirectory()) {
    throw new TrainError({ code: 'out', file: out, detail: 'exists and is not a directory' });
  }
  // Finish or discard checkpoint writes a crash interrupted (leftover step-N.tmp-* / step-N.old-*).
  if (existsSync(out)) {
    const bases = new Set<string>();
    for (const name of readdirSync(out)) {
      const m = /^(step-\d+)\.(tmp|old)-\d+-[0-9a-f]{8}$/.exec(name);
      if (m) bases.add(m[1]!);
    }
    for (const b of bases) await recoverCheckpointDir(join(out, b));
  }
  const existing = listCheckpoints(out);
  if (!options.resume && existsSync(out)) {
    const clutter = [...existing.map((c) => c.dir), ...[FILES.metrics, FILES.eval].map((f) => join(out, f)).filter((f) => existsSync(f))];
    if (clutter.length > 0) {
      const held = clutter.map((c) => c.slice(out.length + 1)).join(', ');
      throw new TrainError({
        code: 'out',
        file: out,
        // --resume is only advice when there is a checkpoint to resume from.
        detail:
          existing.length > 0
            ? `already holds a training run (${held}); pass --resume to continue it, or choose another --out`
            : emptyRunDetail(out, `already holds a training run (${held}) without any checkpoint`),
      });
    }
  }
  if (options.resume && existing.length === 0) {
    throw new TrainError({
      code: 'resume',
      file: out,
      detail: isRunDir(out)
        ? `--resume: no checkpoint to resume from: ${emptyRunDetail(out, 'the training run directory holds none')}`
        : `--resume: no checkpoint to resume from (expected ${stepDirName(0).replace(/0+$/, 'N')}/ directories from an earlier 'ofql-eval train --out ${options.out}')`,
    });
  }

  // ---- Data ---------------------------------------------------------------------------------
  const datasetPath = resolve(options.dataset);
  if (!existsSync(datasetPath)) {
    throw new TrainError({ code: 'dataset', file: datasetPath, field: '--dataset', detail: 'no such file' });
  }
  const d4rl = await readD4rlFile(datasetPath, { envId: dimsOfEnv ? envId : undefined, nextObservations: false, infos: false });
  if (dimsOfEnv && (d4rl.observationSize !== dimsOfEnv.observationSize || d4rl.actionSize !== dimsOfEnv.actionSize)) {
    // readD4rlFile already checks this; keep the guarantee local.
    throw new TrainError({
      code: 'dataset',
      file: datasetPath,
      field: d4rl.observationSize !== dimsOfEnv.observationSize ? 'observations' : 'actions',
      detail: `widths obs ${d4rl.observationSize} / act ${d4rl.actionSize} do not match ${envId} (obs ${dimsOfEnv.observationSize} / act ${dimsOfEnv.actionSize})`,
    });
  }
  for (const w of d4rl.warnings) log(`ofql-eval train: dataset: ${w}`);
  if (!dimsOfEnv) log(`ofql-eval train: warning: '${envId}' is not simulated here; dims taken from the dataset, no evaluation possible`);
  const q = qlearningDataset(d4rl);
  const row = tableKey(envId);

  // ---- Config: fresh, or from the checkpoint -----------------------------------------------
  const dims = { obsDim: q.observationSize, actDim: q.actionSize };
  const overrides = Object.fromEntries(Object.entries(options.overrides ?? {}).filter(([, v]) => v !== undefined)) as TrainOverrides;
  let config: OfqlConfig;
  let sources: Record<string, string>;
  let seed: number;
  let rewardTune: RewardTune;
  let resumeFrom: { step: number; dir: string } | undefined;
  if (options.resume) {
    resumeFrom = existing[existing.length - 1]!;
    const cfgFile = join(resumeFrom.dir, 'config.json');
    const stored = await readOfqlCheckpointConfig(resumeFrom.dir);
    config = stored.config;
    const cc = stored.checkpointConfig;
    const mismatch = (field: string, mine: unknown, theirs: unknown, hint: string) =>
      new TrainError({
        code: 'resume',
        file: cfgFile,
        field,
        detail: `--resume: this run has ${JSON.stringify(mine)} but the checkpoint has ${JSON.stringify(theirs)}; ${hint}`,
      });
    if (cc.envId !== undefined && cc.envId.toLowerCase() !== envId.toLowerCase()) {
      throw mismatch('envId', envId, cc.envId, 'resume with the same --env, or start a new run in another --out');
    }
    if (config.obsDim !== dims.obsDim || config.actDim !== dims.actDim) {
      throw mismatch('ofql.obsDim/actDim', [dims.obsDim, dims.actDim], [config.obsDim, config.actDim], `the dataset ${datasetPath} does not fit this checkpoint`);
    }
    if (options.preset !== undefined) {
      throw new TrainError({ code: 'resume', file: cfgFile, field: 'preset', detail: '--resume: a resumed run keeps its stored hyper-parameters; drop --preset' });
    }
    for (const [k, v] of Object.entries(overrides)) {
      const theirs = (config as unknown as Record<string, unknown>)[k];
      if (theirs !== v) {
        throw mismatch(`ofql.${k}`, v, theirs ?? null, `a resumed run keeps its hyper-parameters: drop ${FLAG_OF_FIELD[k] ?? k} (or pass ${FLAG_OF_FIELD[k] ?? k} ${String(theirs)}), or start a new run in another --out`);
      }
    }
    const storedSeed = typeof cc.seed === 'number' ? cc.seed : 0;
    if (options.seed !== undefined && options.seed !== storedSeed) {
      throw mismatch('seed', options.seed, storedSeed, 'drop --seed or pass the same value');
    }
    seed = storedSeed;
    const ds = (cc.dataset ?? {}) as Partial<DatasetInfo>;
    const storedTune = (ds.rewardTune ?? 'no') as RewardTune;
    if (options.rewardTune !== undefined && options.rewardTune !== storedTune) {
      throw mismatch('dataset.rewardTune', options.rewardTune, storedTune, 'drop --reward-tune or pass the same value');
    }
    rewardTune = storedTune;
    sources = { note: 'from the checkpoint' };
  } else {
    const eff = effectiveConfig(envId, dims, overrides, options.preset ?? TRAIN_DEFAULTS.preset);
    config = eff.config;
    sources = eff.sources;
    seed = options.seed ?? TRAIN_DEFAULTS.seed;
    rewardTune = options.rewardTune ?? (row ? (DQL_TASK_HYPERPARAMETERS[row]!.rewardTune as RewardTune) : 'no');
    if (options.rewardTune !== undefined) sources.rewardTune = '--reward-tune';
    if (!row) log(`ofql-eval train: warning: no DQL per-task row for '${envId}'; using the defaults (no gradient clipping unless --grad-norm)`);
  }
  assertSeed(seed);
  if (q.N < 1) throw new TrainError({ code: 'dataset', file: datasetPath, detail: 'holds no usable transitions after qlearning_dataset' });
  checkBatchFitsDataset(config.batchSize, q.N, datasetPath);
  const rewards = tuneRewards(q.rewards, rewardTune);
  const datasetInfo: DatasetInfo = {
    path: datasetPath,
    sha256: await sha256File(datasetPath),
    contentSha256: d4rlContentSha256(d4rl),
    bytes: statSync(datasetPath).size,
    rows: d4rl.N,
    transitions: q.N,
    observationSize: q.observationSize,
    actionSize: q.actionSize,
    rewardTune,
    discountedReturn: rewardTune === 'no' ? summariseDiscountedReturn(d4rl, config.discount) : null,
  };
  if (resumeFrom) {
    const cfgFile = join(resumeFrom.dir, 'config.json');
    const { checkpointConfig: cc } = await readOfqlCheckpointConfig(resumeFrom.dir);
    const ds = (cc.dataset ?? {}) as Partial<DatasetInfo>;
    // The content digest decides when the checkpoint has one (a regenerated file differs only in
    // its HDF5 timestamps); older checkpoints only have the file's sha256.
    const field = ds.contentSha256 !== undefined ? 'contentSha256' : 'sha256';
    const theirs = ds[field];
    if (theirs !== undefined && theirs !== datasetInfo[field]) {
      throw new TrainError({
        code: 'resume',
        file: cfgFile,
        field: `dataset.${field}`,
        detail: `--resume: the dataset ${datasetPath} (${field} ${datasetInfo[field].slice(0, 12)}…) is not the one this run was trained on (${ds.path ?? '?'}, ${field} ${theirs.slice(0, 12)}…)`,
      });
    }
  }

  // ---- Backend, agent, sampler --------------------------------------------------------------
  const backend = options.backend ?? TRAIN_DEFAULTS.backend;
  const makeAgent = await agentFactory(backend, threads);
  let agent: OfqlAgent;
  const sampler = new UniformSampler({ ...q, rewards }, config.batchSize, deriveSeed(seed, STREAM.sampler));
  let window = emptyWindow();
  let elapsedBefore = 0;
  let lastCheckpoint: string | null = null;
  if (resumeFrom) {
    const loaded = await loadOfqlCheckpoint(resumeFrom.dir, { forResume: true, seed, makeAgent });
    agent = loaded.agent;
    const ts = loaded.trainerState!;
    const statePath = join(resumeFrom.dir, 'trainer-state.json');
    try {
      if (ts.kind !== TRAINER_STATE_KIND) {
        throw new TrainError({ code: 'resume', file: statePath, field: 'kind', detail: `expected "${TRAINER_STATE_KIND}" (a checkpoint written by 'ofql-eval train'), got ${JSON.stringify(ts.kind)}` });
      }
      sampler.setState(rngStateFromJson(ts.samplerRng, statePath, 'samplerRng'));
      const w = ts.window as WindowState | undefined;
      if (!w || typeof w.count !== 'number' || !WINDOW_KEYS.every((k) => typeof w.sums?.[k] === 'number' || (WINDOW_KEYS_ADDED.has(k) && w.sums?.[k] === undefined))) {
        throw new TrainError({ code: 'resume', file: statePath, field: 'window', detail: 'missing or malformed metrics window' });
      }
      window = { count: w.count, sums: { ...emptyWindow().sums, ...w.sums } };
      elapsedBefore = typeof ts.elapsedSeconds === 'number' ? ts.elapsedSeconds : 0;
      if (agent.step !== resumeFrom.step) {
        throw new TrainError({ code: 'resume', file: statePath, field: 'agentStep', detail: `agent step ${agent.step} != directory step ${resumeFrom.step}` });
      }
    } catch (e) {
      agent.dispose();
      throw e;
    }
    lastCheckpoint = resumeFrom.dir;
    const m = truncateJsonlAfterStep(join(out, FILES.metrics), agent.step);
    const ev = truncateJsonlAfterStep(join(out, FILES.eval), agent.step);
    // Checkpoints beyond the resumed step cannot exist (we resume from the newest), but a later
    // `latest` may point nowhere after manual deletions: re-point it.
    updateLatest(out, stepDirName(agent.step));
    log(
      `ofql-eval train: resuming from ${resumeFrom.dir} at step ${agent.step}` +
        (m.dropped + ev.dropped > 0 ? ` (dropped ${m.dropped} metrics / ${ev.dropped} eval lines written after that checkpoint)` : ''),
    );
  } else {
    agent = makeAgent(config, seed);
  }

  mkdirSync(out, { recursive: true });
  const runSettings = {
    envId,
    seed,
    backend,
    threads,
    preset: options.resume ? undefined : (options.preset ?? TRAIN_DEFAULTS.preset),
    steps: totalSteps,
    logEvery,
    saveEvery,
    keep,
    evalEvery,
    evalEpisodes,
    rewardTune,
    dataset: datasetInfo,
    dqlRow: row ?? null,
  };
  writeFileSync(join(out, FILES.config), `${JSON.stringify({ ofql: { ...config, gradNorm: config.gradNorm ?? null }, run: runSettings }, null, 2)}\n`);
  print(
    [
      `ofql-eval train: ${envId}, dataset ${datasetPath} (${d4rl.N} rows, ${q.N} transitions, reward tune '${rewardTune}'), ` +
        `backend ${backend}, seed ${seed}, steps ${resumeFrom ? `${resumeFrom.step} -> ` : ''}${totalSteps}, out ${out}`,
      `hyper-parameters${resumeFrom ? ` (from ${resumeFrom.dir})` : row ? ` (DQL per-task row '${row}'; [source] when not the default)` : ' (defaults)'}:`,
      describeConfig(config, resumeFrom ? {} : sources),
      ...(datasetInfo.discountedReturn
        ? [`the data's discounted return (gamma ${config.discount}): ${datasetInfo.discountedReturn.meanOverRows.toFixed(1)} mean over rows, ${datasetInfo.discountedReturn.meanOverStarts.toFixed(1)} over episode starts; compare targetQMean in metrics.jsonl`]
        : []),
    ].join('\n'),
  );

  // ---- Logs, progress, evaluation ------------------------------------------------------------
  const metricsLog = new JsonlWriter(join(out, FILES.metrics));
  const evalLog = new JsonlWriter(join(out, FILES.eval));
  const plotter = options.plot === undefined ? null : trainingPlotter(out, options.plot);
  const refreshPlot = (force = false): void => {
    try {
      plotter?.(force);
    } catch (e) {
      say(`ofql-eval train: warning: could not update the plot ${options.plot}: ${(e as Error).message}`);
    }
  };
  const progress: TrainProgressReporter = createTrainProgress(options.progress ?? 'auto', process.stderr, { sink: log });
  const say = (m: string) => progress.log(m);
  const evals: EvalLine[] = [];
  const underEvaluation = new Set<string>();
  let pendingEval: Promise<void> | null = null;
  const evalAbort = new AbortController();
  const evalSeed = options.evalSeed ?? seed + 100;
  const evalSampler = options.evalSampler ?? (config.trainCritic ? 'dql' : 'one-step');
  if (!config.trainCritic && evalSampler !== 'one-step') {
    throw new TrainError({
      code: 'config',
      field: '--eval-sampler',
      detail: `--eval-sampler ${evalSampler} ranks actions with the critic, which behaviour cloning (--bc-only) does not train; use one-step`,
    });
  }
  let evalPolicy: PolicyRef | null = null;
  if (evalEvery > 0) {
    // The OFQL checkpoint policy (src/policy/ofql-checkpoint.ts) run by the harness's worker threads;
    // its options travel in the policy reference.
    const { ofqlPolicyRef } = await import('../policy/ofql-cli.js');
    const n = evalSampler === 'dql' || evalSampler === 'best-of-n' ? config.evalCandidates : undefined;
    evalPolicy = ofqlPolicyRef({ sampler: evalSampler, backend: 'wasm', ...(n === undefined ? {} : { n }) });
  }

  const sessionStart = performance.now();
  const wallTime = () => elapsedBefore + (performance.now() - sessionStart) / 1000;
  const startStep = agent.step;
  let trainSeconds = 0;

  const trainerState = (): Record<string, JsonValue> => ({
    kind: TRAINER_STATE_KIND,
    version: TRAINER_STATE_VERSION,
    seed,
    envId,
    totalSteps,
    samplerRng: rngStateToJson(sampler.getState()),
    window: { count: window.count, sums: { ...window.sums } },
    elapsedSeconds: wallTime(),
  });

  const prune = () => {
    if (keep === 0) return;
    const all = listCheckpoints(out);
    const victims = all.slice(0, Math.max(0, all.length - keep));
    for (const v of victims) if (!underEvaluation.has(v.dir)) rmSync(v.dir, { recursive: true, force: true });
  };

  const save = async (): Promise<string> => {
    const dir = join(out, stepDirName(agent.step));
    await saveOfqlCheckpoint(dir, agent, {
      step: agent.step,
      includeTrainingState: true,
      trainerState: trainerState(),
      envId,
      datasetInfo: { ...datasetInfo },
      seed,
      fsync,
    });
    metricsLog.sync();
    evalLog.sync();
    if (!updateLatest(out, stepDirName(agent.step))) say(`ofql-eval train: warning: could not update ${join(out, FILES.latest)} (symlinks not allowed?)`);
    lastCheckpoint = dir;
    prune();
    return dir;
  };

  const runEval = async (step: number, dir: string): Promise<void> => {
    const { evaluate, EvaluationError } = await import('../../eval/evaluate.js');
    const t0 = performance.now();
    const at = wallTime();
    const base = { step, envId, episodes: evalEpisodes, evalSeed, wallTime: at, ckpt: dir };
    const empty = { normalizedMean: null, normalizedStd: null, normalizedCi95: null, normalizedCi95HalfWidth: null, returnMean: null, returnStd: null, lengthMean: null, terminatedEpisodes: null };
    let line: EvalLine;
    try {
      const doc = await evaluate({
        env: envId,
        policy: evalPolicy!,
        ckpt: dir,
        episodes: evalEpisodes,
        seed: evalSeed,
        workers: evalWorkers,
        batchSize: Math.min(8, evalEpisodes),
        maxEpisodeSteps: options.evalMaxEpisodeSteps,
        signal: evalAbort.signal,
        command: ['ofql-eval', 'train', '(periodic evaluation)'],
      });
      if (doc.interrupted) {
        say(`ofql-eval train: evaluation of step ${step} interrupted (not logged)`);
        return;
      }
      const s = doc.results[0]!.summary;
      line = {
        ...base,
        ...empty,
        ...(s
          ? {
              normalizedMean: s.normalizedMean,
              normalizedStd: s.normalizedStd,
              normalizedCi95: s.normalizedCi95,
              normalizedCi95HalfWidth: s.normalizedCi95HalfWidth,
              returnMean: s.returnMean,
              returnStd: s.returnStd,
              lengthMean: s.lengthMean,
              terminatedEpisodes: s.terminatedEpisodes,
            }
          : {}),
        d4rlComparable: doc.settings.d4rlComparable,
        evalSeconds: (performance.now() - t0) / 1000,
        time: new Date().toISOString(),
      };
      const ci = s?.normalizedCi95HalfWidth;
      say(
        `ofql-eval train: eval @ step ${step}: normalised ${s ? s.normalizedMean.toFixed(1) : '?'}` +
          `${ci != null ? ` ± ${ci.toFixed(1)} (95% CI)` : ''}, return ${s ? s.returnMean.toFixed(1) : '?'} over ${evalEpisodes} episodes (${line.evalSeconds.toFixed(0)} s)`,
      );
    } catch (e) {
      const msg = e instanceof EvaluationError || e instanceof Error ? e.message : String(e);
      line = { ...base, ...empty, d4rlComparable: false, evalSeconds: (performance.now() - t0) / 1000, error: msg, time: new Date().toISOString() };
      say(`ofql-eval train: warning: evaluation of step ${step} failed: ${msg}`);
    }
    evalLog.append(line as unknown as Record<string, unknown>);
    evals.push(line);
    refreshPlot(true);
  };

  const startEval = async (step: number, dir: string): Promise<void> => {
    if (pendingEval) {
      say(`ofql-eval train: step ${step}: waiting for the previous evaluation to finish`);
      await pendingEval;
    }
    underEvaluation.add(dir);
    const p = runEval(step, dir).finally(() => {
      underEvaluation.delete(dir);
      if (pendingEval === p) pendingEval = null;
    });
    pendingEval = p;
    if (options.evalInBackground === false) await p;
  };

  // ---- Stop requests ------------------------------------------------------------------------
  let stopRequested = options.signal?.aborted ?? false;
  const onAbort = () => {
    if (!stopRequested) say(`ofql-eval train: stop requested: finishing the current step, then writing a checkpoint`);
    stopRequested = true;
    // A running evaluation is dropped (its checkpoint stays; evaluate it later with 'ofql-eval --ckpt').
    evalAbort.abort();
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });

  // ---- The loop -----------------------------------------------------------------------------
  let windowStartTime = performance.now();
  let windowSessionSteps = 0;
  let lastSps = 0;
  let lastShown: Pick<MetricsLine, 'bcLoss' | 'qLoss' | 'criticLoss'> = { bcLoss: NaN, qLoss: NaN, criticLoss: NaN };
  const yieldToEventLoop = () => new Promise<void>((r) => setImmediate(r));
  let interrupted = false;
  try {
    if (agent.step >= totalSteps) say(`ofql-eval train: already at step ${agent.step} >= --steps ${totalSteps}; nothing to do`);
    while (agent.step < totalSteps) {
      if (stopRequested) {
        interrupted = true;
        break;
      }
      const t0 = performance.now();
      const m: OfqlMetrics = agent.trainStep(sampler.next());
      trainSeconds += (performance.now() - t0) / 1000;
      const done = agent.step;
      if (!Number.isFinite(m.criticLoss) || !Number.isFinite(m.actorLoss)) {
        throw new TrainError({
          code: 'diverged',
          detail:
            `non-finite loss at step ${done} (criticLoss ${m.criticLoss}, bcLoss ${m.bcLoss}, qLoss ${m.qLoss}); ` +
            `last checkpoint: ${lastCheckpoint ?? 'none'}. Try a smaller --lr / --grad-norm or check the dataset's rewards`,
        });
      }
      options.onStep?.(m);
      for (const k of WINDOW_KEYS) window.sums[k] += Number.isNaN(m[k]) ? 0 : m[k]; // actionAtBound is NaN in BC
      window.count += 1;
      windowSessionSteps += 1;

      let logged = false;
      if (done % logEvery === 0) {
        const now = performance.now();
        const mean = (k: WindowKey) => window.sums[k] / window.count;
        lastSps = windowSessionSteps / Math.max(1e-9, (now - windowStartTime) / 1000);
        const line: MetricsLine = {
          step: done,
          count: window.count,
          bcLoss: mean('bcLoss'),
          qLoss: mean('qLoss'),
          actorLoss: mean('actorLoss'),
          criticLoss: mean('criticLoss'),
          actorGradNorm: mean('actorGradNorm'),
          criticGradNorm: mean('criticGradNorm'),
          targetQMean: mean('targetQMean'),
          actionAtBound: config.trainCritic ? mean('actionAtBound') : null,
          stepsPerSec: lastSps,
          wallTime: wallTime(),
          time: new Date().toISOString(),
        };
        metricsLog.append(line as unknown as Record<string, unknown>);
        refreshPlot();
        lastShown = line;
        window = emptyWindow();
        windowStartTime = now;
        windowSessionSteps = 0;
        logged = true;
      }
      const sps = windowSessionSteps >= 5 ? windowSessionSteps / Math.max(1e-9, (performance.now() - windowStartTime) / 1000) : lastSps;
      const shown = window.count > 0 && !logged
        ? { bcLoss: window.sums.bcLoss / window.count, qLoss: window.sums.qLoss / window.count, criticLoss: window.sums.criticLoss / window.count }
        : lastShown;
      progress.update({ step: done, totalSteps, stepsPerSecond: sps, ...shown, elapsedSeconds: wallTime() - elapsedBefore }, logged);

      const evalNow = evalEvery > 0 && done % evalEvery === 0;
      if (evalNow || (saveEvery > 0 && done % saveEvery === 0)) {
        const dir = await save();
        if (evalNow) await startEval(done, dir);
      }
      await yieldToEventLoop();
    }
    if (agent.step !== startStep && lastCheckpoint !== join(out, stepDirName(agent.step))) {
      await save();
    }
    if (pendingEval) {
      if (!interrupted) say('ofql-eval train: waiting for the last evaluation to finish');
      await pendingEval;
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    progress.stop();
    if (pendingEval) {
      evalAbort.abort();
      await (pendingEval as Promise<void>).catch(() => undefined);
    }
    metricsLog.close();
    evalLog.close();
    refreshPlot(true);
    agent.dispose();
  }
  if (interrupted) say(`ofql-eval train: stopped after step ${agent.step}; checkpoint ${lastCheckpoint}. Continue with --resume.`);
  else say(`ofql-eval train: done, step ${agent.step}; checkpoint ${lastCheckpoint}`);
  const sessionSteps = agent.step - startStep;
  const outShown = isAbsolute(options.out) ? out : relative(process.cwd(), out) || '.';
  const evaluable = lastCheckpoint !== null && entry.task !== undefined;
  return {
    out,
    step: agent.step,
    startStep,
    interrupted,
    checkpoint: lastCheckpoint,
    config,
    stepsPerSecond: trainSeconds > 0 ? sessionSteps / trainSeconds : 0,
    evals,
    evaluateCommand: evaluable ? evaluateCommandFor(outShown, envId, evalSampler, config.evalCandidates) : null,
    evaluateStepCommand: evaluable ? evaluateCommandFor(`${outShown}@${agent.step}`, envId, evalSampler, config.evalCandidates) : null,
  };
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
