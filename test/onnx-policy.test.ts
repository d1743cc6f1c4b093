/**
 * ONNX policies (`--policy model.onnx`, src/policy/onnx-*.ts): the contract's refusals (from the
 * metadata alone and from real models), the actions onnxruntime computes against the values torch
 * computed when it wrote the fixtures (scripts/export/to_onnx.py --fixtures), the per-row noise of
 * stochastic models, and identical results for 1 and 2 workers.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evaluate } from '../eval/evaluate.js';
import { PolicyArgsError, preparePolicy } from '../src/policy/kinds.js';
import { PolicyLoadError } from '../src/policy/errors.js';
import { checkOnnxContract, OnnxContractError, type OnnxValueInfo } from '../src/policy/onnx-contract.js';
import { createOnnxPolicy } from '../src/policy/onnx-policy.js';
import { RowRngs } from '../src/policy/row-rngs.js';
import type { ActContext } from '../src/policy/types.js';
import { ROOT } from './eval-helpers.js';

const ONNX = join(ROOT, 'test', 'fixtures', 'onnx');
const HOPPER = { envId: 'hopper-medium-v2', observationSize: 11, actionSize: 3 };
const expected = JSON.parse(readFileSync(join(ONNX, 'expected.json'), 'utf8')) as {
  obs: number[][];
  action: number[][];
};

const t = (name: string, type: string, shape: Array<number | string>): OnnxValueInfo => ({ name, isTensor: true, type, shape });
const obsIn = t('obs', 'float32', ['n', 11]);
const actOut = t('action', 'float32', ['n', 3]);

function contractError(inputs: OnnxValueInfo[], outputs: OnnxValueInfo[]): string {
  try {
    checkOnnxContract(inputs, outputs, HOPPER);
  } catch (e) {
    expect(e).toBeInstanceOf(OnnxContractError);
    return (e as Error).message;
  }
  throw new Error('the contract should have refused this model');
}

describe('the ONNX contract (metadata only)', () => {
  it('binds obs -> action with a dynamic batch, and a second input named noise', () => {
    expect(checkOnnxContract([obsIn], [actOut], HOPPER)).toEqual({ obsInput: 'obs', noiseInput: null, output: 'action', batch: 'dynamic' });
    const noise = t('noise', 'float32', ['n', 3]);
    expect(checkOnnxContract([noise, t('state', 'float32', [-1, 11])], [actOut], HOPPER)).toEqual({
      obsInput: 'state',
      noiseInput: 'noise',
      output: 'action',
      batch: 'dynamic',
    });
    expect(checkOnnxContract([t('obs', 'float32', [1, 11])], [t('a', 'float32', [1, 3])], HOPPER).batch).toBe(1);
  });

  it('refuses with a message naming the input or output and what was expected', () => {
    expect(contractError([obsIn, t('extra', 'float32', ['n', 3])], [actOut])).toMatch(/2 inputs \('obs', 'extra'\).*one named 'noise'/);
    expect(contractError([t('obs', 'float64', ['n', 11])], [actOut])).toMatch(/input 'obs' is float64; expected float32 \[n, 11\]/);
    expect(contractError([t('obs', 'float32', ['n', 12])], [actOut])).toMatch(/input 'obs' has shape \[n, 12\]; expected \[n, 11\] \(hopper-medium-v2 observations\)/);
    expect(contractError([t('obs', 'float32', ['n', 1, 11])], [actOut])).toMatch(/input 'obs' has shape \[n, 1, 11\]/);
    expect(contractError([t('obs', 'float32', [4, 11])], [actOut])).toMatch(/input 'obs' has a fixed batch size 4.*dynamic_axes/);
    expect(contractError([obsIn], [actOut, t('v', 'float32', ['n', 1])])).toMatch(/2 outputs \('action', 'v'\); expected exactly one/);
    expect(contractError([obsIn], [t('action', 'float32', ['n', 4])])).toMatch(/output 'action' has shape \[n, 4\]; expected \[n, 3\]/);
    expect(contractError([obsIn, t('noise', 'float32', ['n', 2])], [actOut])).toMatch(/input 'noise' has shape \[n, 2\]; expected \[n, 3\]/);
    expect(contractError([{ name: 'obs', isTensor: false }], [actOut])).toMatch(/input 'obs' is not a tensor/);
  });
});

describe('ONNX models checked before any worker starts', () => {
  const prepare = (file: string, env = ['hopper-medium-v2'], flags: Record<string, unknown> = {}) =>
    preparePolicy({ policy: join(ONNX, file), env, flags });

  it.each([
    ['wrong-obs-size.onnx', /input 'obs' has shape \[n, 12\]; expected \[n, 11\]/],
    ['wrong-action-size.onnx', /output 'action' has shape \[n, 4\]; expected \[n, 3\]/],
    ['two-outputs.onnx', /2 outputs \('action', 'value'\)/],
    ['float64-input.onnx', /input 'obs' is float64; expected float32/],
  ])('%s is refused', async (file, message) => {
    const err = await prepare(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PolicyLoadError);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).toContain(join(ONNX, file));
  });

  it('checks every env of the run, and names a missing file and a file that is not a model', async () => {
    await expect(prepare('hopper-tanh-mlp.onnx', ['hopper-medium-v2', 'walker2d-medium-v2'])).rejects.toThrow(/expected \[n, 17\] \(walker2d-medium-v2 observations\)/);
    await expect(prepare('missing.onnx')).rejects.toThrow(/no ONNX model at .*missing\.onnx/);
    await expect(preparePolicy({ policy: `onnx:${join(ONNX, 'expected.json')}`, env: ['hopper-medium-v2'] })).rejects.toThrow(/onnxruntime cannot load .*expected\.json/);
  });

  it('validates --onnx-threads and keeps it to ONNX policies', async () => {
    await expect(prepare('hopper-tanh-mlp.onnx', undefined, { 'onnx-threads': 0 })).rejects.toThrow(PolicyArgsError);
    await expect(prepare('hopper-tanh-mlp.onnx', undefined, { 'onnx-threads': 1.5 })).rejects.toThrow(/--onnx-threads must be an integer from 1/);
    await expect(preparePolicy({ policy: 'zero', env: ['hopper-medium-v2'], flags: { 'onnx-threads': 2 } })).rejects.toThrow(/--onnx-threads only applies to ONNX policies/);
    const ok = await prepare('hopper-tanh-mlp.onnx', undefined, { 'onnx-threads': 2 });
    expect(ok.kind).toBe('onnx');
    expect(ok.ref.kind === 'module' && ok.ref.options?.threads).toBe(2);
  });
});

describe('ONNX actions', () => {
  const obs = Float64Array.from(expected.obs.flat());
  const want = expected.action.flat();

  it.each(['hopper-tanh-mlp.onnx', 'hopper-batch1.onnx'])('%s gives the actions torch computed', async (file) => {
    const policy = await createOnnxPolicy(HOPPER, { file: join(ONNX, file), threads: 1, label: file });
    try {
      const got = Float32Array.from(await policy.act(obs, expected.obs.length)); // a copy: act() reuses its buffer
      expect(got.length).toBe(want.length);
      for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i]!, 5);
      // Row-by-row equals the batch (no cross-row effects).
      const row2 = await policy.act(obs.subarray(2 * 11, 3 * 11), 1);
      expect(Array.from(row2)).toEqual(Array.from(got.subarray(6, 9)));
    } finally {
      await policy.close?.();
    }
  });

  it("fills a model's noise input from each row's episode seed and step", async () => {
    // hopper-noisy-mlp computes tanh(m(obs) + 0.3 noise) where tanh(m(obs)) is the deterministic fixture's action.
    const policy = await createOnnxPolicy(HOPPER, { file: join(ONNX, 'hopper-noisy-mlp.onnx'), threads: 1, label: 'noisy' });
    const n = expected.obs.length;
    const ctx: ActContext = { episodeIds: Int32Array.from([0, 1, 2, 3]), episodeSeeds: Float64Array.from([11, 12, 13, 14]), steps: Int32Array.from([0, 5, 0, 7]) };
    try {
      const got = Float32Array.from(await policy.act(obs, n, ctx)); // a copy: act() reuses its buffer
      const rngs = new RowRngs(0).forRows(n, ctx);
      for (let j = 0; j < n; j++) {
        for (let k = 0; k < 3; k++) {
          const z = rngs[j]!.normal();
          expect(got[j * 3 + k]).toBeCloseTo(Math.tanh(Math.atanh(want[j * 3 + k]!) + 0.3 * z), 5);
        }
      }
      expect(Array.from(await policy.act(obs, n, ctx))).toEqual(Array.from(got)); // same seeds and steps, same actions
      const later = await policy.act(obs, n, { ...ctx, steps: Int32Array.from([1, 6, 1, 8]) });
      expect(Array.from(later)).not.toEqual(Array.from(got));
    } finally {
      await policy.close?.();
    }
  });

  it('stopping a run mid-way never cuts an onnxruntime call (which would abort this process)', async () => {
    const prepared = await preparePolicy({ policy: join(ONNX, 'hopper-noisy-mlp.onnx'), env: ['hopper-medium-v2'] });
    for (const afterMs of [150, 400, 700, 1000]) {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), afterMs);
      const doc = await evaluate({ env: 'hopper-medium-v2', policy: prepared.ref, episodes: 400, workers: 2, batchSize: 8, signal: controller.signal });
      expect(doc.interrupted).toBe(true);
      expect(doc.results[0]!.pendingEpisodes.length).toBeGreaterThan(0);
    }
  });

  it('a stochastic ONNX policy gives the same result document with 1 and 2 workers', async () => {
    const prepared = await preparePolicy({ policy: join(ONNX, 'hopper-noisy-mlp.onnx'), env: ['hopper-medium-v2'] });
    const run = (workers: number) => evaluate({ env: 'hopper-medium-v2', policy: prepared.ref, episodes: 5, maxEpisodeSteps: 60, workers, batchSize: 2 });
    const [one, two] = [await run(1), await run(2)];
    expect(one.results[0]!.returns).toEqual(two.results[0]!.returns);
    expect(one.results[0]!.lengths).toEqual(two.results[0]!.lengths);
    expect(new Set(one.results[0]!.returns).size).toBeGreaterThan(1); // the noise differs between episodes
    expect(one.results[0]!.policyDescription).toMatch(/ONNX model .*hopper-noisy-mlp\.onnx \(obs: float32 \[n, 11\], noise: float32 \[n, 3\]\)/);
  });
});
