/**
 * Writing D4RL-layout HDF5 files (the layout `readD4rlFile` and d4rl's `get_dataset` read):
 *
 * | dataset | shape | type |
 * |---|---|---|
 * | `observations` | N x obs | float32 |
 * | `actions` | N x act | float32 |
 * | `rewards` | N | float32 |
 * | `terminals`, `timeouts` | N | numpy bool as h5py stores it: HDF5 enum int8 {FALSE=0, TRUE=1} (default), or uint8 |
 * | `next_observations` (optional) | N x obs | float32 |
 * | `infos/qpos`, `infos/qvel` (optional) | N x nq, N x nv | float64 (default) or float32 |
 * | `metadata/<key>` | scalar | fixed-length ASCII string / int64 / float64 |
 *
 * Booleans: h5py writes numpy bool as an HDF5 enum over int8 with members FALSE=0, TRUE=1 and
 * reads that enum back as `bool` (h5py/h5t.pyx `_c_bool`, `TypeEnumID.py_dtype`). h5wasm cannot
 * create enum types, so files start from a tiny template holding the two enum datasets (see
 * `h5py-bool-template.ts`). With `boolDtype: 'uint8'` they are plain uint8 instead: h5py then
 * reads uint8 0/1, which d4rl accepts (`bool(terminals[i])`, `timeouts[i]` truthiness), but numpy
 * code that indexes with them (`obs[dataset['timeouts']]`) or negates them (`~timeouts`) would
 * silently misbehave, hence the enum default.
 *
 * Every dataset is chunked and extendible along rows, so rows can be appended episode by episode
 * (`D4rlWriter`), and nothing larger than one staging block (<= 32 MiB) passes through the WASM
 * heap at a time. `writeD4rlFile` is the whole-array form.
 *
 * Atomicity: everything is written to a hidden temp file in the target's directory
 * (`.<name>.<pid>.<random>.tmp`), which is renamed over the target only after HDF5 has closed it;
 * on any error the temp file is removed and the target is untouched.
 */
import { sha256Hex } from '../hash.js';
import { randomBytes } from 'node:crypto';
import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { DatasetError, findNonFinite } from './errors.js';
import { packageVersion } from '../package-version.js';
import type { D4rlDataset, MetadataValue } from './d4rl-hdf5.js';
import { Dataset, Group, H5File, errorText, h5Ready, writeRowsRaw } from './h5.js';
import { H5PY_BOOL_TEMPLATE_SHA256, h5pyBoolTemplate } from './h5py-bool-template.js';

export type BoolDtype = 'h5py-bool' | 'uint8';

export interface D4rlWriterOptions {
  observationSize: number;
  actionSize: number;
  /** Write `next_observations`; every append must then carry them. Default false. */
  nextObservations?: boolean;
  /** Write `infos/qpos` with this many columns; every append must then carry `qpos`. */
  qposSize?: number;
  /** Write `infos/qvel` with this many columns; every append must then carry `qvel`. */
  qvelSize?: number;
  /** Element type of `infos/qpos`, `infos/qvel`: float64 (default, MuJoCo's own) or float32 (as in D4RL's files). */
  infosDtype?: 'float32' | 'float64';
  /**
   * Scalars for `metadata/` (e.g. `{ algorithm: 'OFQL', policy: 'ckpt.json', seed: 0 }`; a key with
   * slashes makes subgroups, `policy/nonlinearity` -> `metadata/policy/nonlinearity`). A key
   * `@name` becomes an attribute of the root group, `metadata/@name` one of `metadata`.
   * `ofql_eval_version` is added unless given.
   */
  metadata?: Record<string, MetadataValue>;
  /** How `terminals`/`timeouts` are stored (default 'h5py-bool'; see the module comment). */
  boolDtype?: BoolDtype;
  /** Replace an existing file at the path (default true). */
  overwrite?: boolean;
  /** Expected number of rows, if known: keeps chunks and staging no larger than needed for small files. */
  expectedRows?: number;
}

