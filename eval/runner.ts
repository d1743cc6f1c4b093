/**
 * Evaluation on the one batched rollout loop (src/batched-rollout.ts), independent of threads:
 * B environment slots of one env id, one policy, and a list of episode indices to run. What the
 * evaluator adds through the loop's hooks: the episode outcomes, `--record` trajectories, and the
 * shared watch record (stuck-policy watchdog, live progress, stop requests).
 *
 * Determinism: episode i is reset with `deriveSeed(seed, i)`, its return is the float64 sum
 * of its rewards in step order, so its result depends only on (seed, i) and the policy's
 * answer for its row, never on the thread or the other rows (for row-wise policies; see
 * eval/RESULT_FORMAT.md).
 */
import { performance } from 'node:perf_hooks';
import type { LocomotionEnv } from '../envs/locomotion-env.js';
import { seededEpisodes, type EpisodeEnd, type RolloutHooks } from '../src/batched-rollout.js';
import { LoadedRollout } from '../src/loaded-rollout.js';
import { makeEnvsWithPolicy, type EnvsWithPolicyConfig } from '../src/policy/load.js';
import { OptionError } from '../src/option-error.js';

/** Evaluation's runner settings: the slots and policy (src/policy/load.ts), with a per-act-call limit. */
export interface RunnerConfig extends EnvsWithPolicyConfig {
  /** Per-act-call limit in ms; 0 = none. */
  policyTimeoutMs: number;
}

/** How one episode ended: the loop's account without the slot, and the trajectory if kept. */
export interface EpisodeOutcome extends Omit<EpisodeEnd, 'slot'> {
  /** Only for recorded episodes (see `run`'s `recordBelow`). */
  recording?: EpisodeRecording;
}

/** The trajectory of one recorded episode: qpos after reset and after every step, and the rewards. */
export interface EpisodeRecording {
  nq: number;
  /** (length + 1) x nq, row-major. */
  qpos: Float32Array;
  /** length entries. */
  rewards: Float32Array;
}

/** Steps a recording buffer holds before it first grows. */
const RECORDING_START_STEPS = 64;

/** Grows a recording in place (doubling), so a recorded step costs no allocation on average. */
class RecordingBuffer {
  private qpos: Float32Array;
  private rewards: Float32Array;
  private frames = 0;
  constructor(private readonly nq: number, capacity: number) {
    this.qpos = new Float32Array(nq * (capacity + 1));
    this.rewards = new Float32Array(capacity);
  }
  frame(env: LocomotionEnv, reward: number | null): void {
    if ((this.frames + 1) * this.nq > this.qpos.length) {
      const q = new Float32Array(this.qpos.length * 2);
      q.set(this.qpos);
      this.qpos = q;
    }
    if (reward !== null) {
      if (this.frames > this.rewards.length) {
        const r = new Float32Array(Math.max(8, this.rewards.length * 2));
        r.set(this.rewards);
        this.rewards = r;
      }
      this.rewards[this.frames - 1] = reward;
    }
    env.copyQposInto(this.qpos, this.frames * this.nq);
    this.frames++;
  }
  finish(): EpisodeRecording {
    return { nq: this.nq, qpos: this.qpos.slice(0, this.frames * this.nq), rewards: this.rewards.slice(0, this.frames - 1) };
  }
}

export interface ChunkOutcome {
  episodes: EpisodeOutcome[];
  envSteps: number;
  actCalls: number;
  /** Milliseconds inside policy.act (including awaiting it). */
  policyMs: number;
  /** Milliseconds of the whole chunk in this thread. */
  busyMs: number;
  /** Action entries outside [-1, 1] (passed on unchanged; see RESULT_FORMAT.md). */
  actionsOutOfRange: number;
}

/**
 * Shared watch record (a SharedArrayBuffer the main thread reads to detect a policy stuck in a
 * synchronous loop and to show live progress). Float64 slots:
 */
export const WATCH = {
  /** Date.now() when the current act call began, 0 when not inside act. */
  actStart: 0,
  /** Number of rows of the current act call. */
  actRows: 1,
  /** Env steps done so far in this chunk. */
  envSteps: 2,
  /** Episodes finished so far in this chunk. */
  episodesDone: 3,
  /** Date.now() when the worker began building envs + policy (factory), 0 when not. */
  loadStart: 4,
  /**
   * Set (non-zero) by the main thread to stop the chunk: the runner returns the episodes finished
   * so far at its next step, so that a stopping run need not terminate a worker in the middle of a
   * policy call (onnxruntime-node aborts the whole process when that happens).
   */
  stop: 5,
  /** Float64 slots before the Int32 episode-id list. */
  headerSlots: 6,
} as const;

