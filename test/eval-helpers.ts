/** Shared helpers of the evaluation tests. */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

// Start libuv's thread pool now (it starts on the first async fs call), so that thread counts
// taken by the tests see only worker threads come and go.
await readFile(import.meta.filename);

export const ROOT = join(import.meta.dirname, '..');
export const FIX = join(import.meta.dirname, 'fixtures', 'policies');
export const fixture = (name: string): string => join(FIX, name);

/** OS threads of this process (Linux), or null elsewhere. Worker threads add to it. */
export function threadCount(): number | null {
  try {
    return readdirSync('/proc/self/task').length;
  } catch {
    return null;
  }
}

/** Wait until the thread count drops to `target` (terminated workers are joined asynchronously). */
export async function waitForThreads(target: number | null, timeoutMs = 5000): Promise<number | null> {
  if (target === null) return null;
  const t0 = Date.now();
  let n = threadCount()!;
  while (n > target && Date.now() - t0 < timeoutMs) {
    await new Promise((r) => setTimeout(r, 50));
    n = threadCount()!;
  }
  return n;
}

/** What a finished child process left: spawnSync's result shape. */
export interface ChildResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * spawnSync's result without blocking the test worker while the child runs: a long spawnSync
 * keeps the worker's event loop from answering vitest, which fails a run ("Timeout calling
 * onTaskUpdate") on a loaded machine. `timeout` kills the child with SIGTERM, as spawnSync does.
 */
export function spawnAsync(cmd: string, args: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeout?: number } = {}): Promise<ChildResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = opts.timeout ? setTimeout(() => child.kill('SIGTERM'), opts.timeout) : undefined;
    child.on('error', reject);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolvePromise({ status, signal, stdout, stderr });
    });
  });
}
