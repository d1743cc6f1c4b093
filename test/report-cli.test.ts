/**
 * `ofql-eval report` (src/commands/report.ts, src/report/*): result documents of two policy
 * families x three seeds x two datasets become the tables, aggregates and figures, with numbers
 * checked against values computed here; learning curves from train run directories; refusals.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluate } from '../eval/evaluate.js';
import { type EvalResultDocument, makeEnvResult, writeResultFile } from '../eval/result.js';
import { makeReport } from '../src/commands/report.js';
import { learningCurves } from '../src/report/curves.js';
import { normalizedScore } from '../src/registry.js';
import { ROOT, fixture, spawnAsync } from './eval-helpers.js';

const CLI = join(ROOT, 'dist', 'src', 'cli.js');
const tmp = mkdtempSync(join(tmpdir(), 'ofql-report-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const cli = (args: string[]) => spawnAsync(process.execPath, [CLI, ...args], { cwd: tmp, timeout: 120_000 });

/** Returns shifted by a constant per (policy, seed): scores known exactly. */
const SHIFTS = { ofql: [300, 320, 340], bc: [0, 10, 20] } as const;
const TASKS = ['hopper-medium-v2', 'walker2d-medium-v2'];
let base: EvalResultDocument;
const files: Record<string, string[]> = { ofql: [], bc: [] };

/** A copy of `doc` as the run of checkpoint `ckpt` with every return shifted by `shift`. */
function variant(doc: EvalResultDocument, ckpt: string, shift: number): EvalResultDocument {
  const results = doc.results.map((r) => {
    const returns = r.returns.map((x) => x + shift);
    return makeEnvResult({
      ...r,
      returns,
      normalizedScores: returns.map((x) => normalizedScore(r.envId, x)),
      reference: { family: r.family, refMin: r.refMin, refMax: r.refMax },
      envSteps: r.timing.envSteps,
      workerSeconds: r.timing.workerSeconds,
      policySeconds: r.timing.policySeconds,
    });
  });
  return { ...doc, policy: { ...doc.policy, ckpt }, results };
}

const meanOf = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
/** The run's score on a task: the mean normalised score of its episodes. */
const runScore = (task: string, shift: number) => meanOf(base.results.find((r) => r.envId === task)!.returns.map((x) => normalizedScore(task, x + shift)));

beforeAll(async () => {
  base = await evaluate({ env: TASKS, policy: fixture('linear.mjs'), episodes: 4, maxEpisodeSteps: 10, workers: 1 });
  for (const [family, shifts] of Object.entries(SHIFTS)) {
    shifts.forEach((shift, seed) => {
      const file = join(tmp, `${family}-seed${seed}.json`);
      writeResultFile(file, variant(base, `/runs/${family}-seed${seed}`, shift));
      files[family]!.push(file);
    });
  }
});

