/**
 * Output destinations of the commands that write files (run / merge --json, baseline --out,
 * regress --markdown / --junit / --json, --save-results, collect --out, train --out, export-onnx).
 *
 * - `checkOutputFile` / `checkOutputDir` run before any long work: a destination that cannot be
 *   written (a directory, a parent that is a file, a read-only file system, no permission) is a
 *   usage error (exit 2) before the first worker starts, instead of a stack trace after the run.
 *   They also remove temp files that a killed atomic write left in that directory.
 * - `writeOutputFile` writes at the end; when that still fails (full disk, the directory removed
 *   meanwhile) it writes the same bytes to a fallback file and says where, so the work is not lost.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants, accessSync, existsSync, lstatSync, mkdirSync, openSync, readdirSync, realpathSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { writeFileAtomic } from './atomic-write.js';
import { OptionError } from './option-error.js';

/** A destination that cannot be written (exit 2: an OptionError, which every command reports as a usage error). */
export class OutputPathError extends OptionError {
  constructor(message: string) {
    super(message);
    this.name = 'OutputPathError';
  }
}

/** Temp files of writeFileAtomic (`<name>.<pid>.<8 hex>.tmp`) and of the HDF5 writer (`.<name>.<pid>.<8 hex>.tmp`). */
const TEMP_FILE = /^(.+)\.(\d+)\.[0-9a-f]{8}\.tmp$/;

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Whether a process with this id runs on this machine (EPERM: it exists but belongs to someone else). */
function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Remove temp files in `dir` left by atomic writes of processes that no longer run (a killed
 * `ofql-eval`); returns the names removed. Files of live processes are kept: they may be writing.
 */
export function cleanStaleTempFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = TEMP_FILE.exec(name);
    if (!m || processAlive(Number(m[2]))) continue;
    const path = join(dir, name);
    try {
      if (!statSync(path).isFile()) continue;
      unlinkSync(path);
      removed.push(name);
    } catch {
      // gone already, or not ours to remove
    }
  }
  return removed;
}

/** The nearest existing ancestor of `abs` (or `abs` itself). */
function existingAncestor(abs: string): string {
  let p = abs;
  while (!existsSync(p)) {
    const up = dirname(p);
    if (up === p) break;
    p = up;
  }
  return p;
}

/** Make `dir` (and parents; with `make` false it must exist), or explain why not, naming the flag. */
function ensureDir(dir: string, flag: string, given: string, make = true): void {
  const base = existingAncestor(dir);
  if (!statSync(base).isDirectory()) {
    throw new OutputPathError(`${flag} ${given}: ${base} is a file, not a directory${base === dir ? '' : `, so ${dir} cannot be created`}`);
  }
  if (!make && base !== dir) throw new OutputPathError(`${flag} ${given}: directory ${dir} does not exist`);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new OutputPathError(`${flag} ${given}: cannot create the directory ${dir} (${errText(err)})`);
  }
}

/** Create and remove a probe file in `dir`: the one test that also catches read-only mounts and ACLs. */
function probeWritable(dir: string, flag: string, given: string): void {
  const probe = join(dir, `.ofql-eval-probe.${process.pid}.${randomBytes(4).toString('hex')}.tmp`); // a stale one is cleaned like a temp file
  try {
    closeSync(openSync(probe, 'wx'));
    unlinkSync(probe);
  } catch (err) {
    throw new OutputPathError(`${flag} ${given}: cannot write into ${dir} (${errText(err)})`);
  }
}

export interface OutputCheckOptions {
  /** Where to report removed stale temp files (default: stderr). */
  log?: (message: string) => void;
  /** Base for a relative path (default process.cwd()). */
  cwd?: string;
  /** Create missing parent directories (default true; collect wants an existing directory). */
  makeParents?: boolean;
  /**
   * Accept a special file (FIFO, /dev/stdout) as the target, written in place (default true).
   * collect refuses them: its HDF5 writer renames a temp file over the target.
   */
  allowSpecial?: boolean;
}

function logRemoved(dir: string, removed: string[], log: (m: string) => void): void {
  if (removed.length > 0) log(`ofql-eval: removed ${removed.length} stale temp file(s) of an interrupted write in ${dir}: ${removed.join(', ')}`);
}

const stderrLog = (m: string): void => {
  process.stderr.write(`${m}\n`);
};

/**
 * Check, before the work, that `path` (the value of `flag`) can be written as a file: not empty,
 * not a directory, its directory exists or can be made, and a file can be created there. Special
 * files (a FIFO, /dev/stdout) are accepted when writable: they are written in place. Returns the
 * absolute path. Throws OutputPathError naming the flag and the cause.
 */
export function checkOutputFile(path: string, flag: string, options: OutputCheckOptions = {}): string {
  if (typeof path !== 'string' || path.trim() === '') throw new OutputPathError(`${flag} needs a file name`);
  const abs = resolve(options.cwd ?? process.cwd(), path);
  if (existsSync(abs)) {
    const st = statSync(abs);
    if (st.isDirectory()) throw new OutputPathError(`${flag} ${path} is a directory; give a file name (e.g. ${join(path, 'out.json')})`);
    if (!st.isFile() || isDeviceAlias(abs)) {
      if (options.allowSpecial === false) throw new OutputPathError(`${flag} ${path} is not a regular file (a device, FIFO or socket); give a file name`);
      try {
        accessSync(abs, constants.W_OK);
      } catch (err) {
        throw new OutputPathError(`${flag} ${path}: cannot write to it (${errText(err)})`);
      }
      return abs;
    }
  }
  const dir = dirname(abs);
  ensureDir(dir, flag, path, options.makeParents ?? true);
  probeWritable(dir, flag, path);
  logRemoved(dir, cleanStaleTempFiles(dir), options.log ?? stderrLog);
  return abs;
}