/** Rows to append: flat row-major arrays; the row count is `rewards.length`. */
export interface D4rlRows {
  observations: ArrayLike<number>;
  actions: ArrayLike<number>;
  rewards: ArrayLike<number>;
  terminals: ArrayLike<number | boolean>;
  timeouts: ArrayLike<number | boolean>;
  nextObservations?: ArrayLike<number>;
  qpos?: ArrayLike<number>;
  qvel?: ArrayLike<number>;
}

/** Rows of a read file as typed-array views. */
export interface LeadingRows extends Required<D4rlRows> {
  observations: Float32Array;
  actions: Float32Array;
  rewards: Float32Array;
  terminals: Uint8Array;
  timeouts: Uint8Array;
  nextObservations: Float32Array;
  qpos: Float64Array;
  qvel: Float64Array;
}

/**
 * The first `rows` rows of a file readD4rlFile read (with next_observations and infos/qpos,
 * infos/qvel, as a replay history has), ready to append to another file; views, not copies.
 */
export function leadingRows(d: D4rlDataset, rows: number): LeadingRows {
  const { qpos, qvel, qposSize: P, qvelSize: V } = d.infos;
  if (d.N < rows || !d.nextObservations || !qpos || !qvel || !P || !V) {
    throw new DatasetError({ code: 'write', file: d.file, detail: `expected ${rows} rows with next_observations and infos/qpos, infos/qvel (a replay history), got ${d.N}` });
  }
  const O = d.observationSize;
  const A = d.actionSize;
  return {
    observations: d.observations.subarray(0, rows * O),
    actions: d.actions.subarray(0, rows * A),
    rewards: d.rewards.subarray(0, rows),
    terminals: d.terminals.subarray(0, rows),
    timeouts: d.timeouts.subarray(0, rows),
    nextObservations: d.nextObservations.subarray(0, rows * O),
    qpos: qpos.subarray(0, rows * P),
    qvel: qvel.subarray(0, rows * V),
  };
}

type Kind = 'f32' | 'f64' | 'bool';

interface Column {
  /** HDF5 path without leading slash. */
  path: string;
  /** Values per row; 0 for a 1-D dataset. */
  width: number;
  kind: Kind;
  /** Input field in D4rlRows. */
  input: keyof D4rlRows;
  /** Reject NaN / Inf. */
  finite: boolean;
  stage: Float32Array | Float64Array | Int8Array | Uint8Array;
}

const CHUNK_BYTES = 1 << 20;
const STAGE_BYTES = 32 << 20;
const MAX_CHUNK_ROWS = 16384;

/**
 * Incremental writer: `create`, `append` rows (any number at a time, e.g. one episode), `close`.
 *
 * ```ts
 * const w = await D4rlWriter.create('hopper-ofql.hdf5', { observationSize: 11, actionSize: 3,
 *   nextObservations: true, metadata: { algorithm: 'OFQL', seed: 0 } });
 * for (const ep of episodes) w.append(ep);
 * await w.close();
 * ```
 */
export class D4rlWriter {
  readonly path: string;
  readonly tempPath: string;
  readonly options: Readonly<D4rlWriterOptions>;
  private h5: H5File | undefined;
  private readonly columns: Column[];
  private readonly stageRows: number;
  private staged = 0;
  private written = 0;
  private readonly metadata: Record<string, MetadataValue>;

  private constructor(path: string, tempPath: string, h5: H5File, options: D4rlWriterOptions, columns: Column[], stageRows: number) {
    this.path = path;
    this.tempPath = tempPath;
    this.options = options;
    this.h5 = h5;
    this.columns = columns;
    this.stageRows = stageRows;
    this.metadata = { ...(options.metadata ?? {}) };
  }

