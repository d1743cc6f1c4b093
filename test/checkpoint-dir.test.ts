/** Checkpoint directories: round trip, atomic replacement under injected failures, crash recovery, validation, expectTensors. */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import {
  CHECKPOINT_FILES,
  CheckpointError,
  OFQL_CHECKPOINT_FORMAT,
  OFQL_CHECKPOINT_FORMAT_VERSION,
  expectTensors,
  readCheckpointDir,
  recoverCheckpointDir,
  requireResumable,
  rngStateFromJson,
  rngStateToJson,
  writeCheckpointDir,
  type CheckpointContents,
  type CheckpointErrorCode,
  type Tensor,
} from '../src/checkpoint/index.js';

const root = mkdtempSync(join(tmpdir(), 'ofql-ckpt-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let caseNo = 0;
let base: string; // a fresh parent directory per test
beforeEach(() => {
  base = join(root, `case-${caseNo++}`);
  mkdirSync(base);
});

const f32 = (shape: number[], fill: (i: number) => number): Tensor => {
  const n = shape.reduce((a, b) => a * b, 1);
  return { dtype: 'F32', shape, data: Float32Array.from({ length: n }, (_, i) => fill(i)) };
};

function contents(tag: number, resumable = true): CheckpointContents {
  const c: CheckpointContents = {
    config: { format: OFQL_CHECKPOINT_FORMAT, formatVersion: OFQL_CHECKPOINT_FORMAT_VERSION, tag, ofql: { obsDim: 3, actDim: 2 } },
    tensors: new Map<string, Tensor>([
      ['ema_actor.final_layer.weight', f32([4, 2], (i) => tag + i)],
      ['ema_actor.final_layer.bias', f32([2], (i) => -i)],
      ['critic_target.q1_model.0.weight', f32([5, 4], (i) => i / 7)],
    ]),
    metadata: { weight_layout: 'in-out' },
  };
  if (resumable) {
    c.optimizer = new Map<string, Tensor>([
      ['actor_optim.step', { dtype: 'I64', shape: [], data: BigInt64Array.of(BigInt(tag)) }],
      ['actor_optim.actor.final_layer.weight.exp_avg', f32([4, 2], (i) => i * 1e-3)],
    ]);
    c.trainerState = { step: tag, rng: rngStateToJson([1, 2, 3, 4, NaN]), epoch: 0 };
  }
  return c;
}

/** Snapshot of a directory's files (name -> bytes). */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of readdirSync(dir).sort()) out[f] = readFileSync(join(dir, f)).toString('base64');
  return out;
}

async function expectReject(p: Promise<unknown>, code: CheckpointErrorCode, fileEnd: string, re?: RegExp, field?: string): Promise<CheckpointError> {
  let err: unknown;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a CheckpointError').toBeInstanceOf(CheckpointError);
  const ce = err as CheckpointError;
  expect(ce.code).toBe(code);
  expect(ce.file.endsWith(fileEnd), `${ce.file} ends with ${fileEnd}`).toBe(true);
  expect(ce.message).toContain(ce.file);
  if (re) expect(ce.message).toMatch(re);
  if (field !== undefined) expect(ce.field).toBe(field);
  return ce;
}

