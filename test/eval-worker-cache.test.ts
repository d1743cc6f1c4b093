/**
 * eval/worker.ts keeps at most MAX_RUNNERS_PER_WORKER runners (envs + policy) per worker thread, so
 * a long-lived pool evaluating many policies / settings cannot exhaust the MuJoCo heap; an evicted
 * runner is rebuilt on demand and gives the same episodes.
 */
import { describe, expect, it } from 'vitest';
import runChunk, { MAX_RUNNERS_PER_WORKER, cachedRunnerCount, type ChunkTask } from '../eval/worker.js';

const task = (seed: number): ChunkTask => ({
  config: { envId: 'hopper-medium-v2', maxEpisodeSteps: 3, batchSize: 1, policy: { kind: 'builtin', name: 'random' }, seed, policyTimeoutMs: 0 },
  episodes: [0],
});

describe('worker runner cache', () => {
  it(`holds at most ${MAX_RUNNERS_PER_WORKER} runners; an evicted one is rebuilt and reproduces its episodes`, async () => {
    const first = await runChunk(task(0));
    if (!first.ok) throw new Error(first.error.message);
    for (let seed = 1; seed <= MAX_RUNNERS_PER_WORKER + 4; seed++) {
      const r = await runChunk(task(seed));
      expect(r.ok).toBe(true);
      expect(cachedRunnerCount()).toBeLessThanOrEqual(MAX_RUNNERS_PER_WORKER);
    }
    expect(cachedRunnerCount()).toBe(MAX_RUNNERS_PER_WORKER);
    const again = await runChunk(task(0)); // seed 0's runner was evicted (least recently used)
    if (!again.ok) throw new Error(again.error.message);
    expect(again.outcome.episodes).toEqual(first.outcome.episodes);
  });
});
