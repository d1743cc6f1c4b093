/** readD4rlFile error paths: every DatasetError names the file and the field and says what was expected. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import h5wasm from 'h5wasm/node';
import { DatasetError, readD4rlFile, writeD4rlFile, type DatasetErrorCode } from '../src/data/index.js';

const dir = mkdtempSync(join(tmpdir(), 'ofql-data-err-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Field {
  name: string;
  data: Float32Array | Uint8Array | string[];
  shape?: number[];
}

/** Write an arbitrary HDF5 file with h5wasm (for layouts the writer would refuse to produce). */
async function rawFile(name: string, fields: Field[]): Promise<string> {
  await h5wasm.ready;
  const path = join(dir, name);
  const f = new h5wasm.File(path, 'w');
  try {
    for (const fl of fields) {
      const slash = fl.name.lastIndexOf('/');
      if (slash > 0 && !f.keys().includes(fl.name.slice(0, slash))) f.create_group(fl.name.slice(0, slash));
      f.create_dataset({ name: fl.name, data: fl.data, shape: fl.shape });
    }
  } finally {
    f.close();
  }
  return path;
}

/** A valid Hopper-shaped set of fields (obs 11, act 3), N rows. */
function hopperFields(N: number, over: Partial<Record<string, Field | null>> = {}): Field[] {
  const base: Record<string, Field> = {
    observations: { name: 'observations', data: new Float32Array(N * 11).map((_, k) => k), shape: [N, 11] },
    actions: { name: 'actions', data: new Float32Array(N * 3), shape: [N, 3] },
    rewards: { name: 'rewards', data: new Float32Array(N).fill(1) },
    terminals: { name: 'terminals', data: new Uint8Array(N) },
    timeouts: { name: 'timeouts', data: new Uint8Array(N) },
  };
  for (const [k, v] of Object.entries(over)) {
    if (v === null) delete base[k];
    else if (v !== undefined) base[k] = v;
  }
  return Object.values(base);
}

async function expectDatasetError(
  p: Promise<unknown>,
  want: { code: DatasetErrorCode; file: string; field?: string; message: RegExp[]; index?: number },
): Promise<DatasetError> {
  let err: unknown;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(DatasetError);
  const e = err as DatasetError;
  expect(e.code).toBe(want.code);
  expect(e.file).toBe(want.file);
  expect(e.message).toContain(want.file);
  if (want.field !== undefined) {
    expect(e.field).toBe(want.field);
    expect(e.message).toContain(`field '${want.field}'`);
  }
  for (const re of want.message) expect(e.message).toMatch(re);
  if (want.index !== undefined) expect(e.index).toBe(want.index);
  return e;
}

