/**
 * Every script with flags (scripts/*.ts) answers a bad flag with a usage error that names the
 * flag (exit 2, before any work) and --help with its usage (exit 0): the scripts parse through
 * scripts/script-args.ts, and none calls node:util's parseArgs itself (which throws a stack trace
 * on an unknown flag).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, spawnAsync } from './eval-helpers.js';

const SCRIPTS = join(ROOT, 'scripts');
const sources = readdirSync(SCRIPTS)
  .filter((f) => f.endsWith('.ts') && f !== 'script-args.ts')
  .map((f) => ({ name: f.slice(0, -3), text: readFileSync(join(SCRIPTS, f), 'utf8') }));
/** Scripts that read a command line (a module only imported by others reads none). */
const withFlags = sources.filter((s) => /\b(scriptArgs|parseFlags)\(/.test(s.text)).map((s) => s.name);

const run = (name: string, args: string[]) => spawnAsync(process.execPath, [join(ROOT, 'dist', 'scripts', `${name}.js`), ...args], { cwd: ROOT, timeout: 60_000 });

describe('script command lines', () => {
  it('no script parses its flags with a bare parseArgs', () => {
    const bare = sources.filter((s) => /\bparseArgs\(/.test(s.text)).map((s) => s.name);
    expect(bare).toEqual([]);
    // the list below is not vacuous: the dataset, benchmark and report scripts are in it
    expect(withFlags).toEqual(expect.arrayContaining(['make-datasets', 'bench-train', 'sac-report', 'study-summary', 'train-sac']));
  });

  it.each(withFlags)('%s: an unknown flag is a usage error naming it; --help prints the usage', async (name) => {
    const bad = await run(name, ['--no-such-flag']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(new RegExp(`^${name}: .*--no-such-flag`));
    expect(bad.stderr).toMatch(/usage/);
    const help = await run(name, ['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^usage/);
  }, 120_000);

  it('a malformed number names its flag before any work', async () => {
    const r = await run('bench-eval', ['--episodes', 'many']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("--episodes must be an integer >= 1, got 'many'");
  }, 60_000);
});
