/**
 * Where the compiled worker-side module of a policy kind lives: next to the calling module when
 * running from dist/, else under the package's dist/src/policy/ (e.g. when run through tsx/vitest).
 */
import { compiledFile } from '../worker-pool.js';

/** `callerUrl`: the caller's `import.meta.url`; `file`: e.g. 'ofql-checkpoint.js'. */
export function compiledPolicyModule(callerUrl: string, file: string, what: string): string {
  return compiledFile(callerUrl, file, 'src/policy', `${what} module`);
}
