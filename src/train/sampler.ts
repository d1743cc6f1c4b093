/**
 * Uniform minibatch sampling with replacement from a transition dataset, as DQL's Data_Sampler
 * (`torch.randint(0, size, (batch_size,))`), driven by a seeded Rng whose state goes into the
 * checkpoint, so a resumed run draws exactly the batches an uninterrupted run would.
 */
import { Rng } from '../rng.js';
import type { QLearningDataset } from '../data/index.js';
import type { TransitionBatch } from '../ofql/index.js';
import { OptionError } from '../option-error.js';

/** DQL reward preprocessing (utils/data_sampler.py `reward_tune`). */
export type RewardTune = 'no' | 'normalize' | 'cql_antmaze';
export const REWARD_TUNES: readonly RewardTune[] = ['no', 'normalize', 'cql_antmaze'];

/**
 * Rewards after DQL's `reward_tune` (Zhendong-Wang/Diffusion-Policies-for-Offline-RL
 * utils/data_sampler.py): 'no' as is; 'normalize' (r - mean) / std (torch's std: ddof = 1);
 * 'cql_antmaze' (r - 0.5) * 4. Computed in float64, stored as float32 (a new array).
 */
export function tuneRewards(rewards: Float32Array, mode: RewardTune): Float32Array {
  const out = new Float32Array(rewards.length);
  if (mode === 'no') {
    out.set(rewards);
  } else if (mode === 'cql_antmaze') {
    for (let i = 0; i < rewards.length; i++) out[i] = (rewards[i]! - 0.5) * 4.0;
  } else if (mode === 'normalize') {
    const n = rewards.length;
    let mean = 0;
    for (let i = 0; i < n; i++) mean += rewards[i]!;
    mean /= n;
    let ss = 0;
    for (let i = 0; i < n; i++) ss += (rewards[i]! - mean) ** 2;
    const std = n > 1 ? Math.sqrt(ss / (n - 1)) : 0;
    if (!(std > 0)) throw new OptionError(`reward tune 'normalize': rewards have zero variance`);
    for (let i = 0; i < n; i++) out[i] = (rewards[i]! - mean) / std;
  } else {
    throw new OptionError(`unknown reward tune '${String(mode)}'; use ${REWARD_TUNES.join(', ')}`);
  }
  return out;
}

/** What the sampler reads: a qlearning dataset (rewards possibly tuned). */
export type SamplerData = Pick<QLearningDataset, 'N' | 'observationSize' | 'actionSize' | 'observations' | 'actions' | 'nextObservations' | 'rewards' | 'terminals'>;

export class UniformSampler {
  private readonly rng: Rng;
  private readonly batch: TransitionBatch;
  private readonly S: number;
  private readonly A: number;

  constructor(
    private readonly data: SamplerData,
    readonly batchSize: number,
    seed: number,
  ) {
    if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new RangeError(`batch size must be a positive integer, got ${batchSize}`);
    if (data.N < 1) throw new RangeError('cannot sample from an empty dataset');
    this.rng = new Rng(seed);
    this.S = data.observationSize;
    this.A = data.actionSize;
    const B = batchSize;
    this.batch = {
      states: new Float32Array(B * this.S),
      actions: new Float32Array(B * this.A),
      rewards: new Float32Array(B),
      nextStates: new Float32Array(B * this.S),
      notDones: new Float32Array(B),
    };
  }

  /**
   * The next minibatch. The returned arrays are reused by the following call (the agent copies
   * them into tensors at once).
   */
  next(): TransitionBatch {
    const { data, batch, S, A, rng } = this;
    const N = data.N;
    for (let b = 0; b < this.batchSize; b++) {
      const i = Math.floor(rng.random() * N);
      const so = i * S;
      const bo = b * S;
      for (let k = 0; k < S; k++) {
        batch.states[bo + k] = data.observations[so + k]!;
        batch.nextStates[bo + k] = data.nextObservations[so + k]!;
      }
      const ao = i * A;
      const ba = b * A;
      for (let k = 0; k < A; k++) batch.actions[ba + k] = data.actions[ao + k]!;
      batch.rewards[b] = data.rewards[i]!;
      batch.notDones[b] = 1 - data.terminals[i]!;
    }
    return batch;
  }

  getState(): number[] {
    return this.rng.getState();
  }

  setState(state: readonly number[]): void {
    this.rng.setState(state);
  }
}
