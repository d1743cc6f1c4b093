/**
 * The run directory `--out` names, made ready before training: a checkpoint path given for its
 * run, checkpoint writes a crash interrupted finished or discarded, a fresh run refused where
 * another run lives, a resume refused where there is nothing to resume.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  CHECKPOINT_FILES,
  emptyRunDetail,
  isRunDir,
  listRunCheckpoints,
  recoverCheckpointDir,
  resolveCheckpointDir,
  stepDirName,
  type RunCheckpoint,
} from '../checkpoint/index.js';
import { TrainError } from './errors.js';
import { FILES } from './options.js';

/** `step-N`, for messages about checkpoint directories in general. */
const STEP_N = stepDirName(0).replace(/0+$/, 'N');
/** A checkpoint write a crash interrupted (writeCheckpointDir's step-N.tmp-<pid>-<hex> / step-N.old-<pid>-<hex>). */
const INTERRUPTED_WRITE = /^(step-\d+)\.(tmp|old)-\d+-[0-9a-f]{8}$/;

/**
 * The run directory `--out` names. A checkpoint of a run (`<run>/latest`, `<run>/step-N`,
 * `<run>@N`) given where the run is meant: with --resume, the run's newest checkpoint is where it
 * continues anyway, so it names the run; any other checkpoint is refused, since training into a
 * checkpoint directory would write a second run inside it.
 */
export function runDirOfOut(given: string, resume: boolean): { out: string; note: string | null } {
  const abs = resolve(given);
  if (isRunDir(abs)) return { out: abs, note: null };
  const r = resolveCheckpointDir(given);
  if (r.run === null) {
    if (existsSync(join(abs, CHECKPOINT_FILES.config))) {
      throw new TrainError({
        code: 'out',
        file: abs,
        detail: `is a checkpoint directory, not a training run directory (one holding ${STEP_N}/ checkpoints); give a new --out`,
      });
    }
    return { out: abs, note: null };
  }
  const newest = listRunCheckpoints(r.run).at(-1);
  if (resume && newest !== undefined && newest.dir === r.dir) {
    return { out: r.run, note: `--out ${given} is the newest checkpoint (step ${newest.step}) of the run ${r.run}: resuming that run` };
  }
  const which = r.step !== null ? `step ${r.step}` : 'a checkpoint';
  throw new TrainError({
    code: resume ? 'resume' : 'out',
    file: abs,
    detail: resume
      ? `is ${which} of the training run ${r.run}, but --resume continues a run from its newest checkpoint (step ${newest?.step ?? '?'}); give --out ${r.run} --resume`
      : `is ${which} of the training run ${r.run}, not a run directory: continue that run with --out ${r.run} --resume, or start a new one in another --out`,
  });
}

/**
 * Make the run directory `out` (as `given` on the command line) ready for a fresh run or a resume;
 * returns its complete checkpoints, by step ascending.
 */
export async function prepareOutDir(out: string, given: string, resume: boolean): Promise<RunCheckpoint[]> {
  if (existsSync(out) && !statSync(out).isDirectory()) {
    throw new TrainError({ code: 'out', file: out, detail: 'exists and is not a directory' });
  }
  await recoverInterruptedWrites(out);
  const existing = listRunCheckpoints(out);
  if (!resume && existsSync(out)) refuseOtherRun(out, existing);
  if (resume && existing.length === 0) {
    throw new TrainError({
      code: 'resume',
      file: out,
      detail: isRunDir(out)
        ? `--resume: no checkpoint to resume from: ${emptyRunDetail(out, 'the training run directory holds none')}`
        : `--resume: no checkpoint to resume from (expected ${STEP_N}/ directories from an earlier 'ofql-eval train --out ${given}')`,
    });
  }
  return existing;
}

/** Finish or discard the checkpoint writes a crash interrupted (leftover step-N.tmp-* / step-N.old-*). */
async function recoverInterruptedWrites(out: string): Promise<void> {
  if (!existsSync(out)) return;
  const bases = new Set<string>();
  for (const name of readdirSync(out)) {
    const m = INTERRUPTED_WRITE.exec(name);
    if (m) bases.add(m[1]!);
  }
  for (const b of bases) await recoverCheckpointDir(join(out, b));
}

/** A fresh run must not write into another run's checkpoints and logs. */
function refuseOtherRun(out: string, existing: readonly RunCheckpoint[]): void {
  const clutter = [...existing.map((c) => c.dir), ...[FILES.metrics, FILES.eval].map((f) => join(out, f)).filter((f) => existsSync(f))];
  if (clutter.length === 0) return;
  const held = clutter.map((c) => c.slice(out.length + 1)).join(', ');
  throw new TrainError({
    code: 'out',
    file: out,
    // --resume is only advice when there is a checkpoint to resume from.
    detail:
      existing.length > 0
        ? `already holds a training run (${held}); pass --resume to continue it, or choose another --out`
        : emptyRunDetail(out, `already holds a training run (${held}) without any checkpoint`),
  });
}
