/**
 * Reading D4RL-layout HDF5 dataset files, and D4RL's `qlearning_dataset` transform.
 *
 * Layout (docs/reference.md §3; d4rl/offline_env.py `OfflineEnv.get_dataset`): top-level datasets
 * `observations` (N x obs, float32), `actions` (N x act, float32), `rewards` (N or N x 1),
 * `terminals` (N or N x 1, bool), `timeouts` (N, bool; only in v1+ files), `next_observations`
 * (N x obs; v2 files), groups `infos/` (`qpos`, `qvel`, ...) and `metadata/` (scalar datasets such as
 * `metadata/algorithm`, plus policy weights). The checks below follow `get_dataset`'s asserts
 * (required keys; obs/action widths equal to the env's spaces; rewards and terminals (N,) or
 * (N, 1), squeezed) and add ones d4rl leaves to numpy (row counts agree, values finite).
 *
 * All arrays are row-major and flat: row i of `observations` is
 * `observations.subarray(i * observationSize, (i + 1) * observationSize)`.
 */
import { checkWidth, readFiniteRows } from './checked-rows.js';
import { DatasetError } from './errors.js';
import { D4RL_MAX_EPISODE_STEPS } from '../registry.js';
import { envDims } from './env-dims.js';
import {
  Dataset,
  Group,
  H5File,
  H5T,
  describeDtype,
  getEntity,
  isNumericType,
  openH5ForRead,
  readRows,
} from './h5.js';
import type { QLearningDataset } from './qlearning-dataset.js';

export { readMinariDataset, type ReadMinariOptions, type MinariTransitions } from './minari.js';

export interface ReadD4rlOptions {
  /**
   * Environment id the data belongs to (any registry id: `hopper-medium-v2`, `Hopper-v3`, ...).
   * For simulated locomotion tasks the observation/action widths are checked against it.
   */
  envId?: string;
  /** Expected observation width (overrides the one implied by `envId`). */
  observationSize?: number;
  /** Expected action width (overrides the one implied by `envId`). */
  actionSize?: number;
  /** Load `next_observations` when the file has it (default true). */
  nextObservations?: boolean;
  /** Load `infos/qpos` and `infos/qvel` when the file has them (default true). */
  infos?: boolean;
}

export type MetadataValue = string | number | bigint;

export interface D4rlDataset {
  /** Absolute path of the file read. */
  file: string;
  /** Number of rows (steps) in the file. */
  N: number;
  observationSize: number;
  actionSize: number;
  /** N x observationSize. */
  observations: Float32Array;
  /** N x actionSize. */
  actions: Float32Array;
  /** N (an N x 1 dataset is squeezed, as d4rl does). */
  rewards: Float32Array;
  /** N, 0/1. */
  terminals: Uint8Array;
  /** N, 0/1; all zero when the file has no `timeouts` (see `hasTimeouts`). */
  timeouts: Uint8Array;
  /** Whether the file had a `timeouts` dataset (pre-v1 D4RL files do not). */
  hasTimeouts: boolean;
  /** N x observationSize, when the file has `next_observations` (and loading it was not turned off). */
  nextObservations?: Float32Array;
  /** `infos/qpos` (N x qposSize) and `infos/qvel` (N x qvelSize) as float64, when present. */
  infos: { qpos?: Float64Array; qposSize?: number; qvel?: Float64Array; qvelSize?: number };
  /**
   * Cheap metadata: scalar datasets under `metadata/` (keyed by their path below it, e.g.
   * `algorithm`, `iteration`, `policy/nonlinearity`; arrays such as policy weights are skipped),
   * and attributes of the root and `metadata` groups (keyed `@name` and `metadata/@name`).
   */
  metadata: Record<string, MetadataValue>;
  /** Element type of each dataset read, e.g. `{ observations: 'float32', terminals: 'bool (h5py enum int8)' }`. */
  dtypes: Record<string, string>;
  /** Things a caller should know (missing `timeouts`, unchecked widths, ...). */
  warnings: string[];
}

/** Read and validate a D4RL-layout HDF5 file. Throws `DatasetError` (naming file and field) when unusable. */
export async function readD4rlFile(path: string, options: ReadD4rlOptions = {}): Promise<D4rlDataset> {
  const { file, h5 } = await openH5ForRead(path);
  try {
    return readOpen(file, h5, options);
  } finally {
    h5.close();
  }
}

