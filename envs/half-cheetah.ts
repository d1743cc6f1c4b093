/**
 * HalfCheetah, gym `HalfCheetah-v2`/`-v3` defaults as used by D4RL (docs/reference.md §1;
 * gym/envs/mujoco/half_cheetah.py and half_cheetah_v3.py). Never terminates.
 */
import type { MainModule, MjModel } from '../src/mujoco/bridge.js';
import type { Rng } from '../src/rng.js';
import { LocomotionEnv, type LocomotionConfig, sumOfSquares } from './locomotion-env.js';

export const HALF_CHEETAH = {
  name: 'HalfCheetah',
  modelFile: 'half_cheetah.xml',
  frameSkip: 5,
  observationSize: 17, // qpos[1:] (8) + qvel (9), unclipped
  actionSize: 6,
  ctrlCostWeight: 0.1,
  resetNoiseScale: 0.1, // qpos += U(-scale, scale); qvel += scale * N(0, 1)
} as const;

export class HalfCheetahEnv extends LocomotionEnv {
  constructor(mj: MainModule, model: MjModel, config: LocomotionConfig) {
    super(mj, model, HALF_CHEETAH, config);
  }

  protected observe(out: Float64Array, offset: number): void {
    const { qpos, qvel } = this;
    let k = offset;
    for (let i = 1; i < qpos.length; i++) out[k++] = qpos[i];
    for (let i = 0; i < qvel.length; i++) out[k++] = qvel[i];
  }

  protected isTerminated(): boolean {
    return false;
  }

  protected controlCost(action: ArrayLike<number>, offset: number): number {
    return HALF_CHEETAH.ctrlCostWeight * sumOfSquares(action, offset, this.actionSize);
  }

  protected healthyReward(): number {
    return 0;
  }

  protected addResetNoise(rng: Rng, qpos: Float64Array, qvel: Float64Array): void {
    const s = HALF_CHEETAH.resetNoiseScale;
    for (let i = 0; i < qpos.length; i++) qpos[i] += rng.uniform(-s, s);
    for (let i = 0; i < qvel.length; i++) qvel[i] += s * rng.normal();
  }
}
