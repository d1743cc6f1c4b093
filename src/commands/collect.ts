/**
 * `ofql-eval collect`: roll out a policy and write a D4RL-layout HDF5 dataset.
 *
 *     ofql-eval collect --env hopper-medium-v2 --policy dist/src/behaviour/linear-policy.js \
 *       --ckpt eval/behaviour/hopper-medium.json --steps 1000000 --action-noise 0.1 --seed 0 \
 *       --out data/hopper-medium-ars.hdf5
 *
 * File layout (d4rl/scripts/generation/mujoco/collect_data.py, the script behind D4RL's v2
 * locomotion files, and docs/reference.md §3): row i is one env step,
 * - `observations[i]`: the observation the policy saw; `next_observations[i]`: the one after the step;
 * - `actions[i]`: the action executed (policy action + noise, clipped to [-1, 1], float32-exact);
 * - `rewards[i]`; `terminals[i]`: the step ended the episode by the env's termination rule;
 *   `timeouts[i]`: the step was cut by the time limit (`--max-episode-steps`, 1000) or by the
 *   `--steps` budget (the last, partial episode; D4RL's script leaves that row unflagged, which
 *   `qlearning_dataset` treats the same, since it never uses the last row);
 * - `infos/qpos`, `infos/qvel`: the MuJoCo state of `observations[i]` (before the step), float32 as
 *   in D4RL's files unless `--infos-dtype float64`;
 * - `metadata/*`: policy, checkpoint (+ sha256), noise, seed, env, counts, ofql-eval version.
 *
 * Episodes are 0, 1, 2, ... reset with deriveSeed(seed, i) and written in that order until
 * `--steps` rows are written. Workers roll out chunks of episodes in parallel; chunks are written
 * in episode order, so the file does not depend on `--workers` or `--batch-size`.
 * The writer writes a hidden temp file and renames it into place at the end (atomic).
 */
import { pluginCheckpoint } from '../paths.js';
import { sha256FileSync } from '../hash.js';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import cliProgress from 'cli-progress';
import type { Argv, CommandModule } from 'yargs';
import { UsageError, abortOnSignals, checkIntFlag, exitCodeOfSignal } from '../cli-errors.js';
import { resolveProgressMode } from '../../eval/progress.js';
import { D4rlWriter, packageVersion, type D4rlRows } from '../data/d4rl-writer.js';
import type { MetadataValue } from '../data/d4rl-hdf5.js';
import { namesTrainingRun, type ResolvedCheckpointDir } from '../checkpoint/run-dir.js';
import { DEFAULT_MAX_EPISODE_STEPS } from '../make-env.js';
import { mujocoPackageVersion } from '../mujoco/bridge.js';
import { PolicyLoadError } from '../policy/errors.js';
import { BUILTIN_POLICY_NAMES, policyLabel, resolvePolicyRef } from '../policy/load.js';
import { OFQL_POLICY_NAME } from '../policy/ofql-cli.js';
import { TORCH_CLI_OPTIONS, TORCH_POLICY_NAME } from '../policy/torch-cli.js';
import { isTorchStateDictPath } from '../ofql/torch-state-dict.js';
import type { PolicyRef } from '../policy/types.js';
import { getEnvEntry } from '../registry.js';
import { checkNotAnInput, checkOutputFile } from '../output-path.js';
import { MAX_ENV_BATCH_SIZE, MAX_EPISODE_STEPS, capWorkers } from '../limits.js';
import { assertSeed } from '../rng.js';
import type { CollectConfig, EpisodeData } from '../behaviour/collect-episodes.js';
import { LINEAR_POLICY_FORMAT } from '../behaviour/linear.js';
import { BehaviourPool, DEFAULT_BEHAVIOUR_WORKERS } from '../behaviour/pool.js';

export const DEFAULT_COLLECT_BATCH = 8;

const NO_POLICY = 'give the policy: --policy <random|zero|ofql|./policy.mjs> or --ckpt <linear-policy.json | OFQL checkpoint dir>';
const SIMULATED_HINT = "the locomotion ids ({halfcheetah,hopper,walker2d,ant}-<dataset>-v2, Hopper-v3, ...; see 'ofql-eval list')";

/** Bad arguments (exit code 2; a RangeError, which the CLI reports as a usage error). */
export interface CollectProgress {
  rows: number;
  steps: number;
  episodes: number;
  elapsedSeconds: number;
}