describe('readD4rlFile errors', () => {
  it('nonexistent path', async () => {
    const path = join(dir, 'does-not-exist.hdf5');
    await expectDatasetError(readD4rlFile(path), { code: 'not-found', file: path, message: [/no such file/, /ENOENT/] });
  });

  it('a directory', async () => {
    await expectDatasetError(readD4rlFile(dir), { code: 'not-found', file: dir, message: [/not a regular file/] });
  });

  it('empty (0-byte) file', async () => {
    const path = join(dir, 'empty.hdf5');
    writeFileSync(path, '');
    await expectDatasetError(readD4rlFile(path), { code: 'empty', file: path, message: [/0 bytes/, /expected an HDF5/] });
  });

  it('a file that is not HDF5', async () => {
    const path = join(dir, 'not-hdf5.hdf5');
    writeFileSync(path, 'observations,actions\n1,2\n'.repeat(100));
    await expectDatasetError(readD4rlFile(path), { code: 'not-hdf5', file: path, message: [/not an HDF5 file/] });
  });

  it('HDF5 file with zero rows', async () => {
    const path = await rawFile('zero-rows.hdf5', hopperFields(0));
    await expectDatasetError(readD4rlFile(path), {
      code: 'empty',
      file: path,
      field: 'observations',
      message: [/0 rows/],
    });
  });

  it('HDF5 file with no datasets at all: missing observations', async () => {
    const path = await rawFile('no-keys.hdf5', []);
    await expectDatasetError(readD4rlFile(path), {
      code: 'missing-key',
      file: path,
      field: 'observations',
      message: [/missing required dataset/, /N x obs_dim/, /keys found: \(none\)/],
    });
  });

  for (const key of ['observations', 'actions', 'rewards', 'terminals']) {
    it(`missing required key: ${key}`, async () => {
      const path = await rawFile(`missing-${key}.hdf5`, hopperFields(4, { [key]: null }));
      await expectDatasetError(readD4rlFile(path), {
        code: 'missing-key',
        file: path,
        field: key,
        message: [/missing required dataset/, /keys found: /],
      });
    });
  }

  it('wrong observation width for the env', async () => {
    const N = 4;
    const path = await rawFile(
      'wide-obs.hdf5',
      hopperFields(N, { observations: { name: 'observations', data: new Float32Array(N * 12), shape: [N, 12] } }),
    );
    await expectDatasetError(readD4rlFile(path, { envId: 'hopper-medium-v2' }), {
      code: 'shape',
      file: path,
      field: 'observations',
      message: [/has width 12/, /expected observation size 11 \(for hopper-medium-v2\)/],
    });
    // Without an env the width is taken from the file.
    await expect(readD4rlFile(path)).resolves.toMatchObject({ observationSize: 12 });
  });

  it('wrong action width (explicit size)', async () => {
    const path = await rawFile('act-width.hdf5', hopperFields(4));
    await expectDatasetError(readD4rlFile(path, { actionSize: 6 }), {
      code: 'shape',
      file: path,
      field: 'actions',
      message: [/has width 3/, /expected action size 6/],
    });
    // Walker2d has 17 observations: the observation check fires first.
    await expectDatasetError(readD4rlFile(path, { envId: 'walker2d-medium-v2' }), {
      code: 'shape',
      file: path,
      field: 'observations',
      message: [/expected observation size 17/],
    });
  });

  it('N mismatch between fields', async () => {
    const N = 5;
    const path = await rawFile(
      'n-mismatch.hdf5',
      hopperFields(N, { actions: { name: 'actions', data: new Float32Array((N - 1) * 3), shape: [N - 1, 3] } }),
    );
    await expectDatasetError(readD4rlFile(path), {
      code: 'shape',
      file: path,
      field: 'actions',
      message: [/has 4 rows; expected 5/],
    });
    const path2 = await rawFile('n-mismatch-term.hdf5', hopperFields(N, { terminals: { name: 'terminals', data: new Uint8Array(N + 1) } }));
    await expectDatasetError(readD4rlFile(path2), {
      code: 'shape',
      file: path2,
      field: 'terminals',
      message: [/has shape \(6\); expected \(5,\) or \(5, 1\)/],
    });
    const path3 = await rawFile(
      'n-mismatch-qpos.hdf5',
      hopperFields(N, { qpos: { name: 'infos/qpos', data: new Float32Array(3 * 6), shape: [3, 6] } }),
    );
    await expectDatasetError(readD4rlFile(path3), { code: 'shape', file: path3, field: 'infos/qpos', message: [/has 3 rows; expected 5/] });
  });

  it('rewards N x 1 is accepted, N x 2 is not', async () => {
    const N = 3;
    const ok = await rawFile('rew-n1.hdf5', hopperFields(N, { rewards: { name: 'rewards', data: new Float32Array([1, 2, 3]), shape: [N, 1] } }));
    const ds = await readD4rlFile(ok);
    expect(Array.from(ds.rewards)).toEqual([1, 2, 3]);
    const bad = await rawFile('rew-n2.hdf5', hopperFields(N, { rewards: { name: 'rewards', data: new Float32Array(6), shape: [N, 2] } }));
    await expectDatasetError(readD4rlFile(bad), {
      code: 'shape',
      file: bad,
      field: 'rewards',
      message: [/has shape \(3, 2\); expected \(3,\) or \(3, 1\)/],
    });
  });

  it('1-D observations are rejected', async () => {
    const path = await rawFile('obs-1d.hdf5', hopperFields(4, { observations: { name: 'observations', data: new Float32Array(4) } }));
    await expectDatasetError(readD4rlFile(path), { code: 'shape', file: path, field: 'observations', message: [/expected 2-D N x obs_dim/] });
  });

  it('NaN in observations: names the row and column', async () => {
    const N = 6;
    const obs = new Float32Array(N * 11);
    obs[3 * 11 + 2] = NaN;
    const path = await rawFile('nan-obs.hdf5', hopperFields(N, { observations: { name: 'observations', data: obs, shape: [N, 11] } }));
    const e = await expectDatasetError(readD4rlFile(path, { envId: 'Hopper-v3' }), {
      code: 'non-finite',
      file: path,
      field: 'observations',
      message: [/NaN at row 3, column 2/, /expected only finite values/],
      index: 3,
    });
    expect(e.column).toBe(2);
  });

  it('Inf in rewards / NaN in actions / -Inf in next_observations', async () => {
    const N = 6;
    const rew = new Float32Array(N);
    rew[4] = Infinity;
    const p1 = await rawFile('inf-rew.hdf5', hopperFields(N, { rewards: { name: 'rewards', data: rew } }));
    await expectDatasetError(readD4rlFile(p1), { code: 'non-finite', file: p1, field: 'rewards', message: [/Infinity at index 4/], index: 4 });

    const act = new Float32Array(N * 3);
    act[5 * 3] = NaN;
    const p2 = await rawFile('nan-act.hdf5', hopperFields(N, { actions: { name: 'actions', data: act, shape: [N, 3] } }));
    await expectDatasetError(readD4rlFile(p2), { code: 'non-finite', file: p2, field: 'actions', message: [/NaN at row 5, column 0/], index: 5 });

    const next = new Float32Array(N * 11);
    next[0] = -Infinity;
    const p3 = await rawFile('inf-next.hdf5', hopperFields(N, { next: { name: 'next_observations', data: next, shape: [N, 11] } }));
    await expectDatasetError(readD4rlFile(p3), {
      code: 'non-finite',
      file: p3,
      field: 'next_observations',
      message: [/-Infinity at row 0, column 0/],
      index: 0,
    });
    // Not loading next_observations skips it (qlearningDataset does not use it).
    await expect(readD4rlFile(p3, { nextObservations: false })).resolves.toMatchObject({ N });
  });

  it('a non-numeric dataset (strings) where numbers are expected', async () => {
    const path = await rawFile('str-terminals.hdf5', hopperFields(2, { terminals: { name: 'terminals', data: ['no', 'yes'] } }));
    await expectDatasetError(readD4rlFile(path), { code: 'dtype', file: path, field: 'terminals', message: [/element type string; expected numbers/] });
  });

  it('a group where a dataset is expected', async () => {
    await h5wasm.ready;
    const path = join(dir, 'group-obs.hdf5');
    const f = new h5wasm.File(path, 'w');
    f.create_group('observations');
    f.close();
    await expectDatasetError(readD4rlFile(path), { code: 'dtype', file: path, field: 'observations', message: [/is a group/] });
  });

  it('old file without timeouts reads with a warning', async () => {
    const path = await rawFile('old.hdf5', hopperFields(3, { timeouts: null }));
    const ds = await readD4rlFile(path, { envId: 'hopper-medium-v0' });
    expect(ds.hasTimeouts).toBe(false);
    expect(Array.from(ds.timeouts)).toEqual([0, 0, 0]);
    expect(ds.warnings).toHaveLength(1);
    expect(ds.warnings[0]).toMatch(/no 'timeouts' dataset/);
  });

  it('unknown widths for a non-locomotion env are reported as a warning, not an error', async () => {
    const path = await rawFile('antmaze.hdf5', hopperFields(2));
    const ds = await readD4rlFile(path, { envId: 'antmaze-umaze-v2' });
    expect(ds.warnings.some((w) => /no observation\/action sizes known for antmaze-umaze-v2/.test(w))).toBe(true);
  });

  it('the writer refuses NaN with the same kind of message (and writes nothing)', async () => {
    const path = join(dir, 'writer-nan.hdf5');
    await expectDatasetError(
      writeD4rlFile(path, { observations: [0, 1, 2, 3], actions: [0, 0], rewards: [0, NaN], terminals: [0, 0], timeouts: [0, 0] }),
      { code: 'non-finite', file: path, field: 'rewards', message: [/NaN at index 1/], index: 1 },
    );
    await expectDatasetError(readD4rlFile(path), { code: 'not-found', file: path, message: [/no such file/] });
  });
});
