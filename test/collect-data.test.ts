/**
 * `collect` (src/collect/collect.ts): the file it writes is read back by readD4rlFile +
 * qlearningDataset with the right widths; terminals sit on termination steps and timeouts on
 * truncation steps (time limit, and the step budget cutting the last episode); the stored actions,
 * replayed from the stored seeds, reproduce the stored rewards, observations and flags; infos/qpos
 * matches the observations; the contents do not depend on the worker count or batch size; noise
 * and epsilon behave; a failing policy leaves no file.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BehaviourPool } from '../src/behaviour/pool.js';
import { collect } from '../src/collect/collect.js';
import { qlearningDataset, readD4rlFile, type D4rlDataset } from '../src/data/index.js';
import { makeEnv } from '../src/make-env.js';
import { deriveSeed } from '../src/rng.js';

const ROOT = join(import.meta.dirname, '..');
const FIX = join(ROOT, 'test', 'fixtures', 'policies');
const dir = mkdtempSync(join(tmpdir(), 'ofql-collect-'));
// Warm pools shared by the tests (each new pool compiles MuJoCo in every thread).
const pool1 = new BehaviourPool(1);
const pool2 = new BehaviourPool(2);
afterAll(async () => {
  await Promise.all([pool1.destroy(), pool2.destroy()]);
  rmSync(dir, { recursive: true, force: true });
});

/** Episode boundaries: [start, end) row ranges split after terminals | timeouts. */
function episodes(ds: D4rlDataset): [number, number][] {
  const out: [number, number][] = [];
  let s = 0;
  for (let i = 0; i < ds.N; i++) {
    if (ds.terminals[i] || ds.timeouts[i]) {
      out.push([s, i + 1]);
      s = i + 1;
    }
  }
  if (s < ds.N) out.push([s, ds.N]);
  return out;
}

describe('collect: hopper, random policy with action noise', () => {
  const file = join(dir, 'hopper.hdf5');
  let ds: D4rlDataset;

  it('writes a file readD4rlFile and qlearningDataset accept, with the D4RL widths and types', async () => {
    const res = await collect({ env: 'hopper-medium-v2', policy: 'random', steps: 1500, actionNoise: 0.1, seed: 4, out: file, pool: pool2 });
    expect(res.rows).toBe(1500);
    expect(res.path).toBe(file);
    ds = await readD4rlFile(file, { envId: 'hopper-medium-v2' });
    expect(ds.N).toBe(1500);
    expect([ds.observationSize, ds.actionSize, ds.infos.qposSize, ds.infos.qvelSize]).toEqual([11, 3, 6, 6]);
    expect(ds.hasTimeouts).toBe(true);
    expect(ds.nextObservations).toBeDefined();
    expect(ds.warnings).toEqual([]);
    expect(ds.dtypes).toMatchObject({ observations: 'float32', actions: 'float32', rewards: 'float32', 'infos/qpos': 'float32' });
    expect(ds.dtypes.terminals).toMatch(/bool/);
    expect(ds.metadata).toMatchObject({ policy: 'random', env_id: 'hopper-medium-v2', seed: 4, action_noise: 0.1, epsilon: 0, steps: 1500, algorithm: 'ofql-eval collect' });
    expect(typeof ds.metadata.ofql_eval_version).toBe('string');
    expect(ds.metadata.episodes).toBe(res.episodes);

    const q = qlearningDataset(ds);
    const timeoutRows = Array.from(ds.timeouts.subarray(0, ds.N - 1)).filter((x) => x).length;
    expect(q.N).toBe(ds.N - 1 - timeoutRows);
    expect(q.observations.length).toBe(q.N * 11);
    expect(q.actions.length).toBe(q.N * 3);
  });

  it('flags terminations as terminals, the budget cut as a timeout, and chains next_observations within episodes', () => {
    const eps = episodes(ds);
    expect(eps.length).toBe(ds.metadata.episodes);
    for (const [s, e] of eps.slice(0, -1)) {
      // Random hopper episodes end by falling, long before the time limit.
      expect(ds.terminals[e - 1]).toBe(1);
      expect(ds.timeouts[e - 1]).toBe(0);
      for (let i = s; i < e - 1; i++) {
        expect(ds.terminals[i] + ds.timeouts[i]).toBe(0);
        expect(ds.nextObservations!.subarray(i * 11, i * 11 + 11)).toEqual(ds.observations.subarray((i + 1) * 11, (i + 2) * 11));
      }
    }
    const [, last] = eps[eps.length - 1];
    expect(last).toBe(ds.N);
    expect(ds.metadata.last_episode_cut).toBe(1);
    expect(ds.timeouts[ds.N - 1]).toBe(1); // cut by --steps
    expect(ds.terminals[ds.N - 1]).toBe(0);
    for (let i = 0; i < ds.actions.length; i++) expect(Math.abs(ds.actions[i])).toBeLessThanOrEqual(1);
  });

  it('infos/qpos and infos/qvel are the state of observations[i] (before the step)', () => {
    for (let i = 0; i < ds.N; i += 7) {
      for (let k = 0; k < 5; k++) expect(ds.observations[i * 11 + k]).toBe(Math.fround(ds.infos.qpos![i * 6 + k + 1]));
      for (let k = 0; k < 6; k++) {
        expect(ds.observations[i * 11 + 5 + k]).toBe(Math.fround(Math.max(-10, Math.min(10, ds.infos.qvel![i * 6 + k]))));
      }
    }
  });

  it('replaying the stored actions from the stored episode seeds reproduces rewards, observations and flags', async () => {
    const env = await makeEnv('hopper-medium-v2');
    for (const [k, [s, e]] of episodes(ds).slice(0, 4).entries()) {
      const obs0 = env.reset(deriveSeed(4, k));
      expect(ds.observations.subarray(s * 11, s * 11 + 11)).toEqual(Float32Array.from(obs0));
      for (let i = s; i < e; i++) {
        const r = env.step(ds.actions.subarray(i * 3, i * 3 + 3)); // the executed actions are float32-exact
        expect(Math.fround(r.reward)).toBe(ds.rewards[i]);
        expect(ds.nextObservations!.subarray(i * 11, i * 11 + 11)).toEqual(Float32Array.from(r.obs));
        expect(r.terminated ? 1 : 0).toBe(ds.terminals[i]);
      }
    }
    env.close();
  });
});

