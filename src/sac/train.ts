/**
 * Online SAC on one of the project's MuJoCo envs, to make behaviour policies and datasets the way
 * D4RL made theirs (docs/sac.md). Reads top to bottom:
 *   1. one env slot on the batched rollout loop (src/batched-rollout.ts), played by the exploring
 *      policy: uniform random actions for the first `randomSteps` steps, then a ~ pi(.|s);
 *   2. each transition goes to the replay buffer and to the run's experience log (replay.hdf5);
 *   3. after each env step past the warm-up, `updatesPerStep` gradient steps on minibatches;
 *   4. every `evalEvery` steps, `evalEpisodes` episodes of the deterministic policy tanh(mean) on
 *      fixed seeds, and every `snapshotEvery` steps a policy snapshot (the actor alone) in step-N/,
 *      step 0 (the untrained policy) included;
 *   5. at the end (or when stopped) the final checkpoint, the experience log and a summary.
 *
 * Determinism: every draw comes from generators seeded from the run seed (exploration, minibatch
 * indices, the agent's noise), the env episodes are reset with deriveSeed(seed, i); so one seed
 * gives one run. Updates use one onnxruntime thread by default; the rollout is in-process,
 * because the gradient steps take ~95 % of the time (docs/sac.md), not the env.
 */
import { yieldToEventLoop } from '../event-loop.js';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { VectorEnv } from '../../envs/vector-env.js';
import type { LocomotionEnv } from '../../envs/locomotion-env.js';
import { BatchedRollout, seededEpisodes, type EpisodePlan, type RolloutHooks } from '../batched-rollout.js';
import { writeCheckpointDir } from '../checkpoint/checkpoint-dir.js';
import { writeFileAtomic } from '../atomic-write.js';
import { makeEnv } from '../make-env.js';
import { packageVersion } from '../package-version.js';
import type { Policy } from '../policy/types.js';
import { normalizedScore } from '../registry.js';
import { Rng, deriveSeed } from '../rng.js';
import { SacAgent, type SacMetrics } from './agent.js';
import { makeSacConfig, type SacConfig } from './config.js';
import { ExperienceLog } from './experience-log.js';
import { ReplayBuffer } from './replay-buffer.js';
import { asF32, SAC_CHECKPOINT_FORMAT, SAC_CHECKPOINT_FORMAT_VERSION, SAC_POLICY_FILES, SAC_RUN_FILES } from './run-files.js';
import { sacPolicyGraph } from './graphs.js';
import { readResumeCheckpoint, restoreRun, writeResumeCheckpoint } from './resume.js';
import type { MetadataValue } from '../data/d4rl-hdf5.js';

export { SAC_CHECKPOINT_FORMAT, SAC_CHECKPOINT_FORMAT_VERSION, SAC_POLICY_FILES, SAC_RUN_FILES } from './run-files.js';

/** Generators of a run, mixed into its seed. */
const STREAMS = { agent: 1, explore: 2, minibatch: 3, episodes: 4, eval: 5 } as const;

export interface SacRunOptions {
  envId: string;
  seed: number;
  /** Environment steps. */
  steps: number;
  outDir: string;
  config?: Partial<SacConfig>;
  evalEvery: number;
  evalEpisodes: number;
  snapshotEvery: number;
  logEvery: number;
  /** Steps between resume checkpoints (resume/: every network, Adam, the replay buffer, the generators); 0: none. */
  resumeEvery?: number;
  /** Continue the run in outDir from its resume/ checkpoint (to `steps`); the settings come from it. */
  resume?: boolean;
  threads?: number;
  /** One line per log interval (progress). */
  onLog?: (line: string) => void;
  /** Checked after every env step: true ends the run early (what was done is kept). */
  shouldStop?: () => boolean;
}

export interface SacEvaluation {
  step: number;
  meanReturn: number;
  normalizedScore: number;
  returns: number[];
}

export interface SacRunSummary {
  envId: string;
  seed: number;
  stepsAsked: number;
  stepsDone: number;
  updates: number;
  episodes: number;
  stopped: boolean;
  seconds: { total: number; updates: number; rollout: number; evaluation: number };
  evaluations: SacEvaluation[];
  config: SacConfig;
}

