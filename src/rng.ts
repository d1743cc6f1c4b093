/**
 * Small, fast, seedable PRNG (xoshiro128**, Blackman & Vigna) with uniform and normal draws.
 * Same integer seed -> same stream on every platform and thread, which is what makes
 * episode i of a run reproducible whatever worker runs it.
 */
import { OptionError } from './option-error.js';

const TWO_POW_32 = 4294967296;
const TWO_POW_53 = 9007199254740992;

/** splitmix32: expands one 32-bit word into a well-mixed sequence (seeding only). */
function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** Check that `seed` is an integer a user can write down and reuse. */
export function assertSeed(seed: unknown, what = 'seed'): asserts seed is number {
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed) || seed < 0) {
    throw new OptionError(`${what} must be a non-negative safe integer, got ${String(seed)}`);
  }
}

/**
 * Seed of item `index` of a run seeded with `base`: a hash of both, so seeds of different
 * runs and items do not overlap in simple ways. Result is a non-negative 32-bit integer.
 */
export function deriveSeed(base: number, index: number): number {
  assertSeed(base, 'base seed');
  assertSeed(index, 'index');
  const st = { s: (base % TWO_POW_32) ^ Math.imul(Math.floor(base / TWO_POW_32), 0x27d4eb2f) };
  // Start the second round from the *mixed* base, not from the raw counter (base + golden):
  // otherwise (base + golden) ^ index makes runs with nearby bases share their seeds.
  st.s = splitmix32(st) ^ (index % TWO_POW_32) ^ Math.imul(Math.floor(index / TWO_POW_32), 0x165667b1);
  return splitmix32(st);
}

export class Rng {
  private a = 0;
  private b = 0;
  private c = 0;
  private d = 0;
  private spareNormal = NaN;

  constructor(seed: number) {
    this.seed(seed);
  }

  seed(seed: number): void {
    assertSeed(seed);
    const st = { s: (seed % TWO_POW_32) | 0 };
    const hi = Math.floor(seed / TWO_POW_32) | 0;
    this.a = splitmix32(st);
    this.b = splitmix32(st) ^ hi;
    this.c = splitmix32(st);
    this.d = splitmix32(st);
    if ((this.a | this.b | this.c | this.d) === 0) this.d = 1;
    this.spareNormal = NaN;
  }

  /** Next 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  random(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / TWO_POW_53;
  }

  /** Uniform double in [low, high). */
  uniform(low: number, high: number): number {
    return low + (high - low) * this.random();
  }

  /** Standard normal (Marsaglia polar method; the spare value is kept for the next call). */
  normal(): number {
    if (!Number.isNaN(this.spareNormal)) {
      const v = this.spareNormal;
      this.spareNormal = NaN;
      return v;
    }
    let u: number, v: number, s: number;
    do {
      u = 2 * this.random() - 1;
      v = 2 * this.random() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const f = Math.sqrt((-2 * Math.log(s)) / s);
    this.spareNormal = v * f;
    return u * f;
  }

  /** Full generator state, for checkpoints (resume gives the same stream). */
  getState(): number[] {
    return [this.a >>> 0, this.b >>> 0, this.c >>> 0, this.d >>> 0, this.spareNormal];
  }

  setState(state: readonly number[]): void {
    if (state.length !== 5) throw new RangeError(`Rng state must have 5 entries, got ${state.length}`);
    [this.a, this.b, this.c, this.d] = state.slice(0, 4).map((x) => x | 0);
    this.spareNormal = state[4] ?? NaN;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
