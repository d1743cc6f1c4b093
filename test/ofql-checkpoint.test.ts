/**
 * OFQL checkpoints (src/ofql/checkpoint.ts): save -> load round trip (bit-identical actions),
 * exact resumption (identical next training step), and clear errors for broken / mismatched
 * checkpoints; PyTorch OFQL state dicts with DQL-style names.
 */
import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src/ofql/tensor-backend.js';
import { Rng } from '../src/rng.js';
import { makeOfqlConfig, type OfqlConfig } from '../src/ofql/config.js';
import { createOfqlAgent, type OfqlAgent, type TransitionBatch } from '../src/ofql/train-step.js';
import {
  importOfqlTorchStateDict,
  loadOfqlCheckpoint,
  ofqlModelShapes,
  ofqlOptimizerShapes,
  readOfqlCheckpointConfig,
  saveOfqlCheckpoint,
} from '../src/ofql/checkpoint.js';
import { CheckpointError, readCheckpointDir, writeCheckpointDir, type Tensor } from '../src/checkpoint/index.js';
import { toTorchLayout } from '../src/ofql/networks.js';
import { rejectedCheckpointError as catchErr } from './checkpoint-errors-helper.js';

const S = 3;
const A = 2;
function tinyConfig(o: Partial<OfqlConfig> = {}): OfqlConfig {
  return makeOfqlConfig({ obsDim: S, actDim: A }, { hiddenDim: 16, depth: 2, timeEmbDim: 4, batchSize: 16, emaStartStep: 0, emaEvery: 1, gradNorm: 3, ...o });
}
function batch(rng: Rng, B: number): TransitionBatch {
  const u = (n: number) => Float32Array.from({ length: n }, () => rng.uniform(-1, 1));
  return { states: u(B * S), actions: u(B * A), rewards: u(B), nextStates: u(B * S), notDones: Float32Array.from({ length: B }, () => (rng.random() < 0.1 ? 0 : 1)) };
}

let root: string;
const agents: OfqlAgent[] = [];
const keep = <T extends OfqlAgent>(a: T): T => (agents.push(a), a);

beforeAll(async () => {
  await initBackend('wasm');
  root = await mkdtemp(join(tmpdir(), 'ofql-ckpt-'));
});
afterEach(() => {
  while (agents.length) agents.pop()!.dispose();
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});