/** Float32 copy of the first n rows of obs (reused buffer). */
class Obs32 {
  private buf = new Float32Array(0);
  of(obs: Float64Array, n: number, width: number): Float32Array {
    if (this.buf.length < n * width) this.buf = new Float32Array(n * width);
    const view = this.buf.subarray(0, n * width);
    for (let i = 0; i < n * width; i++) view[i] = obs[i]!;
    return view;
  }
}

/** The exploring policy: uniform actions during the warm-up, then samples of pi. */
function explorer(agent: SacAgent, rng: Rng, warmUp: () => boolean): Policy {
  const { obsDim: O, actDim: A } = agent.config;
  const obs32 = new Obs32();
  const noise = new Float32Array(A);
  const uniform = new Float32Array(A);
  return {
    description: 'SAC exploration',
    act(obs: Float64Array, n: number) {
      if (warmUp()) {
        for (let k = 0; k < A; k++) uniform[k] = rng.uniform(-1, 1);
        return uniform;
      }
      for (let k = 0; k < A; k++) noise[k] = rng.normal();
      return agent.act(obs32.of(obs, n, O), n, noise);
    },
  };
}

/** The deterministic policy tanh(mean), for evaluation. */
function greedy(agent: SacAgent): Policy {
  const obs32 = new Obs32();
  return { act: (obs: Float64Array, n: number) => agent.act(obs32.of(obs, n, agent.config.obsDim), n, null) };
}

/** Episodes first, first + 1, ... without end, episode i reset with deriveSeed(seed, i). */
function endlessEpisodes(seed: number, first: number): EpisodePlan {
  return { count: Infinity, index: (k) => first + k, seed: (i) => deriveSeed(seed, i) };
}

/** One episode per env slot of the deterministic policy, episode i reset with deriveSeed(seed, i). */
function evaluateGreedy(agent: SacAgent, vec: VectorEnv, seed: number, envId: string, step: number): SacEvaluation {
  const rollout = new BatchedRollout(vec, greedy(agent), { policyName: 'SAC (deterministic)' });
  const returns = new Array<number>(vec.numEnvs).fill(NaN);
  rollout.runSync(seededEpisodes([...returns.keys()], seed), { episodeEnd: (e) => void (returns[e.index] = e.return) });
  const meanReturn = returns.reduce((a, b) => a + b, 0) / returns.length;
  return { step, meanReturn, normalizedScore: normalizedScore(envId, meanReturn), returns };
}

/**
 * A checkpoint directory (the actor alone, or with `full` every network) plus the policy as two
 * ONNX models for the harness: policy.onnx samples a ~ pi(.|s) (its `noise` input), policy-mean.onnx
 * acts with tanh(mean).
 */
async function writeSnapshot(dir: string, agent: SacAgent, config: ReturnType<typeof checkpointConfig>, full: boolean): Promise<void> {
  const actor = agent.actorTensors();
  await writeCheckpointDir(dir, { config, tensors: asF32(full ? agent.namedTensors() : actor) });
  writeFileAtomic(join(dir, SAC_POLICY_FILES.sampled), sacPolicyGraph(agent.config, actor, true).encode(packageVersion()));
  writeFileAtomic(join(dir, SAC_POLICY_FILES.mean), sacPolicyGraph(agent.config, actor, false).encode(packageVersion()));
}

const stepDir = (out: string, step: number) => join(out, `step-${String(step).padStart(8, '0')}`);

function checkpointConfig(o: SacRunOptions, cfg: SacConfig, step: number, updates: number, evaluation: SacEvaluation | undefined) {
  return {
    format: SAC_CHECKPOINT_FORMAT,
    formatVersion: SAC_CHECKPOINT_FORMAT_VERSION,
    envId: o.envId,
    seed: o.seed,
    step,
    updates,
    sac: cfg,
    ...(evaluation ? { evalReturn: evaluation.meanReturn, evalScore: evaluation.normalizedScore, evalStep: evaluation.step } : {}),
    producer: `ofql-eval ${packageVersion()}`,
  };
}

