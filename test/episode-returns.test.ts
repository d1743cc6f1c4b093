/** The data's own score (src/data/episode-returns.ts): complete episodes only, D4RL-normalised. */
import { describe, expect, it } from 'vitest';
import { completeEpisodeReturns, dataScore } from '../src/data/episode-returns.js';
import { normalizedScore } from '../src/registry.js';
import { meanConfidenceInterval } from '../src/stats.js';

/** Rows 0-2 end in a termination, rows 3-4 in a timeout, rows 5-6 in a termination; row 7 is cut by the file's end. */
const data = {
  rewards: Float32Array.of(1, 2, 3, 10, 20, 100, 200, 5),
  terminals: Uint8Array.of(0, 0, 1, 0, 0, 0, 1, 0),
  timeouts: Uint8Array.of(0, 0, 0, 0, 1, 0, 0, 0),
};

describe('complete-episode returns', () => {
  it('ends an episode at a termination or a timeout and drops the unfinished tail', () => {
    expect(completeEpisodeReturns(data)).toEqual([6, 30, 300]);
  });

  it('looks only at the first rows when told', () => {
    expect(completeEpisodeReturns(data, 5)).toEqual([6, 30]);
    expect(completeEpisodeReturns(data, 4)).toEqual([6]);
  });

  it('scores the data as the mean normalised return of its complete episodes, with a t interval', () => {
    const s = dataScore(data, 'hopper-medium-v2')!;
    const scores = [6, 30, 300].map((r) => normalizedScore('hopper-medium-v2', r));
    const ci = meanConfidenceInterval(scores)!;
    expect(s.episodes).toBe(3);
    expect(s.normalizedMean).toBeCloseTo((scores[0]! + scores[1]! + scores[2]!) / 3, 10);
    expect(s.normalizedCi95).toEqual([ci.low, ci.high]);
    expect(s.normalizedCi95[0]).toBeLessThan(s.normalizedMean);
  });

  it('gives no score with fewer than two complete episodes', () => {
    expect(dataScore({ rewards: [1, 2], terminals: [0, 1], timeouts: [0, 0] }, 'hopper-medium-v2')).toBeNull();
  });
});