  /** Open a writer for `path` (the file appears there only on `close`). */
  static async create(path: string, options: D4rlWriterOptions): Promise<D4rlWriter> {
    const target = resolve(path);
    const fail = (detail: string, cause?: unknown): DatasetError =>
      new DatasetError({ code: 'write', file: target, detail }, cause === undefined ? undefined : { cause });
    for (const [k, v] of [
      ['observationSize', options.observationSize],
      ['actionSize', options.actionSize],
      ['qposSize', options.qposSize ?? 1],
      ['qvelSize', options.qvelSize ?? 1],
    ] as const) {
      if (!Number.isInteger(v) || v < 1) throw fail(`option ${k} must be a positive integer, got ${v}`);
    }
    if ((options.overwrite ?? true) === false && existsSync(target)) throw fail('file exists and overwrite is false');
    if (!existsSync(dirname(target))) throw fail(`directory ${dirname(target)} does not exist`);

    const boolDtype = options.boolDtype ?? 'h5py-bool';
    const infosKind: Kind = (options.infosDtype ?? 'float64') === 'float32' ? 'f32' : 'f64';
    const specs: Array<Omit<Column, 'stage'>> = [
      { path: 'observations', width: options.observationSize, kind: 'f32', input: 'observations', finite: true },
      { path: 'actions', width: options.actionSize, kind: 'f32', input: 'actions', finite: true },
      { path: 'rewards', width: 0, kind: 'f32', input: 'rewards', finite: true },
      { path: 'terminals', width: 0, kind: 'bool', input: 'terminals', finite: false },
      { path: 'timeouts', width: 0, kind: 'bool', input: 'timeouts', finite: false },
    ];
    if (options.nextObservations) {
      specs.push({ path: 'next_observations', width: options.observationSize, kind: 'f32', input: 'nextObservations', finite: true });
    }
    if (options.qposSize !== undefined) specs.push({ path: 'infos/qpos', width: options.qposSize, kind: infosKind, input: 'qpos', finite: true });
    if (options.qvelSize !== undefined) specs.push({ path: 'infos/qvel', width: options.qvelSize, kind: infosKind, input: 'qvel', finite: true });

    const bytesPerRow = specs.reduce((s, c) => s + Math.max(1, c.width) * (c.kind === 'f64' ? 8 : c.kind === 'f32' ? 4 : 1), 0);
    const expected = options.expectedRows !== undefined && options.expectedRows > 0 ? options.expectedRows : Infinity;
    const stageRows = Math.max(1, Math.min(65536, Math.floor(STAGE_BYTES / bytesPerRow), expected));

    const tempPath = join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    await h5Ready();
    let h5: H5File | undefined;
    try {
      if (boolDtype === 'h5py-bool') {
        const tmpl = h5pyBoolTemplate();
        const sha = sha256Hex(tmpl);
        if (sha !== H5PY_BOOL_TEMPLATE_SHA256) throw new Error(`bool template corrupt (sha256 ${sha})`);
        writeFileSync(tempPath, tmpl, { flag: 'wx' });
        h5 = new H5File(tempPath, 'a');
      } else {
        h5 = new H5File(tempPath, 'x');
      }
      if (h5.file_id < 0n) throw new Error('HDF5 could not create the temp file');
      if (specs.some((c) => c.path.startsWith('infos/'))) h5.create_group('infos');
      for (const c of specs) {
        if (c.kind === 'bool' && boolDtype === 'h5py-bool') continue; // already in the template
        const w = Math.max(1, c.width);
        const itemBytes = c.kind === 'f64' ? 8 : c.kind === 'f32' ? 4 : 1;
        const chunkRows = Math.max(1, Math.min(MAX_CHUNK_ROWS, Math.floor(CHUNK_BYTES / (w * itemBytes)), expected));
        const dtype = c.kind === 'f64' ? '<d' : c.kind === 'f32' ? '<f' : '<B';
        const empty = c.kind === 'f64' ? new Float64Array(0) : c.kind === 'f32' ? new Float32Array(0) : new Uint8Array(0);
        const slash = c.path.lastIndexOf('/');
        const parent = slash < 0 ? h5 : (h5.get(c.path.slice(0, slash)) as Group);
        parent.create_dataset({
          name: c.path.slice(slash + 1),
          data: empty,
          shape: c.width > 0 ? [0, c.width] : [0],
          maxshape: c.width > 0 ? [null, c.width] : [null],
          chunks: c.width > 0 ? [chunkRows, c.width] : [chunkRows],
          dtype,
        });
      }
    } catch (err) {
      try {
        h5?.close();
      } catch {
        // ignore
      }
      rmSync(tempPath, { force: true });
      throw err instanceof DatasetError ? err : fail(`could not create the file: ${errorText(err)}`, err);
    }
    // (The template's bool datasets keep their fixed 16384-row chunks.)
    const columns: Column[] = specs.map((c) => ({
      ...c,
      stage:
        c.kind === 'f64'
          ? new Float64Array(stageRows * Math.max(1, c.width))
          : c.kind === 'f32'
            ? new Float32Array(stageRows * Math.max(1, c.width))
            : boolDtype === 'h5py-bool'
              ? new Int8Array(stageRows)
              : new Uint8Array(stageRows),
    }));
    return new D4rlWriter(target, tempPath, h5, options, columns, stageRows);
  }

