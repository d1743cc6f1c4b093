/**
 * The evaluation hot loop, independent of threads: B environment slots of one env id, one
 * policy, and a list of episode indices to run. Each step gathers the running slots'
 * observations into one batch, makes ONE `policy.act` call for the whole batch, checks the
 * actions (length, finite), steps every running slot, and refills a finished slot with the
 * next episode of the list. Nothing is allocated per step.
 *
 * Determinism: episode i is reset with `deriveSeed(seed, i)`, its return is the float64 sum
 * of its rewards in step order, so its result depends only on (seed, i) and the policy's
 * answer for its row, never on the thread or the other rows (for row-wise policies; see
 * eval/RESULT_FORMAT.md).
 */
import { performance } from 'node:perf_hooks';
import type { LocomotionEnv } from '../envs/locomotion-env.js';
import { PolicyError } from '../src/policy/errors.js';
import { makeEnvsWithPolicy, policyLabel } from '../src/policy/load.js';
import type { ActContext, Policy, PolicyRef } from '../src/policy/types.js';
import { deriveSeed } from '../src/rng.js';

export interface RunnerConfig {
  envId: string;
  maxEpisodeSteps: number;
  /** Environment slots (batch size of the policy calls). */
  batchSize: number;
  policy: PolicyRef;
  /** Absolute checkpoint path (or the string as given), passed to the policy factory. */
  ckpt?: string;
  /** Run seed: episode i uses deriveSeed(seed, i). */
  seed: number;
  /** Per-act-call limit in ms; 0 = none. */
  policyTimeoutMs: number;
  /** Limit on building the envs and the policy in ms; 0 or absent = none. */
  policyLoadTimeoutMs?: number;
}

/** How one episode ended. */
export interface EpisodeOutcome {
  index: number;
  seed: number;
  return: number;
  length: number;
  /** Ended by the env's termination rule (fell / unhealthy), as opposed to the time limit. */
  terminated: boolean;
  /** Ended because the physics state became non-finite (also counts as terminated). */
  nonFinite: boolean;
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

export class EpisodeRunner {
  readonly config: RunnerConfig;
  readonly observationSize: number;
  readonly actionSize: number;
  readonly policy: Policy;
  readonly policyName: string;

  private readonly envs: LocomotionEnv[];
  private readonly B: number;
  /** B x observationSize: row s = latest observation of slot s. */
  private readonly obsAll: Float64Array;
  /** Compacted policy input when not every slot runs. */
  private readonly obsBatch: Float64Array;
  /** obsBatch / obsAll views of n rows, by n. */
  private readonly obsBatchViews: Float64Array[];
  private readonly ctxViews: ActContext[];
  private readonly ctxEpisodeIds: Int32Array;
  private readonly ctxSeeds: Float64Array;
  private readonly ctxSteps: Int32Array;
  /** One action row per slot (a separate array: stepInto at offset 0 wants an exact length). */
  private readonly actionRows: Float64Array[];
  private readonly rowSlot: Int32Array;
  private readonly slotEpisode: Int32Array;
  private readonly slotSeed: Float64Array;
  private readonly slotReturn: Float64Array;
  private readonly slotLength: Int32Array;
  private readonly slotRunning: Uint8Array;

  private constructor(config: RunnerConfig, envs: LocomotionEnv[], policy: Policy) {
    this.config = config;
    this.envs = envs;
    this.policy = policy;
    this.policyName = policyLabel(config.policy);
    const B = envs.length;
    this.B = B;
    const O = envs[0].observationSize;
    const A = envs[0].actionSize;
    this.observationSize = O;
    this.actionSize = A;
    this.obsAll = new Float64Array(B * O);
    this.obsBatch = new Float64Array(B * O);
    this.obsBatchViews = [];
    this.ctxEpisodeIds = new Int32Array(B);
    this.ctxSeeds = new Float64Array(B);
    this.ctxSteps = new Int32Array(B);
    this.ctxViews = [];
    for (let n = 0; n <= B; n++) {
      this.obsBatchViews.push(this.obsBatch.subarray(0, n * O));
      this.ctxViews.push({
        episodeIds: this.ctxEpisodeIds.subarray(0, n),
        episodeSeeds: this.ctxSeeds.subarray(0, n),
        steps: this.ctxSteps.subarray(0, n),
      });
    }
    this.actionRows = envs.map(() => new Float64Array(A));
    this.rowSlot = new Int32Array(B);
    this.slotEpisode = new Int32Array(B).fill(-1);
    this.slotSeed = new Float64Array(B);
    this.slotReturn = new Float64Array(B);
    this.slotLength = new Int32Array(B);
    this.slotRunning = new Uint8Array(B);
  }

