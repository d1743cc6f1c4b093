/**
 * SAC's replay buffer: a ring of the last `capacity` transitions as float32 rows, sampled
 * uniformly with replacement into one reused minibatch (no allocation per update).
 */
import type { NamedArray } from '../ofql/networks.js';
import type { Rng } from '../rng.js';
import type { SacBatch } from './agent.js';

/** Tensor names of a saved buffer (the first `size` rows of each array). */
const FIELDS = ['obs', 'act', 'rew', 'next', 'notDone'] as const;

export class ReplayBuffer {
  private readonly obs: Float32Array;
  private readonly act: Float32Array;
  private readonly rew: Float32Array;
  private readonly next: Float32Array;
  private readonly notDone: Float32Array;
  private readonly batch: SacBatch;
  /** Transitions held (<= capacity). */
  size = 0;
  /** Transitions ever added. */
  added = 0;

  constructor(
    readonly capacity: number,
    readonly obsDim: number,
    readonly actDim: number,
    readonly batchSize: number,
  ) {
    this.obs = new Float32Array(capacity * obsDim);
    this.next = new Float32Array(capacity * obsDim);
    this.act = new Float32Array(capacity * actDim);
    this.rew = new Float32Array(capacity);
    this.notDone = new Float32Array(capacity);
    this.batch = {
      states: new Float32Array(batchSize * obsDim),
      actions: new Float32Array(batchSize * actDim),
      rewards: new Float32Array(batchSize),
      nextStates: new Float32Array(batchSize * obsDim),
      notDones: new Float32Array(batchSize),
    };
  }

  /** Add one transition; `terminated` (not a time-limit end) stops the bootstrap. */
  add(obs: ArrayLike<number>, action: ArrayLike<number>, reward: number, nextObs: ArrayLike<number>, terminated: boolean): void {
    const i = this.added % this.capacity;
    const { obsDim: O, actDim: A } = this;
    for (let k = 0; k < O; k++) {
      this.obs[i * O + k] = obs[k]!;
      this.next[i * O + k] = nextObs[k]!;
    }
    for (let k = 0; k < A; k++) this.act[i * A + k] = action[k]!;
    this.rew[i] = reward;
    this.notDone[i] = terminated ? 0 : 1;
    this.added++;
    this.size = Math.min(this.size + 1, this.capacity);
  }

  /** batchSize transitions drawn uniformly (one rng.random() each), into the reused batch. */
  sample(rng: Rng): SacBatch {
    if (this.size === 0) throw new Error('internal: sampling an empty replay buffer');
    const { obsDim: O, actDim: A, batch } = this;
    // Index loops, not subarray views: nothing is allocated per sampled row.
    for (let b = 0; b < this.batchSize; b++) {
      const i = Math.floor(rng.random() * this.size);
      for (let k = 0; k < O; k++) {
        batch.states[b * O + k] = this.obs[i * O + k]!;
        batch.nextStates[b * O + k] = this.next[i * O + k]!;
      }
      for (let k = 0; k < A; k++) batch.actions[b * A + k] = this.act[i * A + k]!;
      batch.rewards[b] = this.rew[i]!;
      batch.notDones[b] = this.notDone[i]!;
    }
    return batch;
  }

  /** The rows held, as tensors `<prefix>.<field>` (for an exact resume); `added` goes with them. */
  state(prefix: string): Map<string, NamedArray> {
    const out = new Map<string, NamedArray>();
    for (const f of FIELDS) {
      const width = this[f].length / this.capacity;
      out.set(`${prefix}.${f}`, { data: this[f].slice(0, this.size * width), shape: width === 1 ? [this.size] : [this.size, width] });
    }
    return out;
  }

  /** Inverse of state(): checks every array's size first. */
  restore(prefix: string, values: ReadonlyMap<string, NamedArray>, added: number): void {
    const size = Math.min(added, this.capacity);
    for (const f of FIELDS) {
      const v = values.get(`${prefix}.${f}`);
      const width = this[f].length / this.capacity;
      if (!v || v.data.length !== size * width) throw new Error(`replay buffer '${prefix}.${f}': expected ${size} x ${width} values, got ${v ? v.data.length : 'none'}`);
    }
    for (const f of FIELDS) this[f].set(values.get(`${prefix}.${f}`)!.data);
    this.size = size;
    this.added = added;
  }
}
