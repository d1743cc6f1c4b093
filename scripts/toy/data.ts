/**
 * Seeded 2-D toy distributions for the OFQL toy study (paper appendix C: checkerboard, spiral,
 * crescent). All three follow the generators of FFJORD's toy suite (Grathwohl et al. 2019,
 * rtqichen/ffjord `lib/toy_data.py`, reused by most flow-matching / diffusion toy code), ported
 * line by line to JS with the project's seeded xoshiro `Rng` in place of numpy's global RNG.
 * The OFQL paper does not print its generators; these are our choice (see docs/toy.md).
 *
 * Every generator returns n points row-major as a Float32Array [x0, y0, x1, y1, ...].
 * All three live roughly in [-4, 4]^2, which is the scale at which the FFJORD suite is usually
 * fitted with a standard-normal source.
 */
import { Rng } from '../../src/rng.js';

export type ToyName = 'checkerboard' | 'spiral' | 'crescent';
export const TOY_NAMES: readonly ToyName[] = ['checkerboard', 'spiral', 'crescent'];

/** Non-negative remainder (numpy's `%` on floats/ints). */
function pmod(a: number, m: number): number {
  return ((a % m) + m) % m;
}

/**
 * Checkerboard, FFJORD `checkerboard`:
 *   x1 = U[0,1) * 4 - 2
 *   x2 = U[0,1) - randint{0,1} * 2 + (floor(x1) mod 2)
 *   point = 2 * (x1, x2)
 * i.e. the 4 x 4 board of 2 x 2 squares covering [-4, 4]^2 with the 8 "on" squares those whose
 * lower-left corner (X, Y) has (X/2 + Y/2) even -- equivalently floor(x/2) + floor(y/2) even --
 * each filled uniformly. Every "on" square has probability 1/8.
 */
export function checkerboard(n: number, rng: Rng): Float32Array {
  const out = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    const x1 = rng.random() * 4 - 2;
    const k = rng.random() < 0.5 ? 0 : 1;
    const x2 = rng.random() - k * 2 + pmod(Math.floor(x1), 2);
    out[2 * i] = 2 * x1;
    out[2 * i + 1] = 2 * x2;
  }
  return out;
}

/** True if (x, y) lies on an "on" square of `checkerboard` (closed-open squares inside [-4, 4)^2). */
export function onCheckerboard(x: number, y: number): boolean {
  if (!(x >= -4 && x < 4 && y >= -4 && y < 4)) return false;
  return pmod(Math.floor(x / 2) + Math.floor(y / 2), 2) === 0;
}

/**
 * Two-arm spiral, FFJORD `2spirals`:
 *   n  = sqrt(U[0,1)) * 540 * 2 pi / 360           (arc parameter in [0, 3 pi))
 *   d1 = (-cos(n) n + U[0,1) * 0.5,  sin(n) n + U[0,1) * 0.5)
 *   half of the points are d1, the other half -d1 (the second arm, rotated by pi);
 *   point = d / 3 + N(0, 0.1^2 I)
 * Radius up to about 3 pi / 3 = 3.14 (plus noise). FFJORD stacks the two halves; here point i
 * takes arm (i mod 2), which gives the same distribution for an even n.
 */
export function spiral(n: number, rng: Rng): Float32Array {
  const out = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    const a = Math.sqrt(rng.random()) * ((540 * 2 * Math.PI) / 360);
    let x = -Math.cos(a) * a + rng.random() * 0.5;
    let y = Math.sin(a) * a + rng.random() * 0.5;
    if (i % 2 === 1) {
      x = -x;
      y = -y;
    }
    out[2 * i] = x / 3 + 0.1 * rng.normal();
    out[2 * i + 1] = y / 3 + 0.1 * rng.normal();
  }
  return out;
}

/**
 * Crescent = the two interlocking crescents of scikit-learn's `make_moons(noise=0.1)`, placed as
 * FFJORD's `moons` does (`data * 2 + [-1, -0.2]`):
 *   upper moon: (cos th, sin th),             th ~ U[0, pi)
 *   lower moon: (1 - cos th, 1 - sin th - 0.5), th ~ U[0, pi)
 *   point = 2 * (moon + N(0, 0.1^2 I)) + (-1, -0.2)
 * (make_moons spaces th on a linspace; we draw it uniformly so that points are i.i.d.). Point i
 * takes moon (i mod 2). Support: about [-3.6, 3.6] x [-1.8, 2.4] (3 sigma of the noise).
 */
export function crescent(n: number, rng: Rng): Float32Array {
  const out = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    const th = rng.random() * Math.PI;
    let x: number;
    let y: number;
    if (i % 2 === 0) {
      x = Math.cos(th);
      y = Math.sin(th);
    } else {
      x = 1 - Math.cos(th);
      y = 1 - Math.sin(th) - 0.5;
    }
    out[2 * i] = 2 * (x + 0.1 * rng.normal()) - 1;
    out[2 * i + 1] = 2 * (y + 0.1 * rng.normal()) - 0.2;
  }
  return out;
}

export const GENERATORS: Readonly<Record<ToyName, (n: number, rng: Rng) => Float32Array>> = {
  checkerboard,
  spiral,
  crescent,
};

/** n points of dataset `name` from a fresh Rng(seed). */
export function sampleToy(name: ToyName, n: number, seed: number): Float32Array {
  const gen = GENERATORS[name];
  if (!gen) throw new RangeError(`unknown toy dataset '${String(name)}'; known: ${TOY_NAMES.join(', ')}`);
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`sample count must be a non-negative integer, got ${n}`);
  return gen(n, new Rng(seed));
}
