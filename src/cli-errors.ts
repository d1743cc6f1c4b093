/**
 * What every ofql-eval command shares: the exit codes, the usage error (exit 2, "Run 'ofql-eval
 * --help'"), and the two output streams (results on stdout, messages on stderr).
 */
import { OptionError } from './option-error.js';

export { OptionError };

/** Exit codes of every command (README, "Exit codes"). */
export const EXIT = {
  ok: 0,
  /** The run failed (policy error, worker crashed twice, an output could not be written), or merge refused its inputs. */
  failed: 1,
  /** A bad command line, including an output path that cannot be written (checked before any work). */
  usage: 2,
} as const;

/**
 * A command line no command accepts (exit 2). An OptionError, the class of the library's own checks
 * of user-given values (evaluate's options, sampler settings, output paths), which every command
 * reports as a usage error; a plain RangeError is a bug and is not.
 */
export class UsageError extends OptionError {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** An error class a command expects, and the exit code it maps to (or a function of the error). */
export type KnownError = readonly [new (...args: never[]) => Error, number | ((e: Error) => number)];

/**
 * The one place a command turns an expected error into "<command>: error: <message>" on stderr and
 * an exit code. Returns false for any other error, which the caller rethrows (a bug is never
 * reported as a bad flag).
 */
export function reportKnownError(command: string, err: unknown, known: readonly KnownError[], setExitCode: (code: number) => void): boolean {
  const hit = known.find(([cls]) => err instanceof cls);
  if (!hit) return false;
  const e = err as Error;
  process.stderr.write(`${command}: error: ${e.message}\n`);
  setExitCode(typeof hit[1] === 'number' ? hit[1] : hit[1](e));
  return true;
}

export const write = (s: string): void => {
  process.stdout.write(s);
};

export const warn = (s: string): void => {
  process.stderr.write(s.endsWith('\n') ? s : `${s}\n`);
};

/** The exit status of a run stopped by a signal: 143 for SIGTERM, 130 for SIGINT or an abort without a signal (128 + signal number, as shells report). */
export function exitCodeOfSignal(sig: NodeJS.Signals | null): number {
  return sig === 'SIGTERM' ? 143 : 130;
}

/** What abortOnSignals returns: the first signal seen (null: none), and the listener removal. */
export interface SignalStop {
  readonly received: () => NodeJS.Signals | null;
  dispose(): void;
}

/**
 * The first SIGINT / SIGTERM calls `onFirst` and aborts `controller` (the command then stops
 * cleanly and writes what it has); a second one calls `onSecond` and exits at once with the
 * signal's status. `dispose()` removes the listeners (call it in a finally).
 */
export function abortOnSignals(
  controller: AbortController,
  onFirst: (sig: NodeJS.Signals) => void = () => undefined,
  onSecond: (sig: NodeJS.Signals) => void = () => undefined,
): SignalStop {
  let first: NodeJS.Signals | null = null;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (first === null) {
      first = sig;
      onFirst(sig);
      controller.abort();
    } else {
      onSecond(sig);
      process.exit(exitCodeOfSignal(sig));
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    received: () => first,
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/** A flag that must be one integer >= min (UsageError naming the flag otherwise). `flag` includes the dashes. */
export function checkIntFlag(v: unknown, flag: string, min: number): void {
  if (Array.isArray(v)) throw new UsageError(`${flag} was given more than once`);
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
    throw new UsageError(`${flag} must be an integer >= ${min}, got ${typeof v === 'number' && Number.isNaN(v) ? 'something that is not a number' : String(v)}`);
  }
}
