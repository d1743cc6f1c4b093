/**
 * The training loop (src/train/trainer.ts) end to end on a small generated HDF5 file (hopper widths,
 * 2000 rows of a simple behaviour policy), tiny networks (hidden 32, batch 64), wasm backend:
 * learning, checkpoint round trip, exact resume (also after a stop in the middle of a metrics window
 * and after a "crash" that lost the newest checkpoint), and the error paths.
 */
import { mkdtempSync, readFileSync, rmSync, existsSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatasetError, qlearningDataset, readD4rlFile } from '../src/data/index.js';
import { createOfqlAgent, initBackend, ofqlConfigForTask } from '../src/ofql/index.js';
import { loadOfqlCheckpoint, saveOfqlCheckpoint } from '../src/ofql/checkpoint.js';
import { tf } from '../src/ofql/tf.js';
import { createOrtOfqlAgent } from '../src/engine/index.js';
import { Rng, deriveSeed } from '../src/rng.js';
import { TrainError, UniformSampler, listCheckpoints, readJsonl, stepDirName, train, type TrainOptions } from '../src/train/index.js';
import { HOPPER, writeBehaviourDataset } from './train-helpers.js';

const TINY = { hiddenDim: 32, batchSize: 64 } as const;
const TIMING = ['stepsPerSec', 'wallTime', 'time'];
const strip = (rows: Array<Record<string, unknown>>) => rows.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !TIMING.includes(k))));

let dir: string;
let dataset: string;
let other: string;
const quiet = { log: () => {}, print: () => {}, progress: 'off' as const, fsync: false };
const base = (out: string, extra: Partial<TrainOptions> = {}): TrainOptions => ({
  dataset,
  envId: 'hopper-medium-v2',
  out: join(dir, out),
  overrides: { ...TINY },
  logEvery: 10,
  saveEvery: 0,
  ...quiet,
  ...extra,
});