describe('write / read round trip', () => {
  it('writes the four files and reads them back', async () => {
    const dir = join(base, 'ckpt');
    await writeCheckpointDir(dir, contents(3));
    expect(readdirSync(dir).sort()).toEqual(['config.json', 'model.safetensors', 'optimizer.safetensors', 'trainer-state.json']);
    expect(readdirSync(base)).toEqual(['ckpt']); // no temp / backup siblings
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    expect(Object.keys(config).slice(0, 2)).toEqual(['format', 'formatVersion']);

    const ck = await readCheckpointDir(dir, { format: OFQL_CHECKPOINT_FORMAT, maxFormatVersion: 1 });
    expect(ck.dir).toBe(dir);
    expect(ck.config).toEqual({ format: 'ofql-eval/ofql', formatVersion: 1, tag: 3, ofql: { obsDim: 3, actDim: 2 } });
    expect(ck.metadata).toEqual({ weight_layout: 'in-out' });
    expect(ck.tensors.get('ema_actor.final_layer.weight')).toEqual(f32([4, 2], (i) => 3 + i));
    expect(ck.resumable).toBe(true);
    requireResumable(ck);
    expect(ck.optimizer.get('actor_optim.step')).toEqual({ dtype: 'I64', shape: [], data: BigInt64Array.of(3n) });
    expect(ck.trainerState).toEqual({ step: 3, rng: [1, 2, 3, 4, null], epoch: 0 });
    const rng = rngStateFromJson(ck.trainerState.rng, 'trainer-state.json', 'rng');
    expect(rng.slice(0, 4)).toEqual([1, 2, 3, 4]);
    expect(rng[4]).toBeNaN();
  });

  it('an evaluation-only checkpoint is not resumable', async () => {
    const dir = join(base, 'eval');
    await writeCheckpointDir(dir, contents(1, false), { fsync: false });
    const ck = await readCheckpointDir(dir);
    expect(ck.resumable).toBe(false);
    expect(ck.optimizer).toBeUndefined();
    expect(() => requireResumable(ck)).toThrow(/cannot resume.*evaluation-only/);
    const lazy = await readCheckpointDir(join(base, 'eval'), { loadOptimizer: false });
    expect(lazy.resumable).toBe(false);
  });

  it('loadOptimizer: false skips the optimizer tensors but still reports resumability', async () => {
    const dir = join(base, 'c');
    await writeCheckpointDir(dir, contents(2));
    const ck = await readCheckpointDir(dir, { loadOptimizer: false });
    expect(ck.resumable).toBe(true);
    expect(ck.optimizer).toBeUndefined();
    expect(ck.trainerState?.step).toBe(2);
    expect(() => requireResumable(ck)).toThrow(/loadOptimizer/);
  });

  it('writing the same contents twice gives identical files', async () => {
    await writeCheckpointDir(join(base, 'a'), contents(5));
    await writeCheckpointDir(join(base, 'b'), contents(5));
    expect(snapshot(join(base, 'a'))).toEqual(snapshot(join(base, 'b')));
  });
});

describe('atomic replacement', () => {
  it('replaces an existing checkpoint completely and leaves no siblings', async () => {
    const dir = join(base, 'ckpt');
    await writeCheckpointDir(dir, contents(1));
    await writeCheckpointDir(dir, contents(2, false));
    expect(readdirSync(base)).toEqual(['ckpt']);
    const ck = await readCheckpointDir(dir);
    expect(ck.config.tag).toBe(2);
    expect(ck.resumable).toBe(false); // the old optimizer file did not survive into the new checkpoint
  });

  for (const failAfter of ['config.json', 'model.safetensors', 'optimizer.safetensors', 'trainer-state.json']) {
    it(`a failure after writing ${failAfter} leaves the old checkpoint intact and no temp dir`, async () => {
      const dir = join(base, 'ckpt');
      await writeCheckpointDir(dir, contents(1));
      const before = snapshot(dir);
      const seenTemp: string[] = [];
      const err = await expectReject(
        writeCheckpointDir(dir, contents(2), {
          hooks: {
            afterFile(file, tempDir) {
              seenTemp.push(tempDir);
              if (file === failAfter) throw new Error('disk full (injected)');
            },
          },
        }),
        'write',
        'ckpt',
        /previous one, if any, is untouched\): disk full \(injected\)$/,
      );
      expect((err.cause as Error).message).toBe('disk full (injected)');
      expect(seenTemp[0]).toMatch(/ckpt\.tmp-\d+-[0-9a-f]{8}$/);
      expect(snapshot(dir)).toEqual(before);
      expect(readdirSync(base)).toEqual(['ckpt']);
      expect((await readCheckpointDir(dir)).config.tag).toBe(1);
    });
  }

  it('a failure with no previous checkpoint leaves nothing behind', async () => {
    const dir = join(base, 'fresh');
    await expectReject(
      writeCheckpointDir(dir, contents(1), { hooks: { afterFile: () => { throw new Error('boom'); } } }),
      'write',
      'fresh',
    );
    expect(readdirSync(base)).toEqual([]);
  });

  it('a failure between moving the old checkpoint aside and moving the new one in puts the old one back', async () => {
    const dir = join(base, 'ckpt');
    await writeCheckpointDir(dir, contents(1));
    const before = snapshot(dir);
    let backupSeen = '';
    await expectReject(
      writeCheckpointDir(dir, contents(2), {
        hooks: {
          afterBackup(backup) {
            backupSeen = backup;
            expect(existsSync(dir)).toBe(false);
            throw new Error('rename failed (injected)');
          },
        },
      }),
      'write',
      'ckpt',
      /previous one is back in place/,
    );
    expect(backupSeen).toMatch(/ckpt\.old-\d+-[0-9a-f]{8}$/);
    expect(snapshot(dir)).toEqual(before);
    expect(readdirSync(base)).toEqual(['ckpt']);
  });

  it('invalid contents are rejected before anything touches the disk', async () => {
    const dir = join(base, 'ckpt');
    await writeCheckpointDir(dir, contents(1));
    const before = snapshot(dir);
    const bad = contents(2);
    (bad.tensors as Map<string, Tensor>).set('ema_actor.mid_layer.0.weight', f32([2, 2], (i) => (i === 3 ? NaN : i)));
    await expectReject(writeCheckpointDir(dir, bad), 'non-finite', 'model.safetensors', /tensor 'ema_actor\.mid_layer\.0\.weight': NaN at flat index 3/);
    expect(snapshot(dir)).toEqual(before);
    expect(readdirSync(base)).toEqual(['ckpt']);
  });

  it('refuses to replace a file or a non-checkpoint directory', async () => {
    writeFileSync(join(base, 'file'), 'x');
    await expectReject(writeCheckpointDir(join(base, 'file'), contents(1)), 'write', 'file', /not a directory/);
    mkdirSync(join(base, 'home'));
    writeFileSync(join(base, 'home', 'precious.txt'), 'keep me');
    await expectReject(writeCheckpointDir(join(base, 'home'), contents(1)), 'write', 'home', /not a checkpoint/);
    expect(readFileSync(join(base, 'home', 'precious.txt'), 'utf8')).toBe('keep me');
    mkdirSync(join(base, 'empty'));
    await writeCheckpointDir(join(base, 'empty'), contents(1)); // an empty directory may be replaced
    expect((await readCheckpointDir(join(base, 'empty'))).config.tag).toBe(1);
  });
});