  /** Rows appended so far. */
  get rows(): number {
    return this.written + this.staged;
  }

  /** Set (or replace) a metadata entry before `close` (same keys as `options.metadata`). */
  setMetadata(key: string, value: MetadataValue): void {
    this.metadata[key] = value;
  }

  /**
   * Append rows. All fields are validated first (lengths, finiteness of observations, actions,
   * rewards, next observations, qpos, qvel), so a rejected append leaves the writer unchanged and
   * still usable. Errors name the target file, the field and the (global) row.
   */
  append(rows: D4rlRows): void {
    this.openFile();
    const n = rows.rewards.length;
    for (const c of this.columns) {
      const src = rows[c.input] as ArrayLike<number | boolean> | undefined;
      const w = Math.max(1, c.width);
      if (src === undefined) {
        throw new DatasetError({ code: 'write', file: this.path, field: c.path, detail: `missing from append (this writer writes ${c.path})` });
      }
      if (src.length !== n * w) {
        throw new DatasetError({
          code: 'shape',
          file: this.path,
          field: c.path,
          detail: `append got ${src.length} values; expected ${n} rows x ${w} = ${n * w} (rows = rewards.length)`,
        });
      }
      if (c.finite) {
        const bad = findNonFinite(this.path, c.path, src as ArrayLike<number>, c.width, this.rows);
        if (bad) throw bad;
      }
    }
    for (const key of ['nextObservations', 'qpos', 'qvel'] as const) {
      if (rows[key] !== undefined && !this.columns.some((c) => c.input === key)) {
        throw new DatasetError({
          code: 'write',
          file: this.path,
          field: key === 'nextObservations' ? 'next_observations' : `infos/${key}`,
          detail: `given to append but not enabled in the writer options`,
        });
      }
    }
    let done = 0;
    while (done < n) {
      const m = Math.min(n - done, this.stageRows - this.staged);
      for (const c of this.columns) {
        const w = Math.max(1, c.width);
        const src = rows[c.input] as ArrayLike<number | boolean>;
        const at = this.staged * w;
        const from = done * w;
        const len = m * w;
        if (c.kind === 'bool') {
          for (let j = 0; j < len; j++) c.stage[at + j] = src[from + j] ? 1 : 0;
        } else if (ArrayBuffer.isView(src)) {
          (c.stage as Float32Array).set((src as unknown as Float32Array).subarray(from, from + len), at);
        } else {
          for (let j = 0; j < len; j++) c.stage[at + j] = src[from + j] as number;
        }
      }
      this.staged += m;
      done += m;
      if (this.staged === this.stageRows) this.flush();
    }
  }

