/**
 * Termination / truncation (docs/reference.md §1):
 * - Hopper: terminated unless state finite, |[qpos, qvel][2:]| < 100, qpos[1] > 0.7, |qpos[2]| < 0.2
 * - Walker2d: terminated unless 0.8 < qpos[1] < 2.0 and -1 < qpos[2] < 1
 * - Ant: terminated unless state finite and 0.2 <= qpos[2] <= 1.0
 * - HalfCheetah: never terminates
 * - every episode is truncated (not terminated) at maxEpisodeSteps (default 1000)
 *
 * A step moves the state, so each rule is tested with a state set far enough across the boundary
 * (or in the air, where one zero-action step barely moves the tested coordinate) and the
 * post-step state is checked to be on the intended side; the rules are also checked against the
 * post-step state over random-action episodes.
 */
import { describe, expect, it } from 'vitest';
import { EnvUsageError, Rng, makeEnv } from '../src/index.js';
import type { StepResult } from '../src/index.js';

type Mod = (qpos: Float64Array, qvel: Float64Array) => void;

const INIT: Record<string, number[]> = {
  'hopper-medium-v2': [0, 1.25, 0, 0, 0, 0],
  'walker2d-medium-v2': [0, 1.25, 0, 0, 0, 0, 0, 0, 0],
  'ant-medium-v2': [0, 0, 0.75, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
  'halfcheetah-medium-v2': [0, 0, 0, 0, 0, 0, 0, 0, 0],
};

/** reset, set init_qpos (zero velocity) modified by `mod`, one zero-action step */
async function stepFrom(id: string, mod: Mod): Promise<{ r: StepResult; qpos: Float64Array; qvel: Float64Array }> {
  const env = await makeEnv(id);
  env.reset(0);
  const s = env.getState();
  const qpos = Float64Array.from(INIT[id]);
  const qvel = new Float64Array(s.qvel.length);
  mod(qpos, qvel);
  env.setState(qpos, qvel);
  const r = env.step(new Float64Array(env.actionSize));
  const after = env.getState();
  env.close();
  return { r, ...after };
}

const zeros = (n: number) => new Float64Array(n);

function randomAction(rng: Rng, n: number): Float64Array {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.uniform(-1, 1);
  return a;
}

describe('Hopper termination', () => {
  const id = 'hopper-medium-v2';

  it('init state: alive', async () => {
    const { r, qpos } = await stepFrom(id, () => {});
    expect(qpos[1]).toBeGreaterThan(0.7);
    expect(r.terminated).toBe(false);
    expect(r.truncated).toBe(false);
  });

  it('height 0.5 (<= 0.7): terminated', async () => {
    const { r, qpos } = await stepFrom(id, (q) => (q[1] = 0.5));
    expect(qpos[1]).toBeLessThanOrEqual(0.7);
    expect(Math.abs(qpos[2])).toBeLessThan(0.2);
    expect(r.terminated).toBe(true);
    expect(r.truncated).toBe(false);
  });

  // legs folded up (thigh and leg joints at -2.5 rad): the body is in the air down to a torso
  // height of ~0.6, so one zero-action step only lets it fall by ~0.0003
  const foldHopper = (q: Float64Array, h: number) => {
    q[1] = h;
    q[3] = -2.5;
    q[4] = -2.5;
  };

  it.each([0.69, 0.6])('legs folded, height %d (<= 0.7): terminated', async (h) => {
    const { r, qpos, qvel } = await stepFrom(id, (q) => foldHopper(q, h));
    expect(qpos[1]).toBeCloseTo(h, 3);
    expect(Math.max(...qvel.map(Math.abs))).toBeLessThan(0.2); // no contact
    expect(r.terminated).toBe(true);
  });

  it.each([0.71, 0.75])('legs folded, height %d (> 0.7): alive', async (h) => {
    const { r, qpos, qvel } = await stepFrom(id, (q) => foldHopper(q, h));
    expect(qpos[1]).toBeGreaterThan(0.7);
    expect(qpos[1]).toBeCloseTo(h, 3);
    expect(Math.max(...qvel.map(Math.abs))).toBeLessThan(0.2);
    expect(r.terminated).toBe(false);
  });

  it('very high torso is still alive (no upper height bound; state[1] is outside the |.| < 100 rule)', async () => {
    const { r, qpos } = await stepFrom(id, (q) => (q[1] = 150));
    expect(qpos[1]).toBeGreaterThan(100);
    expect(r.terminated).toBe(false);
  });

  it.each([0.5, -0.5, 0.201, -0.201])('angle %d (|angle| >= 0.2): terminated', async (angle) => {
    // in the air (height 2): one zero-action step does not rotate the body measurably
    const { r, qpos } = await stepFrom(id, (q) => {
      q[1] = 2;
      q[2] = angle;
    });
    expect(qpos[2]).toBeCloseTo(angle, 6);
    expect(r.terminated).toBe(true);
  });

  it.each([0.199, -0.199, 0.15])('angle %d (|angle| < 0.2): alive', async (angle) => {
    const { r, qpos } = await stepFrom(id, (q) => {
      q[1] = 2;
      q[2] = angle;
    });
    expect(qpos[2]).toBeCloseTo(angle, 6);
    expect(r.terminated).toBe(false);
  });

  it.each([150, -150, 100.5])('x velocity %d (|state[2:]| >= 100): terminated by the state bound alone', async (v) => {
    const { r, qpos, qvel } = await stepFrom(id, (_q, u) => (u[0] = v));
    expect(Math.abs(qvel[0])).toBeGreaterThanOrEqual(100);
    // height and angle are healthy: only the |state[2:]| < 100 rule can have fired
    expect(qpos[1]).toBeGreaterThan(0.7);
    expect(Math.abs(qpos[2])).toBeLessThan(0.2);
    expect(r.terminated).toBe(true);
  });

  it.each([90, -99.5])('x velocity %d (< 100): alive', async (v) => {
    const { r, qvel } = await stepFrom(id, (_q, u) => (u[0] = v));
    expect(Math.abs(qvel[0])).toBeLessThan(100);
    expect(r.terminated).toBe(false);
  });

  it('z velocity 150 while high up: terminated by the state bound (qvel[1] is state[7])', async () => {
    const { r, qpos, qvel } = await stepFrom(id, (q, u) => {
      q[1] = 5;
      u[1] = 150;
    });
    expect(qvel[1]).toBeGreaterThanOrEqual(100);
    expect(qpos[1]).toBeGreaterThan(0.7);
    expect(r.terminated).toBe(true);
  });

  it('x position 500 (state[0], excluded from the bound): alive', async () => {
    const { r, qpos } = await stepFrom(id, (q) => (q[0] = 500));
    expect(qpos[0]).toBeGreaterThan(100);
    expect(r.terminated).toBe(false);
  });
});

describe('Walker2d termination', () => {
  const id = 'walker2d-medium-v2';

  it('init state: alive', async () => {
    const { r } = await stepFrom(id, () => {});
    expect(r.terminated).toBe(false);
  });

  it('height 0.5 (<= 0.8): terminated', async () => {
    const { r, qpos } = await stepFrom(id, (q) => (q[1] = 0.5));
    expect(qpos[1]).toBeLessThanOrEqual(0.8);
    expect(r.terminated).toBe(true);
  });

  const foldWalker = (q: Float64Array, h: number) => {
    q[1] = h;
    for (const j of [3, 4, 6, 7]) q[j] = -2.5; // both thighs and legs folded up: in the air
  };

  it.each([0.79, 0.75, 0.71])('legs folded, height %d (<= 0.8): terminated (bound is 0.8, not Hopper\'s 0.7)', async (h) => {
    const { r, qpos, qvel } = await stepFrom(id, (q) => foldWalker(q, h));
    expect(qpos[1]).toBeCloseTo(h, 3);
    expect(Math.max(...qvel.map(Math.abs))).toBeLessThan(0.2);
    expect(r.terminated).toBe(true);
  });

  it('legs folded, height 0.81 (> 0.8): alive', async () => {
    const { r, qpos, qvel } = await stepFrom(id, (q) => foldWalker(q, 0.81));
    expect(qpos[1]).toBeGreaterThan(0.8);
    expect(Math.max(...qvel.map(Math.abs))).toBeLessThan(0.2);
    expect(r.terminated).toBe(false);
  });

  it.each([2.5, 2.01])('height %d (>= 2.0): terminated', async (h) => {
    const { r, qpos } = await stepFrom(id, (q) => (q[1] = h));
    expect(qpos[1]).toBeGreaterThanOrEqual(2.0);
    expect(r.terminated).toBe(true);
  });

  it('height 1.99: alive', async () => {
    const { r, qpos } = await stepFrom(id, (q) => (q[1] = 1.99));
    expect(qpos[1]).toBeLessThan(2.0);
    expect(r.terminated).toBe(false);
  });

  it.each([1.5, -1.5, 1.001, -1.001])('angle %d (|angle| >= 1): terminated', async (angle) => {
    const { r, qpos } = await stepFrom(id, (q) => {
      q[1] = 1.5;
      q[2] = angle;
    });
    expect(qpos[2]).toBeCloseTo(angle, 6);
    expect(r.terminated).toBe(true);
  });

  it.each([0.999, -0.999, 0.5])('angle %d (|angle| < 1): alive (Hopper\'s 0.2 bound does not apply)', async (angle) => {
    const { r, qpos } = await stepFrom(id, (q) => {
      q[1] = 1.5;
      q[2] = angle;
    });
    expect(qpos[2]).toBeCloseTo(angle, 6);
    expect(r.terminated).toBe(false);
  });

  it('x velocity 150: alive (Walker2d v2 has no state bound)', async () => {
    const { r, qvel } = await stepFrom(id, (_q, u) => (u[0] = 150));
    expect(qvel[0]).toBeGreaterThan(100);
    expect(r.terminated).toBe(false);
  });
});

describe('Ant termination', () => {
  const id = 'ant-medium-v2';

  it('init state: alive', async () => {
    const { r, qpos } = await stepFrom(id, () => {});
    expect(qpos[2]).toBeGreaterThanOrEqual(0.2);
    expect(qpos[2]).toBeLessThanOrEqual(1.0);
    expect(r.terminated).toBe(false);
  });

  it('torso z 1.5 (> 1.0): terminated', async () => {
    const { r, qpos } = await stepFrom(id, (q) => (q[2] = 1.5));
    expect(qpos[2]).toBeGreaterThan(1.0);
    expect(r.terminated).toBe(true);
  });

  it('torso z 1.05 (still above 1.0 after one step): terminated', async () => {
    const { r, qpos } = await stepFrom(id, (q) => (q[2] = 1.05));
    expect(qpos[2]).toBeGreaterThan(1.0);
    expect(r.terminated).toBe(true);
  });

  it('torso z 0.95 (still at most 1.0 after one step): alive', async () => {
    const { r, qpos } = await stepFrom(id, (q) => (q[2] = 0.95));
    expect(qpos[2]).toBeLessThanOrEqual(1.0);
    expect(r.terminated).toBe(false);
  });

  it('torso z 0.55: alive', async () => {
    const { r } = await stepFrom(id, (q) => (q[2] = 0.55));
    expect(r.terminated).toBe(false);
  });

  it('torso far below the floor (ends below 0.2): terminated', async () => {
    // the floor pushes a sunken ant up hard, so start deep enough to still be below 0.2 after one step
    const { r, qpos } = await stepFrom(id, (q) => (q[2] = -10));
    expect(qpos[2]).toBeLessThan(0.2);
    expect(r.terminated).toBe(true);
  });

  // the floor pushes a sunken ant up; these depths were chosen so that it ends just above / below 0.2
  it('torso sunk to -1.0 ends in [0.2, 0.25): alive (bound is 0.2)', async () => {
    const { r, qpos } = await stepFrom(id, (q) => (q[2] = -1.0));
    expect(qpos[2]).toBeGreaterThanOrEqual(0.2);
    expect(qpos[2]).toBeLessThan(0.25);
    expect(r.terminated).toBe(false);
  });

  it('torso sunk to -1.5 ends in (0.15, 0.2): terminated', async () => {
    const { r, qpos } = await stepFrom(id, (q) => (q[2] = -1.5));
    expect(qpos[2]).toBeGreaterThan(0.15);
    expect(qpos[2]).toBeLessThan(0.2);
    expect(r.terminated).toBe(true);
  });

  it('large velocities alone do not terminate Ant (no state bound)', async () => {
    const { r, qvel, qpos } = await stepFrom(id, (_q, u) => (u[0] = 150));
    expect(Math.abs(qvel[0])).toBeGreaterThan(100);
    expect(qpos[2]).toBeLessThanOrEqual(1.0);
    expect(r.terminated).toBe(false);
  });
});

describe('termination rules hold on the post-step state over random-action episodes', () => {
  const RULES: Record<string, (q: Float64Array, v: Float64Array) => boolean> = {
    'hopper-medium-v2': (q, v) => {
      const s = [...q, ...v];
      const healthy =
        s.every(Number.isFinite) && s.slice(2).every((x) => Math.abs(x) < 100) && q[1] > 0.7 && Math.abs(q[2]) < 0.2;
      return !healthy;
    },
    'walker2d-medium-v2': (q) => !(q[1] > 0.8 && q[1] < 2.0 && q[2] > -1 && q[2] < 1),
    'ant-medium-v2': (q, v) => !([...q, ...v].every(Number.isFinite) && q[2] >= 0.2 && q[2] <= 1.0),
    'halfcheetah-medium-v2': () => false,
  };

  it.each(Object.keys(RULES))('%s', async (id) => {
    const env = await makeEnv(id);
    const rng = new Rng(77);
    let terminations = 0;
    let steps = 0;
    for (let ep = 0; ep < 6; ep++) {
      env.reset(ep);
      for (let t = 0; t < 150; t++) {
        const r = env.step(randomAction(rng, env.actionSize));
        steps++;
        const { qpos, qvel } = env.getState();
        expect(r.terminated).toBe(RULES[id](qpos, qvel));
        expect(r.truncated).toBe(false);
        if (r.terminated) {
          terminations++;
          break;
        }
      }
    }
    expect(steps).toBeGreaterThan(100);
    if (id.startsWith('hopper') || id.startsWith('walker')) expect(terminations).toBeGreaterThan(0);
    env.close();
  });
});

describe('HalfCheetah never terminates; truncation at maxEpisodeSteps', () => {
  it('HalfCheetah: 1000 random-action steps, truncated exactly at step 1000', async () => {
    const env = await makeEnv('halfcheetah-medium-v2');
    expect(env.maxEpisodeSteps).toBe(1000);
    const rng = new Rng(3);
    env.reset(3);
    const a = new Float64Array(6);
    for (let t = 1; t <= 1000; t++) {
      for (let j = 0; j < 6; j++) a[j] = rng.uniform(-1, 1);
      const r = env.step(a);
      expect(r.terminated).toBe(false);
      if (r.truncated !== (t === 1000)) expect.fail(`step ${t}: truncated = ${r.truncated}`);
    }
    expect(() => env.step(a)).toThrow(EnvUsageError);
    env.close();
  });

  it('HalfCheetah upside down is not terminated', async () => {
    const { r, qpos } = await stepFrom('halfcheetah-medium-v2', (q) => (q[2] = Math.PI));
    expect(Math.abs(qpos[2])).toBeGreaterThan(2);
    expect(r.terminated).toBe(false);
  });

  it('maxEpisodeSteps: 5 -> truncated (not terminated) at step 5', async () => {
    const env = await makeEnv('hopper-medium-v2', { maxEpisodeSteps: 5 });
    expect(env.maxEpisodeSteps).toBe(5);
    env.reset(1);
    for (let t = 1; t <= 5; t++) {
      const r = env.step(zeros(3));
      expect(r.terminated).toBe(false);
      expect(r.truncated).toBe(t === 5);
    }
    expect(() => env.step(zeros(3))).toThrow(/hopper-medium-v2/);
    // reset starts a new episode with a fresh step count
    env.reset(2);
    for (let t = 1; t <= 5; t++) expect(env.step(zeros(3)).truncated).toBe(t === 5);
    env.close();
  });

  it('terminating on the last allowed step: terminated true, truncated false', async () => {
    const env = await makeEnv('hopper-medium-v2', { maxEpisodeSteps: 1 });
    env.reset(0);
    env.setState([0, 0.5, 0, 0, 0, 0], zeros(6));
    const r = env.step(zeros(3));
    expect(r.terminated).toBe(true);
    expect(r.truncated).toBe(false);
    env.close();
  });

  it.each([0, -1, 1.5, Number.NaN, Infinity])('maxEpisodeSteps %d is rejected', async (n) => {
    await expect(makeEnv('hopper-medium-v2', { maxEpisodeSteps: n })).rejects.toThrow(RangeError);
  });
});

describe('misuse is reported', () => {
  it('step before reset throws, naming the env', async () => {
    const env = await makeEnv('walker2d-medium-v2');
    expect(() => env.step(zeros(6))).toThrow(EnvUsageError);
    expect(() => env.step(zeros(6))).toThrow(/walker2d-medium-v2/);
    env.close();
  });

  it('step after termination throws until reset', async () => {
    const env = await makeEnv('hopper-medium-v2');
    env.reset(0);
    env.setState([0, 0.5, 0, 0, 0, 0], zeros(6));
    expect(env.step(zeros(3)).terminated).toBe(true);
    expect(() => env.step(zeros(3))).toThrow(EnvUsageError);
    env.reset(0);
    expect(env.step(zeros(3)).terminated).toBe(false);
    env.close();
  });

  it.each([
    ['too short', [0, 0]],
    ['too long', [0, 0, 0, 0]],
    ['empty', []],
    ['NaN', [0, Number.NaN, 0]],
    ['Infinity', [Infinity, 0, 0]],
    ['-Infinity', [0, 0, -Infinity]],
  ])('action %s throws EnvUsageError naming the env and leaves the state untouched', async (_name, action) => {
    const env = await makeEnv('hopper-medium-v2');
    env.reset(4);
    env.step([0.1, 0.2, 0.3]);
    const before = env.getState();
    expect(() => env.step(action)).toThrow(EnvUsageError);
    expect(() => env.step(action)).toThrow(/hopper-medium-v2/);
    const after = env.getState();
    expect(Array.from(after.qpos)).toEqual(Array.from(before.qpos));
    expect(Array.from(after.qvel)).toEqual(Array.from(before.qvel));
    // the episode goes on
    const r = env.step([0.1, 0.2, 0.3]);
    expect(r.terminated).toBe(false);
    env.close();
  });

  it('non-number action entries throw', async () => {
    const env = await makeEnv('ant-medium-v2');
    env.reset(0);
    const bad = [0, 0, 0, 0, 0, 0, 0, '1'] as unknown as number[];
    expect(() => env.step(bad)).toThrow(/ant-medium-v2/);
    env.close();
  });

  it.each([-1, 1.5, Number.NaN, Infinity, 2 ** 53, '3' as unknown as number])(
    'seed %s is rejected',
    async (seed) => {
      const env = await makeEnv('hopper-medium-v2');
      expect(() => env.reset(seed)).toThrow(RangeError);
      env.close();
    },
  );

  it('seeds 0 and 2^32 + 5 are accepted', async () => {
    const env = await makeEnv('hopper-medium-v2');
    expect(env.reset(0).length).toBe(11);
    expect(env.reset(2 ** 32 + 5).length).toBe(11);
    env.close();
  });

  it('setState rejects wrong sizes and non-finite values', async () => {
    const env = await makeEnv('hopper-medium-v2');
    env.reset(0);
    expect(() => env.setState(zeros(5), zeros(6))).toThrow(EnvUsageError);
    expect(() => env.setState(zeros(6), zeros(7))).toThrow(EnvUsageError);
    expect(() => env.setState([0, 1.25, Number.NaN, 0, 0, 0], zeros(6))).toThrow(EnvUsageError);
    expect(() => env.setState([0, 1.25, 0, 0, 0, 0], [0, 0, 0, Infinity, 0, 0])).toThrow(EnvUsageError);
    env.close();
  });

  it('a closed env refuses to work', async () => {
    const env = await makeEnv('hopper-medium-v2');
    env.reset(0);
    env.close();
    env.close(); // idempotent
    expect(() => env.step(zeros(3))).toThrow(EnvUsageError);
    expect(() => env.reset(0)).toThrow(EnvUsageError);
    expect(() => env.getState()).toThrow(EnvUsageError);
  });
});

describe('non-finite physics', () => {
  // MuJoCo 3 resets mjData (qpos0, zero qvel, time 0) when qpos/qvel/qacc are bad
  // (|x| > 1e10 or NaN) and records a warning; the env must report it and terminate.
  const IDS = ['hopper-medium-v2', 'walker2d-medium-v2', 'halfcheetah-medium-v2', 'ant-medium-v2'];

  function blowUp(nv: number): Float64Array {
    const v = new Float64Array(nv);
    v[0] = 1e300; // finite, so setState accepts it, but far beyond MuJoCo's 1e10 bound
    return v;
  }

  const CASES = IDS.flatMap((id) => [0, 1, 2, 5].map((k) => [id, k] as const));

  it.each(CASES)('%s: bad state after %d healthy steps -> terminated, nonFiniteState', async (id, k) => {
    // k = 0 and 1 matter: MuJoCo's auto-reset puts time back to 0 and the remaining substeps
    // then bring it to (or past) its value before the step, so "time went backwards" misses it
    const env = await makeEnv(id);
    env.reset(0);
    for (let t = 0; t < k; t++) expect(env.step(zeros(env.actionSize)).terminated).toBe(false);
    env.setState(env.getState().qpos, blowUp(env.getState().qvel.length));
    const r = env.step(zeros(env.actionSize));
    expect(r.info.nonFiniteState).toBe(true);
    expect(r.terminated).toBe(true);
    expect(r.truncated).toBe(false);
    // nothing non-finite leaks out
    for (const x of r.obs) expect(Number.isFinite(x)).toBe(true);
    expect(Number.isFinite(r.reward)).toBe(true);
    expect(() => env.step(zeros(env.actionSize))).toThrow(EnvUsageError);
    // a new episode is healthy again
    env.reset(1);
    expect(env.step(zeros(env.actionSize)).info.nonFiniteState).toBe(false);
    env.close();
  });

  it('healthy steps do not report nonFiniteState', async () => {
    const env = await makeEnv('halfcheetah-medium-v2');
    env.reset(0);
    for (let t = 0; t < 20; t++) expect(env.step(zeros(6)).info.nonFiniteState).toBe(false);
    env.close();
  });
});