describe('crash recovery', () => {
  const DEAD_PID = 99999999; // above Linux's pid_max: never a live process

  it('finishes a swap interrupted between the two renames', async () => {
    const dir = join(base, 'ckpt');
    await writeCheckpointDir(dir, contents(1));
    await writeCheckpointDir(join(base, 'new'), contents(2));
    // The state a SIGKILL between `rename(dir, backup)` and `rename(tmp, dir)` leaves.
    renameSync(dir, `${dir}.old-${DEAD_PID}-0123abcd`);
    renameSync(join(base, 'new'), `${dir}.tmp-${DEAD_PID}-0123abcd`);
    await expectReject(readCheckpointDir(dir), 'not-found', 'ckpt', /leftovers of an interrupted write.*recoverCheckpointDir/);
    const r = await recoverCheckpointDir(dir);
    expect(r.action).toBe('completed-swap');
    expect(r.removed).toEqual([`${dir}.old-${DEAD_PID}-0123abcd`]);
    expect(readdirSync(base)).toEqual(['ckpt']);
    expect((await readCheckpointDir(dir)).config.tag).toBe(2);
  });

  it('restores a lone backup, and removes stale temp dirs next to a good checkpoint', async () => {
    const dir = join(base, 'ckpt');
    await writeCheckpointDir(dir, contents(1));
    renameSync(dir, `${dir}.old-${DEAD_PID}-00000001`);
    expect((await recoverCheckpointDir(dir)).action).toBe('restored-backup');
    expect((await readCheckpointDir(dir)).config.tag).toBe(1);

    mkdirSync(`${dir}.tmp-${DEAD_PID}-00000002`);
    writeFileSync(`${dir}.tmp-${DEAD_PID}-00000002/config.json`, '{"form'); // half-written
    mkdirSync(`${dir}.tmp-${process.ppid}-00000003`); // a live process's write in flight: left alone
    const r = await recoverCheckpointDir(dir);
    expect(r.action).toBe('none');
    expect(r.removed).toEqual([`${dir}.tmp-${DEAD_PID}-00000002`]);
    expect(readdirSync(base).sort()).toEqual(['ckpt', `ckpt.tmp-${process.ppid}-00000003`]);
    expect((await recoverCheckpointDir(dir)).removed).toEqual([]);
  });

  it('a lone temp dir (first write cut short) is discarded, not promoted', async () => {
    const dir = join(base, 'ckpt');
    mkdirSync(`${dir}.tmp-${DEAD_PID}-00000004`);
    const r = await recoverCheckpointDir(dir);
    expect(r).toEqual({ action: 'none', removed: [`${dir}.tmp-${DEAD_PID}-00000004`] });
    expect(existsSync(dir)).toBe(false);
  });
});

