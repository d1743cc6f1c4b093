/**
 * qlearningDataset = d4rl.qlearning_dataset (d4rl/__init__.py), checked on hand-built examples
 * with exact expected indices, with and without timeouts, through files and in memory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import h5wasm from 'h5wasm/node';
import { qlearningDataset, readD4rlFile, writeD4rlFile } from '../src/data/index.js';

const dir = mkdtempSync(join(tmpdir(), 'ofql-data-ql-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** obs row i = [i, 10 + i], action row i = [100 + i], reward i = i / 2. */
function rows(N: number) {
  const observations = new Float32Array(N * 2);
  const actions = new Float32Array(N);
  const rewards = new Float32Array(N);
  for (let i = 0; i < N; i++) {
    observations[2 * i] = i;
    observations[2 * i + 1] = 10 + i;
    actions[i] = 100 + i;
    rewards[i] = i / 2;
  }
  return { observations, actions, rewards };
}

const col = (a: Float32Array, w: number, c: number) => Array.from(a).filter((_, k) => k % w === c);

describe('qlearningDataset with timeouts (v1/v2 files)', () => {
  // Episode A: rows 0..3, cut by a timeout at row 3.
  // Episode B: rows 4..6, terminates at row 6.
  // Episode C: row 7 only; it is the last row, which never becomes a transition.
  const N = 8;
  const terminals = new Uint8Array([0, 0, 0, 0, 0, 0, 1, 0]);
  const timeouts = new Uint8Array([0, 0, 0, 1, 0, 0, 0, 0]);

  it('drops the timeout row and the last row; done = terminals[i]; next obs = observations[i + 1]', async () => {
    const path = join(dir, 'two-episodes.hdf5');
    const r = rows(N);
    // next_observations in the file deliberately disagree: d4rl ignores them.
    const nextObservations = new Float32Array(N * 2).fill(-999);
    await writeD4rlFile(path, { ...r, terminals, timeouts, nextObservations });
    const ds = await readD4rlFile(path);
    const q = qlearningDataset(ds);

    expect(Array.from(q.sourceIndex)).toEqual([0, 1, 2, 4, 5, 6]);
    expect(q.N).toBe(6);
    expect(q.observationSize).toBe(2);
    expect(q.actionSize).toBe(1);
    expect(col(q.observations, 2, 0)).toEqual([0, 1, 2, 4, 5, 6]);
    expect(col(q.nextObservations, 2, 0)).toEqual([1, 2, 3, 5, 6, 7]);
    expect(col(q.nextObservations, 2, 1)).toEqual([11, 12, 13, 15, 16, 17]);
    expect(Array.from(q.actions)).toEqual([100, 101, 102, 104, 105, 106]);
    expect(Array.from(q.rewards)).toEqual([0, 0.5, 1, 2, 2.5, 3]);
    expect(q.terminals).toBeInstanceOf(Float32Array);
    expect(Array.from(q.terminals)).toEqual([0, 0, 0, 0, 0, 1]);
  });

  it('terminateOnEnd keeps the timeout row without marking it terminal (as d4rl\'s loop does)', () => {
    const q = qlearningDataset({ ...rows(N), observationSize: 2, actionSize: 1, terminals, timeouts }, { terminateOnEnd: true });
    expect(Array.from(q.sourceIndex)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(Array.from(q.terminals)).toEqual([0, 0, 0, 0, 0, 0, 1]);
    expect(col(q.nextObservations, 2, 0)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('a row with both timeout and terminal set is dropped', () => {
    const q = qlearningDataset({
      ...rows(5),
      observationSize: 2,
      actionSize: 1,
      terminals: [0, 1, 0, 0, 0],
      timeouts: [0, 1, 0, 0, 0],
    });
    expect(Array.from(q.sourceIndex)).toEqual([0, 2, 3]);
    expect(Array.from(q.terminals)).toEqual([0, 0, 0]);
  });

  it('a terminal on the last row is never seen (i runs to N - 2)', () => {
    const q = qlearningDataset({ ...rows(3), observationSize: 2, actionSize: 1, terminals: [0, 0, 1], timeouts: [0, 0, 0] });
    expect(Array.from(q.sourceIndex)).toEqual([0, 1]);
    expect(Array.from(q.terminals)).toEqual([0, 0]);
  });

  it('N = 1 gives no transitions', () => {
    const q = qlearningDataset({ ...rows(1), observationSize: 2, actionSize: 1, terminals: [0], timeouts: [0] });
    expect(q.N).toBe(0);
    expect(q.observations.length).toBe(0);
  });
});

describe('qlearningDataset without timeouts (old files): cut at episode_step == max_episode_steps - 1', () => {
  it('reproduces d4rl exactly, including the restart-at-1 after a terminal', async () => {
    // Old-layout file written directly with h5wasm: no timeouts, uint8 terminals, rewards N x 1.
    const N = 10;
    const r = rows(N);
    const path = join(dir, 'old-no-timeouts.hdf5');
    await h5wasm.ready;
    const f = new h5wasm.File(path, 'w');
    f.create_dataset({ name: 'observations', data: r.observations, shape: [N, 2] });
    f.create_dataset({ name: 'actions', data: r.actions, shape: [N, 1] });
    f.create_dataset({ name: 'rewards', data: r.rewards, shape: [N, 1] });
    f.create_dataset({ name: 'terminals', data: new Uint8Array([0, 1, 0, 0, 0, 0, 0, 0, 0, 0]) });
    f.close();

    const ds = await readD4rlFile(path);
    expect(ds.hasTimeouts).toBe(false);
    expect(Array.from(ds.timeouts)).toEqual(new Array(N).fill(0));
    expect(ds.warnings.join('\n')).toMatch(/no 'timeouts' dataset/);
    expect(Array.from(ds.rewards)).toEqual(Array.from(r.rewards)); // N x 1 squeezed

    // With max_episode_steps = 3, d4rl's loop (episode_step starts at 0):
    // i=0 keep (step->1); i=1 terminal: keep, reset to 0 then +1 -> 1; i=2 keep (->2);
    // i=3 step==2: cut, dropped (->0); i=4 keep (1); i=5 keep (2); i=6 cut; i=7 keep; i=8 keep.
    const q = qlearningDataset(ds, { maxEpisodeSteps: 3 });
    expect(Array.from(q.sourceIndex)).toEqual([0, 1, 2, 4, 5, 7, 8]);
    expect(Array.from(q.terminals)).toEqual([0, 1, 0, 0, 0, 0, 0]);
    expect(col(q.nextObservations, 2, 0)).toEqual([1, 2, 3, 5, 6, 8, 9]);

    // The default limit is the locomotion envs' 1000 steps: nothing is cut in 10 rows.
    expect(Array.from(qlearningDataset(ds).sourceIndex)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('with the default 1000-step limit, row 999 of a long episode is dropped', () => {
    const N = 2005;
    const q = qlearningDataset({
      observations: new Float32Array(N),
      actions: new Float32Array(N),
      rewards: new Float32Array(N),
      terminals: new Uint8Array(N),
      observationSize: 1,
      actionSize: 1,
    });
    const kept = new Set(q.sourceIndex);
    expect(kept.has(998)).toBe(true);
    expect(kept.has(999)).toBe(false);
    expect(kept.has(1000)).toBe(true);
    expect(kept.has(1999)).toBe(false);
    expect(q.N).toBe(N - 1 - 2);
  });
});
