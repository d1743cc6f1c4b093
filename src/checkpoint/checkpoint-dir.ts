/**
 * Checkpoint directories: written atomically, read with strict validation. Independent of TF.js:
 * tensors are named typed arrays (see safetensors.ts), everything else is JSON.
 *
 * Layout of a checkpoint directory `<dir>/`:
 *
 *   config.json            required. A JSON object with at least
 *                            "format":        string naming the producer and model family; OFQL
 *                                             checkpoints use "ofql-eval/ofql" (OFQL_CHECKPOINT_FORMAT)
 *                            "formatVersion": positive integer; OFQL checkpoints are version 1
 *                                             (OFQL_CHECKPOINT_FORMAT_VERSION). Bump it on any
 *                                             incompatible change of names, shapes or layout;
 *                                             readers refuse versions newer than they know.
 *                          plus whatever the model needs to be rebuilt (for OFQL: the full
 *                          OfqlConfig, the task id, the seed, "weightLayout": "in-out").
 *   model.safetensors      required. The weights. For OFQL: `actor.*`, `ema_actor.*`, `critic.*`,
 *                          `critic_target.*` (names from src/ofql/networks.ts actorNamedParams /
 *                          criticNamedParams), F32, OUR layout (Linear weight [in, out]). Evaluation
 *                          reads `ema_actor.*` (or `actor.*` with evalActor 'online') and
 *                          `critic_target.*` (scores the candidate actions); resuming reads all four.
 *   optimizer.safetensors  optional, only with trainer-state.json. Adam state per optimizer with
 *                          PyTorch's state names: `<opt>.step` (scalar), `<opt>.<param>.exp_avg`
 *                          (first moment m), `<opt>.<param>.exp_avg_sq` (second moment v), same shape
 *                          and layout as the parameter; OFQL: opt = actor_optim / critic_optim.
 *   trainer-state.json     optional, only with optimizer.safetensors. A JSON object with at least
 *                          "step" (gradient steps taken, non-negative integer), plus the RNG states
 *                          (rngStateToJson) and whatever the training loop needs to continue
 *                          exactly (e.g. epoch, the batch sampler's RNG, elapsed time).
 *
 * A checkpoint is *resumable* iff both optional files are present; the writer refuses one without
 * the other, the reader reports a lone one as corrupt.
 *
 * Atomicity: writeCheckpointDir encodes and validates everything in memory, writes the files into
 * a sibling `<dir>.tmp-<pid>-<hex>`, fsyncs each file and the temp directory, then
 *   - if `<dir>` does not exist: renames the temp dir to `<dir>`;
 *   - if it does: renames `<dir>` to `<dir>.old-<pid>-<hex>` (same suffix), renames the temp dir to
 *     `<dir>`, fsyncs the parent, and deletes the backup.
 * A failure at any point before the swap removes the temp dir and leaves `<dir>` untouched; a
 * failure between the two renames is undone (the backup goes back). After a crash (power loss,
 * SIGKILL) `<dir>` is either the complete old or the complete new checkpoint, except in the window
 * between the two renames, where `<dir>` is absent and both complete siblings exist:
 * recoverCheckpointDir finishes the swap. One writer per checkpoint directory at a time.
 */
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { CheckpointError, fmtShape, tensorField } from './errors.js';
import { resolveCheckpointDir, type ResolvedCheckpointDir } from './run-dir.js';
import {
  encodeSafetensors,
  readSafetensorsFile,
  type Dtype,
  type Tensor,
  type TensorsInput,
} from './safetensors.js';

export const OFQL_CHECKPOINT_FORMAT = 'ofql-eval/ofql';
export const OFQL_CHECKPOINT_FORMAT_VERSION = 1;

export const CHECKPOINT_FILES = Object.freeze({
  config: 'config.json',
  model: 'model.safetensors',
  optimizer: 'optimizer.safetensors',
  trainerState: 'trainer-state.json',
});

/** JSON values as written to config.json / trainer-state.json (numbers must be finite). */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue | undefined };

export interface CheckpointConfig {
  format: string;
  formatVersion: number;
  [key: string]: unknown;
}