  /** Flush, write metadata, close and rename into place. Returns the final path and row count. */
  async close(): Promise<{ path: string; rows: number }> {
    const h5 = this.openFile();
    try {
      if (this.rows === 0) {
        throw new DatasetError({ code: 'write', file: this.path, detail: 'no rows were appended; refusing to write an empty dataset' });
      }
      this.flush();
      this.writeMetadata(h5);
      const status = h5.close();
      this.h5 = undefined;
      if (typeof status === 'number' && status < 0) throw new Error(`HDF5 close failed (status ${status})`);
      if ((this.options.overwrite ?? true) === false && existsSync(this.path)) {
        throw new DatasetError({ code: 'write', file: this.path, detail: 'file appeared meanwhile and overwrite is false' });
      }
      renameSync(this.tempPath, this.path);
      return { path: this.path, rows: this.written };
    } catch (err) {
      this.abort();
      throw err instanceof DatasetError ? err : new DatasetError({ code: 'write', file: this.path, detail: errorText(err) }, { cause: err });
    }
  }

  /** Discard everything: close the temp file and delete it. Safe to call more than once. */
  abort(): void {
    if (this.h5) {
      try {
        this.h5.close();
      } catch {
        // ignore
      }
      this.h5 = undefined;
    }
    rmSync(this.tempPath, { force: true });
  }

  private openFile(): H5File {
    if (!this.h5) throw new DatasetError({ code: 'write', file: this.path, detail: 'writer is closed' });
    return this.h5;
  }

  private flush(): void {
    if (this.staged === 0) return;
    const h5 = this.openFile();
    const total = this.written + this.staged;
    try {
      for (const c of this.columns) {
        const ds = h5.get(c.path);
        if (!(ds instanceof Dataset)) throw new Error(`dataset ${c.path} vanished`);
        const status = ds.resize(c.width > 0 ? [total, c.width] : [total]);
        if (status < 0) throw new Error(`resize of ${c.path} to ${total} rows failed (status ${status})`);
        writeRowsRaw(h5.file_id, `/${c.path}`, this.written, this.staged, c.width, c.stage.subarray(0, this.staged * Math.max(1, c.width)));
      }
    } catch (err) {
      this.abort();
      throw new DatasetError({ code: 'write', file: this.path, detail: `writing rows ${this.written}..${total} failed: ${errorText(err)}` }, { cause: err });
    }
    this.written = total;
    this.staged = 0;
  }

  private writeMetadata(h5: H5File): void {
    const entries: Record<string, MetadataValue> = { ofql_eval_version: packageVersion(), ...this.metadata };
    let metaGroup: Group | undefined;
    const conflict = (key: string, detail: string): DatasetError =>
      new DatasetError({ code: 'write', file: this.path, field: `metadata/${key}`, detail });
    const groupFor = (key: string, parts: string[]): Group => {
      metaGroup ??= h5.create_group('metadata');
      let g = metaGroup;
      for (let i = 0; i < parts.length; i++) {
        const p = parts[i];
        if (!g.keys().includes(p)) {
          g = g.create_group(p);
          continue;
        }
        const next = g.get(p);
        if (!(next instanceof Group)) {
          throw conflict(key, `metadata key '${key}' needs metadata/${parts.slice(0, i + 1).join('/')} to be a group, but another key made it a value`);
        }
        g = next;
      }
      return g;
    };
    for (const [key, value] of Object.entries(entries)) {
      if (key.startsWith('@')) {
        writeAttribute(h5, key.slice(1), value);
      } else if (key.startsWith('metadata/@')) {
        writeAttribute(groupFor(key, []), key.slice('metadata/@'.length), value);
      } else {
        const parts = key.split('/').filter((p) => p.length > 0);
        if (parts.length === 0) continue;
        const g = groupFor(key, parts.slice(0, -1));
        const leaf = parts[parts.length - 1];
        if (g.keys().includes(leaf)) {
          throw conflict(key, `metadata key '${key}' names a group made by another key (e.g. '${key}/...')`);
        }
        writeScalarDataset(g, leaf, value);
      }
    }
  }
}

