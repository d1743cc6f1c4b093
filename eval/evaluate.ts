/**
 * `evaluate(options)`: run N episodes per environment of one policy over a worker pool and
 * return the result document (eval/RESULT_FORMAT.md).
 *
 * Work is cut into chunks of episodes (eval/schedule.ts) that are handed out dynamically: the
 * main thread keeps exactly one chunk in flight per worker and gives the next chunk to the
 * first worker that finishes. Episode i of a run seeded s is reset with deriveSeed(s, i) and its
 * result stored under i, so neither the number of workers nor the order of completion matters.
 *
 * Failure handling:
 * - a policy error (throws, NaN, wrong length, --policy-timeout) fails the run, naming the
 *   policy and the episode(s);
 * - a policy stuck in a synchronous loop cannot answer its own timer: the main thread watches a
 *   shared "act started at" record per worker and terminates the worker (Piscina abort);
 * - a crashed worker (process.exit, WASM abort, ...) -> its chunk is retried once on a fresh
 *   worker and recorded in `retries`; a second crash of that chunk fails the run;
 * - an aborted `signal` (Ctrl-C) stops the run: workers are terminated and the partial result
 *   (complete: false, interrupted: true) is returned.
 * A failed run throws `EvaluationError`, whose `.result` is the partial document.
 */