/** Refuse an output directory that already holds a run (no silent mixing of two runs). */
function prepareOutDir(out: string): void {
  if (existsSync(out) && readdirSync(out).length > 0) {
    throw new Error(`SAC output directory ${out} is not empty; give a new --out, or --resume to continue the run there`);
  }
  mkdirSync(out, { recursive: true });
}

function experienceMetadata(o: SacRunOptions): Record<string, MetadataValue> {
  return { algorithm: 'SAC', env_id: o.envId, seed: o.seed };
}

/** Drop the metrics lines after `step` (a run stopped after its last resume point wrote them). */
function truncateMetrics(path: string, step: number): void {
  if (!existsSync(path)) return;
  const kept = readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '' && (JSON.parse(line) as { step: number }).step <= step);
  writeFileAtomic(path, kept.map((l) => `${l}\n`).join(''));
}

/** One online SAC run: its parts, and the steps of the loop as small methods. */
export class SacRun {
  step = 0;
  episodes = 0;
  lastReturn = NaN;
  metrics: SacMetrics | undefined;
  readonly evaluations: SacEvaluation[] = [];
  readonly seconds = { total: 0, updates: 0, rollout: 0, evaluation: 0 };
  private readonly t0 = performance.now();
  /** Seconds the run had taken before this process (a resumed run). */
  elapsedBefore = 0;
  readonly buffer: ReplayBuffer;
  readonly minibatchRng: Rng;
  readonly exploreRng: Rng;
  /** Global index of the episode under way. */
  episodeIndex = 0;
  /** Actions to play again (a resumed episode under way) before the exploring policy acts. */
  private replay: { actions: Float32Array; at: number } | undefined;
  private readonly vec: VectorEnv;
  private readonly evalVec: VectorEnv;
  private readonly rollout: BatchedRollout;

  private constructor(
    private readonly o: SacRunOptions,
    readonly cfg: SacConfig,
    env: LocomotionEnv,
    evalEnvs: LocomotionEnv[],
    readonly agent: SacAgent,
    readonly log: ExperienceLog,
  ) {
    this.buffer = new ReplayBuffer(cfg.bufferSize, cfg.obsDim, cfg.actDim, cfg.batchSize);
    this.minibatchRng = new Rng(deriveSeed(o.seed, STREAMS.minibatch));
    this.exploreRng = new Rng(deriveSeed(o.seed, STREAMS.explore));
    this.vec = new VectorEnv([env]);
    this.evalVec = new VectorEnv(evalEnvs);
    const exploring = explorer(agent, this.exploreRng, () => this.step < cfg.randomSteps);
    const replayOrExplore: Policy = { act: (obs: Float64Array, n: number) => this.replayAction() ?? exploring.act(obs, n) };
    this.rollout = new BatchedRollout(this.vec, replayOrExplore, { policyName: 'SAC (exploring)' });
  }

  /** Checks and sets up everything (the env, the settings, an empty output directory) before any step. */
  static async create(o: SacRunOptions): Promise<SacRun> {
    const env = await makeEnv(o.envId);
    const cfg = makeSacConfig(env.observationSize, env.actionSize, o.config);
    prepareOutDir(o.outDir);
    const evalEnvs = await Promise.all(Array.from({ length: o.evalEpisodes }, () => makeEnv(o.envId)));
    const agent = new SacAgent(cfg, deriveSeed(o.seed, STREAMS.agent), { threads: o.threads });
    const log = await ExperienceLog.create(join(o.outDir, SAC_RUN_FILES.experience), env, env.maxEpisodeSteps, experienceMetadata(o));
    const run = new SacRun(o, cfg, env, evalEnvs, agent, log);
    run.startEpisodes(0);
    await run.periodic(); // step 0: the untrained policy (D4RL's "random" datasets sample one)
    return run;
  }