/** The datasets of a D4RL file: the four required ones, and the optional ones (null when absent or not wanted). */
interface D4rlDatasets {
  observations: Dataset;
  actions: Dataset;
  rewards: Dataset;
  terminals: Dataset;
  timeouts: Dataset | null;
  nextObservations: Dataset | null;
  qpos: Dataset | null;
  qvel: Dataset | null;
}

/** The row count and widths, all checked before anything large is read. */
interface D4rlShape {
  N: number;
  observationSize: number;
  actionSize: number;
  qposSize?: number;
  qvelSize?: number;
}

type ExpectedDims = ReturnType<typeof expectedDims>;

function readOpen(file: string, h5: H5File, options: ReadD4rlOptions): D4rlDataset {
  const warnings: string[] = [];
  const dtypes: Record<string, string> = {};
  const expected = expectedDims(options, warnings);
  const ds = findDatasets(file, h5, options, dtypes);
  const shape = checkShapes(file, ds, expected);
  const { N, observationSize, actionSize } = shape;
  const observations = readFiniteRows(file, 'observations', ds.observations, N, observationSize);
  const actions = readFiniteRows(file, 'actions', ds.actions, N, actionSize);
  const rewards = readFiniteRows(file, 'rewards', ds.rewards, N, 1);
  const terminals = readRows(file, 'terminals', ds.terminals, N, 1, new Uint8Array(N));
  const timeouts = readTimeouts(file, ds.timeouts, N, warnings);
  const nextObservations = ds.nextObservations ? readFiniteRows(file, 'next_observations', ds.nextObservations, N, observationSize) : undefined;
  return {
    file,
    N,
    observationSize,
    actionSize,
    observations,
    actions,
    rewards,
    terminals,
    timeouts,
    hasTimeouts: ds.timeouts !== null,
    nextObservations,
    infos: readInfos(file, ds, shape),
    metadata: readMetadata(h5),
    dtypes,
    warnings,
  };
}

function findDatasets(file: string, h5: H5File, options: ReadD4rlOptions, dtypes: Record<string, string>): D4rlDatasets {
  const topKeys = h5.keys();
  const required = (field: string, what: string): Dataset => {
    const ds = numericDataset(file, h5, field, dtypes);
    if (ds === null) {
      throw new DatasetError({
        code: 'missing-key',
        file,
        field,
        detail: `missing required dataset; expected ${what} (D4RL layout). Top-level keys found: ${topKeys.length ? topKeys.join(', ') : '(none)'}`,
      });
    }
    return ds;
  };
  const optional = (field: string, wanted = true) => (wanted ? numericDataset(file, h5, field, dtypes) : null);
  const wantInfos = options.infos ?? true;
  return {
    observations: required('observations', 'observations (N x obs_dim float32)'),
    actions: required('actions', 'actions (N x act_dim float32)'),
    rewards: required('rewards', 'rewards (N or N x 1 float32)'),
    terminals: required('terminals', 'terminals (N bool)'),
    timeouts: optional('timeouts'),
    nextObservations: optional('next_observations', options.nextObservations ?? true),
    qpos: optional('infos/qpos', wantInfos),
    qvel: optional('infos/qvel', wantInfos),
  };
}

function checkShapes(file: string, ds: D4rlDatasets, expected: ExpectedDims): D4rlShape {
  const [N, observationSize] = matrixShape(file, 'observations', ds.observations, 'N x obs_dim');
  if (N === 0) {
    throw new DatasetError({ code: 'empty', file, field: 'observations', detail: 'has 0 rows; expected at least one step' });
  }
  checkWidth(file, 'observations', observationSize, expected.observationSize, expected.source, 'observation');
  const actionSize = infoWidth(file, 'actions', ds.actions, 'N x act_dim', N);
  checkWidth(file, 'actions', actionSize, expected.actionSize, expected.source, 'action');
  vectorShape(file, 'rewards', ds.rewards, N);
  vectorShape(file, 'terminals', ds.terminals, N);
  if (ds.timeouts) vectorShape(file, 'timeouts', ds.timeouts, N);
  if (ds.nextObservations) checkNextShape(file, ds.nextObservations, N, observationSize);
  const qposSize = ds.qpos ? infoWidth(file, 'infos/qpos', ds.qpos, 'N x nq', N) : undefined;
  const qvelSize = ds.qvel ? infoWidth(file, 'infos/qvel', ds.qvel, 'N x nv', N) : undefined;
  return { N, observationSize, actionSize, qposSize, qvelSize };
}

