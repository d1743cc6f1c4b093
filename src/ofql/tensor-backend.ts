/**
 * Choose the TensorFlow.js backend OFQL runs on.
 *
 * - 'wasm' (default): @tensorflow/tfjs-backend-wasm, a declared dependency; SIMD where the
 *   runtime has it. Fast, deterministic, pure JS/WASM.
 * - 'cpu': the plain-JS reference backend shipped inside @tensorflow/tfjs (slow; handy to cross-check).
 * - 'tensorflow': native libtensorflow via @tensorflow/tfjs-node-gpu, else @tensorflow/tfjs-node.
 *   Those are optional and NOT dependencies of this package (they need native binaries), so
 *   they are only ever loaded with a dynamic import() and a missing one gives a clear error.
 */
import { tf } from './tf.js';

export type BackendName = 'wasm' | 'cpu' | 'tensorflow';

export interface BackendInfo {
  /** Backend tf reports after initialisation. */
  name: BackendName;
  /** For 'tensorflow': which package provided it. */
  package?: string;
}

export class BackendUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BackendUnavailableError';
  }
}

/** Native packages tried for 'tensorflow', in order. */
export const NATIVE_TF_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;

function isModuleNotFound(err: unknown, pkg: string): boolean {
  const e = err as { code?: string; message?: string } | null;
  if (!e) return false;
  const code = e.code ?? '';
  const msg = String(e.message ?? '');
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && msg.includes(pkg);
}

async function loadNative(): Promise<string> {
  const failures: string[] = [];
  for (const pkg of NATIVE_TF_PACKAGES) {
    try {
      // A variable specifier keeps TypeScript and bundlers from resolving an optional package.
      const spec: string = pkg;
      await import(spec);
      return pkg;
    } catch (err) {
      if (isModuleNotFound(err, pkg)) {
        failures.push(`${pkg}: not installed`);
        continue;
      }
      throw new BackendUnavailableError(
        `backend 'tensorflow': ${pkg} is installed but failed to load (${(err as Error)?.message ?? String(err)}). ` +
          `Its native libtensorflow binary may be missing or built for another platform; reinstall it ` +
          `(npm rebuild ${pkg}) or use initBackend('wasm').`,
        { cause: err },
      );
    }
  }
  throw new BackendUnavailableError(
    `backend 'tensorflow' needs a native TensorFlow.js package, and none is installed (${failures.join('; ')}). ` +
      `Install one matching @tensorflow/tfjs ${tf.version_core}: ` +
      `\`npm install @tensorflow/tfjs-node@${tf.version_core}\` (CPU) or ` +
      `\`npm install @tensorflow/tfjs-node-gpu@${tf.version_core}\` (CUDA GPU), ` +
      `or use initBackend('wasm') (default) / initBackend('cpu').`,
  );
}

/**
 * Make `name` the active backend (default 'wasm') and wait until it is ready. Idempotent.
 * Throws BackendUnavailableError with installation advice when it cannot.
 */
export async function initBackend(name: BackendName = 'wasm'): Promise<BackendInfo> {
  let pkg: string | undefined;
  if (name === 'wasm') {
    // Registers the 'wasm' backend factory; the .wasm binary loads on setBackend.
    await import('@tensorflow/tfjs-backend-wasm');
  } else if (name === 'tensorflow') {
    pkg = await loadNative();
  } else if (name !== 'cpu') {
    throw new BackendUnavailableError(`unknown backend '${String(name)}'; use 'wasm', 'cpu' or 'tensorflow'`);
  }
  if (tf.getBackend() !== name) {
    const ok = await tf.setBackend(name);
    if (!ok) {
      throw new BackendUnavailableError(
        `backend '${name}' failed to initialise` +
          (name === 'tensorflow'
            ? ` (${pkg} loaded, but it registered with another copy of @tensorflow/tfjs-core; ` +
              `install the version matching @tensorflow/tfjs ${tf.version_core})`
            : ''),
      );
    }
  }
  await tf.ready();
  return pkg ? { name, package: pkg } : { name };
}

/** Name of the active backend. */
export function currentBackend(): string {
  return tf.getBackend();
}
