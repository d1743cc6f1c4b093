/** D4RL HDF5 writer -> reader round trips, bool dtype on disk, incremental writes, atomicity. */
import { mkdtempSync, readdirSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import h5wasm from 'h5wasm/node';
import { D4rlWriter, DatasetError, readD4rlFile, writeD4rlFile, type D4rlData } from '../src/data/index.js';

const dir = mkdtempSync(join(tmpdir(), 'ofql-data-rt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A small Hopper-shaped dataset (obs 11, act 3, nq 6, nv 6) with values that identify their slot. */
function makeData(N: number) {
  const O = 11;
  const A = 3;
  const observations = new Float32Array(N * O).map((_, k) => Math.fround(Math.floor(k / O) + (k % O) / 100));
  const nextObservations = new Float32Array(N * O).map((_, k) => Math.fround(-(Math.floor(k / O) + (k % O) / 100)));
  const actions = new Float32Array(N * A).map((_, k) => Math.fround(Math.sin(k)));
  const rewards = new Float32Array(N).map((_, i) => Math.fround(i * 0.25 - 1));
  const terminals = new Uint8Array(N).map((_, i) => (i % 7 === 6 ? 1 : 0));
  const timeouts = new Uint8Array(N).map((_, i) => (i % 5 === 4 ? 1 : 0));
  const qpos = new Float64Array(N * 6).map((_, k) => k * 1e-3 + 1e-12);
  const qvel = new Float64Array(N * 6).map((_, k) => -k * 1e-3);
  return {
    observationSize: O,
    actionSize: A,
    observations,
    actions,
    rewards,
    terminals,
    timeouts,
    nextObservations,
    infos: { qpos, qposSize: 6, qvel, qvelSize: 6 },
    metadata: { algorithm: 'OFQL', policy: 'ckpt/hopper.json', seed: 7, 'network/nonlinearity': 'mish', temperature: 0.5 },
  } satisfies D4rlData;
}

describe('writeD4rlFile -> readD4rlFile', () => {
  it('round-trips every field exactly (h5py bool terminals/timeouts)', async () => {
    const N = 23;
    const data = makeData(N);
    const path = join(dir, 'hopper-rt.hdf5');
    const res = await writeD4rlFile(path, data);
    expect(res).toEqual({ path, rows: N });

    const ds = await readD4rlFile(path, { envId: 'hopper-medium-v2' });
    expect(ds.file).toBe(path);
    expect(ds.N).toBe(N);
    expect(ds.observationSize).toBe(11);
    expect(ds.actionSize).toBe(3);
    expect(ds.observations).toEqual(data.observations);
    expect(ds.actions).toEqual(data.actions);
    expect(ds.rewards).toEqual(data.rewards);
    expect(ds.terminals).toEqual(data.terminals);
    expect(ds.timeouts).toEqual(data.timeouts);
    expect(ds.hasTimeouts).toBe(true);
    expect(ds.nextObservations).toEqual(data.nextObservations);
    expect(ds.infos.qpos).toEqual(data.infos.qpos);
    expect(ds.infos.qvel).toEqual(data.infos.qvel);
    expect(ds.infos.qposSize).toBe(6);
    expect(ds.infos.qvelSize).toBe(6);
    expect(ds.metadata).toMatchObject({
      algorithm: 'OFQL',
      policy: 'ckpt/hopper.json',
      seed: 7,
      'network/nonlinearity': 'mish',
      temperature: 0.5,
    });
    expect(typeof ds.metadata.ofql_eval_version).toBe('string');
    expect(ds.metadata.ofql_eval_version).toBe(JSON.parse(readFileSync('package.json', 'utf8')).version);
    expect(ds.dtypes).toMatchObject({
      observations: 'float32',
      actions: 'float32',
      rewards: 'float32',
      terminals: 'bool (h5py enum int8)',
      timeouts: 'bool (h5py enum int8)',
      next_observations: 'float32',
      'infos/qpos': 'float64',
    });
    expect(ds.warnings).toEqual([]);
    // no temp file left behind
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('stores terminals/timeouts as the HDF5 enum h5py uses for numpy bool', async () => {
    const path = join(dir, 'bool-dtype.hdf5');
    await writeD4rlFile(path, makeData(4));
    await h5wasm.ready;
    const f = new h5wasm.File(path, 'r');
    try {
      for (const name of ['terminals', 'timeouts']) {
        const d = f.get(name) as InstanceType<typeof h5wasm.Dataset>;
        expect(d.shape).toEqual([4]);
        expect(d.metadata.type).toBe(8); // H5T_ENUM
        expect(d.metadata.size).toBe(1);
        expect(d.metadata.signed).toBe(true);
        expect(d.metadata.enum_type?.members).toEqual({ FALSE: 0, TRUE: 1 });
      }
      const obs = f.get('observations') as InstanceType<typeof h5wasm.Dataset>;
      expect(obs.dtype).toBe('<f');
      expect(obs.shape).toEqual([4, 11]);
      const rew = f.get('rewards') as InstanceType<typeof h5wasm.Dataset>;
      expect(rew.shape).toEqual([4]);
      const alg = f.get('metadata/algorithm') as InstanceType<typeof h5wasm.Dataset>;
      expect(alg.value).toBe('OFQL');
      expect(alg.shape).toEqual([]);
    } finally {
      f.close();
    }
  });

  it("boolDtype 'uint8' round-trips too and is reported as uint8", async () => {
    const data = makeData(9);
    const path = join(dir, 'uint8.hdf5');
    await writeD4rlFile(path, data, { boolDtype: 'uint8' });
    const ds = await readD4rlFile(path);
    expect(ds.terminals).toEqual(data.terminals);
    expect(ds.timeouts).toEqual(data.timeouts);
    expect(ds.dtypes.terminals).toBe('uint8');
  });

  it('re-writing what was read reproduces the file contents', async () => {
    const a = join(dir, 'a.hdf5');
    const b = join(dir, 'b.hdf5');
    await writeD4rlFile(a, makeData(12));
    const first = await readD4rlFile(a);
    await writeD4rlFile(b, first);
    const second = await readD4rlFile(b);
    for (const k of ['observations', 'actions', 'rewards', 'terminals', 'timeouts', 'nextObservations'] as const) {
      expect(second[k]).toEqual(first[k]);
    }
    expect(second.infos).toEqual(first.infos);
    expect(second.metadata).toEqual(first.metadata);
  });

  it('accepts boolean[] / number[] inputs and infers widths from N', async () => {
    const path = join(dir, 'plain-arrays.hdf5');
    await writeD4rlFile(path, {
      observations: [1, 2, 3, 4, 5, 6],
      actions: [0.5, -0.5],
      rewards: [1, 2],
      terminals: [false, true],
      timeouts: [true, false],
    });
    const ds = await readD4rlFile(path);
    expect(ds.observationSize).toBe(3);
    expect(ds.actionSize).toBe(1);
    expect(Array.from(ds.terminals)).toEqual([0, 1]);
    expect(Array.from(ds.timeouts)).toEqual([1, 0]);
    expect(ds.nextObservations).toBeUndefined();
    expect(ds.infos).toEqual({});
  });
});

describe('D4rlWriter (incremental)', () => {
  it('appends episode by episode across several flushes and equals the whole-array write', async () => {
    const N = 37;
    const data = makeData(N);
    const path = join(dir, 'incremental.hdf5');
    // expectedRows: 5 forces a 5-row staging buffer, so 37 rows take 8 flushes.
    const w = await D4rlWriter.create(path, {
      observationSize: 11,
      actionSize: 3,
      nextObservations: true,
      qposSize: 6,
      qvelSize: 6,
      expectedRows: 5,
      metadata: { algorithm: 'OFQL' },
    });
    const cuts = [0, 3, 4, 15, 16, 30, 37];
    for (let e = 0; e + 1 < cuts.length; e++) {
      const [a, b] = [cuts[e], cuts[e + 1]];
      w.append({
        observations: data.observations.subarray(a * 11, b * 11),
        actions: data.actions.subarray(a * 3, b * 3),
        rewards: data.rewards.subarray(a, b),
        terminals: data.terminals.subarray(a, b),
        timeouts: data.timeouts.subarray(a, b),
        nextObservations: data.nextObservations.subarray(a * 11, b * 11),
        qpos: data.infos.qpos.subarray(a * 6, b * 6),
        qvel: data.infos.qvel.subarray(a * 6, b * 6),
      });
      expect(w.rows).toBe(b);
    }
    w.setMetadata('seed', 3);
    expect(readdirSync(dir)).not.toContain('incremental.hdf5'); // appears only on close
    await expect(w.close()).resolves.toEqual({ path, rows: N });
    const ds = await readD4rlFile(path);
    expect(ds.observations).toEqual(data.observations);
    expect(ds.actions).toEqual(data.actions);
    expect(ds.rewards).toEqual(data.rewards);
    expect(ds.terminals).toEqual(data.terminals);
    expect(ds.timeouts).toEqual(data.timeouts);
    expect(ds.nextObservations).toEqual(data.nextObservations);
    expect(ds.infos.qpos).toEqual(data.infos.qpos);
    expect(ds.infos.qvel).toEqual(data.infos.qvel);
    expect(ds.metadata).toMatchObject({ algorithm: 'OFQL', seed: 3 });
  });

  it('a rejected append (NaN) names file, field and global row, and leaves the writer usable', async () => {
    const path = join(dir, 'nan-append.hdf5');
    const w = await D4rlWriter.create(path, { observationSize: 2, actionSize: 1 });
    const row = (o: number) => ({ observations: [o, o], actions: [0], rewards: [0], terminals: [0], timeouts: [0] });
    w.append(row(1));
    w.append(row(2));
    let err: unknown;
    try {
      w.append({ observations: [3, 3, 4, NaN], actions: [0, 0], rewards: [0, 0], terminals: [0, 0], timeouts: [0, 0] });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DatasetError);
    expect((err as DatasetError).message).toContain(path);
    expect((err as DatasetError).message).toContain("field 'observations'");
    expect((err as DatasetError).message).toContain('NaN at row 3, column 1');
    expect((err as DatasetError).index).toBe(3);
    expect(w.rows).toBe(2);
    w.append(row(3));
    await w.close();
    const ds = await readD4rlFile(path);
    expect(Array.from(ds.observations)).toEqual([1, 1, 2, 2, 3, 3]);
  });

  it('abort leaves no file; a failed write leaves an existing target untouched', async () => {
    const path = join(dir, 'keep.hdf5');
    writeFileSync(path, 'previous contents');
    const w = await D4rlWriter.create(path, { observationSize: 2, actionSize: 1 });
    w.append({ observations: [1, 2], actions: [0], rewards: [1], terminals: [0], timeouts: [0] });
    w.abort();
    expect(readFileSync(path, 'utf8')).toBe('previous contents');
    expect(readdirSync(dir).filter((f) => f.includes('keep.hdf5') && f.endsWith('.tmp'))).toEqual([]);

    await expect(
      writeD4rlFile(path, { observations: [1, 2, 3], actions: [0], rewards: [1], terminals: [0], timeouts: [0] }, { observationSize: 2 }),
    ).rejects.toThrow(/observations.*expected 1 rows x 2/);
    expect(readFileSync(path, 'utf8')).toBe('previous contents');
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('overwrite: false refuses an existing file; closing with no rows is refused', async () => {
    const path = join(dir, 'exists.hdf5');
    writeFileSync(path, 'x');
    await expect(D4rlWriter.create(path, { observationSize: 2, actionSize: 1, overwrite: false })).rejects.toThrow(/exists/);
    const w = await D4rlWriter.create(join(dir, 'none.hdf5'), { observationSize: 2, actionSize: 1 });
    await expect(w.close()).rejects.toThrow(/no rows/);
    expect(readdirSync(dir)).not.toContain('none.hdf5');
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('conflicting metadata keys (value and group of the same name) are a clear error, target untouched', async () => {
    const path = join(dir, 'meta-conflict.hdf5');
    await expect(
      writeD4rlFile(path, { observations: [1], actions: [0], rewards: [0], terminals: [0], timeouts: [0] }, {
        metadata: { policy: 'x', 'policy/nonlinearity': 'relu' },
      }),
    ).rejects.toThrow(/metadata key 'policy\/nonlinearity' needs metadata\/policy to be a group/);
    expect(readdirSync(dir)).not.toContain('meta-conflict.hdf5');
  });

  it('missing required per-row field in append is an error naming the field', async () => {
    const w = await D4rlWriter.create(join(dir, 'needs-next.hdf5'), { observationSize: 1, actionSize: 1, nextObservations: true });
    expect(() => w.append({ observations: [1], actions: [0], rewards: [0], terminals: [0], timeouts: [0] })).toThrow(
      /next_observations/,
    );
    w.abort();
  });
});
