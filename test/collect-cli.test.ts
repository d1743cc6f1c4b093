/**
 * `ofql-eval collect` from the command line (dist/src/cli.js): a linear-policy JSON given alone
 * with --ckpt, the summary line, metadata naming the checkpoint, and usage errors (exit code 2).
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readD4rlFile } from '../src/data/index.js';
import { saveOfqlCheckpoint } from '../src/ofql/checkpoint.js';
import { makeOfqlConfig } from '../src/ofql/config.js';
import { createOfqlAgent } from '../src/ofql/train-step.js';
import { initBackend } from '../src/ofql/tensor-backend.js';
import { spawnAsync } from './eval-helpers.js';

const ROOT = join(import.meta.dirname, '..');
const CLI = join(ROOT, 'dist', 'src', 'cli.js');
const dir = mkdtempSync(join(tmpdir(), 'ofql-collect-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cli = (args: string[]) => spawnAsync(process.execPath, [CLI, 'collect', ...args, '--progress', 'off'], { cwd: ROOT });

const policyFile = join(dir, 'cheetah.json');
writeFileSync(
  policyFile,
  JSON.stringify({
    format: 'ofql-eval/linear-policy',
    formatVersion: 1,
    env: 'halfcheetah',
    envId: 'halfcheetah-medium-v2',
    observationSize: 17,
    actionSize: 6,
    M: Array.from({ length: 6 }, (_, i) => Array.from({ length: 17 }, (_, j) => 0.3 * Math.sin(i * 17 + j))),
    mu: Array(17).fill(0),
    sigma: Array(17).fill(1),
    iteration: 0,
  }),
);

const ofqlCkpt = join(dir, 'ofql-ckpt');
beforeAll(async () => {
  // A tiny untrained OFQL hopper agent, saved as a checkpoint directory.
  await initBackend('wasm');
  const agent = createOfqlAgent(makeOfqlConfig({ obsDim: 11, actDim: 3 }, { hiddenDim: 16, depth: 2, timeEmbDim: 4 }), 1);
  await saveOfqlCheckpoint(ofqlCkpt, agent, { includeTrainingState: false, envId: 'hopper-medium-v2', fsync: false });
  agent.dispose();
});

describe('ofql-eval collect (CLI)', () => {
  it('collects from an ONNX model given by --policy, checked by the ONNX policy kind first', async () => {
    const out = join(dir, 'onnx.hdf5');
    const model = join(ROOT, 'test', 'fixtures', 'onnx', 'hopper-tanh-mlp.onnx');
    const r = await cli(['--env', 'hopper-medium-v2', '--policy', model, '--steps', '50', '--max-episode-steps', '25', '-w', '1', '-o', out]);
    expect(r.status, r.stderr).toBe(0);
    const ds = await readD4rlFile(out, { envId: 'hopper-medium-v2' });
    expect(ds.N).toBe(50);
    expect(Array.from(ds.actions).some((a) => a !== 0)).toBe(true);
    // A model for another env is refused before any worker starts, naming the input.
    const bad = await cli(['--env', 'halfcheetah-medium-v2', '--policy', model, '--steps', '50', '-w', '1', '-o', join(dir, 'bad.hdf5')]);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/obs|input/);
  });

  it('collects from an OFQL checkpoint directory given by --ckpt alone', async () => {
    const out = join(dir, 'ofql.hdf5');
    const r = await cli(['--env', 'hopper-medium-v2', '--ckpt', ofqlCkpt, '--steps', '60', '--max-episode-steps', '20', '-w', '1', '-o', out]);
    expect(r.status, r.stderr).toBe(0);
    const ds = await readD4rlFile(out, { envId: 'hopper-medium-v2' });
    expect(ds.N).toBe(60);
    expect(ds.metadata.policy).toBe('ofql (from --ckpt)');
    expect(ds.metadata.ckpt).toBe(ofqlCkpt);
  });

  it('collects from a PyTorch OFQL actor given by --ckpt alone (critic and sampler from its config.json)', async () => {
    const out = join(dir, 'torch.hdf5');
    const actor = join(ROOT, 'test', 'fixtures', 'torch', 'with-config', 'actor.pth');
    const r = await cli(['--env', 'hopper-medium-v2', '--ckpt', actor, '--steps', '30', '--max-episode-steps', '15', '-w', '1', '-o', out]);
    expect(r.status, r.stderr).toBe(0);
    const ds = await readD4rlFile(out, { envId: 'hopper-medium-v2' });
    expect(ds.N).toBe(30);
    expect(ds.metadata.policy).toBe('ofql-torch (from --ckpt)');
    expect(ds.metadata.ckpt).toBe(actor);
    // --critic is a flag of the torch kind only.
    const bad = await cli(['--env', 'hopper-medium-v2', '--ckpt', ofqlCkpt, '--critic', 'c.pth', '--steps', '5', '-o', join(dir, 'bad.hdf5')]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--critic only applies to PyTorch OFQL state dicts/);
  });

  it('collects with a linear-policy JSON given by --ckpt alone', async () => {
    const out = join(dir, 'c.hdf5');
    const r = await cli(['--env', 'halfcheetah-medium-v2', '--ckpt', policyFile, '--steps', '120', '--max-episode-steps', '50', '--action-noise', '0.05', '-w', '1', '-o', out]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/wrote .*c\.hdf5: 120 steps, 3 episodes \(2 complete, 0 terminated, the last cut by --steps\)/);
    return readD4rlFile(out, { envId: 'halfcheetah-medium-v2' }).then((ds) => {
      expect(ds.N).toBe(120);
      expect(ds.metadata.policy).toBe('linear-policy (from --ckpt)');
      expect(ds.metadata.policy_kind).toBe('module');
      expect(ds.metadata.ckpt).toBe(policyFile);
      expect(String(ds.metadata.ckpt_sha256)).toMatch(/^[0-9a-f]{64}$/);
      expect(ds.metadata.action_noise).toBe(0.05);
      expect(Array.from(ds.timeouts.keys()).filter((i) => ds.timeouts[i])).toEqual([49, 99, 119]);
    });
  });

  it.each([
    [['--env', 'hopper-medium-v2', '-o', 'x.hdf5'], /give the policy/],
    [['--env', 'hopper-medium-v2', '-p', 'random', '--epsilon', '1.5', '-o', 'x.hdf5'], /--epsilon must be a probability/],
    [['--env', 'hopper-medium-v2', '-p', 'random', '-o', '/no/such/dir/x.hdf5'], /does not exist/],
    [['--env', 'hopper-medium-v2', '--ckpt', policyFile, '-o', join(dir, 'h.hdf5')], null],
  ])('usage errors exit with 2 and a clear message: %j', async (args, message) => {
    const r = await cli(args as string[]);
    if (message === null) {
      // A halfcheetah policy on hopper: the policy refuses at load time in the worker (exit 1).
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/trained on halfcheetah/);
      expect(existsSync(join(dir, 'h.hdf5'))).toBe(false);
      return;
    }
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message as RegExp);
    expect(existsSync(join(ROOT, 'x.hdf5'))).toBe(false);
  });
});
