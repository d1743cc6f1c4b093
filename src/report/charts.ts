/**
 * The report's figures as SVG strings (svg.ts): aggregate metrics with intervals (rliable's
 * interval plot), performance profiles with bands, per-episode return histograms per dataset, and
 * learning curves (score vs training step, mean over seeds with their range).
 */
import type { LearningCurve } from './curves.js';
import type { ReportData } from './aggregate.js';
import { METRIC_TITLES } from './markdown.js';
import { AGGREGATE_METRICS } from './metrics.js';
import type { PolicyRuns } from './runs.js';
import { Panel, colorOf, extent } from './svg.js';

const HIST_BINS = 20;

/** One panel per aggregate metric: a row per policy, the point and its interval. */
export function aggregateCharts(data: ReportData): string[] {
  const labels = data.policies.map((p) => p.label);
  return AGGREGATE_METRICS.map((m) => {
    const es = data.policies.map((p) => p.aggregates[m]);
    const x = extent(es.flatMap((e) => [e.point, e.low, e.high]), [0]);
    const panel = new Panel({ width: 300, height: 74 + 30 * labels.length, title: METRIC_TITLES[m], xLabel: 'normalised score', yLabel: '', x, y: [0, 1], yCategories: labels });
    es.forEach((e, i) => panel.interval(i, e.point, e.low, e.high, colorOf(i)));
    return panel.svg(`${METRIC_TITLES[m]} with 95% intervals`);
  });
}

/** Performance profiles: fraction of runs scoring above tau, with bootstrap bands. */
export function profileChart(data: ReportData): string {
  const panel = new Panel({ width: 560, height: 320, title: 'Performance profile', xLabel: 'normalised score tau', yLabel: 'fraction of runs with score > tau', x: [data.taus[0]!, data.taus.at(-1)!], y: [0, 1] });
  data.policies.forEach((p, i) => {
    panel.band(data.taus, p.profile.low, p.profile.high, colorOf(i));
    panel.line(data.taus.map((t, k) => [t, p.profile.values[k]!]), colorOf(i));
    panel.legend(p.label, colorOf(i));
  });
  panel.vrule(100, 'expert (100)');
  return panel.svg('performance profiles');
}

/** Per dataset: histogram of per-episode returns of each policy (share of its episodes per bin). */
export function returnHistograms(policies: readonly PolicyRuns[]): string[] {
  const tasks = [...new Set(policies.flatMap((p) => [...p.tasks.keys()]))];
  return tasks.map((task) => {
    const series = policies.map((p, i) => ({ label: p.label, color: colorOf(i), returns: (p.tasks.get(task) ?? []).flatMap((c) => c.episodeReturns) })).filter((s) => s.returns.length > 0);
    const all = series.flatMap((s) => s.returns);
    let [lo, hi] = [Math.min(...all), Math.max(...all)];
    if (lo === hi) [lo, hi] = [lo - 1, hi + 1];
    const edges = Array.from({ length: HIST_BINS + 1 }, (_, k) => lo + ((hi - lo) * k) / HIST_BINS);
    const shares = series.map((s) => {
      const counts = new Array<number>(HIST_BINS).fill(0);
      for (const r of s.returns) counts[Math.min(HIST_BINS - 1, Math.floor(((r - lo) / (hi - lo)) * HIST_BINS))]! += 1;
      return counts.map((c) => c / s.returns.length);
    });
    const panel = new Panel({ width: 420, height: 260, title: task, xLabel: 'episode return', yLabel: 'share of episodes', x: [lo, hi], y: [0, Math.max(...shares.flat()) * 1.1] });
    series.forEach((s, i) => {
      panel.steps(edges, shares[i]!, s.color);
      panel.legend(`${s.label} (${s.returns.length} episodes)`, s.color);
    });
    return panel.svg(`episode returns on ${task}`);
  });
}

/** Per dataset: normalised score vs training step, mean over seeds and the seeds' range. */
export function learningCurveCharts(curves: readonly LearningCurve[]): string[] {
  const labels = [...new Set(curves.map((c) => c.label))];
  const tasks = [...new Set(curves.map((c) => c.task))];
  return tasks.map((task) => {
    const here = curves.filter((c) => c.task === task);
    const pts = here.flatMap((c) => c.points);
    const panel = new Panel({
      width: 480,
      height: 300,
      title: `${task}: learning curves`,
      xLabel: 'training step',
      yLabel: 'normalised score',
      x: extent(pts.map((p) => p.step), [0], 0),
      y: extent(pts.flatMap((p) => [p.min, p.max])),
    });
    for (const c of here) {
      const color = colorOf(labels.indexOf(c.label));
      panel.band(c.points.map((p) => p.step), c.points.map((p) => p.min), c.points.map((p) => p.max), color);
      panel.line(c.points.map((p) => [p.step, p.mean]), color);
      panel.legend(`${c.label} (${c.runs.length} seed${c.runs.length === 1 ? '' : 's'})`, color);
    }
    return panel.svg(`learning curves on ${task}`);
  });
}
