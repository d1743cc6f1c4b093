/**
 * Ant, gym `Ant-v2`/`-v3` defaults as used by D4RL (docs/reference.md §1;
 * gym/envs/mujoco/ant.py and ant_v3.py).
 *
 * Contact forces: under mujoco-py >= 2.0 (which produced D4RL's data and the published agents)
 * `cfrc_ext` is never computed by `mj_step`, so the 84 contact entries of the observation and
 * the contact cost are zero. That is the default here. `contactForces: true` computes them
 * with `mj_rnePostConstraint` (Gymnasium v4 behaviour); scores are then not D4RL-comparable.
 */
import type { MainModule, MjModel } from '../src/mujoco/bridge.js';
import type { Rng } from '../src/rng.js';
import { LocomotionEnv, type LocomotionConfig, clip, sumOfSquares } from './locomotion-env.js';

export const ANT = {
  name: 'Ant',
  modelFile: 'ant.xml',
  frameSkip: 5,
  observationSize: 111, // qpos[2:] (13) + qvel (14) + clip(cfrc_ext) (14 bodies x 6)
  actionSize: 8,
  ctrlCostWeight: 0.5,
  contactCostWeight: 0.5e-3,
  contactForceClip: 1.0,
  healthyReward: 1.0,
  minZ: 0.2, // healthy while finite and 0.2 <= qpos[2] <= 1.0
  maxZ: 1.0,
  resetNoiseScale: 0.1, // qpos += U(-scale, scale); qvel += scale * N(0, 1)
  forwardBody: 'torso', // reward uses xpos of this body
} as const;

export interface AntOptions {
  /** Compute real contact forces (Gymnasium v4); default false = D4RL/mujoco-py semantics. */
  contactForces?: boolean;
}

export class AntEnv extends LocomotionEnv {
  private readonly contactForces: boolean;
  private readonly torsoId: number;
  private xpos!: Float64Array;
  private cfrcExt!: Float64Array;

  constructor(mj: MainModule, model: MjModel, config: LocomotionConfig, options: AntOptions = {}) {
    super(mj, model, ANT, config);
    this.contactForces = options.contactForces ?? false;
    this.torsoId = mj.mj_name2id(model, mj.mjtObj.mjOBJ_BODY.value, ANT.forwardBody);
    if (this.torsoId < 0) throw new Error(`ant model has no body named '${ANT.forwardBody}'`);
    this.refreshViews();
  }

  protected override refreshViews(): void {
    super.refreshViews();
    this.xpos = this.data.xpos;
    this.cfrcExt = this.data.cfrc_ext;
  }

  protected override afterPhysicsStep(): void {
    if (this.contactForces) this.mj.mj_rnePostConstraint(this.model, this.data);
  }

  protected override forwardPosition(): number {
    return this.xpos[3 * this.torsoId];
  }

  protected observe(out: Float64Array, offset: number): void {
    const { qpos, qvel } = this;
    let k = offset;
    for (let i = 2; i < qpos.length; i++) out[k++] = qpos[i];
    for (let i = 0; i < qvel.length; i++) out[k++] = qvel[i];
    const nContact = this.observationSize - (k - offset);
    if (this.contactForces) {
      const c = ANT.contactForceClip;
      for (let i = 0; i < nContact; i++) out[k++] = clip(this.cfrcExt[i], -c, c);
    } else {
      out.fill(0, k, k + nContact);
    }
  }

  protected isTerminated(): boolean {
    const z = this.qpos[2];
    return !(z >= ANT.minZ && z <= ANT.maxZ);
  }

  protected controlCost(action: ArrayLike<number>, offset: number): number {
    return ANT.ctrlCostWeight * sumOfSquares(action, offset, this.actionSize);
  }

  protected override contactCost(): number {
    if (!this.contactForces) return 0;
    const c = ANT.contactForceClip;
    let s = 0;
    for (let i = 0; i < this.cfrcExt.length; i++) {
      const f = clip(this.cfrcExt[i], -c, c);
      s += f * f;
    }
    return ANT.contactCostWeight * s;
  }

  protected healthyReward(): number {
    return ANT.healthyReward;
  }

  protected addResetNoise(rng: Rng, qpos: Float64Array, qvel: Float64Array): void {
    const s = ANT.resetNoiseScale;
    for (let i = 0; i < qpos.length; i++) qpos[i] += rng.uniform(-s, s);
    for (let i = 0; i < qvel.length; i++) qvel[i] += s * rng.normal();
  }
}
