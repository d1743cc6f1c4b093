/**
 * The CLI side of the OFQL checkpoint policy (src/policy/ofql-checkpoint.ts): its command-line
 * options, their checks, and turning `--ckpt <dir>` (no `--policy`, or `--policy ofql`) into the
 * policy module reference + environment list the evaluator runs.
 *
 * Kept out of src/cli.ts so that the CLI needs only a few lines, and so that TensorFlow.js is
 * imported (dynamically) only when an OFQL checkpoint is actually evaluated.
 */
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageRoot } from '../mujoco/bridge.js';
import { PolicyLoadError } from './errors.js';
import type { PolicyRef } from './types.js';

/** Environment variable that hands the CLI's OFQL policy options to the worker threads (JSON). */
export const OFQL_POLICY_ENV = 'OFQL_EVAL_OFQL_POLICY';

/** `--policy` value that selects the OFQL checkpoint policy (also the default when only --ckpt is given). */
export const OFQL_POLICY_NAME = 'ofql';

const SAMPLERS = ['one-step', 'dql', 'best-of-n', 'qgbs'] as const;
const BACKENDS = ['wasm', 'cpu', 'tensorflow'] as const;

/** yargs option definitions (no defaults, so that "given" can be told from "not given"). */
export const OFQL_CLI_OPTIONS = {
  sampler: {
    choices: SAMPLERS,
    describe: 'OFQL checkpoints: how actions are drawn (default one-step; see docs/samplers.md)',
  },
  'sampler-n': { type: 'number', describe: 'OFQL: candidates per state for dql (default 50) / best-of-n (default 32)' },
  'qgbs-k': { type: 'number', describe: 'OFQL qgbs: search rounds K (default 1; 0 = best-of-M)' },
  'qgbs-b': { type: 'number', describe: 'OFQL qgbs: branches per beam B (default 4)' },
  'qgbs-m': { type: 'number', describe: 'OFQL qgbs: beams M (default 4)' },
  'qgbs-snr': { type: 'number', describe: 'OFQL qgbs: re-noising SNR (default 1.5; re-noise time t = 1/(1+SNR))' },
  'qgbs-eta': { type: 'number', describe: 'OFQL qgbs: trust-region step eta (default 0.3)' },
  'qgbs-kappa': { type: 'number', describe: 'OFQL qgbs: trust-region damping kappa (default 0.001)' },
  backend: { choices: BACKENDS, describe: 'OFQL checkpoints: TensorFlow.js backend in each worker (default wasm)' },
  'ofql-actor': { choices: ['ema', 'online'] as const, describe: "OFQL checkpoints: act with the EMA or the online actor (default: the checkpoint's evalActor)" },
} as const;

const OPTION_NAMES = Object.keys(OFQL_CLI_OPTIONS) as (keyof typeof OFQL_CLI_OPTIONS)[];

type Args = { policy?: string; ckpt?: string; env?: string[] };

/** Is this run an OFQL checkpoint evaluation? */
export function isOfqlRun(a: Args): boolean {
  return a.policy === OFQL_POLICY_NAME || (a.policy === undefined && a.ckpt !== undefined);
}

/** Synchronous checks for yargs `.check`: returns an error message or null. */
export function checkOfqlArgs(args: Args): string | null {
  const a = args as Args & Record<string, unknown>;
  for (const name of OPTION_NAMES) if (Array.isArray(a[name])) return `--${name} was given more than once`;
  if (a.policy === undefined && a.ckpt === undefined) {
    return 'Missing required argument: policy (give --policy random|zero|./my-policy.mjs, or --ckpt <OFQL checkpoint directory>)';
  }
  if (a.policy === OFQL_POLICY_NAME && a.ckpt === undefined) return "--policy ofql needs --ckpt <OFQL checkpoint directory>";
  const given = OPTION_NAMES.filter((n) => a[n] !== undefined);
  if (!isOfqlRun(a) && given.length > 0) {
    return `--${given[0]} only applies to OFQL checkpoints (--ckpt <dir> without --policy, or --policy ofql)`;
  }
  if (a.env === undefined && !isOfqlRun(a)) return 'Missing required argument: env (give the environment(s), e.g. --env hopper-medium-v2)';
  for (const n of ['sampler-n', 'qgbs-k', 'qgbs-b', 'qgbs-m', 'qgbs-snr', 'qgbs-eta', 'qgbs-kappa'] as const) {
    const v = a[n];
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v))) return `--${n} must be a number`;
  }
  return null;
}

/** Path of the compiled policy module the workers import. */
export function ofqlPolicyModulePath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, 'ofql-checkpoint.js'), join(packageRoot, 'dist', 'src', 'policy', 'ofql-checkpoint.js')];
  for (const c of candidates) if (existsSync(c)) return c;
  throw new Error(`ofql-eval: compiled OFQL policy module not found (looked for ${candidates.join(', ')}); run 'npm run build' first`);
}

/**
 * For an OFQL run: check the checkpoint (config + every tensor name / shape, no optimizer), pick the
 * environment from its config when --env is absent, validate the sampler options, and hand them to
 * the worker threads (environment variable, set before the pool starts). Returns what to evaluate.
 * Checkpoint problems become PolicyLoadError naming the file.
 */
export async function prepareOfqlRun(args: Args, cwd: string = process.cwd()): Promise<{ env: string[]; policy: PolicyRef; description: string }> {
  const a = args as Args & Record<string, unknown>;
  const ckpt = a.ckpt!;
  const dir = isAbsolute(ckpt) ? ckpt : resolve(cwd, ckpt);
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
  const options = {
    sampler: a.sampler as string | undefined,
    n: a['sampler-n'] as number | undefined,
    K: a['qgbs-k'] as number | undefined,
    B: a['qgbs-b'] as number | undefined,
    M: a['qgbs-m'] as number | undefined,
    SNR: a['qgbs-snr'] as number | undefined,
    eta: a['qgbs-eta'] as number | undefined,
    kappa: a['qgbs-kappa'] as number | undefined,
    backend: a.backend as 'wasm' | 'cpu' | 'tensorflow' | undefined,
    actor: a['ofql-actor'] as 'ema' | 'online' | undefined,
  };
  const { makeSamplerSpec, describeSampler, checkSamplerForCheckpoint } = await import('../ofql/sampler-spec.js');
  const spec = makeSamplerSpec(options.sampler ?? 'one-step', options); // RangeError on bad values (a usage error)
  try {
    checkSamplerForCheckpoint(dir, trainCritic, spec.name);
  } catch (e) {
    throw new PolicyLoadError(OFQL_POLICY_NAME, (e as Error).message, { cause: e });
  }
  process.env[OFQL_POLICY_ENV] = JSON.stringify(options);
  return { env, policy: { kind: 'module', spec: OFQL_POLICY_NAME, path: ofqlPolicyModulePath() }, description: describeSampler(spec) };
}
