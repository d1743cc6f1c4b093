#!/usr/bin/env node
/**
 * ofql-eval command line: evaluate a policy (default command), merge shard results, list envs.
 *
 * Exit codes: 0 success; 1 the run failed (policy error, worker crashed twice; the partial
 * result is still written), the --json file could not be written (the document went to the
 * fallback file named on stderr), or merge refused its inputs; 2 bad command line, including an
 * output path that cannot be written (checked before workers start); 130 / 143 stopped by SIGINT
 * (Ctrl-C) / SIGTERM (partial result written).
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { DEFAULT_BATCH_SIZE, DEFAULT_EPISODES, DEFAULT_POLICY_LOAD_TIMEOUT_MS, DEFAULT_POLICY_TIMEOUT_MS, packageVersion } from '../eval/evaluate.js';
import { formatSummary } from '../eval/format.js';
import { MergeError, mergeResults } from '../eval/merge.js';
import { defaultWorkerCount } from '../eval/pool.js';
import { type ProgressMode } from '../eval/progress.js';
import { ResultFormatError, readResultFile, toJson } from '../eval/result.js';
import { MAX_RECORDED_EPISODES } from '../eval/recording.js';
import { checkNotAnInput, checkOutputFile, writeOutputReported } from './output-path.js';
import { parseShard } from '../eval/schedule.js';
import { EnvListError, SUITES } from '../eval/suites.js';
import { DEFAULT_MAX_EPISODE_STEPS } from './make-env.js';
import { PolicyLoadError } from './policy/errors.js';
import { BUILTIN_POLICY_NAMES } from './policy/load.js';
import { POLICY_KIND_OPTIONS, PolicyArgsError, checkPolicyArgs, givenKindFlags, preparePolicy } from './policy/kinds.js';
import { listEnvs } from './registry.js';
import { describeResolution } from './checkpoint/run-dir.js';
import { baselineCommand, regressCommand } from './commands/regress.js';
import { trainCommand } from './commands/train.js';
import { collectCommand } from './commands/collect.js';
import { exportOnnxCommand } from './commands/export-onnx.js';
import { reportCommand } from './commands/report.js';
import { viewCommand } from './commands/view.js';
import { runEvaluationForCli } from './commands/run-evaluation.js';
import { runSeeds, splitCheckpoints } from './commands/run-seeds.js';

const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;

class UsageError extends Error {}

const write = (s: string): void => {
  process.stdout.write(s);
};
const warn = (s: string): void => {
  process.stderr.write(s.endsWith('\n') ? s : `${s}\n`);
};

function usageFail(message: string): never {
  throw new UsageError(message);
}

interface RunArgs {
  env?: string[];
  policy?: string;
  ckpt?: string;
  episodes: number;
  seed: number;
  workers: number;
  'batch-size': number;
  'max-episode-steps': number;
  'policy-timeout': number;
  'policy-load-timeout': number;
  record: number;
  shard?: string;
  json?: string;
  progress: ProgressMode;
}

/** The policy part of the command line (src/policy/kinds.ts). */
function policyArgs(a: { policy?: string; ckpt?: string; env?: string[] }): { policy?: string; ckpt?: string; env?: string[]; flags: Record<string, unknown> } {
  return { policy: a.policy, ckpt: a.ckpt, env: a.env, flags: givenKindFlags(a as unknown as Record<string, unknown>) };
}

/** The evaluation settings of the command line (everything but the policy, envs and shard). */
function runSettingsOf(args: RunArgs, argv: string[]) {
  return {
    episodes: args.episodes,
    seed: args.seed,
    workers: args.workers,
    batchSize: args['batch-size'],
    maxEpisodeSteps: args['max-episode-steps'],
    policyTimeoutMs: args['policy-timeout'],
    policyLoadTimeoutMs: args['policy-load-timeout'],
    record: args.record,
    command: ['ofql-eval', ...argv],
    progress: args.progress,
    name: 'ofql-eval',
    stopMessage: 'stopping the workers and writing the partial result',
  };
}

