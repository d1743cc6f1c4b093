/**
 * Hopper, gym `Hopper-v2`/`-v3` defaults as used by D4RL (docs/reference.md §1;
 * gym/envs/mujoco/hopper.py and hopper_v3.py).
 */
import type { MainModule, MjModel } from '../src/mujoco/bridge.js';
import type { Rng } from '../src/rng.js';
import { LocomotionEnv, type LocomotionConfig, clip, sumOfSquares } from './locomotion-env.js';

export const HOPPER = {
  name: 'Hopper',
  modelFile: 'hopper.xml',
  frameSkip: 4,
  observationSize: 11, // qpos[1:] (5) + clip(qvel) (6)
  actionSize: 3,
  ctrlCostWeight: 1e-3,
  healthyReward: 1.0,
  resetNoiseScale: 5e-3, // qpos, qvel += U(-scale, scale)
  obsVelocityClip: 10,
  healthyStateBound: 100, // |state[2:]| < bound
  minHeight: 0.7, // qpos[1] > minHeight
  maxAbsAngle: 0.2, // |qpos[2]| < maxAbsAngle
} as const;

export class HopperEnv extends LocomotionEnv {
  constructor(mj: MainModule, model: MjModel, config: LocomotionConfig) {
    super(mj, model, HOPPER, config);
  }

  protected observe(out: Float64Array, offset: number): void {
    const { qpos, qvel } = this;
    let k = offset;
    for (let i = 1; i < qpos.length; i++) out[k++] = qpos[i];
    for (let i = 0; i < qvel.length; i++) out[k++] = clip(qvel[i], -HOPPER.obsVelocityClip, HOPPER.obsVelocityClip);
  }

  /** gym: done unless finite state, |state[2:]| < 100, height > 0.7 and |angle| < 0.2. */
  protected isTerminated(): boolean {
    const { qpos, qvel } = this;
    const bound = HOPPER.healthyStateBound;
    for (let i = 2; i < qpos.length; i++) if (!(Math.abs(qpos[i]) < bound)) return true;
    for (let i = 0; i < qvel.length; i++) if (!(Math.abs(qvel[i]) < bound)) return true;
    const height = qpos[1];
    const angle = qpos[2];
    return !(height > HOPPER.minHeight && Math.abs(angle) < HOPPER.maxAbsAngle);
  }

  protected controlCost(action: ArrayLike<number>, offset: number): number {
    return HOPPER.ctrlCostWeight * sumOfSquares(action, offset, this.actionSize);
  }

  protected healthyReward(): number {
    return HOPPER.healthyReward;
  }

  protected addResetNoise(rng: Rng, qpos: Float64Array, qvel: Float64Array): void {
    const s = HOPPER.resetNoiseScale;
    for (let i = 0; i < qpos.length; i++) qpos[i] += rng.uniform(-s, s);
    for (let i = 0; i < qvel.length; i++) qvel[i] += rng.uniform(-s, s);
  }
}
