/**
 * `ofql-eval [run]` (the default command): evaluate a policy on the envs of the command line, print
 * the summary and write the result document (`--json`); `--ckpt a,b,c` evaluates several
 * checkpoints on one pool (run-seeds.ts). Every policy kind and output path is checked before a
 * worker starts.
 */
import type { Argv, CommandModule } from 'yargs';
import { DEFAULT_BATCH_SIZE, DEFAULT_EPISODES, DEFAULT_POLICY_LOAD_TIMEOUT_MS, DEFAULT_POLICY_TIMEOUT_MS } from '../../eval/evaluate.js';
import { formatSummary } from '../../eval/format.js';
import { defaultWorkerCount } from '../../eval/pool.js';
import type { ProgressMode } from '../progress.js';
import { MAX_RECORDED_EPISODES } from '../../eval/recording.js';
import { toJson } from '../../eval/result.js';
import { parseShard } from '../../eval/schedule.js';
import { SUITES } from '../env-list.js';
import { describeResolution } from '../checkpoint/run-dir.js';
import { EXIT, UsageError, checkIntFlag, exitCodeOfSignal, warn, write } from '../cli-errors.js';
import { DEFAULT_MAX_EPISODE_STEPS } from '../make-env.js';
import { checkOutputFile, writeOutputReported } from '../output-path.js';
import { POLICY_KIND_OPTIONS, checkPolicyArgs, givenKindFlags, preparePolicy } from '../policy/kinds.js';
import { BUILTIN_POLICY_NAMES } from '../policy/load.js';
import { runEvaluationForCli } from './run-evaluation.js';
import { runSeeds, splitCheckpoints } from './run-seeds.js';

function usageFail(message: string): never {
  throw new UsageError(message);
}

export interface RunArgs {
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

async function runEvaluation(args: RunArgs, argv: string[]): Promise<number> {
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
    return EXIT.failed;
  }
  if (doc.interrupted) return exitCodeOfSignal(signalName);
  return written ? EXIT.ok : EXIT.failed;
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
    return EXIT.failed;
  }
  if (signal !== null) return exitCodeOfSignal(signal);
  return EXIT.ok;
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

function builder(y: Argv<object>) {
  const cores = defaultWorkerCount();
  return y
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
          checkIntFlag(v, `--${name}`, min);
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
      );
}

/** The default command, for the ofql-eval yargs parser; `setExitCode` receives the exit status. */
export function runCommand(argv: string[], setExitCode: (code: number) => void): CommandModule<object, RunArgs> {
  return {
    command: ['run', '$0'],
    describe: 'Evaluate a policy (the default command)',
    builder: builder as unknown as CommandModule<object, RunArgs>['builder'],
    handler: async (a) => setExitCode(await runEvaluation(a as unknown as RunArgs, argv)),
  };
}