export function watchBufferBytes(batchSize: number): number {
  return WATCH.headerSlots * 8 + batchSize * 4;
}

/** The watch record of one chunk, written through the loop's hooks. */
class ChunkWatch {
  private readonly head: Float64Array;
  private readonly ids: Int32Array;
  constructor(watch: SharedArrayBuffer, batchSize: number) {
    this.head = new Float64Array(watch, 0, WATCH.headerSlots);
    this.ids = new Int32Array(watch, WATCH.headerSlots * 8, batchSize);
  }
  actStart(rows: number, episodeIds: Int32Array): void {
    for (let r = 0; r < rows; r++) this.ids[r] = episodeIds[r];
    this.head[WATCH.actRows] = rows;
    this.head[WATCH.actStart] = Date.now();
  }
  /** Not inside act (also after a failed call, so the watchdog does not blame a finished one). */
  actEnd(): void {
    this.head[WATCH.actStart] = 0;
  }
  progress(envSteps: number, episodesDone: number): void {
    this.head[WATCH.envSteps] = envSteps;
    this.head[WATCH.episodesDone] = episodesDone;
  }
  stopRequested(): boolean {
    return this.head[WATCH.stop] !== 0;
  }
}

export class EpisodeRunner extends LoadedRollout<RunnerConfig> {
  /** Build the B environments (sharing one compiled model) and load the policy once. */
  static async create(config: RunnerConfig): Promise<EpisodeRunner> {
    if (!Number.isSafeInteger(config.batchSize) || config.batchSize < 1) {
      throw new OptionError(`batchSize must be a positive integer, got ${String(config.batchSize)}`);
    }
    const { envs, policy } = await makeEnvsWithPolicy(config);
    return new EpisodeRunner(config, envs, policy);
  }

  /**
   * Run `episodes` (global indices) to completion, at most B at a time, refilling slots in
   * list order. `watch` (optional) is the shared record described by WATCH. Episodes with an
   * index below `recordBelow` keep their trajectory (EpisodeOutcome.recording).
   */
  async run(episodes: readonly number[], watch?: SharedArrayBuffer, recordBelow = 0): Promise<ChunkOutcome> {
    const t0 = performance.now();
    const watcher = watch ? new ChunkWatch(watch, this.vec.numEnvs) : undefined;
    const outcomes: EpisodeOutcome[] = [];
    const hooks = this.hooks(outcomes, recordBelow, watcher);
    const c = await this.loop.run(seededEpisodes(episodes, this.config.seed), hooks).finally(() => watcher?.actEnd());
    return {
      episodes: outcomes,
      envSteps: c.envSteps,
      actCalls: c.actCalls,
      policyMs: c.policyMs,
      busyMs: performance.now() - t0,
      actionsOutOfRange: c.actionsOutOfRange,
    };
  }

  /** The loop's hooks for one chunk: outcomes into `outcomes`, recordings, the watch record. */
  private hooks(outcomes: EpisodeOutcome[], recordBelow: number, watcher: ChunkWatch | undefined): RolloutHooks {
    const vec = this.vec;
    const loop = this.loop;
    const recordings: Array<RecordingBuffer | null> = new Array<RecordingBuffer | null>(vec.numEnvs).fill(null);
    return {
      episodeStart: (s, index) => {
        recordings[s] = index < recordBelow ? new RecordingBuffer(vec.env(s).nq, RECORDING_START_STEPS) : null;
        recordings[s]?.frame(vec.env(s), null);
      },
      afterStep: (s, reward) => {
        recordings[s]?.frame(vec.env(s), reward);
        watcher?.progress(loop.counts.envSteps, outcomes.length);
      },
      episodeEnd: ({ slot, ...end }: EpisodeEnd) => {
        const recording = recordings[slot]?.finish();
        outcomes.push({ ...end, ...(recording ? { recording } : {}) });
        watcher?.progress(loop.counts.envSteps, outcomes.length);
      },
      actStart: watcher ? (rows, ids) => watcher.actStart(rows, ids) : undefined,
      actEnd: watcher ? () => watcher.actEnd() : undefined,
      shouldStop: watcher ? () => watcher.stopRequested() : undefined,
    };
  }
}
