/**
 * What the policy kinds that name one file share (ONNX: src/policy/onnx-cli.ts, Python:
 * src/policy/python-cli.ts): `--policy PREFIX:PATH` or a path with the kind's extension, the
 * file checked before any worker starts, and a PolicyRef to the kind's worker-side module.
 */
import type { Options } from 'yargs';
import { userPath } from '../paths.js';
import { requirePolicyFile } from './errors.js';
import { givenFlags } from './given-flags.js';
import type { PolicyArgs, PolicyKind, PreparedPolicy } from './kinds.js';
import type { PolicyRef } from './types.js';

export interface FileKindSpec {
  name: string;
  label: string;
  selectedBy: string;
  options: Readonly<Record<string, Options>>;
  /** `--policy PREFIX:PATH` names the file explicitly, e.g. 'onnx:'. */
  prefix: string;
  /** Does a `--policy` value without the prefix name a file of this kind (by its extension)? */
  isKindFile(policy: string): boolean;
  /** The example path in "needs a file" messages, e.g. 'path/to/model.onnx'. */
  examplePath: string;
  /** What the file is, in "not found" messages, e.g. 'ONNX model'. */
  fileWhat: string;
  /** The kind's own flag checks (after the prefix check): an error message or null. */
  checkFlags?(a: PolicyArgs): string | null;
  /** Check the (existing) file and answer the prepared policy. */
  prepareFile(a: PolicyArgs, file: string): Promise<PreparedPolicy>;
}

/** A PolicyKind for one file named by `--policy`. */
export function fileKind(spec: FileKindSpec): PolicyKind {
  const { prefix } = spec;
  return {
    name: spec.name,
    label: spec.label,
    selectedBy: spec.selectedBy,
    options: spec.options,
    claims: (a) => a.policy !== undefined && (a.policy.startsWith(prefix) || spec.isKindFile(a.policy)),
    check(a) {
      if (a.policy === prefix) return `--policy ${prefix} needs a file: --policy ${prefix}${spec.examplePath}`;
      return spec.checkFlags?.(a) ?? null;
    },
    async prepare(a, cwd) {
      const label = a.policy!;
      const file = userPath(label.startsWith(prefix) ? label.slice(prefix.length) : label, cwd);
      requirePolicyFile(label, file, spec.fileWhat);
      return spec.prepareFile(a, file);
    },
  };
}

/** The prepared policy of a file kind: the workers load `modulePath` with `options`; the kind's flags that were given are recorded. */
export function preparedModulePolicy(kind: PolicyKind, a: PolicyArgs, modulePath: string, options: object): PreparedPolicy {
  const ref: PolicyRef = { kind: 'module', spec: a.policy!, path: modulePath, options: { ...options } };
  return { kind: kind.name, ref, env: a.env, flags: givenFlags(kind.options, a.flags ?? {}) };
}
