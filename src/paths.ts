/** A path the user gave (a flag, a config field), absolute against `base` (default: the working directory). */
import { resolve } from 'node:path';

export function userPath(p: string, base: string = process.cwd()): string {
  return resolve(base, p);
}
