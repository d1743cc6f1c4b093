/**
 * Training metrics: the window of per-step metrics that one line of metrics.jsonl averages
 * (carried in checkpoints, so a resumed run writes the same lines), the line itself, the run's
 * clock, and the progress display fed after every step.
 */
import { performance } from 'node:perf_hooks';
import type { OfqlMetrics } from '../ofql/index.js';
import { TrainError } from './errors.js';
import type { JsonlWriter } from './jsonl.js';
import type { TrainProgressReporter } from './progress.js';

export interface MetricsLine {
  /** Gradient steps done (this line covers steps step-count+1 .. step). */
  step: number;
  /** Steps averaged in this line. */
  count: number;
  bcLoss: number;
  qLoss: number;
  actorLoss: number;
  criticLoss: number;
  actorGradNorm: number;
  criticGradNorm: number;
  targetQMean: number;
  /** Share of one-step action entries at the action bound (OfqlMetrics.actionAtBound); null in BC runs. */
  actionAtBound: number | null;
  /** Training throughput over this line's steps (this session; excludes nothing). */
  stepsPerSec: number;
  /** Seconds of training wall time since the run's first start (summed over resumed sessions). */
  wallTime: number;
  /** ISO timestamp. */
  time: string;
}

/** Means accumulated over the current metrics window (restored on resume). */
const WINDOW_KEYS = ['bcLoss', 'qLoss', 'actorLoss', 'criticLoss', 'actorGradNorm', 'criticGradNorm', 'targetQMean', 'actionAtBound'] as const;
/** Window keys a checkpoint may lack (added later); a resumed window starts them at 0. */
const WINDOW_KEYS_ADDED = new Set<string>(['actionAtBound']);
type WindowKey = (typeof WINDOW_KEYS)[number];
export interface WindowState {
  count: number;
  sums: Record<WindowKey, number>;
}
export const emptyWindow = (): WindowState => ({ count: 0, sums: Object.fromEntries(WINDOW_KEYS.map((k) => [k, 0])) as Record<WindowKey, number> });

/** The window as trainer-state.json holds it (a copy). */
export const windowToJson = (w: WindowState): { count: number; sums: Record<WindowKey, number> } => ({ count: w.count, sums: { ...w.sums } });

/** The window trainer-state.json (`statePath`) holds, checked. */
export function windowFromJson(json: unknown, statePath: string): WindowState {
  const w = json as WindowState | undefined;
  if (!w || typeof w.count !== 'number' || !WINDOW_KEYS.every((k) => typeof w.sums?.[k] === 'number' || (WINDOW_KEYS_ADDED.has(k) && w.sums?.[k] === undefined))) {
    throw new TrainError({ code: 'resume', file: statePath, field: 'window', detail: 'missing or malformed metrics window' });
  }
  return { count: w.count, sums: { ...emptyWindow().sums, ...w.sums } };
}

/** Seconds of the run: training wall time over all sessions, and the gradient steps' own time in this one. */
export class RunClock {
  private readonly sessionStart = performance.now();
  /** Seconds spent in agent.trainStep this session (no checkpoint / eval time). */
  trainSeconds = 0;
  constructor(readonly elapsedBefore: number) {}
  /** Training wall time since the run's first start (summed over resumed sessions). */
  wallTime(): number {
    return this.elapsedBefore + (performance.now() - this.sessionStart) / 1000;
  }
  /** Run `step`, adding its time to trainSeconds. */
  timed<T>(step: () => T): T {
    const t0 = performance.now();
    const result = step();
    this.trainSeconds += (performance.now() - t0) / 1000;
    return result;
  }
}

/** The losses the progress display shows. */
type Shown = Pick<MetricsLine, 'bcLoss' | 'qLoss' | 'criticLoss'>;
/** Steps before a window's own rate is shown instead of the last line's. */
const MIN_STEPS_FOR_RATE = 5;
/** Guards the rate against a zero interval. */
const MIN_SECONDS = 1e-9;

/**
 * After each step: add its metrics to the window, write a metrics.jsonl line every `logEvery`
 * steps (then `onLine`), and update the progress display.
 */
export class MetricsRecorder {
  private windowStart = performance.now();
  private sessionSteps = 0;
  private lastSps = 0;
  private lastShown: Shown = { bcLoss: NaN, qLoss: NaN, criticLoss: NaN };

  constructor(
    public window: WindowState,
    private readonly o: {
      file: JsonlWriter;
      progress: TrainProgressReporter;
      clock: RunClock;
      logEvery: number;
      totalSteps: number;
      /** BC runs (no critic) log actionAtBound as null. */
      trainCritic: boolean;
      onLine: () => void;
    },
  ) {}

  /** Record the metrics `m` of the step that made `done` steps. */
  record(done: number, m: OfqlMetrics): void {
    const w = this.window;
    for (const k of WINDOW_KEYS) w.sums[k] += Number.isNaN(m[k]) ? 0 : m[k]; // actionAtBound is NaN in BC
    w.count += 1;
    this.sessionSteps += 1;
    const logged = done % this.o.logEvery === 0;
    if (logged) this.writeLine(done);
    const sps = this.sessionSteps >= MIN_STEPS_FOR_RATE ? this.rate(performance.now()) : this.lastSps;
    const shown = this.window.count > 0 && !logged ? { bcLoss: this.mean('bcLoss'), qLoss: this.mean('qLoss'), criticLoss: this.mean('criticLoss') } : this.lastShown;
    const { clock } = this.o;
    this.o.progress.update({ step: done, totalSteps: this.o.totalSteps, stepsPerSecond: sps, ...shown, elapsedSeconds: clock.wallTime() - clock.elapsedBefore }, logged);
  }

  private mean(k: WindowKey): number {
    return this.window.sums[k] / this.window.count;
  }

  private rate(now: number): number {
    return this.sessionSteps / Math.max(MIN_SECONDS, (now - this.windowStart) / 1000);
  }

  private writeLine(done: number): void {
    const now = performance.now();
    this.lastSps = this.rate(now);
    const line: MetricsLine = {
      step: done,
      count: this.window.count,
      bcLoss: this.mean('bcLoss'),
      qLoss: this.mean('qLoss'),
      actorLoss: this.mean('actorLoss'),
      criticLoss: this.mean('criticLoss'),
      actorGradNorm: this.mean('actorGradNorm'),
      criticGradNorm: this.mean('criticGradNorm'),
      targetQMean: this.mean('targetQMean'),
      actionAtBound: this.o.trainCritic ? this.mean('actionAtBound') : null,
      stepsPerSec: this.lastSps,
      wallTime: this.o.clock.wallTime(),
      time: new Date().toISOString(),
    };
    this.o.file.append(line as unknown as Record<string, unknown>);
    this.o.onLine();
    this.lastShown = line;
    this.window = emptyWindow();
    this.windowStart = now;
    this.sessionSteps = 0;
  }
}
