/**
 * The undiscounted returns of a dataset's complete episodes: an episode ends after a row with
 * `terminals` or `timeouts` set; rows after the last such row (an episode the file cut short) are
 * not an episode. What "the data score" means wherever a dataset is compared with a policy.
 */
import { normalizedScore } from '../registry.js';
import { mean, meanConfidenceInterval } from '../stats.js';

export interface EpisodeRows {
  rewards: ArrayLike<number>;
  terminals: ArrayLike<number>;
  timeouts: ArrayLike<number>;
}

/** Return of every complete episode among the first `rows` rows (default: all). */
export function completeEpisodeReturns(d: EpisodeRows, rows = d.rewards.length): number[] {
  const out: number[] = [];
  let sum = 0;
  for (let i = 0; i < rows; i++) {
    sum += d.rewards[i]!;
    if (d.terminals[i] === 1 || d.timeouts[i] === 1) {
      out.push(sum);
      sum = 0;
    }
  }
  return out;
}

export interface DataScore {
  /** Complete episodes in the file. */
  episodes: number;
  /** D4RL-normalised mean over them. */
  normalizedMean: number;
  /** 95 % Student t interval of that mean (over episodes). */
  normalizedCi95: [number, number];
}

/** The data's own score: its complete episodes, D4RL-normalised for `task`; null with fewer than two. */
export function dataScore(d: EpisodeRows, task: string): DataScore | null {
  const scores = completeEpisodeReturns(d).map((r) => normalizedScore(task, r));
  const ci = meanConfidenceInterval(scores);
  return ci ? { episodes: scores.length, normalizedMean: mean(scores), normalizedCi95: [ci.low, ci.high] } : null;
}
