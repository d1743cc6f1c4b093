/**
 * Parallel evaluation: identical results for any number of workers / batch size, episodes in
 * order with their derived seeds, agreement with the in-thread runner.
 */
import { describe, expect, it } from 'vitest';
import { evaluate } from '../eval/evaluate.js';
import type { EvalResultDocument } from '../eval/result.js';
import { EpisodeRunner } from '../eval/runner.js';
import { normalizedScore } from '../src/registry.js';
import { deriveSeed } from '../src/rng.js';
import { fixture, threadCount, waitForThreads } from './eval-helpers.js';

const ENV = 'hopper-medium-v2';
const base = { env: ENV, episodes: 24, seed: 7, maxEpisodeSteps: 60, progressIntervalMs: 50 } as const;

function perEpisode(doc: EvalResultDocument) {
  return doc.results.map((r) => ({
    envId: r.envId,
    episodes: r.episodes,
    seeds: r.seeds,
    returns: r.returns,
    lengths: r.lengths,
    normalizedScores: r.normalizedScores,
    terminated: r.terminated,
    summary: r.summary,
  }));
}

describe('evaluate over a worker pool', () => {
  it('random policy: 1 and 2 workers give identical returns, in episode order, with derived seeds', async () => {
    const before = threadCount();
    const progress: number[] = [];
    const one = await evaluate({ ...base, policy: 'random', workers: 1, onProgress: (p) => progress.push(p.done) });
    const two = await evaluate({ ...base, policy: 'random', workers: 2 });
    expect(perEpisode(two)).toEqual(perEpisode(one));

    const r = one.results[0];
    expect(one.complete).toBe(true);
    expect(one.error).toBeNull();
    expect(r.episodes).toEqual(Array.from({ length: 24 }, (_, i) => i));
    expect(r.seeds).toEqual(r.episodes.map((i) => deriveSeed(7, i)));
    expect(r.normalizedScores).toEqual(r.returns.map((x) => normalizedScore(ENV, x)));
    expect(r.pendingEpisodes).toEqual([]);
    expect(r.summary!.episodes).toBe(24);
    expect(new Set(r.returns).size).toBeGreaterThan(20); // episodes differ
    expect(r.timing.envSteps).toBe(r.lengths.reduce((a, b) => a + b, 0));
    expect(one.timing.envSteps).toBe(r.timing.envSteps);
    expect(one.settings).toMatchObject({ workers: 1, seed: 7, episodes: 24, maxEpisodeSteps: 60, d4rlComparable: false });
    expect(two.settings.workers).toBe(2);
    expect(one.mujoco.version).toMatch(/^3\./);
    expect(progress.at(-1)).toBe(24);
    // Pools are destroyed: no worker thread left behind.
    expect(await waitForThreads(before)).toBe(before);
  });

  it('another seed gives other episodes', async () => {
    const a = await evaluate({ ...base, episodes: 4, policy: 'random', workers: 1 });
    const b = await evaluate({ ...base, episodes: 4, policy: 'random', workers: 1, seed: 8 });
    expect(b.results[0].returns).not.toEqual(a.results[0].returns);
  });

  it('a plug-in policy (Float32 actions) over several envs: 1 vs 2 workers, and batch 8 vs 3 with slot refill', async () => {
    const opts = { ...base, env: 'hopper-medium-v2,walker2d-medium-v2', episodes: 10, policy: fixture('linear.mjs') };
    const one = await evaluate({ ...opts, workers: 1 });
    const two = await evaluate({ ...opts, workers: 2 });
    // batch 3 with chunks of 7: slots are refilled inside a chunk.
    const refill = await evaluate({ ...opts, workers: 2, batchSize: 3, chunkSize: 7 });
    expect(perEpisode(two)).toEqual(perEpisode(one));
    expect(perEpisode(refill)).toEqual(perEpisode(one));
    expect(one.results.map((r) => r.envId)).toEqual(['hopper-medium-v2', 'walker2d-medium-v2']);
    expect(one.results[1].policyDescription).toBe('linear tanh policy for walker2d-medium-v2');
    expect(one.policy.kind).toBe('module');
    expect(one.policy.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('an async policy (act returns a Promise) gives the same episodes as its sync twin', async () => {
    const opts = { ...base, episodes: 6, workers: 2 };
    const sync = await evaluate({ ...opts, policy: fixture('linear.mjs') });
    const asyncRun = await evaluate({ ...opts, policy: fixture('async-linear.mjs') });
    expect(asyncRun.results[0].returns).toEqual(sync.results[0].returns);
  });

  it('matches the in-thread runner (no pool) episode by episode', async () => {
    const doc = await evaluate({ ...base, episodes: 8, policy: 'random', workers: 2 });
    const runner = await EpisodeRunner.create({
      envId: ENV,
      maxEpisodeSteps: 60,
      batchSize: 5,
      policy: { kind: 'builtin', name: 'random' },
      seed: 7,
      policyTimeoutMs: 0,
    });
    const out = await runner.run([7, 6, 5, 4, 3, 2, 1, 0]);
    await runner.close();
    const byIndex = new Map(out.episodes.map((e) => [e.index, e]));
    doc.results[0].episodes.forEach((i, k) => {
      expect(byIndex.get(i)!.return).toBe(doc.results[0].returns[k]);
      expect(byIndex.get(i)!.length).toBe(doc.results[0].lengths[k]);
    });
    expect(out.actCalls).toBeGreaterThan(0);
  });

  it('counts actions outside [-1, 1] and passes them on', async () => {
    const doc = await evaluate({ ...base, episodes: 2, maxEpisodeSteps: 5, policy: fixture('out-of-range.mjs'), workers: 1 });
    const r = doc.results[0];
    expect(r.actionsOutOfRange).toBe(r.timing.envSteps * 3);
  });

  it('rejects bad options before starting', async () => {
    await expect(evaluate({ ...base, policy: 'random', episodes: 0 })).rejects.toThrow(/episodes must be an integer >= 1/);
    await expect(evaluate({ ...base, policy: 'random', workers: 0 })).rejects.toThrow(/workers must be an integer >= 1/);
    await expect(evaluate({ ...base, policy: 'random', shard: '2/2' })).rejects.toThrow(/numbered from 0/);
    await expect(evaluate({ ...base, policy: 'random', ckpt: 'x' })).rejects.toThrow(/built-in policy that takes no checkpoint/);
    await expect(evaluate({ ...base, policy: 'random', env: 'nope-v2' })).rejects.toThrow(/unknown environment/);
  });
});
