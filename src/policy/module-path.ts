/**
 * Where the compiled worker-side module of a policy kind lives: next to the calling module when
 * running from dist/, else under the package's dist/src/policy/ (e.g. when run through tsx/vitest).
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageRoot } from '../mujoco/bridge.js';

/** `callerUrl`: the caller's `import.meta.url`; `file`: e.g. 'ofql-checkpoint.js'. */
export function compiledPolicyModule(callerUrl: string, file: string, what: string): string {
  const candidates = [join(dirname(fileURLToPath(callerUrl)), file), join(packageRoot, 'dist', 'src', 'policy', file)];
  for (const c of candidates) if (existsSync(c)) return c;
  throw new Error(`ofql-eval: compiled ${what} module not found (looked for ${candidates.join(', ')}); run 'npm run build' first`);
}
