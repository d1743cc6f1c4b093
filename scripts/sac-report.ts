/**
 * `node dist/scripts/sac-report.js [--runs data/sac-runs] [--data data] [--out docs/sac.md] [--no-write]`
 *
 * The measured part of docs/sac.md, from the files the runs and the dataset maker wrote: per SAC
 * run (<runs>/<env>-s<seed>/summary.json, metrics.jsonl) the steps, the wall time and its split
 * (updates / rollout / evaluation), the evaluation curve and the final score; per SAC dataset
 * (<data>/datasets-manifest.json, keys *-sac) rows, episodes and what the data score.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { join, relative, resolve } from 'node:path';
import { replaceSection } from './bench-report.js';
import { scriptArgs } from './script-args.js';
import { packageRoot } from '../src/mujoco/bridge.js';
import type { SacRunSummary } from '../src/sac/train.js';

const { values: args } = scriptArgs('sac-report', 'usage: node dist/scripts/sac-report.js [--runs data/sac-runs] [--data data] [--out docs/sac.md] [--no-write]', {
  runs: { type: 'string', default: join(packageRoot, 'data', 'sac-runs') },
  data: { type: 'string', default: join(packageRoot, 'data') },
  out: { type: 'string', default: join(packageRoot, 'docs', 'sac.md') },
  'no-write': { type: 'boolean', default: false },
});

const TITLE = '## Measured runs and datasets (node dist/scripts/sac-report.js)';
const runsDir = resolve(args.runs!);
const minutes = (s: number) => (s / 60).toFixed(1);

/** Every run directory with a summary.json, by name. */
function summaries(): Array<[string, SacRunSummary]> {
  if (!existsSync(runsDir)) return [];
  return readdirSync(runsDir)
    .filter((d) => existsSync(join(runsDir, d, 'summary.json')))
    .sort()
    .map((d) => [d, JSON.parse(readFileSync(join(runsDir, d, 'summary.json'), 'utf8')) as SacRunSummary]);
}

function runRows(): string[] {
  return summaries().map(([d, s]) => {
    const final = s.evaluations.at(-1)!;
    const best = s.evaluations.reduce((a, b) => (b.meanReturn > a.meanReturn ? b : a));
    const perUpdate = s.updates > 0 ? ((1000 * s.seconds.updates) / s.updates).toFixed(1) : 'n/a';
    return `| ${d} | ${s.stepsDone.toLocaleString('en-US')} | ${minutes(s.seconds.total)} | ${minutes(s.seconds.updates)} (${perUpdate} ms each) | ${minutes(s.seconds.rollout)} | ${minutes(s.seconds.evaluation)} | ${final.meanReturn.toFixed(0)} (${final.normalizedScore.toFixed(1)}) | ${best.meanReturn.toFixed(0)} at ${best.step.toLocaleString('en-US')} |`;
  });
}

/** 30k for a scheduled evaluation; the exact step for the one a stopped run made where it stopped. */
const stepLabel = (step: number): string => (step % 1000 === 0 ? `${step / 1000}k` : step.toLocaleString('en-US'));

function curveRows(): string[] {
  return summaries().map(([d, s]) => {
    const every = Math.max(1, Math.ceil(s.evaluations.length / 10));
    const points = s.evaluations.filter((_, i) => i % every === 0 || i === s.evaluations.length - 1);
    return `- ${d}: ${points.map((e) => `${stepLabel(e.step)} ${e.meanReturn.toFixed(0)}`).join(', ')}`;
  });
}

function datasetRows(): string[] {
  const path = join(resolve(args.data!), 'datasets-manifest.json');
  if (!existsSync(path)) return [];
  const m = JSON.parse(readFileSync(path, 'utf8')) as Record<string, { rows: number; episodes: number; meanReturn: number | null; normalized: number | null; wallSeconds: number | null }>;
  return Object.entries(m)
    .filter(([k]) => k.endsWith('-sac'))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `| ${k} | ${v.rows.toLocaleString('en-US')} | ${v.episodes} | ${v.meanReturn?.toFixed(1) ?? 'n/a'} | ${v.normalized?.toFixed(1) ?? 'n/a'} | ${v.wallSeconds === null ? '(kept)' : minutes(v.wallSeconds)} |`);
}

const when = new Date().toISOString().slice(0, 10);
const lines = [
  TITLE,
  '',
  `Made ${when} on ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, from the runs in ${relative(packageRoot, runsDir) || '.'}/ and ${relative(packageRoot, join(resolve(args.data!), 'datasets-manifest.json'))}. Two runs shared the machine (one per core) with other work, so the times are what a run takes on a busy 2-core machine. Returns: 10 episodes of the deterministic policy, raw (D4RL-normalised).`,
  '',
  '| run | env steps | wall (min) | updates (min) | rollout (min) | evaluation (min) | final return | best return |',
  '|---|---:|---:|---:|---:|---:|---:|---:|',
  ...runRows(),
  '',
  'Evaluation return over training:',
  '',
  ...curveRows(),
  '',
  '| SAC dataset | rows | episodes | mean return | normalised | wall (min) |',
  '|---|---:|---:|---:|---:|---:|',
  ...datasetRows(),
  '',
];
const section = lines.join('\n');
console.log(section);
if (!args['no-write']) replaceSection(resolve(args.out!), section, TITLE);