describe('ofql-eval report', () => {
  it('keeps a dot inside a run name: eta 0.01 and eta 0.1 runs are two policies, seeds of each one', async () => {
    const dotted: string[] = [];
    for (const eta of ['0.01', '0.1']) {
      for (const seed of [0, 1]) {
        const file = join(tmp, `dotted-eta${eta}-seed${seed}.json`);
        writeResultFile(file, variant(base, `/runs/hopper-medium-replay/ofql-eta${eta}-seed${seed}/step-00030000`, seed));
        dotted.push(file);
      }
    }
    const data = JSON.parse(makeReport({ files: dotted, by: 'policy', reps: 200, seed: 0, train: [] }, 'fixed').json);
    expect(data.policies.map((p: { label: string; runs: number }) => [p.label, p.runs])).toEqual([
      ['ofql-eta0.01', 2],
      ['ofql-eta0.1', 2],
    ]);
  });

  it('one checkpoint under two sampler settings is two policies, labelled with the parameters', async () => {
    const described: string[] = [];
    for (const sampler of ['one-step', 'one-step(noiseScale=0)', 'dql(n=50)']) {
      const doc = variant(base, '/runs/hopper-medium/ofql-eta0.01-seed0/step-00030000', 0);
      const results = doc.results.map((r) => ({ ...r, policyDescription: `OFQL checkpoint x (step 30000), sampler ${sampler}, actor ema, backend wasm` }));
      const file = join(tmp, `sampler-${described.length}.json`);
      writeResultFile(file, { ...doc, results });
      described.push(file);
    }
    const data = JSON.parse(makeReport({ files: described, by: 'policy', reps: 200, seed: 0, train: [] }, 'fixed').json);
    expect(data.policies.map((p: { label: string }) => p.label)).toEqual([
      'ofql-eta0.01 (one-step)',
      'ofql-eta0.01 (one-step, noiseScale=0)',
      'ofql-eta0.01 (dql, n=50)',
    ]);
  });

  it('groups seeds into policies and computes the aggregates and P(X > Y) of the run x dataset matrix', async () => {
    const { json, markdown } = makeReport({ files: [...files.ofql!, ...files.bc!], by: 'policy', reps: 2000, seed: 0, train: [] }, 'fixed');
    const data = JSON.parse(json);
    expect(data.policies.map((p: { label: string }) => p.label)).toEqual(['ofql', 'bc']);
    for (const [k, family] of (['ofql', 'bc'] as const).entries()) {
      const p = data.policies[k];
      expect(p.runs).toBe(3);
      const taskMeans = TASKS.map((t) => meanOf(SHIFTS[family].map((s) => runScore(t, s))));
      expect(p.tasks.map((t: { mean: { point: number } }) => t.mean.point)).toEqual(taskMeans.map((m) => expect.closeTo(m, 9)));
      expect(p.aggregates.mean.point).toBeCloseTo(meanOf(taskMeans), 9);
      expect(p.aggregates.median.point).toBeCloseTo(meanOf(taskMeans), 9); // two tasks: the median is their mean
      expect(p.aggregates.mean.low).toBeLessThanOrEqual(p.aggregates.mean.point);
      expect(p.aggregates.mean.high).toBeGreaterThanOrEqual(p.aggregates.mean.point);
      expect(p.aggregates.mean.high).toBeGreaterThan(p.aggregates.mean.low); // three different seeds: a real interval
    }
    // Every ofql run beats every bc run on both tasks.
    expect(data.comparisons).toHaveLength(1);
    expect(data.comparisons[0].probability.point).toBe(1);
    expect(markdown).toMatch(/\| dataset \| ofql \| bc \|/);
    expect(markdown).toMatch(/\| hopper-medium-v2 \| [\d.]+ \[[\d.]+, [\d.]+\] \(3 runs\) \|/);
    expect(markdown).toMatch(/\| \*\*average\*\* \| \*\*[\d.]+\*\* \| \*\*[\d.]+\*\* \|/);
  });

  it('is reproducible: the same seed gives the same report, another seed other intervals', async () => {
    const args = { files: [...files.ofql!, ...files.bc!], by: 'policy' as const, reps: 500, train: [] };
    expect(makeReport({ ...args, seed: 3 }, 'x').json).toBe(makeReport({ ...args, seed: 3 }, 'x').json);
    expect(makeReport({ ...args, seed: 4 }, 'x').json).not.toBe(makeReport({ ...args, seed: 3 }, 'x').json);
  });

  it('writes report.md, a self-contained report.html with figures, and report.json', async () => {
    const out = join(tmp, 'out');
    const r = await cli(['report', ...files.ofql!, ...files.bc!, '-o', out, '--reps', '1000']);
    expect(r.stderr).toMatch(/wrote .*report\.md, .*report\.html, .*report\.json/);
    expect(r.status).toBe(0);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toMatch(/^<!DOCTYPE html>/);
    expect(html).not.toMatch(/<script|<link|src="http|href="http/); // opens offline
    // 4 aggregate panels + 1 profile + 2 return histograms.
    expect(html.match(/<svg /g)).toHaveLength(7);
    expect(html).toContain('<table>');
    expect(html).toContain('aria-label="performance profiles"');
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toMatch(/^# ofql-eval report/);
    expect(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')).kind).toBe('ofql-eval/report');
  });

  it('--by file makes each file a policy; without -o the Markdown goes to stdout', async () => {
    const r = await cli(['report', files.ofql![0]!, files.bc![0]!, '--by', 'file', '--reps', '200']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/\| dataset \| ofql-seed0 \| bc-seed0 \|/);
    expect(r.stdout).toMatch(/has no interval over seeds/);
  });

  it('refuses bad input before the bootstrap, naming the file or flag', async () => {
    expect((await cli(['report', join(tmp, 'missing.json')])).stderr).toMatch(/result file .*missing\.json does not exist/);
    const reps = await cli(['report', files.ofql![0]!, '--reps', '0']);
    expect(reps.status).toBe(2);
    expect(reps.stderr).toMatch(/--reps must be an integer from 1/);
    const incomplete = join(tmp, 'incomplete.json');
    writeResultFile(incomplete, { ...variant(base, '/runs/x', 0), complete: false, interrupted: true });
    const bad = await cli(['report', incomplete]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/incomplete\.json: the evaluation is not complete/);
    const twice = await cli(['report', files.ofql![0]!, files.ofql![0]!]);
    expect(twice.stderr).toMatch(/both are run \/runs\/ofql-seed0 of policy "ofql"/);
  });
});

describe('learning curves from train run directories', () => {
  it('averages the seeds of a family per step, with their range', async () => {
    const lines = (scores: Array<[number, number]>) => scores.map(([step, s]) => JSON.stringify({ step, envId: 'hopper-medium-v2', normalizedMean: s })).join('\n') + '\n';
    const dirs = [
      ['hopper-medium-seed0', lines([[0, 10], [100, 30]])],
      ['hopper-medium-seed1', lines([[0, 20], [100, 50], [200, 60]])],
    ].map(([name, text]) => {
      const d = join(tmp, 'train', name!);
      mkdirSync(d, { recursive: true });
      writeFileSync(join(d, 'eval.jsonl'), text!);
      return d;
    });
    const [curve] = learningCurves(dirs);
    expect(curve!.label).toBe('hopper-medium'); // only task words left: the name without its seed
    expect(curve!.points).toEqual([
      { step: 0, mean: 15, min: 10, max: 20, seeds: 2 },
      { step: 100, mean: 40, min: 30, max: 50, seeds: 2 },
      { step: 200, mean: 60, min: 60, max: 60, seeds: 1 },
    ]);
    writeFileSync(join(dirs[0]!, 'eval.jsonl'), '{"step": 1, "envId": "h"}\nnot json\n');
    expect(() => learningCurves(dirs)).toThrow(/eval\.jsonl:2: not JSON/);
  });
});
