/**
 * Planning a training run, before any step is taken: the options checked, the run directory made
 * ready (src/train/out-dir.ts), the data read (src/train/training-data.ts), the hyper-parameters
 * chosen for a fresh run (src/train/effective-config.ts) or checked against the checkpoint for
 * --resume (src/train/resume.ts), and the data identified. The RunPlan is plain data that train()
 * (src/train/trainer.ts) carries out; train-config.json records it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EngineDevice, TrainBackend } from '../engine/index.js';
import { MAX_TRAIN_BATCH_SIZE } from '../limits.js';
import type { HyperParamPreset } from '../ofql/index.js';
import { getEnvEntry } from '../registry.js';
import { assertSeed } from '../rng.js';
import { describeConfig, freshRunConfig, tableKey, type RunConfig } from './effective-config.js';
import { TrainError } from './errors.js';
import { FILES, TRAIN_DEFAULTS, type Say, type TrainOptions } from './options.js';
import { prepareOutDir, runDirOfOut } from './out-dir.js';
import { evalSamplerOf, type EvalSampler } from './periodic-eval.js';
import { checkSameDataset, resumedRunConfig } from './resume.js';
import { REWARD_TUNES, tuneRewards } from './sampler.js';
import { checkBatchFitsDataset, describeDataset, readTrainingData, type DatasetInfo, type TrainingData } from './training-data.js';

/** The run settings besides the hyper-parameters, checked. */
export interface RunSettings {
  totalSteps: number;
  logEvery: number;
  saveEvery: number;
  keep: number;
  evalEvery: number;
  evalEpisodes: number;
  evalWorkers: number;
  threads: number;
  device: EngineDevice;
  fsync: boolean;
  backend: TrainBackend;
  /** The preset of a fresh run; undefined on resume (the checkpoint's config holds its values). */
  preset: HyperParamPreset | undefined;
}

export interface RunPlan extends RunConfig {
  /** The run directory (absolute). */
  out: string;
  envId: string;
  /** ofql-eval simulates the env, so the run can be evaluated. */
  simulated: boolean;
  settings: RunSettings;
  data: TrainingData;
  /** The rewards trained on (after the reward tune). */
  rewards: Float32Array;
  /** The per-task DQL row of the env, if the table has one. */
  row: string | undefined;
  datasetInfo: DatasetInfo;
  /** The periodic evaluation's action rule (checked here: --bc-only refuses the critic-ranked ones before any file is written). */
  evalSampler: EvalSampler;
}

/** Check everything a run needs before it starts; throws TrainError / DatasetError / CheckpointError naming file and field. */
export async function planRun(options: TrainOptions, log: Say): Promise<RunPlan> {
  const resume = options.resume ?? false;
  const { out, note } = runDirOfOut(options.out, resume);
  if (note !== null) log(`ofql-eval train: ${note}`);
  const settings = checkSettings(options);
  const simulated = checkEnv(options.envId, settings.evalEvery);
  const existing = await prepareOutDir(out, options.out, resume);
  const data = await readTrainingData(options.dataset, options.envId, log);
  const dims = { obsDim: data.q.observationSize, actDim: data.q.actionSize };
  const run = resume ? await resumedRunConfig(options, dims, existing.at(-1)!, data.path) : freshRunConfig(options, dims, log);
  assertSeed(run.seed);
  const evalSampler = evalSamplerOf(options.evalSampler, run.config);
  checkBatchFitsDataset(data, run.config.batchSize);
  const rewards = tuneRewards(data.q.rewards, run.rewardTune);
  const datasetInfo = await describeDataset(data, run.rewardTune, run.config.discount);
  if (run.resumeFrom) checkSameDataset(run.resumeFrom, datasetInfo);
  return { ...run, out, envId: options.envId, simulated, settings, data, rewards, row: tableKey(options.envId), datasetInfo, evalSampler };
}

function checkInt(v: unknown, flag: string, min: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
    throw new TrainError({ code: 'config', detail: `${flag} must be an integer >= ${min}, got ${String(v)}` });
  }
  return v;
}

