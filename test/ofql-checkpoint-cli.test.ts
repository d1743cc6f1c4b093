/**
 * Evaluating an OFQL checkpoint directory end to end: `ofql-eval --ckpt <dir>` (compiled CLI,
 * worker threads loading the checkpoint on the wasm backend), determinism across worker counts,
 * the env taken from the checkpoint, sampler options, and clear errors for broken checkpoints.
 * Also the policy plug-in directly (per-(episode seed, step) randomness).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EvalResultDocument } from '../eval/result.js';
import { initBackend } from '../src/ofql/tensor-backend.js';
import { makeOfqlConfig } from '../src/ofql/config.js';
import { createOfqlAgent } from '../src/ofql/train-step.js';
import { saveOfqlCheckpoint } from '../src/ofql/checkpoint.js';
import { createOfqlCheckpointPolicy } from '../src/policy/ofql-checkpoint.js';
import { ROOT } from './eval-helpers.js';

const CLI = join(ROOT, 'dist', 'src', 'cli.js');
const dir = mkdtempSync(join(tmpdir(), 'ofql-ckpt-cli-'));
const ckpt = join(dir, 'ckpt');

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, '--progress', 'off', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = { stdout: '', stderr: '' };
    child.stdout.on('data', (d: Buffer) => (out.stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out.stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, ...out }));
  });
}
const readDoc = (f: string): EvalResultDocument => JSON.parse(readFileSync(f, 'utf8')) as EvalResultDocument;

beforeAll(async () => {
  await initBackend('wasm');
  // Tiny untrained hopper agent (obs 11, act 3).
  const agent = createOfqlAgent(makeOfqlConfig({ obsDim: 11, actDim: 3 }, { hiddenDim: 16, depth: 2, timeEmbDim: 4 }), 1);
  await saveOfqlCheckpoint(ckpt, agent, { includeTrainingState: false, envId: 'hopper-medium-v2', fsync: false });
  agent.dispose();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ofql-eval --ckpt <OFQL checkpoint>', () => {
  it('evaluates it with 2 workers, and 1 worker gives identical episodes', async () => {
    const common = ['--ckpt', ckpt, '--env', 'hopper-medium-v2', '--episodes', '4', '--max-episode-steps', '20'];
    const r2 = await cli([...common, '--workers', '2', '--json', join(dir, 'w2.json')]);
    expect(r2.code, r2.stderr).toBe(0);
    const d2 = readDoc(join(dir, 'w2.json'));
    expect(d2.complete).toBe(true);
    expect(d2.policy).toMatchObject({ name: 'ofql', kind: 'module', ckpt });
    const res = d2.results[0]!;
    expect(res.envId).toBe('hopper-medium-v2');
    expect(res.returns).toHaveLength(4);
    expect(res.returns.every(Number.isFinite)).toBe(true);
    expect(res.policyDescription).toMatch(/^OFQL checkpoint .*ckpt \(step 0, trained on hopper-medium-v2\), sampler one-step, actor ema, backend onnx \(onnxruntime [\d.]+ CPU\)$/);

    const r1 = await cli([...common, '--workers', '1', '--json', join(dir, 'w1.json')]);
    expect(r1.code, r1.stderr).toBe(0);
    const d1 = readDoc(join(dir, 'w1.json'));
    expect(d1.results[0]!.returns).toEqual(res.returns);
    expect(d1.results[0]!.lengths).toEqual(res.lengths);
  });

  it('takes --env from the checkpoint and records the sampler and its parameters', async () => {
    const r = await cli(['--ckpt', ckpt, '--episodes', '2', '--max-episode-steps', '5', '--workers', '1', '--sampler', 'qgbs', '--qgbs-k', '2', '--json', join(dir, 'q.json')]);
    expect(r.code, r.stderr).toBe(0);
    const d = readDoc(join(dir, 'q.json'));
    expect(d.results.map((x) => x.envId)).toEqual(['hopper-medium-v2']);
    expect(d.results[0]!.policyDescription).toContain('sampler qgbs(K=2,B=4,M=4,SNR=1.5,eta=0.3,kappa=0.001)');
    const z = await cli(['--ckpt', ckpt, '--episodes', '1', '--max-episode-steps', '5', '--workers', '1', '--noise-scale', '0', '--json', join(dir, 'z.json')]);
    expect(z.code, z.stderr).toBe(0);
    expect(readDoc(join(dir, 'z.json')).results[0]!.policyDescription).toContain('sampler one-step(noiseScale=0), actor ema, backend onnx');
  });

  it('bad checkpoints and options: clear errors naming the file, exit code 2', async () => {
    const missing = await cli(['--ckpt', join(dir, 'nope'), '--episodes', '1']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`policy ofql: ${join(dir, 'nope')}: checkpoint directory does not exist`);

    const bad = await cli(['--ckpt', ckpt, '--sampler', 'qgbs', '--qgbs-m', '0']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('sampler qgbs: M must be an integer >= 1');

    const scaledDql = await cli(['--ckpt', ckpt, '--sampler', 'dql', '--noise-scale', '0.5']);
    expect(scaledDql.code).toBe(2);
    expect(scaledDql.stderr).toContain('sampler dql: noiseScale (--noise-scale) applies to the one-step sampler only');
    const negative = await cli(['--ckpt', ckpt, '--noise-scale', '-1']);
    expect(negative.code).toBe(2);
    expect(negative.stderr).toContain('sampler one-step: noiseScale must be a number >= 0, got -1');

    const notOfql = await cli(['--policy', 'random', '--env', 'hopper-medium-v2', '--sampler', 'dql']);
    expect(notOfql.code).toBe(2);
    expect(notOfql.stderr).toContain('--sampler only applies to OFQL checkpoints');

    const broken = join(dir, 'broken');
    rmSync(broken, { recursive: true, force: true });
    const agent = createOfqlAgent(makeOfqlConfig({ obsDim: 11, actDim: 3 }, { hiddenDim: 8, depth: 1, timeEmbDim: 4 }), 2);
    await saveOfqlCheckpoint(broken, agent, { includeTrainingState: false, fsync: false });
    agent.dispose();
    const noEnv = await cli(['--ckpt', broken, '--episodes', '1']);
    expect(noEnv.code).toBe(2);
    expect(noEnv.stderr).toContain(`${join(broken, 'config.json')} has no envId; give --env`);
    // Wrong env for the checkpoint's dimensions: named in the worker's load error.
    const wrongEnv = await cli(['--ckpt', broken, '--env', 'halfcheetah-medium-v2', '--episodes', '1', '--workers', '1']);
    expect(wrongEnv.code).not.toBe(0);
    expect(wrongEnv.stderr).toMatch(/config\.json: the checkpoint was built for obsDim 11 \/ actDim 3.*halfcheetah-medium-v2 has 17 \/ 6/);
    // A behaviour-cloning checkpoint has no trained critic: critic-ranked samplers are refused.
    const bcDir = join(dir, 'bc');
    rmSync(bcDir, { recursive: true, force: true });
    const bcAgent = createOfqlAgent(
      makeOfqlConfig({ obsDim: 11, actDim: 3 }, { hiddenDim: 8, depth: 1, timeEmbDim: 4, eta: 0, trainCritic: false }),
      3,
    );
    await saveOfqlCheckpoint(bcDir, bcAgent, { includeTrainingState: false, envId: 'hopper-medium-v2', fsync: false });
    bcAgent.dispose();
    const bcDql = await cli(['--ckpt', bcDir, '--sampler', 'dql', '--episodes', '1', '--workers', '1']);
    expect(bcDql.code).toBe(2); // refused before any worker starts
    expect(bcDql.stderr).toContain(`${join(bcDir, 'config.json')}: trainCritic is false`);
    expect(bcDql.stderr).toContain("sampler 'dql' cannot rank actions");
    // the plug-in refuses too (library use, no CLI in front)
    await expect(
      createOfqlCheckpointPolicy({ envId: 'hopper-medium-v2', observationSize: 11, actionSize: 3, ckpt: bcDir, seed: 0 }, { sampler: 'best-of-n' }),
    ).rejects.toThrow(/trainCritic is false .*sampler 'best-of-n'/);
    const bcOne = await cli(['--ckpt', bcDir, '--episodes', '1', '--workers', '1', '--max-episode-steps', '5']);
    expect(bcOne.stderr).not.toMatch(/error/i);
    expect(bcOne.code).toBe(0);
    truncateSync(join(broken, 'model.safetensors'), 40);
    const trunc = await cli(['--ckpt', broken, '--env', 'hopper-medium-v2', '--episodes', '1']);
    expect(trunc.code).toBe(2);
    expect(trunc.stderr).toContain(join(broken, 'model.safetensors'));
  });

  it('the plug-in: actions depend only on (episode seed, step), not on the batch', async () => {
    const spec = { envId: 'hopper-medium-v2', observationSize: 11, actionSize: 3, ckpt, seed: 0 };
    const p = await createOfqlCheckpointPolicy(spec, { sampler: 'best-of-n', n: 4 });
    const obs = Float64Array.from({ length: 3 * 11 }, (_, i) => Math.sin(i));
    const ctx = (ids: number[], steps: number[]) => ({
      episodeIds: Int32Array.from(ids),
      episodeSeeds: Float64Array.from(ids, (i) => 1000 + i),
      steps: Int32Array.from(steps),
    });
    const all = (await p.act(obs, 3, ctx([0, 1, 2], [5, 5, 7]))) as Float32Array;
    const last = (await p.act(obs.slice(22), 1, ctx([2], [7]))) as Float32Array;
    expect(Array.from(last)).toEqual(Array.from(all.subarray(6, 9)));
    const again = (await p.act(obs, 3, ctx([0, 1, 2], [5, 5, 7]))) as Float32Array;
    expect(Array.from(again)).toEqual(Array.from(all));
    const nextStep = (await p.act(obs, 3, ctx([0, 1, 2], [6, 6, 8]))) as Float32Array;
    expect(Array.from(nextStep)).not.toEqual(Array.from(all));
    await p.close?.();
    await expect(createOfqlCheckpointPolicy({ ...spec, observationSize: 17, actionSize: 6 })).rejects.toThrow(/config\.json: the checkpoint was built for obsDim 11/);
  });
});
