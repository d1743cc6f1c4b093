/**
 * Resolving `--policy` (a built-in name or an ES module path) and loading a policy.
 */
import { userPath } from '../paths.js';
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BUILTIN_POLICIES, isBuiltinPolicyName } from './builtin.js';
import { PolicyLoadError } from './errors.js';
import type { Policy, PolicyFactory, PolicyRef, PolicySpec } from './types.js';
import { makeEnv } from '../make-env.js';
import type { LocomotionEnv } from '../../envs/locomotion-env.js';

export const BUILTIN_POLICY_NAMES = Object.keys(BUILTIN_POLICIES) as (keyof typeof BUILTIN_POLICIES)[];

/**
 * `random` / `zero` -> a built-in; anything else is a path (relative to `cwd`) or `file:` URL
 * of an ES module, which must exist.
 */
export function resolvePolicyRef(policy: string, cwd: string = process.cwd()): PolicyRef {
  if (typeof policy !== 'string' || policy.trim() === '') {
    throw new PolicyLoadError(String(policy), 'empty policy name; use a built-in (random, zero) or a path to an ES module');
  }
  if (isBuiltinPolicyName(policy)) return { kind: 'builtin', name: policy };
  const path = policy.startsWith('file:') ? fileURLToPath(policy) : userPath(policy, cwd);
  if (!existsSync(path)) {
    throw new PolicyLoadError(
      policy,
      `not a built-in policy (${BUILTIN_POLICY_NAMES.join(', ')}) and no file at ${path}`,
    );
  }
  if (!statSync(path).isFile()) throw new PolicyLoadError(policy, `${path} is not a file`);
  return { kind: 'module', spec: policy, path };
}

/** Short name for messages: the built-in's name or the module path as given. */
export function policyLabel(ref: PolicyRef): string {
  return ref.kind === 'builtin' ? ref.name : ref.spec;
}

/** Import the module (if any), call its factory with `spec`, and check the result is a Policy. */
export async function loadPolicy(ref: PolicyRef, spec: PolicySpec): Promise<Policy> {
  const label = policyLabel(ref);
  let factory: PolicyFactory;
  if (ref.kind === 'builtin') {
    factory = BUILTIN_POLICIES[ref.name];
  } else {
    let mod: { default?: unknown };
    try {
      mod = (await import(pathToFileURL(ref.path).href)) as { default?: unknown };
    } catch (err) {
      throw new PolicyLoadError(label, `cannot import ${ref.path}: ${errorText(err)}`, { cause: err });
    }
    if (typeof mod.default !== 'function') {
      throw new PolicyLoadError(
        label,
        `${ref.path} must have a default export 'async (spec) => Policy' (found ${describeValue(mod.default)})`,
      );
    }
    factory = mod.default as PolicyFactory;
  }
  let policy: unknown;
  try {
    policy = await settleWithin(
      factory(ref.kind === 'module' && ref.options !== undefined ? { ...spec, options: ref.options } : spec),
      spec.loadTimeoutMs ?? 0,
      () => new PolicyLoadError(label, `the factory did not return within --policy-load-timeout ${spec.loadTimeoutMs} ms for ${spec.envId}`),
    );
  } catch (err) {
    if (err instanceof PolicyLoadError) throw err;
    throw new PolicyLoadError(label, `the factory threw for ${spec.envId}: ${errorText(err)}`, { cause: err });
  }
  if (policy === null || typeof policy !== 'object' || typeof (policy as Policy).act !== 'function') {
    throw new PolicyLoadError(
      label,
      `the factory must return an object with an act(obs, n) method, got ${describeValue(policy)}`,
    );
  }
  return policy as Policy;
}

/** `value` (awaited), or the error of `onTimeout` after `ms` (0 = wait forever). */
async function settleWithin<T>(value: T | Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  if (!(ms > 0)) return value;
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  try {
    return await Promise.race([Promise.resolve(value), limit]);
  } finally {
    clearTimeout(timer);
  }
}

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (typeof v === 'object') return `an object with keys [${Object.keys(v).join(', ')}]`;
  return typeof v;
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** What a batch runner needs to build its slots: B envs of one id and the policy loaded for them. */
export interface EnvsWithPolicyConfig {
  envId: string;
  maxEpisodeSteps: number;
  /** Environment slots (rows per act call). */
  batchSize: number;
  policy: PolicyRef;
  /** Absolute checkpoint path (or the string as given), passed to the factory as spec.ckpt. */
  ckpt?: string;
  /** Run seed: episode i resets with deriveSeed(seed, i). */
  seed: number;
  /** Per-act-call limit in ms (0 or absent = none); passed to the factory as spec.policyTimeoutMs. */
  policyTimeoutMs?: number;
  /** Limit on the factory (ms; 0 or absent = none), also spec.loadTimeoutMs. */
  policyLoadTimeoutMs?: number;
}

/**
 * `batchSize` envs of `envId` and the policy loaded for their widths (shared by the evaluation
 * runner and the dataset collector, so both give the factory the same spec).
 */
export async function makeEnvsWithPolicy(config: EnvsWithPolicyConfig): Promise<{ envs: LocomotionEnv[]; policy: Policy }> {
  const envs: LocomotionEnv[] = [];
  for (let i = 0; i < config.batchSize; i++) envs.push(await makeEnv(config.envId, { maxEpisodeSteps: config.maxEpisodeSteps }));
  const policy = await loadPolicy(config.policy, {
    envId: config.envId,
    observationSize: envs[0]!.observationSize,
    actionSize: envs[0]!.actionSize,
    ckpt: config.ckpt,
    seed: config.seed,
    maxEpisodeSteps: config.maxEpisodeSteps,
    policyTimeoutMs: config.policyTimeoutMs,
    loadTimeoutMs: config.policyLoadTimeoutMs,
  });
  return { envs, policy };
}