  /** Build the B environments (sharing one compiled model) and load the policy once. */
  static async create(config: RunnerConfig): Promise<EpisodeRunner> {
    if (!Number.isSafeInteger(config.batchSize) || config.batchSize < 1) {
      throw new RangeError(`batchSize must be a positive integer, got ${String(config.batchSize)}`);
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
    const { B, envs, obsAll, actionRows, rowSlot, slotEpisode, slotSeed, slotReturn, slotLength, slotRunning } = this;
    const O = this.observationSize;
    const A = this.actionSize;
    const seed = this.config.seed;
    const timeoutMs = this.config.policyTimeoutMs;
    const watchHead = watch ? new Float64Array(watch, 0, WATCH.headerSlots) : undefined;
    const watchIds = watch ? new Int32Array(watch, WATCH.headerSlots * 8, B) : undefined;
    const outcomes: EpisodeOutcome[] = [];
    let next = 0;
    let envSteps = 0;
    let actCalls = 0;
    let policyMs = 0;
    let outOfRange = 0;
    const recordings: Array<RecordingBuffer | null> = envs.map(() => null);

    const start = (s: number): void => {
      const index = episodes[next++];
      const epSeed = deriveSeed(seed, index);
      const obs = envs[s].reset(epSeed);
      obsAll.set(obs, s * O);
      slotEpisode[s] = index;
      slotSeed[s] = epSeed;
      slotReturn[s] = 0;
      slotLength[s] = 0;
      slotRunning[s] = 1;
      recordings[s] = index < recordBelow ? new RecordingBuffer(envs[s].nq, 64) : null;
      recordings[s]?.frame(envs[s], null);
    };

    slotRunning.fill(0);
    for (let s = 0; s < B && next < episodes.length; s++) start(s);

    try {
      for (;;) {
        if (watchHead && watchHead[WATCH.stop] !== 0) break;
        // Gather the running slots (row r of the batch = slot rowSlot[r]).
        let n = 0;
        for (let s = 0; s < B; s++) {
          if (slotRunning[s] === 0) continue;
          rowSlot[n] = s;
          this.ctxEpisodeIds[n] = slotEpisode[s];
          this.ctxSeeds[n] = slotSeed[s];
          this.ctxSteps[n] = slotLength[s];
          n++;
        }
        if (n === 0) break;
        let obs: Float64Array;
        if (n === B) {
          obs = obsAll;
        } else {
          const ob = this.obsBatch;
          for (let r = 0; r < n; r++) {
            const src = rowSlot[r] * O;
            const dst = r * O;
            for (let k = 0; k < O; k++) ob[dst + k] = obsAll[src + k];
          }
          obs = this.obsBatchViews[n];
        }

        // One policy call for the whole batch.
        const ctx = this.ctxViews[n];
        const tAct = performance.now();
        if (watchHead && watchIds) {
          for (let r = 0; r < n; r++) watchIds[r] = this.ctxEpisodeIds[r];
          watchHead[WATCH.actRows] = n;
          watchHead[WATCH.actStart] = Date.now();
        }
        let out: unknown;
        try {
          out = this.policy.act(obs, n, ctx);
        } catch (err) {
          throw this.policyError('threw', n, -1, `act() threw: ${errorText(err)}`, err);
        }
        if (out !== null && typeof out === 'object' && typeof (out as PromiseLike<unknown>).then === 'function') {
          out = await this.awaitAct(out as Promise<unknown>, n, timeoutMs);
        }
        const actMs = performance.now() - tAct;
        if (watchHead) watchHead[WATCH.actStart] = 0;
        policyMs += actMs;
        actCalls++;
        if (timeoutMs > 0 && actMs > timeoutMs) {
          throw this.policyError('timeout', n, -1, `act() took ${actMs.toFixed(0)} ms, over --policy-timeout ${timeoutMs} ms`);
        }

        // Check the actions (length, finite) while copying them to their slots' rows.
        const acts = out as ArrayLike<number>;
        if (acts === null || typeof acts !== 'object' || typeof acts.length !== 'number') {
          throw this.policyError('bad-type', n, -1, `act() must return a Float32Array or Float64Array of ${n} x ${A} actions, got ${describe(out)}`);
        }
        if (acts.length !== n * A) {
          throw this.policyError(
            'wrong-length',
            n,
            -1,
            `act() returned ${acts.length} numbers for ${n} observations; expected ${n} x ${A} = ${n * A}`,
          );
        }
        for (let r = 0; r < n; r++) {
          const row = actionRows[rowSlot[r]];
          const o = r * A;
          for (let k = 0; k < A; k++) {
            const a = acts[o + k];
            // typeof check rejects non-numbers in plain arrays; a !== a catches NaN.
            if (typeof a !== 'number' || !(a - a === 0)) {
              throw this.policyError(typeof a === 'number' ? 'non-finite' : 'bad-type', n, r, `act() returned ${describeAction(a)} for action[${k}]; actions must be finite numbers`);
            }
            if (a > 1 || a < -1) outOfRange++;
            row[k] = a;
          }
        }

        // Step every running slot.
        for (let r = 0; r < n; r++) {
          const s = rowSlot[r];
          const res = envs[s].stepInto(actionRows[s], 0, obsAll, s * O);
          slotReturn[s] += res.reward;
          slotLength[s]++;
          envSteps++;
          recordings[s]?.frame(envs[s], res.reward);
          if (res.terminated || res.truncated) {
            slotRunning[s] = 0;
            outcomes.push({
              index: slotEpisode[s],
              seed: slotSeed[s],
              return: slotReturn[s],
              length: slotLength[s],
              terminated: res.terminated,
              nonFinite: envs[s].lastInfo.nonFiniteState,
              ...(recordings[s] ? { recording: recordings[s]!.finish() } : {}),
            });
            if (next < episodes.length) start(s);
          }
        }
        if (watchHead) {
          watchHead[WATCH.envSteps] = envSteps;
          watchHead[WATCH.episodesDone] = outcomes.length;
        }
      }
    } finally {
      if (watchHead) watchHead[WATCH.actStart] = 0;
    }
    return {
      episodes: outcomes,
      envSteps,
      actCalls,
      policyMs,
      busyMs: performance.now() - t0,
      actionsOutOfRange: outOfRange,
    };
  }

  async close(): Promise<void> {
    for (const e of this.envs) e.close();
    await this.policy.close?.();
  }

  private awaitAct(p: Promise<unknown>, n: number, timeoutMs: number): Promise<unknown> {
    const wrapped = p.then(
      (v) => v,
      (err: unknown) => {
        throw this.policyError('threw', n, -1, `act() rejected: ${errorText(err)}`, err);
      },
    );
    if (!(timeoutMs > 0)) return wrapped;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(this.policyError('timeout', n, -1, `act() did not answer within --policy-timeout ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    return Promise.race([wrapped, timeout]).finally(() => clearTimeout(timer));
  }

  /** A PolicyError naming the episodes of the current batch (row `culprit` first when known). */
  private policyError(kind: PolicyError['kind'], n: number, culprit: number, detail: string, cause?: unknown): PolicyError {
    const ids = Array.from(this.ctxEpisodeIds.subarray(0, n));
    const episodes = culprit >= 0 ? [ids[culprit]] : ids;
    return new PolicyError(
      { policy: this.policyName, envId: this.config.envId, kind, episodes, detail },
      cause === undefined ? undefined : { cause },
    );
  }
}

/** An action entry as the user wrote it: a string must not read like the number it spells ("0.1"). */
function describeAction(a: unknown): string {
  if (typeof a === 'number') return String(a);
  if (typeof a === 'string') return `the string ${JSON.stringify(a.length > 40 ? `${a.slice(0, 40)}...` : a)} (a ${typeof a}, not a number)`;
  if (a === null || a === undefined) return String(a);
  if (typeof a === 'bigint') return `the bigint ${String(a)}n (not a number)`;
  return `${describe(a)} (not a number)`;
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return typeof v;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
