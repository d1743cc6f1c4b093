/**
 * Base class of the four gym/D4RL "v2" locomotion environments.
 *
 * Mechanics follow gym's `MujocoEnv` (docs/reference.md §1): `init_qpos`/`init_qvel` are the
 * model's `qpos0` and zeros; `reset` = `mj_resetData` + the env's noise + `set_state`;
 * `set_state` writes qpos/qvel then `mj_forward`; a step writes `ctrl` and calls `mj_step`
 * `frameSkip` times. Each subclass (one file per env) supplies the observation, reward terms,
 * termination rule and reset noise as small named methods.
 *
 * The hot path (`stepInto`) allocates nothing: MuJoCo arrays are cached typed-array views into
 * WASM memory, refreshed only if the memory grew (which detaches old views).
 */
import type { MainModule, MjData, MjModel } from '../src/mujoco/bridge.js';
import { Rng } from '../src/rng.js';

/** Terms of the last step's reward (they add up to `reward`) and physical quantities. */
export interface StepInfo {
  /** Forward progress term, (x_after - x_before) / dt. */
  rewardForward: number;
  /** Minus the control cost (<= 0). */
  rewardCtrl: number;
  /** Constant alive bonus (Hopper, Walker2d, Ant), else 0. */
  rewardHealthy: number;
  /** Minus the contact cost (Ant only; 0 unless real contact forces are enabled). */
  rewardContact: number;
  /** x of the root (Ant: torso body) after the step. */
  xPosition: number;
  /** (x_after - x_before) / dt. */
  xVelocity: number;
  /**
   * The physics state became non-finite (or MuJoCo had to reset it because qpos/qvel/qacc
   * blew up). The episode is then terminated.
   */
  nonFiniteState: boolean;
}

export interface StepResult {
  obs: Float64Array;
  reward: number;
  terminated: boolean;
  truncated: boolean;
  info: StepInfo;
}

export interface EnvState {
  qpos: Float64Array;
  qvel: Float64Array;
}

/** The public environment interface (what `makeEnv` returns). */
export interface Env {
  readonly id: string;
  readonly observationSize: number;
  readonly actionSize: number;
  readonly maxEpisodeSteps: number;
  /** Seconds of simulated time per env step (timestep x frameSkip). */
  readonly dt: number;
  reset(seed: number): Float64Array;
  step(action: ArrayLike<number>): StepResult;
  setState(qpos: ArrayLike<number>, qvel: ArrayLike<number>): void;
  getState(): EnvState;
  /** The current observation (a copy). */
  observation(): Float64Array;
  close(): void;
}

export interface LocomotionConfig {
  /** Registry id this env was made for (e.g. `hopper-medium-v2`). */
  id: string;
  /** Episode cut (truncation, not termination); D4RL/gym: 1000. */
  maxEpisodeSteps: number;
}

/** Per-env constants a subclass declares once. */
export interface LocomotionSpec {
  readonly name: string;
  readonly frameSkip: number;
  readonly observationSize: number;
  /** Must equal the model's number of actuators (checked on construction). */
  readonly actionSize: number;
}

export class EnvUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EnvUsageError';
  }
}

export abstract class LocomotionEnv implements Env {
  readonly id: string;
  readonly observationSize: number;
  readonly actionSize: number;
  readonly maxEpisodeSteps: number;
  readonly frameSkip: number;
  readonly dt: number;
  readonly nq: number;
  readonly nv: number;

  protected readonly mj: MainModule;
  protected readonly model: MjModel;
  protected data: MjData;
  protected readonly initQpos: Float64Array;
  protected readonly initQvel: Float64Array;
  protected readonly rng = new Rng(0);

  // Cached views into WASM memory (see refreshViews).
  protected qpos!: Float64Array;
  protected qvel!: Float64Array;
  protected ctrl!: Float64Array;

  private elapsedSteps = 0;
  private started = false;
  private finished = false;
  private closed = false;
  private readonly info: StepInfo = {
    rewardForward: 0,
    rewardCtrl: 0,
    rewardHealthy: 0,
    rewardContact: 0,
    xPosition: 0,
    xVelocity: 0,
    nonFiniteState: false,
  };

  protected constructor(mj: MainModule, model: MjModel, spec: LocomotionSpec, config: LocomotionConfig) {
    this.mj = mj;
    this.model = model;
    this.id = config.id;
    this.maxEpisodeSteps = config.maxEpisodeSteps;
    this.frameSkip = spec.frameSkip;
    this.observationSize = spec.observationSize;
    if (model.nu !== spec.actionSize) {
      throw new Error(`${spec.name}: model has ${model.nu} actuators, expected ${spec.actionSize}`);
    }
    this.actionSize = spec.actionSize;
    this.nq = model.nq;
    this.nv = model.nv;
    this.dt = model.opt.timestep * spec.frameSkip;
    this.data = new mj.MjData(model);
    this.refreshViews();
    // gym: init_qpos = qpos0 (as compiled), init_qvel = zeros, read right after loading.
    this.initQpos = Float64Array.from(this.qpos);
    this.initQvel = new Float64Array(this.nv);
  }

