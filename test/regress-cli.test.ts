/**
 * `ofql-eval baseline` and `ofql-eval regress` end to end (the compiled dist/src/cli.js), on
 * synthetic result documents written with the result module's writer, plus one short real run.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BaselineDocument } from '../eval/gate/baseline.js';
import type { RegressReport } from '../eval/gate/compare.js';
import { ROOT } from './eval-helpers.js';
import { findAll, parseXml, scoresAround, writeSynthetic } from './regress-helpers.js';

const CLI = join(ROOT, 'dist', 'src', 'cli.js');
const dir = mkdtempSync(join(tmpdir(), 'ofql-regress-'));
const f = (name: string): string => join(dir, name);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = { stdout: '', stderr: '' };
    child.stdout.on('data', (d: Buffer) => (out.stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out.stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, ...out }));
  });
}

const H = 'hopper-medium-v2';
const W = 'walker2d-medium-v2';
// Baseline: hopper ~ 60 +- 5, walker ~ 80 +- 3, 30 episodes each.
writeSynthetic(f('base-result.json'), { scores: { [H]: scoresAround(60, 5, 30), [W]: scoresAround(80, 3, 30) } });
// Same means, other episodes (seed 1): pass.
writeSynthetic(f('same.json'), { scores: { [H]: scoresAround(60.3, 5, 30), [W]: scoresAround(79.8, 3, 30) }, seed: 1 });
// Walker drops by 8 points: regression.
writeSynthetic(f('worse.json'), { scores: { [H]: scoresAround(60, 5, 30), [W]: scoresAround(72, 3, 30) }, seed: 1 });
// Walker drops by 1.5 with a tiny spread: significant, but below the default min-effect of 2.
writeSynthetic(f('small-drop.json'), { scores: { [H]: scoresAround(60, 5, 30), [W]: scoresAround(78.5, 0.5, 30) }, seed: 1 });
writeSynthetic(f('small-drop-base.json'), { scores: { [H]: scoresAround(60, 5, 30), [W]: scoresAround(80, 0.5, 30) } });
writeSynthetic(f('hopper-only.json'), { scores: { [H]: scoresAround(60, 5, 30) }, seed: 1 });
writeSynthetic(f('short-horizon.json'), { scores: { [H]: scoresAround(60, 5, 30), [W]: scoresAround(80, 3, 30) }, seed: 1, maxEpisodeSteps: 500 });
writeSynthetic(f('short-base-result.json'), { scores: { [H]: scoresAround(60, 5, 30), [W]: scoresAround(80, 3, 30) }, maxEpisodeSteps: 500 });
writeSynthetic(f('incomplete.json'), { scores: { [H]: scoresAround(60, 5, 30) }, complete: false });

const readJson = <T>(p: string): T => JSON.parse(readFileSync(p, 'utf8')) as T;

describe('ofql-eval baseline', () => {
  it('--help and the top-level help list the new commands', async () => {
    const [top, b, r] = await Promise.all([cli(['--help']), cli(['baseline', '--help']), cli(['regress', '--help'])]);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/ofql-eval baseline/);
    expect(top.stdout).toMatch(/ofql-eval regress/);
    expect(b.code).toBe(0);
    for (const o of ['--results', '--out', '--label', '--env', '--policy', '--ckpt', '--episodes', '--seed', '--save-results']) expect(b.stdout).toContain(o);
    expect(r.code).toBe(0);
    for (const o of ['--baseline', '--results', '--ckpt', '--alpha', '--min-effect', '--markdown', '--junit', '--json', '--allow-non-d4rl', '--correction']) {
      expect(r.stdout).toContain(o);
    }
    expect(r.stdout).toMatch(/REGRESSES if and only if p < alpha AND drop/);
  });

  it('makes a versioned baseline from a result file, keeping the per-episode scores', async () => {
    const r = await cli(['baseline', '--results', f('base-result.json'), '--out', f('base.json'), '--label', 'synthetic']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/hopper-medium-v2: normalised 60\.00 ± \d\.\d\d \(mean ± sample std, n=30\)/);
    const b = readJson<BaselineDocument>(f('base.json'));
    expect(b).toMatchObject({ kind: 'ofql-eval/baseline', schemaVersion: 1, label: 'synthetic' });
    expect(b.envs.map((e) => e.envId)).toEqual([H, W]);
    expect(b.envs[0].normalizedScores).toEqual(scoresAround(60, 5, 30));
    expect(b.envs[0].n).toBe(30);
    expect(b.envs[0].mean).toBeCloseTo(60, 10);
    expect(b.settings).toMatchObject({ seed: 0, episodes: 30, maxEpisodeSteps: 1000, d4rlComparable: true });
    expect(b.policy.sha256).toBe('a'.repeat(64));
    expect(b.source.kind).toBe('results');
    expect(b.source.fileSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(b.tool.version).toBe('0.1.0');
  });

  it('refuses an incomplete result (exit 2) and bad command lines (exit 2)', async () => {
    const [r, mixed, neither, noOut] = await Promise.all([
      cli(['baseline', '--results', f('incomplete.json'), '--out', f('never.json')]),
      cli(['baseline', '--results', f('base-result.json'), '--episodes', '5', '--out', f('never.json')]),
      cli(['baseline', '--out', f('never.json')]),
      cli(['baseline', '--results', f('base-result.json')]),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not a complete result/);
    expect(existsSync(f('never.json'))).toBe(false);
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toMatch(/--results .* cannot be combined with .*--episodes/);
    expect(neither.code).toBe(2);
    expect(neither.stderr).toMatch(/give --results <result\.json>, or --env and --policy/);
    expect(noOut.code).toBe(2);
    expect(noOut.stderr).toMatch(/--out baseline\.json/);
  });
});

describe('ofql-eval regress', () => {
  const ensureBaseline = async (): Promise<string> => {
    if (!existsSync(f('base.json'))) await cli(['baseline', '--results', f('base-result.json'), '--out', f('base.json')]);
    return f('base.json');
  };

  it('passes (exit 0) and writes Markdown, JUnit and JSON reports', async () => {
    const base = await ensureBaseline();
    const r = await cli(['regress', '--baseline', base, '--results', f('same.json'), '--markdown', f('pass.md'), '--junit', f('pass.xml'), '--json', f('pass.json')]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ofql-eval regress: PASS\n/);
    expect(readFileSync(f('pass.md'), 'utf8')).toMatch(/^## Score regression gate: PASS/);
    const xml = parseXml(readFileSync(f('pass.xml'), 'utf8'));
    expect(findAll(xml, 'testcase').map((t) => t.attrs.name)).toEqual([H, W]);
    expect(findAll(xml, 'failure')).toHaveLength(0);
    const rep = readJson<RegressReport>(f('pass.json'));
    expect(rep).toMatchObject({ kind: 'ofql-eval/regress-report', passed: true, alpha: 0.01, minEffect: 2, regressions: [] });
  });

  it('fails (exit 1) on a regression, with a JUnit failure only for that environment', async () => {
    const base = await ensureBaseline();
    const r = await cli(['regress', '--baseline', base, '--results', f('worse.json'), '--markdown', f('fail.md'), '--junit', f('fail.xml')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^ofql-eval regress: FAIL \(walker2d-medium-v2\)/);
    expect(r.stdout).toMatch(/walker2d-medium-v2 .* -8\.00 .* REGRESSION: drop 8\.00 >= min-effect 2\.00 and p = /);
    const xml = parseXml(readFileSync(f('fail.xml'), 'utf8'));
    expect(xml.attrs.failures).toBe('1');
    const failing = findAll(xml, 'testcase').filter((t) => findAll(t, 'failure').length > 0);
    expect(failing.map((t) => t.attrs.name)).toEqual([W]);
    expect(readFileSync(f('fail.md'), 'utf8')).toMatch(/\*\*1 of 2 environments regressed: walker2d-medium-v2\.\*\*/);
  });

  it('min-effect: a significant 1.5-point drop passes at the default 2, fails at --min-effect 1', async () => {
    const b = await cli(['baseline', '--results', f('small-drop-base.json'), '--out', f('small-base.json')]);
    expect(b.code).toBe(0);
    const [dflt, strict] = await Promise.all([
      cli(['regress', '--baseline', f('small-base.json'), '--results', f('small-drop.json')]),
      cli(['regress', '--baseline', f('small-base.json'), '--results', f('small-drop.json'), '--min-effect', '1']),
    ]);
    expect(dflt.code).toBe(0);
    expect(dflt.stdout).toMatch(/walker2d-medium-v2 .* pass: drop 1\.50 is significant \(p = .*\) but < min-effect 2\.00/);
    expect(strict.code).toBe(1);
  });

  it('mismatched inputs: exit 2 with an explanation, and error reports for CI', async () => {
    const base = await ensureBaseline();
    const [envs, horizon, shortBase, notBaseline] = await Promise.all([
      cli(['regress', '--baseline', base, '--results', f('hopper-only.json'), '--junit', f('err.xml'), '--markdown', f('err.md')]),
      cli(['regress', '--baseline', base, '--results', f('short-horizon.json'), '--allow-non-d4rl']),
      cli(['baseline', '--results', f('short-base-result.json'), '--out', f('short-base.json')]),
      cli(['regress', '--baseline', f('base-result.json'), '--results', f('same.json')]),
    ]);
    expect(envs.code).toBe(2);
    expect(envs.stderr).toMatch(/different environment sets: .*missing in the new result: walker2d-medium-v2/);
    const xml = parseXml(readFileSync(f('err.xml'), 'utf8'));
    expect(xml.attrs).toMatchObject({ errors: '1', failures: '0' });
    expect(readFileSync(f('err.md'), 'utf8')).toMatch(/^## Score regression gate: ERROR/);

    expect(horizon.code).toBe(2);
    expect(horizon.stderr).toMatch(/different max episode steps: baseline 1000, new 500/);

    expect(notBaseline.code).toBe(2);
    expect(notBaseline.stderr).toMatch(/not an ofql-eval baseline .*this is a result file/);

    expect(shortBase.code).toBe(0);
    const [nonD4rl, allowed] = await Promise.all([
      cli(['regress', '--baseline', f('short-base.json'), '--results', f('short-horizon.json')]),
      cli(['regress', '--baseline', f('short-base.json'), '--results', f('short-horizon.json'), '--allow-non-d4rl']),
    ]);
    expect(nonD4rl.code).toBe(2);
    expect(nonD4rl.stderr).toMatch(/not D4RL-comparable settings.*--allow-non-d4rl/);
    expect(allowed.code).toBe(0);
    expect(allowed.stdout).toMatch(/warning: not D4RL-comparable settings.*accepted: --allow-non-d4rl/);
  });

  it('bad command lines -> exit 2 with a clear message', async () => {
    const cases: [string[], RegExp][] = [
      [['--results', 'x.json', '--episodes', '5'], /cannot be combined with the evaluation flag\(s\) --episodes/],
      [['--results', 'x.json', '--alpha', '0'], /--alpha must be in \(0, 1\), got 0/],
      [['--results', 'x.json', '--min-effect', '-1'], /--min-effect must be a number >= 0/],
      [['--results', 'x.json', '--frobnicate'], /Unknown argument: frobnicate/],
      [['--results', 'x.json'], /Missing required argument: baseline/],
    ];
    const runs = await Promise.all(
      cases.map(([args], k) => cli(['regress', ...(k === cases.length - 1 ? [] : ['--baseline', f('base.json')]), ...args])),
    );
    runs.forEach((r, k) => {
      expect(r.code, cases[k][0].join(' ')).toBe(2);
      expect(r.stderr).toMatch(cases[k][1]);
    });
  });

  it('evaluates a checkpoint directory against a baseline it recorded itself (run mode, real episodes)', async () => {
    const ckptA = f('ckpt-a');
    const ckptB = f('ckpt-b');
    mkdirSync(ckptA, { recursive: true });
    mkdirSync(ckptB, { recursive: true });
    writeFileSync(join(ckptA, 'config.json'), '{"format":"test","formatVersion":1}\n');
    writeFileSync(join(ckptB, 'config.json'), '{"format":"test","formatVersion":1,"other":true}\n');
    const policy = 'test/fixtures/policies/linear.mjs';
    const quick = ['--episodes', '4', '--max-episode-steps', '20', '--workers', '2', '--progress', 'off'];
    const b = await cli(['baseline', '--env', H, '--policy', policy, '--ckpt', ckptA, ...quick, '--out', f('run-base.json')]);
    expect(b.stderr).toBe('');
    expect(b.code).toBe(0);
    const base = readJson<BaselineDocument>(f('run-base.json'));
    expect(base.source.kind).toBe('run');
    expect(base.policy.ckptDigest).toMatchObject({ algorithm: 'sha256-tree', files: 1, hashedAt: 'evaluation' });
    expect(base.policy.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(base.envs[0].n).toBe(4);

    // Policy, envs, episodes, seed and horizon come from the baseline; only the checkpoint is new.
    const r = await cli(['regress', '--baseline', f('run-base.json'), '--ckpt', ckptB, '--allow-non-d4rl', '--workers', '2', '--progress', 'off', '--json', f('run-report.json'), '--save-results', f('run-new.json')]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/evaluating test\/fixtures\/policies\/linear\.mjs with ckpt .*ckpt-b on hopper-medium-v2 \(4 episodes, seed 0\)/);
    const rep = readJson<RegressReport>(f('run-report.json'));
    expect(rep.sameModel).toBe(false);
    expect(rep.candidate.ckptDigest).toMatch(/^sha256-tree:[0-9a-f]{64}$/);
    expect(rep.candidate.ckptDigest).not.toBe(rep.baseline.ckptDigest);
    // the fixture policy ignores its checkpoint: identical episodes
    expect(rep.envs[0].diff).toBe(0);
    expect(readJson<{ kind: string }>(f('run-new.json')).kind).toBe('ofql-eval/result');
  });
});
