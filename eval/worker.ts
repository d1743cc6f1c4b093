/**
 * Piscina worker: one task = one chunk of episodes of one env. The MuJoCo module, the
 * environments and the policy are built once per (env, policy, settings) and kept for the
 * worker's lifetime, so later chunks only pay for the episodes themselves.
 *
 * Failures:
 * - policy misbehaviour (throws, NaN, wrong length, timeout) and setup errors (policy cannot be
 *   loaded, env cannot be built) are *answers*: `{ ok: false, error }`, and the run fails;
 * - anything else thrown while stepping (e.g. a WASM abort) leaves this thread's MuJoCo state
 *   suspect: the task is rejected and the thread exits, so the main thread sees a crash and
 *   retries the chunk once on a fresh worker.
 */
import { threadId } from 'node:worker_threads';
import { loadMujoco, mujocoVersion } from '../src/mujoco/bridge.js';
import { PolicyError, PolicyLoadError } from '../src/policy/errors.js';
import { EpisodeRunner, WATCH, type ChunkOutcome, type RunnerConfig } from './runner.js';

export interface ChunkTask {
  config: RunnerConfig;
  episodes: number[];
  /** Shared watch record (see WATCH in runner.ts). */
  watch?: SharedArrayBuffer;
  /** Record the trajectories of episodes with an index below this (--record). */
  recordBelow?: number;
}

export interface SerializedError {
  name: string;
  message: string;
  /** 'policy': PolicyError; 'policy-load': PolicyLoadError; 'setup': env could not be built. */
  kind: 'policy' | 'policy-load' | 'setup';
  policyFailure?: PolicyError['kind'];
  episodes?: number[];
}

export type ChunkReply =
  | { ok: true; outcome: ChunkOutcome; policyDescription?: string; mujocoVersion: string; threadId: number }
  | { ok: false; error: SerializedError };

/**
 * Runners (envs + loaded policy) kept per worker, most recently used last. Bounded because a
 * long-lived pool evaluating many checkpoints would otherwise keep every policy's MuJoCo models and
 * data until the WASM heap runs out (seen with ARS iterations); 16 covers a whole 9-task suite.
 * A worker runs one chunk at a time, so an evicted runner is never in use.
 */
export const MAX_RUNNERS_PER_WORKER = 16;
const runners = new Map<string, Promise<EpisodeRunner>>();

function runnerKey(c: RunnerConfig): string {
  return JSON.stringify([c.envId, c.maxEpisodeSteps, c.batchSize, c.policy, c.ckpt ?? null, c.seed, c.policyTimeoutMs, c.policyLoadTimeoutMs ?? 0]);
}

async function getRunner(config: RunnerConfig): Promise<EpisodeRunner> {
  const key = runnerKey(config);
  let p = runners.get(key);
  if (p) {
    runners.delete(key); // re-insert: most recently used last
    runners.set(key, p);
    return p;
  }
  while (runners.size >= MAX_RUNNERS_PER_WORKER) {
    const [oldKey, old] = runners.entries().next().value as [string, Promise<EpisodeRunner>];
    runners.delete(oldKey);
    await old.then((r) => r.close()).catch(() => undefined);
  }
  p = EpisodeRunner.create(config);
  runners.set(key, p);
  p.catch(() => runners.delete(key));
  return p;
}

/** Runners this worker holds now (for tests of the bound above). */
export function cachedRunnerCount(): number {
  return runners.size;
}

export default async function runChunk(task: ChunkTask): Promise<ChunkReply> {
  let runner: EpisodeRunner;
  let version: string;
  try {
    version = mujocoVersion(await loadMujoco());
    runner = await withLoadWatch(task.watch, () => getRunner(task.config));
  } catch (err) {
    if (err instanceof PolicyLoadError) {
      return { ok: false, error: { name: err.name, message: err.message, kind: 'policy-load' } };
    }
    return {
      ok: false,
      error: { name: errorName(err), message: `cannot set up ${task.config.envId}: ${errorText(err)}`, kind: 'setup' },
    };
  }
  try {
    const outcome = await runner.run(task.episodes, task.watch, task.recordBelow ?? 0);
    return {
      ok: true,
      outcome,
      policyDescription: typeof runner.policy.description === 'string' ? runner.policy.description : undefined,
      mujocoVersion: version,
      threadId,
    };
  } catch (err) {
    if (err instanceof PolicyError) {
      return {
        ok: false,
        error: {
          name: err.name,
          message: err.message,
          kind: 'policy',
          policyFailure: err.kind,
          episodes: err.episodes,
        },
      };
    }
    // Unexpected failure inside the simulation: this thread's state is suspect. Answer with the
    // error, then end the thread (after the answer is posted) so Piscina replaces it.
    setTimeout(() => process.exit(70), 0);
    throw err instanceof Error ? err : new Error(String(err));
  }
}

/** Mark the watch record while the runner (envs + policy factory) is built, for the main thread's watchdog. */
async function withLoadWatch<T>(watch: SharedArrayBuffer | undefined, build: () => Promise<T>): Promise<T> {
  const head = watch ? new Float64Array(watch, 0, WATCH.headerSlots) : undefined;
  if (head) head[WATCH.loadStart] = Date.now();
  try {
    return await build();
  } finally {
    if (head) head[WATCH.loadStart] = 0;
  }
}

function errorName(err: unknown): string {
  return err instanceof Error ? err.name : 'Error';
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
