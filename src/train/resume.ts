/**
 * Exact resume (`--resume`): what a resumed run must share with its checkpoint (env, widths,
 * hyper-parameters, seed, reward tune, data), and what the trainer keeps in trainer-state.json
 * beside the agent's own state so that the run continues as if it had never stopped (the
 * minibatch sampler's RNG, the partly filled metrics window, the wall time so far).
 */
import { join } from 'node:path';
import { CHECKPOINT_FILES, rngStateFromJson, rngStateToJson, stepDirName, type JsonValue, type RunCheckpoint } from '../checkpoint/index.js';
import type { OfqlAgent, OfqlConfig } from '../ofql/index.js';
import { loadOfqlCheckpoint, readOfqlCheckpointConfig, type OfqlCheckpointConfig } from '../ofql/checkpoint.js';
import { updateLatest } from './checkpoints.js';
import { definedOverrides, type RunConfig } from './effective-config.js';
import { TrainError } from './errors.js';
import { FLAG_OF_FIELD } from './hyper-params.js';
import { truncateJsonlAfterStep } from './jsonl.js';
import { windowFromJson, windowToJson, type WindowState } from './metrics.js';
import { FILES, type Say, type TrainOptions } from './options.js';
import type { RewardTune, UniformSampler } from './sampler.js';
import type { DatasetInfo } from './training-data.js';

/** The checkpoint a resumed run continues from. */
export interface ResumePoint extends RunCheckpoint {
  /** Its config.json, as stored. */
  stored: OfqlCheckpointConfig;
}

const TRAINER_STATE_KIND = 'ofql-eval/train';
const TRAINER_STATE_VERSION = 1;

const configFileOf = (from: RunCheckpoint): string => join(from.dir, CHECKPOINT_FILES.config);

function mismatch(file: string, field: string, mine: unknown, theirs: unknown, hint: string): TrainError {
  return new TrainError({
    code: 'resume',
    file,
    field,
    detail: `--resume: this run has ${JSON.stringify(mine)} but the checkpoint has ${JSON.stringify(theirs)}; ${hint}`,
  });
}

/** The stored value, unless the user gave another one (then the run is refused). */
function sameAs<T>(given: T | undefined, stored: T, file: string, field: string, flag: string): T {
  if (given !== undefined && given !== stored) throw mismatch(file, field, given, stored, `drop ${flag} or pass the same value`);
  return stored;
}

/** The config of the run continued from checkpoint `from`, after checking the options against it. */
export async function resumedRunConfig(
  options: TrainOptions,
  dims: { obsDim: number; actDim: number },
  from: RunCheckpoint,
  datasetPath: string,
): Promise<RunConfig> {
  const file = configFileOf(from);
  const { config, checkpointConfig: stored } = await readOfqlCheckpointConfig(from.dir);
  if (stored.envId !== undefined && stored.envId.toLowerCase() !== options.envId.toLowerCase()) {
    throw mismatch(file, 'envId', options.envId, stored.envId, 'resume with the same --env, or start a new run in another --out');
  }
  if (config.obsDim !== dims.obsDim || config.actDim !== dims.actDim) {
    throw mismatch(file, 'ofql.obsDim/actDim', [dims.obsDim, dims.actDim], [config.obsDim, config.actDim], `the dataset ${datasetPath} does not fit this checkpoint`);
  }
  checkSameHyperParams(options, config, file);
  const seed = sameAs(options.seed, typeof stored.seed === 'number' ? stored.seed : 0, file, 'seed', '--seed');
  const storedTune = (storedDataset(stored).rewardTune ?? 'no') as RewardTune;
  const rewardTune = sameAs(options.rewardTune, storedTune, file, 'dataset.rewardTune', '--reward-tune');
  return { config, sources: { note: 'from the checkpoint' }, seed, rewardTune, resumeFrom: { ...from, stored } };
}

/** A resumed run keeps its hyper-parameters: a preset or an override that differs is refused. */
function checkSameHyperParams(options: TrainOptions, config: OfqlConfig, file: string): void {
  if (options.preset !== undefined) {
    throw new TrainError({ code: 'resume', file, field: 'preset', detail: '--resume: a resumed run keeps its stored hyper-parameters; drop --preset' });
  }
  for (const [k, v] of Object.entries(definedOverrides(options.overrides))) {
    const theirs = (config as unknown as Record<string, unknown>)[k];
    if (theirs !== v) {
      const flag = FLAG_OF_FIELD[k] ?? k;
      throw mismatch(file, `ofql.${k}`, v, theirs ?? null, `a resumed run keeps its hyper-parameters: drop ${flag} (or pass ${flag} ${String(theirs)}), or start a new run in another --out`);
    }
  }
}

