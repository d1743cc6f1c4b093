/** The ofql-eval command end to end (the compiled dist/src/cli.js, as installed). */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EvalResultDocument } from '../eval/result.js';
import { ROOT, fixture } from './eval-helpers.js';

const CLI = join(ROOT, 'dist', 'src', 'cli.js');
const dir = mkdtempSync(join(tmpdir(), 'ofql-cli-'));

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], onSpawn?: (child: ChildProcess, seen: { stderr: string }) => void): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = { stdout: '', stderr: '' };
    child.stdout.on('data', (d: Buffer) => (out.stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out.stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, ...out }));
    onSpawn?.(child, out);
  });
}

const readDoc = (f: string): EvalResultDocument => JSON.parse(readFileSync(f, 'utf8')) as EvalResultDocument;
const quick = ['--episodes', '6', '--max-episode-steps', '25', '--workers', '2'];

describe('ofql-eval CLI', () => {
  it('starts with a shebang', () => {
    expect(readFileSync(CLI, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  it('--help documents every option and command', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    for (const opt of [
      '--env', '--policy', '--ckpt', '--episodes', '--seed', '--workers', '--batch-size', '--max-episode-steps',
      '--policy-timeout', '--policy-load-timeout', '--python', '--shard', '--json', '--progress', '--help', '--version', 'merge', 'list',
    ]) {
      expect(r.stdout).toContain(opt);
    }
    const m = await cli(['merge', '--help']);
    expect(m.stdout).toContain('--allow-incomplete');
  });

  it.each([
    [['--env', 'hopper-medium-v2', '--policy', 'random', '--episodes', 'ten'], /--episodes must be an integer >= 1/],
    [['--env', 'hopper-medium-v2', '--policy', 'random', '--frobnicate'], /Unknown argument: frobnicate/],
    [['--env', 'hopper-medium-v2'], /Missing required argument: policy/],
    [['--env', 'hopper-medium-v9', '--policy', 'random'], /unknown environment 'hopper-medium-v9'/],
    [['--env', 'hopper-medium-v2', '--policy', './nope.mjs'], /policy \.\/nope\.mjs: not a built-in policy/],
    [['--env', 'hopper-medium-v2', '--policy', 'random', '--shard', '2/2'], /--shard: i must be in 0\.\.1/],
    [['--env', 'hopper-medium-v2', '--policy', 'random', '--workers', '0'], /--workers must be an integer >= 1, got 0/],
  ])('bad command line %j -> exit 2 with a clear message', async (args, message) => {
    const r = await cli(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
  });

  it('runs two envs, prints the summary, writes the JSON', async () => {
    const out = join(dir, 'run.json');
    const r = await cli(['--env', 'hopper-medium-v2,walker2d-medium-v2', '--policy', 'random', ...quick, '--json', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/hopper-medium-v2: 6 episodes finished/);
    expect(r.stdout).toMatch(/normalised\s+-?\d+\.\d+ \+- \d+\.\d+\s+95% CI \[-?\d+\.\d+, -?\d+\.\d+\] \(Student t=2\.571, n=6\)/);
    expect(r.stdout).toMatch(/return\s+-?\d+\.\d+ \+- \d+\.\d+ \(mean \+- sample std, ddof=1/);
    expect(r.stdout).toMatch(/length\s+\d+\.\d \(min \d+, max \d+\)/);
    expect(r.stdout).toMatch(/total: [\d,]+ env steps in \d+\.\d+ s wall = [\d,]+ env steps\/s \(2 workers x 8 envs\)/);
    expect(r.stdout).toMatch(/NOT comparable with D4RL/);
    const doc = readDoc(out);
    expect(doc.complete).toBe(true);
    expect(doc.schemaVersion).toBe(1);
    expect(doc.results.map((x) => x.envId)).toEqual(['hopper-medium-v2', 'walker2d-medium-v2']);
    expect(doc.results[0].returns).toHaveLength(6);
    expect(doc.command).toEqual(['ofql-eval', '--env', 'hopper-medium-v2,walker2d-medium-v2', '--policy', 'random', ...quick, '--json', out]);
    // Not a TTY: no progress bar escape codes on stderr.
    expect(r.stderr).not.toMatch(/\x1b\[/);
  });

  it('--shard runs + merge == the unsharded run', async () => {
    const args = ['--env', 'hopper-medium-v2', '--policy', fixture('linear.mjs'), '--seed', '5', ...quick];
    const whole = join(dir, 'whole.json');
    expect((await cli([...args, '--json', whole])).code).toBe(0);
    const parts = [0, 1].map((i) => join(dir, `part${i}.json`));
    for (const [i, f] of parts.entries()) expect((await cli([...args, '--shard', `${i}/2`, '--json', f])).code).toBe(0);
    const merged = join(dir, 'merged.json');
    const m = await cli(['merge', parts[1], parts[0], '--json', merged]);
    expect(m.code).toBe(0);
    expect(m.stdout).toMatch(/merged from 2 files/);
    const a = readDoc(whole).results[0];
    const b = readDoc(merged).results[0];
    expect(b.returns).toEqual(a.returns);
    expect(b.lengths).toEqual(a.lengths);
    expect(b.summary).toEqual(a.summary);
    // A missing shard is an error.
    const bad = await cli(['merge', parts[0], '--json', join(dir, 'bad.json')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/shards not given: 1\/2/);
  });

  it('a failing policy: exit 1, the policy and episode named, partial JSON written', async () => {
    const out = join(dir, 'nan.json');
    const r = await cli(['--env', 'hopper-medium-v2', '--policy', fixture('nan.mjs'), ...quick, '--json', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`policy ${fixture('nan.mjs')} failed on hopper-medium-v2, episode 5: act() returned NaN`);
    const doc = readDoc(out);
    expect(doc.complete).toBe(false);
    expect(doc.error).toMatch(/episode 5/);
  });

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('Ctrl-C / %s writes the partial result, exits %i and leaves no worker behind', async (sig, exitCode) => {
    const out = join(dir, `interrupted-${sig}.json`);
    let sentAt = 0;
    const r = await cli(
      ['--env', 'hopper-medium-v2', '--policy', fixture('slow.mjs'), '--episodes', '600', '--max-episode-steps', '20', '--workers', '2', '--progress', 'lines', '--json', out],
      (child, seen) => {
        const poll = setInterval(() => {
          // Interrupt once a progress line shows finished episodes (lines come every 5 s).
          const m = /\[ofql-eval\] (\d+)\/600 episodes/.exec(seen.stderr);
          if (m && Number(m[1]) > 0 && sentAt === 0) {
            sentAt = Date.now();
            child.kill(sig);
            clearInterval(poll);
          }
        }, 50);
      },
    );
    expect(r.code).toBe(exitCode);
    expect(Date.now() - sentAt).toBeLessThan(5000); // the process (and every worker thread) is gone
    expect(r.stderr).toContain(`${sig} received: stopping the workers`);
    expect(r.stderr).toMatch(/wrote PARTIAL result/);
    const doc = readDoc(out);
    expect(doc.complete).toBe(false);
    expect(doc.interrupted).toBe(true);
    const res = doc.results[0];
    expect(res.episodes.length).toBeGreaterThan(0);
    expect(res.episodes.length + res.pendingEpisodes.length).toBe(600);
    expect(r.stdout).toMatch(/INTERRUPTED \(partial\)/);
  });

  it('a factory that never returns: exit 1 after --policy-load-timeout, naming the policy and the limit', async () => {
    const r = await cli(['--env', 'hopper-medium-v2', '--policy', fixture('hang-factory-sync.mjs'), '--policy-load-timeout', '500', ...quick]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/ofql-eval: error: policy .*hang-factory-sync\.mjs: the factory did not return within --policy-load-timeout 500 ms for hopper-medium-v2/);
  });

  it('list shows suites, envs and built-in policies', async () => {
    const r = await cli(['list']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/d4rl-locomotion: halfcheetah-medium-v2, halfcheetah-medium-replay-v2/);
    expect(r.stdout).toContain('hopper-medium-v2');
    expect(r.stdout).toMatch(/Built-in policies \(--policy NAME\): random, zero/);
  });
});
