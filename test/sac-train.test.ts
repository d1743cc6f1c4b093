/**
 * The online SAC loop (src/sac/train.ts) on hopper with small networks: what a run writes, that
 * one seed gives one run, that the replay history is the transitions in order, and that the ONNX
 * policies in a snapshot act exactly like the agent.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { readCheckpointDir } from '../src/checkpoint/checkpoint-dir.js';
import { readD4rlFile } from '../src/data/d4rl-hdf5.js';
import { SacAgent } from '../src/sac/agent.js';
import { makeSacConfig, type SacConfig } from '../src/sac/config.js';
import { SAC_CHECKPOINT_FORMAT, SAC_POLICY_FILES, SAC_RUN_FILES, trainSac, type SacRunOptions } from '../src/sac/train.js';
import { Rng } from '../src/rng.js';

const root = mkdtempSync(join(tmpdir(), 'sac-train-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const STEPS = 400;
function options(out: string, seed = 3): SacRunOptions {
  return {
    envId: 'hopper-medium-v2',
    seed,
    steps: STEPS,
    outDir: join(root, out),
    config: { hiddenDim: 16, batchSize: 32, randomSteps: 150, bufferSize: 1000 },
    evalEvery: 200,
    evalEpisodes: 2,
    snapshotEvery: 200,
    logEvery: 100,
  };
}

const metricsOf = (dir: string) => readFileSync(join(dir, SAC_RUN_FILES.metrics), 'utf8');

describe('online SAC', () => {
  it('writes snapshots, the final checkpoint, metrics, the replay history and a summary; one seed gives one run', { timeout: 120_000 }, async () => {
    const a = await trainSac(options('a'));
    const b = await trainSac(options('b'));
    const c = await trainSac(options('c', 4));
    expect(a.stepsDone).toBe(STEPS);
    expect(a.updates).toBe(STEPS - 150 + 1);
    expect(a.evaluations.map((e) => e.step)).toEqual([0, 200, 400]);
    expect(existsSync(join(root, 'a', 'step-00000000', SAC_POLICY_FILES.sampled))).toBe(true);
    expect(metricsOf(join(root, 'b')).replace(/"elapsedS":[\d.e+-]+/g, '')).toBe(metricsOf(join(root, 'a')).replace(/"elapsedS":[\d.e+-]+/g, ''));
    expect(metricsOf(join(root, 'c'))).not.toBe(metricsOf(join(root, 'a')));

    const finalA = await readCheckpointDir(join(root, 'a', SAC_RUN_FILES.final));
    const finalB = await readCheckpointDir(join(root, 'b', SAC_RUN_FILES.final));
    expect(finalA.config.format).toBe(SAC_CHECKPOINT_FORMAT);
    for (const [name, t] of finalA.tensors) expect(Buffer.from(finalB.tensors.get(name)!.data.buffer).equals(Buffer.from(t.data.buffer))).toBe(true);
    expect([...finalA.tensors.keys()].some((n) => n.startsWith('critic_target.'))).toBe(true);

    const snap = await readCheckpointDir(join(root, 'a', 'step-00000200'));
    expect([...snap.tensors.keys()].every((n) => n.startsWith('actor.'))).toBe(true);
    expect(snap.config.step).toBe(200);
    for (const f of Object.values(SAC_POLICY_FILES)) expect(existsSync(join(root, 'a', 'step-00000200', f))).toBe(true);
    expect(JSON.parse(readFileSync(join(root, 'a', SAC_RUN_FILES.summary), 'utf8')).stepsDone).toBe(STEPS);
  });

  it('the replay history holds every transition in order, episodes cut by terminals or time-outs', { timeout: 60_000 }, async () => {
    const d = await readD4rlFile(join(root, 'a', SAC_RUN_FILES.experience));
    expect(d.N).toBe(STEPS);
    const O = d.observationSize;
    let ends = 0;
    for (let i = 0; i < d.N - 1; i++) {
      const end = d.terminals[i] === 1 || d.timeouts[i] === 1;
      if (end) ends++;
      if (!end) {
        for (let k = 0; k < O; k++) expect(d.nextObservations![i * O + k]).toBe(d.observations[(i + 1) * O + k]);
      }
    }
    expect(ends).toBeGreaterThan(3); // hopper falls often under random actions
    expect(d.terminals[d.N - 1] === 1 || d.timeouts[d.N - 1] === 1).toBe(true); // the cut last episode
    expect(Array.from(d.actions).every((x) => x >= -1 && x <= 1)).toBe(true);
  });

  it("a snapshot's ONNX policies act like the agent with its weights (sampled and mean)", { timeout: 60_000 }, async () => {
    const dir = join(root, 'a', SAC_RUN_FILES.final);
    const ckpt = await readCheckpointDir(dir);
    const cfg = ckpt.config.sac as SacConfig;
    const agent = new SacAgent(cfg, 0);
    const named = new Map([...ckpt.tensors].map(([n, t]) => [n, { data: t.data as Float32Array, shape: t.shape }]));
    agent.loadNamedTensors(named);
    const rng = new Rng(9);
    const n = 7;
    const obs = Float32Array.from({ length: n * cfg.obsDim }, () => rng.normal());
    const noise = Float32Array.from({ length: n * cfg.actDim }, () => rng.normal());
    const run = async (file: string, feeds: Record<string, ort.Tensor>) => {
      const s = await ort.InferenceSession.create(join(dir, file));
      try {
        return (await s.run(feeds)).action!.data as Float32Array;
      } finally {
        await s.release();
      }
    };
    const obsT = new ort.Tensor('float32', obs, [n, cfg.obsDim]);
    const sampled = await run(SAC_POLICY_FILES.sampled, { obs: obsT, noise: new ort.Tensor('float32', noise, [n, cfg.actDim]) });
    const mean = await run(SAC_POLICY_FILES.mean, { obs: obsT });
    const wantSampled = agent.act(obs, n, noise);
    const wantMean = agent.act(obs, n, null);
    for (let i = 0; i < n * cfg.actDim; i++) {
      expect(sampled[i]).toBeCloseTo(wantSampled[i]!, 6);
      expect(mean[i]).toBeCloseTo(wantMean[i]!, 6);
    }
    expect(Array.from(sampled).some((x, i) => Math.abs(x - mean[i]!) > 1e-3)).toBe(true);
    agent.close();
  });

  it('a run stopped and resumed (--resume) ends exactly like one that ran through: metrics, weights, replay history', { timeout: 120_000 }, async () => {
    const through = await trainSac({ ...options('through'), steps: 500, resumeEvery: 125 });
    const stopped = await trainSac({ ...options('resumed'), steps: 250, resumeEvery: 125 });
    expect(stopped.stepsDone).toBe(250);
    const resumed = await trainSac({ ...options('resumed'), steps: 500, resumeEvery: 125, resume: true });
    expect(resumed.stepsDone).toBe(500);
    expect(resumed.evaluations.map((e) => [e.step, e.meanReturn])).toEqual(through.evaluations.map((e) => [e.step, e.meanReturn]));
    const strip = (dir: string) => metricsOf(join(root, dir)).replace(/"elapsedS":[\d.e+-]+/g, '');
    expect(strip('resumed')).toBe(strip('through'));
    const [a, b] = await Promise.all(['through', 'resumed'].map((d) => readCheckpointDir(join(root, d, SAC_RUN_FILES.final))));
    for (const [name, t] of a!.tensors) expect(Buffer.from(b!.tensors.get(name)!.data.buffer).equals(Buffer.from(t.data.buffer)), name).toBe(true);
    const [ha, hb] = await Promise.all(['through', 'resumed'].map((d) => readD4rlFile(join(root, d, SAC_RUN_FILES.experience))));
    expect(hb!.N).toBe(500);
    expect(hb!.observations).toEqual(ha!.observations);
    expect(hb!.actions).toEqual(ha!.actions);
    expect(hb!.timeouts).toEqual(ha!.timeouts);
    expect(hb!.infos.qpos).toEqual(ha!.infos.qpos);
    // A resume that asks for no more steps is refused before any work.
    await expect(trainSac({ ...options('resumed'), steps: 400, resumeEvery: 125, resume: true })).rejects.toThrow(/--steps 400: the run .* is already at step 500/);
  });

  it('refuses a non-empty output directory before any work', async () => {
    await expect(trainSac(options('a'))).rejects.toThrow(/is not empty/);
  });

  it('names the flag of a setting out of range, in the library and on the command line (exit 2)', () => {
    expect(() => makeSacConfig(11, 3, { hiddenDim: 0 })).toThrow(/hiddenDim \(--hidden\): expected an integer >= 1, got 0/);
    expect(() => makeSacConfig(11, 3, { batchSize: 300, bufferSize: 100 })).toThrow(/--batch-size\) = 300 exceeds .*--buffer-size\) = 100/);
    const script = join(import.meta.dirname, '..', 'dist', 'scripts', 'train-sac.js');
    for (const [args, message] of [
      [['--env', 'hopper', '--out', join(root, 'x'), '--tau', '2'], /--tau\): expected a number in \[0, 1\], got 2/],
      [['--env', 'nosuch', '--out', join(root, 'x')], /--env must be one of hopper, halfcheetah, walker2d, ant, got 'nosuch'/],
      [['--env', 'hopper', '--out', join(root, 'x'), '--alpha', 'abc'], /--alpha must be a number, got 'abc'/],
    ] as const) {
      const r = spawnSync(process.execPath, [script, ...args], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    expect(existsSync(join(root, 'x'))).toBe(false);
  });
});

describe('train-sac CLI', () => {
  it('SIGTERM stops the run after the current step and still writes its summary', { timeout: 120_000 }, async () => {
    const { spawn } = await import('node:child_process');
    const out = join(root, 'cli-sigterm');
    const script = join(import.meta.dirname, '..', 'dist', 'scripts', 'train-sac.js');
    const args = [script, '--env', 'hopper', '--out', out, '--steps', '1000000', '--hidden', '16', '--batch-size', '32', '--random-steps', '100', '--log-every', '100', '--eval-every', '100000', '--snapshot-every', '100000', '--resume-every', '0'];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    // Signal once the run is past its random warm-up and updating.
    await new Promise<void>((res) => {
      child.stdout.setEncoding('utf8').on('data', (s: string) => {
        stdout += s;
        if (/step [3-9]00\//.test(stdout)) res();
      });
    });
    child.kill('SIGTERM');
    const code = await Promise.race([exited, new Promise<'hung'>((res) => setTimeout(() => res('hung'), 60_000))]);
    if (code === 'hung') child.kill('SIGKILL');
    expect(code, stderr).toBe(0);
    expect(stderr).toMatch(/SIGTERM: stopping after this step/);
    const summary = JSON.parse(readFileSync(join(out, SAC_RUN_FILES.summary), 'utf8')) as { stopped: boolean; stepsDone: number };
    expect(summary.stopped).toBe(true);
    // Stopped soon after the signal, not at the next snapshot or evaluation (100k), where a loop
    // that never yields to the event loop would first run the handler.
    expect(summary.stepsDone).toBeLessThan(5_000);
  });
});