  /**
   * The run in outDir where its resume/ checkpoint left it: networks, Adam, buffer, generators and
   * counters restored, the experience file cut to that point, and the episode under way played
   * again from its reset with its recorded actions (the physics is deterministic), so the run goes
   * on exactly as if it had not stopped (src/sac/resume.ts).
   */
  static async resume(o: SacRunOptions): Promise<SacRun> {
    const saved = await readResumeCheckpoint(join(o.outDir, SAC_RUN_FILES.resume), o);
    const env = await makeEnv(o.envId);
    const evalEnvs = await Promise.all(Array.from({ length: o.evalEpisodes }, () => makeEnv(o.envId)));
    const agent = new SacAgent(saved.config, deriveSeed(o.seed, STREAMS.agent), { threads: o.threads });
    const log = await ExperienceLog.resume(join(o.outDir, SAC_RUN_FILES.experience), env, env.maxEpisodeSteps, experienceMetadata(o), saved.historyRows);
    const run = new SacRun(o, saved.config, env, evalEnvs, agent, log);
    restoreRun(run, saved);
    truncateMetrics(join(o.outDir, SAC_RUN_FILES.metrics), run.step);
    run.startEpisodes(saved.episodeIndex);
    run.playAgain(saved.episodeActions, saved.lastObservation);
    return run;
  }

  private startEpisodes(first: number): void {
    this.rollout.begin(endlessEpisodes(deriveSeed(this.o.seed, STREAMS.episodes), first), this.recordingHooks());
  }

  private replayAction(): Float32Array | undefined {
    const r = this.replay;
    if (!r) return undefined;
    const A = this.cfg.actDim;
    return r.actions.subarray(r.at * A, (r.at + 1) * A);
  }

  /** Step the env with `actions` (rows of the episode under way), rebuilding its state and log rows. */
  private playAgain(actions: Float32Array, lastObservation: Float32Array | null): void {
    const A = this.cfg.actDim;
    this.replay = { actions, at: 0 };
    for (; this.replay.at < actions.length / A; this.replay.at++) this.rollout.stepSync();
    this.replay = undefined;
    if (lastObservation === null) return;
    const now = this.vec.observations.subarray(0, this.cfg.obsDim);
    if (!lastObservation.every((x, k) => x === Math.fround(now[k]!))) {
      throw new Error(`SAC resume: replaying episode ${this.episodeIndex} did not reach the saved state (the env or the engine differs from the run's)`);
    }
  }

  /** What resume/ keeps (src/sac/resume.ts writes it). */
  resumePoint(): { episodeActions: Float32Array; lastObservation: Float32Array } {
    return { episodeActions: this.log.episodeActions(), lastObservation: Float32Array.from(this.vec.observations.subarray(0, this.cfg.obsDim)) };
  }

  /** 2. Every transition to the replay buffer and the experience log. */
  private recordingHooks(): RolloutHooks {
    const { cfg, vec, buffer, log } = this;
    // The one slot's observation before the step and its executed action, kept for afterStep.
    const obsRow = new Float64Array(cfg.obsDim);
    const actRow = new Float64Array(cfg.actDim);
    return {
      beforeStep: (_slot, action) => {
        obsRow.set(vec.observations.subarray(0, cfg.obsDim));
        actRow.set(action);
        log.before(obsRow, actRow);
      },
      afterStep: (_slot, reward) => {
        const next = vec.observations.subarray(0, cfg.obsDim);
        const terminated = vec.terminated[0] === 1;
        if (!this.replay) buffer.add(obsRow, actRow, reward, next, terminated); // a replayed step is in the buffer already
        log.after(reward, next, terminated, vec.running[0] === 0);
      },
      episodeStart: (_slot, index) => {
        this.episodeIndex = index;
      },
      episodeEnd: (e) => {
        this.episodes++;
        this.lastReturn = e.return;
      },
    };
  }

  /** 1 and 3. One env step, then the gradient steps once the warm-up is over. */
  envStep(): void {
    const tRoll = performance.now();
    this.rollout.stepSync();
    this.step++;
    const tUpd = performance.now();
    this.seconds.rollout += (tUpd - tRoll) / 1000;
    if (this.step >= this.cfg.randomSteps) {
      for (let k = 0; k < this.cfg.updatesPerStep; k++) this.metrics = this.agent.update(this.buffer.sample(this.minibatchRng));
    }
    this.seconds.updates += (performance.now() - tUpd) / 1000;
  }