/** As checkOutputFile, for an output directory (train --out): not a file, can be made, writable. */
export function checkOutputDir(path: string, flag: string, options: OutputCheckOptions = {}): string {
  if (typeof path !== 'string' || path.trim() === '') throw new OutputPathError(`${flag} needs a directory name`);
  const abs = resolve(options.cwd ?? process.cwd(), path);
  if (existsSync(abs) && !statSync(abs).isDirectory()) throw new OutputPathError(`${flag} ${path} exists and is not a directory`);
  ensureDir(abs, flag, path);
  probeWritable(abs, flag, path);
  logRemoved(abs, cleanStaleTempFiles(abs), options.log ?? stderrLog);
  return abs;
}

/** /dev/stdout, /dev/fd/3, /proc/self/fd/1, ...: names of open files, never to be replaced by a rename. */
function isDeviceAlias(abs: string): boolean {
  return /^\/(dev|proc)\//.test(abs);
}

/**
 * Appended in place when the target is a device alias or a special file (a FIFO or a device cannot
 * be replaced by a rename; as root a rename over /dev/stdout replaced the link itself), else
 * atomically; through a symlink, its target is replaced and the link kept.
 */
function writeTarget(abs: string, data: string | Uint8Array): void {
  if (existsSync(abs)) {
    const st = statSync(abs);
    if (isDeviceAlias(abs) || (!st.isFile() && !st.isDirectory())) {
      writeFileSync(abs, data, { flag: 'a' });
      return;
    }
    if (lstatSync(abs).isSymbolicLink()) {
      writeFileAtomic(realpathSync(abs), data);
      return;
    }
  }
  writeFileAtomic(abs, data);
}

/** Where a document that could not be written to `path` goes instead: the temp directory, then the working directory. */
export function fallbackCandidates(path: string): string[] {
  const name = basename(path) || 'output';
  const ext = extname(name);
  const stem = ext ? name.slice(0, -ext.length) : name;
  const file = `ofql-eval-${stem}-${process.pid}${ext || '.out'}`;
  return [join(tmpdir(), file), join(process.cwd(), file)];
}

export interface WriteOutcome {
  /** Where the bytes are: `path`, or the fallback file. */
  path: string;
  /** Why `path` could not be written (then `path` above is the fallback); null on success. */
  error: string | null;
}

/**
 * Write `data` to `path` (atomically for regular files). If that fails, write it to a fallback
 * file (fallbackCandidates) and return its path with the error; throws only when no fallback
 * could be written either (the error then names every place tried).
 */
export function writeOutputFile(path: string, data: string | Uint8Array): WriteOutcome {
  const abs = resolve(path);
  let first: unknown;
  try {
    writeTarget(abs, data);
    return { path: abs, error: null };
  } catch (err) {
    first = err;
  }
  const tried: string[] = [];
  for (const candidate of fallbackCandidates(abs)) {
    try {
      writeFileAtomic(candidate, data);
      return { path: candidate, error: errText(first) };
    } catch (err) {
      tried.push(`${candidate} (${errText(err)})`);
    }
  }
  throw new Error(`could not write ${abs} (${errText(first)}), nor a fallback copy to ${tried.join(' or ')}`);
}

/**
 * writeOutputFile for a command: on success `onWritten(path)`; when the fallback was used, one
 * stderr line naming the destination, the cause and the fallback. Returns false when `path` was
 * not written (the command should then exit non-zero).
 */
export function writeOutputReported(
  name: string,
  what: string,
  path: string,
  data: string | Uint8Array,
  log: (message: string) => void = stderrLog,
): boolean {
  let outcome: WriteOutcome;
  try {
    outcome = writeOutputFile(path, data);
  } catch (err) {
    log(`${name}: error: ${what}: ${errText(err)}`);
    return false;
  }
  if (outcome.error === null) return true;
  log(`${name}: error: could not write the ${what} to ${path} (${outcome.error}); wrote it to ${outcome.path} instead`);
  return false;
}

/** Same file after symlinks (a path that does not exist yet is compared as resolved). */
function sameFile(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return resolve(a) === resolve(b);
  }
}

/**
 * Refuse an output that is also one of the command's inputs (`[flag, path]` pairs): writing it
 * would replace the input (a shard of a merge, the baseline of a regress) without a word.
 */
export function checkNotAnInput(out: string, outFlag: string, inputs: ReadonlyArray<readonly [string, string | undefined]>): void {
  for (const [flag, path] of inputs) {
    if (path !== undefined && sameFile(out, path)) {
      throw new OutputPathError(`${outFlag} ${out} is also an input (${flag} ${path}); writing it would overwrite that file. Give another ${outFlag}`);
    }
  }
}
