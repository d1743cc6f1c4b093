/**
 * Robustness: a misbehaving policy fails the run naming the policy and the episode(s); a
 * crashed worker's chunk is retried once on a fresh worker; an abort returns the partial
 * result; no worker thread survives any of it.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EvaluationError, type EvaluateOptions, evaluate } from '../eval/evaluate.js';
import { fixture, threadCount, waitForThreads } from './eval-helpers.js';

const base = { env: 'hopper-medium-v2', episodes: 12, maxEpisodeSteps: 30, workers: 2, policyTimeoutMs: 400 } as const;

async function failure(opts: Partial<EvaluateOptions> & { policy: string }): Promise<EvaluationError> {
  const before = threadCount();
  const err = await evaluate({ ...base, ...opts }).then(
    () => {
      throw new Error('the run should have failed');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(EvaluationError);
  const e = err as EvaluationError;
  expect(e.result.complete).toBe(false);
  expect(e.result.interrupted).toBe(false);
  expect(e.result.error).toBe(e.message);
  // The partial result is consistent: finished + pending = the run's episodes.
  const r = e.result.results[0];
  expect([...r.episodes, ...r.pendingEpisodes].sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i));
  expect(r.returns).toHaveLength(r.episodes.length);
  // Every worker is gone (and stays gone: no replacement is started after the pool is destroyed).
  await new Promise((res) => setTimeout(res, 300));
  expect(await waitForThreads(before)).toBe(before);
  return e;
}

describe('a misbehaving policy fails the run, naming the policy and the episode', () => {
  it('act() throws', async () => {
    const e = await failure({ policy: fixture('throws.mjs') });
    expect(e.message).toContain(`policy ${fixture('throws.mjs')} failed on hopper-medium-v2`);
    expect(e.message).toMatch(/episodes (\d+, )*3(, \d+)*: act\(\) threw: boom from the test policy/);
  });

  it('act() returns NaN: the exact episode is named', async () => {
    const e = await failure({ policy: fixture('nan.mjs') });
    expect(e.message).toContain(`policy ${fixture('nan.mjs')} failed on hopper-medium-v2, episode 5: act() returned NaN for action[1]`);
    expect(e.result.results[0].episodes).not.toContain(5);
  });

  it('act() returns the wrong length', async () => {
    const e = await failure({ policy: fixture('wrong-length.mjs') });
    expect(e.message).toMatch(/wrong-length\.mjs failed on hopper-medium-v2, episodes? [\d, ]+: act\(\) returned \d+ numbers for \d+ observations; expected \d+ x 3 = \d+/);
  });

  it('act() never answers (a Promise that never settles): --policy-timeout', async () => {
    const t0 = Date.now();
    const e = await failure({ policy: fixture('hang-async.mjs') });
    // Normally the worker's own timer answers ("did not answer"); on a loaded machine the main
    // thread's watchdog may fire first and terminate the worker ("did not return"). Both fail the
    // run naming the policy and the episode.
    expect(e.message).toMatch(/hang-async\.mjs failed on hopper-medium-v2, episodes? [\d, ]*\b2\b[\d, ]*: act\(\) did not (answer|return) within --policy-timeout 400 ms/);
    expect(Date.now() - t0).toBeLessThan(20_000);
  });

  it('act() spins in a synchronous loop: the main thread terminates the worker', async () => {
    const e = await failure({ policy: fixture('hang-sync.mjs') });
    expect(e.message).toMatch(/hang-sync\.mjs failed on hopper-medium-v2, episodes? [\d, ]*\b2\b[\d, ]*: act\(\) did not return within --policy-timeout 400 ms; its worker was terminated/);
  });

  it.each([
    ['no-default.mjs', /must have a default export/],
    ['bad-factory.mjs', /must return an object with an act\(obs, n\) method/],
    ['factory-throws.mjs', /the factory threw for hopper-medium-v2: cannot load checkpoint/],
  ])('policy that cannot be loaded in the worker: %s', async (file, message) => {
    const e = await failure({ policy: fixture(file) });
    expect(e.message).toContain(`policy ${fixture(file)}`);
    expect(e.message).toMatch(message);
  });
});

describe('a policy factory that never returns fails the run after --policy-load-timeout', () => {
  it.each([
    ['hang-factory-async.mjs', /did not return within --policy-load-timeout 500 ms for hopper-medium-v2/],
    ['hang-factory-sync.mjs', /did not return within --policy-load-timeout 500 ms for hopper-medium-v2; its worker was terminated/],
  ])('%s', async (file, message) => {
    const t0 = Date.now();
    const e = await failure({ policy: fixture(file), policyLoadTimeoutMs: 500 });
    expect(e.message).toContain(`policy ${fixture(file)}: `);
    expect(e.message).toMatch(message);
    expect(Date.now() - t0).toBeLessThan(20_000);
  });
});

describe('worker crashes', () => {
  it('a crashed worker’s chunk is retried once on a fresh worker and reported', async () => {
    const marker = join(mkdtempSync(join(tmpdir(), 'ofql-crash-')), 'crashed');
    const retries: unknown[] = [];
    const doc = await evaluate({ ...base, policy: fixture('crash-once.mjs'), ckpt: marker, onRetry: (_env, r) => retries.push(r) });
    expect(doc.complete).toBe(true);
    const r = doc.results[0];
    expect(r.retries).toHaveLength(1);
    expect(r.retries[0].episodes).toContain(4);
    expect(r.retries[0].error).toMatch(/worker exited with code: 3/);
    expect(r.retries[0].outcome).toBe('succeeded');
    expect(retries).toHaveLength(1);
    // crash-once acts like the zero policy: the retried episodes are the same as without a crash.
    const zero = await evaluate({ ...base, policy: 'zero' });
    expect(r.returns).toEqual(zero.results[0].returns);
    expect(zero.results[0].retries).toEqual([]);
  });

  it('an uncaught exception in a worker is a crash too: retried', async () => {
    const marker = join(mkdtempSync(join(tmpdir(), 'ofql-crash-')), 'crashed');
    const doc = await evaluate({ ...base, policy: fixture('uncaught-once.mjs'), ckpt: marker, policyTimeoutMs: 20_000 });
    expect(doc.complete).toBe(true);
    expect(doc.results[0].retries).toEqual([
      expect.objectContaining({ error: expect.stringMatching(/uncaught boom in the worker/), outcome: 'succeeded' }),
    ]);
  });

  it('a second crash of the same chunk fails the run', async () => {
    const e = await failure({ policy: fixture('crash-always.mjs') });
    expect(e.message).toMatch(/a worker crashed twice on hopper-medium-v2 episodes? [\d, ]*\b4\b[\d, ]* \(policy .*crash-always\.mjs\): worker exited with code: 3/);
    expect(e.result.results[0].retries[0].outcome).toBe('failed');
  });
});

describe('interruption', () => {
  it('an aborted signal returns the partial result and terminates every worker', async () => {
    const before = threadCount();
    const controller = new AbortController();
    let aborted = false;
    const doc = await evaluate({
      ...base,
      episodes: 200,
      maxEpisodeSteps: 20,
      policy: fixture('slow.mjs'),
      signal: controller.signal,
      progressIntervalMs: 50,
      onProgress: (p) => {
        if (!aborted && p.done >= 3) {
          aborted = true;
          controller.abort();
        }
      },
    });
    expect(doc.complete).toBe(false);
    expect(doc.interrupted).toBe(true);
    expect(doc.error).toBeNull();
    const r = doc.results[0];
    expect(r.episodes.length).toBeGreaterThan(0);
    expect(r.pendingEpisodes.length).toBeGreaterThan(0);
    expect(r.episodes.length + r.pendingEpisodes.length).toBe(200);
    expect(r.summary!.episodes).toBe(r.episodes.length);
    expect(await waitForThreads(before)).toBe(before);
  });

  it('an already aborted signal runs nothing', async () => {
    const doc = await evaluate({ ...base, policy: 'zero', signal: AbortSignal.abort() });
    expect(doc.interrupted).toBe(true);
    expect(doc.results[0].episodes).toEqual([]);
    expect(doc.results[0].summary).toBeNull();
  });
});
