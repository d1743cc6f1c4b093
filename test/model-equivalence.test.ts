/**
 * Proves that the model files shipped in assets/ compile, in @mujoco/mujoco (WASM, 3.x), to the
 * same models that native MuJoCo 2.2.2 compiles from gym 0.19.0's original files.
 *
 * The reference is test/fixtures/gym-models-mujoco222.json, written by
 * scripts/reference/make-fixture.sh (native MuJoCo 2.2.2 + scripts/reference/dump-model.c).
 * This test needs neither native MuJoCo nor gym: it only reads the committed fixture.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MujocoError, assetPath, compileModelFile, packageRoot } from '../src/mujoco/bridge.js';
import type { MjModel } from '../src/mujoco/bridge.js';

const MODELS = ['hopper', 'walker2d', 'half_cheetah', 'ant'] as const;
type ModelName = (typeof MODELS)[number];

/** Absolute tolerance for every field (for integer fields this is exact equality). */
const TOL = 1e-9;

type FixtureValue = number | string | Array<number | string>;
interface Fixture {
  about: string;
  models: Record<ModelName, Record<string, FixtureValue>>;
}

const fixture = JSON.parse(
  readFileSync(join(packageRoot, 'test', 'fixtures', 'gym-models-mujoco222.json'), 'utf8'),
) as Fixture;

/** Git blob ids of gym 0.19.0's files (`git rev-parse 0.19.0:<path>` in gym's repository). */
const GYM_0_19_0_BLOBS: Record<string, string> = {
  'hopper.xml': 'f18bc46994c5a725d31fb68c40342ce6be9846bc',
  'walker2d.xml': '3342571666db0d2db1bfa6e58829b0cc4f36a60e',
  'half_cheetah.xml': '338c2e87a705c425ab7c2ff733d5c40c96fcc918',
  'ant.xml': 'ee4d679981c136b949ce278f39ddbd16e42e5de3',
  'LICENSE-gym.md': 'f53ce558fe2323a9016ced1491cd64f814dff738', // gym's LICENSE.md
};

function gitBlobId(bytes: Buffer): string {
  return createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
}

/** dump-model.c writes non-finite doubles as strings; none is expected, but decode them. */
function num(v: number | string): number {
  if (typeof v === 'number') return v;
  if (v === 'inf') return Infinity;
  if (v === '-inf') return -Infinity;
  if (v === 'nan') return NaN;
  throw new Error(`unexpected fixture value ${JSON.stringify(v)}`);
}

/**
 * First element where `actual` differs from `expected` by more than `tol` (0: exact), as a
 * message naming the model, field and index; null when all match. A length mismatch counts.
 */
function firstMismatch(
  label: string,
  expected: ArrayLike<number | string>,
  actual: ArrayLike<number>,
  tol: number,
): string | null {
  if (expected.length !== actual.length) {
    return `${label}: length ${actual.length}, expected ${expected.length}`;
  }
  for (let i = 0; i < expected.length; i++) {
    const e = num(expected[i]);
    const a = Number(actual[i]);
    const same = Number.isNaN(e) ? Number.isNaN(a) : e === a || Math.abs(a - e) <= tol;
    if (!same) {
      return `${label}[${i}]: got ${a}, expected ${e} (|diff| ${Math.abs(a - e)} > ${tol})`;
    }
  }
  return null;
}


/**
 * Fields whose 2.2.2 value cannot be read from the 3.x model under the same name; each is
 * checked by its own test below. Everything else in the fixture is compared generically.
 */
const SPECIAL_FIELDS = new Set([
  'mujoco_version',
  // mjtByte arrays: the 3.14 WASM bindings expose them as memory_view<bool>, which embind
  // cannot return (reading throws "_emval_take_value has unknown type ...memory_viewIbEE"),
  // so they are read element by element through the named accessors instead.
  'jnt_limited',
  'actuator_ctrllimited',
  'actuator_forcelimited',
  // MuJoCo 3 renamed mjOption's mpr_tolerance / mpr_iterations to ccd_tolerance / ccd_iterations.
  'opt.mpr_tolerance',
  'opt.mpr_iterations',
  // Flag words: the bit meanings differ between 2.2.2 and 3.x (bits were added and reordered).
  'opt.disableflags',
  'opt.enableflags',
]);

function readField(model: MjModel, field: string): ArrayLike<number> {
  const source: unknown = field.startsWith('opt.') ? model.opt : model;
  const key = field.startsWith('opt.') ? field.slice(4) : field;
  const value = (source as Record<string, unknown>)[key];
  if (typeof value === 'number') return [value];
  if (value !== null && typeof value === 'object' && 'length' in value) return value as ArrayLike<number>;
  throw new Error(`MjModel has no numeric field ${field} (got ${typeof value})`);
}

function boolsViaAccessor(
  count: number,
  get: (i: number) => { delete(): void } & Record<string, unknown>,
  prop: string,
): number[] {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const handle = get(i);
    try {
      out.push(handle[prop] ? 1 : 0);
    } finally {
      handle.delete();
    }
  }
  return out;
}

function ref(name: ModelName): Record<string, FixtureValue> {
  const r = fixture.models[name];
  if (!r) throw new Error(`fixture has no model ${name}`);
  return r;
}

function asArray(v: FixtureValue): Array<number | string> {
  return Array.isArray(v) ? v : [v];
}