async function runCommand(args: RunArgs, argv: string[]): Promise<number> {
  const ckpts = splitCheckpoints(args.ckpt);
  if (ckpts !== null) return runSeedsCommand(args, argv, ckpts);
  // The destination first: a path that cannot be written must not cost the whole evaluation.
  if (args.json !== undefined) checkOutputFile(args.json, '--json');
  // Every kind of policy (built-in, plug-in, OFQL checkpoint, ...) is checked here, before workers start.
  const prepared = await preparePolicy(policyArgs(args));
  if (prepared.env === undefined) throw new UsageError('Missing required argument: env (give the environment(s), e.g. --env hopper-medium-v2)');
  const chosen = prepared.ckpt ? describeResolution(prepared.ckpt) : null;
  if (chosen !== null) warn(`ofql-eval: --ckpt ${chosen}`);
  const { doc, failed, signal: signalName } = await runEvaluationForCli({
    env: prepared.env,
    policy: prepared.ref,
    // The directory the policy kind resolved and checked (a run's `latest` may move meanwhile).
    ckpt: prepared.ckpt?.dir ?? args.ckpt,
    ckptGiven: args.ckpt,
    ...runSettingsOf(args, argv),
    shard: args.shard ?? null,
  });
  // The summary before the file: if the write still fails (full disk), the numbers are on screen.
  write(formatSummary(doc));
  let written = true;
  if (args.json) {
    written = writeOutputReported('ofql-eval', 'result', args.json, toJson(doc), warn);
    if (written) warn(`ofql-eval: wrote ${doc.complete ? '' : 'PARTIAL '}result to ${args.json}`);
  }
  if (failed !== null) {
    warn(`ofql-eval: error: ${failed}`);
    return EXIT_FAILED;
  }
  if (doc.interrupted) return signalName === 'SIGTERM' ? 143 : 130;
  return written ? EXIT_OK : EXIT_FAILED;
}

/** `--ckpt a,b,c`: one result per checkpoint on one pool (src/commands/run-seeds.ts). */
async function runSeedsCommand(args: RunArgs, argv: string[], ckpts: string[]): Promise<number> {
  if (args.shard !== undefined) throw new UsageError('--shard takes one checkpoint; run each of several --ckpt separately');
  const { failed, signal } = await runSeeds(
    runSettingsOf(args, argv),
    policyArgs(args),
    ckpts,
    args.json,
    warn,
  );
  if (failed !== null) {
    warn(`ofql-eval: error: ${failed}`);
    return EXIT_FAILED;
  }
  if (signal !== null) return signal === 'SIGTERM' ? 143 : 130;
  return EXIT_OK;
}

function mergeCommand(args: { files: string[]; json?: string; 'allow-incomplete': boolean }, argv: string[]): number {
  if (args.json !== undefined) {
    // Writing over a shard would lose it silently.
    checkNotAnInput(args.json, '--json', args.files.map((f) => ['merge input', f] as const));
    checkOutputFile(args.json, '--json');
  }
  const inputs = args.files.map((file) => ({ file, doc: readResultFile(file) }));
  const doc = mergeResults(inputs, { allowIncomplete: args['allow-incomplete'], command: ['ofql-eval', ...argv] });
  write(formatSummary(doc));
  if (args.json) {
    if (!writeOutputReported('ofql-eval merge', 'merged result', args.json, toJson(doc), warn)) return EXIT_FAILED;
    warn(`ofql-eval: merged ${inputs.length} files into ${args.json}${doc.complete ? '' : ' (INCOMPLETE)'}`);
  }
  return doc.complete || args['allow-incomplete'] ? EXIT_OK : EXIT_FAILED;
}

function listCommand(): number {
  write('Suites (--env NAME):\n');
  for (const [name, ids] of Object.entries(SUITES)) write(`  ${name}: ${ids.join(', ')}\n`);
  write('\nSimulated environments (--env ID):\n');
  for (const id of listEnvs({ simulated: true })) write(`  ${id}\n`);
  write(`\nBuilt-in policies (--policy NAME): ${BUILTIN_POLICY_NAMES.join(', ')}\n`);
  return EXIT_OK;
}

const INT_OPTIONS: [keyof RunArgs, number][] = [
  ['episodes', 1],
  ['seed', 0],
  ['workers', 1],
  ['batch-size', 1],
  ['max-episode-steps', 1],
  ['policy-timeout', 0],
  ['policy-load-timeout', 0],
  ['record', 0],
];