function isAscii(s: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /^[\x00-\x7f]*$/.test(s);
}

/** Scalar dataset as h5py/numpy scalars would be: fixed ASCII bytes (np.string_), int64, float64. */
function writeScalarDataset(g: Group, name: string, value: MetadataValue): void {
  if (typeof value === 'string') {
    if (value.length > 0 && isAscii(value)) g.create_dataset({ name, data: value, dtype: `A${value.length}` });
    else g.create_dataset({ name, data: value }); // variable-length UTF-8
  } else if (typeof value === 'bigint' || Number.isSafeInteger(value)) {
    g.create_dataset({ name, data: new BigInt64Array([BigInt(value)]), shape: [], dtype: '<q' });
  } else {
    g.create_dataset({ name, data: new Float64Array([value]), shape: [], dtype: '<d' });
  }
}

function writeAttribute(g: Group, name: string, value: MetadataValue): void {
  if (typeof value === 'string') g.create_attribute(name, value);
  else if (typeof value === 'bigint' || Number.isSafeInteger(value)) g.create_attribute(name, new BigInt64Array([BigInt(value)]), [], '<q');
  else g.create_attribute(name, new Float64Array([value]), [], '<d');
}

/** Whole arrays to write; widths default to (length / N), N = rewards.length. `D4rlDataset` fits. */
export interface D4rlData extends Omit<D4rlRows, 'qpos' | 'qvel'> {
  observationSize?: number;
  actionSize?: number;
  infos?: { qpos?: ArrayLike<number>; qposSize?: number; qvel?: ArrayLike<number>; qvelSize?: number };
  metadata?: Record<string, MetadataValue>;
}

/**
 * Write a whole dataset at once (atomically; see the module comment). `options` may override or
 * add to what `data` carries (sizes, metadata, bool dtype, ...).
 */
export async function writeD4rlFile(
  path: string,
  data: D4rlData,
  options: Partial<D4rlWriterOptions> = {},
): Promise<{ path: string; rows: number }> {
  const target = resolve(path);
  const N = data.rewards.length;
  const width = (len: number, field: string, given?: number): number => {
    if (given !== undefined) return given;
    if (N === 0 || len % N !== 0) {
      throw new DatasetError({ code: 'shape', file: target, field, detail: `${len} values do not split into N = ${N} rows (N = rewards.length)` });
    }
    return len / N;
  };
  const observationSize = options.observationSize ?? width(data.observations.length, 'observations', data.observationSize);
  const actionSize = options.actionSize ?? width(data.actions.length, 'actions', data.actionSize);
  const qpos = data.infos?.qpos;
  const qvel = data.infos?.qvel;
  const withNext = options.nextObservations ?? data.nextObservations !== undefined;
  const writer = await D4rlWriter.create(target, {
    ...options,
    observationSize,
    actionSize,
    nextObservations: withNext,
    qposSize: qpos ? width(qpos.length, 'infos/qpos', options.qposSize ?? data.infos?.qposSize) : undefined,
    qvelSize: qvel ? width(qvel.length, 'infos/qvel', options.qvelSize ?? data.infos?.qvelSize) : undefined,
    metadata: { ...(data.metadata ?? {}), ...(options.metadata ?? {}) },
    expectedRows: options.expectedRows ?? N,
  });
  try {
    writer.append({
      observations: data.observations,
      actions: data.actions,
      rewards: data.rewards,
      terminals: data.terminals,
      timeouts: data.timeouts,
      nextObservations: withNext ? data.nextObservations : undefined,
      qpos,
      qvel,
    });
  } catch (err) {
    writer.abort();
    throw err;
  }
  return writer.close();
}
