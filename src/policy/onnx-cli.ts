/**
 * The ONNX policy kind (`--policy model.onnx` or `--policy onnx:PATH`; the workers run
 * src/policy/onnx-policy.ts): before any worker starts, opens the model once with onnxruntime's
 * CPU provider and checks its inputs and outputs against every environment of the run
 * (src/policy/onnx-contract.ts), so a wrong shape, dtype or input count fails in a second with a
 * message naming the input, not after the pool has started.
 */
import { userPath } from '../paths.js';
import { expandEnvList } from '../env-list.js';
import { envDims } from '../data/env-dims.js';
import { PolicyLoadError, requirePolicyFile } from './errors.js';
import { givenFlags } from './given-flags.js';
import type { PolicyArgs, PolicyKind, PreparedPolicy } from './kinds.js';
import { compiledPolicyModule } from './module-path.js';
import { checkOnnxContract } from './onnx-contract.js';
import { createOnnxSession, importOnnxRuntime, sessionInterface, type OnnxPolicyOptions } from './onnx-policy.js';
import type { PolicyRef } from './types.js';

export const ONNX_PREFIX = 'onnx:';
/** One intra-op thread per worker: the workers themselves already use the cores. */
export const DEFAULT_ONNX_THREADS = 1;
const MAX_ONNX_THREADS = 256;

export const ONNX_CLI_OPTIONS = {
  'onnx-threads': { type: 'number', describe: `ONNX policies: onnxruntime intra-op threads per worker (default ${DEFAULT_ONNX_THREADS})` },
} as const;

const isOnnxPolicy = (p: string | undefined): boolean => p !== undefined && (p.startsWith(ONNX_PREFIX) || p.toLowerCase().endsWith('.onnx'));

/** The file a `--policy` value names. */
function onnxFileOf(policy: string, cwd: string): string {
  const given = policy.startsWith(ONNX_PREFIX) ? policy.slice(ONNX_PREFIX.length) : policy;
  return userPath(given, cwd);
}

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

async function prepareOnnxPolicy(a: PolicyArgs, cwd: string): Promise<PreparedPolicy> {
  const label = a.policy!;
  const file = onnxFileOf(label, cwd);
  requirePolicyFile(label, file, 'ONNX model');
  const flags = a.flags ?? {};
  const threads = (flags['onnx-threads'] as number | undefined) ?? DEFAULT_ONNX_THREADS;
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
  const ref: PolicyRef = { kind: 'module', spec: label, path: compiledPolicyModule(import.meta.url, 'onnx-policy.js', 'ONNX policy'), options: { ...options } };
  const used = givenFlags(ONNX_CLI_OPTIONS, flags);
  return { kind: 'onnx', ref, env: a.env, flags: used };
}

/** `--policy model.onnx` or `--policy onnx:PATH`. */
export const onnxKind: PolicyKind = {
  name: 'onnx',
  label: 'ONNX policies',
  selectedBy: '--policy model.onnx',
  options: ONNX_CLI_OPTIONS,
  claims: (a) => isOnnxPolicy(a.policy),
  check(a) {
    if (a.policy === ONNX_PREFIX) return `--policy ${ONNX_PREFIX} needs a file: --policy ${ONNX_PREFIX}path/to/model.onnx`;
    const t = a.flags?.['onnx-threads'];
    if (t !== undefined && (typeof t !== 'number' || !Number.isInteger(t) || t < 1 || t > MAX_ONNX_THREADS)) {
      return `--onnx-threads must be an integer from 1 to ${MAX_ONNX_THREADS}, got ${String(t)}`;
    }
    return null;
  },
  prepare: prepareOnnxPolicy,
};