export interface TrainerState {
  /** Gradient steps taken. */
  step: number;
  [key: string]: unknown;
}

export interface CheckpointContents {
  /** Written to config.json; must have `format` (non-empty string) and `formatVersion` (positive integer). */
  config: CheckpointConfig;
  /** Written to model.safetensors. */
  tensors: TensorsInput;
  /** `__metadata__` of model.safetensors (string -> string). */
  metadata?: Readonly<Record<string, string>>;
  /** Written to optimizer.safetensors; requires trainerState. */
  optimizer?: TensorsInput;
  /** Written to trainer-state.json; requires optimizer. */
  trainerState?: TrainerState;
}

/** Fault-injection points for tests (a throwing hook aborts the write like an I/O error would). */
export interface WriteHooks {
  /** After each file has been written (and fsynced) into the temp directory. */
  afterFile?(file: string, tempDir: string): void | Promise<void>;
  /** After the old checkpoint was renamed to its backup, before the new one is renamed into place. */
  afterBackup?(backupDir: string, tempDir: string): void | Promise<void>;
}

export interface WriteCheckpointOptions {
  /** Refuse NaN / +-Infinity in float tensors (names tensor and index). Default true. */
  checkFinite?: boolean;
  /** fsync files and directories (turn off only for throw-away checkpoints in tests). Default true. */
  fsync?: boolean;
  hooks?: WriteHooks;
}

export interface ReadCheckpointOptions {
  /** Required value of config.format (e.g. OFQL_CHECKPOINT_FORMAT). Default: any. */
  format?: string;
  /** Newest formatVersion this reader understands. Default: any. */
  maxFormatVersion?: number;
  /** Refuse NaN / +-Infinity in float tensors. Default true. */
  checkFinite?: boolean;
  /** Also decode optimizer.safetensors when present (evaluation does not need it). Default true. */
  loadOptimizer?: boolean;
}

export interface Checkpoint {
  /** Absolute path of the directory read (for a training run directory: the step-N/ directory chosen). */
  dir: string;
  /** How `dir` was found from the path given (run-dir.ts: a run directory names one of its checkpoints). */
  source: ResolvedCheckpointDir;
  config: CheckpointConfig;
  /** model.safetensors, in file order. */
  tensors: Map<string, Tensor>;
  /** `__metadata__` of model.safetensors. */
  metadata: Record<string, string>;
  /** optimizer.safetensors (absent when not resumable or when loadOptimizer was false). */
  optimizer?: Map<string, Tensor>;
  optimizerMetadata?: Record<string, string>;
  trainerState?: TrainerState;
  /** optimizer.safetensors and trainer-state.json are both present. */
  resumable: boolean;
}

// ---------------------------------------------------------------------------------------------
// JSON helpers
// ---------------------------------------------------------------------------------------------

/** Throws CheckpointError naming the JSON path of the first value JSON cannot hold faithfully. */
function checkJson(value: unknown, path: string, file: string, seen = new Set<object>()): void {
  const bad = (detail: string, c: 'write' | 'non-finite' = 'write') => new CheckpointError({ code: c, file, field: path || undefined, detail });
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) {
      throw bad(`${value} cannot be stored in JSON (it would become null); store RNG states with rngStateToJson`, 'non-finite');
    }
    return;
  }
  if (typeof value !== 'object') throw bad(`a ${typeof value} cannot be stored in JSON`);
  if (seen.has(value)) throw bad('circular reference');
  seen.add(value);
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      if (v === undefined) throw bad(`undefined at index ${i} would become null`);
      checkJson(v, `${path}[${i}]`, file, seen);
    });
  } else {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      throw bad(`a ${(value as object).constructor?.name ?? 'non-plain object'} cannot be stored in JSON (use a plain object)`);
    }
    for (const [k, v] of Object.entries(value)) {
      if (v !== undefined) checkJson(v, path ? `${path}.${k}` : k, file, seen);
    }
  }
  seen.delete(value);
}

/**
 * Rng.getState() ([a, b, c, d, spareNormal]) as JSON-safe values: a NaN spare normal (none
 * cached) becomes null. Use for every RNG state stored in trainer-state.json.
 */
