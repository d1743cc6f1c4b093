/**
 * Progress display on stderr: a cli-progress bar on a TTY, otherwise one plain line at most
 * every `intervalMs` (default 5 s), for CI logs and `kubectl logs`.
 */
import cliProgress from 'cli-progress';
import type { Progress } from './evaluate.js';

export type ProgressMode = 'auto' | 'bar' | 'lines' | 'off';

/** What `auto` means on this stream: a bar on a terminal, plain lines otherwise (every command's --progress). */
export function resolveProgressMode(mode: ProgressMode, stream: NodeJS.WriteStream = process.stderr): Exclude<ProgressMode, 'auto'> {
  return mode === 'auto' ? (stream.isTTY ? 'bar' : 'lines') : mode;
}

export interface ProgressReporter {
  update(p: Progress): void;
  /** Final update; removes the bar. */
  stop(p?: Progress): void;
  /** Print a message without breaking the bar. */
  log(message: string): void;
}

export function createProgressReporter(
  mode: ProgressMode,
  stream: NodeJS.WriteStream = process.stderr,
  intervalMs = 5000,
): ProgressReporter {
  const resolved = resolveProgressMode(mode, stream);
  if (resolved === 'off') return { update() {}, stop() {}, log: (m) => stream.write(`${m}\n`) };
  if (resolved === 'lines') return new LineReporter(stream, intervalMs);
  return new BarReporter(stream);
}

function rate(p: Progress): number {
  return p.elapsedSeconds > 0 ? p.envSteps / p.elapsedSeconds : 0;
}

class LineReporter implements ProgressReporter {
  private last = Date.now();
  private lastDone = -1;
  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly intervalMs: number,
  ) {}
  private latest: Progress | undefined;
  update(p: Progress): void {
    this.latest = p;
    const now = Date.now();
    if (now - this.last < this.intervalMs || p.done === this.lastDone) return;
    this.write(p);
  }
  stop(p: Progress | undefined = this.latest): void {
    if (p && p.done !== this.lastDone && this.lastDone >= 0) this.write(p);
  }
  log(message: string): void {
    this.stream.write(`${message}\n`);
  }
  private write(p: Progress): void {
    this.last = Date.now();
    this.lastDone = p.done;
    const pct = p.total > 0 ? ((100 * p.done) / p.total).toFixed(0) : '100';
    this.stream.write(
      `[ofql-eval] ${p.done}/${p.total} episodes (${pct}%), ${Math.round(p.envSteps).toLocaleString('en-US')} env steps, ` +
        `${Math.round(rate(p)).toLocaleString('en-US')} steps/s, ${p.elapsedSeconds.toFixed(1)} s${p.retries ? `, ${p.retries} retried` : ''}\n`,
    );
  }
}

class BarReporter implements ProgressReporter {
  private readonly bar: cliProgress.SingleBar;
  private started = false;
  private latest: Progress | undefined;
  constructor(stream: NodeJS.WriteStream) {
    this.bar = new cliProgress.SingleBar(
      {
        stream,
        format: 'ofql-eval |{bar}| {value}/{total} episodes | {rate} env steps/s | {duration_formatted} elapsed, ETA {eta_formatted}',
        hideCursor: true,
        clearOnComplete: true,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
  }
  update(p: Progress): void {
    this.latest = p;
    const payload = { rate: Math.round(rate(p)).toLocaleString('en-US') };
    if (!this.started) {
      this.bar.start(p.total, p.done, payload);
      this.started = true;
    } else {
      this.bar.update(p.done, payload);
    }
  }
  stop(p: Progress | undefined = this.latest): void {
    if (p && this.started) this.update(p);
    if (this.started) this.bar.stop();
  }
  log(message: string): void {
    if (this.started) {
      // cli-progress redraws the bar on the next update; write above it.
      process.stderr.write(`\r\x1b[K${message}\n`);
    } else {
      process.stderr.write(`${message}\n`);
    }
  }
}
