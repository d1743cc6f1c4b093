/**
 * `ofql-eval report RESULT.json... [-o DIR] [--by policy|file] [--train RUN_DIR...]`: result
 * documents grouped into policies x runs (training seeds) x datasets (src/report/runs.ts), the
 * rliable aggregates with stratified-bootstrap intervals (src/report/aggregate.ts), written as
 * report.md, report.html (self-contained, SVG figures) and report.json. Without -o the Markdown
 * goes to stdout. Every input is read and checked before the bootstrap starts.
 */
import { EXIT, reportKnownError } from '../cli-errors.js';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { ResultFormatError, readResultFile } from '../../eval/result.js';
import { OutputPathError, checkOutputDir, writeOutputReported } from '../output-path.js';
import { buildReport } from '../report/aggregate.js';
import { DEFAULT_BOOTSTRAP_REPS } from '../report/bootstrap.js';
import { aggregateCharts, learningCurveCharts, profileChart, returnHistograms } from '../report/charts.js';
import { learningCurves, type LearningCurve } from '../report/curves.js';
import { reportHtml } from '../report/html.js';
import { reportMarkdown } from '../report/markdown.js';
import { GROUP_BY, ReportInputError, groupRuns, type GroupBy } from '../report/runs.js';

export const REPORT_FORMATS = ['md', 'html', 'json', 'svg'] as const;
type ReportFormat = (typeof REPORT_FORMATS)[number];
/** More resamples than this buy nothing at 3 decimals and cost minutes. */
const MAX_REPS = 1_000_000;

interface ReportArgs {
  files: string[];
  out?: string;
  by: GroupBy;
  format: ReportFormat[];
  reps: number;
  seed: number;
  train: string[];
}

export interface ReportFiles {
  markdown: string;
  html: string;
  json: string;
  /** Every figure as its own SVG file: name -> content (`--format svg`). */
  svgs: Map<string, string>;
}

const slug = (s: string): string => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');

/** All three renderings of the report of these result files (and training runs). */
export function makeReport(a: Pick<ReportArgs, 'files' | 'by' | 'reps' | 'seed' | 'train'>, createdAt = new Date().toISOString()): ReportFiles {
  const inputs = a.files.map((file) => ({ file, doc: readResultFile(file) }));
  const curves: LearningCurve[] = learningCurves(a.train);
  const policies = groupRuns(inputs, a.by);
  const data = buildReport(policies, { reps: a.reps, seed: a.seed });
  const markdown = reportMarkdown(data, { files: inputs.length, createdAt });
  const figures = [
    { title: 'Aggregate metrics', caption: 'Point estimates (bars) and 95 % stratified-bootstrap intervals (shaded) over the run x dataset matrix of D4RL-normalised scores.', names: ['median', 'iqm', 'mean', 'optimality-gap'].map((m) => `aggregate-${m}`), svgs: aggregateCharts(data) },
    { title: 'Performance profiles', caption: 'Fraction of runs (over all datasets) whose normalised score exceeds tau; bands: 95 % bootstrap intervals.', names: ['profile'], svgs: [profileChart(data)] },
    { title: 'Episode returns', caption: "Per dataset: histogram of the undiscounted return of every evaluation episode, as a share of each policy's episodes.", names: [...new Set(policies.flatMap((p) => [...p.tasks.keys()]))].map((t) => `returns-${slug(t)}`), svgs: returnHistograms(policies) },
    { title: 'Learning curves', caption: 'Periodic evaluations of ofql-eval train runs (--train): mean normalised score over seeds, band from the lowest to the highest seed.', names: [...new Set(curves.map((c) => c.task))].map((t) => `curve-${slug(t)}`), svgs: learningCurveCharts(curves) },
  ];
  const html = reportHtml(markdown, figures);
  const svgs = new Map(figures.flatMap((f) => f.svgs.map((svg, i) => [`${f.names[i]}.svg`, `${svg}\n`] as const)));
  const json = `${JSON.stringify({ ...data, createdAt, inputs: a.files, learningCurves: curves }, null, 1)}\n`;
  return { markdown, html, json, svgs };
}

