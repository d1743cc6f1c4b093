/**
 * The OFQL one-step actor as ONNX (src/ofql/onnx-export.ts, src/onnx/*, `ofql-eval export-onnx`,
 * the default `onnx` backend of the OFQL checkpoint policy): the protobuf encoding, and actions equal
 * to the TensorFlow.js policy's on the same weights, observations and noise (within 1e-5).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ProtoWriter } from '../src/onnx/protobuf.js';
import { createOfqlCheckpointPolicy } from '../src/policy/ofql-checkpoint.js';
import { createOnnxPolicy, createOnnxSession, importOnnxRuntime } from '../src/policy/onnx-policy.js';
import type { ActContext, Policy } from '../src/policy/types.js';
import { ROOT, spawnAsync } from './eval-helpers.js';

const CKPT = join(ROOT, 'eval', 'checkpoints', 'ofql-hopper-medium');
const CLI = join(ROOT, 'dist', 'src', 'cli.js');
const HOPPER = { envId: 'hopper-medium-v2', observationSize: 11, actionSize: 3, ckpt: CKPT };
const tmp = mkdtempSync(join(tmpdir(), 'ofql-onnx-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const cli = (args: string[]) => spawnAsync(process.execPath, [CLI, ...args], { cwd: ROOT, timeout: 120_000 });

/** n observations spread over a plausible range, and a context with distinct seeds and steps. */
function batch(n: number): { obs: Float64Array; ctx: ActContext } {
  const obs = Float64Array.from({ length: n * 11 }, (_, i) => Math.sin(0.37 * i) * 1.5);
  const ctx: ActContext = {
    episodeIds: Int32Array.from({ length: n }, (_, j) => j),
    episodeSeeds: Float64Array.from({ length: n }, (_, j) => 1000 + 17 * j),
    steps: Int32Array.from({ length: n }, (_, j) => (j * 31) % 1000),
  };
  return { obs, ctx };
}

async function actions(p: Policy, n: number): Promise<Float32Array> {
  const { obs, ctx } = batch(n);
  try {
    return Float32Array.from(await p.act(obs, n, ctx));
  } finally {
    await p.close?.();
  }
}

describe('protobuf encoding', () => {
  it('writes varints, negative int64s, floats and nested messages as the wire format says', async () => {
    expect(Array.from(new ProtoWriter().int(1, 300).finish())).toEqual([0x08, 0xac, 0x02]);
    expect(Array.from(new ProtoWriter().int(2, -1).finish())).toEqual([0x10, ...Array(9).fill(0xff), 0x01]);
    expect(Array.from(new ProtoWriter().float(3, 1).finish())).toEqual([0x1d, 0x00, 0x00, 0x80, 0x3f]);
    expect(Array.from(new ProtoWriter().message(4, new ProtoWriter().string(1, 'ab')).finish())).toEqual([0x22, 0x04, 0x0a, 0x02, 0x61, 0x62]);
  });
});

describe('the one-step actor on onnxruntime', () => {
  it.each(['ema', 'online'] as const)('gives the TensorFlow.js actions of the %s actor (same noise) within 1e-5', async (actor) => {
    const n = 24;
    const tfjs = await actions(await createOfqlCheckpointPolicy(HOPPER, { backend: 'wasm', actor }), n);
    const onnx = await actions(await createOfqlCheckpointPolicy(HOPPER, { backend: 'onnx', actor }), n);
    let worst = 0;
    for (let i = 0; i < tfjs.length; i++) worst = Math.max(worst, Math.abs(tfjs[i]! - onnx[i]!));
    expect(worst).toBeLessThan(1e-5);
    expect(new Set(Array.from(onnx).map((v) => v.toFixed(3))).size).toBeGreaterThan(n); // not a constant output
  });

  it.each([0, 0.5])('with noise scale %s: both backends give the same actions, and 0 makes the action a function of the state', async (noiseScale) => {
    const n = 12;
    const tfjs = await actions(await createOfqlCheckpointPolicy(HOPPER, { backend: 'wasm', noiseScale }), n);
    const onnxPolicy = await createOfqlCheckpointPolicy(HOPPER, { backend: 'onnx', noiseScale });
    expect(onnxPolicy.description).toContain(noiseScale === 0 ? 'sampler one-step(noiseScale=0),' : 'sampler one-step(noiseScale=0.5),');
    const onnx = await actions(onnxPolicy, n);
    const full = await actions(await createOfqlCheckpointPolicy(HOPPER, { backend: 'onnx' }), n);
    let worst = 0;
    for (let i = 0; i < tfjs.length; i++) worst = Math.max(worst, Math.abs(tfjs[i]! - onnx[i]!));
    expect(worst).toBeLessThan(1e-5);
    expect(Array.from(onnx)).not.toEqual(Array.from(full)); // the scale reaches the noise
    if (noiseScale === 0) {
      // Same observation, different episode seeds and steps: the same action.
      const p = await createOfqlCheckpointPolicy(HOPPER, { backend: 'onnx', noiseScale });
      const obs = Float64Array.from({ length: 3 * 11 }, (_, i) => Math.sin(0.37 * (i % 11)));
      const ctx = { episodeIds: Int32Array.from([0, 1, 2]), episodeSeeds: Float64Array.from([5, 6, 7]), steps: Int32Array.from([0, 9, 99]) };
      const a = Array.from(await p.act(obs, 3, ctx));
      await p.close?.();
      expect(a.slice(3, 6)).toEqual(a.slice(0, 3));
      expect(a.slice(6, 9)).toEqual(a.slice(0, 3));
    }
  });

  it('is the default backend of the one-step sampler, and refuses the critic-ranked samplers', async () => {
    const p = await createOfqlCheckpointPolicy(HOPPER, {});
    expect(p.description).toMatch(/sampler one-step, actor ema, backend onnx/);
    await p.close?.();
    await expect(createOfqlCheckpointPolicy(HOPPER, { backend: 'onnx', sampler: 'dql' })).rejects.toThrow(/--backend onnx runs the one-step sampler only/);
  });

  it('export-onnx writes a model with obs and noise inputs that acts like the checkpoint', async () => {
    const out = join(tmp, 'actor.onnx');
    const r = await cli(['export-onnx', CKPT, '-o', out]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/wrote .*actor\.onnx \(\d+ bytes; ema actor of step 30000\)/);
    const ort = await importOnnxRuntime();
    const session = await createOnnxSession(ort, readFileSync(out), 1);
    expect(session.inputNames).toEqual(['obs', 'noise']);
    expect(session.outputNames).toEqual(['action']);
    await session.release();
    const fromFile = await actions(await createOnnxPolicy(HOPPER, { file: out, threads: 1, label: 'actor.onnx' }), 8);
    const fromCkpt = await actions(await createOfqlCheckpointPolicy(HOPPER, { backend: 'onnx' }), 8);
    expect(Array.from(fromFile)).toEqual(Array.from(fromCkpt));
  });

  it('export-onnx names a missing checkpoint and refuses a directory as output', async () => {
    const missing = await cli(['export-onnx', join(tmp, 'nope'), '-o', join(tmp, 'x.onnx')]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/export-onnx: error: .*nope/);
    const dirOut = await cli(['export-onnx', CKPT, '-o', tmp]);
    expect(dirOut.status).toBe(2);
    expect(dirOut.stderr).toMatch(/--out .* is a directory/);
  });
});