export interface CollectRunOptions {
  /** Env id, e.g. `hopper-medium-v2`. */
  env: string;
  /** Built-in policy name or ES module path; optional when `ckpt` is a linear-policy JSON. */
  policy?: string;
  ckpt?: string;
  /** Rows to collect. */
  steps: number;
  actionNoise?: number;
  epsilon?: number;
  seed?: number;
  /** Worker threads (default 2). Ignored when `pool` is given. */
  workers?: number;
  /** Env slots per worker (rows per act call; default 8). */
  batchSize?: number;
  /** Episodes per task handed to a worker (default = batchSize). */
  chunkSize?: number;
  maxEpisodeSteps?: number;
  /** Base for relative paths (default process.cwd()). */
  cwd?: string;
  /** A pool to use (kept afterwards). */
  pool?: BehaviourPool;
  /** OFQL checkpoint policy options (the evaluator's --sampler, --backend, ...), keyed by option name. */
  ofqlOptions?: Record<string, unknown>;
  onProgress?: (p: CollectProgress) => void;
  progressIntervalMs?: number;
  signal?: AbortSignal;
}

export interface CollectOptions extends CollectRunOptions {
  out: string;
  /** Element type of infos/qpos, infos/qvel (default float32, as D4RL's files). */
  infosDtype?: 'float32' | 'float64';
  /** Extra metadata entries (added to the standard ones). */
  metadata?: Record<string, MetadataValue>;
}

export interface CollectStats {
  rows: number;
  /** Episodes with at least one row written (the last one may be cut by the budget). */
  episodes: number;
  completeEpisodes: number;
  /** Mean undiscounted return of the complete episodes (NaN if none). */
  meanReturn: number;
  /** Episodes that ended by termination. */
  terminatedEpisodes: number;
  /** Whether the last episode was cut by the budget. */
  lastEpisodeCut: boolean;
  wallSeconds: number;
  stepsPerSecond: number;
  observationSize: number;
  actionSize: number;
  qposSize: number;
  qvelSize: number;
}

export interface CollectResult extends CollectStats {
  path: string;
  policy: string;
  metadata: Record<string, MetadataValue>;
}

/** Rows of one episode as the writer wants them (first `m` of its `length` rows). */
export function episodeRows(ep: EpisodeData, m: number): D4rlRows {
  const L = ep.length;
  const O = ep.observations.length / L;
  const A = ep.actions.length / L;
  const nq = ep.qpos.length / L;
  const nv = ep.qvel.length / L;
  const terminals = new Uint8Array(m);
  const timeouts = new Uint8Array(m);
  if (m === L) {
    if (ep.terminated) terminals[L - 1] = 1;
    else timeouts[L - 1] = 1;
  } else {
    timeouts[m - 1] = 1; // cut by the step budget
  }
  return {
    observations: ep.observations.subarray(0, m * O),
    nextObservations: ep.nextObservations.subarray(0, m * O),
    actions: ep.actions.subarray(0, m * A),
    rewards: ep.rewards.subarray(0, m),
    terminals,
    timeouts,
    qpos: ep.qpos.subarray(0, m * nq),
    qvel: ep.qvel.subarray(0, m * nv),
  };
}

/** Where the built-in linear-policy plug-in lives (dist/src/behaviour/linear-policy.js when built). */
export function linearPolicyModulePath(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', 'behaviour', 'linear-policy.js');
}

/**
 * The policy of a collect run: `--policy` as the evaluator resolves it; `--policy ofql` or only
 * `--ckpt <dir>`: the OFQL checkpoint policy (src/policy/ofql-cli.ts validates the directory and
 * hands the sampler options to the workers); only `--ckpt <file.json>` in the linear-policy format:
 * src/behaviour/linear-policy.ts.
 */
