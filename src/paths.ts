/** A path the user gave (a flag, a config field), absolute against `base` (default: the working directory). */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { OptionError } from './option-error.js';

export function userPath(p: string, base: string = process.cwd()): string {
  return resolve(base, p);
}

/**
 * A plug-in's `--ckpt` (spec.ckpt): absolute when it names a file or directory, else the string as
 * given (a plug-in may take any identifier). Empty is refused.
 */
export function pluginCheckpoint(ckpt: string, base: string = process.cwd()): string {
  if (ckpt.trim() === '') throw new OptionError('--ckpt is empty');
  const abs = userPath(ckpt, base);
  return existsSync(abs) ? abs : ckpt;
}
