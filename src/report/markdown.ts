/**
 * The Markdown report: tables as offline-RL papers print them (a row per dataset, a column per
 * policy, a locomotion-average row), then the rliable aggregates and the pairwise probabilities
 * of improvement, every number with its interval.
 */
import { AGGREGATE_METRICS, type AggregateMetric } from './metrics.js';
import type { Estimate, ReportData, TaskSummary } from './aggregate.js';

export const METRIC_TITLES: Readonly<Record<AggregateMetric, string>> = {
  median: 'Median',
  iqm: 'IQM',
  mean: 'Mean',
  optimalityGap: 'Optimality gap',
};

const f1 = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : '–');
const f2 = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : '–');

/** "55.2 [53.9, 56.5]" (or the point alone without an interval). */
export function fmtEstimate(e: Estimate, digits: (x: number) => string = f1): string {
  return Number.isFinite(e.low) && Number.isFinite(e.high) ? `${digits(e.point)} [${digits(e.low)}, ${digits(e.high)}]` : digits(e.point);
}

function taskCell(t: TaskSummary | undefined): string {
  if (t === undefined) return '';
  const mark = t.intervalKind === 'student-t-over-episodes' ? '*' : '';
  return `${fmtEstimate(t.mean)}${mark} (${t.runs} run${t.runs === 1 ? '' : 's'})`;
}

/** Tasks in first-seen order over all policies. */
export function reportTasks(data: ReportData): string[] {
  return [...new Set(data.policies.flatMap((p) => p.tasks.map((t) => t.task)))];
}

function perTaskTable(data: ReportData): string[] {
  const tasks = reportTasks(data);
  const rows = [`| dataset | ${data.policies.map((p) => p.label).join(' | ')} |`, `| --- |${data.policies.map(() => ' ---: |').join('')}`];
  for (const task of tasks) rows.push(`| ${task} | ${data.policies.map((p) => taskCell(p.tasks.find((t) => t.task === task))).join(' | ')} |`);
  const averages = data.policies.map((p) => {
    const complete = tasks.every((task) => p.tasks.some((t) => t.task === task));
    const mean = p.tasks.reduce((s, t) => s + t.mean.point, 0) / p.tasks.length;
    return complete ? `**${f1(mean)}**` : `${f1(mean)} (${p.tasks.length} of ${tasks.length} datasets)`;
  });
  rows.push(`| **average** | ${averages.join(' | ')} |`);
  return rows;
}

/** The whole Markdown report. */
export function reportMarkdown(data: ReportData, meta: { files: number; createdAt: string }): string {
  const s = data.settings;
  const lines = [
    '# ofql-eval report',
    '',
    `${meta.files} result file${meta.files === 1 ? '' : 's'}, ${data.policies.length} polic${data.policies.length === 1 ? 'y' : 'ies'}; made ${meta.createdAt} by \`ofql-eval report\`. ` +
      `Intervals: ${Math.round(100 * s.level)} % ${s.method}, ${s.reps.toLocaleString('en-US')} resamples, seed ${s.seed}.`,
    '',
    '## D4RL-normalised score per dataset',
    '',
    ...perTaskTable(data),
    '',
    'Cells: mean over runs (training seeds) [95 % bootstrap interval over runs]. * one run: the interval is the Student t interval over its episodes (uncertainty over episodes, not seeds). ' +
      'The average row is the mean of the per-dataset means.',
    '',
    '## Aggregate metrics over the run x dataset matrix (rliable)',
    '',
    `| policy | runs per dataset | datasets | ${AGGREGATE_METRICS.map((m) => METRIC_TITLES[m]).join(' | ')} |`,
    `| --- | ---: | ---: |${AGGREGATE_METRICS.map(() => ' ---: |').join('')}`,
    // With one run per dataset every resample is the same matrix: no interval to show.
    ...data.policies.map((p) => `| ${p.label} | ${p.runs} | ${p.tasks.length} | ${AGGREGATE_METRICS.map((m) => (p.runs > 1 ? fmtEstimate(p.aggregates[m]) : f1(p.aggregates[m].point))).join(' | ')} |`),
    '',
    ...(data.policies.some((p) => p.runs === 1) ? ['A policy with one run per dataset has no interval over seeds: evaluate several training seeds (`--ckpt` of each) for one.', ''] : []),
    `Median and mean of the per-dataset mean scores; IQM: mean of the middle 50 % of all run scores; optimality gap: mean shortfall below ${s.optimalityGapThreshold} (lower is better). ` +
      'Definitions of Agarwal et al. 2021, "Deep RL at the Edge of the Statistical Precipice" (rliable); see docs/report.md.',
    '',
  ];
  if (data.comparisons.length > 0) {
    lines.push(
      '## Probability of improvement',
      '',
      '| X | Y | datasets | P(X > Y) |',
      '| --- | --- | ---: | ---: |',
      ...data.comparisons.map((c) => `| ${c.x} | ${c.y} | ${c.tasks.length} | ${c.probability.low === c.probability.high ? f2(c.probability.point) : fmtEstimate(c.probability, f2)} |`),
      '',
      'P(X > Y): per dataset, the probability that a run of X scores above a run of Y (Mann-Whitney U / (n m), ties count one half), averaged over the datasets both have.',
      '',
    );
  }
  return lines.join('\n');
}
