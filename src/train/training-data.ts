/**
 * The data a run trains on: the D4RL file read and checked against the env, its transitions
 * (qlearning_dataset), and its identity (DatasetInfo) for checkpoints and --resume.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { envDims, qlearningDataset, readD4rlFile, type D4rlDataset, type QLearningDataset } from '../data/index.js';
import { d4rlContentSha256 } from '../data/digest.js';
import { summariseDiscountedReturn, type DiscountedReturnSummary } from '../data/mc-return.js';
import { sha256File } from '../hash.js';
import { TrainError } from './errors.js';
import type { Say } from './options.js';
import type { RewardTune } from './sampler.js';

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

export interface TrainingData {
  /** Absolute path of the file. */
  path: string;
  /** The file's rows. */
  d4rl: D4rlDataset;
  /** Its transitions (qlearning_dataset). */
  q: QLearningDataset;
}

/** Read the dataset file for `envId` (its widths checked against the env where the env is simulated). */
export async function readTrainingData(dataset: string, envId: string, log: Say): Promise<TrainingData> {
  const path = resolve(dataset);
  if (!existsSync(path)) {
    throw new TrainError({ code: 'dataset', file: path, field: '--dataset', detail: 'no such file' });
  }
  const dimsOfEnv = envDims(envId);
  const d4rl = await readD4rlFile(path, { envId: dimsOfEnv ? envId : undefined, nextObservations: false, infos: false });
  if (dimsOfEnv && (d4rl.observationSize !== dimsOfEnv.observationSize || d4rl.actionSize !== dimsOfEnv.actionSize)) {
    // readD4rlFile already checks this; keep the guarantee local.
    throw new TrainError({
      code: 'dataset',
      file: path,
      field: d4rl.observationSize !== dimsOfEnv.observationSize ? 'observations' : 'actions',
      detail: `widths obs ${d4rl.observationSize} / act ${d4rl.actionSize} do not match ${envId} (obs ${dimsOfEnv.observationSize} / act ${dimsOfEnv.actionSize})`,
    });
  }
  for (const w of d4rl.warnings) log(`ofql-eval train: dataset: ${w}`);
  if (!dimsOfEnv) log(`ofql-eval train: warning: '${envId}' is not simulated here; dims taken from the dataset, no evaluation possible`);
  return { path, d4rl, q: qlearningDataset(d4rl) };
}

/**
 * The data must hold transitions, and a minibatch is drawn from them: one larger than the dataset
 * is a mistake (usually a tiny test file), and used to abort the wasm backend after 4 GB instead
 * of saying so.
 */
export function checkBatchFitsDataset(data: TrainingData, batchSize: number): void {
  const transitions = data.q.N;
  if (transitions < 1) throw new TrainError({ code: 'dataset', file: data.path, detail: 'holds no usable transitions after qlearning_dataset' });
  if (batchSize > transitions) {
    throw new TrainError({
      code: 'config',
      file: data.path,
      detail: `--batch-size ${batchSize} is larger than the dataset's ${transitions} transitions; use --batch-size ${transitions} or less`,
    });
  }
}

/** The data's identity and summary, as checkpoints record it. */
export async function describeDataset(data: TrainingData, rewardTune: RewardTune, discount: number): Promise<DatasetInfo> {
  const { path, d4rl, q } = data;
  return {
    path,
    sha256: await sha256File(path),
    contentSha256: d4rlContentSha256(d4rl),
    bytes: statSync(path).size,
    rows: d4rl.N,
    transitions: q.N,
    observationSize: q.observationSize,
    actionSize: q.actionSize,
    rewardTune,
    discountedReturn: rewardTune === 'no' ? summariseDiscountedReturn(d4rl, discount) : null,
  };
}
