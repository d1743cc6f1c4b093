/**
 * Training run directories wherever a checkpoint directory is read.
 *
 * `ofql-eval train --out <run>` (src/train/trainer.ts) writes
 *
 *   <run>/train-config.json, metrics.jsonl, eval.jsonl
 *   <run>/step-NNNNNNNN/     complete checkpoint directories (config.json + model.safetensors, ...)
 *   <run>/latest -> step-NNNNNNNN   relative symlink to the newest (absent where symlinks are refused)
 *
 * A user who trained into `<run>` expects `--ckpt <run>` to work. resolveCheckpointDir is the one
 * place that turns what was given into the checkpoint directory to read:
 *
 *   <run>                 the checkpoint `latest` points at; without a usable `latest`, the
 *                         highest-numbered complete step-N/
 *   <run>/latest          the same (a dangling link falls back the same way)
 *   <run>@N, <run>/step-N step N (any zero padding); an unknown step lists the steps there
 *   anything else         itself (a checkpoint directory outside a run, or a path the reader
 *                         will report as missing)
 *
 * The result is always a step directory, never the `latest` link: a link can move while a run
 * goes on, and whoever records what was evaluated must name the model that was read. `<run>@N`
 * is only parsed when `<run>@N` does not exist and `<run>` is a run directory, so a directory
 * whose name contains '@' still works.
 */