/** The width of a rank-2 dataset with N rows. */
function infoWidth(file: string, field: string, ds: Dataset, what: string, N: number): number {
  const [rows, width] = matrixShape(file, field, ds, what);
  checkRows(file, field, rows, N);
  return width;
}

function checkNextShape(file: string, ds: Dataset, N: number, observationSize: number): void {
  const width = infoWidth(file, 'next_observations', ds, 'N x obs_dim', N);
  if (width !== observationSize) {
    throw new DatasetError({
      code: 'shape',
      file,
      field: 'next_observations',
      detail: `has width ${width}; expected ${observationSize}, the width of observations`,
    });
  }
}

/** The file's timeouts, or all zero with a warning for a pre-v1 file that has none. */
function readTimeouts(file: string, ds: Dataset | null, N: number, warnings: string[]): Uint8Array {
  if (ds) return readRows(file, 'timeouts', ds, N, 1, new Uint8Array(N));
  warnings.push(
    `no 'timeouts' dataset (pre-v1 D4RL file): timeouts are all zero; qlearningDataset then cuts episodes ` +
      `every maxEpisodeSteps (${D4RL_MAX_EPISODE_STEPS}) kept steps, as d4rl.qlearning_dataset does for such files`,
  );
  return new Uint8Array(N);
}

function readInfos(file: string, ds: D4rlDatasets, { N, qposSize, qvelSize }: D4rlShape): D4rlDataset['infos'] {
  const infos: D4rlDataset['infos'] = {};
  if (ds.qpos && qposSize !== undefined) {
    infos.qpos = readRows(file, 'infos/qpos', ds.qpos, N, qposSize, new Float64Array(N * qposSize));
    infos.qposSize = qposSize;
  }
  if (ds.qvel && qvelSize !== undefined) {
    infos.qvel = readRows(file, 'infos/qvel', ds.qvel, N, qvelSize, new Float64Array(N * qvelSize));
    infos.qvelSize = qvelSize;
  }
  return infos;
}

function expectedDims(
  options: ReadD4rlOptions,
  warnings: string[],
): { observationSize?: number; actionSize?: number; source: string } {
  let obs = options.observationSize;
  let act = options.actionSize;
  let source = 'as requested';
  if (options.envId !== undefined) {
    const dims = envDims(options.envId);
    if (dims) {
      if (obs === undefined && act === undefined) source = `for ${options.envId}`;
      obs ??= dims.observationSize;
      act ??= dims.actionSize;
    } else if (obs === undefined || act === undefined) {
      warnings.push(`no observation/action sizes known for ${options.envId}: widths taken from the file unchecked`);
    }
  }
  return { observationSize: obs, actionSize: act, source };
}

/** The dataset at `field` if present (null if absent); a group or non-numeric type there is an error. */
function numericDataset(file: string, h5: H5File, field: string, dtypes: Record<string, string>): Dataset | null {
  const ent = getEntity(h5, field);
  if (ent === null) return null;
  if (ent instanceof Group) {
    throw new DatasetError({ code: 'dtype', file, field, detail: 'is a group; expected a numeric dataset' });
  }
  const meta = ent.metadata;
  dtypes[field] = describeDtype(meta);
  if (!isNumericType(meta)) {
    throw new DatasetError({ code: 'dtype', file, field, detail: `has element type ${describeDtype(meta)}; expected numbers` });
  }
  return ent;
}

function fmtShape(shape: readonly number[] | null): string {
  return shape === null ? 'null (no dataspace)' : `(${shape.join(', ')})`;
}

/** [rows, width] of a rank-2 dataset. */
function matrixShape(file: string, field: string, ds: Dataset, what: string): [number, number] {
  const shape = ds.shape;
  if (shape === null || shape.length !== 2) {
    throw new DatasetError({ code: 'shape', file, field, detail: `has shape ${fmtShape(shape)}; expected 2-D ${what}` });
  }
  return [shape[0], shape[1]];
}