describe('read validation names the file and field', () => {
  async function written(resumable = true): Promise<string> {
    const dir = join(base, 'ckpt');
    await writeCheckpointDir(dir, contents(1, resumable), { fsync: false });
    return dir;
  }
  const setConfig = (dir: string, text: string) => writeFileSync(join(dir, 'config.json'), text);

  it('missing directory, not a directory, missing files', async () => {
    await expectReject(readCheckpointDir(join(base, 'nope')), 'not-found', 'nope', /checkpoint directory does not exist$/);
    writeFileSync(join(base, 'f'), '');
    await expectReject(readCheckpointDir(join(base, 'f')), 'not-found', 'f', /is not a directory/);
    const dir = await written();
    unlinkSync(join(dir, 'model.safetensors'));
    await expectReject(readCheckpointDir(dir), 'not-found', 'ckpt/model.safetensors', /file does not exist/);
    unlinkSync(join(dir, 'config.json'));
    await expectReject(readCheckpointDir(dir), 'not-found', 'ckpt/config.json', /file does not exist/);
  });

  it('config.json: invalid JSON, not an object, missing or bad format / formatVersion, unexpected format or version', async () => {
    const dir = await written();
    setConfig(dir, '{"format": "ofql-eval/ofql", ');
    await expectReject(readCheckpointDir(dir), 'config', 'ckpt/config.json', /not valid JSON/);
    setConfig(dir, '[1]');
    await expectReject(readCheckpointDir(dir), 'config', 'ckpt/config.json', /must hold a JSON object/);
    setConfig(dir, '{"formatVersion": 1}');
    await expectReject(readCheckpointDir(dir), 'config', 'ckpt/config.json', /format: missing/, 'format');
    setConfig(dir, '{"format": "", "formatVersion": 1}');
    await expectReject(readCheckpointDir(dir), 'config', 'ckpt/config.json', /non-empty string/, 'format');
    setConfig(dir, '{"format": "x"}');
    await expectReject(readCheckpointDir(dir), 'config', 'ckpt/config.json', /formatVersion: missing/, 'formatVersion');
    setConfig(dir, '{"format": "x", "formatVersion": "1"}');
    await expectReject(readCheckpointDir(dir), 'config', 'ckpt/config.json', /positive integer, got "1"/, 'formatVersion');
    setConfig(dir, '{"format": "x", "formatVersion": 0}');
    await expectReject(readCheckpointDir(dir), 'config', 'ckpt/config.json', /positive integer/, 'formatVersion');
    setConfig(dir, '{"format": "someone-else/model", "formatVersion": 1}');
    await expectReject(readCheckpointDir(dir, { format: OFQL_CHECKPOINT_FORMAT }), 'config', 'ckpt/config.json', /expected "ofql-eval\/ofql"/, 'format');
    setConfig(dir, '{"format": "ofql-eval/ofql", "formatVersion": 2}');
    await expectReject(readCheckpointDir(dir, { maxFormatVersion: 1 }), 'config', 'ckpt/config.json', /newer than/, 'formatVersion');
  });

  it('model.safetensors truncated or corrupt', async () => {
    const dir = await written();
    const model = join(dir, 'model.safetensors');
    const size = readFileSync(model).length;
    truncateSync(model, size - 3);
    await expectReject(readCheckpointDir(dir), 'truncated', 'ckpt/model.safetensors', /reach past the end of the file/);
    truncateSync(model, 4);
    await expectReject(readCheckpointDir(dir), 'truncated', 'ckpt/model.safetensors');
    writeFileSync(model, Buffer.from('not a safetensors file at all'));
    await expectReject(readCheckpointDir(dir), 'truncated', 'ckpt/model.safetensors', /header-length prefix/);
  });

  it('non-finite weights are refused on read by default', async () => {
    const dir = join(base, 'nan');
    const c = contents(1, false);
    (c.tensors as Map<string, Tensor>).set('ema_actor.final_layer.bias', f32([2], (i) => (i ? Infinity : 0)));
    await writeCheckpointDir(dir, c, { checkFinite: false });
    await expectReject(readCheckpointDir(dir), 'non-finite', 'nan/model.safetensors', /tensor 'ema_actor\.final_layer\.bias': Infinity at flat index 1/);
    expect((await readCheckpointDir(dir, { checkFinite: false })).tensors.get('ema_actor.final_layer.bias')!.data[1]).toBe(Infinity);
  });

  it('incomplete or invalid resume state', async () => {
    const dir = await written();
    const state = join(dir, 'trainer-state.json');
    writeFileSync(state, '{"step": -1}');
    await expectReject(readCheckpointDir(dir), 'trainer-state', 'ckpt/trainer-state.json', /non-negative integer/, 'step');
    writeFileSync(state, '{"step": 1');
    await expectReject(readCheckpointDir(dir), 'trainer-state', 'ckpt/trainer-state.json', /not valid JSON/);
    unlinkSync(state);
    await expectReject(readCheckpointDir(dir), 'trainer-state', 'ckpt', /optimizer\.safetensors is present but trainer-state\.json is missing/);
    expect(() => rngStateFromJson('x', 'f.json', 'rng')).toThrow(/f\.json: rng: expected an RNG state/);
  });
});

