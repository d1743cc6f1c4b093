/**
 * Dataset collection, the library behind `ofql-eval collect` (src/commands/collect.ts) and
 * scripts/make-datasets.ts: roll out a policy and write a D4RL-layout HDF5 dataset.
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
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import type { EpisodeData } from '../behaviour/collect-episodes.js';
import type { ResolvedCheckpointDir } from '../checkpoint/run-dir.js';
import type { MetadataValue } from '../data/d4rl-hdf5.js';
import { D4rlWriter, type D4rlRows } from '../data/d4rl-writer.js';
import { packageVersion } from '../package-version.js';
import { sha256FileSync } from '../hash.js';
import { DEFAULT_MAX_EPISODE_STEPS } from '../make-env.js';
import { mujocoPackageVersion } from '../mujoco/bridge.js';
import { checkNotAnInput, checkOutputFile } from '../output-path.js';
import { policyLabel } from '../policy/load.js';
import { OFQL_POLICY_NAME } from '../policy/ofql-cli.js';
import { TORCH_POLICY_NAME } from '../policy/torch-cli.js';
import type { PolicyRef } from '../policy/types.js';
import { collectRows } from './collect-rows.js';
import { checkCollectOptions, type CollectOptions, type CollectResult, type CollectRunOptions, type CollectStats } from './options.js';

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
  if (ref.kind === 'module') meta.policy_sha256 = sha256FileSync(ref.path);
  if (ckpt !== undefined) {
    meta.ckpt = options.ckpt ?? ckpt;
    if (existsSync(ckpt) && statSync(ckpt).isFile()) meta.ckpt_sha256 = sha256FileSync(ckpt);
    // A training run directory (or <run>@N) as --ckpt: which of its checkpoints rolled out, written
    // the way --ckpt was (relative stays relative).
    if (ckptResolved?.run != null) {
      meta.ckpt_dir = isAbsolute(ckptResolved.given) ? ckptResolved.dir : relative(options.cwd ?? process.cwd(), ckptResolved.dir);
      if (ckptResolved.step !== null) meta.ckpt_step = ckptResolved.step;
    }
  }
  return meta;
}

/**
 * The sink that writes episodes to `out`: the writer is made when the first episode shows the
 * widths, and episodes that arrive while it is being made wait in order.
 */
class DatasetSink {
  private writer: D4rlWriter | undefined;
  private creating: Promise<D4rlWriter> | undefined;
  private readonly pending: Array<[EpisodeData, number]> = [];
  private writeError: unknown;

  constructor(
    private readonly out: string,
    private readonly options: CollectOptions,
  ) {}

  readonly take = (ep: EpisodeData, m: number): void => {
    if (this.writer) {
      this.writer.append(episodeRows(ep, m));
      return;
    }
    this.pending.push([ep, m]);
    this.creating ??= this.create(ep);
  };

  private create(ep: EpisodeData): Promise<D4rlWriter> {
    const L = ep.length;
    const creating = D4rlWriter.create(this.out, {
      observationSize: ep.observations.length / L,
      actionSize: ep.actions.length / L,
      nextObservations: true,
      qposSize: ep.qpos.length / L,
      qvelSize: ep.qvel.length / L,
      infosDtype: this.options.infosDtype ?? 'float32',
      expectedRows: this.options.steps,
    });
    creating.then(
      (w) => {
        this.writer = w;
        try {
          for (const [e, k] of this.pending.splice(0)) w.append(episodeRows(e, k));
        } catch (err) {
          this.writeError ??= err;
        }
      },
      (err: unknown) => {
        this.writeError ??= err;
      },
    );
    return creating;
  }

  /** The writer once every episode is in it (throws what creating or appending threw). */
  async ready(): Promise<D4rlWriter> {
    if (this.creating) await this.creating.catch(() => undefined);
    if (this.writeError !== undefined) throw this.writeError;
    return this.writer!;
  }

  /** Remove the temp file of a failed run. */
  async abort(): Promise<void> {
    if (this.creating) await this.creating.then((w) => w.abort(), () => undefined);
  }
}

/** Collect `steps` rows and write them to `out` (atomically). */
export async function collect(options: CollectOptions): Promise<CollectResult> {
  checkCollectOptions(options);
  // Before any rollout: a directory, a missing or read-only directory is refused (exit 2) here.
  const out = checkOutputFile(options.out, '--out', { cwd: options.cwd, makeParents: false, allowSpecial: false });
  if (options.ckpt !== undefined) checkNotAnInput(out, '--out', [['--ckpt', resolve(options.cwd ?? process.cwd(), options.ckpt)]]);
  const sink = new DatasetSink(out, options);
  let stats: Awaited<ReturnType<typeof collectRows>>;
  let w: D4rlWriter;
  try {
    stats = await collectRows(options, sink.take);
    w = await sink.ready();
  } catch (err) {
    await sink.abort();
    throw err;
  }
  const metadata = { ...collectMetadata(options, stats.policy, stats.ckpt, stats, stats.ckptResolved), ...(options.metadata ?? {}) };
  for (const [k, v] of Object.entries(metadata)) w.setMetadata(k, v);
  const closed = await w.close();
  const { policy: ref, ckpt: _ckpt, ckptResolved: _resolved, ...rest } = stats;
  return { ...rest, path: closed.path, policy: policyLabel(ref), metadata };
}
