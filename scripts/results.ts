/**
 * docs/results.md: the reference checkpoints (eval/checkpoints/) against behaviour cloning and the
 * behaviour policy, D4RL-normalised over 150 episodes with 95% t intervals, from real runs.
 *
 *   npm run results                       # every row, 150 episodes each (~25 min on 2 cores)
 *   npm run results -- --data data        # also the dataset's own returns (needs `npm run datasets`)
 *   npm run results -- --only bc,behaviour   # just those rows' result files; then --reuse for the table
 *
 * Only the "## Scores" section of the markdown is (re)written; the rest is prose kept as it is.
 * Every evaluation is the public CLI (`ofql-eval ... --json`), run as a child process; the raw
 * result documents go to docs/results/ and the markdown is built only from them, so every number
 * in the table can be traced to one file and one command.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EvalResultDocument } from '../eval/result.js';
import { replaceSection } from './bench-report.js';
import { intFlag, scriptArgs } from './script-args.js';
import { makeReport } from '../src/commands/report.js';
import { readD4rlFile } from '../src/data/d4rl-hdf5.js';
import { dataScore, type DataScore } from '../src/data/episode-returns.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = join(ROOT, 'dist', 'src', 'cli.js');
/** Paths below are relative to ROOT (the evaluations run there), so the result files name no machine. */
const LINEAR_POLICY = './dist/src/behaviour/linear-policy.js';

/** The reference runs: one row group per task. Paths relative to the repository root. */
export const REFERENCE_TASKS = [
  { task: 'hopper-medium-v2', family: 'hopper', dataset: 'hopper-medium-ars.hdf5' },
  { task: 'halfcheetah-medium-v2', family: 'halfcheetah', dataset: 'halfcheetah-medium-ars.hdf5' },
] as const;

interface Row {
  /** Row label in the table. */
  label: string;
  /** File under docs/results/. */
  file: string;
  /** CLI arguments after `ofql-eval`. */
  args: string[];
}

function rowsFor(t: (typeof REFERENCE_TASKS)[number]): Row[] {
  const name = t.task.replace(/-v2$/, '');
  const ofql = `eval/checkpoints/ofql-${name}`;
  const bc = `eval/checkpoints/bc-${name}`;
  return [
    { label: 'OFQL, one-step (1 actor call)', file: `${name}-ofql-one-step.json`, args: ['--ckpt', ofql, '--sampler', 'one-step'] },
    { label: 'OFQL, DQL sampler (50 candidates, softmax Q)', file: `${name}-ofql-dql.json`, args: ['--ckpt', ofql, '--sampler', 'dql'] },
    { label: 'BC (eta = 0), one-step', file: `${name}-bc-one-step.json`, args: ['--ckpt', bc, '--sampler', 'one-step'] },
    {
      label: 'behaviour policy without its action noise',
      file: `${name}-behaviour.json`,
      args: ['--env', t.task, '--policy', LINEAR_POLICY, '--ckpt', `eval/behaviour/${t.family}-medium.json`],
    },
  ];
}

type DatasetStats = DataScore & { file: string };

/** Returns of the dataset's complete episodes (ended by `terminals` or `timeouts`), normalised. */
async function datasetStats(path: string, task: string): Promise<DatasetStats> {
  const score = dataScore(await readD4rlFile(path, { envId: task, nextObservations: false, infos: false }), task);
  if (!score) throw new Error(`${path}: fewer than 2 complete episodes`);
  return { file: relative(ROOT, path), ...score };
}

function evaluateRow(row: Row, out: string, o: { episodes: number; seed: number; workers: number }): EvalResultDocument {
  const args = [CLI, ...row.args, '--episodes', String(o.episodes), '--seed', String(o.seed), '--workers', String(o.workers), '--progress', 'off', '--json', relative(ROOT, out)];
  process.stderr.write(`[results] ofql-eval ${args.slice(1).join(' ')}\n`);
  const r = spawnSync(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`evaluation '${row.label}' failed with exit code ${r.status} (see above)`);
  return JSON.parse(readFileSync(out, 'utf8')) as EvalResultDocument;
}

const fmt = (x: number) => x.toFixed(1);

function checkpointInfo(dir: string): string {
  const cfg = JSON.parse(readFileSync(join(ROOT, dir, 'config.json'), 'utf8')) as { step: number; ofql: { eta: number; hiddenDim: number; depth: number } };
  return `step ${cfg.step}, eta ${cfg.ofql.eta}, ${cfg.ofql.depth} x ${cfg.ofql.hiddenDim}`;
}

const AGGREGATE_TITLE = '## Aggregates over the datasets (ofql-eval report)';

/**
 * The same result files through `ofql-eval report` (src/commands/report.ts): the per-dataset
 * table with its average row, the rliable aggregates and P(X > Y), headings one level down.
 */
