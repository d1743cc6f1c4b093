/**
 * The live page of a training run (`ofql-eval train --plot`): learning curves from the run's
 * eval.jsonl and the losses, TD target and action-at-bound share from its metrics.jsonl, rewritten
 * atomically as the run goes (at most every MIN_INTERVAL_MS, and at every evaluation and the end).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../atomic-write.js';
import { learningCurveCharts } from './charts.js';
import { EVAL_LOG, learningCurves } from './curves.js';
import { reportHtml } from './html.js';
import { Panel, colorOf, extent } from './svg.js';

export const METRICS_LOG = 'metrics.jsonl';
const MIN_INTERVAL_MS = 10_000;
/** metrics.jsonl fields plotted, one panel each (the label says what it is). */
const METRIC_PANELS: ReadonlyArray<{ title: string; series: ReadonlyArray<[field: string, label: string]> }> = [
  { title: 'Losses', series: [['bcLoss', 'behaviour loss'], ['criticLoss', 'critic loss']] },
  { title: 'Mean TD target (Q)', series: [['targetQMean', 'mean target Q']] },
  { title: 'One-step actions at the bound', series: [['actionAtBound', 'share of action entries at +-maxAction']] },
];

/** Lines of a JSONL file that parse (a line being written may be cut; it is skipped). */
function readLines(file: string): Array<Record<string, unknown>> {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .flatMap((l) => {
      try {
        return l.trim() ? [JSON.parse(l) as Record<string, unknown>] : [];
      } catch {
        return [];
      }
    });
}

function metricCharts(lines: ReadonlyArray<Record<string, unknown>>): string[] {
  return METRIC_PANELS.flatMap(({ title, series }) => {
    const pts = series.map(([f]) => lines.filter((l) => typeof l[f] === 'number' && typeof l.step === 'number').map((l) => [l.step as number, l[f] as number] as [number, number]));
    if (pts.every((p) => p.length === 0)) return [];
    const all = pts.flat();
    const panel = new Panel({ width: 420, height: 260, title, xLabel: 'training step', yLabel: title.toLowerCase(), x: extent(all.map((p) => p[0]), [0], 0), y: extent(all.map((p) => p[1])) });
    series.forEach(([, label], i) => {
      panel.line(pts[i]!, colorOf(i));
      panel.legend(label, colorOf(i));
    });
    return [panel.svg(title)];
  });
}

/** The page of run directory `dir`. */
export function trainingPageHtml(dir: string): string {
  const metrics = readLines(join(dir, METRICS_LOG));
  const evals = existsSync(join(dir, EVAL_LOG)) ? learningCurves([dir]) : [];
  const last = metrics.at(-1);
  const lastEval = evals[0]?.points.at(-1);
  const md = [
    `# Training run ${dir}`,
    '',
    `Updated ${new Date().toISOString()} by \`ofql-eval train --plot\`; step ${String(last?.step ?? 0)}` +
      `${typeof last?.stepsPerSec === 'number' ? `, ${last.stepsPerSec.toFixed(2)} steps/s` : ''}` +
      `${lastEval ? `; last evaluation at step ${lastEval.step}: normalised ${lastEval.mean.toFixed(1)}` : '; no evaluation yet (--eval-every)'}.`,
    '',
  ].join('\n');
  return reportHtml(md, [
    { title: 'Evaluations', caption: 'D4RL-normalised score of each periodic evaluation (eval.jsonl).', svgs: learningCurveCharts(evals) },
    { title: 'Training metrics', caption: 'Means over each --log-every window (metrics.jsonl).', svgs: metricCharts(metrics) },
  ]);
}

/** Rewrites `file` from `dir`'s logs; `refresh(force)` is cheap to call often (throttled unless forced). */
export function trainingPlotter(dir: string, file: string): (force?: boolean) => void {
  let lastWrite = -Infinity;
  return (force = false) => {
    const now = Date.now();
    if (!force && now - lastWrite < MIN_INTERVAL_MS) return;
    lastWrite = now;
    writeFileAtomic(file, trainingPageHtml(dir));
  };
}