describe('write validation', () => {
  it('config needs format / formatVersion; resume state goes together; JSON must be faithful', async () => {
    const dir = join(base, 'w');
    const c = contents(1);
    await expectReject(writeCheckpointDir(dir, { ...c, config: { formatVersion: 1 } as never }), 'write', 'w/config.json', /format: missing/);
    await expectReject(writeCheckpointDir(dir, { ...c, config: { format: 'x', formatVersion: 1.5 } }), 'write', 'w/config.json', /positive integer/);
    await expectReject(writeCheckpointDir(dir, { ...c, trainerState: undefined }), 'write', 'w', /go together.*only optimizer/);
    await expectReject(writeCheckpointDir(dir, { ...c, trainerState: { step: 1, rng: [1, 2, 3, 4, NaN] } }), 'non-finite', 'w/trainer-state.json', /rngStateToJson/, 'rng[4]');
    await expectReject(writeCheckpointDir(dir, { ...c, trainerState: { step: 1.5 } }), 'write', 'w/trainer-state.json', /non-negative integer/, 'step');
    await expectReject(writeCheckpointDir(dir, { ...c, config: { ...c.config, ofql: { gradNorm: NaN } } }), 'non-finite', 'w/config.json', /would become null/, 'ofql.gradNorm');
    await expectReject(writeCheckpointDir(dir, { ...c, config: { ...c.config, when: new Date(0) } }), 'write', 'w/config.json', /Date cannot be stored/, 'when');
    expect(existsSync(dir)).toBe(false);
    expect(readdirSync(base)).toEqual([]);
  });
});

describe('expectTensors', () => {
  const tensors = new Map<string, Tensor>([
    ['actor.mid_layer.0.weight', f32([23, 256], () => 0)],
    ['actor.mid_layer.0.bias', f32([256], () => 0)],
    ['actor.step', { dtype: 'I64', shape: [], data: BigInt64Array.of(1n) }],
  ]);

  it('passes when names and shapes fit (-1 = any size)', () => {
    expect(() => expectTensors(tensors, { 'actor.mid_layer.0.weight': [-1, 256], 'actor.mid_layer.0.bias': [256] })).not.toThrow();
    expect(() => expectTensors(tensors, new Map([['actor.step', { shape: [], dtype: ['I64', 'F32'] as const }]]))).not.toThrow();
  });

  it('names a missing tensor and its expected shape', () => {
    const e = (() => {
      try {
        expectTensors(tensors, { 'actor.final_layer.weight': [256, 6] }, { file: '/ck/model.safetensors' });
      } catch (err) {
        return err as CheckpointError;
      }
      throw new Error('expected a throw');
    })();
    expect(e).toBeInstanceOf(CheckpointError);
    expect(e.code).toBe('missing-tensor');
    expect(e.field).toBe("tensor 'actor.final_layer.weight'");
    expect(e.message).toBe("/ck/model.safetensors: tensor 'actor.final_layer.weight': missing (expected shape [256, 6])");
  });

  it('names a wrong shape with expected vs actual, and lists every problem', () => {
    expect(() => expectTensors(tensors, { 'actor.mid_layer.0.weight': [256, 23] }, { file: 'm.safetensors' })).toThrow(
      "m.safetensors: tensor 'actor.mid_layer.0.weight': expected shape [256, 23], found [23, 256]",
    );
    let err: CheckpointError | undefined;
    try {
      expectTensors(tensors, { 'actor.mid_layer.0.bias': [255], a: [1], 'actor.step': { shape: [], dtype: 'F32' } }, { exact: true });
    } catch (e) {
      err = e as CheckpointError;
    }
    expect(err?.code).toBe('tensor-shape');
    expect(err?.message).toBe(
      "(tensors): tensor 'actor.mid_layer.0.bias': expected shape [255], found [256]; also tensor 'a' missing (expected shape [1]); " +
        "tensor 'actor.step' expected dtype F32, found I64; tensor 'actor.mid_layer.0.weight' is not expected here",
    );
  });

  it('uses the checkpoint model file as the source', async () => {
    const dir = join(base, 'ck');
    await writeCheckpointDir(dir, contents(1, false), { fsync: false });
    const ck = await readCheckpointDir(dir);
    expect(() => expectTensors(ck, { 'ema_actor.final_layer.weight': [2, 4] })).toThrow(
      `${join(dir, CHECKPOINT_FILES.model)}: tensor 'ema_actor.final_layer.weight': expected shape [2, 4], found [4, 2]`,
    );
  });
});
