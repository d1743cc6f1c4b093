/**
 * `ofql-eval train` through the compiled CLI (dist/src/cli.js): a run with periodic evaluation
 * through the harness writes metrics.jsonl, eval.jsonl and checkpoints; --resume continues it;
 * mismatched flags, a missing dataset and bad values fail with clear messages and exit codes;
 * SIGINT finishes the step, writes a checkpoint and exits 130.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readJsonl } from '../src/train/jsonl.js';
import { writeBehaviourDataset } from './train-helpers.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist', 'src', 'cli.js');
let dir: string;
let dataset: string;

function run(args: string[]) {
  const r = spawnSync(process.execPath, [cli, 'train', ...args], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const tiny = (out: string, progress = 'lines') => ['-d', dataset, '-e', 'hopper-medium-v2', '-o', out, '--hidden', '32', '--batch-size', '32', '--progress', progress];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ofql-train-cli-'));
  dataset = join(dir, 'data.hdf5');
  await writeBehaviourDataset(dataset, { rows: 600 });
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('ofql-eval train (CLI)', () => {
  it('trains, evaluates through the harness, checkpoints; --resume continues; mismatches are refused', () => {
    const out = join(dir, 'run');
    const r = run([...tiny(out), '--steps', '20', '--log-every', '5', '--eval-every', '10', '--eval-episodes', '2', '--eval-max-episode-steps', '20']);
    expect(r.stderr + r.stdout).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/hyper-parameters \(DQL per-task row 'hopper-medium-v2'/);
    expect(r.stdout).toMatch(/gradNorm\s+9\s+\[DQL table 'hopper-medium-v2'\]/);
    expect(r.stdout).toMatch(/hiddenDim\s+32\s+\[--hidden\]/);
    expect(r.stdout).toMatch(/finished at step 20/);
    expect(readJsonl(join(out, 'metrics.jsonl')).map((l) => l.step)).toEqual([5, 10, 15, 20]);
    const evals = readJsonl(join(out, 'eval.jsonl'));
    expect(evals.map((e) => e.step)).toEqual([10, 20]);
    for (const e of evals) {
      expect(e.error).toBeUndefined();
      expect(e.episodes).toBe(2);
      expect(Number.isFinite(e.normalizedMean as number)).toBe(true);
      expect((e.normalizedCi95 as number[]).length).toBe(2);
      expect(e.d4rlComparable).toBe(false);
    }
    expect(existsSync(join(out, 'step-00000020', 'trainer-state.json'))).toBe(true);
    expect(JSON.parse(readFileSync(join(out, 'latest', 'config.json'), 'utf8')).step).toBe(20);

    // A training-time evaluation is the same as evaluating that checkpoint with the CLI (one-step: the ONNX actor).
    const oneStep = join(dir, 'one-step');
    const os = run([...tiny(oneStep), '--steps', '10', '--eval-every', '10', '--eval-episodes', '3', '--eval-max-episode-steps', '30', '--eval-sampler', 'one-step']);
    expect(os.code, os.stderr).toBe(0);
    const trainEval = readJsonl(join(oneStep, 'eval.jsonl'))[0]!;
    const byCli = spawnSync(process.execPath, [cli, '--ckpt', `${oneStep}@10`, '--sampler', 'one-step', '--episodes', '3', '--max-episode-steps', '30', '--seed', String(trainEval.evalSeed), '--workers', '1', '--progress', 'off', '--json', join(dir, 'by-cli.json')], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
    expect(byCli.status, byCli.stderr).toBe(0);
    const cliResult = JSON.parse(readFileSync(join(dir, 'by-cli.json'), 'utf8')) as { results: Array<{ normalizedScores: number[] }> };
    const scores = cliResult.results[0]!.normalizedScores;
    expect(scores.length).toBe(3);
    expect(trainEval.normalizedMean).toBeCloseTo(scores.reduce((a, b) => a + b, 0) / 3, 10);

    const bad = run([...tiny(out), '--steps', '30', '--resume', '--eta', '2']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(join(out, 'step-00000020', 'config.json'));
    expect(bad.stderr).toMatch(/field 'ofql\.eta'.*this run has 2 but the checkpoint has 0.01/);

    const again = run([...tiny(out), '--steps', '30', '--log-every', '5']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already holds a training run/);

    const res = run([...tiny(out), '--steps', '30', '--log-every', '5', '--resume']);
    expect(res.code).toBe(0);
    expect(res.stderr).toMatch(/resuming from .*step-00000020 at step 20/);
    expect(readJsonl(join(out, 'metrics.jsonl')).map((l) => l.step)).toEqual([5, 10, 15, 20, 25, 30]);
  });

  it('missing dataset, bad values, help', () => {
    const missing = run(['-d', join(dir, 'missing.hdf5'), '-e', 'hopper-medium-v2', '-o', join(dir, 'm'), '--steps', '5']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(join(dir, 'missing.hdf5'));
    expect(run([...tiny(join(dir, 'b')), '--eta', '-1']).code).toBe(2);
    const bcEta = run([...tiny(join(dir, 'b')), '--bc-only', '--eta', '1']);
    expect(bcEta.code).toBe(2);
    expect(bcEta.stderr).toMatch(/--bc-only trains without the Q term \(eta = 0\); drop --eta 1/);
    const bcDql = run([...tiny(join(dir, 'b')), '--bc-only', '--eval-sampler', 'dql', '--eval-every', '5', '--steps', '5']);
    expect(bcDql.code).toBe(2);
    expect(bcDql.stderr).toMatch(/--eval-sampler dql ranks actions with the critic/);
    const bcOut = join(dir, 'bc-run');
    const bc = run([...tiny(bcOut), '--bc-only', '--steps', '6', '--log-every', '3', '--eval-every', '6', '--eval-episodes', '1', '--eval-max-episode-steps', '5']);
    expect(bc.stderr + bc.stdout).not.toMatch(/error/i);
    expect(bc.code).toBe(0);
    const bcCfg = JSON.parse(readFileSync(join(bcOut, 'latest', 'config.json'), 'utf8'));
    expect([bcCfg.ofql.eta, bcCfg.ofql.trainCritic]).toEqual([0, false]);
    expect(readJsonl(join(bcOut, 'metrics.jsonl')).map((l) => [l.criticLoss, l.actionAtBound])).toEqual([[0, null], [0, null]]);
    expect(readJsonl(join(bcOut, 'eval.jsonl')).map((e) => e.error)).toEqual([undefined]);
    const notInt = run([...tiny(join(dir, 'b')), '--steps', '1.5']);
    expect(notInt.code).toBe(2);
    expect(notInt.stderr).toMatch(/--steps must be an integer/);
    const help = run(['--help']);
    expect(help.code).toBe(0);
    for (const flag of ['--bc-only', '--dataset', '--env', '--out', '--steps', '--resume', '--eta', '--batch-size', '--lr', '--grad-norm', '--seed', '--backend', '--hidden', '--depth', '--log-every', '--save-every', '--eval-every', '--eval-episodes']) {
      expect(help.stdout).toContain(flag);
    }
  });

  it('SIGINT finishes the step, writes a checkpoint, says which step, exits 130', async () => {
    const out = join(dir, 'sig');
    const child = spawn(process.execPath, [cli, 'train', ...tiny(out, 'off'), '--steps', '1000000', '--log-every', '5'], { cwd: dir });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.on('data', (d) => (stdout += d));
    let gone = false;
    const exited = new Promise<number | null>((res) =>
      child.on('exit', (code) => {
        gone = true;
        res(code);
      }),
    );
    const deadline = Date.now() + 40_000;
    while (!gone && !(existsSync(join(out, 'metrics.jsonl')) && readFileSync(join(out, 'metrics.jsonl'), 'utf8').length > 0) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(gone, stderr).toBe(false);
    child.kill('SIGINT');
    const code = await exited;
    expect(code, stderr).toBe(130);
    const m = /stopped after step (\d+); checkpoint (\S+)\./.exec(stderr);
    expect(m, stderr).not.toBeNull();
    const step = Number(m![1]);
    expect(step).toBeGreaterThanOrEqual(5);
    expect(m![2]).toBe(join(out, `step-${String(step).padStart(8, '0')}`));
    expect(JSON.parse(readFileSync(join(m![2]!, 'trainer-state.json'), 'utf8')).step).toBe(step);
    expect(stdout).toMatch(new RegExp(`stopped at step ${step}`));
  });
});
