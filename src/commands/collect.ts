/**
 * `ofql-eval collect`: the command line of dataset collection (flags, progress display, exit
 * codes). The work, and the file layout it writes, is src/collect/ (`collect`).
 */
import type { Argv, CommandModule } from 'yargs';
import { OptionError, UsageError, abortOnSignals, exitCodeOfSignal } from '../cli-errors.js';
import { createProgressDisplay, type ProgressDisplay, type ProgressView } from '../progress.js';
import { DEFAULT_BEHAVIOUR_WORKERS } from '../behaviour/pool.js';
import { collect } from '../collect/collect.js';
import { DEFAULT_COLLECT_BATCH, checkCollectOptions, type CollectProgress } from '../collect/options.js';
import { NO_POLICY } from '../collect/policy.js';
import { capWorkers } from '../limits.js';
import { DEFAULT_MAX_EPISODE_STEPS } from '../make-env.js';
import { PolicyLoadError } from '../policy/errors.js';
import { BUILTIN_POLICY_NAMES } from '../policy/load.js';
import { OFQL_POLICY_NAME } from '../policy/ofql-cli.js';
import { TORCH_CLI_OPTIONS } from '../policy/torch-cli.js';
import { getEnvEntry } from '../registry.js';

interface CollectArgs {
  env: string;
  policy?: string;
  ckpt?: string;
  steps: number;
  'action-noise': number;
  epsilon: number;
  seed: number;
  out: string;
  workers: number;
  'batch-size': number;
  'max-episode-steps': number;
  'infos-dtype': 'float32' | 'float64';
  progress: 'auto' | 'bar' | 'lines' | 'off';
}

/** Time between two plain lines (ms). */
const COLLECT_LINE_INTERVAL_MS = 5000;

const collectRate = (p: CollectProgress): string => Math.round(p.elapsedSeconds > 0 ? p.rows / p.elapsedSeconds : 0).toLocaleString('en-US');

/** What collect shows (src/progress.ts): rows of the steps asked for, episodes, rows per second. */
const COLLECT_VIEW: ProgressView<CollectProgress> = {
  value: (p) => p.rows,
  total: (p) => p.steps,
  line: (p) =>
    `[ofql-eval collect] ${p.rows.toLocaleString('en-US')}/${p.steps.toLocaleString('en-US')} steps (${((100 * p.rows) / p.steps).toFixed(0)}%), ` +
    `${p.episodes} episodes, ${collectRate(p)} steps/s, ${p.elapsedSeconds.toFixed(1)} s`,
  barFormat: 'collect |{bar}| {value}/{total} steps | {episodes} episodes | {rate} steps/s | ETA {eta_formatted}',
  payload: (p) => ({ episodes: String(p.episodes), rate: collectRate(p) }),
  barOptions: { clearOnComplete: true },
};

function progressPrinter(mode: CollectArgs['progress']): ProgressDisplay<CollectProgress> {
  return createProgressDisplay(mode, COLLECT_VIEW, { lineIntervalMs: COLLECT_LINE_INTERVAL_MS, closingLine: true });
}

