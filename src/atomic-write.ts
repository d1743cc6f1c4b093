/**
 * Atomic file writes: a temp file in the target's directory, then a rename over the target, so a
 * reader (or a killed writer) never leaves half a file under the real name.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** Write `text` to `path` atomically (parent directories are created). */
export function writeFileAtomic(path: string, text: string | Uint8Array): void {
  const abs = resolve(path);
  mkdirSync(dirname(abs), { recursive: true });
  // `<name>.<pid>.<8 hex>.tmp`: the name src/output-path.ts recognises as a killed write's leftover.
  const tmp = `${abs}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, abs);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // nothing to clean up
    }
    throw err;
  }
}
