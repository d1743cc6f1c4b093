/**
 * What `--ckpt` names for a policy, decided on the main thread before any worker starts: for a
 * kind that reads training-run checkpoints (PolicyRef `ckptRunDir`), one step-N/ directory of a
 * run; for any other policy the path made absolute (or the string as given, for plug-ins that
 * take other identifiers).
 */
import { resolveCheckpointDir, type ResolvedCheckpointDir } from '../checkpoint/run-dir.js';
import { pluginCheckpoint } from '../paths.js';
import { PolicyLoadError } from './errors.js';
import { policyLabel } from './load.js';
import type { PolicyRef } from './types.js';
import { OptionError } from '../option-error.js';

/** Does `ref`'s kind take a training run directory as its checkpoint (and record which step it read)? */
export function takesRunDirCheckpoint(ref: PolicyRef): boolean {
  return ref.kind === 'module' && ref.ckptRunDir === true;
}

/**
 * The checkpoint directory `ckpt` names: itself, or for a training run directory the checkpoint
 * its `latest` names, `<run>@N` step N (src/checkpoint/run-dir.ts). An unknown step or a run
 * without any checkpoint is a PolicyLoadError of policy `label` naming the directory.
 */
export function resolveRunCheckpoint(label: string, ckpt: string, cwd: string): ResolvedCheckpointDir {
  try {
    return resolveCheckpointDir(ckpt, cwd);
  } catch (e) {
    throw new PolicyLoadError(label, (e as Error).message, { cause: e });
  }
}

/** `ckpt` as the workers get it (null: none given); OptionError when it is empty. */
export function resolvePolicyCheckpoint(ref: PolicyRef, ckpt: string | undefined, cwd: string): ResolvedCheckpointDir | null {
  if (ckpt === undefined) return null;
  if (ckpt.trim() === '') throw new OptionError('--ckpt is empty');
  if (takesRunDirCheckpoint(ref)) return resolveRunCheckpoint(policyLabel(ref), ckpt, cwd);
  return { given: ckpt, dir: pluginCheckpoint(ckpt, cwd), run: null, step: null, via: 'checkpoint' };
}