import { pluginCheckpoint } from '../src/paths.js';
import { sha256File, sha256FileSync } from '../src/hash.js';
import { existsSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { join, resolve } from 'node:path';
import { DEFAULT_MAX_EPISODE_STEPS } from '../src/make-env.js';
import { mujocoPackageVersion, packageRoot } from '../src/mujoco/bridge.js';
import { PolicyError, PolicyLoadError, formatEpisodes } from '../src/policy/errors.js';
import { policyLabel, resolvePolicyRef } from '../src/policy/load.js';
import { isOfqlPolicyRef, resolveOfqlCheckpoint } from '../src/policy/ofql-cli.js';
import type { ResolvedCheckpointDir } from '../src/checkpoint/run-dir.js';
import type { PolicyRef } from '../src/policy/types.js';
import { getEnvEntry, normalizedScore } from '../src/registry.js';
import { assertSeed, deriveSeed } from '../src/rng.js';
import { MAX_ENV_BATCH_SIZE, MAX_EPISODES, MAX_EPISODE_STEPS, MAX_TIMEOUT_MS, checkAtMost } from '../src/limits.js';
import { EvalPool, defaultWorkerCount } from './pool.js';
import {
  type EnvResult,
  type EvalResultDocument,
  type PolicyInfo,
  RESULT_KIND,
  RESULT_SCHEMA_VERSION,
  type RetryRecord,
  type RunSettings,
  makeEnvResult,
} from './result.js';
import { type EpisodeOutcome, type RunnerConfig, WATCH, watchBufferBytes } from './runner.js';
import { type Shard, chunksOfShard, episodesOfShard, parseShard } from './schedule.js';
import { expandEnvList } from './suites.js';
import type { ChunkReply } from './worker.js';
import { MAX_RECORDED_EPISODES, encodeRecording, type RecordedEpisode } from './recording.js';

export const DEFAULT_EPISODES = 150;
export const DEFAULT_BATCH_SIZE = 8;
export const DEFAULT_POLICY_TIMEOUT_MS = 60_000;
/** Default limit on a policy factory: generous, since OFQL / TF.js setup takes seconds on a loaded machine. */
export const DEFAULT_POLICY_LOAD_TIMEOUT_MS = 120_000;

export interface EvaluateOptions {
  /** Env ids and/or suite names (`d4rl-locomotion`), or one comma-separated string. */
  env: string | readonly string[];
  /** Built-in name (`random`, `zero`) or a path to an ES module. */
  policy: string | PolicyRef;
  /**
   * Checkpoint for the policy (passed as `spec.ckpt`). For the OFQL checkpoint policy a training
   * run directory (`<run>`, `<run>@N`, `<run>/latest`) is resolved to the step-N/ directory it
   * names (src/checkpoint/run-dir.ts) and the workers load exactly that one.
   */
  ckpt?: string;
  /** `--ckpt` as the user typed it when `ckpt` is what it was already resolved to (recorded as policy.ckptGiven). */
  ckptGiven?: string;
  /** Episodes per env in the whole run (default 150). */
  episodes?: number;
  /** Run seed (default 0). */
  seed?: number;
  /** Worker threads (default: available cores), capped by the number of chunks. */
  workers?: number;
  /** Env slots per worker = rows per policy call (default 8). */
  batchSize?: number;
  /** Max episodes per chunk (default = batchSize). */
  chunkSize?: number;
  /** Episode horizon (default 1000 = D4RL); other values are flagged not D4RL-comparable. */
  maxEpisodeSteps?: number;
  /** Limit per act() call in ms (default 60000); 0 disables. */
  policyTimeoutMs?: number;
  /** Limit on the policy factory (per worker and env) in ms (default 120000); 0 disables. */
  policyLoadTimeoutMs?: number;
  /** Run only this share (`{index, count}` or 'i/n'). */
  shard?: Shard | string | null;
  /** Abort to stop early (Ctrl-C): the partial result is returned, `complete: false`. */
  signal?: AbortSignal;
  /** Called every `progressIntervalMs` and once at the end. */
  onProgress?: (p: Progress) => void;
  progressIntervalMs?: number;
  /** Called when a chunk is retried after a worker crash. */
  onRetry?: (envId: string, retry: RetryRecord) => void;
  /** Keep the qpos trajectory and rewards of the episodes with index < record (per env; default 0). */
  record?: number;
  /** Base for relative policy / ckpt paths (default process.cwd()). */
  cwd?: string;
  /** Recorded as `command` in the result. */
  command?: string[];
  /** A pool to use (kept alive afterwards); by default one is created and destroyed. */
  pool?: EvalPool;
  /** JS heap limit of each worker thread of an own pool, MB (default workerHeapLimitMb(workers), src/limits.ts). */
  workerHeapLimitMb?: number;
}

export interface Progress {
  /** Episodes finished (all envs) / to run. */
  done: number;
  total: number;
  envSteps: number;
  elapsedSeconds: number;
  perEnv: { envId: string; done: number; total: number }[];
  retries: number;
}

/** The run failed; `result` is the partial document (complete: false, error set). */
export class EvaluationError extends Error {
  readonly result: EvalResultDocument;
  constructor(message: string, result: EvalResultDocument) {
    super(message);
    this.name = 'EvaluationError';
    this.result = result;
  }
}

interface Job {
  envIndex: number;
  episodes: number[];
  attempt: 0 | 1;
  retry?: RetryRecord;
}

interface InFlight {
  job: Job;
  controller: AbortController;
  watch: SharedArrayBuffer;
  abortReason: null | 'timeout' | 'stop';
  /** The fresh single-worker pool of a retry. */
  ownPool?: EvalPool;
}

interface EnvState {
  envId: string;
  outcomes: Map<number, EpisodeOutcome>;
  envSteps: number;
  busyMs: number;
  policyMs: number;
  outOfRange: number;
  description: string | null;
  retries: RetryRecord[];
  scope: number[];
}

export async function evaluate(options: EvaluateOptions): Promise<EvalResultDocument> {
  const startedAt = new Date();
  const t0 = performance.now();
  const cwd = options.cwd ?? process.cwd();
  const envIds = expandEnvList(options.env);
  const episodes = options.episodes ?? DEFAULT_EPISODES;
  checkInt(episodes, 'episodes', 1);
  checkAtMost(episodes, MAX_EPISODES, '--episodes', 'episodes per environment', 'every episode is kept in memory and in the result');
  const seed = options.seed ?? 0;
  assertSeed(seed, 'seed');
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  checkInt(batchSize, 'batch size', 1);
  checkAtMost(batchSize, MAX_ENV_BATCH_SIZE, '--batch-size', 'environments per worker', "one worker's MuJoCo heap holds about 150; use more workers instead");
  const chunkSize = options.chunkSize ?? batchSize;
  checkInt(chunkSize, 'chunk size', 1);
  const maxEpisodeSteps = options.maxEpisodeSteps ?? DEFAULT_MAX_EPISODE_STEPS;
  checkInt(maxEpisodeSteps, 'max episode steps', 1);
  checkAtMost(maxEpisodeSteps, MAX_EPISODE_STEPS, '--max-episode-steps', 'steps', 'D4RL episodes are 1000 steps');
  const policyTimeoutMs = options.policyTimeoutMs ?? DEFAULT_POLICY_TIMEOUT_MS;
  if (!(Number.isFinite(policyTimeoutMs) && policyTimeoutMs >= 0)) {
    throw new RangeError(`policy timeout must be a non-negative number of ms, got ${String(policyTimeoutMs)}`);
  }
  checkAtMost(policyTimeoutMs, MAX_TIMEOUT_MS, '--policy-timeout', 'ms', "Node's timers hold at most 2^31 - 1 ms, about 24.8 days; 0 = no limit");
  const policyLoadTimeoutMs = options.policyLoadTimeoutMs ?? DEFAULT_POLICY_LOAD_TIMEOUT_MS;
  if (!(Number.isFinite(policyLoadTimeoutMs) && policyLoadTimeoutMs >= 0)) {
    throw new RangeError(`policy load timeout must be a non-negative number of ms, got ${String(policyLoadTimeoutMs)}`);
  }
  const record = options.record ?? 0;
  checkInt(record, 'record', 0);
  if (record > MAX_RECORDED_EPISODES) throw new RangeError(`--record keeps at most ${MAX_RECORDED_EPISODES} episodes per env, got ${record}`);
  checkAtMost(policyLoadTimeoutMs, MAX_TIMEOUT_MS, '--policy-load-timeout', 'ms', "Node's timers hold at most 2^31 - 1 ms, about 24.8 days; 0 = no limit");
  const shard = typeof options.shard === 'string' ? parseShard(options.shard) : (options.shard ?? null);
  if (shard) parseShard(`${shard.index}/${shard.count}`);
  const policyRef = typeof options.policy === 'string' ? resolvePolicyRef(options.policy, cwd) : options.policy;
  const label = policyLabel(policyRef);
  if (policyRef.kind === 'builtin' && options.ckpt !== undefined) {
    throw new PolicyLoadError(label, `--ckpt was given, but '${label}' is a built-in policy that takes no checkpoint`);
  }
  const resolved = resolveCkpt(options.ckpt, cwd, policyRef);
  const ckpt = resolved?.dir ?? null;
  const policy = await describePolicy(policyRef, ckpt);
  if (resolved && isOfqlPolicyRef(policyRef)) {
    // What was typed and which step of which run it named: `--ckpt <run>` moves as the run goes on.
    policy.ckptGiven = options.ckptGiven ?? resolved.given;
    policy.ckptRun = resolved.run;
    policy.ckptStep = resolved.step;
  }

  const chunks = chunksOfShard(episodes, chunkSize, shard);
  const scope = episodesOfShard(episodes, chunkSize, shard);
  const envs: EnvState[] = envIds.map((envId) => ({
    envId,
    outcomes: new Map(),
    envSteps: 0,
    busyMs: 0,
    policyMs: 0,
    outOfRange: 0,
    description: null,
    retries: [],
    scope,
  }));
  const queue: Job[] = [];
  for (let e = 0; e < envIds.length; e++) {
    for (const c of chunks) queue.push({ envIndex: e, episodes: range(c.start, c.end), attempt: 0 });
  }
  const total = queue.reduce((s, j) => s + j.episodes.length, 0);
  const workers = Math.max(1, Math.min(options.workers ?? options.pool?.workers ?? defaultWorkerCount(), queue.length || 1));
  if (options.workers !== undefined) checkInt(options.workers, 'workers', 1);

  const settings: RunSettings = {
    seed,
    episodes,
    maxEpisodeSteps,
    d4rlComparable: maxEpisodeSteps === DEFAULT_MAX_EPISODE_STEPS,
    batchSize,
    chunkSize,
    workers,
    policyTimeoutMs,
    shard: shard ? { index: shard.index, count: shard.count } : null,
  };
  const configs: RunnerConfig[] = envIds.map((envId) => ({
    envId,
    maxEpisodeSteps,
    batchSize: Math.min(batchSize, chunkSize),
    policy: policyRef,
    ckpt: ckpt ?? undefined,
    seed,
    policyTimeoutMs,
    policyLoadTimeoutMs,
  }));

  let failure: string | null = null;
  let interrupted = false;
  let stopping = false;
  let mujocoVersion: string | null = null;
  const inFlight = new Set<InFlight>();
  let mainInFlight = 0;
  let doneEpisodes = 0;
  let doneSteps = 0;
  let retryCount = 0;

  const ownsPool = !options.pool;
  const heapLimitMb = options.workerHeapLimitMb;
  const pool = queue.length > 0 ? (options.pool ?? new EvalPool(workers, { heapLimitMb })) : undefined;

  const progress = (): Progress => {
    let done = doneEpisodes;
    let steps = doneSteps;
    for (const f of inFlight) {
      const head = new Float64Array(f.watch, 0, WATCH.headerSlots);
      done += head[WATCH.episodesDone];
      steps += head[WATCH.envSteps];
    }
    return {
      done,
      total,
      envSteps: steps,
      elapsedSeconds: (performance.now() - t0) / 1000,
      perEnv: envs.map((s) => ({ envId: s.envId, done: s.outcomes.size, total: s.scope.length })),
      retries: retryCount,
    };
  };

  // Stopping terminates the workers. An owned pool is destroyed outright rather than having its
  // tasks aborted: Piscina replaces a worker killed by an abort, and a replacement started
  // after destroy() would be left running.
  const terminate = (): void => {
    for (const f of inFlight) {
      f.abortReason ??= 'stop';
      if (f.ownPool) void f.ownPool.destroy();
      else if (!ownsPool) f.controller.abort(new Error('evaluation stopped'));
    }
    if (ownsPool) void pool?.destroy();
  };
  // Stopping first asks every running chunk to return at its next step (WATCH.stop), and
  // terminates the workers only if some are still busy after STOP_GRACE_MS (a hung act()), or
  // after STOP_LOAD_GRACE_MS while a worker is still building its policy (a factory in the middle
  // of creating an onnxruntime session must not be terminated either).
  let stopTimer: NodeJS.Timeout | undefined;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    for (const f of inFlight) new Float64Array(f.watch, 0, WATCH.headerSlots)[WATCH.stop] = 1;
    const stoppedAt = Date.now();
    stopTimer = setInterval(() => {
      if (inFlight.size === 0) return clearInterval(stopTimer);
      const waited = Date.now() - stoppedAt;
      const loading = [...inFlight].some((f) => f.abortReason !== 'timeout' && new Float64Array(f.watch, 0, WATCH.headerSlots)[WATCH.loadStart] > 0);
      if (waited >= (loading ? STOP_LOAD_GRACE_MS : STOP_GRACE_MS)) {
        clearInterval(stopTimer);
        terminate();
      }
    }, STOP_POLL_MS);
    stopTimer.unref();
  };
  const fail = (message: string): void => {
    failure ??= message;
    stop();
  };
  const onAbort = (): void => {
    if (!stopping) interrupted = true;
    stop();
  };
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  // A throw outside any task (a policy's timer firing after its chunk was answered) kills the
  // worker but rejects no task: without this it went unreported, and the run looked clean.
  const onIdleError = (err: Error): void => {
    if (stopping) return; // workers being terminated, or the run already failed
    fail(idleErrorMessage(label, err));
  };
  const unsubscribe: Array<() => void> = [];
  if (pool) unsubscribe.push(pool.onIdleError(onIdleError));

  await new Promise<void>((resolveRun) => {
    let finished = false;
    const maybeDone = (): void => {
      if (!finished && inFlight.size === 0 && (stopping || queue.length === 0)) {
        finished = true;
        resolveRun();
      }
    };

    const handleReply = (f: InFlight, reply: ChunkReply): void => {
      const env = envs[f.job.envIndex];
      if (!reply.ok) {
        fail(reply.error.message);
        return;
      }
      mujocoVersion ??= reply.mujocoVersion;
      const o = reply.outcome;
      for (const ep of o.episodes) env.outcomes.set(ep.index, ep);
      env.envSteps += o.envSteps;
      env.busyMs += o.busyMs;
      env.policyMs += o.policyMs;
      env.outOfRange += o.actionsOutOfRange;
      env.description ??= reply.policyDescription ?? null;
      doneEpisodes += o.episodes.length;
      doneSteps += o.envSteps;
      if (f.job.retry) f.job.retry.outcome = 'succeeded';
    };

    const handleRejection = (f: InFlight, err: unknown): void => {
      if (f.abortReason !== null) return; // we stopped it (timeout already reported, or stop)
      const env = envs[f.job.envIndex];
      const message = workerErrorText(err, f.ownPool?.heapLimitMb ?? pool?.heapLimitMb);
      if (stopping) return;
      if (f.job.attempt === 0) {
        const retry: RetryRecord = { episodes: f.job.episodes, error: message, outcome: 'interrupted' };
        env.retries.push(retry);
        retryCount++;
        options.onRetry?.(env.envId, retry);
        queue.unshift({ ...f.job, attempt: 1, retry });
      } else {
        if (f.job.retry) f.job.retry.outcome = 'failed';
        fail(
          `a worker crashed twice on ${env.envId} ${formatEpisodes(f.job.episodes)} (policy ${label}): ${message}`,
        );
      }
    };

    const launch = (job: Job): void => {
      const f: InFlight = {
        job,
        controller: new AbortController(),
        watch: new SharedArrayBuffer(watchBufferBytes(configs[job.envIndex].batchSize)),
        abortReason: null,
      };
      let runOn: EvalPool;
      if (job.attempt === 0) {
        runOn = pool!;
        mainInFlight++;
      } else {
        runOn = f.ownPool = new EvalPool(1, { heapLimitMb: heapLimitMb ?? pool?.heapLimitMb }); // a fresh worker for the retry
        unsubscribe.push(f.ownPool.onIdleError(onIdleError));
      }
      inFlight.add(f);
      runOn
        .run({ config: configs[job.envIndex], episodes: job.episodes, watch: f.watch, recordBelow: record }, f.controller.signal)
        .then(
          (reply) => handleReply(f, reply),
          (err: unknown) => handleRejection(f, err),
        )
        .finally(() => {
          inFlight.delete(f);
          if (job.attempt === 0) mainInFlight--;
          const own = f.ownPool;
          // A retry's own worker also gets the settle time for a late error (see onIdleError).
          const next = own ? new Promise((r) => setTimeout(r, stopping ? 0 : IDLE_ERROR_SETTLE_MS)).then(() => own.destroy()) : Promise.resolve();
          void next.finally(() => {
            pump();
          });
        });
    };

    const pump = (): void => {
      while (!stopping && queue.length > 0) {
        const head = queue[0];
        if (head.attempt === 0 && mainInFlight >= workers) break;
        queue.shift();
        launch(head);
      }
      maybeDone();
    };

    // Watchdog for act() calls and factories that never return (synchronous loops), and progress ticks.
    const graceMs = Math.max(200, policyTimeoutMs * 0.2);
    const watchdogMs = watchdogPeriodMs(policyTimeoutMs, policyLoadTimeoutMs);
    const watchdog =
      watchdogMs > 0
        ? setInterval(() => {
            const now = Date.now();
            for (const f of inFlight) {
              const head = new Float64Array(f.watch, 0, WATCH.headerSlots);
              const hung = hungFactoryMessage(head, now, policyLoadTimeoutMs, label, envIds[f.job.envIndex]);
              if (hung !== null && f.abortReason === null) {
                f.abortReason = 'timeout';
                fail(hung);
                continue;
              }
              if (!(policyTimeoutMs > 0)) continue;
              const startedMs = head[WATCH.actStart];
              if (startedMs > 0 && now - startedMs > policyTimeoutMs + graceMs && f.abortReason === null) {
                const rows = head[WATCH.actRows];
                const ids = Array.from(new Int32Array(f.watch, WATCH.headerSlots * 8, rows));
                const err = new PolicyError({
                  policy: label,
                  envId: envIds[f.job.envIndex],
                  kind: 'timeout',
                  episodes: ids,
                  detail: `act() did not return within --policy-timeout ${policyTimeoutMs} ms; its worker was terminated`,
                });
                f.abortReason = 'timeout';
                fail(err.message); // stops the run, terminating this worker with the others
              }
            }
          }, watchdogMs)
        : undefined;
    const ticker = options.onProgress
      ? setInterval(() => options.onProgress?.(progress()), options.progressIntervalMs ?? 500)
      : undefined;
    const clearTimers = (): void => {
      if (watchdog) clearInterval(watchdog);
      if (ticker) clearInterval(ticker);
    };
    const origResolve = resolveRun;
    resolveRun = () => {
      clearTimers();
      origResolve();
    };
    if (stopping) {
      maybeDone();
      return;
    }
    pump();
  });
  options.signal?.removeEventListener('abort', onAbort);
  if (stopTimer) clearInterval(stopTimer);
  // Give a worker's error that was sent right after its last answer the time to arrive.
  if (pool && !stopping) await new Promise((r) => setTimeout(r, IDLE_ERROR_SETTLE_MS));
  if (pool && ownsPool) await pool.destroy();
  for (const u of unsubscribe) u();
  options.onProgress?.(progress());

  const wallSeconds = (performance.now() - t0) / 1000;
  const results = envs.map((s) => buildEnvResult(s));
  const envSteps = results.reduce((a, r) => a + r.timing.envSteps, 0);
  const complete = failure === null && !interrupted && results.every((r) => r.complete);
  const doc: EvalResultDocument = {
    schemaVersion: RESULT_SCHEMA_VERSION,
    kind: RESULT_KIND,
    complete,
    interrupted,
    error: failure,
    createdAt: new Date().toISOString(),
    tool: { name: 'ofql-eval', version: packageVersion() },
    mujoco: { version: mujocoVersion, packageVersion: mujocoPackageVersion() },
    runtime: runtimeInfo(),
    command: options.command ?? null,
    settings,
    policy,
    timing: {
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      wallSeconds,
      envSteps,
      envStepsPerSecond: wallSeconds > 0 ? envSteps / wallSeconds : 0,
    },
    results,
  };
  if (failure !== null) throw new EvaluationError(failure, doc);
  return doc;
}

