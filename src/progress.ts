/**
 * The one progress display of the long-running commands (evaluation: eval/progress.ts, training:
 * src/train/progress.ts), on stderr: a cli-progress bar on a terminal, otherwise plain lines at a
 * bounded rate (CI logs, `kubectl logs`), or nothing. A command says what it shows (a
 * ProgressView) and how often (a ProgressPacing); choosing the mode, throttling, the bar's life
 * and writing messages past the bar are done here.
 */
import cliProgress from 'cli-progress';

export type ProgressMode = 'auto' | 'bar' | 'lines' | 'off';

/** What `auto` means on this stream: a bar on a terminal, plain lines otherwise (every command's --progress). */
export function resolveProgressMode(mode: ProgressMode, stream: NodeJS.WriteStream = process.stderr): Exclude<ProgressMode, 'auto'> {
  return mode === 'auto' ? (stream.isTTY ? 'bar' : 'lines') : mode;
}

/** What a command shows of its state `T`. */
export interface ProgressView<T> {
  /** How far along (the bar's value; a state whose value has not changed gets no new line). */
  value(p: T): number;
  /** Of how much (the bar's total). */
  total(p: T): number;
  /** The last state of the run: a marked update of it is written whatever the pacing (default: never). */
  final?(p: T): boolean;
  /** One line of the lines mode, without the newline. */
  line(p: T): string;
  /** cli-progress format: its own tokens ({bar}, {value}, {total}, {eta_formatted} ...) and those of `payload`. */
  barFormat: string;
  payload(p: T): Record<string, string>;
  /** cli-progress options besides the stream, the format and the hidden cursor. */
  barOptions?: cliProgress.Options;
}

/** How often a display writes. */
export interface ProgressPacing {
  /** Least time between two lines of marked updates (ms). */
  lineIntervalMs: number;
  /** A line at least this often, marked or not (ms; default: only marked updates). */
  heartbeatMs?: number;
  /** No line before `lineIntervalMs` has passed since the display was made, so that a short run prints none. */
  quietStart?: boolean;
  /** stop() writes the latest state when it changed since the last line (only after a first line). */
  closingLine?: boolean;
  /** Least time between two bar redraws for unmarked updates (ms; default 0: every update). */
  barIntervalMs?: number;
}

export interface ProgressDisplay<T> {
  /** A new state (cheap: the display throttles). `marked` (default true): worth a line now, e.g. a metrics line was just logged. */
  update(p: T, marked?: boolean): void;
  /** Final update (`p`, default the latest state); removes or freezes the bar. */
  stop(p?: T): void;
  /** Print a message without breaking the bar. */
  log(message: string): void;
}

export interface ProgressOutput {
  stream?: NodeJS.WriteStream;
  /** Where messages go (default: a line on `stream`). */
  sink?: (message: string) => void;
}

/** Erases the bar's line so that a message replaces it; the bar redraws below at its next update. */
const CLEAR_LINE = '\r\x1b[K';

export function createProgressDisplay<T>(
  mode: ProgressMode,
  view: ProgressView<T>,
  pacing: ProgressPacing,
  output: ProgressOutput = {},
): ProgressDisplay<T> {
  const stream = output.stream ?? process.stderr;
  const sink = output.sink ?? ((m: string) => void stream.write(`${m}\n`));
  const resolved = resolveProgressMode(mode, stream);
  if (resolved === 'off') return { update() {}, stop() {}, log: sink };
  if (resolved === 'lines') return new LineDisplay(view, pacing, stream, sink);
  return new BarDisplay(view, pacing, stream, sink);
}

/** What both modes keep: what to show, how often, and where. */
abstract class Display<T> implements ProgressDisplay<T> {
  protected latest: T | undefined;
  constructor(
    protected readonly view: ProgressView<T>,
    protected readonly pacing: ProgressPacing,
    protected readonly stream: NodeJS.WriteStream,
    private readonly sink: (message: string) => void,
  ) {}
  abstract update(p: T, marked?: boolean): void;
  abstract stop(p?: T): void;
  log(message: string): void {
    this.sink(message);
  }
}

class LineDisplay<T> extends Display<T> {
  private lastAt = this.pacing.quietStart ? Date.now() : 0;
  private written: T | undefined;
  update(p: T, marked = true): void {
    this.latest = p;
    if (this.changed(p) && this.due(p, marked)) this.write(p);
  }
  stop(p: T | undefined = this.latest): void {
    if (this.pacing.closingLine && p !== undefined && this.written !== undefined && this.changed(p)) this.write(p);
  }
  private changed(p: T): boolean {
    return this.written === undefined || this.view.value(p) !== this.view.value(this.written);
  }
  private due(p: T, marked: boolean): boolean {
    const since = Date.now() - this.lastAt;
    const final = this.view.final?.(p) ?? false;
    return (marked && (since >= this.pacing.lineIntervalMs || final)) || since >= (this.pacing.heartbeatMs ?? Infinity);
  }
  private write(p: T): void {
    this.lastAt = Date.now();
    this.written = p;
    this.stream.write(`${this.view.line(p)}\n`);
  }
}

class BarDisplay<T> extends Display<T> {
  private readonly bar = new cliProgress.SingleBar(
    { ...this.view.barOptions, stream: this.stream, format: this.view.barFormat, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  private started = false;
  private lastDrawAt = 0;
  update(p: T, marked = true): void {
    this.latest = p;
    if (!this.started) {
      this.bar.start(this.view.total(p), this.view.value(p), this.view.payload(p));
      this.started = true;
    } else if (marked || Date.now() - this.lastDrawAt > (this.pacing.barIntervalMs ?? 0) || (this.view.final?.(p) ?? false)) {
      this.draw(p);
    }
  }
  stop(p: T | undefined = this.latest): void {
    if (!this.started) return;
    if (p !== undefined) this.draw(p);
    this.bar.stop();
    this.started = false;
  }
  override log(message: string): void {
    if (this.started) this.stream.write(CLEAR_LINE);
    super.log(message);
  }
  private draw(p: T): void {
    this.lastDrawAt = Date.now();
    this.bar.update(this.view.value(p), this.view.payload(p));
  }
}
