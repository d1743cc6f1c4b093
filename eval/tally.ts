/**
 * What the workers have answered so far, per environment: episodes stored under their global
 * index (so neither the number of workers nor the order of answers matters), timings and retries
 * summed; at the end, each environment's EnvResult in index order.
 */
import { getEnvEntry, normalizedScore } from '../src/registry.js';
import type { Progress } from './options.js';
import { encodeRecording, type RecordedEpisode } from './recording.js';
import { type EnvResult, type RetryRecord, makeEnvResult } from './result.js';
import type { EpisodeOutcome } from './runner.js';
import type { ChunkReply } from './worker.js';

/** A chunk's answer that carries its episodes. */
export type ChunkAnswer = Extract<ChunkReply, { ok: true }>;

/** One environment's share of the run. */
interface EnvTally {
  envId: string;
  outcomes: Map<number, EpisodeOutcome>;
  envSteps: number;
  busyMs: number;
  policyMs: number;
  outOfRange: number;
  description: string | null;
  retries: RetryRecord[];
  /** The episodes this run is to finish. */
  scope: number[];
}

export class RunTally {
  private readonly envs: EnvTally[];
  /** Episodes and env steps of the answered chunks, all environments. */
  episodes = 0;
  envSteps = 0;
  /** Chunks retried after a worker crash. */
  retryCount = 0;
  /** The MuJoCo version the first answer reports. */
  mujocoVersion: string | null = null;

  constructor(envIds: readonly string[], scope: number[]) {
    this.envs = envIds.map((envId) => ({
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
  }

  envId(envIndex: number): string {
    return this.envs[envIndex].envId;
  }

  addChunk(envIndex: number, reply: ChunkAnswer): void {
    const env = this.envs[envIndex];
    this.mujocoVersion ??= reply.mujocoVersion;
    const o = reply.outcome;
    for (const ep of o.episodes) env.outcomes.set(ep.index, ep);
    env.envSteps += o.envSteps;
    env.busyMs += o.busyMs;
    env.policyMs += o.policyMs;
    env.outOfRange += o.actionsOutOfRange;
    env.description ??= reply.policyDescription ?? null;
    this.episodes += o.episodes.length;
    this.envSteps += o.envSteps;
  }

  addRetry(envIndex: number, retry: RetryRecord): void {
    this.envs[envIndex].retries.push(retry);
    this.retryCount++;
  }

  perEnv(): Progress['perEnv'] {
    return this.envs.map((s) => ({ envId: s.envId, done: s.outcomes.size, total: s.scope.length }));
  }

  envResults(): EnvResult[] {
    return this.envs.map(envResultOf);
  }
}

function envResultOf(s: EnvTally): EnvResult {
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
