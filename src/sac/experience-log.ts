/**
 * Every transition a SAC run takes, in order, written to a D4RL-layout HDF5 file episode by episode
 * (src/data/d4rl-writer.ts: atomic, appears on close). It is the run's whole replay history, which
 * is what D4RL's medium-replay datasets are (the replay buffer up to the medium policy); the
 * dataset maker takes a prefix of it.
 *
 * For an exact resume, `checkpoint()` closes the file (so that it holds every finished episode so
 * far) and opens the next one with those rows copied in; `resume` starts from such a file. The
 * episode under way stays in memory; its actions go into the resume checkpoint.
 */
import type { LocomotionEnv } from '../../envs/locomotion-env.js';
import { D4rlWriter, leadingRows } from '../data/d4rl-writer.js';
import { readD4rlFile, type MetadataValue } from '../data/d4rl-hdf5.js';

export class ExperienceLog {
  private t = 0;
  private readonly obs: Float32Array;
  private readonly next: Float32Array;
  private readonly act: Float32Array;
  private readonly rew: Float32Array;
  private readonly qpos: Float64Array;
  private readonly qvel: Float64Array;
  private readonly terminals: Uint8Array;
  private readonly timeouts: Uint8Array;

  private constructor(
    private writer: D4rlWriter,
    private readonly env: LocomotionEnv,
    horizon: number,
    private readonly metadata: Record<string, MetadataValue>,
  ) {
    const { observationSize: O, actionSize: A, nq, nv } = env;
    this.obs = new Float32Array(horizon * O);
    this.next = new Float32Array(horizon * O);
    this.act = new Float32Array(horizon * A);
    this.rew = new Float32Array(horizon);
    this.qpos = new Float64Array(horizon * nq);
    this.qvel = new Float64Array(horizon * nv);
    this.terminals = new Uint8Array(horizon);
    this.timeouts = new Uint8Array(horizon);
  }

  static async create(path: string, env: LocomotionEnv, horizon: number, metadata: Record<string, MetadataValue>): Promise<ExperienceLog> {
    return new ExperienceLog(await openWriter(path, env, metadata), env, horizon, metadata);
  }

  /** A log that continues the first `rows` rows of the file at `path` (written by checkpoint()). */
  static async resume(path: string, env: LocomotionEnv, horizon: number, metadata: Record<string, MetadataValue>, rows: number): Promise<ExperienceLog> {
    const writer = await openWriter(path, env, metadata);
    try {
      await copyRows(path, rows, writer);
    } catch (err) {
      writer.abort();
      throw err;
    }
    return new ExperienceLog(writer, env, horizon, metadata);
  }

  /** Close the file with every finished episode, reopen it for more; returns the rows it holds. */
  async checkpoint(): Promise<number> {
    const { path, rows } = await this.writer.close();
    this.writer = await openWriter(path, this.env, this.metadata);
    await copyRows(path, rows, this.writer);
    return rows;
  }

  /** The executed actions of the episode under way (t x actionSize). */
  episodeActions(): Float32Array {
    return this.act.slice(0, this.t * this.env.actionSize);
  }

  get rows(): number {
    return this.writer.rows + this.t;
  }

  /** Before a step: the observation the policy saw, the executed action and the physics state. */
  before(obs: ArrayLike<number>, action: ArrayLike<number>): void {
    const { t, env } = this;
    const O = env.observationSize;
    const A = env.actionSize;
    for (let k = 0; k < O; k++) this.obs[t * O + k] = obs[k]!;
    for (let k = 0; k < A; k++) this.act[t * A + k] = action[k]!;
    env.copyQposInto(this.qpos, t * env.nq);
    env.copyQvelInto(this.qvel, t * env.nv);
  }

  /** After it: reward and next observation; an episode's end flushes its rows. */
  after(reward: number, nextObs: ArrayLike<number>, terminated: boolean, timedOut: boolean): void {
    const { t, env } = this;
    const O = env.observationSize;
    for (let k = 0; k < O; k++) this.next[t * O + k] = nextObs[k]!;
    this.rew[t] = reward;
    this.terminals[t] = terminated ? 1 : 0;
    this.timeouts[t] = timedOut && !terminated ? 1 : 0;
    this.t++;
    if (terminated || timedOut) this.flush();
  }

  /** Write the rows held; an unfinished episode is cut here and marked as timed out. */
  private flush(): void {
    const L = this.t;
    if (L === 0) return;
    const { observationSize: O, actionSize: A, nq, nv } = this.env;
    if (this.terminals[L - 1] === 0) this.timeouts[L - 1] = 1;
    this.writer.append({
      observations: this.obs.subarray(0, L * O),
      actions: this.act.subarray(0, L * A),
      rewards: this.rew.subarray(0, L),
      terminals: this.terminals.subarray(0, L),
      timeouts: this.timeouts.subarray(0, L),
      nextObservations: this.next.subarray(0, L * O),
      qpos: this.qpos.subarray(0, L * nq),
      qvel: this.qvel.subarray(0, L * nv),
    });
    this.t = 0;
  }

  /** Flush the episode under way (cut, as a time-out) and close the file. */
  async close(metadata: Record<string, MetadataValue> = {}): Promise<{ path: string; rows: number }> {
    this.flush();
    for (const [k, v] of Object.entries(metadata)) this.writer.setMetadata(k, v);
    return this.writer.close();
  }

  abort(): void {
    this.writer.abort();
  }
}

function openWriter(path: string, env: LocomotionEnv, metadata: Record<string, MetadataValue>): Promise<D4rlWriter> {
  return D4rlWriter.create(path, {
    observationSize: env.observationSize,
    actionSize: env.actionSize,
    nextObservations: true,
    qposSize: env.nq,
    qvelSize: env.nv,
    metadata,
  });
}

/** Append the first `rows` rows of the D4RL file at `path` to `writer`. */
async function copyRows(path: string, rows: number, writer: D4rlWriter): Promise<void> {
  if (rows > 0) writer.append(leadingRows(await readD4rlFile(path), rows));
}
