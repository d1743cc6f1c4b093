/**
 * `ofql-eval train`: train OFQL on a D4RL HDF5 file (src/train/trainer.ts does the work).
 *
 * Exit codes: 0 done; 1 the run failed (dataset, checkpoint, resume mismatch, divergence); 2 bad
 * command line or hyper-parameter; 130 / 143 stopped by SIGINT / SIGTERM after writing a checkpoint
 * (a second signal exits at once, without one).
 */
import { EXIT, UsageError, abortOnSignals, exitCodeOfSignal, reportKnownError, type KnownError } from '../cli-errors.js';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { CheckpointError } from '../checkpoint/index.js';
import { DatasetError } from '../data/index.js';
import { BackendUnavailableError, OfqlConfigError } from '../ofql/index.js';
import { TrainError } from '../train/errors.js';
import { hyperParamOptions, overridesOfArgs } from '../train/hyper-params.js';
import { checkOutputDir } from '../output-path.js';
import { capWorkers } from '../limits.js';
import { REWARD_TUNES, type RewardTune } from '../train/sampler.js';
import { TRAIN_DEFAULTS, train, type TrainOverrides } from '../train/trainer.js';
import { ENGINE_DEVICES, EngineDeviceError, TRAIN_BACKENDS, type EngineDevice, type TrainBackend } from '../engine/index.js';
import { HYPER_PARAM_PRESETS, type HyperParamPreset } from '../ofql/config.js';
import type { TrainProgressMode } from '../train/progress.js';

interface TrainArgs {
  dataset: string;
  env: string;
  out: string;
  steps: number;
  seed?: number;
  backend: TrainBackend;
  threads: number;
  device: EngineDevice;
  preset?: HyperParamPreset;
  /** The hyper-parameter flags (src/train/hyper-params.ts); --eta is also checked against --bc-only. */
  eta?: number;
  'reward-tune'?: RewardTune;
  resume: boolean;
  'log-every': number;
  'save-every': number;
  keep: number;
  'eval-every': number;
  'eval-episodes': number;
  'eval-seed'?: number;
  'eval-workers': number;
  'eval-max-episode-steps'?: number;
  'eval-blocking': boolean;
  plot?: string;
  'eval-sampler'?: 'dql' | 'one-step' | 'best-of-n' | 'qgbs';
  'bc-only': boolean;
  progress: TrainProgressMode;
}

/** `--plot` alone writes this file in the run directory. */
const PLOT_FILE = 'progress.html';

/** The page `--plot` keeps up to date, or undefined (a directory is a usage error). */
function plotPath(a: TrainArgs): string | undefined {
  if (a.plot === undefined) return undefined;
  const file = a.plot === '' ? join(a.out, PLOT_FILE) : a.plot;
  if (existsSync(file) && statSync(file).isDirectory()) throw new TrainError({ code: 'config', detail: `--plot ${file} is a directory; give an .html file name` });
  return file;
}

const HP = "Hyper-parameters (default: the OFQL paper's, with DQL's per-task row for --env; docs/hyper-parameters.md):";
const LOOP = 'Logging, checkpoints, evaluation:';

