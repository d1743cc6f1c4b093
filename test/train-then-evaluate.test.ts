/**
 * Train, then evaluate, as a new user does (compiled CLI, cwd = a scratch directory, relative
 * paths): `ofql-eval train --out ck` prints the command that evaluates the run; that command works;
 * `--ckpt ck`, `ck/latest` and `ck@N` evaluate the recorded step directories; an unknown step lists
 * the steps there; a run without a checkpoint says so; a baseline of `ck` keeps naming its step
 * after the run went on; `collect --ckpt ck@N` records which checkpoint rolled out.
 * Tiny networks (hidden 16, depth 1, batch 16), 4 training steps, 2 episodes of 5 steps.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BaselineDocument } from '../eval/gate/baseline.js';
import type { EvalResultDocument } from '../eval/result.js';
import { readD4rlFile } from '../src/data/index.js';
import { ROOT } from './eval-helpers.js';
import { writeBehaviourDataset } from './train-helpers.js';

const CLI = join(ROOT, 'dist', 'src', 'cli.js');
const dir = mkdtempSync(join(tmpdir(), 'ofql-train-eval-'));
const run = join(dir, 'ck');
const stepDir = (n: number) => join(run, `step-${String(n).padStart(8, '0')}`);
const QUICK = ['--episodes', '2', '--max-episode-steps', '5', '--workers', '1'];

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args, '--progress', 'off'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = { stdout: '', stderr: '' };
    child.stdout.on('data', (d: Buffer) => (out.stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out.stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, ...out }));
  });
}
const readJson = <T>(f: string): T => JSON.parse(readFileSync(join(dir, f), 'utf8')) as T;
const TRAIN = ['train', '--dataset', 'd.hdf5', '--env', 'hopper-medium-v2', '--out', 'ck', '--save-every', '2', '--keep', '0', '--log-every', '2'];
const TINY = ['--hidden', '16', '--depth', '1', '--batch-size', '16'];

let trained: { code: number | null; stdout: string; stderr: string };
beforeAll(async () => {
  await writeBehaviourDataset(join(dir, 'd.hdf5'), { rows: 400, seed: 1 });
  trained = await cli([...TRAIN, '--steps', '4', ...TINY]);
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('train, then evaluate the run directory', () => {
  let byRun: EvalResultDocument;

  it('train prints the command that evaluates what it wrote, and that command works', async () => {
    expect(trained.code, trained.stderr).toBe(0);
    expect(readdirSync(run).filter((n) => n.startsWith('step-')).sort()).toEqual(['step-00000002', 'step-00000004']);
    const m = /^evaluate it: +(ofql-eval .+?) {3}\(the run's newest checkpoint, now step 4\)$/m.exec(trained.stdout);
    expect(m, trained.stdout).not.toBeNull();
    expect(m![1]).toBe('ofql-eval --ckpt ck --env hopper-medium-v2 --sampler dql');
    expect(trained.stdout).toMatch(/^this step only: ofql-eval --ckpt ck@4 --env hopper-medium-v2 --sampler dql$/m);

    const printed = m![1]!.split(' ').slice(1); // no quoting needed for these words
    const r = await cli([...printed, ...QUICK, '--json', 'run.json']);
    expect(r.code, r.stderr).toBe(0);
    byRun = readJson<EvalResultDocument>('run.json');
    expect(byRun.complete).toBe(true);
    expect(byRun.policy).toMatchObject({ ckpt: stepDir(4), ckptGiven: 'ck', ckptRun: run, ckptStep: 4 });
    expect(byRun.results[0]!.policyDescription).toContain(`OFQL checkpoint ${stepDir(4)} (step 4, trained on hopper-medium-v2), sampler dql(n=50)`);
    expect(r.stderr).toContain(`--ckpt ck: the training run's latest checkpoint, step 4 (${stepDir(4)}); ck@N picks another`);
    expect(r.stdout).toContain(`(ckpt ${stepDir(4)}, step 4)`);
  });

  it('ck/latest is the same model; ck@2 is step 2, recorded and loaded as such', async () => {
    const latest = await cli(['--ckpt', 'ck/latest', '--sampler', 'dql', ...QUICK, '--json', 'latest.json']);
    expect(latest.code, latest.stderr).toBe(0);
    const byLatest = readJson<EvalResultDocument>('latest.json');
    expect(byLatest.policy).toMatchObject({ ckpt: stepDir(4), ckptGiven: 'ck/latest', ckptStep: 4 });
    expect(byLatest.results[0]!.returns).toEqual(byRun.results[0]!.returns);

    const at2 = await cli(['--ckpt', 'ck@2', ...QUICK, '--json', 'at2.json']);
    expect(at2.code, at2.stderr).toBe(0);
    const byStep = readJson<EvalResultDocument>('at2.json');
    expect(byStep.policy).toMatchObject({ ckpt: stepDir(2), ckptGiven: 'ck@2', ckptRun: run, ckptStep: 2 });
    expect(byStep.policy.ckptStep).not.toBe(byRun.policy.ckptStep);
    // The workers loaded step 2 (its own config.json says so), not the newest.
    expect(byStep.results[0]!.policyDescription).toContain(`OFQL checkpoint ${stepDir(2)} (step 2,`);
    expect(at2.stderr).not.toContain('picks another'); // a chosen step needs no explanation
  });

  it('an unknown step lists the steps there; a run without a checkpoint says so and what to do (exit 2, no workers)', async () => {
    const unknown = await cli(['--ckpt', 'ck@3', ...QUICK]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain(`policy ofql: ${run}: training run directory has no checkpoint of step 3; it holds steps 2 and 4 (pick one with ck@N, or give the directory alone for the newest)`);

    const crashed = join(dir, 'crashed');
    mkdirSync(crashed);
    writeFileSync(join(crashed, 'train-config.json'), '{}\n');
    writeFileSync(join(crashed, 'metrics.jsonl'), '');
    const empty = await cli(['--ckpt', 'crashed', ...QUICK]);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain(`policy ofql: ${crashed}: training run directory without any checkpoint: the run stopped before it saved its first one`);
    expect(empty.stderr).toContain('There is nothing to evaluate and nothing to --resume: delete the directory and train again, or train into another --out');
    expect(empty.stderr).not.toContain('config.json: file does not exist');
  });

  it('a baseline of ck records step 4; after the run went on to step 6, regress still evaluates step 4', async () => {
    const b = await cli(['baseline', '--ckpt', 'ck', ...QUICK, '--out', 'b.json']);
    expect(b.code, b.stderr).toBe(0);
    const base = readJson<BaselineDocument>('b.json');
    expect(base.policy).toMatchObject({ ckpt: stepDir(4), ckptGiven: 'ck', ckptStep: 4 });
    // The digest covers the step directory (4 files of a resumable checkpoint), not the whole run.
    expect(base.policy.ckptDigest).toMatchObject({ algorithm: 'sha256-tree', files: readdirSync(stepDir(4)).length });

    const resumed = await cli([...TRAIN, '--steps', '6', '--resume']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(/^evaluate it: +ofql-eval --ckpt ck --env hopper-medium-v2 --sampler dql {3}\(the run's newest checkpoint, now step 6\)$/m);

    const g = await cli(['regress', '--baseline', 'b.json', '--allow-non-d4rl', '--workers', '1', '--json', 'r.json']);
    expect(g.code, g.stderr + g.stdout).toBe(0);
    const report = readJson<{ sameModel: boolean; candidate: { ckpt: string } }>('r.json');
    expect(report.candidate.ckpt).toBe(stepDir(4));
    expect(report.sameModel).toBe(true);
  });

  it('collect --ckpt ck@2 rolls out step 2 and records it', async () => {
    const r = await cli(['collect', '--env', 'hopper-medium-v2', '--ckpt', 'ck@2', '--steps', '10', '--max-episode-steps', '5', '-w', '1', '-o', 'c.hdf5']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('policy checkpoint ck/step-00000002 (step 2, from --ckpt ck@2)');
    const ds = await readD4rlFile(join(dir, 'c.hdf5'), { envId: 'hopper-medium-v2' });
    expect(ds.metadata).toMatchObject({ ckpt: 'ck@2', ckpt_dir: 'ck/step-00000002', ckpt_step: 2 });
  });
});
