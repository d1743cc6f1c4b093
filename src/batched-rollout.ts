/**
 * The one batched rollout loop (EnvPool's shape: batching is written once, here; envs only reset
 * and step, envs/vector-env.ts). B env slots, one policy. Each step gathers the running slots'
 * observations into one batch, makes ONE `policy.act` call for the whole batch, checks the
 * actions (`takeActions`: type, length, finite; one error type, PolicyError), steps every running
 * slot, and refills a finished slot with the next episode of the plan. Evaluation
 * (eval/runner.ts), dataset collection (src/behaviour/collect-episodes.ts), ARS rollouts
 * (src/behaviour/rollout.ts) and scripts/bench-env.ts differ only in their hooks.
 *
 * Nothing is allocated per step (for a policy that answers synchronously; only an asynchronous
 * answer costs its promises). A synchronous answer is used without awaiting it, so a run of a
 * synchronous policy can also be driven synchronously (`runSync`, `stepSync`).
 *
 * Determinism: an episode is reset with the seed its plan gives (deriveSeed(seed, i) for
 * evaluation and collection: `seededEpisodes`), its return is the float64 sum of its rewards in
 * step order, so its result depends only on that seed and the policy's answer for its row, never
 * on the thread, the batch size or the other rows (for row-wise policies).
 */
import { performance } from 'node:perf_hooks';
import type { StepEnv, VectorEnv } from '../envs/vector-env.js';
import { PolicyError } from './policy/errors.js';
import type { ActContext, Policy } from './policy/types.js';
import { deriveSeed } from './rng.js';

/** Which episodes a run plays, in order, and how each is seeded. */
export interface EpisodePlan {
  /** Number of episodes (Infinity: until the caller stops stepping). */
  readonly count: number;
  /** Global index of the k-th episode of the run (k = 0, 1, ...). */
  index(k: number): number;
  /** Reset seed of the episode with global index `index`. */
  seed(index: number): number;
}

/** The listed episodes, episode i reset with deriveSeed(runSeed, i) (evaluation, collection). */
export function seededEpisodes(episodes: readonly number[], runSeed: number): EpisodePlan {
  return { count: episodes.length, index: (k) => episodes[k], seed: (i) => deriveSeed(runSeed, i) };
}

/** How one episode ended. */
export interface EpisodeEnd {
  slot: number;
  index: number;
  seed: number;
  /** Float64 sum of the rewards in step order. */
  return: number;
  length: number;
  /** Ended by the env's termination rule (fell / unhealthy), as opposed to the time limit. */
  terminated: boolean;
  /** Ended because the physics state became non-finite (also counts as terminated). */
  nonFinite: boolean;
}

/** What differs between the users of the loop. Every hook is optional. */
export interface RolloutHooks {
  /** Episode `index` was reset into `slot`; its first observation is that slot's row. */
  episodeStart?(slot: number, index: number, seed: number): void;
  /**
   * `slot` is about to step with `action` (its checked row; a hook may rewrite it in place, e.g.
   * collection noise). Called for every stepping slot before any of them steps, so the slot's
   * observation row and env state are still those the policy saw.
   */
  beforeStep?(slot: number, action: Float64Array): void;
  /** `slot` stepped with `reward`; its row now holds the next observation. */
  afterStep?(slot: number, reward: number): void;
  /** An episode ended (before its slot is refilled). */
  episodeEnd?(end: EpisodeEnd): void;
  /** Around each act call: rows of the batch and their episode ids (first `rows` entries). */
  actStart?(rows: number, episodeIds: Int32Array): void;
  actEnd?(): void;
  /** Checked before each batched step of `run`: true ends the run (finished episodes stay reported). */
  shouldStop?(): boolean;
}

export interface RolloutOptions {
  /** Names the policy in PolicyError messages. */
  policyName: string;
  /** Names the env in PolicyError messages (default: the VectorEnv's id). */
  envId?: string;
  /** Per-act-call limit in ms; 0 or absent = none. */
  policyTimeoutMs?: number;
}

