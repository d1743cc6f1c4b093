/**
 * Training run directories as checkpoints (src/checkpoint/run-dir.ts): `<run>`, `<run>/latest`,
 * `<run>@N` and `<run>/step-N` resolve to a step directory with its step; fallbacks without a usable
 * `latest`; unknown steps list the ones there; a run without any checkpoint says so; paths that name
 * no run are left alone. Also the readers built on it and `train`'s refusals for such directories.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import {
  CheckpointError,
  OFQL_CHECKPOINT_FORMAT,
  OFQL_CHECKPOINT_FORMAT_VERSION,
  describeResolution,
  isRunDir,
  listRunCheckpoints,
  namesTrainingRun,
  readCheckpointDir,
  resolveCheckpointDir,
  stepDirName,
  writeCheckpointDir,
  type Tensor,
} from '../src/checkpoint/index.js';
import { checkResultDocument, ResultFormatError } from '../eval/result.js';
import { TrainError, train } from '../src/train/index.js';

const root = mkdtempSync(join(tmpdir(), 'ofql-run-dir-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let caseNo = 0;
let run: string; // a fresh run directory per test
beforeEach(() => {
  run = join(root, `run-${caseNo++}`);
  mkdirSync(run);
  writeFileSync(join(run, 'train-config.json'), '{}\n');
  writeFileSync(join(run, 'metrics.jsonl'), '');
});

/** A real (tiny) checkpoint at <run>/step-N whose config records `tag` = N. */
async function checkpoint(step: number): Promise<string> {
  const dir = join(run, stepDirName(step));
  const t: Tensor = { dtype: 'F32', shape: [2], data: Float32Array.of(step, -step) };
  await writeCheckpointDir(dir, { config: { format: OFQL_CHECKPOINT_FORMAT, formatVersion: OFQL_CHECKPOINT_FORMAT_VERSION, tag: step }, tensors: new Map([['w', t]]) }, { fsync: false });
  return dir;
}
const pointLatest = (target: string) => symlinkSync(target, join(run, 'latest'), 'dir');
const caught = (f: () => unknown): CheckpointError => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(CheckpointError);
    return e as CheckpointError;
  }
  throw new Error('expected a CheckpointError');
};

