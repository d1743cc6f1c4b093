/**
 * The gate on OFQL checkpoint directories, as CI runs it: `baseline --ckpt <dir>` (env from the
 * checkpoint, sampler options recorded) and `regress --baseline b.json --ckpt <dir>` (policy,
 * env, episodes, seed and sampler options taken from the baseline). Tiny untrained agents, a few
 * short episodes.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BaselineDocument } from '../eval/gate/baseline.js';
import type { RegressReport } from '../eval/gate/compare.js';
import { saveOfqlCheckpoint } from '../src/ofql/checkpoint.js';
import { makeOfqlConfig } from '../src/ofql/config.js';
import { initBackend } from '../src/ofql/tensor-backend.js';
import { createOfqlAgent } from '../src/ofql/train-step.js';
import { ROOT } from './eval-helpers.js';

const CLI = join(ROOT, 'dist', 'src', 'cli.js');
const dir = mkdtempSync(join(tmpdir(), 'ofql-regress-ofql-'));
const f = (name: string): string => join(dir, name);

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = { stdout: '', stderr: '' };
    child.stdout.on('data', (d: Buffer) => (out.stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out.stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, ...out }));
  });
}

beforeAll(async () => {
  await initBackend('wasm');
  const agent = createOfqlAgent(makeOfqlConfig({ obsDim: 11, actDim: 3 }, { hiddenDim: 16, depth: 2, timeEmbDim: 4 }), 1);
  await saveOfqlCheckpoint(f('ckpt'), agent, { includeTrainingState: false, envId: 'hopper-medium-v2', fsync: false });
  agent.dispose();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('regression gate on an OFQL checkpoint directory', () => {
  it('records the checkpoint and sampler, and re-evaluates it identically from the baseline alone', async () => {
    const quick = ['--episodes', '3', '--max-episode-steps', '10', '--workers', '1', '--progress', 'off'];
    const b = await cli(['baseline', '--ckpt', f('ckpt'), '--sampler', 'best-of-n', '--sampler-n', '2', ...quick, '--out', f('base.json')]);
    expect(b.code, b.stderr).toBe(0);
    const base = JSON.parse(readFileSync(f('base.json'), 'utf8')) as BaselineDocument;
    expect(base.envs.map((e) => e.envId)).toEqual(['hopper-medium-v2']); // from the checkpoint's config
    expect(base.policy).toMatchObject({ name: 'ofql', kind: 'module', ofqlOptions: { sampler: 'best-of-n', 'sampler-n': 2 } });
    expect(base.policy.ckptDigest).toMatchObject({ algorithm: 'sha256-tree', files: 2 });
    expect(base.envs[0].policyDescription).toContain('sampler best-of-n(n=2)');

    const r = await cli(['regress', '--baseline', f('base.json'), '--ckpt', f('ckpt'), '--allow-non-d4rl', '--workers', '1', '--progress', 'off', '--json', f('report.json')]);
    expect(r.code, r.stderr).toBe(0);
    const rep = JSON.parse(readFileSync(f('report.json'), 'utf8')) as RegressReport;
    expect(rep.candidate.description).toContain('sampler best-of-n(n=2)'); // inherited from the baseline
    expect(rep.envs[0].diff).toBe(0);
    expect(rep.sameModel).toBe(true);
    expect(rep.warnings.join('\n')).toMatch(/same policy module \(same sha256\) and checkpoint \(same digest\)/);
  });
});
