/**
 * The data's own discounted Monte-Carlo return: for every row, the discounted sum of the rewards
 * from that row to the end of its episode (a termination, a timeout or the end of the file), as a
 * yardstick for a critic's mean Q. A critic whose mean TD target runs far above it is valuing
 * actions the data never took (docs/results.md, "Does the critic settle").
 *
 * Rows cut by a timeout are not bootstrapped, so this underestimates values near a timeout; the
 * mean over all rows is what the training log reports (`dataset.discountedReturn`).
 */
import type { D4rlDataset } from './d4rl-hdf5.js';

export type DiscountedReturnSummary = {
  /** Discount used. */
  discount: number;
  /** Mean over all rows of the discounted return-to-go. */
  meanOverRows: number;
  /** Mean over episode first rows (the value of a start state under the data's policy). */
  meanOverStarts: number;
  episodes: number;
};

/** Discounted return-to-go of every row; episodes end after a row with terminal or timeout set. */
export function discountedReturnToGo(d: Pick<D4rlDataset, 'N' | 'rewards' | 'terminals' | 'timeouts'>, discount: number): Float64Array {
  if (!(discount >= 0 && discount <= 1)) throw new RangeError(`discount: expected a number in [0, 1], got ${discount}`);
  const g = new Float64Array(d.N);
  let next = 0;
  for (let i = d.N - 1; i >= 0; i--) {
    const episodeEnds = d.terminals[i] === 1 || d.timeouts[i] === 1;
    g[i] = d.rewards[i]! + (episodeEnds ? 0 : discount * next);
    next = g[i]!;
  }
  return g;
}

export function summariseDiscountedReturn(d: Pick<D4rlDataset, 'N' | 'rewards' | 'terminals' | 'timeouts'>, discount: number): DiscountedReturnSummary {
  const g = discountedReturnToGo(d, discount);
  let sum = 0;
  let startSum = 0;
  let episodes = 0;
  for (let i = 0; i < d.N; i++) {
    sum += g[i]!;
    const starts = i === 0 || d.terminals[i - 1] === 1 || d.timeouts[i - 1] === 1;
    if (starts) (startSum += g[i]!), episodes++;
  }
  return { discount, meanOverRows: d.N ? sum / d.N : NaN, meanOverStarts: episodes ? startSum / episodes : NaN, episodes };
}
