/**
 * Reset distribution and determinism (docs/reference.md §1):
 * - init_qpos = the model's qpos0, init_qvel = 0
 * - Hopper, Walker2d: qpos, qvel += Uniform(-0.005, 0.005)
 * - HalfCheetah, Ant: qpos += Uniform(-0.1, 0.1); qvel += 0.1 * N(0, 1)
 */
import { describe, expect, it } from 'vitest';
import { Rng, loadMujoco, makeEnv } from '../src/index.js';
import { assetPath, compileModelFile } from '../src/mujoco/bridge.js';

interface Spec {
  id: string;
  modelFile: string;
  initQpos: number[];
  nv: number;
  qposHalfWidth: number;
  /** 'uniform' with the same half width as qpos, or 'normal' with std 0.1 */
  qvelNoise: 'uniform' | 'normal';
}

const SPECS: Spec[] = [
  { id: 'hopper-medium-v2', modelFile: 'hopper.xml', initQpos: [0, 1.25, 0, 0, 0, 0], nv: 6, qposHalfWidth: 0.005, qvelNoise: 'uniform' },
  {
    id: 'walker2d-medium-v2',
    modelFile: 'walker2d.xml',
    initQpos: [0, 1.25, 0, 0, 0, 0, 0, 0, 0],
    nv: 9,
    qposHalfWidth: 0.005,
    qvelNoise: 'uniform',
  },
  {
    id: 'halfcheetah-medium-v2',
    modelFile: 'half_cheetah.xml',
    initQpos: [0, 0, 0, 0, 0, 0, 0, 0, 0],
    nv: 9,
    qposHalfWidth: 0.1,
    qvelNoise: 'normal',
  },
  {
    id: 'ant-medium-v2',
    modelFile: 'ant.xml',
    initQpos: [0, 0, 0.75, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    nv: 14,
    qposHalfWidth: 0.1,
    qvelNoise: 'normal',
  },
];

function stats(xs: number[]): { mean: number; std: number; min: number; max: number } {
  const n = xs.length;
  const mean = xs.reduce((s, x) => s + x, 0) / n;
  const v = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1);
  return { mean, std: Math.sqrt(v), min: Math.min(...xs), max: Math.max(...xs) };
}

function randomActions(seed: number, steps: number, n: number): Float64Array[] {
  const rng = new Rng(seed);
  return Array.from({ length: steps }, () => Float64Array.from({ length: n }, () => rng.uniform(-1, 1)));
}

const SEEDS = 400;