describe('OFQL checkpoints', () => {
  it('tensor name/shape tables match the agent', async () => {
    const a = keep(createOfqlAgent(tinyConfig(), 1));
    const named = a.namedTensors();
    expect(ofqlModelShapes(a.config)).toEqual([...named].map(([n, t]) => [n, t.shape]));
    const opt = await a.getOptimizerState();
    expect(new Map(ofqlOptimizerShapes(a.config))).toEqual(new Map([...opt].map(([n, t]) => [n, t.shape])));
  });

  it('save -> load: config, bit-identical actions (n = 1 and n > 1), envId and step', async () => {
    const cfg = tinyConfig();
    const a = keep(createOfqlAgent(cfg, 2));
    const rng = new Rng(3);
    for (let i = 0; i < 2; i++) a.trainStep(batch(rng, 16));
    const dir = join(root, 'eval-only');
    await saveOfqlCheckpoint(dir, a, { includeTrainingState: false, envId: 'hopper-medium-v2', datasetInfo: { name: 'x' }, seed: 2, fsync: false });
    const raw = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
    expect(raw).toMatchObject({ format: 'ofql-eval/ofql', formatVersion: 1, envId: 'hopper-medium-v2', step: 2, seed: 2, weightLayout: 'in-out', dataset: { name: 'x' } });
    expect(raw.producer).toMatch(/^ofql-eval \d/);
    expect(raw.ofql.hiddenDim).toBe(16);

    const l = await loadOfqlCheckpoint(dir);
    keep(l.agent);
    expect(l.config).toEqual(cfg);
    expect(l.step).toBe(2);
    expect(l.envId).toBe('hopper-medium-v2');
    expect(l.trainerState).toBeUndefined();
    const obs = Float32Array.from({ length: 5 * S }, (_, i) => Math.sin(i));
    for (const n of [1, 7]) {
      const x = a.act(obs, n, new Rng(9));
      const y = l.agent.act(obs, n, new Rng(9));
      expect(Buffer.from(y.buffer).equals(Buffer.from(x.buffer))).toBe(true);
    }
    expect((await readOfqlCheckpointConfig(dir)).checkpointConfig.envId).toBe('hopper-medium-v2');
    // An evaluation-only checkpoint cannot be resumed.
    const e = await catchErr(loadOfqlCheckpoint(dir, { forResume: true }));
    expect(e.code).toBe('trainer-state');
    expect(e.message).toMatch(/cannot resume/);
  });

  it('resume: the next training step (and the one after) equals the uninterrupted run', async () => {
    const cfg = tinyConfig({ emaStartStep: 1, emaEvery: 2 });
    const a = keep(createOfqlAgent(cfg, 4));
    const rng = new Rng(5);
    for (let i = 0; i < 3; i++) a.trainStep(batch(rng, 16));
    const dir = join(root, 'resume');
    await saveOfqlCheckpoint(dir, a, { includeTrainingState: true, trainerState: { epoch: 7, dataRng: [1, 2, 3, 4, null] }, fsync: false });
    // After a few tens of steps tf.js's restored Adam bias correction (pow) differs from the
    // running product in the last bits; loadOfqlCheckpoint installs the exact restore. Check at 30 and 60 steps too.
    for (const n of [30, 60]) {
      const x = keep(createOfqlAgent(cfg, 40 + n));
      const r2 = new Rng(n);
      while (x.step < n) x.trainStep(batch(r2, 16));
      const d = join(root, `resume-${n}`);
      await saveOfqlCheckpoint(d, x, { includeTrainingState: true, fsync: false });
      const y = keep((await loadOfqlCheckpoint(d, { forResume: true })).agent);
      for (let i = 0; i < 10; i++) {
        const bt = batch(r2, 16);
        expect(y.trainStep(bt), `resumed at step ${n}, ${i + 1} steps later`).toEqual(x.trainStep(bt));
      }
    }
    const ckpt = await readCheckpointDir(dir);
    expect(ckpt.optimizer!.get('actor_optim.step')).toMatchObject({ dtype: 'I64', shape: [] });
    expect(ckpt.trainerState).toMatchObject({ step: 3, agentStep: 3, epoch: 7 });

    const l = await loadOfqlCheckpoint(dir, { forResume: true, seed: 12345 });
    const b = keep(l.agent);
    expect(l.trainerState).toMatchObject({ step: 3, epoch: 7, dataRng: [1, 2, 3, 4, null] });
    expect(b.step).toBe(3);
    for (let i = 0; i < 2; i++) {
      const bt = batch(rng, 16);
      expect(b.trainStep(bt)).toEqual(a.trainStep(bt));
    }
    const wa = a.namedTensors();
    const wb = b.namedTensors();
    for (const [n, t] of wa) expect(Buffer.from(wb.get(n)!.data.buffer).equals(Buffer.from(t.data.buffer))).toBe(true);
    // Reserved trainer-state keys are refused.
    const e = await catchErr(saveOfqlCheckpoint(join(root, 'bad'), a, { includeTrainingState: true, trainerState: { step: 1 } }));
    expect(e.message).toMatch(/trainerState\.step.*reserved/);
  });

  it('mismatched config vs tensors: names file, tensor, expected and found shapes', async () => {
    const a = keep(createOfqlAgent(tinyConfig(), 6));
    const dir = join(root, 'mismatch');
    await saveOfqlCheckpoint(dir, a, { includeTrainingState: false, fsync: false });
    const cfgPath = join(dir, 'config.json');
    const raw = JSON.parse(await readFile(cfgPath, 'utf8'));
    raw.ofql.hiddenDim = 32;
    await writeFile(cfgPath, JSON.stringify(raw));
    const e = await catchErr(loadOfqlCheckpoint(dir));
    expect(e.code).toBe('tensor-shape');
    expect(e.file).toBe(join(dir, 'model.safetensors'));
    expect(e.message).toContain("tensor 'actor.mid_layer.0.weight'");
    expect(e.message).toContain('expected shape [13, 32], found [13, 16]');

    raw.ofql.hiddenDim = 0;
    await writeFile(cfgPath, JSON.stringify(raw));
    const e2 = await catchErr(loadOfqlCheckpoint(dir));
    expect(e2.code).toBe('config');
    expect(e2.message).toContain('config.json: ofql.hiddenDim');

    delete raw.ofql;
    await writeFile(cfgPath, JSON.stringify(raw));
    expect((await catchErr(loadOfqlCheckpoint(dir))).message).toMatch(/config\.json: ofql: missing/);

    raw.format = 'something-else';
    await writeFile(cfgPath, JSON.stringify(raw));
    expect((await catchErr(loadOfqlCheckpoint(dir))).message).toMatch(/config\.json: format/);
  });

  it('missing / extra tensors, truncated files, missing directory', async () => {
    const a = keep(createOfqlAgent(tinyConfig(), 7));
    const named = a.namedTensors();
    named.delete('critic_target.q2_model.4.bias');
    const tensors = new Map([...named].map(([n, t]) => [n, { dtype: 'F32' as const, shape: t.shape, data: t.data }]));
    tensors.set('actor.extra', { dtype: 'F32', shape: [1], data: Float32Array.of(0) });
    const dir = join(root, 'missing');
    await writeCheckpointDir(dir, { config: { format: 'ofql-eval/ofql', formatVersion: 1, ofql: a.config, step: 0 }, tensors }, { fsync: false });
    const e = await catchErr(loadOfqlCheckpoint(dir));
    expect(e.code).toBe('missing-tensor');
    expect(e.message).toContain("tensor 'critic_target.q2_model.4.bias': missing (expected shape [1])");
    expect(e.message).toContain("tensor 'actor.extra' is not expected here");

    const dir2 = join(root, 'truncated');
    await saveOfqlCheckpoint(dir2, a, { includeTrainingState: true, fsync: false });
    await truncate(join(dir2, 'optimizer.safetensors'), 100);
    // Evaluation does not read the optimizer file; resuming does and names it.
    keep((await loadOfqlCheckpoint(dir2)).agent);
    const e2 = await catchErr(loadOfqlCheckpoint(dir2, { forResume: true }));
    expect(e2.file).toBe(join(dir2, 'optimizer.safetensors'));
    await truncate(join(dir2, 'model.safetensors'), 50);
    const e3 = await catchErr(loadOfqlCheckpoint(dir2));
    expect(e3.file).toBe(join(dir2, 'model.safetensors'));
    expect(e3.code).toBe('truncated');

    const e4 = await catchErr(loadOfqlCheckpoint(join(root, 'nope')));
    expect(e4.code).toBe('not-found');
    expect(e4.message).toContain(join(root, 'nope'));
  });

  it('imports a PyTorch OFQL state dict with DQL-style names (synthetic)', async () => {
    const a = keep(createOfqlAgent(tinyConfig(), 8));
    a.trainStep(batch(new Rng(1), 16));
    const ours = toTorchLayout(a.namedTensors()); // [out, in] like torch
    const sd = new Map<string, Tensor>();
    const torchName = (n: string) =>
      n
        .replace(/^actor\./, 'actor.model.')
        .replace(/^ema_actor\./, 'ema_model.model.')
        .replace('.t_embed.', '.time_mlp.')
        .replace('.r_embed.', '.r_time_mlp.');
    for (const [n, t] of ours) sd.set(torchName(n), { dtype: 'F32', shape: t.shape, data: t.data });
    sd.set('actor.betas', { dtype: 'F32', shape: [5], data: new Float32Array(5) }); // schedule buffer: ignored
    const { tensors } = importOfqlTorchStateDict(sd, a.config, 'agent.safetensors');
    const b = keep(createOfqlAgent(a.config, 99));
    b.loadNamedTensors(tensors);
    const obs = Float32Array.from({ length: 4 * S }, (_, i) => Math.cos(i));
    expect(b.act(obs, 3, new Rng(2))).toEqual(a.act(obs, 3, new Rng(2)));

    // Without ema_model / critic_target: filled from actor / critic.
    const partial = new Map([...sd].filter(([n]) => !n.startsWith('ema_model.') && !n.startsWith('critic_target.')));
    const { tensors: t2 } = importOfqlTorchStateDict(partial, a.config);
    expect(t2.get('ema_actor.final_layer.bias')).toEqual(t2.get('actor.final_layer.bias'));
    expect(t2.get('critic_target.q1_model.0.weight')).toEqual(t2.get('critic.q1_model.0.weight'));

    // A DQL actor (no r embedding, first layer A + T + S wide) does not fit: both problems reported.
    const dql = new Map([...partial].filter(([n]) => !n.includes('r_time_mlp')));
    const w0 = dql.get('actor.model.mid_layer.0.weight')!;
    dql.set('actor.model.mid_layer.0.weight', { dtype: 'F32', shape: [16, A + 4 + S], data: new Float32Array(16 * (A + 4 + S)) });
    expect(w0.shape).toEqual([16, A + 8 + S]);
    let err: unknown;
    try {
      importOfqlTorchStateDict(dql, a.config, 'actor_1999.safetensors');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CheckpointError);
    expect(String((err as Error).message)).toMatch(/actor_1999\.safetensors.*actor\.r_embed\.1\.weight'/);
    expect(String((err as Error).message)).toContain("tensor 'actor.mid_layer.0.weight' expected shape [13, 16], found [9, 16]");
    // Unmapped names are listed.
    const extra = new Map(sd);
    extra.set('actor.model.something.weight', { dtype: 'F32', shape: [1, 1], data: new Float32Array(1) });
    expect(() => importOfqlTorchStateDict(extra, a.config)).toThrow(/actor\.model\.something\.weight/);
  });
});
