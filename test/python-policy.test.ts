/**
 * Python policies (`--policy py:FILE`, src/policy/python-*.ts + bridge.py): results, failures with
 * the Python traceback, print() in user code, and no Python child left behind in any case.
 * Needs a python3 with numpy (.ci/run installs Debian's python3-numpy).
 */
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EvaluationError, type EvaluateOptions, evaluate } from '../eval/evaluate.js';
import { preparePolicy } from '../src/policy/kinds.js';
import { PolicyLoadError } from '../src/policy/errors.js';
import { pythonBridgePath } from '../src/policy/python-policy.js';
import { FIX, ROOT, spawnAsync } from './eval-helpers.js';

const PY = join(FIX, 'py');

/** An interpreter with numpy: $OFQL_EVAL_PYTHON, Debian's /usr/bin/python3, or python3 on PATH. */
function pythonWithNumpy(): string {
  const candidates = [process.env.OFQL_EVAL_PYTHON, '/usr/bin/python3', 'python3'].filter((c): c is string => !!c);
  const found = candidates.find((c) => spawnSync(c, ['-c', 'import numpy'], { timeout: 30_000 }).status === 0);
  if (found === undefined) throw new Error(`these tests need python3 with numpy (tried ${candidates.join(', ')}; Debian: apt-get install python3-numpy)`);
  return found;
}
const PYTHON = pythonWithNumpy();

/** Pids of bridge processes of this checkout still running. */
function bridgeProcesses(): string[] {
  const ps = spawnSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return ps.stdout.split('\n').filter((l) => l.includes(pythonBridgePath()) && !l.includes('--check'));
}

/** How long a child may take to notice its worker is gone (well below the bridge's 5 s deadline backstop, which this must not rely on). */
const LEFT_WAIT_MS = 3000;

async function noBridgeLeft(): Promise<string[]> {
  const t0 = Date.now();
  let left = bridgeProcesses();
  while (left.length > 0 && Date.now() - t0 < LEFT_WAIT_MS) {
    await new Promise((r) => setTimeout(r, 100));
    left = bridgeProcesses();
  }
  return left;
}

const base = { env: 'hopper-medium-v2', episodes: 6, maxEpisodeSteps: 25, workers: 2, batchSize: 2, policyTimeoutMs: 3000 } as const;

async function run(file: string, opts: Partial<EvaluateOptions> = {}, flags: Record<string, unknown> = {}) {
  const prepared = await preparePolicy({ policy: `py:${file}`, env: ['hopper-medium-v2'], flags: { python: PYTHON, ...flags } }, PY);
  return evaluate({ ...base, ...opts, policy: prepared.ref });
}

