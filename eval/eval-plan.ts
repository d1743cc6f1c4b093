/**
 * Planning an evaluation before any worker starts: the options checked (a bad value fails here,
 * not after the pool has started), the policy and its checkpoint resolved, and the work cut into
 * jobs: chunks of episodes per environment (eval/schedule.ts), in the order they are handed out.
 */
import { existsSync, statSync } from 'node:fs';
import { sha256File, sha256FileSync } from '../src/hash.js';
import { expandEnvList } from '../src/env-list.js';
import { MAX_ENV_BATCH_SIZE, MAX_EPISODES, MAX_EPISODE_STEPS, MAX_TIMEOUT_MS, checkAtMost } from '../src/limits.js';
import { DEFAULT_MAX_EPISODE_STEPS } from '../src/make-env.js';
import { PolicyLoadError } from '../src/policy/errors.js';
import { policyLabel, resolvePolicyRef } from '../src/policy/load.js';
import { resolvePolicyCheckpoint, takesRunDirCheckpoint } from '../src/policy/policy-checkpoint.js';
import type { PolicyRef } from '../src/policy/types.js';
import { assertSeed } from '../src/rng.js';
import {
  DEFAULT_BATCH_SIZE,
  DEFAULT_EPISODES,
  DEFAULT_POLICY_LOAD_TIMEOUT_MS,
  DEFAULT_POLICY_TIMEOUT_MS,
  type EvaluateOptions,
} from './options.js';
import { defaultWorkerCount } from './pool.js';
import { MAX_RECORDED_EPISODES } from './recording.js';
import type { PolicyInfo, RetryRecord, RunSettings } from './result.js';
import type { RunnerConfig } from './runner.js';
import { type EpisodeRange, type Shard, chunksOfShard, episodeIndices, episodesOfShard, parseShard } from './schedule.js';
import { OptionError } from '../src/option-error.js';

/** One chunk of episodes of one environment, as handed to a worker. */
export interface Job {
  envIndex: number;
  episodes: number[];
  /** 1: the retry on a fresh worker after a crash. */
  attempt: 0 | 1;
  retry?: RetryRecord;
}

export interface EvalPlan {
  envIds: string[];
  settings: RunSettings;
  /** What a worker runs, per environment (index as in envIds). */
  configs: RunnerConfig[];
  /** Every chunk of every environment, in the order they are handed out. */
  jobs: Job[];
  /** Episode indices of this shard (the same for every environment). */
  scope: number[];
  /** Episodes in all jobs. */
  total: number;
  /** Episodes with an index below this keep their trajectory (--record). */
  record: number;
  /** Limit on a policy factory (ms; 0 = none); the limit per act() call is in settings. */
  policyLoadTimeoutMs: number;
  policy: PolicyInfo;
  /** The policy's name in messages. */
  label: string;
}

/** The checked numbers of a run. */
interface Limits {
  episodes: number;
  seed: number;
  batchSize: number;
  chunkSize: number;
  maxEpisodeSteps: number;
  policyTimeoutMs: number;
  policyLoadTimeoutMs: number;
  record: number;
  shard: Shard | null;
}

/** The policy of a run, resolved on the main thread. */
interface RunPolicy {
  ref: PolicyRef;
  label: string;
  /** The checkpoint the workers get, or null. */
  ckpt: string | null;
  info: PolicyInfo;
}

const TIMER_LIMIT = "Node's timers hold at most 2^31 - 1 ms, about 24.8 days; 0 = no limit";

export async function planEvaluation(options: EvaluateOptions): Promise<EvalPlan> {
  const cwd = options.cwd ?? process.cwd();
  const envIds = expandEnvList(options.env);
  const limits = checkedLimits(options);
  const policy = await policyOfRun(options, cwd);
  const { episodes, chunkSize, shard } = limits;
  const jobs = jobsOf(envIds.length, chunksOfShard(episodes, chunkSize, shard));
  const workers = workerCount(options, jobs.length);
  return {
    envIds,
    settings: runSettings(limits, workers),
    configs: envIds.map((envId) => runnerConfig(envId, limits, policy)),
    jobs,
    scope: episodesOfShard(episodes, chunkSize, shard),
    total: jobs.reduce((s, j) => s + j.episodes.length, 0),
    record: limits.record,
    policyLoadTimeoutMs: limits.policyLoadTimeoutMs,
    policy: policy.info,
    label: policy.label,
  };
}

