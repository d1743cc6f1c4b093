/** Shared helpers of the evaluation tests. */
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
