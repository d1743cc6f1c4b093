/**
 * Reading a Minari dataset file (Farama's successor to D4RL) into the same transition form as
 * `qlearningDataset`.
 *
 * Minari layout (minari.farama.org "Dataset Standards"; `EpisodeData`): `main_data.hdf5` holds one
 * group per episode, `episode_<id>`, with `observations` (T+1 rows: the reset observation and the
 * one after every step), `actions` (T), `rewards` (T), `terminations` (T), `truncations` (T) and
 * `infos/`. Only Box observation/action spaces are supported (a dict or tuple space stores a group
 * where `observations`/`actions` should be; that is reported as an error).
 *
 * Transitions: step t of an episode gives (obs[t], actions[t], rewards[t], obs[t+1],
 * terminations[t]). Unlike D4RL's flat layout, Minari keeps the observation after a truncation,
 * so truncated steps are valid transitions and are kept (with terminal 0).
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { checkWidth, readFiniteRows } from './checked-rows.js';
import { DatasetError } from './errors.js';
import { envDims } from './env-dims.js';
import { Dataset, Group, describeDtype, isNumericType, openH5ForRead, readRows, type H5File } from './h5.js';
import type { QLearningDataset } from './qlearning-dataset.js';

export interface ReadMinariOptions {
  /** Environment id, to check observation/action widths (see `ReadD4rlOptions.envId`). */
  envId?: string;
  observationSize?: number;
  actionSize?: number;
}

export interface MinariTransitions extends QLearningDataset {
  /** Absolute path of the HDF5 file read. */
  file: string;
  /** Episodes read (in numeric id order). */
  episodes: number;
  warnings: string[];
}

/**
 * Read a Minari `main_data.hdf5` (or a Minari dataset directory containing `data/main_data.hdf5`)
 * into transitions. `sourceIndex` holds the running step index over all episodes (episode order,
 * then step). Throws `DatasetError` naming the file and the field (`episode_<id>/<name>`).
 */
export async function readMinariDataset(path: string, options: ReadMinariOptions = {}): Promise<MinariTransitions> {
  const { file, h5 } = await openH5ForRead(resolveMinariPath(path));
  try {
    return readOpen(file, h5, options);
  } finally {
    h5.close();
  }
}

function resolveMinariPath(path: string): string {
  try {
    if (statSync(path).isDirectory()) {
      for (const cand of [join(path, 'data', 'main_data.hdf5'), join(path, 'main_data.hdf5')]) {
        try {
          if (statSync(cand).isFile()) return cand;
        } catch {
          // try the next
        }
      }
      return join(path, 'data', 'main_data.hdf5'); // reported as not found
    }
  } catch {
    // not found: openH5ForRead reports it
  }
  return path;
}

/** One episode's datasets, checked; T = its number of steps. */
interface Episode {
  name: string;
  T: number;
  obs: Dataset;
  act: Dataset;
  rew: Dataset;
  term: Dataset;
}

/** The observation / action widths so far, and where each came from (for messages). */
interface Widths {
  O?: number;
  A?: number;
  obsSource: string;
  actSource: string;
}

/** The datasets of an episode group besides `infos/`. */
const EPISODE_KEYS = ['observations', 'actions', 'rewards', 'terminations', 'truncations'] as const;
type EpisodeDatasets = Record<(typeof EPISODE_KEYS)[number], Dataset>;
/** Per-step vectors of an episode: (T,) or (T, 1). */
const STEP_VECTOR_KEYS = ['rewards', 'terminations', 'truncations'] as const;
const EPISODE_GROUP = /^episode_\d+$/;
const EPISODE_PREFIX = 'episode_';

function readOpen(file: string, h5: H5File, options: ReadMinariOptions): MinariTransitions {
  const warnings: string[] = [];
  const widths = requestedWidths(options);
  const episodes: Episode[] = [];
  let total = 0;
  // Every episode is checked before any data is read.
  for (const name of episodeNames(file, h5)) {
    const ep = openEpisode(file, h5, name, widths);
    if (ep.T === 0) {
      warnings.push(`${name} has no steps; skipped`);
      continue;
    }
    episodes.push(ep);
    total += ep.T;
  }
  const { O, A } = widths;
  if (total === 0 || O === undefined || A === undefined) {
    throw new DatasetError({ code: 'empty', file, detail: 'holds no steps; expected at least one episode with T >= 1' });
  }
  return { file, episodes: episodes.length, warnings, ...readTransitions(file, episodes, total, O, A) };
}

/** The `episode_<id>` groups in numeric id order; none is an error. */
function episodeNames(file: string, h5: H5File): string[] {
  const id = (k: string) => Number(k.slice(EPISODE_PREFIX.length));
  const names = h5
    .keys()
    .filter((k) => EPISODE_GROUP.test(k))
    .sort((a, b) => id(a) - id(b));
  if (names.length === 0) {
    throw new DatasetError({
      code: 'missing-key',
      file,
      field: `${EPISODE_PREFIX}0`,
      detail: `no episode_<id> groups; expected the Minari layout. Top-level keys found: ${h5.keys().join(', ') || '(none)'}`,
    });
  }
  return names;
}