export function rngStateToJson(state: readonly number[]): Array<number | null> {
  return state.map((x) => (Number.isNaN(x) ? null : x));
}

/** Inverse of rngStateToJson (null -> NaN); throws CheckpointError naming `file` and `field` on anything else. */
export function rngStateFromJson(value: unknown, file: string, field: string): number[] {
  if (!Array.isArray(value) || !value.every((x) => x === null || (typeof x === 'number' && Number.isFinite(x)))) {
    throw new CheckpointError({ code: 'trainer-state', file, field, detail: `expected an RNG state (array of numbers / null), got ${JSON.stringify(value)}` });
  }
  return value.map((x) => (x === null ? NaN : (x as number)));
}

function checkConfigFields(config: unknown, file: string, code: 'config' | 'write'): asserts config is CheckpointConfig {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw new CheckpointError({ code, file, detail: `must hold a JSON object, got ${Array.isArray(config) ? 'an array' : JSON.stringify(config)}` });
  }
  const c = config as Record<string, unknown>;
  if (!('format' in c)) throw new CheckpointError({ code, file, field: 'format', detail: `missing; expected a string such as "${OFQL_CHECKPOINT_FORMAT}"` });
  if (typeof c.format !== 'string' || c.format.length === 0) {
    throw new CheckpointError({ code, file, field: 'format', detail: `must be a non-empty string, got ${JSON.stringify(c.format)}` });
  }
  if (!('formatVersion' in c)) throw new CheckpointError({ code, file, field: 'formatVersion', detail: 'missing; expected a positive integer' });
  if (typeof c.formatVersion !== 'number' || !Number.isSafeInteger(c.formatVersion) || c.formatVersion < 1) {
    throw new CheckpointError({ code, file, field: 'formatVersion', detail: `must be a positive integer, got ${JSON.stringify(c.formatVersion)}` });
  }
}

function checkTrainerStateFields(state: unknown, file: string, code: 'trainer-state' | 'write'): asserts state is TrainerState {
  if (state === null || typeof state !== 'object' || Array.isArray(state)) {
    throw new CheckpointError({ code, file, detail: `must hold a JSON object, got ${JSON.stringify(state)}` });
  }
  const step = (state as Record<string, unknown>).step;
  if (typeof step !== 'number' || !Number.isSafeInteger(step) || step < 0) {
    throw new CheckpointError({ code, file, field: 'step', detail: `must be a non-negative integer, got ${JSON.stringify(step)}` });
  }
}

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

