/**
 * What the hand-rolled script command lines share (scripts/fidelity.ts, toy.ts, bench-env.ts):
 * strict node:util parsing where a bad flag is a usage error (exit 2), `--help`, and integer flags.
 */
import os from 'node:os';
import { parseArgs, type ParseArgsConfig } from 'node:util';

export type FlagValues = Record<string, string | boolean | undefined>;

/** Reports `msg` and exits 2. */
export type UsageFail = (msg: string) => never;

/** A usage error of script `name`: the message, then `usage`, on stderr; exit 2. */
export function usageFail(name: string, usage: string): UsageFail {
  return (msg) => {
    process.stderr.write(`${name}: ${msg}\n${usage}`);
    process.exit(2);
  };
}

/** Parse `argv` strictly (no positionals); an unknown or malformed flag goes to `fail`. */
export function parseFlags(argv: string[], options: NonNullable<ParseArgsConfig['options']>, fail: UsageFail): FlagValues {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values as FlagValues;
  } catch (err) {
    return fail(err instanceof Error ? err.message : String(err));
  }
}

/** Print `usage` on stdout and exit 0 when --help was given. */
export function exitOnHelp(values: FlagValues, usage: string): void {
  if (!values.help) return;
  process.stdout.write(usage);
  process.exit(0);
}

/** A flag of decimal digits naming an integer >= min (`def` when absent); `fail` otherwise. */
export function intFlag(v: string | boolean | undefined, name: string, def: number, min: number, fail: UsageFail): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (typeof v !== 'string' || !/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min) {
    fail(`--${name} must be an integer >= ${min}, got '${String(v)}'`);
  }
  return n;
}

/** One line about the machine, for benchmark and fidelity reports. */
export function machineLine(cpus = os.cpus()): string {
  return `${cpus[0]?.model?.trim() ?? 'unknown CPU'}, ${cpus.length} cores, ${os.platform()} ${os.release()} ${os.arch()}`;
}