function aggregateSection(files: readonly string[]): string {
  const md = makeReport({ files: [...files], by: 'policy', reps: 50_000, seed: 0, train: [] }, new Date().toISOString().slice(0, 10)).markdown;
  const body = md
    .split('\n')
    .filter((l) => !l.startsWith('# '))
    .map((l) => (l.startsWith('## ') ? `#${l}` : l))
    .join('\n');
  return `${AGGREGATE_TITLE}\n\nThe result files of the table above, through \`ofql-eval report ${files.map((f) => relative(ROOT, f)).join(' ')}\`.\n${body}`;
}

async function main(): Promise<void> {
  const { values, fail } = scriptArgs(
    'results',
    'usage: npm run results [-- --episodes 150 --seed 0 --workers <cores> --data data --out docs/results.md --reuse --only a,b]',
    {
      episodes: { type: 'string' },
      seed: { type: 'string' },
      workers: { type: 'string' },
      data: { type: 'string' },
      out: { type: 'string', default: join(ROOT, 'docs', 'results.md') },
      reuse: { type: 'boolean', default: false },
      only: { type: 'string' },
    },
  );
  const o = {
    episodes: intFlag(values.episodes, 'episodes', 150, 1, fail),
    seed: intFlag(values.seed, 'seed', 0, 0, fail),
    workers: intFlag(values.workers, 'workers', cpus().length, 1, fail),
  };
  // --only a,b: evaluate just the rows whose result file name contains a or b (no markdown);
  // --reuse: take rows whose result file exists from that file.
  const only = values.only?.split(',').filter(Boolean);
  const resultsDir = join(dirname(values.out!), 'results');
  mkdirSync(resultsDir, { recursive: true });

  const sections: string[] = [];
  const files: string[] = [];
  let machine = '';
  for (const t of REFERENCE_TASKS) {
    const name = t.task.replace(/-v2$/, '');
    const lines = only ? [] : [
      `### ${t.task} (${name.split('-')[0]} dataset made by \`npm run datasets\`)`,
      '',
      `OFQL: \`eval/checkpoints/ofql-${name}\` (${checkpointInfo(`eval/checkpoints/ofql-${name}`)}); ` +
        `BC: \`eval/checkpoints/bc-${name}\` (${checkpointInfo(`eval/checkpoints/bc-${name}`)}).`,
      '',
      '| policy | episodes | normalised score | 95% CI | raw return | result file |',
      '|---|---:|---:|---|---:|---|',
    ];
    for (const row of rowsFor(t)) {
      const out = join(resultsDir, row.file);
      if (only && !only.some((w) => row.file.includes(w))) continue;
      files.push(out);
      const doc = values.reuse && existsSync(out) ? (JSON.parse(readFileSync(out, 'utf8')) as EvalResultDocument) : evaluateRow(row, out, o);
      const s = doc.results[0]?.summary;
      if (!doc.complete || !s || !s.normalizedCi95) throw new Error(`${out}: incomplete result`);
      machine ||= `${doc.runtime.cpus} x ${doc.runtime.cpuModel}, Node ${doc.runtime.node}, ${doc.settings.workers} workers, ${doc.createdAt.slice(0, 10)}`;
      lines.push(
        `| ${row.label} | ${s.episodes} | **${fmt(s.normalizedMean)}** | [${fmt(s.normalizedCi95[0])}, ${fmt(s.normalizedCi95[1])}] | ` +
          `${s.returnMean.toFixed(0)} | [results/${row.file}](results/${row.file}) |`,
      );
    }
    if (values.data && !only) {
      const ds = await datasetStats(join(values.data, t.dataset), t.task);
      lines.push(
        `| behaviour policy as recorded (dataset's complete episodes, action noise included) | ${ds.episodes} | **${fmt(ds.normalizedMean)}** | ` +
          `[${fmt(ds.normalizedCi95[0])}, ${fmt(ds.normalizedCi95[1])}] | | \`${t.dataset}\` |`,
      );
    }
    sections.push(lines.join('\n'));
  }

  if (only) {
    process.stderr.write(`[results] --only ${only.join(',')}: result files written, markdown not updated\n`);
    return;
  }
  const section = [
    '## Scores',
    '',
    `Generated by \`npm run results${values.data ? ` -- --data ${values.data}` : ''}\` (scripts/results.ts) on ${machine}.`,
    `Every row: \`ofql-eval\` with ${o.episodes} episodes, run seed ${o.seed}, D4RL v2 semantics (1000-step limit);`,
    'normalised score = 100 (R - random) / (expert - random) with the D4RL constants; 95% Student t interval of the mean.',
    '',
    ...sections.flatMap((s) => [s, '']),
  ].join('\n');
  replaceSection(values.out!, section, '## Scores');
  replaceSection(values.out!, aggregateSection(files), AGGREGATE_TITLE);
  process.stderr.write(`[results] wrote ${relative(ROOT, values.out!)}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`results: error: ${(e as Error).message}\n`);
  process.exit(1);
});
