/**
 * `node dist/scripts/study-summary.js STUDY_DIR... [--data data] [--out summary.md]`
 *
 * One Markdown table over the studies of scripts/ofql-study.sh (each STUDY_DIR holds its result
 * files and report/report.json): per dataset and eta, the data's own score (its complete episodes),
 * BC and OFQL over training seeds with their bootstrap intervals, P(OFQL > BC), and the critic at
 * the end of training (mean TD target over the OFQL seeds) beside the data's discounted MC return.
 * The data file is <data>/<study>-ars.hdf5, or <data>/<study>.hdf5 for a study named *-sac.
 * scripts/ofql-grid.sh writes it after its studies; docs/results.md cites it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { writeFileAtomic } from '../src/atomic-write.js';
import { readD4rlFile } from '../src/data/d4rl-hdf5.js';
import { dataScore } from '../src/data/episode-returns.js';
import { summariseDiscountedReturn } from '../src/data/mc-return.js';
import { packageRoot } from '../src/mujoco/bridge.js';
import type { Estimate, PolicySummary, ReportData } from '../src/report/aggregate.js';
import type { LearningCurve } from '../src/report/curves.js';
import { readJsonl } from '../src/train/jsonl.js';
import { scriptArgs } from './script-args.js';

const BC_LABEL = 'bc (one-step)';
const OFQL_LABEL = /^ofql-eta([0-9.]+) \(one-step\)$/;

type StudyReport = ReportData & { learningCurves: LearningCurve[] };

function readReport(studyDir: string): StudyReport {
  const path = join(studyDir, 'report', 'report.json');
  if (!existsSync(path)) throw new Error(`${studyDir}: no report/report.json (run scripts/ofql-study.sh for it first)`);
  return JSON.parse(readFileSync(path, 'utf8')) as StudyReport;
}

function datasetFileOf(study: string, dataDir: string): string {
  return join(dataDir, study.endsWith('-sac') ? `${study}.hdf5` : `${study}-ars.hdf5`);
}

/** The one task of a study's policy (a study is one dataset). */
function onlyTask(p: PolicySummary, studyDir: string) {
  if (p.tasks.length !== 1) throw new Error(`${studyDir}: policy '${p.label}' has ${p.tasks.length} datasets, expected 1`);
  return p.tasks[0]!;
}

/** Mean over runs of the last logged mean TD target and the discount the runs trained with. */
function finalCritic(runDirs: string[]): { tdTarget: number; discount: number } | null {
  const targets: number[] = [];
  let discount = NaN;
  for (const dir of runDirs) {
    const abs = resolve(packageRoot, dir);
    if (!existsSync(join(abs, 'metrics.jsonl'))) return null;
    const last = readJsonl(join(abs, 'metrics.jsonl')).at(-1);
    if (!last || typeof last.targetQMean !== 'number') return null;
    targets.push(last.targetQMean);
    discount = (JSON.parse(readFileSync(join(abs, 'train-config.json'), 'utf8')) as { ofql: { discount: number } }).ofql.discount;
  }
  return targets.length ? { tdTarget: targets.reduce((a, b) => a + b, 0) / targets.length, discount } : null;
}

/** One run has no spread over seeds: its interval is over its episodes, marked * (see ONE_RUN_NOTE). */
const cell = (e: Estimate, runs: number) => `${e.point.toFixed(1)} [${e.low.toFixed(1)}, ${e.high.toFixed(1)}]${runs === 1 ? '*' : ''} (${runs})`;
const ONE_RUN_NOTE = '\n\\* one run: the interval is the t interval over its episodes, not over seeds; P(OFQL > BC) needs two runs a side.\n';

async function studyRows(studyDir: string, dataDir: string): Promise<string[]> {
  const study = basename(studyDir);
  const report = readReport(studyDir);
  const bc = report.policies.find((p) => p.label === BC_LABEL);
  const ofqls = report.policies.filter((p) => OFQL_LABEL.test(p.label));
  if (!bc || ofqls.length === 0) throw new Error(`${studyDir}: the report needs '${BC_LABEL}' and an 'ofql-eta<eta> (one-step)' policy`);
  const bcTask = onlyTask(bc, studyDir);
  const task = bcTask.task;
  const file = datasetFileOf(study, dataDir);
  const data = await readD4rlFile(file, { envId: task, nextObservations: false, infos: false });
  const score = dataScore(data, task);
  const dataCell = score ? `${score.normalizedMean.toFixed(1)} [${score.normalizedCi95[0].toFixed(1)}, ${score.normalizedCi95[1].toFixed(1)}] (${score.episodes} ep.)` : 'n/a';
  return ofqls.map((p) => {
    const eta = OFQL_LABEL.exec(p.label)![1]!;
    const t = onlyTask(p, studyDir);
    const pi = report.comparisons.find((c) => c.x === p.label && c.y === BC_LABEL)?.probability;
    const runs = report.learningCurves.find((c) => c.label === `ofql-eta${eta}`)?.runs ?? [];
    const critic = finalCritic(runs);
    const mc = critic ? summariseDiscountedReturn(data, critic.discount).meanOverRows : null;
    const criticCell = critic && mc !== null ? `${critic.tdTarget.toFixed(0)} / ${mc.toFixed(0)}` : '';
    const piCell = !pi ? '' : Math.min(t.runs, bcTask.runs) < 2 ? 'n/a (1 run)' : `${pi.point.toFixed(2)} [${pi.low.toFixed(2)}, ${pi.high.toFixed(2)}]`;
    return `| ${study} | ${data.N.toLocaleString('en-US')} | ${dataCell} | ${cell(bcTask.mean, bcTask.runs)} | ${eta} | ${cell(t.mean, t.runs)} | ${piCell} | ${criticCell} |`;
  });
}

const { values, positionals, fail } = scriptArgs(
  'study-summary',
  'usage: study-summary STUDY_DIR... [--data data] [--out summary.md]',
  { data: { type: 'string', default: 'data' }, out: { type: 'string' } },
  true,
);
if (positionals.length === 0) fail('give at least one study directory');
const header = [
  '| dataset | rows | data: its complete episodes [95 % t CI] | BC [95 % CI over seeds] (runs) | eta | OFQL [95 % CI over seeds] (runs) | P(OFQL > BC) | OFQL mean TD target at the end / data MC return |',
  '|---|---:|---:|---:|---:|---:|---:|---:|',
];
const rows: string[] = [];
for (const dir of positionals) rows.push(...(await studyRows(dir, values.data!)));
const text = `${[...header, ...rows].join('\n')}\n${rows.some((r) => r.includes(']* (')) ? ONE_RUN_NOTE : ''}`;
if (values.out) writeFileAtomic(values.out, text);
else process.stdout.write(text);
