/**
 * Reading a foreign file: test/fixtures/data/d4rl-like.hdf5 was written by the HDF5 C library
 * (see make-d4rl-like.c next to it) the way h5py writes D4RL v2 files: gzip-compressed chunked
 * datasets, numpy-bool enums, np.string_ metadata, policy weights under metadata/.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { qlearningDataset, readD4rlFile } from '../src/data/index.js';

const fixture = fileURLToPath(new URL('./fixtures/data/d4rl-like.hdf5', import.meta.url));
const N = 12;

describe('d4rl-like fixture (HDF5 C library, gzip, h5py bool)', () => {
  it('reads every field with the values the generator wrote', async () => {
    const ds = await readD4rlFile(fixture, { envId: 'hopper-medium-v2' });
    expect(ds.N).toBe(N);
    expect(ds.observationSize).toBe(11);
    expect(ds.actionSize).toBe(3);
    for (let i = 0; i < N; i++) {
      for (let j = 0; j < 11; j++) {
        expect(ds.observations[i * 11 + j]).toBe(Math.fround(i + Math.fround(j / 100)));
        expect(ds.nextObservations![i * 11 + j]).toBe(Math.fround(i + 1 + Math.fround(j / 100)));
      }
      for (let j = 0; j < 3; j++) expect(ds.actions[i * 3 + j]).toBeCloseTo((j - 1) * 0.5 + i / 1000, 6);
      expect(ds.rewards[i]).toBe(3 - i / 4);
      for (let j = 0; j < 6; j++) {
        expect(ds.infos.qpos![i * 6 + j]).toBe(i * 10 + j);
        expect(ds.infos.qvel![i * 6 + j]).toBe(0 - (i * 10 + j));
      }
    }
    expect(Array.from(ds.terminals)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0]);
    expect(Array.from(ds.timeouts)).toEqual([0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    expect(ds.dtypes.terminals).toBe('bool (h5py enum int8)');
    expect(ds.dtypes['infos/qpos']).toBe('float32');
    // scalars only: metadata/policy/fc0/weight (4 x 3) is skipped
    expect(ds.metadata).toEqual({ algorithm: 'SAC', iteration: 1500 });
    expect(ds.warnings).toEqual([]);
  });

  it('qlearningDataset: timeout row 5 and the last row dropped, terminal at row 9', async () => {
    const q = qlearningDataset(await readD4rlFile(fixture));
    expect(Array.from(q.sourceIndex)).toEqual([0, 1, 2, 3, 4, 6, 7, 8, 9, 10]);
    expect(Array.from(q.terminals)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 1, 0]);
  });
});
