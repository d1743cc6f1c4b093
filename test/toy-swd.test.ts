/**
 * Toy-study metrics (scripts/toy/swd.ts sliced Wasserstein, scripts/toy/nn.ts nearest-neighbour
 * distances) and the SVG scatter writer (scripts/toy/svg.ts).
 */
import { describe, expect, it } from 'vitest';
import { randomDirections, slicedWasserstein, wassersteinPow1d } from '../scripts/toy/swd.js';
import { sampleToy } from '../scripts/toy/data.js';
import { scatterSvg } from '../scripts/toy/svg.js';
import { meanNearestDistance } from '../scripts/toy/nn.js';
import { Rng } from '../src/rng.js';

const DIRS = randomDirections(256, 2, 123);

function shifted(X: Float32Array, dx: number, dy: number): Float64Array {
  const Y = new Float64Array(X.length);
  for (let i = 0; i < X.length; i += 2) {
    Y[i] = X[i]! + dx;
    Y[i + 1] = X[i + 1]! + dy;
  }
  return Y;
}

describe('randomDirections', () => {
  it('gives seeded unit vectors', () => {
    const d = randomDirections(64, 3, 5);
    expect(Array.from(d)).toEqual(Array.from(randomDirections(64, 3, 5)));
    for (let l = 0; l < 64; l++) expect(Math.hypot(d[3 * l]!, d[3 * l + 1]!, d[3 * l + 2]!)).toBeCloseTo(1, 12);
    expect(() => randomDirections(0, 2, 0)).toThrow(RangeError);
  });
});

describe('wassersteinPow1d', () => {
  it('equal sizes: mean |a_i - b_i|^p of sorted samples', () => {
    expect(wassersteinPow1d([0, 1, 2], [1, 2, 3], 1)).toBeCloseTo(1, 12);
    expect(wassersteinPow1d([0, 1, 2], [0, 1, 5], 2)).toBeCloseTo(3, 12);
  });

  it('unequal sizes: exact quantile-function integral', () => {
    // F_a^-1 = 0 on (0,1); F_b^-1 = 1 on (0,1/2), 3 on (1/2,1).
    expect(wassersteinPow1d([0], [1, 3], 1)).toBeCloseTo(2, 12);
    expect(wassersteinPow1d([0], [1, 3], 2)).toBeCloseTo(5, 12);
    // Duplicating every atom does not change the distribution.
    expect(wassersteinPow1d([0, 1], [0, 0, 1, 1], 1)).toBeCloseTo(0, 12);
    expect(wassersteinPow1d([0, 1, 2], [0, 0, 1, 1, 2, 2], 2)).toBeCloseTo(0, 12);
  });
});

