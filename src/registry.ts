/**
 * Every environment id ofql-eval knows: D4RL dataset ids (for normalisation, and for simulation
 * where the env is shipped) and gym ids. Normalisation constants are D4RL's
 * (d4rl/infos.py, docs/reference.md §2): one (REF_MIN, REF_MAX) pair per family, shared by
 * every dataset and version of that family.
 */

import { ANT } from '../envs/ant.js';
import { HALF_CHEETAH } from '../envs/half-cheetah.js';
import { HOPPER } from '../envs/hopper.js';
import { WALKER2D } from '../envs/walker2d.js';

/** The simulated tasks ofql-eval ships. */
export type LocomotionTask = 'HalfCheetah' | 'Hopper' | 'Walker2d' | 'Ant';

/** gym's `max_episode_steps` for the v2 locomotion envs (D4RL's `env._max_episode_steps`). */
export const D4RL_MAX_EPISODE_STEPS = 1000;

/** Observation and action widths of each simulated task (declared once, in its env file). */
export const TASK_SPACES: Readonly<Record<LocomotionTask, { observationSize: number; actionSize: number }>> = {
  HalfCheetah: HALF_CHEETAH,
  Hopper: HOPPER,
  Walker2d: WALKER2D,
  Ant: ANT,
};

export interface EnvEntry {
  /** The id as users write it, e.g. `hopper-medium-v2` or `Hopper-v3`. */
  id: string;
  /** Normalisation family, e.g. `hopper`, `antmaze`, `pen`. */
  family: string;
  /** The task to simulate; undefined for ids known only for score normalisation. */
  task?: LocomotionTask;
  refMin: number;
  refMax: number;
}

/** D4RL REF_MIN_SCORE / REF_MAX_SCORE by family (d4rl/infos.py). */
export const D4RL_REFERENCE_SCORES = {
  halfcheetah: { refMin: -280.178953, refMax: 12135.0 },
  hopper: { refMin: -20.272305, refMax: 3234.3 },
  walker2d: { refMin: 1.629008, refMax: 4592.3 },
  ant: { refMin: -325.6, refMax: 3879.7 },
  antmaze: { refMin: 0.0, refMax: 1.0 },
  kitchen: { refMin: 0.0, refMax: 4.0 },
  pen: { refMin: 96.262799, refMax: 3076.8331017826877 },
  hammer: { refMin: -274.856578, refMax: 12794.134825156867 },
  relocate: { refMin: -6.425911, refMax: 4233.877797728884 },
  door: { refMin: -56.512833, refMax: 2880.5693087298737 },
} as const satisfies Record<string, { refMin: number; refMax: number }>;

export type Family = keyof typeof D4RL_REFERENCE_SCORES;

const LOCOMOTION: ReadonlyArray<[Family, LocomotionTask]> = [
  ['halfcheetah', 'HalfCheetah'],
  ['hopper', 'Hopper'],
  ['walker2d', 'Walker2d'],
  ['ant', 'Ant'],
];
/** D4RL locomotion datasets; `full-replay` appeared with v1. */
const LOCOMOTION_DATASETS_V0 = ['random', 'medium', 'expert', 'medium-replay', 'medium-expert'];
const LOCOMOTION_DATASETS_V1 = [...LOCOMOTION_DATASETS_V0, 'full-replay'];
const ANTMAZE_DATASETS = ['umaze', 'umaze-diverse', 'medium-play', 'medium-diverse', 'large-play', 'large-diverse'];
const KITCHEN_DATASETS = ['complete', 'partial', 'mixed'];
const ADROIT_TASKS: Family[] = ['pen', 'hammer', 'relocate', 'door'];
const ADROIT_DATASETS = ['human', 'cloned', 'expert'];

function buildRegistry(): Map<string, EnvEntry> {
  const entries: EnvEntry[] = [];
  const add = (id: string, family: Family, task?: LocomotionTask) =>
    entries.push({ id, family, task, ...D4RL_REFERENCE_SCORES[family] });

  for (const [family, task] of LOCOMOTION) {
    for (const d of LOCOMOTION_DATASETS_V0) add(`${family}-${d}-v0`, family, task);
    for (const v of ['v1', 'v2']) for (const d of LOCOMOTION_DATASETS_V1) add(`${family}-${d}-${v}`, family, task);
    // gym ids: v2 (mujoco-py) and v3 (same defaults), both simulated with v2 semantics.
    for (const v of ['v2', 'v3']) add(`${task}-${v}`, family, task);
  }
  for (const v of ['v0', 'v2']) for (const d of ANTMAZE_DATASETS) add(`antmaze-${d}-${v}`, 'antmaze');
  for (const d of KITCHEN_DATASETS) add(`kitchen-${d}-v0`, 'kitchen');
  for (const t of ADROIT_TASKS) for (const v of ['v0', 'v1']) for (const d of ADROIT_DATASETS) add(`${t}-${d}-${v}`, t);

  return new Map(entries.map((e) => [e.id, e]));
}

const REGISTRY = buildRegistry();

export class UnknownEnvError extends Error {
  constructor(id: string, valid: readonly string[]) {
    super(`unknown environment id '${id}'. Valid ids: ${valid.join(', ')}`);
    this.name = 'UnknownEnvError';
  }
}

/** All known ids; with `{ simulated: true }` only those `makeEnv` can build. */
export function listEnvs(options: { simulated?: boolean } = {}): string[] {
  const all = [...REGISTRY.values()];
  return (options.simulated ? all.filter((e) => e.task !== undefined) : all).map((e) => e.id);
}

/** Registry entry of `id`, or an `UnknownEnvError` listing the valid ids. */
export function getEnvEntry(id: string): EnvEntry {
  const entry = REGISTRY.get(id);
  if (!entry) throw new UnknownEnvError(id, listEnvs());
  return entry;
}

/** D4RL normalised score: 100 * (R - REF_MIN) / (REF_MAX - REF_MIN). */
export function normalizedScore(id: string, episodeReturn: number): number {
  const { refMin, refMax } = getEnvEntry(id);
  return (100 * (episodeReturn - refMin)) / (refMax - refMin);
}