/** Usage problems found before any file is read: a message, or null. */
function checkArgs(a: ReportArgs): string | null {
  if (!Number.isSafeInteger(a.reps) || a.reps < 1 || a.reps > MAX_REPS) return `--reps must be an integer from 1 to ${MAX_REPS}, got ${String(a.reps)}`;
  if (!Number.isSafeInteger(a.seed) || a.seed < 0) return `--seed must be a non-negative integer, got ${String(a.seed)}`;
  for (const f of a.files) if (!existsSync(f) || !statSync(f).isFile()) return `result file ${f} does not exist or is not a file`;
  for (const d of a.train) if (!existsSync(d) || !statSync(d).isDirectory()) return `--train ${d}: not a directory (give ofql-eval train output directories)`;
  if (a.out !== undefined) {
    try {
      checkOutputDir(a.out, '-o');
    } catch (e) {
      if (e instanceof OutputPathError) return e.message;
      throw e;
    }
  }
  return null;
}

const builder = (y: Argv<object>) =>
  y
    .positional('files', { type: 'string', array: true, demandOption: true, describe: 'Result documents (--json of ofql-eval runs, merged shards)' })
    .option('out', { alias: 'o', type: 'string', describe: 'Directory for report.md, report.html, report.json (default: Markdown to stdout)' })
    .option('by', { choices: GROUP_BY, default: 'policy' as GroupBy, describe: 'policy: checkpoints of one family are seeds of one policy; file: every file is its own policy' })
    .option('format', { choices: REPORT_FORMATS, array: true, default: ['md', 'html', 'json'] as ReportFormat[], describe: 'Files to write with -o (svg: every figure as DIR/figures/*.svg)' })
    .option('reps', { type: 'number', default: DEFAULT_BOOTSTRAP_REPS, describe: 'Bootstrap resamples per interval (rliable: 50000)' })
    .option('seed', { type: 'number', default: 0, describe: 'Seed of the bootstrap (same seed, same report)' })
    .option('train', { type: 'string', array: true, default: [] as string[], describe: 'ofql-eval train run directories: learning curves from their eval.jsonl' })
    .example('$0 report runs/*.json -o report/', 'tables, aggregates with intervals, figures')
    .example('$0 report a.json b.json --by file', 'two policies compared, Markdown on stdout');

export function reportCommand(setExitCode: (code: number) => void): CommandModule<object, ReportArgs> {
  return {
    command: 'report <files..>',
    describe: 'Aggregate result documents over seeds and datasets (IQM, median, mean, optimality gap, P(X>Y), bootstrap intervals): Markdown, HTML, JSON',
    builder,
    handler: (a) => {
      const problem = checkArgs(a);
      if (problem !== null) {
        process.stderr.write(`ofql-eval report: error: ${problem}\n`);
        setExitCode(2);
        return;
      }
      try {
        const files = makeReport(a);
        if (a.out === undefined) {
          process.stdout.write(files.markdown);
        } else {
          const written: string[] = [];
          let failed = false;
          const put = (name: string, text: string) => {
            if (writeOutputReported('ofql-eval report', name, join(a.out!, name), text)) written.push(join(a.out!, name));
            else failed = true;
          };
          const formats = new Set(a.format);
          if (formats.has('md')) put('report.md', files.markdown);
          if (formats.has('html')) put('report.html', files.html);
          if (formats.has('json')) put('report.json', files.json);
          if (formats.has('svg')) for (const [name, svg] of files.svgs) put(join('figures', name), svg);
          process.stderr.write(`ofql-eval report: wrote ${written.join(', ')}\n`);
          if (failed) {
            setExitCode(1);
            return;
          }
        }
        setExitCode(0);
      } catch (err) {
        if (!reportKnownError('ofql-eval report', err, [[ReportInputError, EXIT.failed], [ResultFormatError, EXIT.failed]], setExitCode)) throw err;
      }
    },
  };
}