describe('slicedWasserstein', () => {
  const X = sampleToy('spiral', 2000, 1);

  it('is zero for identical sets', () => {
    const r = slicedWasserstein(X, Float32Array.from(X), 2, DIRS);
    expect(r.sw1).toBe(0);
    expect(r.sw2).toBe(0);
  });

  it('is invariant under permutation of the points', () => {
    const rng = new Rng(9);
    const n = X.length / 2;
    const perm = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(rng.random() * (i + 1));
      [perm[i], perm[j]] = [perm[j]!, perm[i]!];
    }
    const Xp = new Float32Array(X.length);
    perm.forEach((k, i) => {
      Xp[2 * i] = X[2 * k]!;
      Xp[2 * i + 1] = X[2 * k + 1]!;
    });
    const Y = sampleToy('spiral', 2000, 2);
    const a = slicedWasserstein(X, Y, 2, DIRS);
    const b = slicedWasserstein(Xp, Y, 2, DIRS);
    expect(b.sw1).toBe(a.sw1);
    expect(b.sw2).toBe(a.sw2);
    expect(slicedWasserstein(Xp, X, 2, DIRS).sw1).toBe(0);
  });

  it('is symmetric', () => {
    const Y = sampleToy('crescent', 1500, 4);
    const a = slicedWasserstein(X, Y, 2, DIRS);
    const b = slicedWasserstein(Y, X, 2, DIRS);
    expect(b.sw1).toBeCloseTo(a.sw1, 12);
    expect(b.sw2).toBeCloseTo(a.sw2, 12);
  });

  it('of a translated copy is exactly mean_l |theta_l . delta| (SW1) and rms (SW2), increasing with the shift', () => {
    let prev = 0;
    for (const s of [0.25, 0.5, 1, 2]) {
      const delta = [s, -0.5 * s];
      const r = slicedWasserstein(X, shifted(X, delta[0]!, delta[1]!), 2, DIRS);
      let m1 = 0;
      let m2 = 0;
      for (let l = 0; l < 256; l++) {
        const p = DIRS[2 * l]! * delta[0]! + DIRS[2 * l + 1]! * delta[1]!;
        m1 += Math.abs(p) / 256;
        m2 += (p * p) / 256;
      }
      // float32 input vs float64 shift: tolerance well below the shift.
      expect(r.sw1).toBeCloseTo(m1, 5);
      expect(r.sw2).toBeCloseTo(Math.sqrt(m2), 5);
      // For directions uniform on the circle E|theta . delta| = (2/pi) |delta|.
      expect(r.sw1 / Math.hypot(delta[0]!, delta[1]!)).toBeGreaterThan(0.55);
      expect(r.sw1 / Math.hypot(delta[0]!, delta[1]!)).toBeLessThan(0.72);
      expect(r.sw1).toBeGreaterThan(prev);
      prev = r.sw1;
    }
  });

  it('separates different distributions far above the two-sample noise floor', () => {
    const A = sampleToy('checkerboard', 3000, 10);
    const B = sampleToy('checkerboard', 3000, 11);
    const C = sampleToy('spiral', 3000, 12);
    const floor = slicedWasserstein(A, B, 2, DIRS).sw1;
    expect(floor).toBeGreaterThan(0);
    expect(floor).toBeLessThan(0.15);
    expect(slicedWasserstein(A, C, 2, DIRS).sw1).toBeGreaterThan(3 * floor);
  });

  it('rejects mismatched shapes', () => {
    expect(() => slicedWasserstein([1, 2, 3], [1, 2], 2, DIRS)).toThrow(RangeError);
  });
});

describe('scatterSvg', () => {
  it('draws one dot per point inside the window and counts the ones outside', () => {
    const pts = [0, 0, 1, 1, -1, 2, 10, 0, 0, -10];
    const svg = scatterSvg([{ title: 'a<b', points: pts }], { extent: 4, size: 100 });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg.match(/h0/g)?.length).toBe(3);
    expect(svg).toContain('2/5 outside');
    expect(svg).toContain('a&lt;b');
    // (0,0) is the panel centre: x0 = 10, y0 = 34, size 100 -> (60, 84) px = (120, 168) half-pixels.
    expect(svg).toContain('M120 168h0');
  });

  it('caps the points per panel', () => {
    const pts = Array.from({ length: 200 }, () => 0);
    const svg = scatterSvg([{ title: 'x', points: pts }], { extent: 1, maxPoints: 10 });
    expect(svg.match(/h0/g)?.length).toBe(10);
  });
});

describe('meanNearestDistance', () => {
  it('is zero for identical sets and matches a brute-force reference', () => {
    const X = sampleToy('crescent', 700, 1);
    const Y = sampleToy('crescent', 500, 2);
    expect(meanNearestDistance(X, X)).toBe(0);
    let ref = 0;
    for (let i = 0; i < 700; i++) {
      let best = Infinity;
      for (let j = 0; j < 500; j++) best = Math.min(best, Math.hypot(X[2 * i]! - Y[2 * j]!, X[2 * i + 1]! - Y[2 * j + 1]!));
      ref += best / 700;
    }
    expect(meanNearestDistance(X, Y)).toBeCloseTo(ref, 10);
  });

  it('is asymmetric: points far from the data raise precision-like distance, not coverage-like', () => {
    const data = [0, 0, 1, 0];
    const gen = [0, 0, 1, 0, 5, 0];
    expect(meanNearestDistance(gen, data)).toBeCloseTo(4 / 3, 12);
    expect(meanNearestDistance(data, gen)).toBe(0);
    expect(() => meanNearestDistance([], data)).toThrow(RangeError);
  });
});