function toWriteError(e: unknown, target: string, what: string): CheckpointError {
  if (e instanceof CheckpointError) return e;
  return new CheckpointError({ code: 'write', file: target, detail: `${what}: ${(e as Error)?.message ?? String(e)}` }, { cause: e });
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

async function writeFileSynced(path: string, bytes: Uint8Array, fsync: boolean): Promise<void> {
  const fh = await open(path, 'wx');
  try {
    await fh.writeFile(bytes);
    if (fsync) await fh.sync();
  } finally {
    await fh.close();
  }
}

/** fsync a directory so renames / new entries in it are durable (best effort: not possible on every OS). */
async function fsyncDir(path: string): Promise<void> {
  let fh;
  try {
    fh = await open(path, 'r');
    await fh.sync();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL' && code !== 'EBADF' && code !== 'EACCES') throw e;
  } finally {
    await fh?.close();
  }
}

/** Encode the files of a checkpoint in memory (all validation happens here, before any I/O). */
function buildFiles(target: string, contents: CheckpointContents, checkFinite: boolean): Array<[string, Uint8Array]> {
  if (contents === null || typeof contents !== 'object') {
    throw new CheckpointError({ code: 'write', file: target, detail: 'expected {config, tensors, optimizer?, trainerState?}' });
  }
  const F = CHECKPOINT_FILES;
  const configPath = join(target, F.config);
  checkConfigFields(contents.config, configPath, 'write');
  checkJson(contents.config, '', configPath);
  if ((contents.optimizer === undefined) !== (contents.trainerState === undefined)) {
    throw new CheckpointError({
      code: 'write',
      file: target,
      detail: `optimizer and trainerState go together (a resumable checkpoint needs both); got only ${contents.optimizer ? 'optimizer' : 'trainerState'}`,
    });
  }
  const enc = new TextEncoder();
  const { format, formatVersion, ...rest } = contents.config;
  const files: Array<[string, Uint8Array]> = [
    [F.config, enc.encode(`${JSON.stringify({ format, formatVersion, ...rest }, null, 2)}\n`)],
    [F.model, encodeSafetensors(contents.tensors, contents.metadata, { checkFinite, source: join(target, F.model) })],
  ];
  if (contents.optimizer !== undefined && contents.trainerState !== undefined) {
    const statePath = join(target, F.trainerState);
    checkTrainerStateFields(contents.trainerState, statePath, 'write');
    checkJson(contents.trainerState, '', statePath);
    files.push([F.optimizer, encodeSafetensors(contents.optimizer, undefined, { checkFinite, source: join(target, F.optimizer) })]);
    files.push([F.trainerState, enc.encode(`${JSON.stringify(contents.trainerState, null, 2)}\n`)]);
  }
  return files;
}

/**
 * Write a checkpoint directory atomically (see the module comment): `dir` ends up holding either
 * its previous contents or the complete new checkpoint, never a mix. Replaces an existing
 * checkpoint; refuses to replace anything else (a file, or a non-empty directory without
 * config.json). Throws CheckpointError ('write', or the encoder's codes naming the tensor / field).
 */
export async function writeCheckpointDir(
  dir: string,
  contents: CheckpointContents,
  options: WriteCheckpointOptions = {},
): Promise<void> {
  const target = resolve(dir);
  const fsync = options.fsync ?? true;
  const hooks = options.hooks ?? {};
  const files = buildFiles(target, contents, options.checkFinite ?? true);

  let hadOld = false;
  try {
    const st = await lstat(target);
    if (!st.isDirectory()) {
      throw new CheckpointError({ code: 'write', file: target, detail: 'exists and is not a directory; refusing to replace it' });
    }
    const names = await readdir(target);
    if (names.length > 0 && !names.includes(CHECKPOINT_FILES.config)) {
      throw new CheckpointError({
        code: 'write',
        file: target,
        detail: `is a non-empty directory without ${CHECKPOINT_FILES.config} (not a checkpoint); refusing to replace it`,
      });
    }
    hadOld = true;
  } catch (e) {
    if (e instanceof CheckpointError) throw e;
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw toWriteError(e, target, 'cannot inspect the destination');
  }

  const suffix = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const tmp = `${target}.tmp-${suffix}`;
  const backup = `${target}.old-${suffix}`;
  try {
    await mkdir(dirname(target), { recursive: true });
    await mkdir(tmp);
    for (const [name, bytes] of files) {
      await writeFileSynced(join(tmp, name), bytes, fsync);
      await hooks.afterFile?.(name, tmp);
    }
    if (fsync) await fsyncDir(tmp);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    throw toWriteError(e, target, 'writing the checkpoint failed (the previous one, if any, is untouched)');
  }

  let movedOld = false;
  try {
    if (hadOld) {
      await rename(target, backup);
      movedOld = true;
      await hooks.afterBackup?.(backup, tmp);
    }
    await rename(tmp, target);
  } catch (e) {
    let restored = !movedOld;
    if (movedOld) {
      try {
        if (!(await exists(target))) await rename(backup, target);
        restored = true;
      } catch {
        /* leave the backup for recoverCheckpointDir */
      }
    }
    if (restored) await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    throw toWriteError(
      e,
      target,
      restored
        ? 'moving the new checkpoint into place failed (the previous one is back in place)'
        : `moving the new checkpoint into place failed and the previous one could not be moved back; run recoverCheckpointDir (backup: ${backup})`,
    );
  }
  if (fsync) await fsyncDir(dirname(target)).catch(() => undefined);
  if (movedOld) await rm(backup, { recursive: true, force: true }).catch(() => undefined);
}

// ---------------------------------------------------------------------------------------------
// Recovery
// ---------------------------------------------------------------------------------------------

interface Leftover {
  path: string;
  kind: 'tmp' | 'old';
  pid: number;
  suffix: string;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

async function findLeftovers(target: string): Promise<Leftover[]> {
  const parent = dirname(target);
  const re = new RegExp(`^${escapeRegExp(basename(target))}\\.(tmp|old)-((\\d+)-[0-9a-f]{8})$`);
  let names: string[];
  try {
    names = await readdir(parent);
  } catch {
    return [];
  }
  const out: Leftover[] = [];
  for (const n of names) {
    const m = re.exec(n);
    if (m) out.push({ path: join(parent, n), kind: m[1] as 'tmp' | 'old', pid: Number(m[3]), suffix: m[2]! });
  }
  return out;
}

function processAlive(pid: number): boolean {
  if (pid === process.pid) return false; // our own writes are never in flight while we recover
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface RecoverResult {
  /**
   * 'none': nothing to do or only stale leftovers removed; 'completed-swap': `dir` was missing and
   * a crash had hit between the two renames -- the complete new checkpoint was moved into place;
   * 'restored-backup': `dir` was missing and only a backup existed -- it was moved back.
   */
  action: 'none' | 'completed-swap' | 'restored-backup';
  /** Leftover temp / backup directories deleted. */
  removed: string[];
}

/**
 * Repair what an interrupted writeCheckpointDir (crash, kill) can leave next to `dir`:
 * `<dir>.tmp-<pid>-<hex>` (a new checkpoint, complete iff its `.old-` twin exists) and
 * `<dir>.old-<pid>-<hex>` (the previous checkpoint). Leftovers of processes still running are left
 * alone. Call it before reading or writing a checkpoint after a crash; it is a no-op otherwise.
 */
export async function recoverCheckpointDir(dir: string): Promise<RecoverResult> {
  const target = resolve(dir);
  const leftovers = (await findLeftovers(target)).filter((l) => !processAlive(l.pid));
  const removed: string[] = [];
  let action: RecoverResult['action'] = 'none';
  if (!(await exists(target))) {
    const olds = leftovers.filter((l) => l.kind === 'old');
    // A tmp with an .old twin was complete (the old one is only moved aside after every file is synced).
    const pairs = olds
      .map((o) => ({ old: o, tmp: leftovers.find((l) => l.kind === 'tmp' && l.suffix === o.suffix) }))
      .filter((p): p is { old: Leftover; tmp: Leftover } => p.tmp !== undefined);
    const newest = async (ls: Leftover[]) => {
      let best: Leftover | undefined;
      let bestT = -Infinity;
      for (const l of ls) {
        const t = (await stat(l.path)).mtimeMs;
        if (t > bestT) [best, bestT] = [l, t];
      }
      return best;
    };
    if (pairs.length > 0) {
      const chosen = (await newest(pairs.map((p) => p.tmp)))!;
      await rename(chosen.path, target);
      action = 'completed-swap';
    } else if (olds.length > 0) {
      const chosen = (await newest(olds))!;
      await rename(chosen.path, target);
      action = 'restored-backup';
    }
  }
  for (const l of leftovers) {
    if (await exists(l.path)) {
      await rm(l.path, { recursive: true, force: true });
      removed.push(l.path);
    }
  }
  return { action, removed };
}

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

/** Why stat() of a checkpoint directory failed, other than ENOENT. */
function unreachableDirDetail(e: unknown): string {
  const errno = (e as NodeJS.ErrnoException).code;
  if (errno === 'ELOOP') return 'is a symbolic link loop (ELOOP: the links point at each other); point it at a checkpoint directory';
  if (errno === 'EACCES' || errno === 'EPERM') return `cannot be opened: permission denied (${errno})`;
  if (errno === 'ENOTDIR') return 'cannot be reached: a component of the path is a file, not a directory (ENOTDIR)';
  return `cannot be opened (${(e as Error).message})`;
}

async function readJsonFile(path: string, code: 'config' | 'trainer-state'): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const c = (e as NodeJS.ErrnoException).code;
    throw new CheckpointError(
      { code: 'not-found', file: path, detail: c === 'ENOENT' ? 'file does not exist' : `cannot be read (${(e as Error).message})` },
      { cause: e },
    );
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CheckpointError({ code, file: path, detail: `is not valid JSON (${(e as Error).message})` }, { cause: e });
  }
}

/**
 * Read and validate a checkpoint directory (a training run directory, `<run>@N` or `<run>/latest`
 * reads the checkpoint it names: run-dir.ts): existence of the directory and its files, config.json
 * (valid JSON object with `format` / `formatVersion`, matching `options`), model.safetensors
 * (strict safetensors decoding, finite floats by default), and the resume pair (both or neither;
 * trainer-state.json must be a JSON object with a valid `step`). Every failure is a CheckpointError
 * naming the file and field / tensor.
 */
export async function readCheckpointDir(dir: string, options: ReadCheckpointOptions = {}): Promise<Checkpoint> {
  const source = resolveCheckpointDir(dir);
  const target = source.dir;
  const F = CHECKPOINT_FILES;
  let st;
  try {
    st = await stat(target);
  } catch (e) {
    const errno = (e as NodeJS.ErrnoException).code;
    if (errno !== 'ENOENT') {
      // Say what is wrong: a symlink loop or a permission problem is not a missing directory.
      throw new CheckpointError({ code: 'not-found', file: target, detail: unreachableDirDetail(e) }, { cause: e });
    }
    const leftovers = await findLeftovers(target);
    const hint = leftovers.length > 0
      ? ` (found leftovers of an interrupted write: ${leftovers.map((l) => basename(l.path)).join(', ')}; recoverCheckpointDir can repair it)`
      : '';
    throw new CheckpointError(
      { code: 'not-found', file: target, detail: `checkpoint directory does not exist${hint}` },
      { cause: e },
    );
  }
  if (!st.isDirectory()) {
    throw new CheckpointError({ code: 'not-found', file: target, detail: `is not a directory; a checkpoint is a directory holding ${F.config} and ${F.model}` });
  }

  const configPath = join(target, F.config);
  const config = await readJsonFile(configPath, 'config');
  checkConfigFields(config, configPath, 'config');
  if (options.format !== undefined && config.format !== options.format) {
    throw new CheckpointError({ code: 'config', file: configPath, field: 'format', detail: `is ${JSON.stringify(config.format)}, expected ${JSON.stringify(options.format)}` });
  }
  if (options.maxFormatVersion !== undefined && config.formatVersion > options.maxFormatVersion) {
    throw new CheckpointError({
      code: 'config',
      file: configPath,
      field: 'formatVersion',
      detail: `is ${config.formatVersion}, newer than the newest version this reader understands (${options.maxFormatVersion})`,
    });
  }

  const checkFinite = options.checkFinite ?? true;
  const model = await readSafetensorsFile(join(target, F.model), { checkFinite });

  const optPath = join(target, F.optimizer);
  const statePath = join(target, F.trainerState);
  const [hasOpt, hasState] = [await exists(optPath), await exists(statePath)];
  if (hasOpt !== hasState) {
    throw new CheckpointError({
      code: 'trainer-state',
      file: target,
      detail: `incomplete resume state: ${hasOpt ? F.optimizer : F.trainerState} is present but ${hasOpt ? F.trainerState : F.optimizer} is missing`,
    });
  }
  const ckpt: Checkpoint = { dir: target, source, config, tensors: model.tensors, metadata: model.metadata, resumable: hasOpt && hasState };
  if (hasState) {
    const state = await readJsonFile(statePath, 'trainer-state');
    checkTrainerStateFields(state, statePath, 'trainer-state');
    ckpt.trainerState = state;
    if (options.loadOptimizer ?? true) {
      const opt = await readSafetensorsFile(optPath, { checkFinite });
      ckpt.optimizer = opt.tensors;
      ckpt.optimizerMetadata = opt.metadata;
    }
  }
  return ckpt;
}

/** Throws CheckpointError 'trainer-state' unless the checkpoint holds a complete resume state (loaded). */
export function requireResumable(ckpt: Checkpoint): asserts ckpt is Checkpoint & { optimizer: Map<string, Tensor>; trainerState: TrainerState } {
  if (!ckpt.resumable) {
    throw new CheckpointError({
      code: 'trainer-state',
      file: ckpt.dir,
      detail: `cannot resume: the checkpoint has no ${CHECKPOINT_FILES.optimizer} / ${CHECKPOINT_FILES.trainerState} (evaluation-only checkpoint)`,
    });
  }
  if (!ckpt.optimizer || !ckpt.trainerState) {
    throw new CheckpointError({ code: 'trainer-state', file: ckpt.dir, detail: 'the optimizer state was not loaded (read with loadOptimizer: true to resume)' });
  }
}

// ---------------------------------------------------------------------------------------------
// Required tensors
// ---------------------------------------------------------------------------------------------

/** A required shape; -1 matches any size in that dimension. Optionally the allowed dtype(s). */
export type ShapeSpec = readonly number[] | { shape: readonly number[]; dtype?: Dtype | readonly Dtype[] };
export type TensorSpec = ReadonlyMap<string, ShapeSpec> | Readonly<Record<string, ShapeSpec>>;

export interface ExpectTensorsOptions {
  /** Name of the file in errors (default: the checkpoint's model.safetensors, or '(tensors)'). */
  file?: string;
  /** Also reject tensors that are not in `spec`. Default false. */
  exact?: boolean;
}

/**
 * Check that every tensor of `spec` is present with the given shape (and dtype, if given).
 * Collects every problem; throws one CheckpointError whose `field` is the first tensor at fault
 * ('missing-tensor', 'tensor-shape' or 'unexpected-tensor') and whose message lists all of them.
 */
export function expectTensors(
  source: Checkpoint | ReadonlyMap<string, Tensor>,
  spec: TensorSpec,
  options: ExpectTensorsOptions = {},
): void {
  const tensors = source instanceof Map ? (source as ReadonlyMap<string, Tensor>) : (source as Checkpoint).tensors;
  const file = options.file ?? (source instanceof Map ? '(tensors)' : join((source as Checkpoint).dir, CHECKPOINT_FILES.model));
  const specEntries: Array<[string, ShapeSpec]> = spec instanceof Map ? [...spec.entries()] : Object.entries(spec);
  const problems: Array<{ code: 'missing-tensor' | 'tensor-shape' | 'unexpected-tensor'; name: string; detail: string }> = [];
  for (const [name, s] of specEntries) {
    const shape = Array.isArray(s) ? (s as readonly number[]) : (s as { shape: readonly number[] }).shape;
    const dt = Array.isArray(s) ? undefined : (s as { dtype?: Dtype | readonly Dtype[] }).dtype;
    const t = tensors.get(name);
    const want = fmtShape(shape.map((d) => (d < 0 ? '*' : d)));
    if (!t) {
      problems.push({ code: 'missing-tensor', name, detail: `missing (expected shape ${want})` });
      continue;
    }
    const fits = t.shape.length === shape.length && shape.every((d, i) => d < 0 || d === t.shape[i]);
    if (!fits) problems.push({ code: 'tensor-shape', name, detail: `expected shape ${want}, found ${fmtShape(t.shape)}` });
    if (dt !== undefined) {
      const allowed: readonly Dtype[] = typeof dt === 'string' ? [dt] : dt;
      if (!allowed.includes(t.dtype)) problems.push({ code: 'tensor-shape', name, detail: `expected dtype ${allowed.join(' or ')}, found ${t.dtype}` });
    }
  }
  if (options.exact) {
    const known = new Set(specEntries.map(([n]) => n));
    for (const name of tensors.keys()) {
      if (!known.has(name)) problems.push({ code: 'unexpected-tensor', name, detail: 'is not expected here' });
    }
  }
  if (problems.length === 0) return;
  const [first, ...rest] = problems;
  const shown = rest.slice(0, 10).map((p) => `${tensorField(p.name)} ${p.detail}`);
  const more = rest.length > 10 ? `, ... (${rest.length} more in all)` : '';
  throw new CheckpointError({
    code: first!.code,
    file,
    field: tensorField(first!.name),
    detail: rest.length === 0 ? first!.detail : `${first!.detail}; also ${shown.join('; ')}${more}`,
  });
}
