/**
 * What every script's command line shares: strict node:util parsing where a bad flag is a usage
 * error (the message and the usage on stderr, exit 2) before any work starts, `--help` / `-h`
 * (the usage on stdout, exit 0), and integer flags. test/script-args.test.ts runs every script
 * with a bad flag and with --help.
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

const HELP = { help: { type: 'boolean', short: 'h' } } as const;
type Options = NonNullable<ParseArgsConfig['options']>;
type ScriptConfig<O extends Options, P extends boolean> = { args: string[]; options: O & typeof HELP; strict: true; allowPositionals: P };

/** A script's parsed command line; `fail` reports a usage error (exit 2) for the script's own checks. */
export interface ScriptArgs<O extends Options, P extends boolean> {
  values: ReturnType<typeof parseArgs<ScriptConfig<O, P>>>['values'];
  positionals: string[];
  fail: UsageFail;
}

/**
 * The typed flags (and positionals, where `allowPositionals`) of script `name` from
 * process.argv; --help prints `usage` and exits 0, a bad flag exits 2 through `fail`. (Annotate
 * the `fail` a script narrows with, `const usage: UsageFail = parsed.fail`: TypeScript narrows
 * only through explicitly typed never-returning functions.)
 */
export function scriptArgs<const O extends Options, const P extends boolean = false>(
  name: string,
  usage: string,
  options: O,
  allowPositionals?: P,
): ScriptArgs<O, P> {
  const text = usage.endsWith('\n') ? usage : `${usage}\n`;
  const fail = usageFail(name, text);
  const config: ScriptConfig<O, P> = { args: process.argv.slice(2), options: { ...options, ...HELP }, strict: true, allowPositionals: (allowPositionals ?? false) as P };
  let parsed: ReturnType<typeof parseArgs<ScriptConfig<O, P>>>;
  try {
    parsed = parseArgs(config);
  } catch (err) {
    return fail(err instanceof Error ? err.message : String(err));
  }
  exitOnHelp(parsed.values as FlagValues, text);
  return { values: parsed.values, positionals: parsed.positionals ?? [], fail };
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