import { existsSync, lstatSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { CheckpointError } from './errors.js';

/** The files of a training run directory besides its checkpoints (src/train/trainer.ts writes them). */
export const RUN_DIR_FILES = Object.freeze({
  metrics: 'metrics.jsonl',
  eval: 'eval.jsonl',
  config: 'train-config.json',
  latest: 'latest',
});

/** What makes a step-N/ directory a complete checkpoint (checkpoint-dir.ts CHECKPOINT_FILES config + model). */
const REQUIRED = ['config.json', 'model.safetensors'] as const;

const STEP_DIR = /^step-(\d+)$/;
/** Leftovers of an interrupted checkpoint write (writeCheckpointDir): step-N.tmp-<pid>-<hex>, step-N.old-<pid>-<hex>. */
const STEP_LEFTOVER = /^step-\d+\.(tmp|old)-\d+-[0-9a-f]{8}$/;
const AT_STEP = /^(.+)@(\d+)$/;

/** `step-00020000`: the name of the checkpoint directory after `step` gradient steps. */
export const stepDirName = (step: number): string => `step-${String(step).padStart(8, '0')}`;

/** The step a `step-N` directory name stands for, or null. */
export function stepOfDirName(name: string): number | null {
  const m = STEP_DIR.exec(name);
  return m ? Number(m[1]) : null;
}

export interface RunCheckpoint {
  step: number;
  /** Absolute path of the step-N/ directory. */
  dir: string;
}

const isCompleteCheckpoint = (dir: string): boolean => REQUIRED.every((f) => existsSync(join(dir, f)));

/** Complete checkpoint directories step-N/ of a run directory, by step ascending ([] when there is none). */
export function listRunCheckpoints(run: string): RunCheckpoint[] {
  const abs = resolve(run);
  if (!isDirectory(abs)) return [];
  const found: RunCheckpoint[] = [];
  for (const name of readdirSync(abs)) {
    const step = stepOfDirName(name);
    const dir = join(abs, name);
    if (step !== null && isCompleteCheckpoint(dir)) found.push({ step, dir });
  }
  return found.sort((a, b) => a.step - b.step);
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/**
 * Is `path` a training run directory: a directory that is not itself a checkpoint (no config.json)
 * and holds what `ofql-eval train` writes (a step-N/ entry or its leftovers, `latest`,
 * train-config.json or metrics.jsonl)?
 */
export function isRunDir(path: string): boolean {
  const abs = resolve(path);
  if (!isDirectory(abs) || existsSync(join(abs, REQUIRED[0]))) return false;
  return readdirSync(abs).some(
    (n) => STEP_DIR.test(n) || STEP_LEFTOVER.test(n) || n === RUN_DIR_FILES.latest || n === RUN_DIR_FILES.config || n === RUN_DIR_FILES.metrics,
  );
}

/**
 * Does `given` name a training run or a checkpoint in one (`<run>`, `<run>/latest`, `<run>/step-N`,
 * `<run>@N`), whether that checkpoint exists or not? (Cheap; for commands that pick a policy kind
 * by what `--ckpt` is.)
 */
export function namesTrainingRun(given: string, cwd: string = process.cwd()): boolean {
  const abs = resolve(cwd, given);
  if (isRunDir(abs)) return true;
  const name = basename(abs);
  if ((name === RUN_DIR_FILES.latest || stepOfDirName(name) !== null) && isRunDir(dirname(abs))) return true;
  const at = AT_STEP.exec(given);
  return at !== null && !existsSync(abs) && isRunDir(resolve(cwd, at[1]!));
}

export interface ResolvedCheckpointDir {
  /** The path as given (e.g. `runs/hopper`, `runs/hopper@15000`). */
  given: string;
  /** Absolute path of the checkpoint directory to read: a step-N/ directory of a run, never its `latest` link. */
  dir: string;
  /** Absolute path of the training run directory `dir` belongs to, or null (a checkpoint outside a run). */
  run: string | null;
  /** The step of `dir`'s step-N name, or null outside a run. */
  step: number | null;
  /**
   * How `dir` was chosen: 'checkpoint' = given directly; 'step' = a step of a run (`@N`, `step-N`);
   * 'latest' = the run's `latest` link; 'newest' = the highest complete step-N/ (no usable `latest`).
   */
  via: 'checkpoint' | 'step' | 'latest' | 'newest';
}

/**
 * The checkpoint directory `given` names (see the module comment). Throws CheckpointError
 * 'not-found' (unknown step: lists the steps there) or 'empty-run' (a run without any complete
 * checkpoint); a path that names no run is returned as is, for the reader to report.
 */
export function resolveCheckpointDir(given: string, cwd: string = process.cwd()): ResolvedCheckpointDir {
  const abs = resolve(cwd, given);
  const plain: ResolvedCheckpointDir = { given, dir: abs, run: null, step: null, via: 'checkpoint' };
  const parent = dirname(abs);
  const name = basename(abs);

  if (existsSync(abs)) {
    if (isRunDir(abs)) return resolveRun(given, abs, null);
    // `<run>/latest` is the run's choice (its link target), recorded as that step directory.
    if (name === RUN_DIR_FILES.latest && isRunDir(parent)) return resolveRun(given, parent, null);
    const step = stepOfDirName(name);
    if (step !== null && isRunDir(parent)) return { given, dir: abs, run: parent, step, via: 'step' };
    return plain;
  }
  if (isRunDir(parent)) {
    // A dangling `latest`, or a step that is not there.
    if (name === RUN_DIR_FILES.latest) return resolveRun(given, parent, null);
    const step = stepOfDirName(name);
    if (step !== null) return resolveRun(given, parent, step);
  }
  const at = AT_STEP.exec(given);
  if (at) {
    const run = resolve(cwd, at[1]!);
    if (isRunDir(run)) return resolveRun(given, run, Number(at[2]));
  }
  return plain;
}

/** The checkpoint of run directory `run` at `step`, or its latest (`step` null). */
function resolveRun(given: string, run: string, step: number | null): ResolvedCheckpointDir {
  const all = listRunCheckpoints(run);
  if (step !== null) {
    const hit = all.find((c) => c.step === step);
    if (hit) return { given, dir: hit.dir, run, step, via: 'step' };
    throw new CheckpointError({
      code: 'not-found',
      file: run,
      detail:
        `training run directory has no checkpoint of step ${step}; ` +
        (all.length > 0 ? `it holds ${describeSteps(all)} (pick one with ${stepSelector(given, run)}@N, or give the directory alone for the newest)` : emptyRunDetail(run)),
    });
  }
  const link = join(run, RUN_DIR_FILES.latest);
  if (isSymlink(link)) {
    const target = resolve(run, readlinkSync(link));
    if (isCompleteCheckpoint(target)) return { given, dir: target, run, step: stepOfDirName(basename(target)), via: 'latest' };
  }
  const newest = all.at(-1);
  if (newest) return { given, dir: newest.dir, run, step: newest.step, via: 'newest' };
  // A `latest` that is a plain directory (a copy that dereferenced the link) and nothing else.
  if (!isSymlink(link) && isCompleteCheckpoint(link)) return { given, dir: link, run, step: null, via: 'latest' };
  throw new CheckpointError({ code: 'empty-run', file: run, detail: emptyRunDetail(run) });
}

/** How to write "step N of this run" for the user: the run as given, else its absolute path. */
function stepSelector(given: string, run: string): string {
  const at = AT_STEP.exec(given);
  if (at) return at[1]!;
  const base = basename(given.replace(/[/\\]+$/, ''));
  if (base === RUN_DIR_FILES.latest || stepOfDirName(base) !== null) return dirname(given.replace(/[/\\]+$/, ''));
  return given.replace(/[/\\]+$/, '') || run;
}

/** "steps 500, 1000 and 1500" (long lists shortened in the middle). */
function describeSteps(all: readonly RunCheckpoint[]): string {
  const steps = all.map((c) => String(c.step));
  if (steps.length === 1) return `only step ${steps[0]}`;
  const shown = steps.length > 12 ? [...steps.slice(0, 3), '...', ...steps.slice(-8)] : steps;
  return `steps ${shown.slice(0, -1).join(', ')} and ${shown.at(-1)}${steps.length > 12 ? ` (${steps.length} in all)` : ''}`;
}

/**
 * What to tell a user about a run directory without any complete checkpoint: the run stopped
 * before its first save, so there is nothing to evaluate and nothing to resume. `what` opens the
 * text. (Shared with `ofql-eval train`, which refuses to start a fresh run over it.)
 */
export function emptyRunDetail(run: string, what = 'training run directory without any checkpoint'): string {
  const leftovers = isDirectory(run) ? readdirSync(run).filter((n) => STEP_LEFTOVER.test(n)) : [];
  return (
    `${what}: the run stopped before it saved its first one ` +
    `(ofql-eval train writes ${stepDirName(0).replace(/0+$/, 'N')}/ every --save-every steps, when it finishes and when it is stopped with Ctrl-C)` +
    (leftovers.length > 0 ? `; ${leftovers.join(', ')} ${leftovers.length === 1 ? 'is an unfinished write' : 'are unfinished writes'}` : '') +
    `. There is nothing to evaluate and nothing to --resume: delete the directory and train again, or train into another --out`
  );
}

/**
 * One line for users when `r` was chosen inside a run (null for a checkpoint given directly), e.g.
 * "runs/h: the training run's latest checkpoint, step 1500 (/abs/runs/h/step-00001500); runs/h@N picks another".
 */
export function describeResolution(r: ResolvedCheckpointDir): string | null {
  if (r.run === null || r.via === 'step') return null;
  const which = r.via === 'latest' ? "the training run's latest checkpoint" : "the training run's newest complete checkpoint (no usable 'latest' link)";
  return `${r.given}: ${which}${r.step !== null ? `, step ${r.step}` : ''} (${r.dir}); ${stepSelector(r.given, r.run)}@N picks another`;
}
