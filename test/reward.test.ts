/**
 * Rewards of the four D4RL v2 locomotion envs, recomputed by hand (docs/reference.md §1):
 * - HalfCheetah: (x1 - x0)/dt - 0.1 * sum(a^2)
 * - Hopper, Walker2d: (x1 - x0)/dt + 1 - 1e-3 * sum(a^2)
 * - Ant: (x1 - x0)/dt - 0.5 * sum(a^2) - 0.5e-3 * sum(clip(cfrc_ext)^2) + 1, with x the torso's
 *   xpos (which, read right after mj_step, is the position at the start of the last substep).
 * x is qpos[0] except for Ant. The control cost uses the action as given; MuJoCo clamps ctrl.
 */
import { describe, expect, it } from 'vitest';
import { Rng, loadMujoco, makeEnv } from '../src/index.js';
import { assetPath, compileModelFile } from '../src/mujoco/bridge.js';

interface Spec {
  id: string;
  modelFile: string;
  ctrlWeight: number;
  healthy: number;
  dt: number;
  frameSkip: number;
}

const SPECS: Spec[] = [
  { id: 'halfcheetah-medium-v2', modelFile: 'half_cheetah.xml', ctrlWeight: 0.1, healthy: 0, dt: 0.05, frameSkip: 5 },
  { id: 'hopper-medium-v2', modelFile: 'hopper.xml', ctrlWeight: 1e-3, healthy: 1, dt: 0.008, frameSkip: 4 },
  { id: 'walker2d-medium-v2', modelFile: 'walker2d.xml', ctrlWeight: 1e-3, healthy: 1, dt: 0.008, frameSkip: 4 },
  { id: 'ant-medium-v2', modelFile: 'ant.xml', ctrlWeight: 0.5, healthy: 1, dt: 0.05, frameSkip: 5 },
];

const sumSq = (a: ArrayLike<number>) => Array.from(a).reduce((s, x) => s + x * x, 0);

function randomAction(rng: Rng, n: number, scale = 1): Float64Array {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.uniform(-scale, scale);
  return a;
}

/** |a - b| <= tol * max(1, |a|, |b|) */
function expectClose(actual: number, expected: number, tol = 1e-9): void {
  const scale = Math.max(1, Math.abs(actual), Math.abs(expected));
  if (!(Math.abs(actual - expected) <= tol * scale)) {
    expect.fail(`expected ${actual} to be within ${tol} (relative) of ${expected}`);
  }
}