/** How long a stopping run waits for running chunks to return before it terminates their workers (ms). */
const STOP_GRACE_MS = 300;
/** The same while a worker is still inside its policy factory (ms). */
const STOP_LOAD_GRACE_MS = 5000;
const STOP_POLL_MS = 25;

/** How long a finished run waits for late worker errors before the pool goes (ms; see onIdleError). */
const IDLE_ERROR_SETTLE_MS = 25;

/** A worker's crash as the run reports it; running out of the JS heap limit says which limit. */
function workerErrorText(err: unknown, heapLimitMb: number | undefined): string {
  const message = err instanceof Error ? err.message : String(err);
  if ((err as NodeJS.ErrnoException | undefined)?.code === 'ERR_WORKER_OUT_OF_MEMORY') {
    return `the worker ran out of its ${heapLimitMb ?? '?'} MB JS heap limit (resourceLimits; does the policy keep growing memory?): ${message}`;
  }
  return message;
}

function idleErrorMessage(label: string, err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  const what = code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'ran out of its JS heap limit outside act()' : 'threw outside act(), after its chunk had been answered';
  return `policy ${label}: a worker thread ${what} (an error from the policy's timers, callbacks or unhandled promise rejections): ${err.message}`;
}

/** How often the watchdog looks (0 = no limits to watch). */
function watchdogPeriodMs(policyTimeoutMs: number, loadTimeoutMs: number): number {
  const limits = [policyTimeoutMs, loadTimeoutMs].filter((ms) => ms > 0);
  return limits.length === 0 ? 0 : Math.min(1000, Math.max(20, Math.min(...limits) / 4));
}