describe('shipped model files', () => {
  it('assets/gym-original/ holds gym 0.19.0 files byte for byte', () => {
    for (const [file, blob] of Object.entries(GYM_0_19_0_BLOBS)) {
      expect(gitBlobId(readFileSync(assetPath(join('gym-original', file)))), file).toBe(blob);
    }
  });

  it('assets/half_cheetah.xml and assets/ant.xml are gym files unchanged', () => {
    for (const name of ['half_cheetah', 'ant']) {
      expect(readFileSync(assetPath(`${name}.xml`)).equals(readFileSync(assetPath(`gym-original/${name}.xml`))), name).toBe(
        true,
      );
    }
  });

  it('the fixture was made by native MuJoCo 2.2.2 for all four models', () => {
    for (const name of MODELS) expect(ref(name).mujoco_version, name).toBe('2.2.2');
  });

  it('the original global-coordinate hopper.xml is rejected with a MujocoError naming the file', async () => {
    const path = assetPath('gym-original/hopper.xml');
    const err: unknown = await compileModelFile(path).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(MujocoError);
    expect((err as Error).message).toContain(path);
    expect((err as Error).message).toMatch(/global coordinates/);
  });
});

describe.each(MODELS)('%s.xml compiled by @mujoco/mujoco equals gym 0.19.0 compiled by MuJoCo 2.2.2', (name) => {
  const load = () => compileModelFile(assetPath(`${name}.xml`));

  it('every compiled array and option matches the fixture', async () => {
    const model = await load();
    const expected = ref(name);
    const mismatches: string[] = [];
    let compared = 0;
    for (const [field, value] of Object.entries(expected)) {
      if (SPECIAL_FIELDS.has(field)) continue;
      let actual: ArrayLike<number>;
      try {
        actual = readField(model, field);
      } catch (err) {
        mismatches.push(`${name}.${field}: ${(err as Error).message}`);
        continue;
      }
      // Integer fields go through the same check: at 1e-9 any integer difference fails.
      const m = firstMismatch(`${name}.${field}`, asArray(value), actual, TOL);
      if (m) mismatches.push(m);
      compared++;
    }
    expect(mismatches).toEqual([]);
    // guard against a fixture that silently lost its fields
    expect(compared).toBeGreaterThan(80);
  });

  it('joint and actuator limit flags match (read through the named accessors)', async () => {
    const model = await load();
    const expected = ref(name);
    const checks: Array<[string, number, (i: number) => { delete(): void } & Record<string, unknown>, string]> = [
      ['jnt_limited', model.njnt, (i) => model.jnt(i) as never, 'limited'],
      ['actuator_ctrllimited', model.nu, (i) => model.actuator(i) as never, 'ctrllimited'],
      ['actuator_forcelimited', model.nu, (i) => model.actuator(i) as never, 'forcelimited'],
    ];
    for (const [field, count, get, prop] of checks) {
      const actual = boolsViaAccessor(count, get, prop);
      expect(firstMismatch(`${name}.${field}`, asArray(expected[field]), actual, 0)).toBeNull();
    }
    // The ranges of the limited joints are what the limits act on; they are also compared in
    // full (jnt_range, actuator_ctrlrange) by the generic test above.
    const limited = boolsViaAccessor(model.njnt, (i) => model.jnt(i) as never, 'limited');
    const range = readField(model, 'jnt_range');
    const expectedRange = asArray(expected.jnt_range);
    limited.forEach((isLimited, j) => {
      if (!isLimited) return;
      expect(
        firstMismatch(`${name}.jnt_range (limited joint ${j})`, expectedRange.slice(2 * j, 2 * j + 2), [range[2 * j], range[2 * j + 1]], TOL),
      ).toBeNull();
    });
  });

  it('renamed and re-encoded options match', async () => {
    const model = await load();
    const expected = ref(name);
    // mpr_tolerance (2.2.2) is ccd_tolerance in MuJoCo 3.
    expect(firstMismatch(`${name}.opt.ccd_tolerance`, asArray(expected['opt.mpr_tolerance']), [model.opt.ccd_tolerance], TOL)).toBeNull();
    // mpr_iterations (2.2.2: 50) is ccd_iterations in MuJoCo 3, whose default is 35. It only
    // bounds the general convex collider (MPR/GJK), used for geom pairs without an analytic
    // collision function. These models have only planes, spheres and capsules, whose pairs are
    // all analytic, so the setting is never used: check that, rather than the value.
    expect(num(asArray(expected['opt.mpr_iterations'])[0]), 'opt.mpr_iterations').toBe(50);
    const PLANE = 0;
    const SPHERE = 2;
    const CAPSULE = 3;
    const types = Array.from(readField(model, 'geom_type'));
    expect(types.filter((t) => t !== PLANE && t !== SPHERE && t !== CAPSULE), 'geom types needing the convex collider').toEqual([]);
    // Flag words: bits differ between versions, so only "nothing disabled / nothing enabled"
    // is comparable, and that is what gym's models use in both.
    expect(num(asArray(expected['opt.disableflags'])[0]), 'opt.disableflags (2.2.2)').toBe(0);
    expect(num(asArray(expected['opt.enableflags'])[0]), 'opt.enableflags (2.2.2)').toBe(0);
    expect(model.opt.disableflags, 'opt.disableflags (3.x)').toBe(0);
    expect(model.opt.enableflags, 'opt.enableflags (3.x)').toBe(0);
  });
});
