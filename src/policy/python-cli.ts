/**
 * The Python policy kind (`--policy py:policy.py`, or any `*.py` path; the workers run
 * src/policy/python-policy.ts): checks, before any worker starts, that the file exists, that the
 * interpreter (`--python`, else $OFQL_EVAL_PYTHON, else `python3`) runs, and that the file parses
 * and defines make_policy at top level (the bridge's --check mode: nothing of the user's runs).
 */
import { userPath } from '../paths.js';
import { spawnSync } from 'node:child_process';
import { PolicyLoadError, requirePolicyFile } from './errors.js';
import { givenFlags } from './given-flags.js';
import { compiledPolicyModule } from './module-path.js';
import type { PolicyArgs, PolicyKind, PreparedPolicy } from './kinds.js';
import { pythonBridgePath, type PythonPolicyOptions } from './python-policy.js';
import type { PolicyRef } from './types.js';

export const PYTHON_PREFIX = 'py:';
export const PYTHON_ENV_VAR = 'OFQL_EVAL_PYTHON';
export const DEFAULT_PYTHON = 'python3';
/** Limit on the interpreter check (starting Python and importing numpy takes well under a second). */
const CHECK_TIMEOUT_MS = 30_000;

export const PYTHON_CLI_OPTIONS = {
  python: { type: 'string', describe: `Python policies: interpreter (default $${PYTHON_ENV_VAR}, else ${DEFAULT_PYTHON})` },
  'python-numpy': {
    type: 'boolean',
    describe: 'Python policies: give act() numpy arrays when numpy imports (default); --no-python-numpy: lists of lists',
  },
} as const;

const isPythonPolicy = (p: string | undefined): boolean => p !== undefined && (p.startsWith(PYTHON_PREFIX) || p.endsWith('.py'));

/** Path of the compiled worker-side module. */
function pythonPolicyModulePath(): string {
  return compiledPolicyModule(import.meta.url, 'python-policy.js', 'Python policy');
}

/** The interpreter a run uses: the flag, else the environment variable, else python3. */
export function pythonInterpreter(flag: unknown): string {
  if (typeof flag === 'string' && flag !== '') return flag;
  const env = process.env[PYTHON_ENV_VAR];
  return env !== undefined && env !== '' ? env : DEFAULT_PYTHON;
}

interface CheckAnswer {
  python: string;
  numpy: string | null;
  error: string | null;
}

/** Run the bridge's --check on the file once (PolicyLoadError naming the interpreter or the file). */
export function checkPythonPolicyFile(label: string, python: string, file: string): CheckAnswer {
  const res = spawnSync(python, [pythonBridgePath(), '--check', file], { encoding: 'utf8', timeout: CHECK_TIMEOUT_MS });
  if (res.error !== undefined) {
    const why = (res.error as NodeJS.ErrnoException).code === 'ETIMEDOUT' ? `did not answer within ${CHECK_TIMEOUT_MS} ms` : res.error.message;
    throw new PolicyLoadError(label, `cannot run the Python interpreter '${python}' (give --python or $${PYTHON_ENV_VAR}): ${why}`);
  }
  let answer: CheckAnswer | undefined;
  try {
    answer = JSON.parse(res.stdout.trim().split('\n').at(-1) ?? '') as CheckAnswer;
  } catch {
    answer = undefined;
  }
  if (res.status !== 0 || answer === undefined) {
    throw new PolicyLoadError(label, `the Python interpreter '${python}' failed to check ${file} (exit ${res.status}): ${res.stderr.trim()}`);
  }
  if (answer.error !== null) throw new PolicyLoadError(label, `${answer.error} (Python ${answer.python} at '${python}')`);
  return answer;
}

async function preparePythonPolicy(a: PolicyArgs, cwd: string): Promise<PreparedPolicy> {
  const label = a.policy!;
  const given = label.startsWith(PYTHON_PREFIX) ? label.slice(PYTHON_PREFIX.length) : label;
  const file = userPath(given, cwd);
  requirePolicyFile(label, file, 'Python policy file');
  const flags = a.flags ?? {};
  const python = pythonInterpreter(flags.python);
  checkPythonPolicyFile(label, python, file);
  const options: PythonPolicyOptions = { file, python, numpy: flags['python-numpy'] !== false, label };
  const ref: PolicyRef = { kind: 'module', spec: label, path: pythonPolicyModulePath(), options: { ...options } };
  const used = givenFlags(PYTHON_CLI_OPTIONS, flags);
  return { kind: 'python', ref, env: a.env, flags: used };
}

/** `--policy py:policy.py` or `--policy policy.py`. */
export const pythonKind: PolicyKind = {
  name: 'python',
  label: 'Python policies',
  selectedBy: '--policy py:policy.py',
  options: PYTHON_CLI_OPTIONS,
  claims: (a) => isPythonPolicy(a.policy),
  check(a) {
    if (a.policy === PYTHON_PREFIX) return `--policy ${PYTHON_PREFIX} needs a file: --policy ${PYTHON_PREFIX}path/to/policy.py`;
    if (a.flags?.python === '') return '--python needs an interpreter path';
    return null;
  },
  prepare: preparePythonPolicy,
};
