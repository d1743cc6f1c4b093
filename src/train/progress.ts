/**
 * Training progress on stderr: a cli-progress bar on a TTY (steps, steps/s, running losses, ETA),
 * otherwise plain lines (one per metrics line, at most one every `minIntervalMs`, plus a heartbeat),
 * for logs.
 */
import { type ProgressMode, resolveProgressMode } from '../../eval/progress.js';
import cliProgress from 'cli-progress';

/** The --progress modes (eval/progress.ts). */
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

const fmt = (x: number, digits = 4): string => (Number.isFinite(x) ? x.toPrecision(digits) : String(x));

function eta(p: TrainProgress): string {
  if (!(p.stepsPerSecond > 0)) return '?';
  const s = (p.totalSteps - p.step) / p.stepsPerSecond;
  if (s < 90) return `${s.toFixed(0)} s`;
  if (s < 5400) return `${(s / 60).toFixed(1)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

export function createTrainProgress(
  mode: TrainProgressMode,
  stream: NodeJS.WriteStream = process.stderr,
  options: { minIntervalMs?: number; heartbeatMs?: number; sink?: (message: string) => void } = {},
): TrainProgressReporter {
  const resolved = resolveProgressMode(mode, stream);
  const sink = options.sink ?? ((m: string) => void stream.write(`${m}\n`));
  if (resolved === 'off') return { update() {}, stop() {}, log: sink };
  if (resolved === 'lines') return new LineReporter(stream, options.minIntervalMs ?? 2000, options.heartbeatMs ?? 60_000, sink);
  return new BarReporter(stream, sink);
}

class LineReporter implements TrainProgressReporter {
  private last = 0;
  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly minIntervalMs: number,
    private readonly heartbeatMs: number,
    private readonly sink: (message: string) => void,
  ) {}
  update(p: TrainProgress, logged: boolean): void {
    const now = Date.now();
    const final = p.step >= p.totalSteps;
    if ((logged && (now - this.last >= this.minIntervalMs || final)) || now - this.last >= this.heartbeatMs) {
      this.last = now;
      const pct = ((100 * p.step) / Math.max(1, p.totalSteps)).toFixed(1);
      this.stream.write(
        `[ofql-eval train] step ${p.step}/${p.totalSteps} (${pct}%) | ${fmt(p.stepsPerSecond, 3)} steps/s | ` +
          `bc ${fmt(p.bcLoss)} q ${fmt(p.qLoss)} critic ${fmt(p.criticLoss)} | ETA ${eta(p)}\n`,
      );
    }
  }
  log(message: string): void {
    this.sink(message);
  }
  stop(): void {}
}

class BarReporter implements TrainProgressReporter {
  private readonly bar: cliProgress.SingleBar;
  private started = false;
  private lastDraw = 0;
  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly sink: (message: string) => void,
  ) {
    this.bar = new cliProgress.SingleBar(
      {
        stream,
        format: 'train |{bar}| {value}/{total} steps | {sps} steps/s | bc {bc} q {q} critic {critic} | ETA {etaText}',
        hideCursor: true,
        clearOnComplete: false,
        fps: 5,
      },
      cliProgress.Presets.shades_classic,
    );
  }
  update(p: TrainProgress, logged: boolean): void {
    const payload = { sps: fmt(p.stepsPerSecond, 3), bc: fmt(p.bcLoss), q: fmt(p.qLoss), critic: fmt(p.criticLoss), etaText: eta(p) };
    if (!this.started) {
      this.bar.start(p.totalSteps, p.step, payload);
      this.started = true;
      return;
    }
    const now = Date.now();
    if (logged || now - this.lastDraw > 200 || p.step >= p.totalSteps) {
      this.lastDraw = now;
      this.bar.update(p.step, payload);
    }
  }
  log(message: string): void {
    if (this.started) this.stream.write('\r\x1b[K'); // the bar redraws on its next update
    this.sink(message);
  }
  stop(): void {
    if (this.started) this.bar.stop();
    this.started = false;
  }
}
