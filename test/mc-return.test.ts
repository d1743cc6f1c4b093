/** The data's discounted Monte-Carlo return (src/data/mc-return.ts): the critic's yardstick. */
import { describe, expect, it } from 'vitest';
import { discountedReturnToGo, summariseDiscountedReturn } from '../src/data/mc-return.js';

/** Two episodes: rows 0-2 end in a termination, rows 3-4 in a timeout; row 5 is cut by the file's end. */
const data = {
  N: 6,
  rewards: Float32Array.of(1, 2, 3, 10, 20, 5),
  terminals: Uint8Array.of(0, 0, 1, 0, 0, 0),
  timeouts: Uint8Array.of(0, 0, 0, 0, 1, 0),
};

describe('discounted return-to-go', () => {
  it('sums rewards to the end of each episode, never across a termination or timeout', () => {
    const g = discountedReturnToGo(data, 0.5);
    expect([...g]).toEqual([1 + 0.5 * 2 + 0.25 * 3, 2 + 0.5 * 3, 3, 10 + 0.5 * 20, 20, 5]);
  });

  it('summarises over rows and over episode starts', () => {
    const s = summariseDiscountedReturn(data, 0.5);
    expect(s.episodes).toBe(3);
    expect(s.meanOverRows).toBeCloseTo((2.75 + 3.5 + 3 + 20 + 20 + 5) / 6, 12);
    expect(s.meanOverStarts).toBeCloseTo((2.75 + 20 + 5) / 3, 12);
    expect(summariseDiscountedReturn(data, 1).meanOverStarts).toBeCloseTo((6 + 30 + 5) / 3, 12);
  });

  it('refuses a discount outside [0, 1]', () => {
    expect(() => discountedReturnToGo(data, 1.5)).toThrow(/discount: expected a number in \[0, 1\], got 1.5/);
    expect(() => discountedReturnToGo(data, Number.NaN)).toThrow(/discount/);
  });
});