describe('resolveCheckpointDir', () => {
  it('a run directory and its latest link name the checkpoint latest points at, as a step directory', async () => {
    const s10 = await checkpoint(10);
    const s20 = await checkpoint(20);
    await checkpoint(30);
    pointLatest(stepDirName(20)); // not the highest: latest decides
    for (const given of [run, `${run}/`, join(run, 'latest')]) {
      const r = resolveCheckpointDir(given);
      expect(r, given).toEqual({ given, dir: s20, run, step: 20, via: 'latest' });
    }
    expect(describeResolution(resolveCheckpointDir(run))).toBe(`${run}: the training run's latest checkpoint, step 20 (${s20}); ${run}@N picks another`);
    // relative to cwd, as a user types it
    const rel = relative(root, run);
    expect(resolveCheckpointDir(rel, root)).toMatchObject({ given: rel, dir: s20, run, step: 20 });
    expect(listRunCheckpoints(run).map((c) => c.step)).toEqual([10, 20, 30]);
    expect(s10).toBe(join(run, 'step-00000010'));
  });

  it('without latest, or with a dangling one, the highest complete step directory', async () => {
    await checkpoint(10);
    const s20 = await checkpoint(20);
    mkdirSync(join(run, stepDirName(40))); // incomplete (no config.json / model.safetensors): skipped
    expect(resolveCheckpointDir(run)).toMatchObject({ dir: s20, step: 20, via: 'newest' });
    pointLatest(stepDirName(99));
    expect(resolveCheckpointDir(run)).toMatchObject({ dir: s20, step: 20, via: 'newest' });
    expect(resolveCheckpointDir(join(run, 'latest'))).toMatchObject({ dir: s20, step: 20, run });
    expect(describeResolution(resolveCheckpointDir(run))).toContain("newest complete checkpoint (no usable 'latest' link), step 20");
  });

  it('<run>@N and <run>/step-N pick a step; an unknown step lists the steps there', async () => {
    const s10 = await checkpoint(10);
    await checkpoint(20);
    pointLatest(stepDirName(20));
    expect(resolveCheckpointDir(`${run}@10`)).toEqual({ given: `${run}@10`, dir: s10, run, step: 10, via: 'step' });
    expect(resolveCheckpointDir(s10)).toEqual({ given: s10, dir: s10, run, step: 10, via: 'step' });
    expect(resolveCheckpointDir(join(run, 'step-10'))).toMatchObject({ dir: s10, step: 10 }); // other zero padding
    expect(describeResolution(resolveCheckpointDir(`${run}@10`))).toBeNull(); // chosen explicitly: nothing to explain

    const e = caught(() => resolveCheckpointDir(`${run}@15`));
    expect(e.code).toBe('not-found');
    expect(e.file).toBe(run);
    expect(e.message).toBe(`${run}: training run directory has no checkpoint of step 15; it holds steps 10 and 20 (pick one with ${run}@N, or give the directory alone for the newest)`);
    const e2 = caught(() => resolveCheckpointDir(join(run, stepDirName(15))));
    expect(e2.message).toContain('no checkpoint of step 15; it holds steps 10 and 20');
  });

  it('a run without any checkpoint: empty-run, saying that the run saved none and what to do', () => {
    mkdirSync(join(run, 'step-00000010.tmp-123-0a0b0c0d'));
    for (const given of [run, join(run, 'latest'), `${run}@10`]) {
      const e = caught(() => resolveCheckpointDir(given));
      expect(e.file).toBe(run);
      if (given.endsWith('@10')) {
        expect(e.code).toBe('not-found');
        expect(e.message).toContain('no checkpoint of step 10; training run directory without any checkpoint');
      } else {
        expect(e.code).toBe('empty-run');
        expect(e.message).toMatch(new RegExp(`^${run}: training run directory without any checkpoint: the run stopped before it saved its first one`));
      }
      expect(e.message).toContain('step-00000010.tmp-123-0a0b0c0d is an unfinished write');
      expect(e.message).toContain('nothing to evaluate and nothing to --resume: delete the directory and train again, or train into another --out');
    }
  });

  it('paths that name no run are left alone: a plain checkpoint, a missing path, a directory named with @', async () => {
    const plain = join(root, `plain-${caseNo}`);
    await writeCheckpointDir(plain, { config: { format: 'x', formatVersion: 1 }, tensors: new Map() }, { fsync: false });
    expect(resolveCheckpointDir(plain)).toEqual({ given: plain, dir: plain, run: null, step: null, via: 'checkpoint' });
    const missing = join(root, 'nope');
    expect(resolveCheckpointDir(missing)).toEqual({ given: missing, dir: missing, run: null, step: null, via: 'checkpoint' });
    expect(resolveCheckpointDir(`${missing}@3`).dir).toBe(`${missing}@3`); // no run called 'nope'
    // A directory literally named '<run>@10' is read as itself, not as step 10 of <run>.
    await checkpoint(10);
    const literal = `${run}@10`;
    await writeCheckpointDir(literal, { config: { format: 'x', formatVersion: 1 }, tensors: new Map() }, { fsync: false });
    expect(resolveCheckpointDir(literal)).toMatchObject({ dir: literal, run: null, via: 'checkpoint' });
    expect(isRunDir(run)).toBe(true);
    expect(isRunDir(plain)).toBe(false); // a checkpoint is not a run
    expect(namesTrainingRun(run)).toBe(true);
    expect(namesTrainingRun(`${run}@99`)).toBe(true);
    expect(namesTrainingRun(join(run, 'latest'))).toBe(true);
    expect(namesTrainingRun(plain)).toBe(false);
    expect(namesTrainingRun(missing)).toBe(false);
  });

  it('readCheckpointDir reads the checkpoint a run names and says where it came from', async () => {
    await checkpoint(10);
    const s20 = await checkpoint(20);
    pointLatest(stepDirName(20));
    const ck = await readCheckpointDir(run, { loadOptimizer: false });
    expect(ck.dir).toBe(s20);
    expect(ck.config.tag).toBe(20);
    expect(ck.source).toMatchObject({ given: run, run, step: 20, via: 'latest' });
    expect((await readCheckpointDir(`${run}@10`)).config.tag).toBe(10);
    await expect(readCheckpointDir(`${run}@11`)).rejects.toThrow(/no checkpoint of step 11; it holds steps 10 and 20/);
  });
});