  /** 4. Evaluation, snapshot and metrics line, each when its interval comes round (all three at step 0). */
  async periodic(): Promise<void> {
    const { o, step } = this;
    if (step % o.evalEvery === 0) await this.evaluate();
    if (step % o.snapshotEvery === 0) await writeSnapshot(stepDir(o.outDir, step), this.agent, this.checkpointConfig(), false);
    if (step % o.logEvery === 0) this.logLine();
    if (o.resumeEvery && step > 0 && step % o.resumeEvery === 0) await writeResumeCheckpoint(join(o.outDir, SAC_RUN_FILES.resume), this, this.checkpointConfig());
  }

  private async evaluate(): Promise<SacEvaluation> {
    const tEval = performance.now();
    const e = evaluateGreedy(this.agent, this.evalVec, deriveSeed(this.o.seed, STREAMS.eval), this.o.envId, this.step);
    this.evaluations.push(e);
    this.seconds.evaluation += (performance.now() - tEval) / 1000;
    return e;
  }

  private checkpointConfig() {
    return checkpointConfig(this.o, this.cfg, this.step, this.agent.updates, this.evaluations.at(-1));
  }

  /** Seconds the run has taken so far, resumed parts included. */
  elapsed(): number {
    return this.elapsedBefore + (performance.now() - this.t0) / 1000;
  }

  private logLine(): void {
    const { step, o, metrics, episodes, lastReturn } = this;
    const latest = this.evaluations.at(-1);
    const elapsed = this.elapsed();
    const row = { step, updates: this.agent.updates, episodes, lastReturn, ...(latest?.step === step ? { evalReturn: latest.meanReturn, evalScore: latest.normalizedScore } : {}), ...metrics, elapsedS: elapsed };
    appendFileSync(join(o.outDir, SAC_RUN_FILES.metrics), `${JSON.stringify(row)}\n`);
    o.onLog?.(
      `step ${step}/${o.steps} | ${(step / elapsed).toFixed(0)} steps/s | episodes ${episodes} last return ${lastReturn.toFixed(1)}` +
        (latest ? ` | eval@${latest.step} ${latest.meanReturn.toFixed(1)} (${latest.normalizedScore.toFixed(1)})` : '') +
        (metrics ? ` | alpha ${metrics.alpha.toPrecision(3)} q ${metrics.qMean.toFixed(1)} logpi ${metrics.logPiMean.toFixed(2)}` : ''),
    );
  }

  /** 5. The final checkpoint (every network, evaluated at this step), the experience log, the summary. */
  async finish(): Promise<SacRunSummary> {
    const { o, step } = this;
    if (this.evaluations.at(-1)?.step !== step) await this.evaluate();
    await writeSnapshot(join(o.outDir, SAC_RUN_FILES.final), this.agent, this.checkpointConfig(), true);
    await this.log.close({ steps: step });
    this.close();
    this.seconds.total = this.elapsed();
    const summary: SacRunSummary = {
      envId: o.envId,
      seed: o.seed,
      stepsAsked: o.steps,
      stepsDone: step,
      updates: this.agent.updates,
      episodes: this.episodes,
      stopped: step < o.steps,
      seconds: this.seconds,
      evaluations: this.evaluations,
      config: this.cfg,
    };
    writeFileAtomic(join(o.outDir, SAC_RUN_FILES.summary), `${JSON.stringify(summary, null, 1)}\n`);
    return summary;
  }

  /** After a failure: no experience file (its temp file goes), and every session and env freed. */
  abort(): void {
    this.log.abort();
    this.close();
  }

  private close(): void {
    this.agent.close();
    this.vec.close();
    this.evalVec.close();
  }
}

export async function trainSac(o: SacRunOptions): Promise<SacRunSummary> {
  const run = o.resume ? await SacRun.resume(o) : await SacRun.create(o);
  try {
    while (run.step < o.steps && !o.shouldStop?.()) {
      run.envStep();
      await run.periodic();
      await yieldToEventLoop(); // else a SIGINT / SIGTERM handler never runs (periodic() is mostly synchronous)
    }
  } catch (err) {
    run.abort();
    throw err;
  }
  return run.finish();
}