/** Counters of the current run. */
export interface RolloutCounts {
  envSteps: number;
  actCalls: number;
  /** Milliseconds inside policy.act (including awaiting it). */
  policyMs: number;
  /** Action entries outside [-1, 1] (passed on unchanged; see eval/RESULT_FORMAT.md). */
  actionsOutOfRange: number;
}

const NO_HOOKS: RolloutHooks = {};
const NO_PLAN: EpisodePlan = { count: 0, index: () => -1, seed: () => 0 };

export class BatchedRollout {
  readonly vec: VectorEnv<StepEnv>;
  readonly policy: Policy;
  /** Counters since the last `begin` (reused object). */
  readonly counts: RolloutCounts = { envSteps: 0, actCalls: 0, policyMs: 0, actionsOutOfRange: 0 };

  private readonly policyName: string;
  private readonly envId: string;
  private readonly timeoutMs: number;
  private readonly B: number;
  private readonly O: number;
  private readonly A: number;
  private plan: EpisodePlan = NO_PLAN;
  private hooks: RolloutHooks = NO_HOOKS;
  private next = 0;
  private tAct = 0;
  private batchObs: Float64Array;
  /** Compacted policy input when not every slot runs, and its views of n rows, by n. */
  private readonly obsBatch: Float64Array;
  private readonly obsBatchViews: Float64Array[];
  private readonly ctxViews: ActContext[];
  private readonly ctxEpisodeIds: Int32Array;
  private readonly ctxSeeds: Float64Array;
  private readonly ctxSteps: Int32Array;
  /** B x A actions by slot (what the VectorEnv steps), and one view per slot for the hooks. */
  private readonly slotActions: Float64Array;
  private readonly slotActionRows: Float64Array[];
  /** Batch row r = slot rowSlot[r]. */
  private readonly rowSlot: Int32Array;
  private readonly slotIndex: Int32Array;
  private readonly slotSeed: Float64Array;
  private readonly slotReturn: Float64Array;
  private readonly slotLength: Int32Array;

  constructor(vec: VectorEnv<StepEnv>, policy: Policy, options: RolloutOptions) {
    this.vec = vec;
    this.policy = policy;
    this.policyName = options.policyName;
    this.envId = options.envId ?? vec.id;
    this.timeoutMs = options.policyTimeoutMs ?? 0;
    const B = (this.B = vec.numEnvs);
    const O = (this.O = vec.observationSize);
    const A = (this.A = vec.actionSize);
    this.batchObs = vec.observations;
    this.obsBatch = new Float64Array(B * O);
    this.ctxEpisodeIds = new Int32Array(B);
    this.ctxSeeds = new Float64Array(B);
    this.ctxSteps = new Int32Array(B);
    this.obsBatchViews = [];
    this.ctxViews = [];
    for (let n = 0; n <= B; n++) {
      this.obsBatchViews.push(this.obsBatch.subarray(0, n * O));
      this.ctxViews.push({ episodeIds: this.ctxEpisodeIds.subarray(0, n), episodeSeeds: this.ctxSeeds.subarray(0, n), steps: this.ctxSteps.subarray(0, n) });
    }
    this.slotActions = new Float64Array(B * A);
    this.slotActionRows = Array.from({ length: B }, (_, s) => this.slotActions.subarray(s * A, (s + 1) * A));
    this.rowSlot = new Int32Array(B);
    this.slotIndex = new Int32Array(B).fill(-1);
    this.slotSeed = new Float64Array(B);
    this.slotReturn = new Float64Array(B);
    this.slotLength = new Int32Array(B);
  }

