/**
 * The OFQL training loop behind `ofql-eval train`: D4RL data -> uniform minibatches -> agent.trainStep,
 * with JSONL metrics, atomic resumable checkpoints, periodic evaluation through the harness,
 * exact resume and a clean stop on request (Ctrl-C).
 *
 * Output directory `<out>/`:
 *
 *   train-config.json   the effective hyper-parameters and run settings (rewritten at every start)
 *   metrics.jsonl       one line per --log-every steps: means over those steps (see MetricsLine)
 *   eval.jsonl          one line per evaluation (see EvalLine)
 *   step-00020000/      a complete, resumable OFQL checkpoint after 20000 steps (src/ofql/checkpoint.ts),
 *                       written atomically (writeCheckpointDir: temp dir + rename)
 *   latest -> step-00020000   symlink to the newest checkpoint
 *
 * `--ckpt <out>` evaluates the checkpoint `latest` names, `--ckpt <out>@N` step N
 * (src/checkpoint/run-dir.ts); `train` ends by printing that command (TrainResult.evaluateCommand).
 *
 * Where each part lives (src/train/):
 *
 *   plan.ts          options, run directory (out-dir.ts), data (training-data.ts), hyper-parameters
 *                    (effective-config.ts, or resume.ts for --resume) -> a RunPlan; train-config.json
 *   checkpoints.ts   step-N/ writing, `latest`, keeping the newest --keep
 *   periodic-eval.ts evaluation through the harness every --eval-every steps, eval.jsonl
 *   metrics.ts       the metrics window, metrics.jsonl, the progress display, the run's clock
 *   resume.ts        what --resume checks and restores (trainer-state.json)
 *   trainer.ts       this file: the session around the loop, and the loop
 *
 * Periodic evaluation (`evalEvery`) writes a checkpoint, then runs the harness on it in worker
 * threads while training continues (one evaluation in flight at a time).
 *
 * Resume (`resume: true`) continues from the highest-numbered complete `step-N/`: weights of all
 * four networks, both Adam states, the agent's step and RNG, the minibatch sampler's RNG, and the
 * partially filled metrics window all come from the checkpoint, so a run of 2N steps and a run of
 * N steps resumed to 2N write identical metrics (timings aside). Lines of metrics.jsonl /
 * eval.jsonl beyond the resumed step are removed first.
 */
import { yieldToEventLoop } from '../event-loop.js';
import { isAbsolute, join, relative } from 'node:path';
import { agentFactory } from '../engine/index.js';
import type { OfqlAgent, OfqlConfig, OfqlMetrics } from '../ofql/index.js';
import { trainingPlotter } from '../report/training-page.js';
import { deriveSeed } from '../rng.js';
import { CheckpointRotation } from './checkpoints.js';
import { TrainError } from './errors.js';
import { FLAG_OF_FIELD } from './hyper-params.js';
import { JsonlWriter } from './jsonl.js';
import { MetricsRecorder, RunClock, emptyWindow, type WindowState } from './metrics.js';
import { FILES, type Say, type TrainOptions } from './options.js';
import { PeriodicEvaluation, evalPolicyOf, evaluateCommandFor, type EvalLine, type EvalSampler } from './periodic-eval.js';
import { describePlan, planRun, writePlan, type RunPlan } from './plan.js';
import { createTrainProgress, type TrainProgressReporter } from './progress.js';
import { resumeSession, trainerStateOf } from './resume.js';
import { UniformSampler } from './sampler.js';

// The names this module has always exported; their definitions moved to the files that own them.
export { FLAG_OF_FIELD, FILES, evaluateCommandFor };
export { TRAIN_DEFAULTS, type TrainOptions, type TrainOverrides } from './options.js';
export { effectiveConfig } from './effective-config.js';
export { listCheckpoints, stepDirName } from './checkpoints.js';
export type { MetricsLine } from './metrics.js';
export type { EvalLine } from './periodic-eval.js';
export type { DatasetInfo } from './training-data.js';

/** The trainer's own streams (the agent uses deriveSeed(seed, 0..2)). */
const STREAM = { sampler: 3 } as const;
/** As DQL, evaluations are seeded with the run seed + 100 (the same for every evaluation). */
const EVAL_SEED_OFFSET = 100;

export interface TrainResult {
  out: string;
  /** Steps done when the run ended. */
  step: number;
  /** Step the session started from (0 for a fresh run). */
  startStep: number;
  interrupted: boolean;
  /** Newest checkpoint written (or resumed from). */
  checkpoint: string | null;
  config: OfqlConfig;
  /** Mean training steps/s of this session (training steps only, no checkpoint / eval time). */
  stepsPerSecond: number;
  evals: EvalLine[];
  /**
   * The `ofql-eval` command line that evaluates this run's newest checkpoint the way the periodic
   * evaluations do (`--ckpt <out>`, as given); null without a checkpoint or a simulator for the env.
   */
  evaluateCommand: string | null;
  /** The same for exactly the checkpoint this session ended with (`--ckpt <out>@<step>`), which a later --resume does not move. */
  evaluateStepCommand: string | null;
}