describe('collect: timeouts at the time limit', () => {
  it('halfcheetah (never terminates), 40-step episodes: a timeout every 40 rows, no terminals', async () => {
    const file = join(dir, 'cheetah.hdf5');
    const res = await collect({ env: 'halfcheetah-medium-v2', policy: 'zero', steps: 200, maxEpisodeSteps: 40, out: file, pool: pool1 });
    expect(res.episodes).toBe(5);
    expect(res.completeEpisodes).toBe(5);
    expect(res.lastEpisodeCut).toBe(false);
    const ds = await readD4rlFile(file, { envId: 'halfcheetah-medium-v2' });
    expect(ds.infos.qposSize).toBe(9);
    const rows = (a: Uint8Array): number[] => Array.from(a.keys()).filter((i) => a[i]);
    expect(rows(ds.timeouts)).toEqual([39, 79, 119, 159, 199]);
    expect(rows(ds.terminals)).toEqual([]);
    expect(Array.from(ds.actions).every((a) => a === 0)).toBe(true);
    expect(ds.metadata.max_episode_steps).toBe(40);
    // qlearning_dataset drops the timeout rows (their successor is another episode's start).
    expect(qlearningDataset(ds, { maxEpisodeSteps: 40 }).N).toBe(199 - 4);
  });
});