/** The run settings with their defaults, and the options that can be checked before the data is read. */
function checkSettings(options: TrainOptions): RunSettings {
  const d = TRAIN_DEFAULTS;
  const settings: RunSettings = {
    totalSteps: checkInt(options.steps ?? d.steps, '--steps', 1),
    logEvery: checkInt(options.logEvery ?? d.logEvery, '--log-every', 1),
    saveEvery: checkInt(options.saveEvery ?? d.saveEvery, '--save-every', 0),
    keep: checkInt(options.keep ?? d.keep, '--keep', 0),
    evalEvery: checkInt(options.evalEvery ?? d.evalEvery, '--eval-every', 0),
    evalEpisodes: checkInt(options.evalEpisodes ?? d.evalEpisodes, '--eval-episodes', 1),
    evalWorkers: checkInt(options.evalWorkers ?? d.evalWorkers, '--eval-workers', 1),
    threads: checkInt(options.threads ?? d.threads, '--threads', 1),
    device: options.device ?? d.device,
    fsync: options.fsync ?? true,
    backend: options.backend ?? d.backend,
    preset: options.resume ? undefined : (options.preset ?? d.preset),
  };
  if (options.seed !== undefined) checkInt(options.seed, '--seed', 0);
  const askedBatch = options.overrides?.batchSize;
  if (typeof askedBatch === 'number' && askedBatch > MAX_TRAIN_BATCH_SIZE) {
    // Before the dataset is read: the wasm backend aborted only after growing to 4 GB.
    throw new TrainError({ code: 'config', field: '--batch-size', detail: `--batch-size ${askedBatch} is more than the limit of ${MAX_TRAIN_BATCH_SIZE} rows (the wasm backend's 4 GB memory)` });
  }
  if (options.rewardTune !== undefined && !REWARD_TUNES.includes(options.rewardTune)) {
    throw new TrainError({ code: 'config', detail: `--reward-tune must be one of ${REWARD_TUNES.join(', ')}, got ${String(options.rewardTune)}` });
  }
  return settings;
}

/** The env must be known; evaluation needs its simulator. Returns whether ofql-eval simulates it. */
function checkEnv(envId: string, evalEvery: number): boolean {
  let entry;
  try {
    entry = getEnvEntry(envId);
  } catch (e) {
    throw new TrainError({ code: 'env', field: '--env', detail: (e as Error).message }, { cause: e });
  }
  const simulated = entry.task !== undefined;
  if (evalEvery > 0 && !simulated) {
    throw new TrainError({ code: 'config', field: '--eval-every', detail: `'${envId}' has no simulator in ofql-eval (only locomotion tasks are simulated); drop --eval-every` });
  }
  return simulated;
}

/** Create the run directory and record the plan in train-config.json (rewritten at every start). */
export function writePlan(plan: RunPlan): void {
  const { out, config, settings: s } = plan;
  mkdirSync(out, { recursive: true });
  const run = {
    envId: plan.envId,
    seed: plan.seed,
    backend: s.backend,
    threads: s.threads,
    device: s.device,
    preset: s.preset,
    steps: s.totalSteps,
    logEvery: s.logEvery,
    saveEvery: s.saveEvery,
    keep: s.keep,
    evalEvery: s.evalEvery,
    evalEpisodes: s.evalEpisodes,
    rewardTune: plan.rewardTune,
    dataset: plan.datasetInfo,
    dqlRow: plan.row ?? null,
  };
  writeFileSync(join(out, FILES.config), `${JSON.stringify({ ofql: { ...config, gradNorm: config.gradNorm ?? null }, run }, null, 2)}\n`);
}

/** The plan as printed at the start of a run: data, engine, steps, and the hyper-parameters with their sources. */
export function describePlan(plan: RunPlan): string {
  const { envId, data, rewardTune, settings, seed, resumeFrom, out, row, config } = plan;
  const { discountedReturn } = plan.datasetInfo;
  return [
    `ofql-eval train: ${envId}, dataset ${data.path} (${data.d4rl.N} rows, ${data.q.N} transitions, reward tune '${rewardTune}'), ` +
      `backend ${settings.backend}, seed ${seed}, steps ${resumeFrom ? `${resumeFrom.step} -> ` : ''}${settings.totalSteps}, out ${out}`,
    `hyper-parameters${resumeFrom ? ` (from ${resumeFrom.dir})` : row ? ` (DQL per-task row '${row}'; [source] when not the default)` : ' (defaults)'}:`,
    describeConfig(config, resumeFrom ? {} : plan.sources),
    ...(discountedReturn
      ? [`the data's discounted return (gamma ${config.discount}): ${discountedReturn.meanOverRows.toFixed(1)} mean over rows, ${discountedReturn.meanOverStarts.toFixed(1)} over episode starts; compare targetQMean in metrics.jsonl`]
      : []),
  ].join('\n');
}