  // ---- subclass hooks (one small named function each) -------------------------------

  /** Write the observation of the current state into `out[offset .. offset+observationSize)`. */
  protected abstract observe(out: Float64Array, offset: number): void;
  /** Episode ends (termination) in the current state. */
  protected abstract isTerminated(): boolean;
  /** Control cost of the action as given (before MuJoCo's ctrlrange clamp). */
  protected abstract controlCost(action: ArrayLike<number>, offset: number): number;
  /** Alive bonus added every step (also on the terminating one, as in gym v2). */
  protected abstract healthyReward(): number;
  /** Add the env's reset noise to `qpos`/`qvel` (which hold init_qpos/init_qvel). */
  protected abstract addResetNoise(rng: Rng, qpos: Float64Array, qvel: Float64Array): void;
  /** x coordinate whose change is rewarded (root slide joint by default). */
  protected forwardPosition(): number {
    return this.qpos[0];
  }
  /** Contact cost (Ant only). */
  protected contactCost(): number {
    return 0;
  }
  /** Hook run after the frame-skipped step, before observation (e.g. contact forces). */
  protected afterPhysicsStep(): void {}

  // ---- public API ------------------------------------------------------------------

  reset(seed: number): Float64Array {
    this.assertOpen();
    this.rng.seed(seed); // validates: non-negative safe integer
    this.mj.mj_resetData(this.model, this.data);
    this.refreshViewsIfDetached();
    const qpos = Float64Array.from(this.initQpos);
    const qvel = Float64Array.from(this.initQvel);
    this.addResetNoise(this.rng, qpos, qvel);
    this.writeState(qpos, qvel);
    this.afterPhysicsStep();
    this.elapsedSteps = 0;
    this.started = true;
    this.finished = false;
    return this.observation();
  }

  step(action: ArrayLike<number>): StepResult {
    this.assertSteppable();
    if (action == null || action.length !== this.actionSize) {
      throw new EnvUsageError(`${this.id}: action must have ${this.actionSize} entries, got ${action == null ? String(action) : action.length}`);
    }
    const obs = new Float64Array(this.observationSize);
    const { reward, terminated, truncated } = this.stepInto(action, 0, obs, 0);
    return { obs, reward, terminated, truncated, info: { ...this.info } };
  }

  /**
   * Allocation-free step: reads `actionSize` numbers of `actions` from `actionOffset`, writes
   * the next observation into `obsOut` at `obsOffset`. Returns a reused result record, and
   * `lastInfo` holds the reward terms until the next step.
   */
  stepInto(
    actions: ArrayLike<number>,
    actionOffset: number,
    obsOut: Float64Array,
    obsOffset: number,
  ): { reward: number; terminated: boolean; truncated: boolean } {
    this.assertSteppable();
    this.checkAction(actions, actionOffset);
    this.refreshViewsIfDetached();

    const xBefore = this.forwardPosition();
    const timeBefore = this.data.time;
    // At time 0 an auto-reset (to time 0) is invisible in data.time: count MuJoCo's warnings then.
    const warningsBefore = timeBefore === 0 ? this.badStateWarnings() : 0;
    const ctrl = this.ctrl;
    for (let j = 0; j < this.actionSize; j++) ctrl[j] = actions[actionOffset + j];
    for (let k = 0; k < this.frameSkip; k++) this.mj.mj_step(this.model, this.data);
    this.afterPhysicsStep();
    const xAfter = this.forwardPosition();

    const info = this.info;
    // MuJoCo auto-resets data (qpos0, time 0) when qpos/qvel/qacc go bad; treat it as non-finite.
    // An auto-reset sets time to 0 and the remaining substeps restart from there, so time ends
    // short of timeBefore + dt -- except after a reset in the first substep of a step starting
    // at time 0, which only MuJoCo's warning counters reveal.
    info.nonFiniteState =
      Math.abs(this.data.time - (timeBefore + this.dt)) > (0.5 * this.dt) / this.frameSkip ||
      (timeBefore === 0 && this.badStateWarnings() !== warningsBefore) ||
      !this.stateIsFinite();
    info.xPosition = xAfter;
    info.xVelocity = (xAfter - xBefore) / this.dt;
    info.rewardForward = info.xVelocity;
    info.rewardHealthy = this.healthyReward();
    info.rewardCtrl = -this.controlCost(actions, actionOffset);
    info.rewardContact = 0 - this.contactCost(); // 0 - x keeps +0 when there is no cost
    const reward = info.rewardForward + info.rewardHealthy + info.rewardCtrl + info.rewardContact;

    this.observe(obsOut, obsOffset);
    this.elapsedSteps++;
    const terminated = info.nonFiniteState || this.isTerminated();
    const truncated = !terminated && this.elapsedSteps >= this.maxEpisodeSteps;
    this.finished = terminated || truncated;
    const result = this.lastResult;
    result.reward = reward;
    result.terminated = terminated;
    result.truncated = truncated;
    return result;
  }

