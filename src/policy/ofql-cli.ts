/**
 * The OFQL checkpoint policy kind (src/policy/ofql-checkpoint.ts runs in the workers): its
 * command-line options, their checks, and turning `--ckpt <dir>` (no `--policy`, or `--policy
 * ofql`) into the policy reference + environment list the evaluator runs (src/policy/kinds.ts).
 *
 * TensorFlow.js is imported (dynamically, in the workers) only when an OFQL checkpoint is
 * actually evaluated; this file reads only the checkpoint's JSON and safetensors headers.
 */
import { join } from 'node:path';
import { PolicyLoadError } from './errors.js';
import { givenFlags } from './given-flags.js';
import { compiledPolicyModule } from './module-path.js';
import { resolveRunCheckpoint } from './policy-checkpoint.js';
import { checkOfqlBackend, type OfqlPolicyBackend } from './ofql-checkpoint.js';
import type { PolicyArgs, PolicyKind, PreparedPolicy } from './kinds.js';
import type { PolicyRef } from './types.js';

/** `--policy` value that selects the OFQL checkpoint policy (also the default when only --ckpt is given). */
export const OFQL_POLICY_NAME = 'ofql';

const SAMPLERS = ['one-step', 'dql', 'best-of-n', 'qgbs'] as const;
const BACKENDS = ['onnx', 'wasm', 'cpu', 'tensorflow'] as const;

/** yargs option definitions (no defaults, so that "given" can be told from "not given"). */
export const OFQL_CLI_OPTIONS = {
  sampler: {
    choices: SAMPLERS,
    describe: 'OFQL checkpoints: how actions are drawn (default one-step; see docs/samplers.md)',
  },
  'sampler-n': { type: 'number', describe: 'OFQL: candidates per state for dql (default 50) / best-of-n (default 32)' },
  'noise-scale': { type: 'number', describe: 'OFQL one-step: scale of the noise eps the action is mapped from (default 1; 0 = deterministic, the map of eps = 0)' },
  'qgbs-k': { type: 'number', describe: 'OFQL qgbs: search rounds K (default 1; 0 = best-of-M)' },
  'qgbs-b': { type: 'number', describe: 'OFQL qgbs: branches per beam B (default 4)' },
  'qgbs-m': { type: 'number', describe: 'OFQL qgbs: beams M (default 4)' },
  'qgbs-snr': { type: 'number', describe: 'OFQL qgbs: re-noising SNR (default 1.5; re-noise time t = 1/(1+SNR))' },
  'qgbs-eta': { type: 'number', describe: 'OFQL qgbs: trust-region step eta (default 0.3)' },
  'qgbs-kappa': { type: 'number', describe: 'OFQL qgbs: trust-region damping kappa (default 0.001)' },
  backend: { choices: BACKENDS, describe: 'OFQL checkpoints: onnxruntime (one-step sampler only) or a TensorFlow.js backend in each worker (default onnx for one-step, else wasm)' },
  'ofql-actor': { choices: ['ema', 'online'] as const, describe: "OFQL checkpoints: act with the EMA or the online actor (default: the checkpoint's evalActor)" },
} as const;

/** The OFQL flags that take a number (the PyTorch kind adds its own). */
export const OFQL_NUMBER_FLAGS = ['sampler-n', 'noise-scale', 'qgbs-k', 'qgbs-b', 'qgbs-m', 'qgbs-snr', 'qgbs-eta', 'qgbs-kappa'] as const;

/** Path of the compiled policy module the workers import. */
export function ofqlPolicyModulePath(): string {
  return compiledPolicyModule(import.meta.url, 'ofql-checkpoint.js', 'OFQL policy');
}

const defined = (o: Record<string, unknown>): Record<string, string | number> =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Record<string, string | number>;

