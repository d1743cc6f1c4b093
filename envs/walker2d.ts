/**
 * Walker2d, gym `Walker2d-v2`/`-v3` defaults as used by D4RL (docs/reference.md §1;
 * gym/envs/mujoco/walker2d.py and walker2d_v3.py).
 */
import type { MainModule, MjModel } from '../src/mujoco/bridge.js';
import type { Rng } from '../src/rng.js';
import { LocomotionEnv, type LocomotionConfig, clip, sumOfSquares } from './locomotion-env.js';

export const WALKER2D = {
  name: 'Walker2d',
  modelFile: 'walker2d.xml',
  frameSkip: 4,
  observationSize: 17, // qpos[1:] (8) + clip(qvel) (9)
  actionSize: 6,
  ctrlCostWeight: 1e-3,
  healthyReward: 1.0,
  resetNoiseScale: 5e-3, // qpos, qvel += U(-scale, scale)
  obsVelocityClip: 10,
  minHeight: 0.8, // 0.8 < qpos[1] < 2.0
  maxHeight: 2.0,
  minAngle: -1.0, // -1 < qpos[2] < 1
  maxAngle: 1.0,
} as const;

export class Walker2dEnv extends LocomotionEnv {
  constructor(mj: MainModule, model: MjModel, config: LocomotionConfig) {
    super(mj, model, WALKER2D, config);
  }

  protected observe(out: Float64Array, offset: number): void {
    const { qpos, qvel } = this;
    let k = offset;
    for (let i = 1; i < qpos.length; i++) out[k++] = qpos[i];
    for (let i = 0; i < qvel.length; i++) out[k++] = clip(qvel[i], -WALKER2D.obsVelocityClip, WALKER2D.obsVelocityClip);
  }

  /** gym v2: done unless 0.8 < height < 2.0 and -1 < angle < 1 (no finiteness test of its own). */
  protected isTerminated(): boolean {
    const height = this.qpos[1];
    const angle = this.qpos[2];
    const healthy =
      height > WALKER2D.minHeight && height < WALKER2D.maxHeight && angle > WALKER2D.minAngle && angle < WALKER2D.maxAngle;
    return !healthy;
  }

  protected controlCost(action: ArrayLike<number>, offset: number): number {
    return WALKER2D.ctrlCostWeight * sumOfSquares(action, offset, this.actionSize);
  }

  protected healthyReward(): number {
    return WALKER2D.healthyReward;
  }

  protected addResetNoise(rng: Rng, qpos: Float64Array, qvel: Float64Array): void {
    const s = WALKER2D.resetNoiseScale;
    for (let i = 0; i < qpos.length; i++) qpos[i] += rng.uniform(-s, s);
    for (let i = 0; i < qvel.length; i++) qvel[i] += rng.uniform(-s, s);
  }
}
