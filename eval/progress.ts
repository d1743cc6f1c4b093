/**
 * The evaluation's progress on stderr (src/progress.ts): a bar on a TTY, otherwise one plain line
 * at most every `intervalMs` (default 5 s) while episodes finish, and none for a run shorter than that.
 */
import {
  type ProgressDisplay,
  type ProgressMode,
  type ProgressView,
  createProgressDisplay,
  resolveProgressMode,
} from '../src/progress.js';
import type { Progress } from './options.js';

export { type ProgressMode, resolveProgressMode };

export type ProgressReporter = ProgressDisplay<Progress>;

/** Time between two plain lines (ms). */
const LINE_INTERVAL_MS = 5000;

const thousands = (x: number): string => Math.round(x).toLocaleString('en-US');

function rate(p: Progress): number {
  return p.elapsedSeconds > 0 ? p.envSteps / p.elapsedSeconds : 0;
}

const EVAL_VIEW: ProgressView<Progress> = {
  value: (p) => p.done,
  total: (p) => p.total,
  line(p) {
    const pct = p.total > 0 ? ((100 * p.done) / p.total).toFixed(0) : '100';
    return (
      `[ofql-eval] ${p.done}/${p.total} episodes (${pct}%), ${thousands(p.envSteps)} env steps, ` +
      `${thousands(rate(p))} steps/s, ${p.elapsedSeconds.toFixed(1)} s${p.retries ? `, ${p.retries} retried` : ''}`
    );
  },
  barFormat: 'ofql-eval |{bar}| {value}/{total} episodes | {rate} env steps/s | {duration_formatted} elapsed, ETA {eta_formatted}',
  payload: (p) => ({ rate: thousands(rate(p)) }),
  barOptions: { clearOnComplete: true, etaBuffer: 50 },
};

export function createProgressReporter(
  mode: ProgressMode,
  stream: NodeJS.WriteStream = process.stderr,
  intervalMs = LINE_INTERVAL_MS,
): ProgressReporter {
  return createProgressDisplay(mode, EVAL_VIEW, { lineIntervalMs: intervalMs, quietStart: true, closingLine: true }, { stream });
}
