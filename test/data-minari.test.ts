/** readMinariDataset on Minari-layout files written directly with h5wasm. */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import h5wasm from 'h5wasm/node';
import { DatasetError, readMinariDataset } from '../src/data/index.js';

const dir = mkdtempSync(join(tmpdir(), 'ofql-data-minari-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Ep {
  id: number;
  T: number;
  /** terminations / truncations at the last step */
  end: 'terminated' | 'truncated';
  obsRows?: number;
}

/** obs of episode e, step t = [100 e + t, -(100 e + t)]; action = [e, t]; reward = 100 e + t. */
async function writeMinari(path: string, eps: Ep[]): Promise<void> {
  await h5wasm.ready;
  const f = new h5wasm.File(path, 'w');
  try {
    for (const ep of eps) {
      const g = f.create_group(`episode_${ep.id}`);
      const rows = ep.obsRows ?? ep.T + 1;
      const obs = new Float64Array(rows * 2);
      for (let t = 0; t < rows; t++) {
        obs[2 * t] = 100 * ep.id + t;
        obs[2 * t + 1] = -(100 * ep.id + t);
      }
      const act = new Float32Array(ep.T * 2);
      for (let t = 0; t < ep.T; t++) {
        act[2 * t] = ep.id;
        act[2 * t + 1] = t;
      }
      const rew = new Float64Array(ep.T).map((_, t) => 100 * ep.id + t);
      const term = new Uint8Array(ep.T);
      const trunc = new Uint8Array(ep.T);
      if (ep.T > 0) (ep.end === 'terminated' ? term : trunc)[ep.T - 1] = 1;
      g.create_dataset({ name: 'observations', data: obs, shape: [rows, 2] });
      g.create_dataset({ name: 'actions', data: act, shape: [ep.T, 2] });
      g.create_dataset({ name: 'rewards', data: rew });
      g.create_dataset({ name: 'terminations', data: term });
      g.create_dataset({ name: 'truncations', data: trunc });
      g.create_group('infos');
      g.create_attribute('id', ep.id);
      g.create_attribute('total_steps', ep.T);
    }
  } finally {
    f.close();
  }
}

describe('readMinariDataset', () => {
  it('turns episodes into transitions in numeric episode order, keeping truncated steps', async () => {
    const path = join(dir, 'main_data.hdf5');
    // episode_10 must come after episode_2 (numeric, not lexicographic order).
    await writeMinari(path, [
      { id: 0, T: 3, end: 'terminated' },
      { id: 10, T: 1, end: 'truncated' },
      { id: 2, T: 2, end: 'truncated' },
    ]);
    const q = await readMinariDataset(path);
    expect(q.file).toBe(path);
    expect(q.episodes).toBe(3);
    expect(q.N).toBe(6);
    expect(q.observationSize).toBe(2);
    expect(q.actionSize).toBe(2);
    const first = (a: Float32Array) => Array.from(a).filter((_, k) => k % 2 === 0);
    expect(first(q.observations)).toEqual([0, 1, 2, 200, 201, 1000]);
    expect(first(q.nextObservations)).toEqual([1, 2, 3, 201, 202, 1001]);
    expect(Array.from(q.actions)).toEqual([0, 0, 0, 1, 0, 2, 2, 0, 2, 1, 10, 0]);
    expect(Array.from(q.rewards)).toEqual([0, 1, 2, 200, 201, 1000]);
    expect(Array.from(q.terminals)).toEqual([0, 0, 1, 0, 0, 0]);
    expect(Array.from(q.sourceIndex)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('accepts a Minari dataset directory (data/main_data.hdf5)', async () => {
    const root = join(dir, 'hopper-expert-v0');
    mkdirSync(join(root, 'data'), { recursive: true });
    await writeMinari(join(root, 'data', 'main_data.hdf5'), [{ id: 0, T: 2, end: 'terminated' }]);
    const q = await readMinariDataset(root, { envId: 'hopper-expert-v2', observationSize: 2, actionSize: 2 });
    expect(q.N).toBe(2);
    expect(q.file).toBe(join(root, 'data', 'main_data.hdf5'));
  });

  it('observations with the wrong row count (not T + 1) are an error naming the episode field', async () => {
    const path = join(dir, 'bad-rows.hdf5');
    await writeMinari(path, [{ id: 0, T: 3, end: 'terminated', obsRows: 3 }]);
    const err = await readMinariDataset(path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatasetError);
    expect((err as DatasetError).field).toBe('episode_0/observations');
    expect((err as DatasetError).message).toContain(path);
    expect((err as DatasetError).message).toMatch(/expected \(T\+1, obs_dim\) = \(4, obs_dim\)/);
  });

  it('wrong width for the env, and files without episodes', async () => {
    const path = join(dir, 'width.hdf5');
    await writeMinari(path, [{ id: 0, T: 2, end: 'terminated' }]);
    await expect(readMinariDataset(path, { envId: 'hopper-medium-v2' })).rejects.toThrow(
      /episode_0\/observations'.*has width 2; expected observation size 11/,
    );
    await h5wasm.ready;
    const empty = join(dir, 'no-episodes.hdf5');
    const f = new h5wasm.File(empty, 'w');
    f.create_dataset({ name: 'observations', data: new Float32Array(2), shape: [1, 2] });
    f.close();
    await expect(readMinariDataset(empty)).rejects.toThrow(/no episode_<id> groups/);
  });
});