/** The sampler fields of OfqlPolicyOptions (src/policy/ofql-checkpoint.ts) the flags describe (also used by the PyTorch kind). */
export function samplerOptionsOfFlags(f: Readonly<Record<string, unknown>>): Record<string, string | number> {
  return defined({
    sampler: f.sampler,
    n: f['sampler-n'],
    noiseScale: f['noise-scale'],
    K: f['qgbs-k'],
    B: f['qgbs-b'],
    M: f['qgbs-m'],
    SNR: f['qgbs-snr'],
    eta: f['qgbs-eta'],
    kappa: f['qgbs-kappa'],
  });
}

/** The OfqlPolicyOptions the flags describe: the sampler's, the backend and the actor. */
function policyOptionsOfFlags(f: Readonly<Record<string, unknown>>): Record<string, string | number> {
  return { ...samplerOptionsOfFlags(f), ...defined({ backend: f.backend, actor: f['ofql-actor'] }) };
}

/** The module reference the workers load for an OFQL checkpoint, with its options. */
export function ofqlPolicyRef(options: Record<string, string | number>): PolicyRef {
  // ckptRunDir: `--ckpt <run>` evaluates one step-N/ checkpoint of a training run.
  return { kind: 'module', spec: OFQL_POLICY_NAME, path: ofqlPolicyModulePath(), options, ckptRunDir: true };
}

/**
 * Resolve `--ckpt` (a training run directory names one of its checkpoints) and check that
 * checkpoint (config + every tensor name / shape, no optimizer), pick the environment
 * from its config when --env is absent, and validate the sampler options. Checkpoint problems
 * become PolicyLoadError naming the file.
 */
async function prepareOfqlPolicy(a: PolicyArgs, cwd: string): Promise<PreparedPolicy> {
  const resolved = resolveRunCheckpoint(OFQL_POLICY_NAME, a.ckpt!, cwd);
  const dir = resolved.dir;
  const flags = a.flags ?? {};
  const { validateOfqlCheckpoint } = await import('../ofql/checkpoint.js');
  let envId: string | undefined;
  let trainCritic = true;
  try {
    let config;
    ({ envId, config } = await validateOfqlCheckpoint(dir));
    trainCritic = config.trainCritic;
  } catch (e) {
    throw new PolicyLoadError(OFQL_POLICY_NAME, (e as Error).message, { cause: e });
  }
  const env = a.env ?? (envId !== undefined ? [envId] : undefined);
  if (env === undefined) {
    throw new PolicyLoadError(OFQL_POLICY_NAME, `${join(dir, 'config.json')} has no envId; give --env`);
  }
  const options = policyOptionsOfFlags(flags);
  const { makeSamplerSpec, checkSamplerForCheckpoint } = await import('../ofql/sampler-spec.js');
  const spec = makeSamplerSpec((options.sampler as string | undefined) ?? 'one-step', options); // OptionError on bad values (a usage error)
  try {
    checkSamplerForCheckpoint(dir, trainCritic, spec.name);
  } catch (e) {
    throw new PolicyLoadError(OFQL_POLICY_NAME, (e as Error).message, { cause: e });
  }
  const given = givenFlags(OFQL_CLI_OPTIONS, flags);
  return { kind: 'ofql', ref: ofqlPolicyRef(options), env, flags: given, ckpt: resolved };
}

/** `--ckpt <dir>` alone, or `--policy ofql --ckpt <dir>`. */
export const ofqlKind: PolicyKind = {
  name: 'ofql',
  label: 'OFQL checkpoints',
  selectedBy: '--ckpt <OFQL checkpoint or training run directory> without --policy, or --policy ofql',
  options: OFQL_CLI_OPTIONS,
  claims: (a) => a.policy === OFQL_POLICY_NAME || (a.policy === undefined && a.ckpt !== undefined),
  check(a) {
    if (a.ckpt === undefined) return '--policy ofql needs --ckpt <OFQL checkpoint directory>';
    for (const n of OFQL_NUMBER_FLAGS) {
      const v = a.flags?.[n];
      if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v))) return `--${n} must be a number`;
    }
    const backend = a.flags?.backend as OfqlPolicyBackend | undefined;
    return backend === undefined ? null : checkOfqlBackend(backend, (a.flags?.sampler as string | undefined) ?? 'one-step');
  },
  prepare: prepareOfqlPolicy,
};
