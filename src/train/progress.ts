/**
 * Training progress on stderr (src/progress.ts): a bar on a TTY (steps, steps/s, running losses,
 * ETA), otherwise plain lines (one per metrics line, at most one every `minIntervalMs`, plus a
 * heartbeat), for logs.
 */
import { type ProgressMode, type ProgressView, createProgressDisplay } from '../progress.js';

/** The --progress modes (src/progress.ts). */
export type TrainProgressMode = ProgressMode;

export interface TrainProgress {
  step: number;
  totalSteps: number;
  /** Steps per second over the recent window (this session). */
  stepsPerSecond: number;
  bcLoss: number;
  qLoss: number;
  criticLoss: number;
  /** Seconds since this session started. */
  elapsedSeconds: number;
}

export interface TrainProgressReporter {
  /** Called after every step (cheap; the reporter throttles). `logged`: a metrics line was just written. */
  update(p: TrainProgress, logged: boolean): void;
  /** Print a message without breaking the bar. */
  log(message: string): void;
  stop(): void;
}

/** Least time between two plain lines (ms). */
const MIN_LINE_INTERVAL_MS = 2000;
/** A plain line at least this often, metrics line or not (ms). */
const HEARTBEAT_MS = 60_000;
/** Least time between two bar redraws between metrics lines (ms). */
const BAR_INTERVAL_MS = 200;

/** `x` to `digits` significant digits (NaN and infinities as themselves). */
const significant = (x: number, digits = 4): string => (Number.isFinite(x) ? x.toPrecision(digits) : String(x));

function eta(p: TrainProgress): string {
  if (!(p.stepsPerSecond > 0)) return '?';
  const s = (p.totalSteps - p.step) / p.stepsPerSecond;
  if (s < 90) return `${s.toFixed(0)} s`;
  if (s < 5400) return `${(s / 60).toFixed(1)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

const TRAIN_VIEW: ProgressView<TrainProgress> = {
  value: (p) => p.step,
  total: (p) => p.totalSteps,
  final: (p) => p.step >= p.totalSteps,
  line(p) {
    const pct = ((100 * p.step) / Math.max(1, p.totalSteps)).toFixed(1);
    return (
      `[ofql-eval train] step ${p.step}/${p.totalSteps} (${pct}%) | ${significant(p.stepsPerSecond, 3)} steps/s | ` +
      `bc ${significant(p.bcLoss)} q ${significant(p.qLoss)} critic ${significant(p.criticLoss)} | ETA ${eta(p)}`
    );
  },
  barFormat: 'train |{bar}| {value}/{total} steps | {sps} steps/s | bc {bc} q {q} critic {critic} | ETA {etaText}',
  payload: (p) => ({ sps: significant(p.stepsPerSecond, 3), bc: significant(p.bcLoss), q: significant(p.qLoss), critic: significant(p.criticLoss), etaText: eta(p) }),
  barOptions: { clearOnComplete: false, fps: 5 },
};

export function createTrainProgress(
  mode: TrainProgressMode,
  stream: NodeJS.WriteStream = process.stderr,
  options: { minIntervalMs?: number; heartbeatMs?: number; sink?: (message: string) => void } = {},
): TrainProgressReporter {
  const pacing = {
    lineIntervalMs: options.minIntervalMs ?? MIN_LINE_INTERVAL_MS,
    heartbeatMs: options.heartbeatMs ?? HEARTBEAT_MS,
    barIntervalMs: BAR_INTERVAL_MS,
  };
  return createProgressDisplay(mode, TRAIN_VIEW, pacing, { stream, sink: options.sink });
}