const storedDataset = (stored: OfqlCheckpointConfig): Partial<DatasetInfo> => (stored.dataset ?? {}) as Partial<DatasetInfo>;

/** The data of a resumed run must be the data it was trained on. */
export function checkSameDataset(from: ResumePoint, info: DatasetInfo): void {
  const ds = storedDataset(from.stored);
  // The content digest decides when the checkpoint has one (a regenerated file differs only in
  // its HDF5 timestamps); older checkpoints only have the file's sha256.
  const field = ds.contentSha256 !== undefined ? 'contentSha256' : 'sha256';
  const theirs = ds[field];
  if (theirs !== undefined && theirs !== info[field]) {
    throw new TrainError({
      code: 'resume',
      file: configFileOf(from),
      field: `dataset.${field}`,
      detail: `--resume: the dataset ${info.path} (${field} ${info[field].slice(0, 12)}…) is not the one this run was trained on (${ds.path ?? '?'}, ${field} ${theirs.slice(0, 12)}…)`,
    });
  }
}

/** trainer-state.json's trainer fields (the agent's step and RNG are added by saveOfqlCheckpoint). */
export function trainerStateOf(s: {
  seed: number;
  envId: string;
  totalSteps: number;
  sampler: UniformSampler;
  window: WindowState;
  wallTime: number;
}): Record<string, JsonValue> {
  return {
    kind: TRAINER_STATE_KIND,
    version: TRAINER_STATE_VERSION,
    seed: s.seed,
    envId: s.envId,
    totalSteps: s.totalSteps,
    samplerRng: rngStateToJson(s.sampler.getState()),
    window: windowToJson(s.window),
    elapsedSeconds: s.wallTime,
  };
}

/** What a resumed session starts with besides the sampler (whose RNG it restores). */
export interface ResumedSession {
  agent: OfqlAgent;
  window: WindowState;
  /** Wall time of the earlier sessions. */
  elapsedBefore: number;
  lastCheckpoint: string;
}

/**
 * Load the agent of checkpoint `from` and restore the trainer's state into `sampler`; cut the
 * logs of `out` back to the checkpoint's step and point `latest` at it.
 */
export async function resumeSession(
  from: ResumePoint,
  out: string,
  seed: number,
  makeAgent: (config: OfqlConfig, seed: number) => OfqlAgent,
  sampler: UniformSampler,
  log: Say,
): Promise<ResumedSession> {
  const { agent, trainerState } = await loadOfqlCheckpoint(from.dir, { forResume: true, seed, makeAgent });
  const statePath = join(from.dir, CHECKPOINT_FILES.trainerState);
  let restored: { window: WindowState; elapsedBefore: number };
  try {
    restored = restoreTrainerState(trainerState!, statePath, sampler);
    if (agent.step !== from.step) {
      throw new TrainError({ code: 'resume', file: statePath, field: 'agentStep', detail: `agent step ${agent.step} != directory step ${from.step}` });
    }
  } catch (e) {
    agent.dispose();
    throw e;
  }
  const m = truncateJsonlAfterStep(join(out, FILES.metrics), agent.step);
  const ev = truncateJsonlAfterStep(join(out, FILES.eval), agent.step);
  // Checkpoints beyond the resumed step cannot exist (we resume from the newest), but a later
  // `latest` may point nowhere after manual deletions: re-point it.
  updateLatest(out, stepDirName(agent.step));
  log(
    `ofql-eval train: resuming from ${from.dir} at step ${agent.step}` +
      (m.dropped + ev.dropped > 0 ? ` (dropped ${m.dropped} metrics / ${ev.dropped} eval lines written after that checkpoint)` : ''),
  );
  return { agent, ...restored, lastCheckpoint: from.dir };
}

/** Check trainer-state.json (`statePath`) and restore the sampler's RNG from it; returns the window and wall time it holds. */
function restoreTrainerState(ts: Record<string, unknown>, statePath: string, sampler: UniformSampler): { window: WindowState; elapsedBefore: number } {
  if (ts.kind !== TRAINER_STATE_KIND) {
    throw new TrainError({ code: 'resume', file: statePath, field: 'kind', detail: `expected "${TRAINER_STATE_KIND}" (a checkpoint written by 'ofql-eval train'), got ${JSON.stringify(ts.kind)}` });
  }
  sampler.setState(rngStateFromJson(ts.samplerRng, statePath, 'samplerRng'));
  const window = windowFromJson(ts.window, statePath);
  return { window, elapsedBefore: typeof ts.elapsedSeconds === 'number' ? ts.elapsedSeconds : 0 };
}