function builder(y: Argv): Argv<TrainArgs> {
  return y
    .option('dataset', { alias: 'd', type: 'string', demandOption: 'give the dataset: --dataset hopper-medium-v2.hdf5', describe: 'D4RL-layout HDF5 file' })
    .option('env', { alias: 'e', type: 'string', demandOption: 'give the env id: --env hopper-medium-v2', describe: 'Env / D4RL id: dims are checked against it, hyper-parameters and evaluation follow it' })
    .option('out', { alias: 'o', type: 'string', demandOption: 'give the output directory: --out runs/hopper', describe: 'Output directory (checkpoints step-N/, latest, metrics.jsonl, eval.jsonl)' })
    .option('steps', { type: 'number', default: TRAIN_DEFAULTS.steps, describe: 'Total gradient steps (a resumed run continues up to this number)' })
    .option('seed', { alias: 's', type: 'number', describe: 'Seed of weights, training noise and minibatches [default: 0]' })
    .option('backend', {
      choices: TRAIN_BACKENDS,
      default: TRAIN_DEFAULTS.backend,
      describe: 'Training engine: onnx = onnxruntime graphs (about 2x PyTorch CPU speed, docs/benchmarks.md); wasm / cpu / tensorflow = the TF.js agent on that backend',
    })
    .option('threads', { type: 'number', default: TRAIN_DEFAULTS.threads, describe: 'Intra-op threads of the onnx engine' })
    .option('device', {
      choices: ENGINE_DEVICES,
      default: TRAIN_DEFAULTS.device,
      describe: "Where the onnx engine runs: cpu, or webgpu = onnxruntime's bundled WebGPU provider (a GPU with a Vulkan driver on Linux; docs/benchmarks.md)",
    })
    .option('resume', { type: 'boolean', default: false, describe: 'Continue from the newest checkpoint in --out (exactly: same batches, noise and optimizer state)' })
    .option('bc-only', {
      type: 'boolean',
      group: HP,
      default: false,
      describe: 'Behaviour cloning: eta = 0 and the critics are not trained (about half the step time); evaluate with the one-step sampler',
    })
    .option('preset', {
      choices: HYPER_PARAM_PRESETS,
      group: HP,
      describe: "Where the OFQL paper and DQL differ: ofql = the paper's time embedding 64 and eta 0.01 (from its grid); dql = DQL's 16 and per-task eta (1.0 on locomotion) [default: ofql]",
    })
    .options(hyperParamOptions(HP))
    .option('reward-tune', { choices: REWARD_TUNES, group: HP, describe: "DQL reward preprocessing [default: per task, 'no' on locomotion]" })
    .option('log-every', { type: 'number', group: LOOP, default: TRAIN_DEFAULTS.logEvery, describe: 'Steps per metrics.jsonl line (means over those steps)' })
    .option('save-every', { type: 'number', group: LOOP, default: TRAIN_DEFAULTS.saveEvery, describe: 'Steps between checkpoints (0 = only at the end); one is always written at the end and on Ctrl-C' })
    .option('keep', { type: 'number', group: LOOP, default: TRAIN_DEFAULTS.keep, describe: 'Newest checkpoints kept (0 = all)' })
    .option('eval-every', { type: 'number', group: LOOP, default: TRAIN_DEFAULTS.evalEvery, describe: 'Steps between evaluations (0 = none); each evaluates a fresh checkpoint in worker threads while training goes on' })
    .option('eval-episodes', { type: 'number', group: LOOP, default: TRAIN_DEFAULTS.evalEpisodes, describe: 'Episodes per evaluation' })
    .option('eval-seed', { type: 'number', group: LOOP, describe: 'Run seed of every evaluation [default: --seed + 100]' })
    .option('eval-workers', { type: 'number', group: LOOP, default: TRAIN_DEFAULTS.evalWorkers, describe: 'Worker threads per evaluation' })
    .option('eval-max-episode-steps', { type: 'number', group: LOOP, describe: 'Evaluation horizon; anything but 1000 is NOT D4RL-comparable (quick tests)' })
    .option('eval-sampler', {
      choices: ['dql', 'one-step', 'best-of-n', 'qgbs'] as const,
      group: LOOP,
      describe:
        'Evaluation action rule: dql = --eval-candidates one-step actions, one drawn by softmax(target Q) (DQL); one-step = one actor call [default: dql, one-step with --bc-only]',
    })
    .option('eval-blocking', { type: 'boolean', group: LOOP, default: false, describe: 'Pause training during each evaluation' })
    .option('plot', {
      type: 'string',
      group: LOOP,
      describe: `Keep an HTML page of the learning curves and training metrics up to date (--plot alone: <out>/${PLOT_FILE})`,
    })
    .option('progress', {
      choices: ['auto', 'bar', 'lines', 'off'] as const,
      default: 'auto' as const,
      describe: 'Progress on stderr: bar on a TTY, plain lines otherwise',
    })
    .check((a) => {
      for (const [k, v] of Object.entries(a)) {
        if (k !== '_' && k !== '$0' && Array.isArray(v)) throw new UsageError(`--${k} was given more than once`);
      }
      if (a['bc-only'] && a.eta !== undefined && a.eta !== 0) {
        throw new UsageError(`--bc-only trains without the Q term (eta = 0); drop --eta ${a.eta}`);
      }
      return true;
    })
    .example('$0 train -d hopper-medium-v2.hdf5 -e hopper-medium-v2 -o runs/hopper', '1M steps with the paper / DQL settings')
    .example('$0 train -d h.hdf5 -e hopper-medium-v2 -o runs/h --steps 2000000 --resume', 'continue that run to 2M steps')
    .example('$0 train ... --eval-every 50000 --eval-episodes 10', 'evaluate every 50k steps (eval.jsonl)')
    .example('$0 train -d h.hdf5 -e hopper-medium-v2 -o runs/h-bc --bc-only', 'behaviour-cloning baseline (eta = 0, no critic)')
    .example('$0 --ckpt runs/hopper --sampler dql', 'evaluate the run\'s newest checkpoint (150 episodes); runs/hopper@50000 picks a step')
    .epilogue(
      'metrics.jsonl: one JSON object per --log-every steps with step, means of bcLoss, qLoss, actorLoss, criticLoss, ' +
        'actorGradNorm, criticGradNorm, targetQMean, actionAtBound (share of one-step actions at +-1), stepsPerSec, wallTime. eval.jsonl: step, normalizedMean, normalizedCi95, ... ' +
        'Checkpoints: <out>/step-NNNNNNNN/ (resumable OFQL checkpoint directories), <out>/latest -> newest; ' +
        '--ckpt <out> evaluates the newest, --ckpt <out>@N step N. ' +
        'Ctrl-C finishes the current step, writes a checkpoint and exits 130.',
    ) as unknown as Argv<TrainArgs>;
}

