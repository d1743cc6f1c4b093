/**
 * The numbers of a report: per policy, the per-task mean over runs with its interval, the four
 * aggregate metrics of the run x task matrix with stratified-bootstrap intervals, the performance
 * profile, and the probability of improvement of every pair of policies (docs/report.md).
 *
 * Every interval gets its own random stream, seeded from the report seed and the names it is
 * about (policy, task), so a policy's numbers do not change when other policies join the report.
 */
import { createHash } from 'node:crypto';
import { deriveSeed } from '../rng.js';
import { PROFILE_BOOTSTRAP_REPS, bootstrapPair, bootstrapSettings, bootstrapTable, type Interval } from './bootstrap.js';
import {
  AGGREGATE_METRICS,
  type AggregateMetric,
  OPTIMALITY_GAP_THRESHOLD,
  type ScoreTable,
  aggregateInto,
  aggregateScratch,
  probabilityOfImprovement,
  scoreDistribution,
  scoreTable,
} from './metrics.js';
import type { PolicyRuns, RunCell } from './runs.js';

export const REPORT_KIND = 'ofql-eval/report';
export const REPORT_SCHEMA_VERSION = 1;
/** Points of the performance-profile grid. */
export const PROFILE_POINTS = 101;

export interface Estimate {
  point: number;
  low: number;
  high: number;
}

export interface TaskSummary {
  task: string;
  runs: number;
  /** Per-run scores (mean normalised score over each run's episodes), in input order. */
  scores: number[];
  runIds: string[];
  /** Mean over runs, with: the bootstrap interval over runs (>= 2 runs), else the run's episode t interval. */
  mean: Estimate;
  intervalKind: 'bootstrap-over-runs' | 'student-t-over-episodes' | 'none';
}

export interface PolicySummary {
  label: string;
  /** Runs (training seeds) per task: the most any task has. */
  runs: number;
  tasks: TaskSummary[];
  aggregates: Record<AggregateMetric, Estimate>;
  profile: { low: number[]; high: number[]; values: number[] };
}

export interface Comparison {
  x: string;
  y: string;
  /** Tasks both policies have (P(X > Y) averages over these). */
  tasks: string[];
  probability: Estimate;
}

export interface ReportData {
  kind: typeof REPORT_KIND;
  schemaVersion: typeof REPORT_SCHEMA_VERSION;
  settings: { reps: number; profileReps: number; seed: number; level: number; optimalityGapThreshold: number; method: string };
  /** The tau grid of every profile. */
  taus: number[];
  policies: PolicySummary[];
  comparisons: Comparison[];
}

export interface ReportOptions {
  reps?: number;
  seed: number;
  level?: number;
}

/** A 48-bit integer from the names a random stream is for. */
function streamSeed(seed: number, ...names: string[]): number {
  const h = createHash('sha256').update(names.join('\0')).digest();
  return deriveSeed(seed, h.readUIntBE(0, 6));
}

function estimate(point: number, iv: Interval | null): Estimate {
  return { point, low: iv ? iv.low : NaN, high: iv ? iv.high : NaN };
}

/** The matrix of one policy: per task the scores of its runs. */
export function policyTable(p: PolicyRuns, tasks?: string[]): ScoreTable {
  const names = tasks ?? [...p.tasks.keys()];
  return scoreTable(new Map(names.map((t) => [t, p.tasks.get(t)!.map((c) => c.score)])));
}

function summarizeTask(label: string, task: string, cells: RunCell[], opts: ReportOptions): TaskSummary {
  const scores = cells.map((c) => c.score);
  const base = { task, runs: cells.length, scores, runIds: cells.map((c) => c.run) };
  if (cells.length >= 2) {
    const table = scoreTable({ [task]: scores });
    const { point, intervals } = bootstrapTable(table, 1, (v, out) => (out[0] = meanOf(v)), { ...opts, seed: streamSeed(opts.seed, 'task', label, task) });
    return { ...base, mean: estimate(point[0], intervals[0]), intervalKind: 'bootstrap-over-runs' };
  }
  const ci = cells[0].episodeCi95;
  return { ...base, mean: estimate(scores[0], ci ? { low: ci[0], high: ci[1] } : null), intervalKind: ci ? 'student-t-over-episodes' : 'none' };
}