  /** Play `plan` to its end (or until `hooks.shouldStop`); returns the run's counters. */
  async run(plan: EpisodePlan, hooks: RolloutHooks = NO_HOOKS): Promise<RolloutCounts> {
    this.begin(plan, hooks);
    while (!hooks.shouldStop?.()) {
      const more = this.step();
      if (!(typeof more === 'boolean' ? more : await more)) break;
    }
    return { ...this.counts };
  }

  /** `run` for a policy that answers synchronously (ARS). */
  runSync(plan: EpisodePlan, hooks: RolloutHooks = NO_HOOKS): RolloutCounts {
    this.begin(plan, hooks);
    while (!hooks.shouldStop?.()) {
      if (!this.stepSync()) break;
    }
    return { ...this.counts };
  }

  /** Start a run: counters to 0, every slot released, then filled from the plan in slot order. */
  begin(plan: EpisodePlan, hooks: RolloutHooks = NO_HOOKS): void {
    this.plan = plan;
    this.hooks = hooks;
    this.next = 0;
    const c = this.counts;
    c.envSteps = c.actCalls = c.policyMs = c.actionsOutOfRange = 0;
    // A run that was stopped leaves slots running; a new run starts from fresh episodes.
    for (let s = 0; s < this.B; s++) if (this.vec.running[s] !== 0) this.vec.release(s);
    for (let s = 0; s < this.B && this.next < plan.count; s++) this.start(s);
  }

  /**
   * One batched step: one act call, every running slot stepped, finished slots refilled. False
   * when no slot was running (the plan is done). A promise only when the policy answered with one.
   */
  step(): boolean | Promise<boolean> {
    const n = this.gather();
    if (n === 0) return false;
    const out = this.callAct(n);
    if (isThenable(out)) return this.awaitAct(out, n).then((answer) => this.advance(answer, n));
    return this.advance(out, n);
  }

  /** `step` for a policy that answers synchronously (the env benchmark, ARS). */
  stepSync(): boolean {
    const more = this.step();
    if (typeof more !== 'boolean') throw new TypeError(`stepSync: policy ${this.policyName} answered with a promise; use step() or run()`);
    return more;
  }

  private start(s: number): void {
    const index = this.plan.index(this.next++);
    const seed = this.plan.seed(index);
    this.vec.resetAt(s, seed);
    this.slotIndex[s] = index;
    this.slotSeed[s] = seed;
    this.slotReturn[s] = 0;
    this.slotLength[s] = 0;
    this.hooks.episodeStart?.(s, index, seed);
  }

  /** Row r of the batch = the r-th running slot; returns the number of rows. */
  private gather(): number {
    const { B, O, rowSlot, vec } = this;
    let n = 0;
    for (let s = 0; s < B; s++) {
      if (vec.running[s] === 0) continue;
      rowSlot[n] = s;
      this.ctxEpisodeIds[n] = this.slotIndex[s];
      this.ctxSeeds[n] = this.slotSeed[s];
      this.ctxSteps[n] = this.slotLength[s];
      n++;
    }
    if (n === B || n === 0) {
      this.batchObs = vec.observations;
      return n;
    }
    const all = vec.observations;
    const ob = this.obsBatch;
    for (let r = 0; r < n; r++) {
      const src = rowSlot[r] * O;
      const dst = r * O;
      for (let k = 0; k < O; k++) ob[dst + k] = all[src + k];
    }
    this.batchObs = this.obsBatchViews[n];
    return n;
  }

  private callAct(n: number): unknown {
    this.hooks.actStart?.(n, this.ctxEpisodeIds);
    this.tAct = performance.now();
    try {
      return this.policy.act(this.batchObs, n, this.ctxViews[n]);
    } catch (err) {
      throw this.policyError('threw', n, -1, `act() threw: ${errorText(err)}`, err);
    }
  }