export async function resolveCollectPolicy(
  policy: string | undefined,
  ckpt: string | undefined,
  cwd: string,
  envId: string,
  ofqlOptions: Record<string, unknown> = {},
): Promise<{ ref: PolicyRef; ckpt?: string; ckptResolved?: ResolvedCheckpointDir }> {
  const ckptAbs = ckpt === undefined ? undefined : resolveCkpt(ckpt, cwd);
  const ofqlGiven = Object.keys(ofqlOptions).filter((k) => ofqlOptions[k] !== undefined);
  const isOfql =
    policy === OFQL_POLICY_NAME ||
    policy === TORCH_POLICY_NAME ||
    (policy === undefined &&
      ckpt !== undefined &&
      (isTorchStateDictPath(ckptAbs) || (existsSync(ckptAbs!) && statSync(ckptAbs!).isDirectory()) || namesTrainingRun(ckpt, cwd)));
  if (!isOfql && ofqlGiven.length > 0) {
    throw new UsageError(`--${ofqlGiven[0]} only applies to OFQL checkpoints (--ckpt <dir> or <actor.pth> without --policy, or --policy ofql)`);
  }
  if (isOfql) {
    if (ckpt === undefined) throw new UsageError('--policy ofql needs --ckpt <OFQL checkpoint directory>');
    const { preparePolicy, PolicyArgsError } = await import('../policy/kinds.js');
    let prepared;
    try {
      prepared = await preparePolicy({ policy, ckpt, env: [envId], flags: ofqlOptions }, cwd);
    } catch (e) {
      if (e instanceof PolicyArgsError) throw new UsageError(e.message);
      throw e;
    }
    // The workers load the directory that was checked (a training run's step-N/, not its moving `latest`).
    return { ref: prepared.ref, ckpt: prepared.ckpt?.dir ?? ckptAbs, ckptResolved: prepared.ckpt };
  }
  if (policy !== undefined) {
    const ref = resolvePolicyRef(policy, cwd);
    if (ref.kind === 'builtin' && ckpt !== undefined) {
      throw new PolicyLoadError(policy, `--ckpt was given, but '${policy}' is a built-in policy that takes no checkpoint`);
    }
    return { ref, ckpt: ckptAbs };
  }
  if (ckptAbs === undefined) throw new UsageError(NO_POLICY);
  if (!existsSync(ckptAbs)) throw new UsageError(`--ckpt ${ckpt}: no such file or directory`);
  let format: unknown;
  try {
    format = (JSON.parse(readFileSync(ckptAbs, 'utf8')) as { format?: unknown }).format;
  } catch (err) {
    throw new UsageError(`--ckpt ${ckpt} is neither a directory nor a JSON file: ${(err as Error).message}`);
  }
  if (format === LINEAR_POLICY_FORMAT) {
    const path = linearPolicyModulePath();
    return { ref: { kind: 'module', spec: path, path }, ckpt: ckptAbs };
  }
  throw new UsageError(
    `--ckpt ${ckpt} has format ${JSON.stringify(format)}; without --policy, --ckpt must be a "${LINEAR_POLICY_FORMAT}" JSON file or an OFQL checkpoint directory`,
  );
}

function resolveCkpt(ckpt: string, cwd: string): string {
  if (ckpt.trim() === '') throw new UsageError('--ckpt is empty');
  return pluginCheckpoint(ckpt, cwd);
}