async function runCollectCommand(a: CollectArgs): Promise<number> {
  const controller = new AbortController();
  const stop = abortOnSignals(controller, (sig) => process.stderr.write(`\nofql-eval collect: ${sig} received: stopping; no file is written (again to quit at once)\n`));
  const printer = progressPrinter(a.progress);
  try {
    const res = await collect({
      env: a.env,
      policy: a.policy,
      ckpt: a.ckpt,
      steps: a.steps,
      actionNoise: a['action-noise'],
      epsilon: a.epsilon,
      seed: a.seed,
      out: a.out,
      workers: capWorkers(a.workers, '--workers', (m) => process.stderr.write(`ofql-eval collect: ${m}\n`)),
      batchSize: a['batch-size'],
      maxEpisodeSteps: a['max-episode-steps'],
      infosDtype: a['infos-dtype'],
      ofqlOptions: Object.fromEntries(Object.keys(TORCH_CLI_OPTIONS).map((k) => [k, (a as unknown as Record<string, unknown>)[k]])),
      onProgress: (p) => printer.update(p),
      progressIntervalMs: 250,
      signal: controller.signal,
    });
    printer.stop();
    const entry = getEnvEntry(a.env);
    const norm = Number.isFinite(res.meanReturn) ? (100 * (res.meanReturn - entry.refMin)) / (entry.refMax - entry.refMin) : NaN;
    process.stdout.write(
      `wrote ${res.path}: ${res.rows.toLocaleString('en-US')} steps, ${res.episodes} episodes ` +
        `(${res.completeEpisodes} complete, ${res.terminatedEpisodes} terminated${res.lastEpisodeCut ? ', the last cut by --steps' : ''}); ` +
        `mean return of complete episodes ${Number.isFinite(res.meanReturn) ? `${res.meanReturn.toFixed(1)} (normalised ${norm.toFixed(1)})` : 'n/a'}; ` +
        `${res.wallSeconds.toFixed(1)} s, ${Math.round(res.stepsPerSecond).toLocaleString('en-US')} steps/s` +
        (res.metadata.ckpt_dir !== undefined ? `; policy checkpoint ${String(res.metadata.ckpt_dir)} (${res.metadata.ckpt_step !== undefined ? `step ${String(res.metadata.ckpt_step)}, ` : ''}from --ckpt ${a.ckpt})` : '') +
        '\n',
    );
    return 0;
  } catch (err) {
    printer.stop();
    const signalName = stop.received();
    if (signalName !== null) return exitCodeOfSignal(signalName);
    if (err instanceof UsageError || err instanceof PolicyLoadError || err instanceof OptionError) {
      process.stderr.write(`ofql-eval collect: error: ${err.message}\nRun 'ofql-eval collect --help' for usage.\n`);
      return 2;
    }
    process.stderr.write(`ofql-eval collect: error: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  } finally {
    stop.dispose();
  }
}

const SINGLE = ['env', 'policy', 'ckpt', 'steps', 'action-noise', 'epsilon', 'seed', 'out', 'workers', 'batch-size', 'max-episode-steps'] as const;

/** The `collect` subcommand for yargs; `setExitCode` receives the command's exit code. */
export function collectCommand(setExitCode: (code: number) => void): CommandModule<object, CollectArgs> {
  return {
    command: 'collect',
    describe: 'Roll out a policy and write a D4RL-layout HDF5 dataset',
    builder: (y: Argv<object>) =>
      y
        .usage(
          [
            'Roll out a policy (built-in, plug-in module, OFQL checkpoint or linear-policy JSON) and write a D4RL-layout HDF5 dataset',
            '(observations, actions, rewards, terminals, timeouts, next_observations, infos/qpos, infos/qvel, metadata/*).',
            '',
            'Usage: $0 collect --env <id> (--policy <random|zero|ofql|./policy.mjs> [--ckpt <path>] | --ckpt <linear-policy.json | ofql-ckpt-dir>) --out <file.hdf5> [options]',
          ].join('\n'),
        )
        .option('env', { alias: 'e', type: 'string', demandOption: 'give the environment, e.g. --env hopper-medium-v2', describe: "One env id, e.g. hopper-medium-v2 (see 'ofql-eval list')" })
        .option('policy', {
          alias: 'p',
          type: 'string',
          describe: `Built-in (${BUILTIN_POLICY_NAMES.join(', ')}), ${OFQL_POLICY_NAME} (OFQL checkpoint), or path to an ES module policy plug-in; optional with --ckpt`,
        })
        .option('ckpt', { type: 'string', describe: 'Checkpoint passed to the policy factory as spec.ckpt; alone: a linear-policy JSON (eval/behaviour/*.json) or an OFQL checkpoint directory' })
        .option('steps', { type: 'number', default: 1_000_000, describe: 'Rows (env steps) to write; the last episode is cut there (its last row flagged a timeout)' })
        .option('action-noise', { type: 'number', default: 0, describe: "Std of Gaussian noise added to the policy's actions (then clipped to [-1, 1])" })
        .option('epsilon', { type: 'number', default: 0, describe: 'Probability of a uniform random action in [-1, 1] instead of the policy\'s (per step)' })
        .option('seed', { alias: 's', type: 'number', default: 0, describe: 'Run seed: episode i resets with deriveSeed(seed, i) and seeds its noise from it' })
        .option('out', { alias: 'o', type: 'string', demandOption: 'give the output file: --out data/hopper-medium.hdf5', describe: 'Output HDF5 file (written atomically)' })
        .option('workers', { alias: 'w', type: 'number', default: DEFAULT_BEHAVIOUR_WORKERS, describe: 'Worker threads; the file does not depend on it' })
        .option('batch-size', { type: 'number', default: DEFAULT_COLLECT_BATCH, describe: 'Env slots per worker = rows per policy call; the file does not depend on it' })
        .option('max-episode-steps', {
          type: 'number',
          default: DEFAULT_MAX_EPISODE_STEPS,
          describe: 'Episode time limit (timeouts flag); anything but 1000 is not D4RL-like (for tests)',
        })
        .option('infos-dtype', { choices: ['float32', 'float64'] as const, default: 'float32' as const, describe: 'Type of infos/qpos, infos/qvel (D4RL: float32)' })
        .option('progress', { choices: ['auto', 'bar', 'lines', 'off'] as const, default: 'auto' as const, describe: 'Progress on stderr' })
        .options(TORCH_CLI_OPTIONS)
        .check((a) => {
          const r = a as unknown as Record<string, unknown>;
          for (const name of SINGLE) if (Array.isArray(r[name])) throw new UsageError(`--${name} was given more than once`);
          for (const name of ['env', 'out', 'policy', 'ckpt']) {
            if (r[name] !== undefined && (typeof r[name] !== 'string' || (r[name] as string).trim() === '')) throw new UsageError(`--${name} needs a value`);
          }
          if (r.policy === undefined && r.ckpt === undefined) throw new UsageError(NO_POLICY);
          checkCollectOptions({
            env: r.env as string,
            steps: r.steps as number,
            actionNoise: r['action-noise'] as number,
            epsilon: r.epsilon as number,
            seed: r.seed as number,
            workers: r.workers as number,
            batchSize: r['batch-size'] as number,
            maxEpisodeSteps: r['max-episode-steps'] as number,
          });
          return true;
        })
        .example(
          '$0 collect -e hopper-medium-v2 --ckpt eval/behaviour/hopper-medium.json --action-noise 0.1 -o data/hopper-medium.hdf5',
          '1M steps of the ARS medium hopper with Gaussian action noise 0.1',
        )
        .example('$0 collect -e halfcheetah-random-v2 -p random --steps 1000000 -o data/halfcheetah-random.hdf5', 'uniform random actions')
        .example('$0 collect -e walker2d-medium-v2 -p ./pol.mjs --ckpt ckpts/walker/ --epsilon 0.1 -o w.hdf5', 'a plug-in policy with its checkpoint')
        .epilogue(
          'timeouts marks the step cut by the time limit (and the last row when --steps cuts an episode); terminals the step ended by the ' +
            "env's termination rule. Read it back with readD4rlFile + qlearningDataset (src/data). Ctrl-C stops without writing a file.",
        ) as unknown as Argv<CollectArgs>,
    handler: async (a) => {
      setExitCode(await runCollectCommand(a as unknown as CollectArgs));
    },
  };
}