/** The options' numbers with their defaults, each checked (OptionError naming the flag). */
function checkedLimits(o: EvaluateOptions): Limits {
  const episodes = o.episodes ?? DEFAULT_EPISODES;
  checkInt(episodes, 'episodes', 1);
  checkAtMost(episodes, MAX_EPISODES, '--episodes', 'episodes per environment', 'every episode is kept in memory and in the result');
  const seed = o.seed ?? 0;
  assertSeed(seed, 'seed');
  const batchSize = o.batchSize ?? DEFAULT_BATCH_SIZE;
  checkInt(batchSize, 'batch size', 1);
  checkAtMost(batchSize, MAX_ENV_BATCH_SIZE, '--batch-size', 'environments per worker', "one worker's MuJoCo heap holds about 150; use more workers instead");
  const chunkSize = o.chunkSize ?? batchSize;
  checkInt(chunkSize, 'chunk size', 1);
  const maxEpisodeSteps = o.maxEpisodeSteps ?? DEFAULT_MAX_EPISODE_STEPS;
  checkInt(maxEpisodeSteps, 'max episode steps', 1);
  checkAtMost(maxEpisodeSteps, MAX_EPISODE_STEPS, '--max-episode-steps', 'steps', 'D4RL episodes are 1000 steps');
  const policyTimeoutMs = o.policyTimeoutMs ?? DEFAULT_POLICY_TIMEOUT_MS;
  checkTimeoutMs(policyTimeoutMs, 'policy timeout', '--policy-timeout');
  const policyLoadTimeoutMs = o.policyLoadTimeoutMs ?? DEFAULT_POLICY_LOAD_TIMEOUT_MS;
  checkTimeoutMs(policyLoadTimeoutMs, 'policy load timeout', '--policy-load-timeout');
  const record = o.record ?? 0;
  checkInt(record, 'record', 0);
  if (record > MAX_RECORDED_EPISODES) throw new OptionError(`--record keeps at most ${MAX_RECORDED_EPISODES} episodes per env, got ${record}`);
  const shard = typeof o.shard === 'string' ? parseShard(o.shard) : (o.shard ?? null);
  if (shard) parseShard(`${shard.index}/${shard.count}`);
  return { episodes, seed, batchSize, chunkSize, maxEpisodeSteps, policyTimeoutMs, policyLoadTimeoutMs, record, shard };
}

/**
 * The policy reference, its checkpoint as the workers get it, and what the result records of both.
 * A kind that reads training runs (PolicyRef `ckptRunDir`) also records what was typed and which
 * step of which run it named: `--ckpt <run>` moves as the run goes on.
 */
async function policyOfRun(options: EvaluateOptions, cwd: string): Promise<RunPolicy> {
  const ref = typeof options.policy === 'string' ? resolvePolicyRef(options.policy, cwd) : options.policy;
  const label = policyLabel(ref);
  if (ref.kind === 'builtin' && options.ckpt !== undefined) {
    throw new PolicyLoadError(label, `--ckpt was given, but '${label}' is a built-in policy that takes no checkpoint`);
  }
  const resolved = resolvePolicyCheckpoint(ref, options.ckpt, cwd);
  const ckpt = resolved?.dir ?? null;
  const info = await describePolicy(ref, ckpt);
  if (resolved && takesRunDirCheckpoint(ref)) {
    info.ckptGiven = options.ckptGiven ?? resolved.given;
    info.ckptRun = resolved.run;
    info.ckptStep = resolved.step;
  }
  return { ref, label, ckpt, info };
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

/** Every chunk of every environment, environment by environment. */
function jobsOf(envCount: number, chunks: readonly EpisodeRange[]): Job[] {
  const jobs: Job[] = [];
  for (let e = 0; e < envCount; e++) {
    for (const c of chunks) jobs.push({ envIndex: e, episodes: episodeIndices(c), attempt: 0 });
  }
  return jobs;
}

/** Worker threads: as asked (default: the given pool's, else the cores), at most one per job. */
function workerCount(options: EvaluateOptions, jobCount: number): number {
  const workers = Math.max(1, Math.min(options.workers ?? options.pool?.workers ?? defaultWorkerCount(), jobCount || 1));
  if (options.workers !== undefined) checkInt(options.workers, 'workers', 1);
  return workers;
}

function runSettings(l: Limits, workers: number): RunSettings {
  return {
    seed: l.seed,
    episodes: l.episodes,
    maxEpisodeSteps: l.maxEpisodeSteps,
    d4rlComparable: l.maxEpisodeSteps === DEFAULT_MAX_EPISODE_STEPS,
    batchSize: l.batchSize,
    chunkSize: l.chunkSize,
    workers,
    policyTimeoutMs: l.policyTimeoutMs,
    shard: l.shard ? { index: l.shard.index, count: l.shard.count } : null,
  };
}

function runnerConfig(envId: string, l: Limits, policy: RunPolicy): RunnerConfig {
  return {
    envId,
    maxEpisodeSteps: l.maxEpisodeSteps,
    batchSize: Math.min(l.batchSize, l.chunkSize),
    policy: policy.ref,
    ckpt: policy.ckpt ?? undefined,
    seed: l.seed,
    policyTimeoutMs: l.policyTimeoutMs,
    policyLoadTimeoutMs: l.policyLoadTimeoutMs,
  };
}

function checkTimeoutMs(ms: number, what: string, flag: string): void {
  if (!(Number.isFinite(ms) && ms >= 0)) throw new OptionError(`${what} must be a non-negative number of ms, got ${String(ms)}`);
  checkAtMost(ms, MAX_TIMEOUT_MS, flag, 'ms', TIMER_LIMIT);
}

function checkInt(v: unknown, what: string, min: number): void {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
    throw new OptionError(`${what} must be an integer >= ${min}, got ${String(v)}`);
  }
}