/**
 * Train OFQL on a D4RL dataset. Resolves when `steps` are done, or after a stop request (signal)
 * with `interrupted: true`; throws TrainError / DatasetError / CheckpointError naming file and field.
 */
export async function train(options: TrainOptions): Promise<TrainResult> {
  const log = options.log ?? ((m: string) => void process.stderr.write(`${m}\n`));
  const print = options.print ?? ((m: string) => void process.stdout.write(`${m}\n`));
  const plan = await planRun(options, log);
  const start = await startAgent(plan, log);
  writePlan(plan);
  print(describePlan(plan));
  const session = await openSession(plan, start, options, log);
  const stop = watchStop(options.signal, session);
  let interrupted: boolean;
  try {
    interrupted = await trainLoop(session, stop, options.onStep);
    // A stopped or finished run always ends on a checkpoint of its last step.
    if (session.agent.step !== session.startStep && !session.checkpoints.holds(session.agent.step)) await saveCheckpoint(session);
    await session.evaluation?.finish(interrupted);
  } finally {
    stop.dispose();
    await closeSession(session);
  }
  return endSession(session, interrupted, options.out);
}

/** Gradient steps up to --steps, or until a stop is requested; returns whether it stopped early. */
async function trainLoop(s: Session, stop: StopRequest, onStep?: (metrics: OfqlMetrics) => void): Promise<boolean> {
  const { agent, sampler } = s;
  const { totalSteps, evalEvery, saveEvery } = s.plan.settings;
  if (agent.step >= totalSteps) s.say(`ofql-eval train: already at step ${agent.step} >= --steps ${totalSteps}; nothing to do`);
  while (agent.step < totalSteps) {
    if (stop.requested) return true;
    const m = s.clock.timed(() => agent.trainStep(sampler.next()));
    const done = agent.step;
    checkFinite(m, done, s.checkpoints.last);
    onStep?.(m);
    s.metrics.record(done, m);
    const evalNow = evalEvery > 0 && done % evalEvery === 0;
    if (evalNow || (saveEvery > 0 && done % saveEvery === 0)) {
      const dir = await saveCheckpoint(s);
      if (evalNow) await s.evaluation!.start(done, dir);
    }
    await yieldToEventLoop();
  }
  return false;
}

/** A non-finite loss poisons every later step: stop, naming the last good checkpoint. */
function checkFinite(m: OfqlMetrics, step: number, lastCheckpoint: string | null): void {
  if (Number.isFinite(m.criticLoss) && Number.isFinite(m.actorLoss)) return;
  throw new TrainError({
    code: 'diverged',
    detail:
      `non-finite loss at step ${step} (criticLoss ${m.criticLoss}, bcLoss ${m.bcLoss}, qLoss ${m.qLoss}); ` +
      `last checkpoint: ${lastCheckpoint ?? 'none'}. Try a smaller --lr / --grad-norm or check the dataset's rewards`,
  });
}

/** What a session starts from: a fresh agent, or the checkpoint's agent and trainer state. */
interface SessionStart {
  agent: OfqlAgent;
  sampler: UniformSampler;
  window: WindowState;
  /** Wall time of the earlier sessions. */
  elapsedBefore: number;
  lastCheckpoint: string | null;
}

/** The agent and minibatch sampler, fresh (seeded from the run seed) or restored from the checkpoint. */
async function startAgent(plan: RunPlan, log: Say): Promise<SessionStart> {
  const makeAgent = await agentFactory(plan.settings.backend, { threads: plan.settings.threads, device: plan.settings.device });
  const sampler = new UniformSampler({ ...plan.data.q, rewards: plan.rewards }, plan.config.batchSize, deriveSeed(plan.seed, STREAM.sampler));
  if (plan.resumeFrom) return { sampler, ...(await resumeSession(plan.resumeFrom, plan.out, plan.seed, makeAgent, sampler, log)) };
  return { agent: makeAgent(plan.config, plan.seed), sampler, window: emptyWindow(), elapsedBefore: 0, lastCheckpoint: null };
}

/** Everything the loop works with. */
interface Session {
  plan: RunPlan;
  agent: OfqlAgent;
  sampler: UniformSampler;
  startStep: number;
  clock: RunClock;
  progress: TrainProgressReporter;
  /** Messages that do not break the progress bar. */
  say: Say;
  logs: { metrics: JsonlWriter; eval: JsonlWriter };
  refreshPlot: (force?: boolean) => void;
  metrics: MetricsRecorder;
  checkpoints: CheckpointRotation;
  evalSampler: EvalSampler;
  /** null without --eval-every. */
  evaluation: PeriodicEvaluation | null;
}

