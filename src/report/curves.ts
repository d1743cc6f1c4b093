/**
 * Learning curves from `ofql-eval train` run directories: each run's `eval.jsonl` (one line per
 * periodic evaluation: step, envId, normalizedMean, ...) becomes one seed of a curve; runs whose
 * directory names differ only in task and seed words (`hopper-medium-seed0`, `-seed1`) are seeds
 * of one family, as in runs.ts. Per step: the mean over seeds, and the range (min to max) of the
 * seeds that have that step.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { ReportInputError, familyStem, withoutSeed } from './runs.js';

export const EVAL_LOG = 'eval.jsonl';

export interface CurvePoint {
  step: number;
  mean: number;
  min: number;
  max: number;
  /** Seeds with a score at this step. */
  seeds: number;
}

export interface LearningCurve {
  label: string;
  task: string;
  runs: string[];
  points: CurvePoint[];
}

interface EvalRecord {
  step: number;
  envId: string;
  score: number;
}

/** The evaluations of one run directory (lines without a score, e.g. failed evaluations, are skipped). */
export function readEvalLog(dir: string): EvalRecord[] {
  const file = join(dir, EVAL_LOG);
  if (!existsSync(file)) throw new ReportInputError(`${file}: no such file; --train takes directories written by 'ofql-eval train' (with periodic evaluation, --eval-every)`);
  const out: EvalRecord[] = [];
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (line.trim() === '') return;
      let v: unknown;
      try {
        v = JSON.parse(line);
      } catch (e) {
        throw new ReportInputError(`${file}:${i + 1}: not JSON (${(e as Error).message})`);
      }
      const o = v as Record<string, unknown>;
      if (typeof o.step !== 'number' || typeof o.envId !== 'string') throw new ReportInputError(`${file}:${i + 1}: expected "step" (number) and "envId" (string)`);
      if (typeof o.normalizedMean === 'number' && Number.isFinite(o.normalizedMean)) out.push({ step: o.step, envId: o.envId, score: o.normalizedMean });
    });
  return out;
}

/** A run directory's family label: its name without task / seed words, else without seed words (`hopper-medium`). */
export function trainingLabel(dir: string): string {
  const name = basename(resolve(dir));
  return familyStem(name) || withoutSeed(name) || name;
}

/** Curves of these run directories, one per (family, task). */
export function learningCurves(dirs: readonly string[]): LearningCurve[] {
  const groups = new Map<string, { label: string; task: string; runs: Map<string, Map<number, number>> }>();
  for (const dir of dirs) {
    const label = trainingLabel(dir);
    for (const r of readEvalLog(dir)) {
      const key = `${label}\0${r.envId}`;
      const g = groups.get(key) ?? { label, task: r.envId, runs: new Map() };
      groups.set(key, g);
      const run = g.runs.get(dir) ?? new Map<number, number>();
      g.runs.set(dir, run);
      run.set(r.step, r.score); // a resumed run may repeat a step: the last evaluation counts
    }
  }
  return [...groups.values()].map(({ label, task, runs }) => {
    const steps = [...new Set([...runs.values()].flatMap((m) => [...m.keys()]))].sort((a, b) => a - b);
    const points = steps.map((step): CurvePoint => {
      const ys = [...runs.values()].map((m) => m.get(step)).filter((y): y is number => y !== undefined);
      return { step, mean: ys.reduce((s, y) => s + y, 0) / ys.length, min: Math.min(...ys), max: Math.max(...ys), seeds: ys.length };
    });
    return { label, task, runs: [...runs.keys()], points };
  });
}
