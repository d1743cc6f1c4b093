/**
 * The PyTorch state-dict policy kind: `--ckpt actor.pth` (or `.pt`, or a torch-layout
 * `.safetensors`), optionally `--critic critic.pth` and `--time-scale <x>`, evaluated as an OFQL
 * agent (src/ofql/torch-state-dict.ts: sizes inferred from the shapes; a `config.json` beside the
 * actor may give envId, OfqlConfig fields, the sampler and the critic file). The OFQL flags
 * (--sampler, --qgbs-*, --backend, --ofql-actor) apply as for checkpoint directories.
 *
 * The workers run the same module as for OFQL checkpoint directories
 * (src/policy/ofql-checkpoint.ts), which reads the files itself (pure TypeScript, no temporary
 * checkpoint is written): the PolicyRef carries `critic` / `timeScale` and the sampler options.
 */
import { userPath } from '../paths.js';
import { PolicyLoadError } from './errors.js';
import type { PolicyArgs, PolicyKind, PreparedPolicy } from './kinds.js';
import { OFQL_CLI_OPTIONS, OFQL_NUMBER_FLAGS, OFQL_POLICY_NAME, ofqlPolicyModulePath, samplerOptionsOfFlags } from './ofql-cli.js';
import { givenFlags } from './given-flags.js';
import { checkOfqlBackend, type OfqlPolicyBackend } from './ofql-checkpoint.js';
import { isTorchStateDictPath, TORCH_SIDECAR } from '../ofql/torch-state-dict.js';

/** Recorded as the policy's name in result documents. */
export const TORCH_POLICY_NAME = 'ofql-torch';

export const TORCH_CLI_OPTIONS = {
  ...OFQL_CLI_OPTIONS,
  critic: {
    type: 'string',
    describe: `PyTorch OFQL actors (--ckpt actor.pth): the critic's state dict (.pth / .pt / .safetensors), needed by the critic-ranked samplers (default: "critic" in ${TORCH_SIDECAR} beside the actor, else none)`,
  },
  'time-scale': {
    type: 'number',
    describe: `PyTorch OFQL actors: t and r are multiplied by this before the sinusoidal embedding (default: ofql.timeScale in ${TORCH_SIDECAR}, else 1)`,
  },
} as const;

const NUMBER_FLAGS = [...OFQL_NUMBER_FLAGS, 'time-scale'] as const;

async function prepareTorchPolicy(a: PolicyArgs, cwd: string): Promise<PreparedPolicy> {
  const flags = a.flags ?? {};
  const actor = userPath(a.ckpt!, cwd);
  const critic = typeof flags.critic === 'string' ? userPath(flags.critic, cwd) : undefined;
  const timeScale = typeof flags['time-scale'] === 'number' ? flags['time-scale'] : undefined;
  const { readTorchOfqlModel, checkSamplerForTorchModel } = await import('../ofql/torch-state-dict.js');
  let model;
  try {
    model = await readTorchOfqlModel(actor, { critic, timeScale, cwd });
  } catch (e) {
    throw new PolicyLoadError(TORCH_POLICY_NAME, (e as Error).message, { cause: e });
  }
  const env = a.env ?? (model.envId !== undefined ? [model.envId] : undefined);
  if (env === undefined) {
    throw new PolicyLoadError(TORCH_POLICY_NAME, `${actor}: the state dict does not say which environment it is for; give --env (or "envId" in ${TORCH_SIDECAR} beside it)`);
  }
  // Sampler: config.json's defaults, the flags on top.
  const sampler = { ...(model.sidecar?.sampler ?? {}), ...samplerOptionsOfFlags(flags) };
  const { makeSamplerSpec } = await import('../ofql/sampler-spec.js');
  const spec = makeSamplerSpec((sampler.sampler as string | undefined) ?? 'one-step', sampler); // OptionError on bad values (a usage error)
  try {
    checkSamplerForTorchModel(model, spec.name);
  } catch (e) {
    throw new PolicyLoadError(TORCH_POLICY_NAME, (e as Error).message, { cause: e });
  }
  const options: Record<string, string | number> = { ...sampler };
  if (flags.backend !== undefined) options.backend = flags.backend as string;
  if (flags['ofql-actor'] !== undefined) options.actor = flags['ofql-actor'] as string;
  if (model.criticPath !== undefined) options.critic = model.criticPath;
  if (timeScale !== undefined) options.timeScale = timeScale;
  const given = givenFlags(TORCH_CLI_OPTIONS, flags);
  return { kind: 'ofql-torch', ref: { kind: 'module', spec: TORCH_POLICY_NAME, path: ofqlPolicyModulePath(), options }, env, flags: given };
}

/** `--ckpt <actor.pth | actor.pt | actor.safetensors>` without --policy (or with --policy ofql / ofql-torch). */
export const torchKind: PolicyKind = {
  name: 'ofql-torch',
  label: 'PyTorch OFQL state dicts',
  selectedBy: '--ckpt <actor.pth | actor.pt | actor.safetensors> (a file)',
  options: TORCH_CLI_OPTIONS,
  claims: (a) => a.policy === TORCH_POLICY_NAME || ((a.policy === undefined || a.policy === OFQL_POLICY_NAME) && isTorchStateDictPath(a.ckpt)),
  check(a) {
    if (!isTorchStateDictPath(a.ckpt)) return `--policy ${TORCH_POLICY_NAME} needs --ckpt <actor.pth | actor.pt | actor.safetensors>`;
    for (const n of NUMBER_FLAGS) {
      const v = a.flags?.[n];
      if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v))) return `--${n} must be a number`;
    }
    const ts = a.flags?.['time-scale'];
    if (typeof ts === 'number' && !(ts > 0)) return `--time-scale must be a positive number, got ${ts}`;
    const backend = a.flags?.backend as OfqlPolicyBackend | undefined;
    const mismatch = backend === undefined ? null : checkOfqlBackend(backend, (a.flags?.sampler as string | undefined) ?? 'one-step');
    if (mismatch !== null) return mismatch;
    const c = a.flags?.critic;
    if (c !== undefined && (typeof c !== 'string' || c === '')) return '--critic must be a file path';
    return null;
  },
  prepare: prepareTorchPolicy,
};
