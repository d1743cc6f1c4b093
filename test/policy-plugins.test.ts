import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  BUILTIN_POLICY_NAMES,
  PolicyLoadError,
  createRandomPolicy,
  createZeroPolicy,
  loadPolicy,
  policyLabel,
  resolvePolicyRef,
} from '../src/policy/index.js';
import { deriveSeed } from '../src/rng.js';

const FIX = join(import.meta.dirname, 'fixtures', 'policies');
const spec = { envId: 'hopper-medium-v2', observationSize: 11, actionSize: 3 };

function ctx(ids: number[], steps: number[], seed = 0) {
  return {
    episodeIds: Int32Array.from(ids),
    episodeSeeds: Float64Array.from(ids.map((i) => deriveSeed(seed, i))),
    steps: Int32Array.from(steps),
  };
}

describe('built-in policies', () => {
  it('are random and zero', () => {
    expect(BUILTIN_POLICY_NAMES).toEqual(['random', 'zero']);
  });

  it('random: actions in [-1, 1], a function of (episode seed, step) only, whatever the batch', () => {
    const p = createRandomPolicy(spec);
    const obs = new Float64Array(3 * 11);
    const batch = Float64Array.from(p.act(obs, 3, ctx([7, 2, 9], [0, 5, 1])) as Float64Array);
    for (const a of batch) expect(Math.abs(a)).toBeLessThanOrEqual(1);
    // Episode 2 at step 5 alone, and in another batch at another row: same action.
    const alone = Float64Array.from(p.act(obs.subarray(0, 11), 1, ctx([2], [5])) as Float64Array);
    expect(alone).toEqual(batch.subarray(3, 6));
    const other = Float64Array.from(p.act(obs.subarray(0, 22), 2, ctx([4, 2], [0, 5])) as Float64Array);
    expect(other.subarray(3, 6)).toEqual(batch.subarray(3, 6));
    // Different step or episode: different actions.
    const next = p.act(obs.subarray(0, 11), 1, ctx([2], [6])) as Float64Array;
    expect(Array.from(next)).not.toEqual(Array.from(alone));
    // A fresh instance agrees (no hidden state).
    const q = createRandomPolicy(spec);
    expect(Float64Array.from(q.act(obs.subarray(0, 11), 1, ctx([2], [5])) as Float64Array)).toEqual(alone);
  });

  it('random without a context draws from its own seeded stream', () => {
    const a = createRandomPolicy({ ...spec, seed: 3 }).act(new Float64Array(11), 1) as Float64Array;
    const b = createRandomPolicy({ ...spec, seed: 3 }).act(new Float64Array(11), 1) as Float64Array;
    expect(Array.from(a)).toEqual(Array.from(b));
  });

  it('zero: n x actionSize zeros', () => {
    const out = createZeroPolicy(spec).act(new Float64Array(22), 2) as Float64Array;
    expect(out.length).toBe(6);
    expect(out.every((x) => x === 0)).toBe(true);
  });
});

describe('resolving --policy', () => {
  it('built-in names', () => {
    expect(resolvePolicyRef('random')).toEqual({ kind: 'builtin', name: 'random' });
    expect(policyLabel(resolvePolicyRef('zero'))).toBe('zero');
  });
  it('module paths, relative to cwd, and file: URLs', () => {
    const ref = resolvePolicyRef('linear.mjs', FIX);
    expect(ref).toEqual({ kind: 'module', spec: 'linear.mjs', path: join(FIX, 'linear.mjs') });
    expect(resolvePolicyRef(`file://${join(FIX, 'linear.mjs')}`)).toMatchObject({ kind: 'module', path: join(FIX, 'linear.mjs') });
  });
  it('a missing file is a clear error naming the policy', () => {
    expect(() => resolvePolicyRef('./nope.mjs', FIX)).toThrow(PolicyLoadError);
    expect(() => resolvePolicyRef('./nope.mjs', FIX)).toThrow(/policy \.\/nope\.mjs: not a built-in policy \(random, zero\) and no file at/);
    expect(() => resolvePolicyRef('')).toThrow(/empty policy name/);
    expect(() => resolvePolicyRef(FIX)).toThrow(/is not a file/);
  });
});

describe('loading a policy module', () => {
  it('calls the default export with the spec', async () => {
    const p = await loadPolicy(resolvePolicyRef(join(FIX, 'linear.mjs')), { ...spec, ckpt: '/x/y.ckpt' });
    expect(p.description).toBe('linear tanh policy for hopper-medium-v2 (ckpt /x/y.ckpt)');
    const out = p.act(new Float64Array(22).fill(0.1), 2);
    expect(out).toBeInstanceOf(Float32Array);
    expect((out as Float32Array).length).toBe(6);
  });
  it.each([
    ['no-default.mjs', /must have a default export 'async \(spec\) => Policy' \(found undefined\)/],
    ['bad-factory.mjs', /must return an object with an act\(obs, n\) method, got an object with keys \[predict\]/],
    ['factory-throws.mjs', /the factory threw for hopper-medium-v2: cannot load checkpoint/],
  ])('%s fails with a clear PolicyLoadError', async (file, message) => {
    const err = await loadPolicy(resolvePolicyRef(join(FIX, file)), spec).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PolicyLoadError);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).toContain(`policy ${join(FIX, file)}`);
  });
  it('a module with a syntax error', async () => {
    const err = await loadPolicy({ kind: 'module', spec: 'x', path: join(FIX, 'syntax-error.mjs') }, spec).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PolicyLoadError);
    expect((err as Error).message).toMatch(/policy x: cannot import/);
  });
});
