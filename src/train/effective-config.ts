/**
 * The hyper-parameters of a fresh run: the per-task DQL row of the env, the preset and the user's
 * overrides, with where each value came from (printed at the start of every run). A resumed run
 * takes its checkpoint's instead (src/train/resume.ts).
 */
import {
  DQL_TASK_HYPERPARAMETERS,
  DQL_PRESET,
  OfqlConfigError,
  makeOfqlConfig,
  ofqlConfigForTask,
  presetValues,
  type HyperParamPreset,
  type OfqlConfig,
} from '../ofql/index.js';
import { TrainError } from './errors.js';
import { FLAG_OF_FIELD } from './hyper-params.js';
import { TRAIN_DEFAULTS, type Say, type TrainOptions, type TrainOverrides } from './options.js';
import type { ResumePoint } from './resume.js';
import type { RewardTune } from './sampler.js';

/** What a run trains with, fresh or from its checkpoint. */
export interface RunConfig {
  config: OfqlConfig;
  /** Where each value not at its default came from (for the printed table). */
  sources: Record<string, string>;
  seed: number;
  rewardTune: RewardTune;
  /** The checkpoint a resumed run continues from; null for a fresh run. */
  resumeFrom: ResumePoint | null;
}

/** Per-task DQL row key for an env id, if the table has one. */
export function tableKey(envId: string): string | undefined {
  const k = envId.trim().toLowerCase();
  return DQL_TASK_HYPERPARAMETERS[k] ? k : undefined;
}

/** The overrides actually given (a field set to undefined means "not given"). */
export function definedOverrides(overrides: TrainOverrides = {}): TrainOverrides {
  return Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) as TrainOverrides;
}

/** Effective OfqlConfig for a fresh run, with where each non-default value came from. */
export function effectiveConfig(
  envId: string,
  dims: { obsDim: number; actDim: number },
  overrides: TrainOverrides = {},
  preset: HyperParamPreset = 'ofql',
): { config: OfqlConfig; sources: Record<string, string>; row: string | undefined } {
  const row = tableKey(envId);
  const clean = definedOverrides(overrides);
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

/** A fresh run's config, seed and reward tune from the options, the env's DQL row and the defaults. */
export function freshRunConfig(options: TrainOptions, dims: { obsDim: number; actDim: number }, log: Say): RunConfig {
  const { envId } = options;
  const row = tableKey(envId);
  const { config, sources } = effectiveConfig(envId, dims, options.overrides, options.preset ?? TRAIN_DEFAULTS.preset);
  const rewardTune = options.rewardTune ?? (row ? (DQL_TASK_HYPERPARAMETERS[row]!.rewardTune as RewardTune) : 'no');
  if (options.rewardTune !== undefined) sources.rewardTune = '--reward-tune';
  if (!row) log(`ofql-eval train: warning: no DQL per-task row for '${envId}'; using the defaults (no gradient clipping unless --grad-norm)`);
  return { config, sources, seed: options.seed ?? TRAIN_DEFAULTS.seed, rewardTune, resumeFrom: null };
}

/** The config as an aligned table, `[source]` after each value that did not come from the defaults. */
export function describeConfig(config: OfqlConfig, sources: Record<string, string>): string {
  const keys = Object.keys(config) as Array<keyof OfqlConfig>;
  const width = Math.max(...keys.map((k) => k.length));
  return keys
    .map((k) => {
      const v = config[k];
      return `  ${k.padEnd(width)}  ${v === undefined ? '(none)' : String(v)}${sources[k] ? `   [${sources[k]}]` : ''}`;
    })
    .join('\n');
}
