/**
 * Which policy a collect run rolls out: `--policy` as the evaluator names it (any policy kind:
 * built-ins, plug-ins, ONNX models, Python, OFQL and PyTorch checkpoints), or a linear-policy JSON (ARS behaviour policies, src/behaviour/linear-policy.ts).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../cli-errors.js';
import { LINEAR_POLICY_FORMAT } from '../behaviour/linear.js';
import { namesTrainingRun, type ResolvedCheckpointDir } from '../checkpoint/run-dir.js';
import { isTorchStateDictPath } from '../ofql/torch-state-dict.js';
import { pluginCheckpoint } from '../paths.js';
import { PolicyLoadError } from '../policy/errors.js';
import { isBuiltinPolicyName } from '../policy/builtin.js';
import { OFQL_POLICY_NAME } from '../policy/ofql-cli.js';
import { TORCH_POLICY_NAME } from '../policy/torch-cli.js';
import type { PolicyRef } from '../policy/types.js';

/** The message when neither --policy nor --ckpt names a policy. */
export const NO_POLICY = 'give the policy: --policy <random|zero|ofql|./policy.mjs> or --ckpt <linear-policy.json | OFQL checkpoint dir>';

/** A resolved collect policy: what the workers load, and the checkpoint directory that was checked. */
export interface CollectPolicy {
  ref: PolicyRef;
  ckpt?: string;
  ckptResolved?: ResolvedCheckpointDir;
}

/** Where the built-in linear-policy plug-in lives (dist/src/behaviour/linear-policy.js when built). */
export function linearPolicyModulePath(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', 'behaviour', 'linear-policy.js');
}

/**
 * The policy of a collect run: `--policy` as the evaluator resolves it; `--policy ofql` or only
 * `--ckpt <dir>`: the OFQL checkpoint policy (src/policy/ofql-cli.ts validates the directory and
 * hands the sampler options to the workers); only `--ckpt <file.json>` in the linear-policy format:
 * src/behaviour/linear-policy.ts.
 */
export async function resolveCollectPolicy(
  policy: string | undefined,
  ckpt: string | undefined,
  cwd: string,
  envId: string,
  ofqlOptions: Record<string, unknown> = {},
): Promise<CollectPolicy> {
  const ckptAbs = ckpt === undefined ? undefined : resolveCkpt(ckpt, cwd);
  const ofqlGiven = Object.keys(ofqlOptions).filter((k) => ofqlOptions[k] !== undefined);
  const isOfql =
    policy === OFQL_POLICY_NAME ||
    policy === TORCH_POLICY_NAME ||
    (policy === undefined &&
      ckpt !== undefined &&
      (isTorchStateDictPath(ckptAbs) || (existsSync(ckptAbs!) && statSync(ckptAbs!).isDirectory()) || namesTrainingRun(ckpt, cwd)));
  if (!isOfql && ofqlGiven.length > 0) {
    throw new UsageError(`--${ofqlGiven[0]} only applies to OFQL checkpoints (--ckpt <dir> or <actor.pth> without --policy, or --policy ofql)`);
  }
  if (isOfql && ckpt === undefined) throw new UsageError('--policy ofql needs --ckpt <OFQL checkpoint directory>');
  if (policy !== undefined && isBuiltinPolicyName(policy) && ckpt !== undefined) {
    throw new PolicyLoadError(policy, `--ckpt was given, but '${policy}' is a built-in policy that takes no checkpoint`);
  }
  if (isOfql || policy !== undefined) {
    // Every kind the evaluator knows (OFQL, PyTorch, ONNX, Python, plug-ins), checked before any worker starts.
    const { preparePolicy, PolicyArgsError } = await import('../policy/kinds.js');
    let prepared;
    try {
      prepared = await preparePolicy({ policy, ckpt, env: [envId], flags: isOfql ? ofqlOptions : {} }, cwd);
    } catch (e) {
      if (e instanceof PolicyArgsError) throw new UsageError(e.message);
      throw e;
    }
    // The workers load the directory that was checked (a training run's step-N/, not its moving `latest`).
    return { ref: prepared.ref, ckpt: prepared.ckpt?.dir ?? ckptAbs, ckptResolved: prepared.ckpt };
  }
  if (ckptAbs === undefined) throw new UsageError(NO_POLICY);
  if (!existsSync(ckptAbs)) throw new UsageError(`--ckpt ${ckpt}: no such file or directory`);
  let format: unknown;
  try {
    format = (JSON.parse(readFileSync(ckptAbs, 'utf8')) as { format?: unknown }).format;
  } catch (err) {
    throw new UsageError(`--ckpt ${ckpt} is neither a directory nor a JSON file: ${(err as Error).message}`);
  }
  if (format === LINEAR_POLICY_FORMAT) {
    const path = linearPolicyModulePath();
    return { ref: { kind: 'module', spec: path, path }, ckpt: ckptAbs };
  }
  throw new UsageError(
    `--ckpt ${ckpt} has format ${JSON.stringify(format)}; without --policy, --ckpt must be a "${LINEAR_POLICY_FORMAT}" JSON file or an OFQL checkpoint directory`,
  );
}

function resolveCkpt(ckpt: string, cwd: string): string {
  if (ckpt.trim() === '') throw new UsageError('--ckpt is empty');
  return pluginCheckpoint(ckpt, cwd);
}