describe.each(SPECS)('reset of $id', (S) => {
  it('init_qpos is the model qpos0', async () => {
    await loadMujoco();
    const model = await compileModelFile(assetPath(S.modelFile));
    expect(Array.from(model.qpos0)).toEqual(S.initQpos);
    expect(model.nv).toBe(S.nv);
  });

  it(`noise over ${SEEDS} seeds has the documented range and spread`, async () => {
    const env = await makeEnv(S.id);
    const nq = S.initQpos.length;
    const dq: number[][] = Array.from({ length: nq }, () => []);
    const dv: number[][] = Array.from({ length: S.nv }, () => []);
    for (let seed = 0; seed < SEEDS; seed++) {
      env.reset(seed);
      const { qpos, qvel } = env.getState();
      for (let i = 0; i < nq; i++) dq[i].push(qpos[i] - S.initQpos[i]);
      for (let i = 0; i < S.nv; i++) dv[i].push(qvel[i]);
    }
    const w = S.qposHalfWidth;
    const uniformStd = w / Math.sqrt(3);

    // every coordinate gets its own noise, within [-w, w]
    for (let i = 0; i < nq; i++) {
      const s = stats(dq[i]);
      expect(s.min).toBeGreaterThanOrEqual(-w);
      expect(s.max).toBeLessThanOrEqual(w);
      expect(s.std).toBeGreaterThan(0.85 * uniformStd);
      expect(s.std).toBeLessThan(1.15 * uniformStd);
      // close to the edges: a uniform over the whole interval, not a narrower one
      expect(s.min).toBeLessThan(-0.9 * w);
      expect(s.max).toBeGreaterThan(0.9 * w);
      expect(Math.abs(s.mean)).toBeLessThan((4 * uniformStd) / Math.sqrt(SEEDS));
    }
    const all = stats(dq.flat());
    expect(all.std).toBeGreaterThan(0.95 * uniformStd);
    expect(all.std).toBeLessThan(1.05 * uniformStd);

    if (S.qvelNoise === 'uniform') {
      for (let i = 0; i < S.nv; i++) {
        const s = stats(dv[i]);
        expect(s.min).toBeGreaterThanOrEqual(-w);
        expect(s.max).toBeLessThanOrEqual(w);
        expect(s.std).toBeGreaterThan(0.85 * uniformStd);
        expect(s.std).toBeLessThan(1.15 * uniformStd);
      }
    } else {
      for (let i = 0; i < S.nv; i++) {
        const s = stats(dv[i]);
        expect(s.std).toBeGreaterThan(0.085);
        expect(s.std).toBeLessThan(0.115);
        expect(Math.abs(s.mean)).toBeLessThan((4 * 0.1) / Math.sqrt(SEEDS));
      }
      const v = stats(dv.flat());
      expect(v.std).toBeGreaterThan(0.095);
      expect(v.std).toBeLessThan(0.105);
      expect(Math.abs(v.mean)).toBeLessThan((4 * 0.1) / Math.sqrt(dv.flat().length));
      // Gaussian, not uniform: tails beyond 2 std (~4.6%) and no hard bound at 0.1 * sqrt(3)
      const flat = dv.flat();
      const tail = flat.filter((x) => Math.abs(x) > 0.2).length / flat.length;
      expect(tail).toBeGreaterThan(0.03);
      expect(tail).toBeLessThan(0.065);
      expect(Math.max(...flat.map(Math.abs))).toBeGreaterThan(0.25);
    }
    // qpos and qvel draws are not the same numbers
    expect(dq[0].slice(0, 20)).not.toEqual(dv[0].slice(0, 20));
    env.close();
  });

  it('reset noise is the Rng(seed) stream: nq qpos draws, then nv qvel draws (regression lock)', async () => {
    const env = await makeEnv(S.id);
    const nq = S.initQpos.length;
    for (const seed of [0, 1, 123456]) {
      env.reset(seed);
      const { qpos, qvel } = env.getState();
      const rng = new Rng(seed);
      const w = S.qposHalfWidth;
      const eq = S.initQpos.map((x) => x + rng.uniform(-w, w));
      const ev = Array.from({ length: S.nv }, () => (S.qvelNoise === 'uniform' ? rng.uniform(-w, w) : 0.1 * rng.normal()));
      expect(Array.from(qpos)).toEqual(eq);
      expect(Array.from(qvel)).toEqual(ev);
      expect(qpos.length).toBe(nq);
    }
    env.close();
  });

  it('same seed -> identical observation and trajectory; different seed -> different', async () => {
    const a = await makeEnv(S.id);
    const b = await makeEnv(S.id);
    const actions = randomActions(1, 40, a.actionSize);
    const oa = a.reset(17);
    const ob = b.reset(17);
    expect(Array.from(ob)).toEqual(Array.from(oa));
    for (const act of actions) {
      const ra = a.step(act);
      const rb = b.step(act);
      expect(Array.from(rb.obs)).toEqual(Array.from(ra.obs));
      expect(rb.reward).toBe(ra.reward);
      expect(rb.terminated).toBe(ra.terminated);
      if (ra.terminated) break;
    }
    const oc = b.reset(18);
    expect(Array.from(oc)).not.toEqual(Array.from(oa));
    a.close();
    b.close();
  });

  it('reset(seed) on a used env reproduces a fresh env exactly (no state carried over)', async () => {
    const fresh = await makeEnv(S.id);
    const used = await makeEnv(S.id);
    const actions = randomActions(2, 30, fresh.actionSize);
    used.reset(5);
    for (const act of randomActions(3, 25, used.actionSize)) {
      if (used.step(act).terminated) break;
    }
    const of = fresh.reset(9);
    const ou = used.reset(9);
    expect(Array.from(ou)).toEqual(Array.from(of));
    for (const act of actions) {
      const rf = fresh.step(act);
      const ru = used.step(act);
      expect(Array.from(ru.obs)).toEqual(Array.from(rf.obs));
      expect(ru.reward).toBe(rf.reward);
      if (rf.terminated) break;
    }
    fresh.close();
    used.close();
  });

  it('two envs interleaved give the same as each alone (no shared RNG or physics state)', async () => {
    const solo = await makeEnv(S.id);
    const x = await makeEnv(S.id);
    const y = await makeEnv(S.id);
    const actions = randomActions(4, 30, solo.actionSize);
    const otherActions = randomActions(5, 30, solo.actionSize);

    const soloObs: number[][] = [Array.from(solo.reset(31))];
    for (const act of actions) {
      const r = solo.step(act);
      soloObs.push(Array.from(r.obs));
      if (r.terminated) break;
    }

    const ox = x.reset(31);
    const interleaved: number[][] = [Array.from(ox)];
    for (let t = 0; t < soloObs.length - 1; t++) {
      // another env reseeds and steps between x's steps: it must not disturb x
      y.reset(40 + t);
      y.step(otherActions[t]);
      interleaved.push(Array.from(x.step(actions[t]).obs));
    }
    expect(interleaved).toEqual(soloObs);
    solo.close();
    x.close();
    y.close();
  });
});

describe('Ant reset keeps gym\'s unnormalised quaternion', () => {
  it('qpos[3:7] = [1,0,0,0] + uniform noise, as set (not renormalised)', async () => {
    const env = await makeEnv('ant-medium-v2');
    let maxNormDev = 0;
    for (let seed = 0; seed < 50; seed++) {
      env.reset(seed);
      const q = env.getState().qpos;
      const norm = Math.hypot(q[3], q[4], q[5], q[6]);
      maxNormDev = Math.max(maxNormDev, Math.abs(norm - 1));
    }
    expect(maxNormDev).toBeGreaterThan(0.01);
    env.close();
  });
});
