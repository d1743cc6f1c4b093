/**
 * The Python-bridge rows of `npm run bench:policy`: a 3 x 256 numpy MLP (scripts/bench/mlp_policy.py)
 * called through the bridge (src/policy/python-policy.ts) at batch 1, 8 and 75, against a no-op
 * Python policy through the same bridge (what the frames, pipes and numpy conversion cost per call).
 * Interpreter: $OFQL_EVAL_PYTHON, else python3 (it must have numpy).
 */
import { timeInRounds, type BatchTiming } from './bench-report.js';
import { join } from 'node:path';
import { packageRoot } from '../src/mujoco/bridge.js';
import { pythonInterpreter } from '../src/policy/python-cli.js';
import { createPythonPolicy } from '../src/policy/python-policy.js';
import type { Policy } from '../src/policy/types.js';

export const PYTHON_BENCH_BATCHES = [1, 8, 75] as const;
const POLICY_FILE = join(packageRoot, 'scripts', 'bench', 'mlp_policy.py');
/** Calls per measurement (after 20 warm-up calls). */
const CALLS = 300;
const WARMUP = 20;

/** ms per act() call of one Python policy at one batch size. */
export type PythonBenchRow = BatchTiming<'numpy MLP 3 x 256' | 'no-op'>;

async function openPolicy(which: 'mlp' | 'noop', obs: number, act: number): Promise<Policy> {
  process.env.OFQL_BENCH_PY_POLICY = which; // read by mlp_policy.py in the child
  const python = pythonInterpreter(undefined);
  return createPythonPolicy({ envId: 'bench', observationSize: obs, actionSize: act }, { file: POLICY_FILE, python, numpy: true, label: `py:${which}` });
}

async function msPerCall(p: Policy, n: number, obs: number): Promise<number> {
  const x = Float64Array.from({ length: n * obs }, (_, i) => Math.sin(i));
  for (let i = 0; i < WARMUP; i++) await p.act(x, n);
  const t0 = performance.now();
  for (let i = 0; i < CALLS; i++) await p.act(x, n);
  return (performance.now() - t0) / CALLS;
}

/** Median-of-rounds ms per call for both policies at each batch size, and the description (Python / numpy versions). */
export async function benchPythonBridge(rounds: number, obs: number, act: number): Promise<{ rows: PythonBenchRow[]; description: string }> {
  const mlp = await openPolicy('mlp', obs, act);
  const noop = await openPolicy('noop', obs, act);
  const policies = [
    ['numpy MLP 3 x 256', mlp],
    ['no-op', noop],
  ] as const;
  try {
    const rows = await timeInRounds(rounds, PYTHON_BENCH_BATCHES, policies, (p, n) => msPerCall(p, n, obs));
    return { rows, description: mlp.description ?? '' };
  } finally {
    await mlp.close?.();
    await noop.close?.();
  }
}
