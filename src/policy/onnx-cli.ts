/**
 * The ONNX policy kind (`--policy model.onnx` or `--policy onnx:PATH`; the workers run
 * src/policy/onnx-policy.ts): before any worker starts, opens the model once with onnxruntime's
 * CPU provider and checks its inputs and outputs against every environment of the run
 * (src/policy/onnx-contract.ts), so a wrong shape, dtype or input count fails in a second with a
 * message naming the input, not after the pool has started.
 */
import { expandEnvList } from '../env-list.js';
import { envDims } from '../data/env-dims.js';
import { PolicyLoadError } from './errors.js';
import { fileKind, preparedModulePolicy } from './file-kind.js';
import type { PolicyArgs, PolicyKind, PreparedPolicy } from './kinds.js';
import { compiledPolicyModule } from './module-path.js';
import { checkOnnxContract } from './onnx-contract.js';
import { createOnnxSession, importOnnxRuntime, sessionInterface, type OnnxPolicyOptions } from './onnx-policy.js';

export const ONNX_PREFIX = 'onnx:';
/** One intra-op thread per worker: the workers themselves already use the cores. */
export const DEFAULT_ONNX_THREADS = 1;
const MAX_ONNX_THREADS = 256;

export const ONNX_CLI_OPTIONS = {
  'onnx-threads': { type: 'number', describe: `ONNX policies: onnxruntime intra-op threads per worker (default ${DEFAULT_ONNX_THREADS})` },
} as const;

/** The simulated environments of the run with their sizes (ids the registry cannot size are checked by the evaluator). */
function runDims(env: readonly string[] | undefined): Array<{ envId: string; observationSize: number; actionSize: number }> {
  if (env === undefined) return [];
  let ids: string[];
  try {
    ids = expandEnvList(env);
  } catch {
    return []; // the evaluator reports a bad --env with its own message
  }
  return ids.flatMap((envId) => {
    try {
      const d = envDims(envId);
      return d === undefined ? [] : [{ envId, ...d }];
    } catch {
      return [];
    }
  });
}

/** Open the model once and check it against every environment of the run. */
async function prepareOnnxPolicy(a: PolicyArgs, file: string): Promise<PreparedPolicy> {
  const label = a.policy!;
  const threads = (a.flags?.['onnx-threads'] as number | undefined) ?? DEFAULT_ONNX_THREADS;
  const ort = await importOnnxRuntime();
  let session;
  try {
    session = await createOnnxSession(ort, file, 1);
  } catch (e) {
    throw new PolicyLoadError(label, `onnxruntime cannot load ${file}: ${(e as Error).message}`, { cause: e });
  }
  try {
    const { inputs, outputs } = sessionInterface(session);
    for (const dims of runDims(a.env)) checkOnnxContract(inputs, outputs, dims);
  } catch (e) {
    throw new PolicyLoadError(label, `${file}: ${(e as Error).message}`, { cause: e });
  } finally {
    await session.release();
  }
  const options: OnnxPolicyOptions = { file, threads, label };
  return preparedModulePolicy(onnxKind, a, compiledPolicyModule(import.meta.url, 'onnx-policy.js', 'ONNX policy'), options);
}

/** `--policy model.onnx` or `--policy onnx:PATH`. */
export const onnxKind: PolicyKind = fileKind({
  name: 'onnx',
  label: 'ONNX policies',
  selectedBy: '--policy model.onnx',
  options: ONNX_CLI_OPTIONS,
  prefix: ONNX_PREFIX,
  isKindFile: (p) => p.toLowerCase().endsWith('.onnx'),
  examplePath: 'path/to/model.onnx',
  fileWhat: 'ONNX model',
  checkFlags(a) {
    const t = a.flags?.['onnx-threads'];
    if (t !== undefined && (typeof t !== 'number' || !Number.isInteger(t) || t < 1 || t > MAX_ONNX_THREADS)) {
      return `--onnx-threads must be an integer from 1 to ${MAX_ONNX_THREADS}, got ${String(t)}`;
    }
    return null;
  },
  prepareFile: prepareOnnxPolicy,
});
