/**
 * The Python policy kind (`--policy py:policy.py`, or any `*.py` path; the workers run
 * src/policy/python-policy.ts): checks, before any worker starts, that the file exists, that the
 * interpreter (`--python`, else $OFQL_EVAL_PYTHON, else `python3`) runs, and that the file parses
 * and defines make_policy at top level (the bridge's --check mode: nothing of the user's runs).
 */
import { spawnSync } from 'node:child_process';
import { PolicyLoadError } from './errors.js';
import { fileKind, preparedModulePolicy } from './file-kind.js';
import { compiledPolicyModule } from './module-path.js';
import type { PolicyArgs, PolicyKind, PreparedPolicy } from './kinds.js';
import { pythonBridgePath, type PythonPolicyOptions } from './python-policy.js';

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

/** Check that the interpreter runs and the file defines make_policy. */
async function preparePythonPolicy(a: PolicyArgs, file: string): Promise<PreparedPolicy> {
  const flags = a.flags ?? {};
  const python = pythonInterpreter(flags.python);
  checkPythonPolicyFile(a.policy!, python, file);
  const options: PythonPolicyOptions = { file, python, numpy: flags['python-numpy'] !== false, label: a.policy! };
  return preparedModulePolicy(pythonKind, a, compiledPolicyModule(import.meta.url, 'python-policy.js', 'Python policy'), options);
}

/** `--policy py:policy.py` or `--policy policy.py`. */
export const pythonKind: PolicyKind = fileKind({
  name: 'python',
  label: 'Python policies',
  selectedBy: '--policy py:policy.py',
  options: PYTHON_CLI_OPTIONS,
  prefix: PYTHON_PREFIX,
  isKindFile: (p) => p.endsWith('.py'),
  examplePath: 'path/to/policy.py',
  fileWhat: 'Python policy file',
  checkFlags: (a) => (a.flags?.python === '' ? '--python needs an interpreter path' : null),
  prepareFile: preparePythonPolicy,
});