  /** Reward terms of the last step (reused object; copy it to keep it). */
  get lastInfo(): Readonly<StepInfo> {
    return this.info;
  }

  /** Steps taken in the current episode. */
  get episodeSteps(): number {
    return this.elapsedSteps;
  }

  setState(qpos: ArrayLike<number>, qvel: ArrayLike<number>): void {
    this.assertOpen();
    checkVector(qpos, this.nq, 'qpos');
    checkVector(qvel, this.nv, 'qvel');
    this.refreshViewsIfDetached();
    this.writeState(qpos, qvel);
    this.afterPhysicsStep();
  }

  /** Copy qpos into `out` at `offset` (for recorded rollouts and datasets, allocation-free). */
  copyQposInto(out: Float32Array | Float64Array, offset: number): void {
    this.refreshViewsIfDetached();
    for (let i = 0; i < this.nq; i++) out[offset + i] = this.qpos[i]!;
  }

  /** Copy qvel into `out` at `offset` (allocation-free, like copyQposInto). */
  copyQvelInto(out: Float32Array | Float64Array, offset: number): void {
    this.refreshViewsIfDetached();
    for (let i = 0; i < this.nv; i++) out[offset + i] = this.qvel[i]!;
  }

  getState(): EnvState {
    this.assertOpen();
    this.refreshViewsIfDetached();
    return { qpos: Float64Array.from(this.qpos), qvel: Float64Array.from(this.qvel) };
  }

  observation(): Float64Array {
    this.assertOpen();
    this.refreshViewsIfDetached();
    const out = new Float64Array(this.observationSize);
    this.observe(out, 0);
    return out;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.data.delete();
  }

  // ---- internals -------------------------------------------------------------------

  private readonly lastResult = { reward: 0, terminated: false, truncated: false };

  /** gym `set_state`: write qpos and qvel, then `mj_forward`. */
  protected writeState(qpos: ArrayLike<number>, qvel: ArrayLike<number>): void {
    this.qpos.set(qpos);
    this.qvel.set(qvel);
    this.mj.mj_forward(this.model, this.data);
  }

  protected refreshViews(): void {
    this.qpos = this.data.qpos;
    this.qvel = this.data.qvel;
    this.ctrl = this.data.ctrl;
  }

  /** A grown WASM memory detaches every view (length 0); re-fetch them then. */
  protected refreshViewsIfDetached(): void {
    if (this.qpos.length === 0) this.refreshViews();
  }

  /** MuJoCo's count of bad qpos/qvel/qacc warnings; each one means it auto-reset mjData. */
  private badStateWarnings(): number {
    // data.warning is a view of mjData's own array (never delete it); get() returns copies (delete those).
    const warnings = this.data.warning;
    let n = 0;
    for (const k of [3, 4, 5]) { // mjWARN_BADQPOS, mjWARN_BADQVEL, mjWARN_BADQACC
      const stat = warnings.get(k);
      if (stat) {
        n += stat.number;
        stat.delete();
      }
    }
    return n;
  }

  private stateIsFinite(): boolean {
    const { qpos, qvel } = this;
    for (let i = 0; i < qpos.length; i++) if (!Number.isFinite(qpos[i])) return false;
    for (let i = 0; i < qvel.length; i++) if (!Number.isFinite(qvel[i])) return false;
    return true;
  }

  private checkAction(actions: ArrayLike<number>, offset: number): void {
    if (actions.length < offset + this.actionSize) {
      throw new EnvUsageError(
        `${this.id}: action buffer too short: need ${offset + this.actionSize} entries, got ${actions.length}`,
      );
    }
    for (let j = 0; j < this.actionSize; j++) {
      const a = actions[offset + j];
      if (typeof a !== 'number' || !Number.isFinite(a)) {
        throw new EnvUsageError(`${this.id}: action[${j}] is ${String(a)}; actions must be finite numbers`);
      }
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new EnvUsageError(`${this.id}: env is closed`);
  }

  private assertSteppable(): void {
    this.assertOpen();
    if (!this.started) throw new EnvUsageError(`${this.id}: call reset(seed) before step()`);
    if (this.finished) {
      throw new EnvUsageError(
        `${this.id}: the episode has ended (terminated or truncated after ${this.elapsedSteps} steps); call reset(seed) before stepping again`,
      );
    }
  }
}

function checkVector(v: ArrayLike<number>, n: number, name: string): void {
  if (v == null || typeof v.length !== 'number' || v.length !== n) {
    throw new EnvUsageError(`${name} must have ${n} entries, got ${v == null ? String(v) : v.length}`);
  }
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(v[i])) throw new EnvUsageError(`${name}[${i}] is ${String(v[i])}; expected a finite number`);
  }
}

/** sum of squares of `n` entries from `offset` (control costs). */
export function sumOfSquares(v: ArrayLike<number>, offset: number, n: number): number {
  let s = 0;
  for (let j = 0; j < n; j++) s += v[offset + j] * v[offset + j];
  return s;
}

/** clip(x, lo, hi) */
export function clip(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}
