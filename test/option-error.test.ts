/**
 * OptionError (src/option-error.ts) is what the commands report as a bad command line (exit 2,
 * "Run 'ofql-eval --help'"); a plain RangeError is a bug (in the project, a policy or a plug-in)
 * and goes to the command's unexpected-error path instead.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { OptionError } from '../src/option-error.js';
import { UsageError } from '../src/cli-errors.js';
import { OutputPathError } from '../src/output-path.js';
import { ROOT, spawnAsync } from './eval-helpers.js';

const thrown = vi.hoisted(() => ({ error: null as Error | null }));
vi.mock('../src/collect/collect.js', () => ({
  collect: async () => {
    throw thrown.error;
  },
}));
const { collectCommand } = await import('../src/commands/collect.js');

const CLI = join(ROOT, 'dist', 'src', 'cli.js');
const dir = mkdtempSync(join(tmpdir(), 'ofql-option-error-'));
const cli = (args: string[]) => spawnAsync(process.execPath, [CLI, ...args], { cwd: ROOT, timeout: 120_000 });
const quick = ['--env', 'hopper-medium-v2', '--episodes', '2', '--max-episode-steps', '5', '--workers', '1'];

function plugin(name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, body);
  return path;
}

describe('OptionError', () => {
  it('is a RangeError, and the usage errors are OptionErrors', async () => {
    expect(new OptionError('x')).toBeInstanceOf(RangeError);
    expect(new OptionError('x').name).toBe('OptionError');
    expect(new UsageError('x')).toBeInstanceOf(OptionError);
    expect(new OutputPathError('x')).toBeInstanceOf(OptionError);
    expect(new RangeError('x')).not.toBeInstanceOf(OptionError);
  });
});

describe('ofql-eval run', () => {
  it('a value the library rejects (OptionError) is a usage error naming the flag', async () => {
    const r = await cli(['--policy', 'random', '--env', 'hopper-medium-v2', '--episodes', '100000000']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--episodes 100000000 is more than the limit/);
    expect(r.stderr).toContain("Run 'ofql-eval --help' for usage.");
    const s = await cli(['--policy', 'random', '--env', 'hopper-medium-v2', '--shard', '5/2']);
    expect(s.status).toBe(2);
    expect(s.stderr).toMatch(/--shard: i must be in 0\.\.1/);
  });

  it('a RangeError thrown by a plug-in factory is not a usage error', async () => {
    const p = plugin('factory-range.mjs', "export default async () => { throw new RangeError('bug in the factory'); };\n");
    const r = await cli(['--policy', p, ...quick]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/the factory threw for hopper-medium-v2: bug in the factory/);
    expect(r.stderr).not.toContain('--help');
  });

  it("a RangeError thrown by a plug-in's act() is not a usage error", async () => {
    const p = plugin('act-range.mjs', "export default async () => ({ act() { throw new RangeError('bug in act'); } });\n");
    const r = await cli(['--policy', p, ...quick]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/act\(\) threw: bug in act/);
    expect(r.stderr).not.toContain('--help');
  });
});

describe('ofql-eval collect (handler)', () => {
  const args = {
    env: 'hopper-medium-v2',
    policy: 'random',
    steps: 10,
    'action-noise': 0,
    epsilon: 0,
    seed: 0,
    out: join(dir, 'out.hdf5'),
    workers: 1,
    'batch-size': 1,
    'max-episode-steps': 5,
    'infos-dtype': 'float32',
    progress: 'off',
  };
  async function run(error: Error): Promise<{ code: number | undefined; stderr: string }> {
    thrown.error = error;
    let code: number | undefined;
    let stderr = '';
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => {
      stderr += String(s);
      return true;
    });
    try {
      await (collectCommand((c) => (code = c)).handler as (a: unknown) => Promise<void>)(args);
    } finally {
      spy.mockRestore();
    }
    return { code, stderr };
  }
  afterEach(() => {
    thrown.error = null;
  });

  it('an OptionError from the library is exit 2 with the usage hint', async () => {
    const r = await run(new OptionError('--max-episode-steps must be a positive integer, got 0'));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('ofql-eval collect: error: --max-episode-steps must be a positive integer, got 0');
    expect(r.stderr).toContain("Run 'ofql-eval collect --help' for usage.");
  });

  it('a plain RangeError (a bug) is exit 1 without the usage hint', async () => {
    const r = await run(new RangeError('bug'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ofql-eval collect: error: bug');
    expect(r.stderr).not.toContain('--help');
  });
});