/** Throws UsageError for an unusable setting (the CLI's checks). */
export function checkCollectOptions(o: CollectRunOptions): void {
  let entry;
  try {
    entry = getEnvEntry(o.env);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (!entry.task) throw new UsageError(`--env ${o.env} cannot be simulated (known for score normalisation only); collect simulates ${SIMULATED_HINT}`);
  checkIntFlag(o.steps, '--steps', 1);
  const noise = o.actionNoise ?? 0;
  if (typeof noise !== 'number' || !Number.isFinite(noise) || noise < 0) throw new UsageError(`--action-noise must be a number >= 0, got ${String(noise)}`);
  const eps = o.epsilon ?? 0;
  if (typeof eps !== 'number' || !(eps >= 0 && eps <= 1)) throw new UsageError(`--epsilon must be a probability in [0, 1], got ${String(eps)}`);
  try {
    assertSeed(o.seed ?? 0, '--seed');
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (o.workers !== undefined) checkIntFlag(o.workers, '--workers', 1);
  if (o.batchSize !== undefined) {
    checkIntFlag(o.batchSize, '--batch-size', 1);
    if (o.batchSize > MAX_ENV_BATCH_SIZE) {
      throw new UsageError(`--batch-size ${o.batchSize} is more than the limit of ${MAX_ENV_BATCH_SIZE} environments per worker (one worker's MuJoCo heap holds about 150; use more workers instead)`);
    }
  }
  if (o.chunkSize !== undefined) checkIntFlag(o.chunkSize, 'chunk size', 1);
  if (o.maxEpisodeSteps !== undefined) {
    checkIntFlag(o.maxEpisodeSteps, '--max-episode-steps', 1);
    if (o.maxEpisodeSteps > MAX_EPISODE_STEPS) {
      throw new UsageError(`--max-episode-steps ${o.maxEpisodeSteps} is more than the limit of ${MAX_EPISODE_STEPS} steps (each env slot buffers a whole episode)`);
    }
  }
}

/**
 * Roll out episodes 0, 1, 2, ... and hand them to `sink` in episode order until `steps` rows are
 * given (the last episode cut: `sink(ep, m)` with m < ep.length). The pool is used as given or
 * made (and destroyed) here.
 */
export async function collectRows(
  options: CollectRunOptions,
  sink: (ep: EpisodeData, rows: number) => void,
): Promise<CollectStats & { policy: PolicyRef; ckpt?: string; ckptResolved?: ResolvedCheckpointDir }> {
  checkCollectOptions(options);
  const cwd = options.cwd ?? process.cwd();
  const { ref, ckpt, ckptResolved } = await resolveCollectPolicy(options.policy, options.ckpt, cwd, options.env, options.ofqlOptions);
  const batchSize = options.batchSize ?? DEFAULT_COLLECT_BATCH;
  const chunkSize = options.chunkSize ?? batchSize;
  const config: CollectConfig = {
    envId: options.env,
    maxEpisodeSteps: options.maxEpisodeSteps ?? DEFAULT_MAX_EPISODE_STEPS,
    policy: ref,
    ckpt,
    seed: options.seed ?? 0,
    actionNoise: options.actionNoise ?? 0,
    epsilon: options.epsilon ?? 0,
    batchSize: Math.min(batchSize, chunkSize),
  };
  const steps = options.steps;
  const pool = options.pool ?? new BehaviourPool(options.workers ?? DEFAULT_BEHAVIOUR_WORKERS);
  const maxInFlight = 2 * pool.workers;
  const t0 = performance.now();

  let rows = 0;
  let episodes = 0;
  let complete = 0;
  let terminatedEps = 0;
  let returnSum = 0;
  let lastCut = false;
  let dims: Pick<CollectStats, 'observationSize' | 'actionSize' | 'qposSize' | 'qvelSize'> | undefined;
  let bufferedRows = 0;
  const buffered = new Map<number, EpisodeData[]>();
  let nextChunk = 0;
  let nextToWrite = 0;
  let inFlight = 0;
  const running = new Set<Promise<unknown>>();
  let failure: unknown;
  let finished = false;

  const progress = (): CollectProgress => ({ rows, steps, episodes, elapsedSeconds: (performance.now() - t0) / 1000 });
  const ticker = options.onProgress ? setInterval(() => options.onProgress?.(progress()), options.progressIntervalMs ?? 500) : undefined;

  try {
    await new Promise<void>((resolveAll, rejectAll) => {
      const onAbort = (): void => {
        failure ??= new Error('collection interrupted');
        settle();
      };
      const settle = (): void => {
        if (finished) return;
        if (failure !== undefined) {
          finished = true;
          options.signal?.removeEventListener('abort', onAbort);
          rejectAll(failure);
        } else if (rows >= steps) {
          finished = true;
          options.signal?.removeEventListener('abort', onAbort);
          resolveAll();
        }
      };
      if (options.signal?.aborted) {
        onAbort();
        return;
      }
      options.signal?.addEventListener('abort', onAbort, { once: true });

      const drain = (): void => {
        while (rows < steps && buffered.has(nextToWrite)) {
          const eps = buffered.get(nextToWrite)!;
          buffered.delete(nextToWrite);
          nextToWrite++;
          for (const ep of eps) {
            bufferedRows -= ep.length;
            if (rows >= steps) continue;
            const m = Math.min(ep.length, steps - rows);
            dims ??= {
              observationSize: ep.observations.length / ep.length,
              actionSize: ep.actions.length / ep.length,
              qposSize: ep.qpos.length / ep.length,
              qvelSize: ep.qvel.length / ep.length,
            };
            sink(ep, m);
            rows += m;
            episodes++;
            if (m === ep.length) {
              complete++;
              returnSum += ep.return;
              if (ep.terminated) terminatedEps++;
            } else {
              lastCut = true;
            }
          }
        }
      };
      const pump = (): void => {
        while (!finished && failure === undefined && inFlight < maxInFlight && rows + bufferedRows < steps) {
          // Enough rows may already be in flight; only launch when the in-flight work could fall short.
          const c = nextChunk++;
          const eps = Array.from({ length: chunkSize }, (_, j) => c * chunkSize + j);
          inFlight++;
          const task = pool.collect(config, eps);
          running.add(task);
          void task.finally(() => running.delete(task)).catch(() => undefined);
          task.then(
            (data) => {
              inFlight--;
              if (finished) return;
              buffered.set(c, data);
              for (const ep of data) bufferedRows += ep.length;
              try {
                drain();
              } catch (err) {
                failure ??= err;
              }
              settle();
              pump();
            },
            (err: unknown) => {
              inFlight--;
              failure ??= err;
              settle();
            },
          );
          if (inFlight >= maxInFlight) break;
        }
      };
      pump();
    });
  } finally {
    if (ticker) clearInterval(ticker);
    // Let tasks still running finish before the workers go: a worker terminated inside an
    // onnxruntime call (--backend onnx, ONNX policies) aborts the whole process.
    // Bounded: a task stuck in a hung policy is terminated after COLLECT_STOP_GRACE_MS.
    await Promise.race([Promise.allSettled([...running]), new Promise((r) => setTimeout(r, COLLECT_STOP_GRACE_MS).unref())]);
    if (!options.pool) await pool.destroy();
  }
  options.onProgress?.(progress());
  const wallSeconds = (performance.now() - t0) / 1000;
  return {
    rows,
    episodes,
    completeEpisodes: complete,
    meanReturn: complete > 0 ? returnSum / complete : NaN,
    terminatedEpisodes: terminatedEps,
    lastEpisodeCut: lastCut,
    wallSeconds,
    stepsPerSecond: wallSeconds > 0 ? rows / wallSeconds : 0,
    ...dims!,
    policy: ref,
    ckpt,
    ckptResolved,
  };
}

function sha256File(path: string): string {
  return sha256FileSync(path);
}

/** Metadata entries describing a collect run (no paths of this machine, no timestamps: files stay comparable). */
export function collectMetadata(
  options: CollectRunOptions,
  ref: PolicyRef,
  ckpt: string | undefined,
  stats: CollectStats,
  ckptResolved?: ResolvedCheckpointDir,
): Record<string, MetadataValue> {
  const meta: Record<string, MetadataValue> = {
    algorithm: 'ofql-eval collect',
    env_id: options.env,
    policy:
      ref.kind === 'builtin'
        ? ref.name
        : (options.policy ?? (ref.spec === OFQL_POLICY_NAME || ref.spec === TORCH_POLICY_NAME ? `${ref.spec} (from --ckpt)` : 'linear-policy (from --ckpt)')),
    policy_kind: ref.kind,
    action_noise: options.actionNoise ?? 0,
    epsilon: options.epsilon ?? 0,
    noise_rule: 'a = fround(clip(policy(s) + action_noise * N(0, I), -1, 1)); with probability epsilon uniform in [-1, 1] instead',
    seed: options.seed ?? 0,
    episode_seeds: 'episode i resets with deriveSeed(seed, i); its noise generator is seeded deriveSeed(deriveSeed(seed, i), 0xc011ec7)',
    steps: stats.rows,
    episodes: stats.episodes,
    complete_episodes: stats.completeEpisodes,
    terminated_episodes: stats.terminatedEpisodes,
    last_episode_cut: stats.lastEpisodeCut ? 1 : 0,
    max_episode_steps: options.maxEpisodeSteps ?? DEFAULT_MAX_EPISODE_STEPS,
    mujoco_package_version: mujocoPackageVersion(),
    ofql_eval_version: packageVersion(),
  };
  if (Number.isFinite(stats.meanReturn)) meta.mean_return = stats.meanReturn;
  if (ref.kind === 'module') meta.policy_sha256 = sha256File(ref.path);
  if (ckpt !== undefined) {
    meta.ckpt = options.ckpt ?? ckpt;
    if (existsSync(ckpt) && statSync(ckpt).isFile()) meta.ckpt_sha256 = sha256File(ckpt);
    // A training run directory (or <run>@N) as --ckpt: which of its checkpoints rolled out, written
    // the way --ckpt was (relative stays relative).
    if (ckptResolved?.run != null) {
      meta.ckpt_dir = isAbsolute(ckptResolved.given) ? ckptResolved.dir : relative(options.cwd ?? process.cwd(), ckptResolved.dir);
      if (ckptResolved.step !== null) meta.ckpt_step = ckptResolved.step;
    }
  }
  return meta;
}

/** Collect `steps` rows and write them to `out` (atomically). */
export async function collect(options: CollectOptions): Promise<CollectResult> {
  checkCollectOptions(options);
  // Before any rollout: a directory, a missing or read-only directory is refused (exit 2) here.
  const out = checkOutputFile(options.out, '--out', { cwd: options.cwd, makeParents: false, allowSpecial: false });
  if (options.ckpt !== undefined) checkNotAnInput(out, '--out', [['--ckpt', resolve(options.cwd ?? process.cwd(), options.ckpt)]]);
  let writer: D4rlWriter | undefined;
  let creating: Promise<D4rlWriter> | undefined;
  const pending: Array<[EpisodeData, number]> = [];
  let writeError: unknown;
  const sink = (ep: EpisodeData, m: number): void => {
    if (writer) {
      writer.append(episodeRows(ep, m));
      return;
    }
    pending.push([ep, m]);
    if (!creating) {
      const L = ep.length;
      creating = D4rlWriter.create(out, {
        observationSize: ep.observations.length / L,
        actionSize: ep.actions.length / L,
        nextObservations: true,
        qposSize: ep.qpos.length / L,
        qvelSize: ep.qvel.length / L,
        infosDtype: options.infosDtype ?? 'float32',
        expectedRows: options.steps,
      });
      creating.then(
        (w) => {
          writer = w;
          try {
            for (const [e, k] of pending.splice(0)) w.append(episodeRows(e, k));
          } catch (err) {
            writeError ??= err;
          }
        },
        (err: unknown) => {
          writeError ??= err;
        },
      );
    }
  };
  let stats: Awaited<ReturnType<typeof collectRows>>;
  try {
    stats = await collectRows(options, sink);
    if (creating) await creating.catch(() => undefined);
    if (writeError !== undefined) throw writeError;
  } catch (err) {
    if (creating) await creating.then((w) => w.abort(), () => undefined);
    throw err;
  }
  const w = writer!;
  const metadata = { ...collectMetadata(options, stats.policy, stats.ckpt, stats, stats.ckptResolved), ...(options.metadata ?? {}) };
  for (const [k, v] of Object.entries(metadata)) w.setMetadata(k, v);
  const closed = await w.close();
  const { policy: ref, ckpt: _ckpt, ckptResolved: _resolved, ...rest } = stats;
  return { ...rest, path: closed.path, policy: policyLabel(ref), metadata };
}

// ---- command line ---------------------------------------------------------------------

interface CollectArgs {
  env: string;
  policy?: string;
  ckpt?: string;
  steps: number;
  'action-noise': number;
  epsilon: number;
  seed: number;
  out: string;
  workers: number;
  'batch-size': number;
  'max-episode-steps': number;
  'infos-dtype': 'float32' | 'float64';
  progress: 'auto' | 'bar' | 'lines' | 'off';
}

function progressPrinter(mode: CollectArgs['progress']): { update(p: CollectProgress): void; stop(): void } {
  const resolved = resolveProgressMode(mode);
  const rate = (p: CollectProgress): string => Math.round(p.elapsedSeconds > 0 ? p.rows / p.elapsedSeconds : 0).toLocaleString('en-US');
  if (resolved === 'off') return { update() {}, stop() {} };
  if (resolved === 'lines') {
    let last = 0;
    let lastRows = -1;
    const line = (p: CollectProgress): void => {
      lastRows = p.rows;
      last = Date.now();
      process.stderr.write(
        `[ofql-eval collect] ${p.rows.toLocaleString('en-US')}/${p.steps.toLocaleString('en-US')} steps (${((100 * p.rows) / p.steps).toFixed(0)}%), ` +
          `${p.episodes} episodes, ${rate(p)} steps/s, ${p.elapsedSeconds.toFixed(1)} s\n`,
      );
    };
    let latest: CollectProgress | undefined;
    return {
      update(p) {
        latest = p;
        if (Date.now() - last >= 5000 && p.rows !== lastRows) line(p);
      },
      stop() {
        if (latest && latest.rows !== lastRows) line(latest);
      },
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: 'collect |{bar}| {value}/{total} steps | {episodes} episodes | {rate} steps/s | ETA {eta_formatted}',
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(p) {
      const payload = { episodes: p.episodes, rate: rate(p) };
      if (!started) {
        bar.start(p.steps, p.rows, payload);
        started = true;
      } else bar.update(p.rows, payload);
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

async function runCollectCommand(a: CollectArgs): Promise<number> {
  const controller = new AbortController();
  const stop = abortOnSignals(controller, (sig) => process.stderr.write(`\nofql-eval collect: ${sig} received: stopping; no file is written (again to quit at once)\n`));
  const printer = progressPrinter(a.progress);
  try {
    const res = await collect({
      env: a.env,
      policy: a.policy,
      ckpt: a.ckpt,
      steps: a.steps,
      actionNoise: a['action-noise'],
      epsilon: a.epsilon,
      seed: a.seed,
      out: a.out,
      workers: capWorkers(a.workers, '--workers', (m) => process.stderr.write(`ofql-eval collect: ${m}\n`)),
      batchSize: a['batch-size'],
      maxEpisodeSteps: a['max-episode-steps'],
      infosDtype: a['infos-dtype'],
      ofqlOptions: Object.fromEntries(Object.keys(TORCH_CLI_OPTIONS).map((k) => [k, (a as unknown as Record<string, unknown>)[k]])),
      onProgress: (p) => printer.update(p),
      progressIntervalMs: 250,
      signal: controller.signal,
    });
    printer.stop();
    const entry = getEnvEntry(a.env);
    const norm = Number.isFinite(res.meanReturn) ? (100 * (res.meanReturn - entry.refMin)) / (entry.refMax - entry.refMin) : NaN;
    process.stdout.write(
      `wrote ${res.path}: ${res.rows.toLocaleString('en-US')} steps, ${res.episodes} episodes ` +
        `(${res.completeEpisodes} complete, ${res.terminatedEpisodes} terminated${res.lastEpisodeCut ? ', the last cut by --steps' : ''}); ` +
        `mean return of complete episodes ${Number.isFinite(res.meanReturn) ? `${res.meanReturn.toFixed(1)} (normalised ${norm.toFixed(1)})` : 'n/a'}; ` +
        `${res.wallSeconds.toFixed(1)} s, ${Math.round(res.stepsPerSecond).toLocaleString('en-US')} steps/s` +
        (res.metadata.ckpt_dir !== undefined ? `; policy checkpoint ${String(res.metadata.ckpt_dir)} (${res.metadata.ckpt_step !== undefined ? `step ${String(res.metadata.ckpt_step)}, ` : ''}from --ckpt ${a.ckpt})` : '') +
        '\n',
    );
    return 0;
  } catch (err) {
    printer.stop();
    const signalName = stop.received();
    if (signalName !== null) return exitCodeOfSignal(signalName);
    if (err instanceof UsageError || err instanceof PolicyLoadError || err instanceof RangeError) {
      process.stderr.write(`ofql-eval collect: error: ${err.message}\nRun 'ofql-eval collect --help' for usage.\n`);
      return 2;
    }
    process.stderr.write(`ofql-eval collect: error: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  } finally {
    stop.dispose();
  }
}

const SINGLE = ['env', 'policy', 'ckpt', 'steps', 'action-noise', 'epsilon', 'seed', 'out', 'workers', 'batch-size', 'max-episode-steps'] as const;

/** The `collect` subcommand for yargs; `setExitCode` receives the command's exit code. */
/** How long collect waits for its running tasks before terminating the workers (ms). */
const COLLECT_STOP_GRACE_MS = 10_000;

export function collectCommand(setExitCode: (code: number) => void): CommandModule<object, CollectArgs> {
  return {
    command: 'collect',
    describe: 'Roll out a policy and write a D4RL-layout HDF5 dataset',
    builder: (y: Argv<object>) =>
      y
        .usage(
          [
            'Roll out a policy (built-in, plug-in module, OFQL checkpoint or linear-policy JSON) and write a D4RL-layout HDF5 dataset',
            '(observations, actions, rewards, terminals, timeouts, next_observations, infos/qpos, infos/qvel, metadata/*).',
            '',
            'Usage: $0 collect --env <id> (--policy <random|zero|ofql|./policy.mjs> [--ckpt <path>] | --ckpt <linear-policy.json | ofql-ckpt-dir>) --out <file.hdf5> [options]',
          ].join('\n'),
        )
        .option('env', { alias: 'e', type: 'string', demandOption: 'give the environment, e.g. --env hopper-medium-v2', describe: "One env id, e.g. hopper-medium-v2 (see 'ofql-eval list')" })
        .option('policy', {
          alias: 'p',
          type: 'string',
          describe: `Built-in (${BUILTIN_POLICY_NAMES.join(', ')}), ${OFQL_POLICY_NAME} (OFQL checkpoint), or path to an ES module policy plug-in; optional with --ckpt`,
        })
        .option('ckpt', { type: 'string', describe: 'Checkpoint passed to the policy factory as spec.ckpt; alone: a linear-policy JSON (eval/behaviour/*.json) or an OFQL checkpoint directory' })
        .option('steps', { type: 'number', default: 1_000_000, describe: 'Rows (env steps) to write; the last episode is cut there (its last row flagged a timeout)' })
        .option('action-noise', { type: 'number', default: 0, describe: "Std of Gaussian noise added to the policy's actions (then clipped to [-1, 1])" })
        .option('epsilon', { type: 'number', default: 0, describe: 'Probability of a uniform random action in [-1, 1] instead of the policy\'s (per step)' })
        .option('seed', { alias: 's', type: 'number', default: 0, describe: 'Run seed: episode i resets with deriveSeed(seed, i) and seeds its noise from it' })
        .option('out', { alias: 'o', type: 'string', demandOption: 'give the output file: --out data/hopper-medium.hdf5', describe: 'Output HDF5 file (written atomically)' })
        .option('workers', { alias: 'w', type: 'number', default: DEFAULT_BEHAVIOUR_WORKERS, describe: 'Worker threads; the file does not depend on it' })
        .option('batch-size', { type: 'number', default: DEFAULT_COLLECT_BATCH, describe: 'Env slots per worker = rows per policy call; the file does not depend on it' })
        .option('max-episode-steps', {
          type: 'number',
          default: DEFAULT_MAX_EPISODE_STEPS,
          describe: 'Episode time limit (timeouts flag); anything but 1000 is not D4RL-like (for tests)',
        })
        .option('infos-dtype', { choices: ['float32', 'float64'] as const, default: 'float32' as const, describe: 'Type of infos/qpos, infos/qvel (D4RL: float32)' })
        .option('progress', { choices: ['auto', 'bar', 'lines', 'off'] as const, default: 'auto' as const, describe: 'Progress on stderr' })
        .options(TORCH_CLI_OPTIONS)
        .check((a) => {
          const r = a as unknown as Record<string, unknown>;
          for (const name of SINGLE) if (Array.isArray(r[name])) throw new UsageError(`--${name} was given more than once`);
          for (const name of ['env', 'out', 'policy', 'ckpt']) {
            if (r[name] !== undefined && (typeof r[name] !== 'string' || (r[name] as string).trim() === '')) throw new UsageError(`--${name} needs a value`);
          }
          if (r.policy === undefined && r.ckpt === undefined) throw new UsageError(NO_POLICY);
          checkCollectOptions({
            env: r.env as string,
            steps: r.steps as number,
            actionNoise: r['action-noise'] as number,
            epsilon: r.epsilon as number,
            seed: r.seed as number,
            workers: r.workers as number,
            batchSize: r['batch-size'] as number,
            maxEpisodeSteps: r['max-episode-steps'] as number,
          });
          return true;
        })
        .example(
          '$0 collect -e hopper-medium-v2 --ckpt eval/behaviour/hopper-medium.json --action-noise 0.1 -o data/hopper-medium.hdf5',
          '1M steps of the ARS medium hopper with Gaussian action noise 0.1',
        )
        .example('$0 collect -e halfcheetah-random-v2 -p random --steps 1000000 -o data/halfcheetah-random.hdf5', 'uniform random actions')
        .example('$0 collect -e walker2d-medium-v2 -p ./pol.mjs --ckpt ckpts/walker/ --epsilon 0.1 -o w.hdf5', 'a plug-in policy with its checkpoint')
        .epilogue(
          'timeouts marks the step cut by the time limit (and the last row when --steps cuts an episode); terminals the step ended by the ' +
            "env's termination rule. Read it back with readD4rlFile + qlearningDataset (src/data). Ctrl-C stops without writing a file.",
        ) as unknown as Argv<CollectArgs>,
    handler: async (a) => {
      setExitCode(await runCollectCommand(a as unknown as CollectArgs));
    },
  };
}