describe.each(SPECS)('reward of $id', (S) => {
  const isAnt = S.id.startsWith('ant');

  it('dt = timestep x frame_skip', async () => {
    const env = await makeEnv(S.id);
    expectClose(env.dt, S.dt, 1e-12);
    env.close();
  });

  it('recomputed by hand over random-action steps; info terms add up to the reward', async () => {
    const env = await makeEnv(S.id);
    const rng = new Rng(100);
    let seed = 0;
    env.reset(seed);
    // x before the first step: right after reset (set_state ran mj_forward) the torso's xpos is qpos[0:3]
    let xPrev = env.getState().qpos[0];
    let steps = 0;
    let terminations = 0;
    while (steps < 120) {
      const before = env.getState();
      const a = randomAction(rng, env.actionSize);
      const r = env.step(a);
      const after = env.getState();
      steps++;
      const { info } = r;

      let forward: number;
      if (isAnt) {
        forward = (info.xPosition - xPrev) / S.dt;
        // xpos lags qpos by at most one substep (timestep = dt / frameSkip)
        const sub = S.dt / S.frameSkip;
        const vmax = Math.max(Math.abs(before.qvel[0]), Math.abs(after.qvel[0])) + 50;
        expect(Math.abs(info.xPosition - after.qpos[0])).toBeLessThanOrEqual(vmax * sub);
      } else {
        forward = (after.qpos[0] - before.qpos[0]) / S.dt;
        expect(info.xPosition).toBe(after.qpos[0]);
      }
      const ctrl = S.ctrlWeight * sumSq(a);

      expectClose(info.rewardForward, forward);
      expectClose(info.xVelocity, forward);
      expectClose(info.rewardCtrl, -ctrl, 1e-12);
      expect(info.rewardHealthy).toBe(S.healthy);
      expect(info.rewardContact).toBe(0);
      expect(info.nonFiniteState).toBe(false);
      expectClose(r.reward, forward + S.healthy - ctrl);
      expectClose(r.reward, info.rewardForward + info.rewardCtrl + info.rewardHealthy + info.rewardContact, 1e-12);

      xPrev = info.xPosition;
      if (r.terminated || r.truncated) {
        if (r.terminated) terminations++;
        env.reset(++seed);
        xPrev = env.getState().qpos[0];
      }
    }
    if (S.id.startsWith('hopper') || S.id.startsWith('walker')) {
      // random actions topple these within 120 steps; the terminating steps were checked too
      expect(terminations).toBeGreaterThan(0);
    }
    env.close();
  });

  it('the first step matches raw MuJoCo: ctrl = action, frame_skip x mj_step, x as documented', async () => {
    const env = await makeEnv(S.id);
    env.reset(42);
    const s0 = env.getState();
    const a = randomAction(new Rng(5), env.actionSize);
    const r = env.step(a);
    const s1 = env.getState();

    const mj = await loadMujoco();
    const model = await compileModelFile(assetPath(S.modelFile));
    const data = new mj.MjData(model);
    try {
      expect(model.opt.timestep * S.frameSkip).toBeCloseTo(S.dt, 12);
      data.qpos.set(s0.qpos);
      data.qvel.set(s0.qvel);
      mj.mj_forward(model, data);
      const torso = mj.mj_name2id(model, mj.mjtObj.mjOBJ_BODY.value, 'torso');
      expect(torso).toBeGreaterThan(0);
      const x0 = isAnt ? data.xpos[3 * torso] : data.qpos[0];
      data.ctrl.set(a);
      for (let k = 0; k < S.frameSkip; k++) mj.mj_step(model, data);
      expect(Array.from(s1.qpos)).toEqual(Array.from(data.qpos));
      expect(Array.from(s1.qvel)).toEqual(Array.from(data.qvel));
      const x1 = isAnt ? data.xpos[3 * torso] : data.qpos[0];
      expect(r.info.xPosition).toBe(x1);
      expectClose(r.info.rewardForward, (x1 - x0) / S.dt, 1e-12);
      if (isAnt) {
        // gym's get_body_com reads xpos without a fresh mj_forward: it is not qpos[0] after the step
        expect(x1).not.toBe(data.qpos[0]);
        expect(x0).toBe(s0.qpos[0]);
      }
    } finally {
      data.delete();
    }
    env.close();
  });

  it('an action outside [-1, 1] is charged as given while MuJoCo clamps ctrl', async () => {
    const big = await makeEnv(S.id);
    const clipped = await makeEnv(S.id);
    big.reset(9);
    clipped.reset(9);
    const rng = new Rng(21);
    for (let t = 0; t < 5; t++) {
      const a = randomAction(rng, big.actionSize, 3);
      a[0] = 2.5; // at least one entry out of range
      const c = a.map((x) => Math.min(1, Math.max(-1, x)));
      const rb = big.step(a);
      const rc = clipped.step(c);
      // same physics
      expect(Array.from(big.getState().qpos)).toEqual(Array.from(clipped.getState().qpos));
      expect(Array.from(big.getState().qvel)).toEqual(Array.from(clipped.getState().qvel));
      expect(Array.from(rb.obs)).toEqual(Array.from(rc.obs));
      // different costs: the unclipped action is charged
      expectClose(rb.info.rewardCtrl, -S.ctrlWeight * sumSq(a), 1e-12);
      expectClose(rc.info.rewardCtrl, -S.ctrlWeight * sumSq(c), 1e-12);
      expect(rb.info.rewardCtrl).toBeLessThan(rc.info.rewardCtrl);
      expectClose(rb.reward - rc.reward, rb.info.rewardCtrl - rc.info.rewardCtrl, 1e-9);
      if (rb.terminated || rb.truncated) break;
    }
    big.close();
    clipped.close();
  });
});

describe('Ant contact cost', () => {
  it('is zero by default and -0.5e-3 * sum(clip(cfrc_ext)^2) with contactForces', async () => {
    const plain = await makeEnv('ant-medium-v2');
    const withForces = await makeEnv('ant-medium-v2', { contactForces: true });
    plain.reset(3);
    withForces.reset(3);
    const rng = new Rng(4);
    let sawCost = false;
    for (let t = 0; t < 20; t++) {
      const a = randomAction(rng, 8);
      const rp = plain.step(a);
      const rf = withForces.step(a);
      expect(rp.info.rewardContact).toBe(0);
      // contact forces are computed after the step only: physics is unchanged
      expect(Array.from(plain.getState().qpos)).toEqual(Array.from(withForces.getState().qpos));
      const contact = rf.obs.subarray(27);
      expectClose(rf.info.rewardContact, -0.5e-3 * sumSq(contact), 1e-12);
      expectClose(rf.reward, rp.reward + rf.info.rewardContact, 1e-9);
      if (rf.info.rewardContact < 0) sawCost = true;
    }
    expect(sawCost).toBe(true);
    plain.close();
    withForces.close();
  });
});
