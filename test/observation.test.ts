/**
 * Observation layout of the four D4RL v2 locomotion envs (docs/reference.md §1):
 * - HalfCheetah: qpos[1:] (8), qvel (9)                    -> 17, unclipped
 * - Hopper:      qpos[1:] (5), clip(qvel, -10, 10) (6)     -> 11
 * - Walker2d:    qpos[1:] (8), clip(qvel, -10, 10) (9)     -> 17
 * - Ant:         qpos[2:] (13), qvel (14), clip(cfrc_ext, -1, 1) (14 x 6 = 84, all zero by default) -> 111
 */
import { describe, expect, it } from 'vitest';
import { Rng, makeEnv } from '../src/index.js';

interface Layout {
  id: string;
  nq: number;
  nv: number;
  obsSize: number;
  actSize: number;
  /** first qpos index in the observation */
  qposFrom: number;
  /** |qvel| clip in the observation, or Infinity */
  velClip: number;
  /** trailing contact-force entries */
  contact: number;
  /** a valid qpos (quaternion normalised for Ant) with distinct entries */
  qpos: number[];
  /** qvel with entries beyond +-10 */
  qvel: number[];
}

const LAYOUTS: Layout[] = [
  {
    id: 'halfcheetah-medium-v2',
    nq: 9,
    nv: 9,
    obsSize: 17,
    actSize: 6,
    qposFrom: 1,
    velClip: Infinity,
    contact: 0,
    qpos: [0.31, -0.05, 0.12, -0.2, 0.3, -0.4, 0.25, -0.15, 0.05],
    qvel: [15.5, -12.25, 10, -10, 9.75, 30, -30, 0.5, -0.125],
  },
  {
    id: 'hopper-medium-v2',
    nq: 6,
    nv: 6,
    obsSize: 11,
    actSize: 3,
    qposFrom: 1,
    velClip: 10,
    contact: 0,
    qpos: [0.31, 1.3, 0.05, -0.2, -0.3, 0.1],
    qvel: [12, -11, 3.5, -10.000001, 10, 25.5],
  },
  {
    id: 'walker2d-medium-v2',
    nq: 9,
    nv: 9,
    obsSize: 17,
    actSize: 6,
    qposFrom: 1,
    velClip: 10,
    contact: 0,
    qpos: [0.31, 1.3, 0.05, -0.2, -0.3, 0.1, -0.25, -0.35, 0.15],
    qvel: [12, -11, 3.5, -10.5, 10, 25.5, 9.999, -100, 0.25],
  },
  {
    id: 'ant-medium-v2',
    nq: 15,
    nv: 14,
    obsSize: 111,
    actSize: 8,
    qposFrom: 2,
    velClip: Infinity,
    contact: 84,
    // unit quaternion (0.6, 0, 0, 0.8)
    qpos: [0.31, -0.2, 0.7, 0.6, 0, 0, 0.8, 0.1, 0.6, -0.1, -0.6, 0.2, -0.7, 0.3, 0.8],
    qvel: [15, -12, 0.5, 11, -10.5, 3, 20, -20, 1, 2, 3, 4, 5, -6],
  },
];

const clip = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));

function expectedObs(L: Layout, qpos: ArrayLike<number>, qvel: ArrayLike<number>): number[] {
  return [
    ...Array.from(qpos).slice(L.qposFrom),
    ...Array.from(qvel).map((v) => clip(v, -L.velClip, L.velClip)),
    ...new Array<number>(L.contact).fill(0),
  ];
}

function randomAction(rng: Rng, n: number): Float64Array {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.uniform(-1, 1);
  return a;
}