function meanOf(v: Float64Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i];
  return s / v.length;
}

function aggregatesOf(label: string, table: ScoreTable, opts: ReportOptions): Record<AggregateMetric, Estimate> {
  const scratch = aggregateScratch(table);
  const { point, intervals } = bootstrapTable(table, AGGREGATE_METRICS.length, (v, out) => aggregateInto(v, table.offsets, scratch, out), {
    ...opts,
    seed: streamSeed(opts.seed, 'aggregate', label),
  });
  const entries = AGGREGATE_METRICS.map((m, k) => [m, estimate(point[k], intervals[k])] as const);
  return Object.fromEntries(entries) as Record<AggregateMetric, Estimate>;
}

function profileOf(label: string, table: ScoreTable, taus: number[], opts: ReportOptions): PolicySummary['profile'] {
  const { point, intervals } = bootstrapTable(
    table,
    taus.length,
    (v, out) => {
      for (let k = 0; k < taus.length; k++) out[k] = scoreDistribution(v, taus[k]);
    },
    { ...opts, reps: Math.min(opts.reps ?? PROFILE_BOOTSTRAP_REPS, PROFILE_BOOTSTRAP_REPS), seed: streamSeed(opts.seed, 'profile', label) },
  );
  return { values: point, low: intervals.map((i) => i.low), high: intervals.map((i) => i.high) };
}

/** The tau grid: 0 (or the lowest score) to the highest score (at least 100), evenly spaced. */
export function profileTaus(policies: PolicyRuns[]): number[] {
  const all = policies.flatMap((p) => [...p.tasks.values()].flatMap((cells) => cells.map((c) => c.score)));
  const lo = Math.min(0, Math.floor(Math.min(...all)));
  const hi = Math.max(OPTIMALITY_GAP_THRESHOLD, Math.ceil(Math.max(...all)));
  return Array.from({ length: PROFILE_POINTS }, (_, k) => lo + ((hi - lo) * k) / (PROFILE_POINTS - 1));
}

function compare(x: PolicyRuns, y: PolicyRuns, opts: ReportOptions): Comparison | null {
  const tasks = [...x.tasks.keys()].filter((t) => y.tasks.has(t));
  if (tasks.length === 0) return null;
  const tx = policyTable(x, tasks);
  const ty = policyTable(y, tasks);
  const { point, interval } = bootstrapPair(tx, ty, (xs, ys) => probabilityOfImprovement(xs, tx.offsets, ys, ty.offsets), {
    ...opts,
    seed: streamSeed(opts.seed, 'poi', x.label, y.label),
  });
  return { x: x.label, y: y.label, tasks, probability: estimate(point, interval) };
}

/** All the numbers of a report for these policy families (runs.ts `groupRuns`). */
export function buildReport(policies: PolicyRuns[], opts: ReportOptions): ReportData {
  const { reps, level } = bootstrapSettings(opts);
  const o = { reps, level, seed: opts.seed };
  const taus = profileTaus(policies);
  const summaries = policies.map((p): PolicySummary => {
    const table = policyTable(p);
    return {
      label: p.label,
      runs: Math.max(...[...p.tasks.values()].map((cells) => cells.length)),
      tasks: [...p.tasks.entries()].map(([task, cells]) => summarizeTask(p.label, task, cells, o)),
      aggregates: aggregatesOf(p.label, table, o),
      profile: profileOf(p.label, table, taus, o),
    };
  });
  const comparisons: Comparison[] = [];
  for (let i = 0; i < policies.length; i++) {
    for (let j = i + 1; j < policies.length; j++) {
      const c = compare(policies[i], policies[j], o);
      if (c) comparisons.push(c);
    }
  }
  return {
    kind: REPORT_KIND,
    schemaVersion: REPORT_SCHEMA_VERSION,
    settings: { reps, profileReps: Math.min(reps, PROFILE_BOOTSTRAP_REPS), seed: opts.seed, level, optimalityGapThreshold: OPTIMALITY_GAP_THRESHOLD, method: 'stratified bootstrap, percentile intervals (rliable)' },
    taus,
    policies: summaries,
    comparisons,
  };
}