describe('collect: determinism and noise', () => {
  async function contents(path: string): Promise<unknown> {
    const ds = await readD4rlFile(path);
    const { file: _f, ...rest } = ds;
    return rest;
  }

  it('gives identical contents with 1 or 2 workers and batch sizes 1 or 8 (noise and epsilon on)', async () => {
    const run = (name: string, workers: number, batchSize: number) =>
      collect({
        env: 'walker2d-medium-v2',
        policy: join(FIX, 'linear.mjs'),
        steps: 700,
        actionNoise: 0.2,
        epsilon: 0.1,
        seed: 9,
        pool: workers === 1 ? pool1 : pool2,
        batchSize,
        out: join(dir, name),
      });
    const a = await run('w1.hdf5', 1, 8);
    const b = await run('w2.hdf5', 2, 8);
    const c = await run('w2b1.hdf5', 2, 1);
    expect(b.episodes).toBe(a.episodes);
    const ca = await contents(a.path);
    expect(await contents(b.path)).toEqual(ca);
    expect(await contents(c.path)).toEqual(ca);
    const other = await collect({ env: 'walker2d-medium-v2', policy: join(FIX, 'linear.mjs'), steps: 700, actionNoise: 0.2, epsilon: 0.1, seed: 10, out: join(dir, 'w-s10.hdf5'), pool: pool2 });
    expect((await readD4rlFile(other.path)).actions).not.toEqual((await readD4rlFile(a.path)).actions);
  });

  it('action noise is Gaussian around the policy action; epsilon = 1 gives uniform actions', async () => {
    const n = await collect({ env: 'halfcheetah-medium-v2', policy: 'zero', steps: 400, actionNoise: 0.1, batchSize: 2, out: join(dir, 'noise.hdf5'), pool: pool2 });
    const a = (await readD4rlFile(n.path)).actions;
    const mean = a.reduce((s, x) => s + x, 0) / a.length;
    const std = Math.sqrt(a.reduce((s, x) => s + (x - mean) ** 2, 0) / a.length);
    expect(Math.abs(mean)).toBeLessThan(0.01);
    expect(std).toBeGreaterThan(0.09);
    expect(std).toBeLessThan(0.11);
    const u = await collect({ env: 'halfcheetah-medium-v2', policy: 'zero', steps: 400, epsilon: 1, batchSize: 2, out: join(dir, 'eps.hdf5'), pool: pool2 });
    const b = (await readD4rlFile(u.path)).actions;
    const bstd = Math.sqrt(b.reduce((s, x) => s + x * x, 0) / b.length);
    expect(bstd).toBeGreaterThan(0.53); // uniform [-1, 1]: 0.577
    expect(bstd).toBeLessThan(0.62);
  });

  it.each([
    [{ steps: 0 }, /--steps must be an integer >= 1/],
    [{ steps: 1.5 }, /--steps must be an integer >= 1/],
    [{ actionNoise: -0.1 }, /--action-noise must be a number >= 0/],
    [{ actionNoise: Number.NaN }, /--action-noise must be a number >= 0/],
    [{ epsilon: 1.01 }, /--epsilon must be a probability in \[0, 1\]/],
    [{ seed: -1 }, /--seed must be a non-negative safe integer/],
    [{ env: 'kitchen-mixed-v0' }, /cannot be simulated/],
    [{ env: 'nope-v9' }, /unknown environment id 'nope-v9'/],
    [{ policy: undefined }, /give the policy/],
    [{ ckpt: 'x.json' }, /built-in policy that takes no checkpoint/],
    [{ policy: undefined, ckpt: join(ROOT, 'package.json') }, /OFQL checkpoint directory/],
    [{ policy: './no-such-policy.mjs' }, /no file at/],
    [{ policy: 'random', sampler: 'qgbs' }, /--sampler only applies to OFQL checkpoints/],
    [{ out: dir }, /is a directory/],
  ])('rejects bad settings before doing any work: %j', async (bad, message) => {
    const { sampler, ...rest } = bad as Record<string, unknown>;
    const o = { env: 'hopper-medium-v2', policy: 'random', steps: 10, out: join(dir, 'never.hdf5'), pool: pool1, ...rest } as Parameters<typeof collect>[0];
    if (sampler !== undefined) o.ofqlOptions = { sampler };
    await expect(collect(o)).rejects.toThrow(message as RegExp);
    expect(existsSync(join(dir, 'never.hdf5'))).toBe(false);
  });

  it('a worker thread goes through many policies without running out of WASM memory', async () => {
    // Each (policy, ckpt, seed) gets its own envs in the worker; they must be freed when the next
    // one comes (make-datasets goes through ~30). Kept alive, 8 walker envs per seed (~100 MB) exhaust
    // the 2 GiB MuJoCo heap after 20 seeds (measured).
    for (let i = 0; i < 30; i++) {
      const r = await collect({ env: 'walker2d-medium-v2', policy: 'random', steps: 20, seed: 1000 + i, out: join(dir, 'many.hdf5'), pool: pool1 });
      expect(r.rows).toBe(20);
    }
    expect(pool1.idleErrors).toEqual([]);
  }, 120_000);

  it('a failing policy fails the run and leaves neither the file nor a temp file', async () => {
    const out = join(dir, 'fails', 'x.hdf5');
    rmSync(join(dir, 'fails'), { recursive: true, force: true });
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(dir, 'fails'));
    await expect(collect({ env: 'hopper-medium-v2', policy: join(FIX, 'nan.mjs'), steps: 5000, out, pool: pool2 })).rejects.toThrow(/NaN/);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(join(dir, 'fails'))).toEqual([]);
  });
});