export async function main(argv: string[] = hideBin(process.argv)): Promise<number> {
  let exitCode = EXIT_OK;
  const cores = defaultWorkerCount();
  const parser = yargs(argv)
    .scriptName('ofql-eval')
    .parserConfiguration({ 'camel-case-expansion': false, 'strip-aliased': true })
    .usage(
      [
        'Evaluate an offline-RL policy in MuJoCo (WebAssembly) with D4RL-normalised scores, in parallel.',
        '',
        'Usage:',
        '  $0 --env <ids|suite> --policy <random|zero|./policy.mjs> [options]',
        '  $0 merge <shard.json...> --json <all.json>',
        '  $0 list',
        '  $0 baseline (--results <r.json> | --env ... --policy ...) --out <baseline.json>',
        '  $0 regress --baseline <baseline.json> (--results <new.json> | --ckpt <dir> ...) [--junit r.xml]',
        '  $0 collect --env <id> (--policy <p> | --ckpt <ckpt>) --steps <n> --out <f.hdf5>',
      ].join('\n'),
    )
    .command(
      ['run', '$0'],
      'Evaluate a policy (the default command)',
      (y) =>
        y
          .option('env', {
            alias: 'e',
            type: 'string',
            array: true,
            describe: `Env id(s), comma-separated, or a suite (${Object.keys(SUITES).join(', ')}); see 'ofql-eval list'`,
          })
          .option('policy', {
            alias: 'p',
            type: 'string',
            describe: `Built-in (${BUILTIN_POLICY_NAMES.join(', ')}), 'ofql' (an OFQL checkpoint directory, or a PyTorch actor .pth / .pt / .safetensors, given by --ckpt; the default when only --ckpt is given) or path to an ES module whose default export is async (spec) => ({ act(obs, n) })`,
          })
          .option('ckpt', {
            type: 'string',
            describe:
              'Checkpoint passed to the policy factory as spec.ckpt (absolute path); alone: an OFQL checkpoint directory (--env defaults to its envId), ' +
              'a training run directory (its newest checkpoint; <run>@N: step N; a,b,c: several checkpoints = seeds, one pool, one result each), or a PyTorch OFQL actor state dict actor.pth / .pt / .safetensors (read without executing anything; see docs/pytorch-checkpoints.md)',
          })
          .options(POLICY_KIND_OPTIONS)
          .option('episodes', { alias: 'n', type: 'number', default: DEFAULT_EPISODES, describe: 'Episodes per environment (whole run, all shards)' })
          .option('seed', { alias: 's', type: 'number', default: 0, describe: 'Run seed; episode i resets with deriveSeed(seed, i)' })
          .option('workers', {
            alias: 'w',
            type: 'number',
            default: cores,
            defaultDescription: `available cores (${cores})`,
            describe: 'Worker threads; results do not depend on it',
          })
          .option('batch-size', {
            type: 'number',
            default: DEFAULT_BATCH_SIZE,
            describe: 'Environments stepped together per worker = rows per policy call',
          })
          .option('max-episode-steps', {
            type: 'number',
            default: DEFAULT_MAX_EPISODE_STEPS,
            describe: 'Episode time limit; anything but 1000 is NOT comparable with D4RL scores (for quick tests)',
          })
          .option('record', {
            type: 'number',
            default: 0,
            describe: `Keep the trajectories of the first N episodes of each env in the result (for 'ofql-eval view'; at most ${MAX_RECORDED_EPISODES})`,
          })
          .option('policy-timeout', {
            type: 'number',
            default: DEFAULT_POLICY_TIMEOUT_MS,
            describe: 'Fail the run if one act() call takes longer (ms; 0 = no limit)',
          })
          .option('policy-load-timeout', {
            type: 'number',
            default: DEFAULT_POLICY_LOAD_TIMEOUT_MS,
            describe: "Fail the run if the policy's factory (per worker and env) takes longer (ms; 0 = no limit)",
          })
          .option('shard', {
            type: 'string',
            describe: "Run only share i of n (0 <= i < n), e.g. 0/4; combine with 'ofql-eval merge'",
          })
          .option('json', { alias: 'o', type: 'string', describe: 'Write the result (schema eval/RESULT_FORMAT.md) to this file; with several --ckpt a,b,c: a directory, one <checkpoint>.json each' })
          .option('progress', {
            choices: ['auto', 'bar', 'lines', 'off'] as const,
            default: 'auto' as const,
            describe: 'Progress on stderr: bar on a TTY, plain lines (every 5 s) otherwise',
          })
          .check((parsed) => {
            const a = parsed as unknown as RunArgs; // the kind options' index signature hides the named flags' types
            for (const [name, min] of INT_OPTIONS) {
              const v = (a as unknown as Record<string, unknown>)[name];
              if (Array.isArray(v)) usageFail(`--${name} was given more than once`);
              if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
                usageFail(`--${name} must be an integer >= ${min}, got ${Number.isNaN(v) ? 'something that is not a number' : String(v)}`);
              }
            }
            for (const name of ['policy', 'ckpt', 'shard', 'json'] as const) {
              if (Array.isArray(a[name])) usageFail(`--${name} was given more than once`);
            }
            if (a.shard !== undefined) {
              try {
                parseShard(a.shard);
              } catch (err) {
                usageFail((err as Error).message);
              }
            }
            if (a.env !== undefined && a.env.some((e) => typeof e !== 'string' || e.trim() === '')) usageFail('--env needs a value');
            const policyProblem = checkPolicyArgs(policyArgs(a));
            if (policyProblem !== null) usageFail(policyProblem);
            return true;
          })
          .example('$0 -e hopper-medium-v2 -p random -o out.json', '150 random-policy episodes')
          .example('$0 -e d4rl-locomotion -p ./pol.mjs --ckpt ckpts/', 'the 9-task D4RL table')
          .example('$0 -e hopper-medium-v2 -p ./pol.mjs --shard 1/4 -o s1.json', 'the 2nd of 4 shards')
          .example('$0 -e hopper-medium-v2 --ckpt actor.pth --critic critic.pth --sampler qgbs', 'a PyTorch OFQL agent')
          .epilogue(
            'Returns are undiscounted sums of rewards; normalised score = 100 * (R - REF_MIN) / (REF_MAX - REF_MIN) ' +
              '(D4RL constants); std is the sample std (ddof=1); the 95% CI is mean +- t_{0.975,n-1} * std / sqrt(n). ' +
              'Ctrl-C writes the partial result (complete: false).',
          ),
      async (a) => {
        exitCode = await runCommand(a as unknown as RunArgs, argv);
      },
    )
    .command(
      'merge <files..>',
      'Merge shard results into the result of the whole run',
      (y) =>
        y
          .positional('files', { type: 'string', array: true, demandOption: true, describe: 'Result files of the shards' })
          .option('json', { alias: 'o', type: 'string', describe: 'Write the merged result here' })
          .option('allow-incomplete', {
            type: 'boolean',
            default: false,
            describe: 'Write a result with missing episodes (complete: false) instead of failing',
          })
          .example('$0 merge s0.json s1.json s2.json s3.json -o all.json', 'the whole run'),
      (a) => {
        exitCode = mergeCommand(a as unknown as { files: string[]; json?: string; 'allow-incomplete': boolean }, argv);
      },
    )
    .command('list', 'List environments, suites and built-in policies', {}, () => {
      exitCode = listCommand();
    })
    .command(baselineCommand(argv, (code) => (exitCode = code)))
    .command(regressCommand(argv, (code) => (exitCode = code)))
    .command(trainCommand((code) => (exitCode = code)))
    .command(collectCommand((code) => (exitCode = code)))
    .command(exportOnnxCommand((code) => (exitCode = code)))
    .command(reportCommand((code) => (exitCode = code)))
    .command(viewCommand((code) => (exitCode = code)))
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
    if (err instanceof UsageError || err instanceof PolicyArgsError || err instanceof EnvListError || err instanceof RangeError) {
      warn(`ofql-eval: error: ${err.message}\nRun 'ofql-eval --help' for usage.`);
      return EXIT_USAGE;
    }
    if (err instanceof PolicyLoadError) {
      warn(`ofql-eval: error: ${err.message}`);
      return EXIT_USAGE;
    }
    if (err instanceof MergeError || err instanceof ResultFormatError) {
      warn(`ofql-eval: merge: ${err.message}`);
      return EXIT_FAILED;
    }
    warn(`ofql-eval: error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return EXIT_FAILED;
  }
  return exitCode;
}

process.exitCode = await main();
