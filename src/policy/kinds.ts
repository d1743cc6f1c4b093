/**
 * Policy kinds: every way a user can name a policy on the command line (a built-in, an ES-module
 * plug-in, an OFQL checkpoint, ...), declared once as data. Each kind says which `--policy` /
 * `--ckpt` values it claims, which extra flags it reads, and how it checks its files *before*
 * any worker starts; it answers with the PolicyRef the workers load. `run`, `baseline`, `regress`,
 * `collect` and `train`'s periodic evaluation all go through `preparePolicy`, so a new kind
 * (ONNX, Python, PyTorch state dicts) is one entry in POLICY_KINDS and works everywhere.
 *
 * Kind-specific options travel to the workers inside the PolicyRef (`ref.options`, structured-
 * cloned with the task) and reach the factory as `spec.options`.
 */
import type { Options } from 'yargs';
import { givenFlags } from './given-flags.js';
import type { ResolvedCheckpointDir } from '../checkpoint/run-dir.js';
import { resolvePolicyRef } from './load.js';
import { onnxKind } from './onnx-cli.js';
import { ofqlKind } from './ofql-cli.js';
import { pythonKind } from './python-cli.js';
import { torchKind } from './torch-cli.js';
import type { PolicyRef } from './types.js';

/** What the command line says about the policy. */
export interface PolicyArgs {
  /** `--policy` as given. */
  policy?: string;
  /** `--ckpt` as given. */
  ckpt?: string;
  /** `--env` as given (a checkpoint kind may default it to the checkpoint's task). */
  env?: string[];
  /** Kind-specific flags (names as in POLICY_KIND_OPTIONS; undefined = not given). */
  flags?: Readonly<Record<string, unknown>>;
}

/** A policy ready to hand to `evaluate` (or the collector's pool). */
export interface PreparedPolicy {
  /** POLICY_KINDS entry that claimed it. */
  kind: string;
  ref: PolicyRef;
  /** `--env`, or the task the checkpoint names (undefined: neither). */
  env: string[] | undefined;
  /** The kind-specific flags it runs with (recorded in baselines so `regress` repeats them), or null. */
  flags: Record<string, unknown> | null;
  /**
   * The checkpoint directory `--ckpt` resolved to (kinds that read checkpoint directories: a
   * training run directory names one of its step-N/ checkpoints, src/checkpoint/run-dir.ts).
   * Evaluate `ckpt.dir`, not `--ckpt`: the run's `latest` may move before the workers load it.
   * Absent: `--ckpt` goes to the policy as given.
   */
  ckpt?: ResolvedCheckpointDir;
}

export interface PolicyKind {
  name: string;
  /** What it evaluates, for messages (plural): 'OFQL checkpoints'. */
  label: string;
  /** One line for messages: how a user selects this kind. */
  selectedBy: string;
  /** yargs options only this kind reads; no defaults, so that "given" can be told from "not given". */
  options: Readonly<Record<string, Options>>;
  /** Does this kind take the policy named by these arguments? (Synchronous, cheap: no file reads.) */
  claims(a: PolicyArgs): boolean;
  /** Synchronous checks of the flags for yargs `.check`: an error message, or null. */
  check?(a: PolicyArgs): string | null;
  /** Check the files and flags (throw PolicyLoadError naming the file) and say what to load. */
  prepare(a: PolicyArgs, cwd: string): Promise<PreparedPolicy>;
}

/** Built-ins and ES-module plug-ins: whatever no other kind claims (always last). */
const pluginKind: PolicyKind = {
  name: 'plugin',
  label: 'built-in and plug-in policies',
  selectedBy: '--policy random|zero|./policy.mjs',
  options: {},
  claims: (a) => a.policy !== undefined,
  async prepare(a, cwd) {
    return { kind: 'plugin', ref: resolvePolicyRef(a.policy!, cwd), env: a.env, flags: null };
  },
};

/** First match wins; more specific kinds come first. */
export const POLICY_KINDS: readonly PolicyKind[] = [torchKind, ofqlKind, onnxKind, pythonKind, pluginKind];

/** Every kind's own flags, for `.options(...)` of each command that takes a policy. */
export const POLICY_KIND_OPTIONS: Readonly<Record<string, Options>> = Object.assign({}, ...POLICY_KINDS.map((k) => k.options));

/** The kind that takes these arguments, or undefined when neither --policy nor --ckpt says. */
export function policyKindOf(a: PolicyArgs): PolicyKind | undefined {
  return POLICY_KINDS.find((k) => k.claims(a));
}

/** The kind-specific flags that were given (keys of POLICY_KIND_OPTIONS). */
export function givenKindFlags(args: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return givenFlags(POLICY_KIND_OPTIONS, args);
}

/**
 * Synchronous checks for yargs `.check`: a policy is named, no kind flag is repeated, and no flag of
 * another kind is given. Returns an error message or null.
 */
export function checkPolicyArgs(a: PolicyArgs): string | null {
  const flags = a.flags ?? {};
  for (const name of Object.keys(POLICY_KIND_OPTIONS)) if (Array.isArray(flags[name])) return `--${name} was given more than once`;
  const kind = policyKindOf(a);
  if (kind === undefined) {
    return `Missing required argument: policy (give ${POLICY_KINDS.map((k) => k.selectedBy).join(', or ')})`;
  }
  const foreign = Object.keys(POLICY_KIND_OPTIONS).find((n) => flags[n] !== undefined && !(n in kind.options));
  if (foreign !== undefined) {
    // Every kind that takes the flag (several share the OFQL flags), the more general ones first.
    const owners = POLICY_KINDS.filter((k) => foreign in k.options).reverse();
    return `--${foreign} only applies to ${owners.map((k) => `${k.label} (${k.selectedBy})`).join(' or ')}`;
  }
  return kind.check?.(a) ?? null;
}

/** Resolve and check the policy the arguments name (before any worker starts). */
export async function preparePolicy(a: PolicyArgs, cwd: string = process.cwd()): Promise<PreparedPolicy> {
  const problem = checkPolicyArgs(a);
  if (problem !== null) throw new PolicyArgsError(problem);
  return policyKindOf(a)!.prepare(a, cwd);
}

/** A policy flag combination no kind accepts (a usage error: exit 2). */
export class PolicyArgsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PolicyArgsError';
  }
}