describe.each(LAYOUTS)('observation of $id', (L) => {
  it('has the documented sizes', async () => {
    const env = await makeEnv(L.id);
    expect(env.observationSize).toBe(L.obsSize);
    expect(env.actionSize).toBe(L.actSize);
    const obs = env.reset(0);
    expect(obs).toBeInstanceOf(Float64Array);
    expect(obs.length).toBe(L.obsSize);
    const { qpos, qvel } = env.getState();
    expect(qpos.length).toBe(L.nq);
    expect(qvel.length).toBe(L.nv);
    // the layout accounts for every entry
    expect(L.nq - L.qposFrom + L.nv + L.contact).toBe(L.obsSize);
    env.close();
  });

  it('setState(qpos, qvel) -> observation() is exactly the documented layout', async () => {
    const env = await makeEnv(L.id);
    env.reset(1);
    expect(L.qpos.length).toBe(L.nq);
    expect(L.qvel.length).toBe(L.nv);
    env.setState(L.qpos, L.qvel);
    const obs = env.observation();
    expect(Array.from(obs)).toEqual(expectedObs(L, L.qpos, L.qvel));
    // set_state writes exactly what was given
    const s = env.getState();
    expect(Array.from(s.qpos)).toEqual(L.qpos);
    expect(Array.from(s.qvel)).toEqual(L.qvel);
    env.close();
  });

  if (L.velClip === Infinity) {
    it('does not clip velocities', async () => {
      const env = await makeEnv(L.id);
      env.reset(2);
      env.setState(L.qpos, L.qvel);
      const obs = env.observation();
      const velPart = Array.from(obs.subarray(L.nq - L.qposFrom, L.nq - L.qposFrom + L.nv));
      expect(velPart).toEqual(L.qvel);
      expect(Math.max(...velPart.map(Math.abs))).toBeGreaterThan(10);
      env.close();
    });
  } else {
    it('clips velocities to [-10, 10] in the observation only', async () => {
      const env = await makeEnv(L.id);
      env.reset(2);
      env.setState(L.qpos, L.qvel);
      const obs = env.observation();
      const velPart = Array.from(obs.subarray(L.nq - L.qposFrom));
      for (const v of velPart) expect(Math.abs(v)).toBeLessThanOrEqual(10);
      expect(velPart).toContain(10);
      expect(velPart).toContain(-10);
      // the state itself keeps the unclipped velocities
      expect(Array.from(env.getState().qvel)).toEqual(L.qvel);
      env.close();
    });
  }

  it('reset and step return observations of the current state', async () => {
    const env = await makeEnv(L.id);
    const rng = new Rng(7);
    const obs0 = env.reset(3);
    let s = env.getState();
    expect(Array.from(obs0)).toEqual(expectedObs(L, s.qpos, s.qvel));
    expect(Array.from(env.observation())).toEqual(Array.from(obs0));
    for (let t = 0; t < 15; t++) {
      const r = env.step(randomAction(rng, L.actSize));
      s = env.getState();
      expect(r.obs.length).toBe(L.obsSize);
      expect(Array.from(r.obs)).toEqual(expectedObs(L, s.qpos, s.qvel));
      expect(Array.from(env.observation())).toEqual(Array.from(r.obs));
      if (r.terminated || r.truncated) break;
    }
    env.close();
  });

  it('observation() returns a fresh copy', async () => {
    const env = await makeEnv(L.id);
    env.reset(4);
    const a = env.observation();
    const before = Array.from(a);
    a.fill(123);
    expect(Array.from(env.observation())).toEqual(before);
    env.close();
  });
});

describe('Ant contact forces', () => {
  const CONTACT_FROM = 13 + 14;

  it('default (D4RL / mujoco-py semantics): the 84 contact entries stay exactly zero on the floor', async () => {
    const env = await makeEnv('ant-medium-v2');
    const rng = new Rng(11);
    env.reset(5);
    let minZ = Infinity;
    for (let t = 0; t < 30; t++) {
      const r = env.step(randomAction(rng, 8));
      const contact = r.obs.subarray(CONTACT_FROM);
      expect(contact.length).toBe(84);
      for (const c of contact) expect(Object.is(c, 0)).toBe(true);
      expect(r.info.rewardContact).toBe(0);
      minZ = Math.min(minZ, env.getState().qpos[2]);
    }
    // the ant did come down to the floor (torso radius 0.25, started at 0.75)
    expect(minZ).toBeLessThan(0.7);
    env.close();
  });

  it('contactForces: true gives non-zero forces, clipped to [-1, 1], and the matching contact cost', async () => {
    const env = await makeEnv('ant-medium-v2', { contactForces: true });
    const rng = new Rng(12);
    env.reset(5);
    let sawNonZero = false;
    let sawClipped = false;
    for (let t = 0; t < 30; t++) {
      const r = env.step(randomAction(rng, 8));
      const contact = Array.from(r.obs.subarray(CONTACT_FROM));
      expect(contact.length).toBe(84);
      for (const c of contact) {
        expect(c).toBeGreaterThanOrEqual(-1);
        expect(c).toBeLessThanOrEqual(1);
      }
      if (contact.some((c) => c !== 0)) sawNonZero = true;
      if (contact.some((c) => Math.abs(c) === 1)) sawClipped = true;
      // contact cost = 0.5e-3 * sum(clip(cfrc_ext, -1, 1)^2), the same numbers as the observation
      const cost = 0.5e-3 * contact.reduce((s, c) => s + c * c, 0);
      expect(r.info.rewardContact).toBeCloseTo(-cost, 12);
      // observation() after the step shows the same contact part
      expect(Array.from(env.observation().subarray(CONTACT_FROM))).toEqual(contact);
    }
    expect(sawNonZero).toBe(true);
    expect(sawClipped).toBe(true);
    env.close();
  });

  it('contactForces is rejected for non-Ant envs', async () => {
    await expect(makeEnv('hopper-medium-v2', { contactForces: true })).rejects.toThrow(/Ant/);
  });
});
