/**
 * Running a PyTorch peer script (scripts/peer/*.py) for the training benchmarks: Debian's
 * python3-torch under /usr/bin/python3 with OPENBLAS_NUM_THREADS = torch threads = ours. A peer
 * without OpenBLAS runs Debian's reference BLAS (about 10x slower): a trap, not a peer, so it is
 * refused.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../src/mujoco/bridge.js';

export interface PeerRun {
  /** ms per step, one entry per repeat. */
  ms: number[];
  torch: string;
  blas: string;
}

/** Run scripts/peer/<script> with `sizes` (JSON on argv[1]) on `threads` threads. */
export function runTorchPeer(python: string, script: string, sizes: Record<string, unknown> & { threads: number }): PeerRun {
  const threads = String(sizes.threads);
  const env = { ...process.env, OPENBLAS_NUM_THREADS: threads, OMP_NUM_THREADS: threads };
  let text: string;
  try {
    text = execFileSync(python, [join(packageRoot, 'scripts', 'peer', script), JSON.stringify(sizes)], { env, encoding: 'utf8' });
  } catch (e) {
    throw new Error(`PyTorch peer failed (${python} scripts/peer/${script}): ${(e as Error).message}. It needs Debian's python3-torch and libopenblas0-pthread (apt-get install python3-torch libopenblas0-pthread).`);
  }
  const run = JSON.parse(text.trim().split('\n').pop()!) as PeerRun;
  if (!/openblas/i.test(run.blas)) {
    throw new Error(`PyTorch peer runs on '${run.blas}', not OpenBLAS: Debian's torch then uses the reference BLAS (about 10x slow). apt-get install libopenblas0-pthread`);
  }
  return run;
}