describe('train over run directories', () => {
  const opts = { dataset: join(root, 'not-read.hdf5'), envId: 'hopper-medium-v2', log: () => {}, print: () => {}, progress: 'off' as const, fsync: false };

  it('an empty run (crashed before the first save): fresh start and --resume both say there is nothing to continue', async () => {
    const fresh = await train({ ...opts, out: run }).catch((e: unknown) => e);
    expect(fresh).toBeInstanceOf(TrainError);
    expect(fresh).toMatchObject({ code: 'out', file: run });
    expect((fresh as Error).message).toContain('already holds a training run (metrics.jsonl) without any checkpoint: the run stopped before it saved its first one');
    expect((fresh as Error).message).not.toContain('pass --resume');
    const resumed = await train({ ...opts, out: run, resume: true }).catch((e: unknown) => e);
    expect(resumed).toMatchObject({ code: 'resume', file: run });
    expect((resumed as Error).message).toContain('--resume: no checkpoint to resume from: the training run directory holds none: the run stopped before');
    expect((resumed as Error).message).toContain('delete the directory and train again, or train into another --out');
  });

  it('--out naming a checkpoint of a run: refused unless it is the newest and --resume is given', async () => {
    await checkpoint(10);
    await checkpoint(20);
    pointLatest(stepDirName(20));
    const older = await train({ ...opts, out: `${run}@10`, resume: true }).catch((e: unknown) => e);
    expect(older).toMatchObject({ code: 'resume' });
    expect((older as Error).message).toContain(`is step 10 of the training run ${run}, but --resume continues a run from its newest checkpoint (step 20); give --out ${run} --resume`);
    const fresh = await train({ ...opts, out: join(run, 'latest') }).catch((e: unknown) => e);
    expect(fresh).toMatchObject({ code: 'out' });
    expect((fresh as Error).message).toContain(`is step 20 of the training run ${run}, not a run directory: continue that run with --out ${run} --resume`);
    // The newest with --resume is the run: it gets as far as reading the (missing) dataset.
    const newest = await train({ ...opts, out: join(run, 'latest'), resume: true }).catch((e: unknown) => e);
    expect(newest).toMatchObject({ code: 'dataset', file: opts.dataset });
  });

  it('--out naming a checkpoint outside any run is refused, not trained into', async () => {
    const plain = join(root, `plain-out-${caseNo}`);
    await writeCheckpointDir(plain, { config: { format: 'x', formatVersion: 1 }, tensors: new Map() }, { fsync: false });
    const e = await train({ ...opts, out: plain }).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'out', file: plain });
    expect((e as Error).message).toContain('is a checkpoint directory, not a training run directory');
  });
});

describe('result documents', () => {
  const doc = (policy: Record<string, unknown>) => ({
    kind: 'ofql-eval/result',
    schemaVersion: 1,
    settings: {},
    policy: { name: 'ofql', kind: 'module', path: '/x', sha256: null, ckpt: '/r/step-00000010', ckptSha256: null, ...policy },
    results: [],
  });
  it('the run fields are optional (older documents) and checked when present', () => {
    expect(() => checkResultDocument(doc({}))).not.toThrow();
    expect(() => checkResultDocument(doc({ ckptGiven: '/r', ckptRun: '/r', ckptStep: 10 }))).not.toThrow();
    expect(() => checkResultDocument(doc({ ckptGiven: '/r', ckptRun: null, ckptStep: null }))).not.toThrow();
    expect(() => checkResultDocument(doc({ ckptStep: -1 }), 'r.json')).toThrow(ResultFormatError);
    expect(() => checkResultDocument(doc({ ckptStep: '10' }), 'r.json')).toThrow('r.json: policy.ckptStep must be a non-negative integer or null, got "10"');
    expect(() => checkResultDocument(doc({ ckptRun: 3 }), 'r.json')).toThrow('policy.ckptRun must be a string or null');
  });
});
