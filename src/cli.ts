#!/usr/bin/env node
/**
 * ofql-eval command line: the commands (src/commands/*) on one yargs parser, and what a thrown
 * error means for the exit code (src/cli-errors.ts EXIT).
 *
 * Exit codes: 0 success; 1 the run failed (policy error, worker crashed twice; the partial
 * result is still written), the --json file could not be written (the document went to the
 * fallback file named on stderr), or merge refused its inputs; 2 bad command line, including an
 * output path that cannot be written (checked before workers start); 130 / 143 stopped by SIGINT
 * (Ctrl-C) / SIGTERM (partial result written).
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { packageVersion } from './package-version.js';
import { MergeError } from '../eval/merge.js';
import { ResultFormatError } from '../eval/result.js';
import { EnvListError } from './env-list.js';
import { EXIT, OptionError, UsageError, warn } from './cli-errors.js';
import { PolicyLoadError } from './policy/errors.js';
import { PolicyArgsError } from './policy/kinds.js';
import { collectCommand } from './commands/collect.js';
import { exportOnnxCommand } from './commands/export-onnx.js';
import { listCommand } from './commands/list.js';
import { mergeCommand } from './commands/merge.js';
import { baselineCommand, regressCommand } from './commands/regress.js';
import { reportCommand } from './commands/report.js';
import { runCommand } from './commands/run.js';
import { trainCommand } from './commands/train.js';
import { viewCommand } from './commands/view.js';

export async function main(argv: string[] = hideBin(process.argv)): Promise<number> {
  // `ofql-eval list | head`: a reader that stops early is not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(EXIT.ok);
    throw err;
  });
  let exitCode: number = EXIT.ok;
  const setExitCode = (code: number): void => {
    exitCode = code;
  };
  const parser = yargs(argv)
    .scriptName('ofql-eval')
    .parserConfiguration({ 'camel-case-expansion': false, 'strip-aliased': true })
    .usage(
      [
        'Evaluate an offline-RL policy in MuJoCo (WebAssembly) with D4RL-normalised scores, in parallel.',
        '',
        'Usage:',
        '  $0 --env <ids|suite> --policy <random|zero|./policy.mjs|model.onnx|py:policy.py> [options]',
        '  $0 --ckpt <checkpoint | run dir | run@N | actor.pth | a,b,c> [options]',
        '  $0 merge <shard.json...> --json <all.json>',
        '  $0 list',
        '  $0 baseline (--results <r.json> | --env ... --policy ...) --out <baseline.json>',
        '  $0 regress --baseline <baseline.json> (--results <new.json> | --ckpt <dir> ...) [--junit r.xml]',
        '  $0 collect --env <id> (--policy <p> | --ckpt <ckpt>) --steps <n> --out <f.hdf5>',
        '  $0 train --dataset <d.hdf5> --env <id> --out <run dir> [--plot]',
        '  $0 export-onnx <ckpt> -o <actor.onnx>',
        '  $0 report <result.json...> [-o <dir>]',
        '  $0 view <result.json> [-o <replay.html>]',
      ].join('\n'),
    )
    .command(runCommand(argv, setExitCode))
    .command(mergeCommand(argv, setExitCode))
    .command(listCommand(setExitCode))
    .command(baselineCommand(argv, setExitCode))
    .command(regressCommand(argv, setExitCode))
    .command(trainCommand(setExitCode))
    .command(collectCommand(setExitCode))
    .command(exportOnnxCommand(setExitCode))
    .command(reportCommand(setExitCode))
    .command(viewCommand(setExitCode))
    .strict()
    .strictOptions()
    .help('help')
    .alias('help', 'h')
    .version('version', 'Show the ofql-eval version', packageVersion())
    .wrap(Math.max(80, Math.min(120, process.stdout.columns || 120)))
    .fail((msg, err) => {
      if (err) throw err;
      throw new UsageError(msg);
    });

  try {
    await parser.parseAsync();
  } catch (err) {
    if (err instanceof UsageError || err instanceof PolicyArgsError || err instanceof EnvListError || err instanceof OptionError) {
      warn(`ofql-eval: error: ${err.message}\nRun 'ofql-eval --help' for usage.`);
      return EXIT.usage;
    }
    if (err instanceof PolicyLoadError) {
      warn(`ofql-eval: error: ${err.message}`);
      return EXIT.usage;
    }
    if (err instanceof MergeError || err instanceof ResultFormatError) {
      warn(`ofql-eval: merge: ${err.message}`);
      return EXIT.failed;
    }
    warn(`ofql-eval: error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return EXIT.failed;
  }
  return exitCode;
}

process.exitCode = await main();
