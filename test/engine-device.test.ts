/**
 * `train --device webgpu`: onnxruntime's bundled WebGPU provider. On a machine with no usable
 * WebGPU adapter (CI, this project's CPU machines) the run must be refused at once, with the flag
 * and the way out named, before any file is written; where an adapter exists, a short run must
 * train on it and agree with the CPU run. Either way something is asserted: the test asks the
 * provider itself which case holds.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentFactory, EngineDeviceError } from '../src/engine/index.js';
import { readJsonl } from '../src/train/jsonl.js';
import { writeBehaviourDataset } from './train-helpers.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist', 'src', 'cli.js');
let dir: string;
let dataset: string;

function train(out: string, extra: string[]) {
  const args = ['train', '-d', dataset, '-e', 'hopper-medium-v2', '-o', out, '--hidden', '32', '--batch-size', '32', '--steps', '4', '--log-every', '2', '--progress', 'off', ...extra];
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stderr: r.stderr };
}

/** Whether onnxruntime's WebGPU provider starts here (null) or why not. */
async function webgpuRefusal(): Promise<string | null> {
  try {
    await agentFactory('onnx', { device: 'webgpu' });
    return null;
  } catch (e) {
    if (e instanceof EngineDeviceError) return e.message;
    throw e;
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ofql-device-'));
  dataset = join(dir, 'data.hdf5');
  await writeBehaviourDataset(dataset, { rows: 300 });
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('train --device', () => {
  it('webgpu: refused at once without an adapter, else trains like the CPU run', async () => {
    const refusal = await webgpuRefusal();
    const out = join(dir, 'gpu');
    const r = train(out, ['--device', 'webgpu']);
    if (refusal !== null) {
      expect(refusal).toMatch(/^--device webgpu: onnxruntime could not start its webgpu provider/);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('ofql-eval train: error: --device webgpu');
      expect(r.stderr).toContain('use --device cpu otherwise');
      expect(existsSync(join(out, 'train-config.json'))).toBe(false);
      return;
    }
    expect(r.code, r.stderr).toBe(0);
    expect(train(join(dir, 'cpu'), []).code).toBe(0);
    const [g, c] = [out, join(dir, 'cpu')].map((d) => readJsonl(join(d, 'metrics.jsonl')));
    for (const k of ['criticLoss', 'bcLoss']) expect(Math.abs((g!.at(-1)![k] as number) - (c!.at(-1)![k] as number))).toBeLessThan(1e-3);
  });

  it('a TF.js backend with --device webgpu is refused, naming both flags', () => {
    const r = train(join(dir, 'tfjs'), ['--backend', 'wasm', '--device', 'webgpu']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--device webgpu runs the onnx engine's graphs; the TF.js backend 'wasm' .*--backend onnx/);
  });
});