/** Open the logs and the progress display, and set up checkpoints, metrics and evaluation. */
async function openSession(plan: RunPlan, start: SessionStart, options: TrainOptions, log: Say): Promise<Session> {
  const { out, settings, config } = plan;
  const logs = { metrics: new JsonlWriter(join(out, FILES.metrics)), eval: new JsonlWriter(join(out, FILES.eval)) };
  const progress = createTrainProgress(options.progress ?? 'auto', process.stderr, { sink: log });
  const say = (m: string) => progress.log(m);
  const refreshPlot = plotRefresher(out, options.plot, say);
  const evalPolicy = settings.evalEvery > 0 ? await evalPolicyOf(plan.evalSampler, config) : null;
  const clock = new RunClock(start.elapsedBefore);
  const { keep, fsync } = settings;
  const checkpoints = new CheckpointRotation({ out, keep, fsync, envId: plan.envId, seed: plan.seed, datasetInfo: plan.datasetInfo, logs: [logs.metrics, logs.eval], warn: say }, start.lastCheckpoint);
  const evaluation =
    evalPolicy === null
      ? null
      : new PeriodicEvaluation({
          envId: plan.envId,
          episodes: settings.evalEpisodes,
          seed: options.evalSeed ?? plan.seed + EVAL_SEED_OFFSET,
          workers: settings.evalWorkers,
          maxEpisodeSteps: options.evalMaxEpisodeSteps,
          inBackground: options.evalInBackground !== false,
          policy: evalPolicy,
          wallTime: () => clock.wallTime(),
          file: logs.eval,
          say,
          onLine: () => refreshPlot(true),
          checkpoints,
        });
  const metricsOptions = { file: logs.metrics, progress, clock, logEvery: settings.logEvery, totalSteps: settings.totalSteps, trainCritic: config.trainCritic, onLine: () => refreshPlot() };
  const metrics = new MetricsRecorder(start.window, metricsOptions);
  const { agent, sampler } = start;
  return { plan, agent, sampler, startStep: agent.step, clock, progress, say, logs, refreshPlot, metrics, checkpoints, evalSampler: plan.evalSampler, evaluation };
}

/** Keeps the --plot page (if any) up to date; a page that cannot be written is a warning, not the run's end. */
function plotRefresher(out: string, file: string | undefined, say: Say): (force?: boolean) => void {
  const plotter = file === undefined ? null : trainingPlotter(out, file);
  return (force = false) => {
    try {
      plotter?.(force);
    } catch (e) {
      say(`ofql-eval train: warning: could not update the plot ${file}: ${(e as Error).message}`);
    }
  };
}

/** Write a checkpoint of the agent's current step with the trainer's state; returns its directory. */
function saveCheckpoint(s: Session): Promise<string> {
  const { seed, envId, settings } = s.plan;
  const state = trainerStateOf({ seed, envId, totalSteps: settings.totalSteps, sampler: s.sampler, window: s.metrics.window, wallTime: s.clock.wallTime() });
  return s.checkpoints.save(s.agent, state);
}

interface StopRequest {
  readonly requested: boolean;
  dispose(): void;
}

/** Stop requests (options.signal): the step in progress finishes, a running evaluation is dropped (its checkpoint stays). */
function watchStop(signal: AbortSignal | undefined, s: Session): StopRequest {
  let requested = signal?.aborted ?? false;
  const onAbort = () => {
    if (!requested) s.say(`ofql-eval train: stop requested: finishing the current step, then writing a checkpoint`);
    requested = true;
    s.evaluation?.abort();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  return {
    get requested() {
      return requested;
    },
    dispose: () => signal?.removeEventListener('abort', onAbort),
  };
}

async function closeSession(s: Session): Promise<void> {
  s.progress.stop();
  await s.evaluation?.drop();
  s.logs.metrics.close();
  s.logs.eval.close();
  s.refreshPlot(true);
  s.agent.dispose();
}

/** Say how the session ended and what to evaluate. */
function endSession(s: Session, interrupted: boolean, outGiven: string): TrainResult {
  const { agent, plan, checkpoints, startStep } = s;
  const { out, envId, config } = plan;
  if (interrupted) s.say(`ofql-eval train: stopped after step ${agent.step}; checkpoint ${checkpoints.last}. Continue with --resume.`);
  else s.say(`ofql-eval train: done, step ${agent.step}; checkpoint ${checkpoints.last}`);
  const outShown = isAbsolute(outGiven) ? out : relative(process.cwd(), out) || '.';
  const evaluable = checkpoints.last !== null && plan.simulated;
  const command = (ckpt: string) => (evaluable ? evaluateCommandFor(ckpt, envId, s.evalSampler, config.evalCandidates) : null);
  return {
    out,
    step: agent.step,
    startStep,
    interrupted,
    checkpoint: checkpoints.last,
    config,
    stepsPerSecond: s.clock.trainSeconds > 0 ? (agent.step - startStep) / s.clock.trainSeconds : 0,
    evals: s.evaluation?.lines ?? [],
    evaluateCommand: command(outShown),
    evaluateStepCommand: command(`${outShown}@${agent.step}`),
  };
}
