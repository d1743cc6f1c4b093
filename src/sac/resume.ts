/**
 * Exact resume of a SAC run: resume/ is a checkpoint directory (format ofql-eval/sac) whose
 * model.safetensors holds every network, whose optimizer.safetensors holds the three Adam states,
 * the replay buffer (`buffer.*`) and the episode under way (`episode.actions`, the actions taken
 * since its reset, and `episode.last_observation`), and whose trainer-state.json holds the step,
 * counters, evaluations, times, the generators' states and how many rows of replay.hdf5 belong
 * to the run at that point. Written atomically every --resume-every steps, after replay.hdf5 was
 * closed with every finished episode (src/sac/experience-log.ts).
 */
import { CheckpointError } from '../checkpoint/errors.js';
import { readCheckpointDir, requireResumable, rngStateFromJson, rngStateToJson, writeCheckpointDir, type CheckpointConfig } from '../checkpoint/checkpoint-dir.js';
import type { Tensor } from '../checkpoint/safetensors.js';
import type { NamedArray } from '../ofql/networks.js';
import { checkSacConfig, type SacConfig } from './config.js';
import { asF32, SAC_CHECKPOINT_FORMAT, SAC_CHECKPOINT_FORMAT_VERSION } from './run-files.js';
import type { SacEvaluation, SacRun, SacRunOptions } from './train.js';

const EPISODE = { actions: 'episode.actions', lastObservation: 'episode.last_observation' } as const;
const BUFFER_PREFIX = 'buffer';

/** A resume the command line asked for that cannot go ahead (a usage error: the message names the flag). */
export class SacResumeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SacResumeError';
  }
}

export interface ResumeState {
  config: SacConfig;
  step: number;
  updates: number;
  episodes: number;
  lastReturn: number;
  evaluations: SacEvaluation[];
  seconds: SacRun['seconds'];
  rng: { agent: number[]; explore: number[]; minibatch: number[] };
  bufferAdded: number;
  historyRows: number;
  episodeIndex: number;
  episodeActions: Float32Array;
  lastObservation: Float32Array | null;
  tensors: Map<string, NamedArray>;
  optimizer: Map<string, NamedArray>;
}

/** Write resume/ for `run` as it stands (closing replay.hdf5 with every finished episode first). */
export async function writeResumeCheckpoint(dir: string, run: SacRun, config: CheckpointConfig): Promise<void> {
  const historyRows = await run.log.checkpoint();
  const { episodeActions, lastObservation } = run.resumePoint();
  const A = run.cfg.actDim;
  const state = new Map([...run.agent.optimizerState(), ...run.buffer.state(BUFFER_PREFIX)]);
  if (episodeActions.length > 0) state.set(EPISODE.actions, { data: episodeActions, shape: [episodeActions.length / A, A] });
  state.set(EPISODE.lastObservation, { data: lastObservation, shape: [lastObservation.length] });
  await writeCheckpointDir(dir, {
    config,
    tensors: asF32(run.agent.namedTensors()),
    optimizer: asF32(state),
    trainerState: {
      step: run.step,
      updates: run.agent.updates,
      episodes: run.episodes,
      lastReturn: Number.isFinite(run.lastReturn) ? run.lastReturn : null,
      evaluations: run.evaluations.map((e) => ({ ...e })),
      seconds: { ...run.seconds, total: run.elapsed() },
      rng: { agent: rngStateToJson(run.agent.rngState), explore: rngStateToJson(run.exploreRng.getState()), minibatch: rngStateToJson(run.minibatchRng.getState()) },
      bufferAdded: run.buffer.added,
      historyRows,
      episodeIndex: run.episodeIndex,
    },
  });
}

const named = (m: Map<string, Tensor>): Map<string, NamedArray> =>
  new Map([...m].filter(([, t]) => t.dtype === 'F32').map(([n, t]) => [n, { data: t.data as Float32Array, shape: t.shape }]));

/** Read resume/ and check it belongs to the run `o` describes (env, seed) and that `o.steps` lies ahead. */
export async function readResumeCheckpoint(dir: string, o: SacRunOptions): Promise<ResumeState> {
  let ckpt;
  try {
    ckpt = await readCheckpointDir(dir, { format: SAC_CHECKPOINT_FORMAT, maxFormatVersion: SAC_CHECKPOINT_FORMAT_VERSION });
  } catch (e) {
    if (e instanceof CheckpointError && e.code === 'not-found') {
      throw new SacResumeError(`--resume: ${dir} does not exist: nothing to continue (a run writes it every --resume-every steps)`);
    }
    throw e;
  }
  requireResumable(ckpt);
  const c = ckpt.config as CheckpointConfig & { envId?: unknown; seed?: unknown; sac?: unknown };
  if (c.envId !== o.envId) throw new SacResumeError(`--env: the run in ${dir} is on ${String(c.envId)}, not ${o.envId}`);
  if (c.seed !== o.seed) throw new SacResumeError(`--seed: the run in ${dir} has seed ${String(c.seed)}, not ${o.seed}`);
  const config = c.sac as SacConfig;
  checkSacConfig(config);
  const t = ckpt.trainerState as Record<string, unknown>;
  const file = `${dir}/trainer-state.json`;
  const int = (k: string): number => {
    const v = t[k];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new Error(`${file}: '${k}' must be an integer >= 0, got ${JSON.stringify(v)}`);
    return v;
  };
  const step = int('step');
  if (o.steps <= step) throw new SacResumeError(`--steps ${o.steps}: the run in ${dir} is already at step ${step}; give more steps to continue it`);
  const optimizer = named(ckpt.optimizer);
  const rng = t.rng as Record<string, unknown>;
  return {
    config,
    step,
    updates: int('updates'),
    episodes: int('episodes'),
    lastReturn: typeof t.lastReturn === 'number' ? t.lastReturn : NaN,
    evaluations: t.evaluations as SacEvaluation[],
    seconds: t.seconds as SacRun['seconds'],
    rng: { agent: rngStateFromJson(rng.agent, file, 'rng.agent'), explore: rngStateFromJson(rng.explore, file, 'rng.explore'), minibatch: rngStateFromJson(rng.minibatch, file, 'rng.minibatch') },
    bufferAdded: int('bufferAdded'),
    historyRows: int('historyRows'),
    episodeIndex: int('episodeIndex'),
    episodeActions: optimizer.get(EPISODE.actions)?.data ?? new Float32Array(0),
    lastObservation: optimizer.get(EPISODE.lastObservation)?.data ?? null,
    tensors: named(ckpt.tensors),
    optimizer,
  };
}

/** Put the saved networks, optimizer, buffer, generators and counters into a fresh run. */
export function restoreRun(run: SacRun, s: ResumeState): void {
  run.agent.loadNamedTensors(s.tensors);
  run.agent.loadOptimizerState(s.optimizer);
  run.agent.rngState = s.rng.agent;
  run.agent.updates = s.updates;
  run.buffer.restore(BUFFER_PREFIX, s.optimizer, s.bufferAdded);
  run.exploreRng.setState(s.rng.explore);
  run.minibatchRng.setState(s.rng.minibatch);
  run.step = s.step;
  run.episodes = s.episodes;
  run.lastReturn = s.lastReturn;
  run.evaluations.push(...s.evaluations);
  Object.assign(run.seconds, s.seconds);
  run.elapsedBefore = s.seconds.total;
}
