/**
 * Issue 11 (hardening): what a careless or hostile user broke, one test per case
 * (docs/robustness.md has the table). Cheap: few episodes, short horizons, and most refusals
 * happen before any worker starts.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BaselineFormatError, baselineFromResult, checkBaselineDocument } from '../eval/gate/baseline.js';
import { EvaluationError, evaluate } from '../eval/evaluate.js';
import { RegressInputError, RegressMismatchError, checkComparable, welchTTest } from '../eval/gate/compare.js';
import { type EvalResultDocument, readResultFile, resultConsistencyProblems, writeResultFile } from '../eval/result.js';
import { CheckpointError } from '../src/checkpoint/errors.js';
import { readSafetensorsFile } from '../src/checkpoint/safetensors.js';
import { MAX_ENV_BATCH_SIZE, MAX_EPISODES, capWorkers, workerHeapLimitMb } from '../src/limits.js';
import { validateOfqlCheckpoint } from '../src/ofql/checkpoint.js';
import { OutputPathError, checkOutputFile, cleanStaleTempFiles, writeOutputFile } from '../src/output-path.js';
import { ROOT, fixture } from './eval-helpers.js';
import { syntheticResult, scoresAround } from './regress-helpers.js';

const CLI = join(ROOT, 'dist', 'src', 'cli.js');
const dir = mkdtempSync(join(tmpdir(), 'ofql-harden-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], cwd = ROOT): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(process.execPath, [CLI, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = { stdout: '', stderr: '' };
    child.stdout!.on('data', (d: Buffer) => (out.stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out.stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, ...out }));
  });
}

/** A cheap evaluation's flags, with `o` replacing or adding some. */
function quickArgs(o: Record<string, string> = {}): string[] {
  const flags = { env: 'hopper-medium-v2', policy: 'random', episodes: '2', 'max-episode-steps': '5', workers: '1', progress: 'off', ...o };
  return Object.entries(flags).flatMap(([k, v]) => [`--${k}`, v]);
}
const quick = quickArgs();

