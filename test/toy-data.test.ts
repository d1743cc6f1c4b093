/**
 * Toy-study data generators (scripts/toy/data.ts): determinism and the exact supports of the
 * checkerboard, spiral and crescent distributions.
 */
import { describe, expect, it } from 'vitest';
import { TOY_NAMES, checkerboard, crescent, onCheckerboard, sampleToy, spiral } from '../scripts/toy/data.js';
import { Rng } from '../src/rng.js';

const N = 8000;

describe('toy data generators', () => {
  it('are deterministic in the seed and differ across seeds', () => {
    for (const name of TOY_NAMES) {
      const a = sampleToy(name, 500, 7);
      const b = sampleToy(name, 500, 7);
      const c = sampleToy(name, 500, 8);
      expect(a.length).toBe(1000);
      expect(Array.from(a)).toEqual(Array.from(b));
      expect(Array.from(a)).not.toEqual(Array.from(c));
      expect(a.every(Number.isFinite)).toBe(true);
    }
  });

  it('reject unknown names and bad counts', () => {
    expect(() => sampleToy('moons' as never, 10, 0)).toThrow(/unknown toy dataset/);
    expect(() => sampleToy('spiral', -1, 0)).toThrow(RangeError);
    expect(sampleToy('spiral', 0, 0).length).toBe(0);
  });

  it('checkerboard: every point on an "on" square of the 4x4 board over [-4,4]^2, the 8 squares equally filled', () => {
    const p = checkerboard(N, new Rng(1));
    const counts = new Map<string, number>();
    for (let i = 0; i < N; i++) {
      const x = p[2 * i]!;
      const y = p[2 * i + 1]!;
      expect(onCheckerboard(x, y)).toBe(true);
      const key = `${Math.floor(x / 2)},${Math.floor(y / 2)}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    expect(counts.size).toBe(8);
    for (const [key, c] of counts) {
      const [i, j] = key.split(',').map(Number) as [number, number];
      expect((((i + j) % 2) + 2) % 2).toBe(0);
      // Binomial(8000, 1/8): mean 1000, sd ~30.
      expect(Math.abs(c - N / 8)).toBeLessThan(150);
    }
  });

  it('onCheckerboard marks exactly the squares with floor(x/2)+floor(y/2) even', () => {
    expect(onCheckerboard(-3, -3)).toBe(true); // square (-2,-2)
    expect(onCheckerboard(-1, -3)).toBe(false); // square (-1,-2)
    expect(onCheckerboard(1, 1)).toBe(true); // (0,0)
    expect(onCheckerboard(3, 1)).toBe(false); // (1,0)
    expect(onCheckerboard(3, 3)).toBe(true); // (1,1)
    expect(onCheckerboard(4.1, 0.5)).toBe(false); // outside the board
  });

  it('spiral: two point-symmetric arms of radius < ~pi + noise, centred on the origin', () => {
    const p = spiral(N, new Rng(2));
    let mx = 0;
    let my = 0;
    let rmax = 0;
    for (let i = 0; i < N; i++) {
      const x = p[2 * i]!;
      const y = p[2 * i + 1]!;
      mx += x / N;
      my += y / N;
      rmax = Math.max(rmax, Math.hypot(x, y));
    }
    // Noise-free radius <= (3 pi + 0.5 sqrt 2) / 3 = 3.38; noise N(0, 0.1^2) per coordinate.
    expect(rmax).toBeLessThan(3.38 + 0.6);
    expect(rmax).toBeGreaterThan(2.8);
    expect(Math.abs(mx)).toBeLessThan(0.1);
    expect(Math.abs(my)).toBeLessThan(0.1);
    // Arm 2 is arm 1 rotated by pi: their means are opposite.
    let m1x = 0;
    let m2x = 0;
    for (let i = 0; i < N; i += 2) {
      m1x += p[2 * i]! / (N / 2);
      m2x += p[2 * (i + 1)]! / (N / 2);
    }
    expect(Math.abs(m1x + m2x)).toBeLessThan(0.1);
  });

  it('crescent: points within noise of the two moon arcs of make_moons, scaled by 2 and shifted by (-1,-0.2)', () => {
    const p = crescent(N, new Rng(3));
    // Upper moon: centre (-1, -0.2), radius 2, upper half; lower moon: centre (1, 0.8), radius 2, lower half.
    const arcDist = (x: number, y: number, cx: number, cy: number, upper: boolean) => {
      const inHalf = upper ? y >= cy : y <= cy;
      if (inHalf) return Math.abs(Math.hypot(x - cx, y - cy) - 2);
      return Math.min(Math.hypot(x - (cx - 2), y - cy), Math.hypot(x - (cx + 2), y - cy));
    };
    let sum = 0;
    let far = 0;
    let upperCount = 0;
    for (let i = 0; i < N; i++) {
      const x = p[2 * i]!;
      const y = p[2 * i + 1]!;
      const du = arcDist(x, y, -1, -0.2, true);
      const dl = arcDist(x, y, 1, 0.8, false);
      const d = Math.min(du, dl);
      if (du < dl) upperCount++;
      sum += d;
      if (d > 0.6) far++; // 3 sd of the scaled noise (2 * 0.1)
    }
    expect(sum / N).toBeLessThan(0.2);
    expect(far / N).toBeLessThan(0.01);
    expect(Math.abs(upperCount / N - 0.5)).toBeLessThan(0.05);
  });
});
