/**
 * `ofql-eval --ckpt a,b,c` (src/commands/run-seeds.ts): every checkpoint is checked before the
 * first evaluation, all run on one pool, each writes its own result (the same as evaluating it
 * alone), and a line across the seeds follows.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readResultFile } from '../eval/result.js';
import { resultNameOf, splitCheckpoints } from '../src/commands/run-seeds.js';
import { ROOT, spawnAsync } from './eval-helpers.js';

const CLI = join(ROOT, 'dist', 'src', 'cli.js');
const tmp = mkdtempSync(join(tmpdir(), 'ofql-seeds-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const cli = (args: string[]) => spawnAsync(process.execPath, [CLI, ...args], { cwd: ROOT, timeout: 180_000 });
const OFQL = 'eval/checkpoints/ofql-hopper-medium';
const BC = 'eval/checkpoints/bc-hopper-medium';
const quick = ['--episodes', '3', '--max-episode-steps', '30', '--workers', '2', '--progress', 'off'];

describe('--ckpt a,b (several checkpoints)', () => {
  it('names results after the checkpoints and refuses an empty or repeated entry', async () => {
    expect(splitCheckpoints('a')).toBeNull();
    expect(splitCheckpoints('a,b')).toEqual(['a', 'b']);
    expect(() => splitCheckpoints('a,,b')).toThrow(/an empty entry/);
    expect(() => splitCheckpoints('a,a')).toThrow(/listed twice/);
    expect(resultNameOf('/runs/hopper-seed1/step-00005000')).toBe('hopper-seed1_step-00005000');
    expect(resultNameOf('/x/actor.pth')).toBe('actor');
  });

  it('evaluates each on one pool; each result equals the checkpoint evaluated alone', async () => {
    const dir = join(tmp, 'out');
    const r = await cli(['--ckpt', `${OFQL},${BC}`, ...quick, '--json', dir]);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.status).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['bc-hopper-medium.json', 'ofql-hopper-medium.json']);
    expect(r.stdout).toMatch(/across 2 checkpoints \(seeds\):\n {2}hopper-medium-v2: normalised -?[\d.]+ \(mean of 2; lowest/);
    const alone = join(tmp, 'alone.json');
    expect((await cli(['--ckpt', BC, ...quick, '--json', alone])).status).toBe(0);
    expect(readResultFile(join(dir, 'bc-hopper-medium.json')).results[0]!.returns).toEqual(readResultFile(alone).results[0]!.returns);
  });

  it('checks every checkpoint before evaluating any', async () => {
    const dir = join(tmp, 'bad');
    const r = await cli(['--ckpt', `${OFQL},eval/checkpoints/nope`, ...quick, '--json', dir]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/nope/);
    expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
    expect(r.stdout).toBe('');
  });
});