/** The pid of a process that has exited (for stale temp files). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

describe('1. output destinations', () => {
  it('--json naming a directory is refused before the run (exit 2), not after it with a stack trace', async () => {
    const r = await cli([...quick, '--json', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--json ${dir} is a directory; give a file name`);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(r.stdout).toBe(''); // nothing was evaluated
  });

  it('--json under a path component that is a file is refused before the run', async () => {
    const file = join(dir, 'plain-file');
    writeFileSync(file, 'x');
    const r = await cli([...quick, '--json', join(file, 'out.json')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file} is a file, not a directory`);
    expect(r.stdout).toBe('');
  });

  it.runIf(existsSync('/dev/full'))('a final write that fails (full disk: /dev/full) prints the summary and writes the result to a fallback file it names', async () => {
    const r = await cli([...quick, '--json', '/dev/full']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/hopper-medium-v2: 2 episodes finished/);
    const m = /could not write the result to \/dev\/full \((ENOSPC[^)]*)\); wrote it to (\S+) instead/.exec(r.stderr);
    expect(m).not.toBeNull();
    const fallback = m![2];
    try {
      const doc = readResultFile(fallback);
      expect(doc.complete).toBe(true);
      expect(doc.results[0].episodes).toEqual([0, 1]);
    } finally {
      rmSync(fallback, { force: true });
    }
  });

  it('writeOutputFile falls back when the destination cannot be written, and says why', () => {
    const blocker = join(dir, 'blocker');
    writeFileSync(blocker, 'x');
    const w = writeOutputFile(join(blocker, 'r.json'), '{"a":1}\n');
    try {
      expect(w.error).toMatch(/EEXIST|ENOTDIR/);
      expect(w.path).not.toContain(blocker);
      expect(w.path).toMatch(/ofql-eval-r-\d+\.json$/);
      expect(readFileSync(w.path, 'utf8')).toBe('{"a":1}\n');
    } finally {
      rmSync(w.path, { force: true });
    }
  });

  it('a stale out.json.<pid>.<hex>.tmp of a killed write is removed by the next run into that directory; a live one is kept', async () => {
    const d = join(dir, 'stale');
    mkdirSync(d);
    const stale = join(d, `out.json.${deadPid()}.deadbeef.tmp`);
    const live = join(d, `out.json.${process.pid}.cafef00d.tmp`);
    writeFileSync(stale, '{"partial":');
    writeFileSync(live, '{"partial":');
    const r = await cli([...quick, '--json', join(d, 'out.json')]);
    expect(r.code).toBe(0);
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(live)).toBe(true);
    expect(r.stderr).toContain('removed 1 stale temp file(s)');
    expect(readResultFile(join(d, 'out.json')).complete).toBe(true);
    expect(cleanStaleTempFiles(d)).toEqual([]);
  });

  it('checkOutputFile names the flag and the cause', () => {
    expect(() => checkOutputFile(dir, '--out')).toThrow(OutputPathError);
    expect(() => checkOutputFile('', '--markdown')).toThrow('--markdown needs a file name');
    expect(checkOutputFile(join(dir, 'new', 'sub', 'x.json'), '--json')).toBe(join(dir, 'new', 'sub', 'x.json'));
  });

  it('baseline --out, regress --junit and train --out that cannot be written: exit 2 before any work', async () => {
    const res = join(dir, 'res.json');
    writeResultFile(res, syntheticResult({ scores: { 'hopper-medium-v2': scoresAround(50, 5, 6) } }));
    const b = await cli(['baseline', '--results', res, '--out', dir]);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain(`--out ${dir} is a directory`);
    const good = join(dir, 'base.json');
    expect((await cli(['baseline', '--results', res, '--out', good])).code).toBe(0);
    const g = await cli(['regress', '--baseline', good, '--results', res, '--allow-non-d4rl', '--junit', dir]);
    expect(g.code).toBe(2);
    expect(g.stderr).toContain(`--junit ${dir} is a directory`);
    const file = join(dir, 'plain-file-2');
    writeFileSync(file, 'x');
    const t = await cli(['train', '-d', join(dir, 'none.hdf5'), '-e', 'hopper-medium-v2', '-o', file]);
    expect(t.code).toBe(2);
    expect(t.stderr).toContain(`--out ${file} exists and is not a directory`);
  });
});

describe('3. unbounded inputs', () => {
  it('--episodes 1e9 is refused with the limit (was a native V8 crash, exit 133)', async () => {
    const r = await cli(quickArgs({ episodes: '1000000000' }));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--episodes 1000000000 is more than the limit of ${MAX_EPISODES} episodes per environment`);
  });

  it('--batch-size beyond what a worker MuJoCo heap holds is refused with the limit', async () => {
    const r = await cli([...quick, '--batch-size', '1000']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--batch-size 1000 is more than the limit of ${MAX_ENV_BATCH_SIZE} environments per worker`);
    const c = await cli(['collect', '-e', 'hopper-medium-v2', '-p', 'random', '--steps', '10', '--batch-size', '1000', '-o', join(dir, 'c.hdf5')]);
    expect(c.code).toBe(2);
    expect(c.stderr).toContain(`limit of ${MAX_ENV_BATCH_SIZE} environments per worker`);
  });

  it('--workers 1000 is capped at the available cores, with a warning', async () => {
    const out = join(dir, 'w.json');
    const r = await cli(quickArgs({ workers: '1000', episodes: '4', json: out }));
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`--workers 1000 is more than the ${availableParallelism()} available core(s)`);
    expect(readResultFile(out).settings.workers).toBeLessThanOrEqual(availableParallelism());
    const warned: string[] = [];
    expect(capWorkers(8, '--workers', (m) => warned.push(m), 2)).toBe(2);
    expect(capWorkers(2, '--workers', (m) => warned.push(m), 2)).toBe(2);
    expect(warned).toHaveLength(1);
  });

  it('train --batch-size larger than the dataset (the wasm backend aborted after 4 GB) or above the cap is refused with the number', async () => {
    const data = join(ROOT, 'test', 'fixtures', 'data', 'd4rl-like.hdf5');
    const r = await cli(['train', '-d', data, '-e', 'hopper-medium-v2', '-o', join(dir, 'tr'), '--batch-size', '5000', '--steps', '1', '--progress', 'off']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--batch-size 5000 is larger than the dataset's 10 transitions; use --batch-size 10 or less");
    const c = await cli(['train', '-d', data, '-e', 'hopper-medium-v2', '-o', join(dir, 'tr2'), '--batch-size', '100000', '--steps', '1', '--progress', 'off']);
    expect(c.code).toBe(2);
    expect(c.stderr).toContain('--batch-size 100000 is more than the limit of 65536 rows');
  });

  it('a 2 GB sparse .safetensors file is refused from its first bytes, not read whole', async () => {
    const f = join(dir, 'sparse.safetensors');
    const t = spawnSync('truncate', ['-s', '2G', f]);
    if (t.status !== 0) return; // no truncate(1): nothing to test here
    const rss0 = process.memoryUsage().rss;
    const t0 = Date.now();
    const err = await readSafetensorsFile(f).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CheckpointError);
    expect((err as Error).message).toMatch(/header must be a JSON object starting with '\{' \(got an empty header\)/);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(process.memoryUsage().rss - rss0).toBeLessThan(200 * 2 ** 20);
    // A length prefix larger than the file: refused the same way.
    const big = join(dir, 'prefix.safetensors');
    const b = Buffer.alloc(16);
    b.writeUInt32LE(1_000_000, 0);
    writeFileSync(big, b);
    await expect(readSafetensorsFile(big)).rejects.toThrow(/header-length prefix says 1000000 bytes but only 8 bytes follow it/);
  });

  it('a leaking plug-in hits the worker heap limit (resourceLimits) and fails its run with a clear error', async () => {
    const err = await evaluate({
      env: 'hopper-medium-v2',
      policy: fixture('leak.mjs'),
      episodes: 1,
      maxEpisodeSteps: 1000,
      workers: 1,
      workerHeapLimitMb: 48,
      policyTimeoutMs: 0,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EvaluationError);
    expect((err as Error).message).toMatch(/a worker crashed twice on hopper-medium-v2 episode 0 .*ran out of its 48 MB JS heap limit/);
    expect(workerHeapLimitMb(2, 8 * 2 ** 30)).toBe(2048);
    expect(workerHeapLimitMb(64, 8 * 2 ** 30)).toBe(512);
    expect(workerHeapLimitMb(1, 64 * 2 ** 30)).toBe(4096);
  });
});

describe('5. the gate cross-checks a result', () => {
  const baseline = () => baselineFromResult(good(), { source: { kind: 'results', file: 'b.json', fileSha256: 'x' } });

  it('an interrupted result whose complete flags were edited is refused by baseline and regress', () => {
    const doc = good();
    const r = doc.results[0];
    for (const k of ['episodes', 'seeds', 'returns', 'lengths', 'normalizedScores', 'terminated'] as const) (r[k] as unknown[]).splice(6);
    // complete / pendingEpisodes claim all 10 episodes finished; settings.episodes says 10.
    expect(resultConsistencyProblems(doc)).toEqual([expect.stringContaining('complete is true but 4 of the 10 episodes are missing (e.g. 6, 7, 8, 9)')]);
    expect(() => baselineFromResult(doc, { source: { kind: 'results', file: 'edited.json', fileSha256: 'x' } })).toThrow(BaselineFormatError);
    expect(() => checkComparable(baseline(), doc)).toThrow(RegressMismatchError);
  });

  it('episode indices outside settings.episodes, and scores that disagree with the returns, are named', () => {
    const doc = good();
    doc.results[0].episodes[9] = 12;
    expect(resultConsistencyProblems(doc).join('\n')).toContain('episodes[9] is 12, outside 0..9 (settings.episodes 10)');
    const forged = good();
    forged.results[0].normalizedScores = forged.results[0].normalizedScores.map((s) => s + 30);
    const p = resultConsistencyProblems(forged);
    expect(p.join('\n')).toMatch(/normalizedScores\[0\] is [\d.]+, but returns\[0\] = [\d.]+ gives [\d.]+ .*the arrays disagree/);
    expect(() => checkComparable(baseline(), forged)).toThrow(/the arrays disagree/);
  });

  it('the CLI refuses an edited result: baseline exit 2', async () => {
    const doc = good();
    doc.results[0].normalizedScores[3] = 1e6;
    const f = join(dir, 'forged.json');
    writeResultFile(f, doc);
    const r = await cli(['baseline', '--results', f, '--out', join(dir, 'forged-base.json')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('is not a consistent result document');
    expect(existsSync(join(dir, 'forged-base.json'))).toBe(false);
  });
});

describe('6. messages that name the cause', () => {
  it('a symlink loop as --ckpt says so, not "does not exist"', async () => {
    const a = join(dir, 'loop-a');
    const b = join(dir, 'loop-b');
    symlinkSync(b, a);
    symlinkSync(a, b);
    const r = await cli(['--ckpt', a, '--episodes', '2']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('is a symbolic link loop (ELOOP');
    expect(r.stderr).not.toContain('does not exist');
  });

  it('a string action reads as a string, not as the number it spells', async () => {
    const r = await cli(quickArgs({ policy: fixture('string-action.mjs') }));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('act() returned the string "0.1" (a string, not a number) for action[0]');
  });

  it('scores of +-1e308 give a message about the scores, not "degrees of freedom must be positive, got NaN"', () => {
    const huge = [1e308, -1e308, 1e308];
    expect(() => welchTTest(huge, [1, 2, 3])).toThrow(RegressInputError);
    expect(() => welchTTest(huge, [1, 2, 3])).toThrow(/value 0 is 1e\+308, beyond the limit of \+-1000000000 normalised points/);
    const base = baselineFromResult(good(), { source: { kind: 'results', file: 'b.json', fileSha256: 'x' } });
    base.envs[0].normalizedScores = [...huge];
    base.envs[0].n = 3;
    expect(() => checkBaselineDocument(JSON.parse(JSON.stringify(base)), 'b.json')).toThrow(/normalizedScores\[0\] is 1e\+308, beyond the limit/);
  });

  it('a checkpoint config whose obsDim differs from its env names the field, not six tensor shapes', async () => {
    const ck = join(dir, 'ck-obsdim');
    cpSync(join(ROOT, 'eval', 'checkpoints', 'ofql-hopper-medium'), ck, { recursive: true });
    const cfgPath = join(ck, 'config.json');
    const cfg = JSON.parse(readFileSync(cfgPath, 'utf8')) as { ofql: { obsDim: number } };
    cfg.ofql.obsDim = 12;
    writeFileSync(cfgPath, JSON.stringify(cfg));
    const err = await validateOfqlCheckpoint(ck).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CheckpointError);
    expect((err as Error).message).toMatch(/ofql\.obsDim.*is 12, but the checkpoint's envId hopper-medium-v2 has 11 observations/);
    expect((err as Error).message).not.toContain('expected shape');
  });

  it('merge --json equal to one of its inputs is refused and the shard is left alone', async () => {
    const s0 = join(dir, 's0.json');
    const s1 = join(dir, 's1.json');
    expect((await cli(quickArgs({ episodes: '4', shard: '0/2', json: s0 }))).code).toBe(0);
    expect((await cli(quickArgs({ episodes: '4', shard: '1/2', json: s1 }))).code).toBe(0);
    const before = readFileSync(s1, 'utf8');
    const r = await cli(['merge', s0, s1, '--json', s1]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--json ${s1} is also an input (merge input ${s1}); writing it would overwrite that file`);
    expect(readFileSync(s1, 'utf8')).toBe(before);
  });

  it("a throw from a plug-in's timer after the last chunk fails the run, naming it (was swallowed: exit 0)", async () => {
    const r = await cli(quickArgs({ policy: fixture('late-throw.mjs'), episodes: '1' }));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/a worker thread threw outside act\(\), after its chunk had been answered .*: late timer boom/);
  });
});

describe('8. more hostile inputs (docs/robustness.md)', () => {
  it('--policy-timeout beyond what a Node timer holds is refused (it became a 1 ms timeout)', async () => {
    const r = await cli(quickArgs({ 'policy-timeout': '99999999999' }));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--policy-timeout 99999999999 is more than the limit of 2147483647 ms');
    expect(r.stderr).not.toContain('TimeoutOverflowWarning');
  });

  it('--max-episode-steps 1e9 is refused with the limit (collect: "Invalid typed array length")', async () => {
    const r = await cli(quickArgs({ 'max-episode-steps': '1000000000' }));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--max-episode-steps 1000000000 is more than the limit of 1000000 steps');
    const c = await cli(['collect', '-e', 'hopper-medium-v2', '-p', 'zero', '--steps', '10', '--max-episode-steps', '1000000000', '-o', join(dir, 'h.hdf5')]);
    expect(c.code).toBe(2);
    expect(c.stderr).toContain('--max-episode-steps 1000000000 is more than the limit of 1000000 steps');
  });

  it('an output that is also an input (baseline --out = --results, regress --json = --baseline) is refused, the input kept', async () => {
    const res = join(dir, 'in-res.json');
    writeResultFile(res, syntheticResult({ scores: { 'hopper-medium-v2': scoresAround(50, 5, 6) } }));
    const before = readFileSync(res, 'utf8');
    const b = await cli(['baseline', '--results', res, '--out', res]);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain(`--out ${res} is also an input (--results ${res})`);
    expect(readFileSync(res, 'utf8')).toBe(before);
    const base = join(dir, 'in-base.json');
    expect((await cli(['baseline', '--results', res, '--out', base])).code).toBe(0);
    const baseText = readFileSync(base, 'utf8');
    const g = await cli(['regress', '--baseline', base, '--results', res, '--allow-non-d4rl', '--json', base]);
    expect(g.code).toBe(2);
    expect(g.stderr).toContain(`--json ${base} is also an input (--baseline ${base})`);
    expect(readFileSync(base, 'utf8')).toBe(baseText);
  });

  it.runIf(existsSync('/dev/stdout'))('--json /dev/stdout with stdout in a file: appended in place (a rename replaced the /dev/stdout link itself)', () => {
    const log = join(dir, 'stdout.log');
    const fd = openSync(log, 'w');
    const r = spawnSync(process.execPath, [CLI, ...quickArgs({ json: '/dev/stdout' })], { cwd: ROOT, stdio: ['ignore', fd, 'pipe'], encoding: 'utf8' });
    closeSync(fd);
    expect(r.status).toBe(0);
    const text = readFileSync(log, 'utf8');
    expect(text).toMatch(/hopper-medium-v2: 2 episodes finished[\s\S]*"kind": "ofql-eval\/result"/); // the summary, then the document
    expect(lstatSync('/dev/stdout').isSymbolicLink()).toBe(true);
  });

  it('--json through a symlink replaces the file it points at and keeps the link', async () => {
    const real = join(dir, 'real-out.json');
    const link = join(dir, 'link-out.json');
    writeFileSync(real, 'old');
    symlinkSync(real, link);
    expect((await cli(quickArgs({ json: link }))).code).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readResultFile(real).complete).toBe(true);
  });
});

function good(): EvalResultDocument {
  return syntheticResult({ scores: { 'hopper-medium-v2': scoresAround(50, 5, 10) } });
}
