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
import { DatasetError, findNonFinite } from './errors.js';
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

interface Episode {
  name: string;
  T: number;
  obs: Dataset;
  act: Dataset;
  rew: Dataset;
  term: Dataset;
}

function readOpen(file: string, h5: H5File, options: ReadMinariOptions): MinariTransitions {
  const warnings: string[] = [];
  const names = h5
    .keys()
    .filter((k) => /^episode_\d+$/.test(k))
    .sort((a, b) => Number(a.slice(8)) - Number(b.slice(8)));
  if (names.length === 0) {
    throw new DatasetError({
      code: 'missing-key',
      file,
      field: 'episode_0',
      detail: `no episode_<id> groups; expected the Minari layout. Top-level keys found: ${h5.keys().join(', ') || '(none)'}`,
    });
  }
  const dims = options.envId !== undefined ? envDims(options.envId) : undefined;
  let O = options.observationSize ?? dims?.observationSize;
  let A = options.actionSize ?? dims?.actionSize;
  let obsSource = options.observationSize !== undefined ? 'as requested' : `for ${options.envId}`;
  let actSource = options.actionSize !== undefined ? 'as requested' : `for ${options.envId}`;

  const episodes: Episode[] = [];
  let total = 0;
  for (const name of names) {
    const g = h5.get(name);
    if (!(g instanceof Group)) {
      throw new DatasetError({ code: 'dtype', file, field: name, detail: 'is not a group; expected a Minari episode group' });
    }
    const keys = g.keys();
    const get = (key: string): Dataset => {
      const field = `${name}/${key}`;
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
    };
    const obs = get('observations');
    const act = get('actions');
    const rew = get('rewards');
    const term = get('terminations');
    get('truncations');
    const os = obs.shape;
    const as = act.shape;
    if (as === null || as.length !== 2) {
      throw new DatasetError({ code: 'shape', file, field: `${name}/actions`, detail: `has shape ${JSON.stringify(as)}; expected 2-D (T, act_dim)` });
    }
    const T = as[0];
    if (os === null || os.length !== 2 || os[0] !== T + 1) {
      throw new DatasetError({
        code: 'shape',
        file,
        field: `${name}/observations`,
        detail: `has shape ${JSON.stringify(os)}; expected (T+1, obs_dim) = (${T + 1}, obs_dim), T = ${T} actions`,
      });
    }
    for (const key of ['rewards', 'terminations', 'truncations']) {
      const s = g.get(key) instanceof Dataset ? (g.get(key) as Dataset).shape : null;
      if (s === null || s[0] !== T || !(s.length === 1 || (s.length === 2 && s[1] === 1))) {
        throw new DatasetError({
          code: 'shape',
          file,
          field: `${name}/${key}`,
          detail: `has shape ${JSON.stringify(s)}; expected (${T},) or (${T}, 1), T = ${T} actions`,
        });
      }
    }
    const check = (w: number, want: number | undefined, field: string, kind: string, source: string): number => {
      if (want !== undefined && w !== want) {
        throw new DatasetError({ code: 'shape', file, field, detail: `has width ${w}; expected ${kind} size ${want} (${source})` });
      }
      return w;
    };
    if (O === undefined) obsSource = `as in ${name}`;
    if (A === undefined) actSource = `as in ${name}`;
    O = check(os[1], O, `${name}/observations`, 'observation', obsSource);
    A = check(as[1], A, `${name}/actions`, 'action', actSource);
    if (T === 0) {
      warnings.push(`${name} has no steps; skipped`);
      continue;
    }
    episodes.push({ name, T, obs, act, rew, term });
    total += T;
  }
  if (total === 0 || O === undefined || A === undefined) {
    throw new DatasetError({ code: 'empty', file, detail: 'holds no steps; expected at least one episode with T >= 1' });
  }

  const observations = new Float32Array(total * O);
  const nextObservations = new Float32Array(total * O);
  const actions = new Float32Array(total * A);
  const rewards = new Float32Array(total);
  const terminals = new Float32Array(total);
  let at = 0;
  for (const ep of episodes) {
    const { name, T } = ep;
    const obs = readRows(file, `${name}/observations`, ep.obs, T + 1, O, new Float32Array((T + 1) * O));
    throwIf(findNonFinite(file, `${name}/observations`, obs, O));
    const act = readRows(file, `${name}/actions`, ep.act, T, A, new Float32Array(T * A));
    throwIf(findNonFinite(file, `${name}/actions`, act, A));
    const rew = readRows(file, `${name}/rewards`, ep.rew, T, 1, new Float32Array(T));
    throwIf(findNonFinite(file, `${name}/rewards`, rew, 1));
    const term = readRows(file, `${name}/terminations`, ep.term, T, 1, new Uint8Array(T));
    observations.set(obs.subarray(0, T * O), at * O);
    nextObservations.set(obs.subarray(O), at * O);
    actions.set(act, at * A);
    rewards.set(rew, at);
    for (let t = 0; t < T; t++) terminals[at + t] = term[t];
    at += T;
  }
  const sourceIndex = new Uint32Array(total);
  for (let i = 0; i < total; i++) sourceIndex[i] = i;
  return {
    file,
    episodes: episodes.length,
    warnings,
    N: total,
    observationSize: O,
    actionSize: A,
    observations,
    actions,
    nextObservations,
    rewards,
    terminals,
    sourceIndex,
  };
}

function throwIf(err: DatasetError | undefined): void {
  if (err) throw err;
}