/** A per-step vector: (N,) or (N, 1). */
function vectorShape(file: string, field: string, ds: Dataset, N: number): void {
  const shape = ds.shape;
  const ok = shape !== null && shape[0] === N && (shape.length === 1 || (shape.length === 2 && shape[1] === 1));
  if (!ok) {
    throw new DatasetError({
      code: 'shape',
      file,
      field,
      detail: `has shape ${fmtShape(shape)}; expected (${N},) or (${N}, 1), N = ${N} being the row count of observations`,
    });
  }
}

function checkRows(file: string, field: string, rows: number, N: number): void {
  if (rows !== N) {
    throw new DatasetError({
      code: 'shape',
      file,
      field,
      detail: `has ${rows} rows; expected ${N}, the row count of observations`,
    });
  }
}

function metadataValue(v: unknown): MetadataValue | undefined {
  if (typeof v === 'string' || typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v;
  if (ArrayBuffer.isView(v) && (v as unknown as ArrayLike<unknown>).length === 1) {
    return metadataValue((v as unknown as ArrayLike<unknown>)[0]);
  }
  if (Array.isArray(v) && v.length === 1) return metadataValue(v[0]);
  return undefined;
}

function readAttrs(obj: Group, prefix: string, out: Record<string, MetadataValue>): void {
  let attrs: Record<string, { value: unknown }>;
  try {
    attrs = obj.attrs as unknown as Record<string, { value: unknown }>;
  } catch {
    return;
  }
  for (const name of Object.keys(attrs)) {
    try {
      const v = metadataValue(attrs[name].value);
      if (v !== undefined) out[`${prefix}@${name}`] = v;
    } catch {
      // unreadable attribute types are skipped: metadata is best effort
    }
  }
}

/** Scalar datasets under metadata/ (depth <= 4) and root / metadata attributes. Never throws. */
function readMetadata(h5: H5File): Record<string, MetadataValue> {
  const out: Record<string, MetadataValue> = {};
  readAttrs(h5, '', out);
  const meta = getEntity(h5, 'metadata');
  if (!(meta instanceof Group)) return out;
  readAttrs(meta, 'metadata/', out);
  const walk = (g: Group, prefix: string, depth: number): void => {
    for (const key of g.keys()) {
      let ent: unknown;
      try {
        ent = g.get(key);
      } catch {
        continue;
      }
      if (ent instanceof Group) {
        if (depth < 4) walk(ent, `${prefix}${key}/`, depth + 1);
      } else if (ent instanceof Dataset) {
        try {
          const m = ent.metadata;
          const n = (m.shape ?? []).reduce((a, b) => a * b, 1);
          if (n !== 1 || m.type === H5T.COMPOUND) continue;
          const v = metadataValue(ent.value);
          if (v !== undefined) out[`${prefix}${key}`] = v;
        } catch {
          // skip
        }
      }
    }
  };
  walk(meta, '', 0);
  return out;
}

// ---------------------------------------------------------------------------------------------
// qlearning_dataset
// ---------------------------------------------------------------------------------------------

/** What `qlearningDataset` needs: a `D4rlDataset` or anything shaped like one. */
export interface QLearningSource {
  observationSize: number;
  actionSize: number;
  observations: ArrayLike<number>;
  actions: ArrayLike<number>;
  rewards: ArrayLike<number>;
  terminals: ArrayLike<number>;
  timeouts?: ArrayLike<number>;
  /** Whether `timeouts` came from the file (default: `timeouts !== undefined`). */
  hasTimeouts?: boolean;
}

export interface QLearningOptions {
  /**
   * d4rl's `terminate_on_end`: keep the step on which an episode is cut (timeout) instead of
   * dropping it. As in d4rl's code, its done flag stays `terminals[i]` (the docstring's "Set
   * done=True on the last timestep" is not what the loop does). Default false.
   */
  terminateOnEnd?: boolean;
  /**
   * d4rl's `env._max_episode_steps`, used only when the data has no timeouts (default 1000, the
   * locomotion envs' limit).
   */
  maxEpisodeSteps?: number;
}

export type { QLearningDataset } from './qlearning-dataset.js';

/**
 * D4RL's `qlearning_dataset` (d4rl/__init__.py), step for step:
 * - Rows i = 0 .. N-2 are candidates (the last row never becomes a transition: it has no i+1).
 * - next observation = `observations[i + 1]`. d4rl ignores the file's `next_observations` here,
 *   even in v2 files that have it, and so does this function.
 * - With timeouts (`'timeouts' in dataset`): a row with `timeouts[i]` set is a cut, not a
 *   termination; it is dropped (its i+1 is the next episode's first observation) unless
 *   `terminateOnEnd`, and is never marked terminal. A row with both timeout and terminal set is
 *   dropped too.
 * - Without timeouts (old files): the cut is `episode_step == max_episode_steps - 1`, where d4rl's
 *   `episode_step` counts kept transitions and is reset to 0 on a cut and on a terminal; a kept
 *   terminal row then still increments it, so after a terminal the next episode starts counting
 *   at 1 and is cut one step early. This quirk is reproduced exactly.
 * - done = `terminals[i]`.
 */
export function qlearningDataset(ds: QLearningSource, options: QLearningOptions = {}): QLearningDataset {
  const terminateOnEnd = options.terminateOnEnd ?? false;
  const maxSteps = options.maxEpisodeSteps ?? D4RL_MAX_EPISODE_STEPS;
  const N = ds.rewards.length;
  const useTimeouts = ds.hasTimeouts ?? ds.timeouts !== undefined;
  if (useTimeouts && (ds.timeouts === undefined || ds.timeouts.length !== N)) {
    throw new Error(`qlearningDataset: timeouts has length ${ds.timeouts?.length ?? 'undefined'}, expected ${N}`);
  }
  const O = ds.observationSize;
  const A = ds.actionSize;
  if (ds.observations.length !== N * O || ds.actions.length !== N * A || ds.terminals.length !== N) {
    throw new Error(
      `qlearningDataset: inconsistent lengths (N=${N} rewards, observations ${ds.observations.length} != N*${O}, ` +
        `actions ${ds.actions.length} != N*${A}, or terminals ${ds.terminals.length} != N)`,
    );
  }

  const keep = new Uint32Array(Math.max(0, N - 1));
  let k = 0;
  let episodeStep = 0;
  for (let i = 0; i < N - 1; i++) {
    const done = ds.terminals[i] !== 0;
    const finalTimestep = useTimeouts ? ds.timeouts![i] !== 0 : episodeStep === maxSteps - 1;
    if (!terminateOnEnd && finalTimestep) {
      episodeStep = 0;
      continue;
    }
    if (done || finalTimestep) episodeStep = 0;
    keep[k++] = i;
    episodeStep += 1;
  }

  const observations = new Float32Array(k * O);
  const nextObservations = new Float32Array(k * O);
  const actions = new Float32Array(k * A);
  const rewards = new Float32Array(k);
  const terminals = new Float32Array(k);
  // Copy maximal runs of consecutive kept rows in one go (most rows are kept).
  const copyRows = (src: ArrayLike<number>, from: number, rowsN: number, w: number, dst: Float32Array, at: number): void => {
    if (ArrayBuffer.isView(src)) {
      dst.set((src as unknown as Float32Array).subarray(from * w, (from + rowsN) * w), at * w);
    } else {
      for (let j = 0; j < rowsN * w; j++) dst[at * w + j] = src[from * w + j];
    }
  };
  for (let t = 0; t < k; ) {
    let e = t + 1;
    while (e < k && keep[e] === keep[e - 1] + 1) e++;
    const i = keep[t];
    const len = e - t;
    copyRows(ds.observations, i, len, O, observations, t);
    copyRows(ds.observations, i + 1, len, O, nextObservations, t);
    copyRows(ds.actions, i, len, A, actions, t);
    for (let j = 0; j < len; j++) {
      rewards[t + j] = ds.rewards[i + j];
      terminals[t + j] = ds.terminals[i + j] !== 0 ? 1 : 0;
    }
    t = e;
  }
  return {
    N: k,
    observationSize: O,
    actionSize: A,
    observations,
    actions,
    nextObservations,
    rewards,
    terminals,
    sourceIndex: keep.slice(0, k),
  };
}
