/**
 * vitest globalSetup: compile the project once (tsc -> dist/) before any test file runs.
 * The evaluation workers (dist/eval/worker.js) and the CLI (dist/src/cli.js) run as compiled
 * JavaScript, so the tests exercise exactly what ships.
 *
 * tsc emits even when some file has a type error; we then print the errors and go on as long
 * as the outputs the tests need exist (type checking is `npm run typecheck`'s job).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const res = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.json')], { cwd: root, encoding: 'utf8' });
  const needed = ['dist/eval/worker.js', 'dist/src/cli.js'].map((p) => join(root, p));
  if (res.status !== 0) {
    process.stderr.write(`[global-setup] tsc reported errors (continuing with the emitted files):\n${res.stdout}${res.stderr}\n`);
  }
  const missing = needed.filter((p) => !existsSync(p));
  if (missing.length > 0) throw new Error(`[global-setup] build did not produce ${missing.join(', ')}`);
}