/** The widths the caller or the environment asks for; undefined ones are taken from the first episode. */
function requestedWidths(options: ReadMinariOptions): Widths {
  const dims = options.envId !== undefined ? envDims(options.envId) : undefined;
  return {
    O: options.observationSize ?? dims?.observationSize,
    A: options.actionSize ?? dims?.actionSize,
    obsSource: options.observationSize !== undefined ? 'as requested' : `for ${options.envId}`,
    actSource: options.actionSize !== undefined ? 'as requested' : `for ${options.envId}`,
  };
}

/** The episode group `name`: its datasets present and numeric, their shapes consistent, its widths those of `widths`. */
function openEpisode(file: string, h5: H5File, name: string, widths: Widths): Episode {
  const g = h5.get(name);
  if (!(g instanceof Group)) {
    throw new DatasetError({ code: 'dtype', file, field: name, detail: 'is not a group; expected a Minari episode group' });
  }
  const ds = Object.fromEntries(EPISODE_KEYS.map((key) => [key, episodeDataset(file, g, name, key)])) as EpisodeDatasets;
  const { T, obsWidth, actWidth } = checkEpisodeShapes(file, name, ds);
  checkEpisodeWidths(file, name, widths, obsWidth, actWidth);
  return { name, T, obs: ds.observations, act: ds.actions, rew: ds.rewards, term: ds.terminations };
}

/** `name/key`: present, a dataset (not a dict/tuple-space group), numeric. */
function episodeDataset(file: string, g: Group, name: string, key: string): Dataset {
  const field = `${name}/${key}`;
  const keys = g.keys();
  if (!keys.includes(key)) {
    throw new DatasetError({ code: 'missing-key', file, field, detail: `missing; episode keys found: ${keys.join(', ') || '(none)'}` });
  }
  const ds = g.get(key);
  if (!(ds instanceof Dataset)) {
    throw new DatasetError({
      code: 'dtype',
      file,
      field,
      detail: 'is a group (dict/tuple space?); only Box observation and action spaces are supported',
    });
  }
  if (!isNumericType(ds.metadata)) {
    throw new DatasetError({ code: 'dtype', file, field, detail: `has element type ${describeDtype(ds.metadata)}; expected numbers` });
  }
  return ds;
}

/** actions (T, act_dim), observations (T+1, obs_dim), per-step vectors (T,) or (T, 1). */
function checkEpisodeShapes(file: string, name: string, ds: EpisodeDatasets): { T: number; obsWidth: number; actWidth: number } {
  const os = ds.observations.shape;
  const as = ds.actions.shape;
  if (as === null || as.length !== 2) {
    throw new DatasetError({ code: 'shape', file, field: `${name}/actions`, detail: `has shape ${JSON.stringify(as)}; expected 2-D (T, act_dim)` });
  }
  const T = as[0]!;
  if (os === null || os.length !== 2 || os[0] !== T + 1) {
    throw new DatasetError({
      code: 'shape',
      file,
      field: `${name}/observations`,
      detail: `has shape ${JSON.stringify(os)}; expected (T+1, obs_dim) = (${T + 1}, obs_dim), T = ${T} actions`,
    });
  }
  for (const key of STEP_VECTOR_KEYS) {
    const s = ds[key].shape;
    if (s === null || s[0] !== T || !(s.length === 1 || (s.length === 2 && s[1] === 1))) {
      throw new DatasetError({
        code: 'shape',
        file,
        field: `${name}/${key}`,
        detail: `has shape ${JSON.stringify(s)}; expected (${T},) or (${T}, 1), T = ${T} actions`,
      });
    }
  }
  return { T, obsWidth: os[1]!, actWidth: as[1]! };
}

/** Checks the episode's widths against `widths`; the first episode sets those not yet known. */
function checkEpisodeWidths(file: string, name: string, widths: Widths, obsWidth: number, actWidth: number): void {
  if (widths.O === undefined) widths.obsSource = `as in ${name}`;
  if (widths.A === undefined) widths.actSource = `as in ${name}`;
  checkWidth(file, `${name}/observations`, obsWidth, widths.O, widths.obsSource, 'observation');
  widths.O = obsWidth;
  checkWidth(file, `${name}/actions`, actWidth, widths.A, widths.actSource, 'action');
  widths.A = actWidth;
}

/** The episodes' steps as flat transitions (the checks above passed for all of them). */
function readTransitions(file: string, episodes: readonly Episode[], total: number, O: number, A: number): QLearningDataset {
  const observations = new Float32Array(total * O);
  const nextObservations = new Float32Array(total * O);
  const actions = new Float32Array(total * A);
  const rewards = new Float32Array(total);
  const terminals = new Float32Array(total);
  let at = 0;
  for (const ep of episodes) {
    const { name, T } = ep;
    const obs = readFiniteRows(file, `${name}/observations`, ep.obs, T + 1, O);
    const act = readFiniteRows(file, `${name}/actions`, ep.act, T, A);
    const rew = readFiniteRows(file, `${name}/rewards`, ep.rew, T, 1);
    const term = readRows(file, `${name}/terminations`, ep.term, T, 1, new Uint8Array(T));
    observations.set(obs.subarray(0, T * O), at * O);
    nextObservations.set(obs.subarray(O), at * O);
    actions.set(act, at * A);
    rewards.set(rew, at);
    for (let t = 0; t < T; t++) terminals[at + t] = term[t]!;
    at += T;
  }
  const sourceIndex = new Uint32Array(total);
  for (let i = 0; i < total; i++) sourceIndex[i] = i;
  return { N: total, observationSize: O, actionSize: A, observations, actions, nextObservations, rewards, terminals, sourceIndex };
}