/** What train reports as an error line: bad hyper-parameters are usage errors (exit 2), the rest exit 1. */
const TRAIN_ERRORS: KnownError[] = [
  [TrainError, (e) => ((e as TrainError).code === 'config' ? EXIT.usage : EXIT.failed)],
  [DatasetError, EXIT.failed],
  [CheckpointError, EXIT.failed],
  [BackendUnavailableError, EXIT.failed],
  [EngineDeviceError, EXIT.failed],
  [OfqlConfigError, EXIT.usage],
];

async function handler(a: TrainArgs, setExitCode: (code: number) => void): Promise<void> {
  const controller = new AbortController();
  const stop = abortOnSignals(controller, undefined, (sig) => process.stderr.write(`\nofql-eval train: second ${sig}: exiting without a checkpoint\n`));
  const overrides: TrainOverrides = {
    ...overridesOfArgs(a as unknown as Record<string, unknown>),
    ...(a['bc-only'] ? { eta: 0, trainCritic: false } : {}),
  };
  try {
    // Before the dataset is read: an output directory that cannot be written is exit 2 now, not a failed checkpoint later.
    checkOutputDir(a.out, '--out');
    const res = await train({
      dataset: a.dataset,
      envId: a.env,
      out: a.out,
      steps: a.steps,
      seed: a.seed,
      preset: a.preset,
      overrides,
      rewardTune: a['reward-tune'],
      backend: a.backend,
      threads: a.threads,
      device: a.device,
      resume: a.resume,
      logEvery: a['log-every'],
      saveEvery: a['save-every'],
      keep: a.keep,
      evalEvery: a['eval-every'],
      evalEpisodes: a['eval-episodes'],
      evalSeed: a['eval-seed'],
      evalWorkers: capWorkers(a['eval-workers'], '--eval-workers', (m) => process.stderr.write(`ofql-eval train: ${m}\n`)),
      evalMaxEpisodeSteps: a['eval-max-episode-steps'],
      evalInBackground: !a['eval-blocking'],
      plot: plotPath(a),
      evalSampler: a['eval-sampler'],
      progress: a.progress,
      signal: controller.signal,
    });
    const sessionSteps = res.step - res.startStep;
    process.stdout.write(
      `ofql-eval train: ${res.interrupted ? 'stopped' : 'finished'} at step ${res.step} (${sessionSteps} steps this session, ` +
        `${res.stepsPerSecond.toFixed(2)} training steps/s); checkpoint: ${res.checkpoint ?? 'none'}\n`,
    );
    if (res.evaluateCommand !== null && res.evaluateStepCommand !== null) {
      // The run directory names its newest checkpoint; `@N` keeps naming this one after a --resume.
      process.stdout.write(
        `evaluate it:    ${res.evaluateCommand}   (the run's newest checkpoint, now step ${res.step})\n` +
          `this step only: ${res.evaluateStepCommand}\n`,
      );
    }
    setExitCode(res.interrupted ? exitCodeOfSignal(stop.received()) : 0);
  } catch (err) {
    if (!reportKnownError('ofql-eval train', err, TRAIN_ERRORS, setExitCode)) throw err;
  } finally {
    stop.dispose();
  }
}

/** The `train` subcommand for the ofql-eval yargs parser; `setExitCode` receives the exit status. */
export function trainCommand(setExitCode: (code: number) => void): CommandModule<object, TrainArgs> {
  return {
    command: 'train',
    describe: 'Train OFQL on a D4RL HDF5 dataset (checkpoints, metrics, periodic evaluation, --resume)',
    builder,
    handler: (a) => handler(a as unknown as TrainArgs, setExitCode),
  };
}