/**
 * A factory stuck past its limit (a synchronous loop its own timer cannot interrupt; the worker's
 * timer reports async ones first): the run's error, or null. Grace as for act().
 */
function hungFactoryMessage(head: Float64Array, now: number, loadTimeoutMs: number, label: string, envId: string): string | null {
  const startedMs = head[WATCH.loadStart];
  if (!(loadTimeoutMs > 0) || !(startedMs > 0) || now - startedMs <= loadTimeoutMs + Math.max(200, loadTimeoutMs * 0.2)) return null;
  return `policy ${label}: the factory did not return within --policy-load-timeout ${loadTimeoutMs} ms for ${envId}; its worker was terminated`;
}

function buildEnvResult(s: EnvState): EnvResult {
  const eps = [...s.outcomes.values()].sort((a, b) => a.index - b.index);
  const returns = eps.map((e) => e.return);
  return makeEnvResult({
    envId: s.envId,
    reference: getEnvEntry(s.envId),
    episodes: eps.map((e) => e.index),
    seeds: eps.map((e) => e.seed),
    returns,
    lengths: eps.map((e) => e.length),
    normalizedScores: returns.map((r) => normalizedScore(s.envId, r)),
    terminated: eps.map((e) => e.terminated),
    pendingEpisodes: s.scope.filter((i) => !s.outcomes.has(i)),
    policyDescription: s.description,
    actionsOutOfRange: s.outOfRange,
    retries: s.retries,
    ...recordingsOf(eps),
    envSteps: s.envSteps,
    workerSeconds: s.busyMs / 1000,
    policySeconds: s.policyMs / 1000,
  });
}

