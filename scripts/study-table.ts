/**
 * `node dist/scripts/study-table.js RUN_DIR... [--out curves.md]`
 *
 * The learning curves of ofql-eval train runs as one Markdown table: for every periodic evaluation
 * (eval.jsonl) the normalised score with its 95 % half-width, and beside it what the critic says at
 * that step (metrics.jsonl: the mean TD target, the share of one-step actions at the bound) and the
 * data's discounted Monte-Carlo return (train-config.json, src/data/mc-return.ts), the yardstick
 * of a settled critic. scripts/ofql-study.sh writes it next to its report.
 */
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { writeFileAtomic } from '../src/atomic-write.js';
import { readD4rlFile } from '../src/data/d4rl-hdf5.js';
import { summariseDiscountedReturn } from '../src/data/mc-return.js';
import { readJsonl } from '../src/train/jsonl.js';
import { scriptArgs } from './script-args.js';

interface RunCurve {
  name: string;
  mcReturn: number | null;
  rows: Array<{ step: number; score: number; half: number; tdTarget: number | null; atBound: number | null }>;
}

/** The metrics line whose window ends at `step` (metrics are logged every --log-every steps). */
function metricsAt(lines: Array<Record<string, unknown>>, step: number): Record<string, unknown> | undefined {
  return lines.find((l) => l.step === step);
}

interface TrainConfigFile {
  ofql: { trainCritic: boolean; discount: number };
  run?: { dataset?: { path: string; discountedReturn?: { meanOverRows: number } | null } };
}

/** The data's MC return as the run recorded it, else computed from its dataset (runs made before it was recorded). */
async function mcReturnOf(config: TrainConfigFile): Promise<number | null> {
  const ds = config.run?.dataset;
  if (!ds) return null;
  if (ds.discountedReturn) return ds.discountedReturn.meanOverRows;
  const data = await readD4rlFile(ds.path, { nextObservations: false, infos: false });
  return summariseDiscountedReturn(data, config.ofql.discount).meanOverRows;
}

async function readRun(dir: string): Promise<RunCurve> {
  const config = JSON.parse(readFileSync(join(dir, 'train-config.json'), 'utf8')) as TrainConfigFile;
  const critic = config.ofql.trainCritic;
  const metrics = readJsonl(join(dir, 'metrics.jsonl'));
  const rows = readJsonl(join(dir, 'eval.jsonl')).map((e) => {
    const step = e.step as number;
    const [lo, hi] = e.normalizedCi95 as [number, number];
    const m = metricsAt(metrics, step);
    const num = (k: string) => (m && typeof m[k] === 'number' && Number.isFinite(m[k]) ? (m[k] as number) : null);
    return { step, score: e.normalizedMean as number, half: (hi - lo) / 2, tdTarget: critic ? num('targetQMean') : null, atBound: num('actionAtBound') };
  });
  return { name: basename(dir), mcReturn: await mcReturnOf(config), rows };
}

function table(runs: RunCurve[]): string {
  const f = (x: number | null, d: number) => (x === null ? '' : x.toFixed(d));
  const lines = [
    '| run | step | normalised score (50 episodes) | mean TD target | data MC return | one-step actions at the bound |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  for (const r of runs) {
    for (const row of r.rows) {
      const bound = row.atBound === null ? '' : `${(100 * row.atBound).toFixed(1)} %`;
      lines.push(`| ${r.name} | ${row.step.toLocaleString('en-US')} | ${row.score.toFixed(1)} ± ${row.half.toFixed(1)} | ${f(row.tdTarget, 1)} | ${f(r.mcReturn, 1)} | ${bound} |`);
    }
  }
  return `${lines.join('\n')}\n`;
}

const { values, positionals, fail } = scriptArgs('study-table', 'usage: study-table RUN_DIR... [--out curves.md]', { out: { type: 'string' } }, true);
if (positionals.length === 0) fail('give at least one run directory');
const text = table(await Promise.all(positionals.map(readRun)));
if (values.out) writeFileAtomic(values.out, text);
else process.stdout.write(text);