beforeAll(async () => {
  await initBackend('wasm');
  dir = mkdtempSync(join(tmpdir(), 'ofql-train-'));
  dataset = join(dir, 'hopper-behaviour.hdf5');
  other = join(dir, 'hopper-other.hdf5');
  await writeBehaviourDataset(dataset, { rows: 2000, seed: 1 });
  await writeBehaviourDataset(other, { rows: 1500, seed: 2 });
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('train', () => {
  it('300 steps with hidden 32 lower the behaviour loss; files and checkpoint layout', async () => {
    const res = await train(base('learn', { steps: 300, logEvery: 50, saveEvery: 100, keep: 2 }));
    expect(res).toMatchObject({ step: 300, startStep: 0, interrupted: false });
    const out = join(dir, 'learn');
    const lines = readJsonl(join(out, 'metrics.jsonl'));
    expect(lines.map((l) => l.step)).toEqual([50, 100, 150, 200, 250, 300]);
    for (const l of lines) {
      expect(l.count).toBe(50);
      for (const k of ['bcLoss', 'qLoss', 'actorLoss', 'criticLoss', 'actorGradNorm', 'criticGradNorm', 'targetQMean', 'actionAtBound', 'stepsPerSec', 'wallTime']) {
        expect(Number.isFinite(l[k] as number), k).toBe(true);
      }
    }
    const first = lines[0]!.bcLoss as number;
    const last = lines[lines.length - 1]!.bcLoss as number;
    expect(last).toBeLessThan(0.75 * first);
    // keep 2: step-200 and step-300; latest -> step-300.
    expect(listCheckpoints(out).map((c) => c.step)).toEqual([200, 300]);
    expect(readlinkSync(join(out, 'latest'))).toBe(stepDirName(300));
    const cfg = JSON.parse(readFileSync(join(out, 'latest', 'config.json'), 'utf8'));
    expect(cfg).toMatchObject({ envId: 'hopper-medium-v2', step: 300, seed: 0, ofql: { hiddenDim: 32, batchSize: 64, gradNorm: 9, eta: 0.01, timeEmbDim: 64, obsDim: 11, actDim: 3 } });
    expect(cfg.dataset).toMatchObject({ rows: 2000, rewardTune: 'no', observationSize: 11, actionSize: 3 });
    expect(cfg.dataset.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(cfg.dataset.contentSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(cfg.dataset.contentSha256).not.toBe(cfg.dataset.sha256);
  });

  it('on the TF.js engine too, the trainer is exactly sampler -> trainStep and leaks no tensors', async () => {
    const steps = 12;
    await train(base('warm-wasm', { steps: 1, backend: 'wasm' })); // tf.js keeps one cached tensor after a first run
    const before = tf.memory().numTensors;
    await train(base('ref-wasm', { steps, seed: 7, backend: 'wasm' }));
    expect(tf.memory().numTensors).toBe(before);
    const q = qlearningDataset(await readD4rlFile(dataset, { envId: 'hopper-medium-v2' }));
    const cfg = ofqlConfigForTask('hopper-medium-v2', { obsDim: HOPPER.obs, actDim: HOPPER.act }, TINY);
    const agent = createOfqlAgent(cfg, 7);
    const sampler = new UniformSampler(q, cfg.batchSize, deriveSeed(7, 3));
    for (let i = 0; i < steps; i++) agent.trainStep(sampler.next());
    const fromTrainer = await loadOfqlCheckpoint(join(dir, 'ref-wasm', 'latest'), { forResume: true });
    const theirs = fromTrainer.agent.namedTensors();
    for (const [k, v] of agent.namedTensors()) expect(Buffer.from(theirs.get(k)!.data.buffer).equals(Buffer.from(v.data.buffer)), k).toBe(true);
    agent.dispose();
    fromTrainer.agent.dispose();
  });

  it('the trainer (default engine: onnx) is exactly sampler -> trainStep, and a saved + reloaded checkpoint acts bit-identically', async () => {
    const steps = 30;
    await train(base('ref', { steps, seed: 7 }));
    // The same run by hand, on the same engine.
    const q = qlearningDataset(await readD4rlFile(dataset, { envId: 'hopper-medium-v2' }));
    const cfg = ofqlConfigForTask('hopper-medium-v2', { obsDim: HOPPER.obs, actDim: HOPPER.act }, TINY);
    const agent = createOrtOfqlAgent(cfg, 7);
    const sampler = new UniformSampler(q, cfg.batchSize, deriveSeed(7, 3));
    for (let i = 0; i < steps; i++) agent.trainStep(sampler.next());
    const fromTrainer = await loadOfqlCheckpoint(join(dir, 'ref', 'latest'), { forResume: true, makeAgent: createOrtOfqlAgent });
    const mine = agent.namedTensors();
    const theirs = fromTrainer.agent.namedTensors();
    expect([...theirs.keys()]).toEqual([...mine.keys()]);
    for (const [k, v] of mine) expect(Buffer.from(theirs.get(k)!.data.buffer).equals(Buffer.from(v.data.buffer)), k).toBe(true);

    // Round trip of the live agent: same actions, one-step and DQL's 50-candidate rule.
    const obs = Float32Array.from(q.observations.subarray(0, 16 * HOPPER.obs));
    await saveOfqlCheckpoint(join(dir, 'roundtrip'), agent, { includeTrainingState: false, envId: 'hopper-medium-v2', fsync: false });
    const loaded = await loadOfqlCheckpoint(join(dir, 'roundtrip'), { makeAgent: createOrtOfqlAgent });
    for (const n of [1, 50]) {
      const a = agent.act(obs, n, new Rng(5));
      const b = loaded.agent.act(obs, n, new Rng(5));
      expect(Buffer.from(b.buffer).equals(Buffer.from(a.buffer)), `n = ${n}`).toBe(true);
    }
    agent.dispose();
    loaded.agent.dispose();
    fromTrainer.agent.dispose();
  });

  it('resume is exact: 40 steps == 23 (stopped mid-window) + resume + 17, also after losing the newest checkpoint', async () => {
    await train(base('full', { steps: 40, saveEvery: 20 }));

    // Stop request after step 23 (not on a metrics or checkpoint boundary).
    const stop = new AbortController();
    const first = await train(base('split', { steps: 40, saveEvery: 20, signal: stop.signal, onStep: (m) => m.step === 22 && stop.abort() }));
    expect(first).toMatchObject({ step: 23, interrupted: true });
    expect(listCheckpoints(join(dir, 'split')).map((c) => c.step)).toEqual([20, 23]);
    expect(readJsonl(join(dir, 'split', 'metrics.jsonl')).map((l) => l.step)).toEqual([10, 20]);
    const second = await train(base('split', { steps: 40, saveEvery: 20, resume: true }));
    expect(second).toMatchObject({ step: 40, startStep: 23, interrupted: false });

    const want = strip(readJsonl(join(dir, 'full', 'metrics.jsonl')));
    expect(want.map((l) => l.step)).toEqual([10, 20, 30, 40]);
    expect(strip(readJsonl(join(dir, 'split', 'metrics.jsonl')))).toEqual(want);
    for (const f of ['model.safetensors', 'optimizer.safetensors']) {
      const a = readFileSync(join(dir, 'full', stepDirName(40), f));
      const b = readFileSync(join(dir, 'split', stepDirName(40), f));
      expect(b.equals(a), f).toBe(true);
    }

    // "Crash": the newest checkpoint is lost after its metrics were logged; resuming from step 20
    // drops the lines after 20 and writes them again, identically.
    rmSync(join(dir, 'split', stepDirName(40)), { recursive: true });
    rmSync(join(dir, 'split', stepDirName(23)), { recursive: true });
    const logs: string[] = [];
    const third = await train(base('split', { steps: 40, saveEvery: 20, resume: true, log: (m) => logs.push(m) }));
    expect(third.startStep).toBe(20);
    expect(logs.join('\n')).toMatch(/dropped 2 metrics/);
    expect(strip(readJsonl(join(dir, 'split', 'metrics.jsonl')))).toEqual(want);
    expect(readFileSync(join(dir, 'split', stepDirName(40), 'model.safetensors')).equals(readFileSync(join(dir, 'full', stepDirName(40), 'model.safetensors')))).toBe(true);

    // A checkpoint written before the actionAtBound metric existed (its window lacks the key) resumes.
    rmSync(join(dir, 'split', stepDirName(40)), { recursive: true });
    const statePath = join(dir, 'split', stepDirName(20), 'trainer-state.json');
    const state = JSON.parse(readFileSync(statePath, 'utf8'));
    delete state.window.sums.actionAtBound;
    writeFileSync(statePath, JSON.stringify(state));
    const old = await train(base('split', { steps: 40, saveEvery: 20, resume: true }));
    expect(old).toMatchObject({ startStep: 20, step: 40 });
    expect(readFileSync(join(dir, 'split', stepDirName(40), 'model.safetensors')).equals(readFileSync(join(dir, 'full', stepDirName(40), 'model.safetensors')))).toBe(true);
  });

  describe('errors name the file and the field', () => {
    it('missing dataset', async () => {
      const err = await train(base('e1', { steps: 5, dataset: join(dir, 'nope.hdf5') })).catch((e) => e);
      expect(err).toBeInstanceOf(TrainError);
      expect(err.message).toContain(join(dir, 'nope.hdf5'));
      expect(err.message).toMatch(/no such file/);
      expect(existsSync(join(dir, 'e1', 'metrics.jsonl'))).toBe(false);
    });

    it('dataset widths that do not fit the env', async () => {
      const err = await train(base('e2', { steps: 5, envId: 'halfcheetah-medium-v2' })).catch((e) => e);
      expect(err).toBeInstanceOf(DatasetError);
      expect(err.message).toContain(dataset);
      expect(err.message).toMatch(/observations/);
      expect(err.message).toMatch(/17/);
    });

    it('unknown env and bad hyper-parameters', async () => {
      const e1 = await train(base('e3', { steps: 5, envId: 'hopper-mediun-v2' })).catch((e) => e);
      expect(e1).toBeInstanceOf(TrainError);
      expect(e1.message).toMatch(/unknown environment id 'hopper-mediun-v2'/);
      const e2 = await train(base('e3', { steps: 5, overrides: { ...TINY, eta: -1 } })).catch((e) => e);
      expect(e2).toMatchObject({ code: 'config', field: '--eta' });
      const e3 = await train(base('e3', { steps: 0 })).catch((e) => e);
      expect(e3.message).toMatch(/--steps must be an integer >= 1/);
    });

    it('resume: nothing to resume, an existing run without --resume, mismatched config / seed / dataset', async () => {
      const e0 = await train(base('r-empty', { steps: 5, resume: true })).catch((e) => e);
      expect(e0).toMatchObject({ code: 'resume' });
      expect(e0.message).toMatch(/no checkpoint to resume from/);

      await train(base('r', { steps: 10 }));
      const cfgFile = join(dir, 'r', stepDirName(10), 'config.json');
      const e1 = await train(base('r', { steps: 20 })).catch((e) => e);
      expect(e1).toMatchObject({ code: 'out' });
      expect(e1.message).toMatch(/already holds a training run.*--resume/);

      const e2 = await train(base('r', { steps: 20, resume: true, overrides: { ...TINY, eta: 2 } })).catch((e) => e);
      expect(e2).toMatchObject({ code: 'resume', file: cfgFile, field: 'ofql.eta' });
      expect(e2.message).toContain(cfgFile);
      expect(e2.message).toMatch(/this run has 2 but the checkpoint has 0.01/);

      const e3 = await train(base('r', { steps: 20, resume: true, overrides: { hiddenDim: 64 } })).catch((e) => e);
      expect(e3).toMatchObject({ field: 'ofql.hiddenDim' });
      const e4 = await train(base('r', { steps: 20, resume: true, seed: 3 })).catch((e) => e);
      expect(e4).toMatchObject({ field: 'seed' });
      const e5 = await train(base('r', { steps: 20, resume: true, dataset: other })).catch((e) => e);
      expect(e5).toMatchObject({ code: 'resume', file: cfgFile, field: 'dataset.contentSha256' });
      // The same rollouts in a file with other bytes (as a regenerated HDF5 file): accepted.
      const same = join(dir, 'hopper-behaviour-rewritten.hdf5');
      await writeBehaviourDataset(same, { rows: 2000, seed: 1, metadata: { note: 'rewritten' } });
      expect(readFileSync(same)).not.toEqual(readFileSync(dataset));
      const again = await train(base('r', { steps: 12, resume: true, dataset: same }));
      expect(again).toMatchObject({ startStep: 10, step: 12 });
      const e6 = await train(base('r', { steps: 20, resume: true, envId: 'walker2d-medium-v2' })).catch((e) => e);
      expect(e6).toBeInstanceOf(Error); // the dataset's widths already fail for walker2d
      // Flags equal to the stored values, or left out, are fine.
      const ok = await train(base('r', { steps: 20, resume: true, overrides: { batchSize: 64 } }));
      expect(ok).toMatchObject({ startStep: 12, step: 20 });
    });
  });
});