  private awaitAct(p: PromiseLike<unknown>, n: number): Promise<unknown> {
    const wrapped = Promise.resolve(p).then(
      (v) => v,
      (err: unknown) => {
        throw this.policyError('threw', n, -1, `act() rejected: ${errorText(err)}`, err);
      },
    );
    const timeoutMs = this.timeoutMs;
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

  /** The policy answered `out` for the n rows: time it, check it, step the slots. */
  private advance(out: unknown, n: number): boolean {
    const actMs = performance.now() - this.tAct;
    this.hooks.actEnd?.();
    this.counts.policyMs += actMs;
    this.counts.actCalls++;
    if (this.timeoutMs > 0 && actMs > this.timeoutMs) {
      throw this.policyError('timeout', n, -1, `act() took ${actMs.toFixed(0)} ms, over --policy-timeout ${this.timeoutMs} ms`);
    }
    this.takeActions(out, n);
    this.stepSlots(n);
    return true;
  }

  /** The one action check (type, length, finite) while copying row r to slot rowSlot[r]'s action row. */
  private takeActions(out: unknown, n: number): void {
    const A = this.A;
    const acts = out as ArrayLike<number>;
    if (acts === null || typeof acts !== 'object' || typeof acts.length !== 'number') {
      throw this.policyError('bad-type', n, -1, `act() must return a Float32Array or Float64Array of ${n} x ${A} actions, got ${describe(out)}`);
    }
    if (acts.length !== n * A) {
      throw this.policyError('wrong-length', n, -1, `act() returned ${acts.length} numbers for ${n} observations; expected ${n} x ${A} = ${n * A}`);
    }
    const dst = this.slotActions;
    for (let r = 0; r < n; r++) {
      const o = r * A;
      const d = this.rowSlot[r] * A;
      for (let k = 0; k < A; k++) {
        const a = acts[o + k];
        // typeof check rejects non-numbers in plain arrays; a - a === 0 fails for NaN and +-Infinity.
        if (typeof a !== 'number' || !(a - a === 0)) {
          throw this.policyError(typeof a === 'number' ? 'non-finite' : 'bad-type', n, r, `act() returned ${describeAction(a)} for action[${k}]; actions must be finite numbers`);
        }
        if (a > 1 || a < -1) this.counts.actionsOutOfRange++;
        dst[d + k] = a;
      }
    }
  }

  /** Step every running slot, add up rewards, end and refill finished episodes (in slot order). */
  private stepSlots(n: number): void {
    const { hooks, rowSlot, vec } = this;
    if (hooks.beforeStep) for (let r = 0; r < n; r++) hooks.beforeStep(rowSlot[r], this.slotActionRows[rowSlot[r]]);
    vec.step(this.slotActions);
    for (let r = 0; r < n; r++) {
      const s = rowSlot[r];
      const reward = vec.rewards[s];
      this.slotReturn[s] += reward;
      this.slotLength[s]++;
      this.counts.envSteps++;
      hooks.afterStep?.(s, reward);
      if (vec.running[s] === 0) this.finish(s);
    }
  }

  private finish(s: number): void {
    const { vec } = this;
    this.hooks.episodeEnd?.({
      slot: s,
      index: this.slotIndex[s],
      seed: this.slotSeed[s],
      return: this.slotReturn[s],
      length: this.slotLength[s],
      terminated: vec.terminated[s] === 1,
      nonFinite: vec.nonFinite[s] === 1,
    });
    if (this.next < this.plan.count) this.start(s);
  }

  /** A PolicyError naming the episodes of the current batch (row `culprit` first when known). */
  private policyError(kind: PolicyError['kind'], n: number, culprit: number, detail: string, cause?: unknown): PolicyError {
    const ids = Array.from(this.ctxEpisodeIds.subarray(0, n));
    const episodes = culprit >= 0 ? [ids[culprit]] : ids;
    return new PolicyError({ policy: this.policyName, envId: this.envId, kind, episodes, detail }, cause === undefined ? undefined : { cause });
  }
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v !== null && typeof v === 'object' && typeof (v as PromiseLike<unknown>).then === 'function';
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