/** `recordings` of the recorded episodes (in index order), or nothing when none was recorded. */
function recordingsOf(eps: readonly EpisodeOutcome[]): { recordings?: RecordedEpisode[] } {
  const recorded = eps.filter((e) => e.recording !== undefined);
  return recorded.length === 0 ? {} : { recordings: recorded.map((e) => encodeRecording(e.index, e.recording!)) };
}

/** Seeds of episodes `indices` of a run seeded `seed` (what `seeds` in a result holds). */
export function episodeSeeds(seed: number, indices: readonly number[]): number[] {
  return indices.map((i) => deriveSeed(seed, i));
}

async function describePolicy(ref: PolicyRef, ckpt: string | null): Promise<PolicyInfo> {
  const info: PolicyInfo = {
    name: policyLabel(ref),
    kind: ref.kind,
    path: ref.kind === 'module' ? ref.path : null,
    sha256: ref.kind === 'module' ? sha256FileSync(ref.path) : null,
    ckpt,
    ckptSha256: null,
  };
  if (ckpt !== null && existsSync(ckpt) && statSync(ckpt).isFile()) info.ckptSha256 = await sha256File(ckpt);
  return info;
}

/**
 * `ckpt` made absolute when it names an existing path (else as given: a plug-in may take any
 * string); for the OFQL checkpoint policy, the checkpoint directory it names (a training run
 * directory -> one of its step-N/ checkpoints; PolicyLoadError for an unknown step or an empty run).
 */
function resolveCkpt(ckpt: string | undefined, cwd: string, ref: PolicyRef): ResolvedCheckpointDir | null {
  if (ckpt === undefined) return null;
  if (ckpt.trim() === '') throw new RangeError('--ckpt is empty');
  if (isOfqlPolicyRef(ref)) return resolveOfqlCheckpoint(ckpt, cwd);
  return { given: ckpt, dir: pluginCheckpoint(ckpt, cwd), run: null, step: null, via: 'checkpoint' };
}


let cachedVersion: string | undefined;
export function packageVersion(): string {
  cachedVersion ??= (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;
  return cachedVersion;
}

function runtimeInfo(): EvalResultDocument['runtime'] {
  const cpus = os.cpus();
  return {
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    cpus: os.availableParallelism(),
    cpuModel: cpus[0]?.model ?? 'unknown',
    hostname: os.hostname(),
  };
}

function range(start: number, end: number): number[] {
  const out: number[] = [];
  for (let i = start; i < end; i++) out.push(i);
  return out;
}

function checkInt(v: unknown, what: string, min: number): void {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
    throw new RangeError(`${what} must be an integer >= ${min}, got ${String(v)}`);
  }
}