async function failure(file: string, opts: Partial<EvaluateOptions> = {}): Promise<EvaluationError> {
  const err = await run(file, opts).then(
    () => new Error('the run should have failed'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(EvaluationError);
  expect(await noBridgeLeft()).toEqual([]);
  return err as EvaluationError;
}

describe('Python policies', () => {
  it('runs; 1 and 2 workers give identical returns; print() does not corrupt the frames', async () => {
    const one = await run('linear.py', { workers: 1 });
    const two = await run('linear.py', { workers: 2 });
    expect(one.complete).toBe(true);
    expect(one.results[0].returns).toHaveLength(6);
    expect(two.results[0].returns).toEqual(one.results[0].returns);
    expect(one.results[0].policyDescription).toMatch(/^Python policy .*linear\.py \(Python 3\.\d+\.\d+, numpy \d[^)]*\): linear test policy for hopper-medium-v2$/);
    expect(one.policy.name).toBe('py:linear.py');
    expect(await noBridgeLeft()).toEqual([]);
  });

  it('a stochastic policy reading (episodeSeeds, steps) from its second argument is reproducible across worker counts', async () => {
    const one = await run('seeded.py', { workers: 1, batchSize: 3 });
    const two = await run('seeded.py', { workers: 2, batchSize: 2 });
    expect(two.results[0].returns).toEqual(one.results[0].returns);
    const zero = await evaluate({ ...base, policy: 'zero' });
    expect(one.results[0].returns).not.toEqual(zero.results[0].returns);
  });

  it('without numpy (--no-python-numpy) obs is a list of lists, and the results equal the numpy run', async () => {
    const lists = await run('linear.py', { workers: 1 }, { 'python-numpy': false });
    const arrays = await run('linear.py', { workers: 1 });
    expect(lists.results[0].policyDescription).toMatch(/numpy not used/);
    // tanh of the same float64 inputs: numpy and math agree to the last bit or nearly so.
    lists.results[0].returns.forEach((r, i) => expect(r).toBeCloseTo(arrays.results[0].returns[i], 9));
  });

  it('a wrong shape fails the run naming the shape', async () => {
    const e = await failure('wrong-shape.py');
    expect(e.message).toMatch(/policy py:wrong-shape\.py failed on hopper-medium-v2, episodes? [\d, ]+: act\(\) rejected: act\(\) returned shape \(2, 4\); expected \(2, 3\)/);
  });

  it('NaN fails the run naming the episode', async () => {
    const e = await failure('nan.py');
    expect(e.message).toMatch(/policy py:nan\.py failed on hopper-medium-v2, episode \d+: act\(\) returned NaN for action\[1\]/);
  });

  it('an exception in act() carries the Python traceback', async () => {
    const e = await failure('raises.py');
    expect(e.message).toContain('act() rejected: ValueError: boom from the python policy (2 rows)');
    expect(e.message).toMatch(/Python traceback:\n[\s\S]*raises\.py", line 2, in helper_that_fails/);
  });

  it('make_policy raising fails the run with its traceback', async () => {
    const e = await failure('make-raises.py');
    expect(e.message).toMatch(/policy py:make-raises\.py: the factory threw for hopper-medium-v2: .*make-raises\.py: RuntimeError: cannot load weights for hopper-medium-v2/);
    expect(e.message).toMatch(/line 2, in make_policy/);
  });

  it('a crash (os._exit) fails the run with the exit code and the last stderr lines', async () => {
    const e = await failure('crash.py');
    expect(e.message).toMatch(/act\(\) rejected: the Python process exited \(code 7\); its stderr ended with:\nabout to crash/);
  });

  it('a hang in act() is stopped by --policy-timeout', async () => {
    const t0 = Date.now();
    const e = await failure('hang-act.py', { policyTimeoutMs: 500 });
    expect(e.message).toMatch(/policy py:hang-act\.py failed on hopper-medium-v2, episodes? [\d, ]+: act\(\) did not (answer|return) within --policy-timeout 500 ms/);
    expect(Date.now() - t0).toBeLessThan(20_000);
  });

  it('a hang in make_policy is stopped by --policy-load-timeout', async () => {
    const e = await failure('hang-make.py', { policyLoadTimeoutMs: 800 });
    expect(e.message).toMatch(/policy py:hang-make\.py: .*did not return within --policy-load-timeout 800 ms/);
  });

  it('bad files and interpreters are refused before any worker starts, naming them', async () => {
    const prep = (file: string, python = PYTHON) => preparePolicy({ policy: `py:${file}`, env: ['hopper-medium-v2'], flags: { python } }, PY);
    await expect(prep('missing.py')).rejects.toThrow(/policy py:missing\.py: no Python policy file at .*missing\.py/);
    await expect(prep('syntax-error.py')).rejects.toThrow(/syntax-error\.py, line 1: SyntaxError/);
    await expect(prep('no-make.py')).rejects.toThrow(/no-make\.py defines no make_policy\(spec\) at top level/);
    await expect(prep('linear.py', '/nonexistent/python9')).rejects.toThrow(/cannot run the Python interpreter '\/nonexistent\/python9' \(give --python or \$OFQL_EVAL_PYTHON\)/);
    await expect(prep('linear.py')).resolves.toMatchObject({ kind: 'python', ref: { kind: 'module', spec: 'py:linear.py' } });
    await expect(prep('missing.py')).rejects.toBeInstanceOf(PolicyLoadError);
  });
});

describe('no Python child outlives the CLI', () => {
  const cliArgs = (args: string[]) => [join(ROOT, 'dist/src/cli.js'), '--env', 'hopper-medium-v2', '--python', PYTHON, '--progress', 'off', ...args];
  const cli = (args: string[]) => spawnAsync(process.execPath, cliArgs(args), { cwd: PY, timeout: 60_000 });

  /** Start the CLI, send `sig` once both workers' Python children run, and wait for its exit. */
  async function cliSignalled(args: string[], sig: NodeJS.Signals): Promise<{ status: number | null; stdout: string }> {
    const child = spawn(process.execPath, cliArgs(args), { cwd: PY, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.resume();
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    const t0 = Date.now();
    while (bridgeProcesses().length < 2 && Date.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 300)); // both inside the hung act()
    child.kill(sig);
    return { status: await exited, stdout };
  }

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGKILL', null],
  ] as const)('%s stops the run (a hung act) and its children', async (sig, status) => {
    expect(bridgeProcesses()).toEqual([]);
    const r = await cliSignalled(['--policy', 'py:hang-act.py', '--policy-timeout', '0', '--episodes', '4', '--workers', '2', '--batch-size', '2'], sig);
    expect(r.status).toBe(status);
    if (status !== null) expect(r.stdout).toMatch(/no finished episodes/);
    expect(await noBridgeLeft()).toEqual([]);
  });

  it('a failed run (crash) exits 1 and leaves no child', async () => {
    const r = await cli(['--policy', 'py:crash.py', '--episodes', '4', '--max-episode-steps', '10']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/\[py:crash\.py hopper-medium-v2 worker \d+\] about to crash/);
    expect(await noBridgeLeft()).toEqual([]);
  });
});
