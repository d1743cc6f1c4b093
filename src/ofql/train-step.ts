/**
 * One-Step Flow Q-Learning agent: parameters, optimisers and the training step, CleanRL style
 * (OfqlAgentBase.trainStep reads top to bottom; TfOfqlAgent's updates follow the numbered
 * steps below). Mirrors DQL's Diffusion_QL.train loop
 * (Zhendong-Wang/Diffusion-Policies-for-Offline-RL agents/ql_diffusion.py) with OFQL's one-step
 * average-velocity policy in place of the diffusion chain (docs/reference.md §4 and §5):
 *
 *   1. critic:  y = r + not_done * gamma * min(Q1', Q2')(s', a'),  a' = one-step EMA actor;
 *               L = MSE(Q1, y) + MSE(Q2, y); clip global grad norm (gn); Adam.
 *   2. actor:   L = bc + eta * q_loss
 *               bc = mean || u(a_t, r, t; s) - sg(u_tgt) ||^2   (MeanFlow target via an exact JVP)
 *               q_loss = -Q_a(s, a_new).mean() / |Q_b(s, a_new)|.mean() (detached), roles a/b random;
 *               a_new = eps - u(eps, 0, 1; s) from the online actor (differentiable);
 *               clip global grad norm (gn); Adam.
 *   3. EMA actor every 5 steps from step 1000 (decay 0.995).
 *   4. target critic soft update (tau 0.005) every step.
 * With config.trainCritic = false (behaviour cloning, eta = 0) steps 1, the Q term and 4 are skipped.
 *
 * All randomness comes from the agent's seeded Rng on the JS side; the public API takes and returns
 * Float32Arrays only, so callers never hold tensors.
 */
import { tf } from './tf.js';
import { Rng, deriveSeed, assertSeed } from '../rng.js';
import { validateConfig, type OfqlConfig } from './config.js';
import { accumulatedBeta } from '../engine/optim.js';
import {
  actorForward,
  actorNamedParams,
  assignNamed,
  cloneActor,
  cloneCritic,
  criticForward,
  criticMin,
  criticNamedParams,
  initActor,
  initCritic,
  oneStepAction,
  qForward,
  readNamed,
  type ActorVars,
  type CriticVars,
  type NamedArray,
} from './networks.js';
import {
  behaviourLoss,
  clipByGlobalNorm,
  copyInto,
  criticLoss,
  criticTarget,
  emaAction,
  emaUpdate,
  maxOverRepeats,
  meanFlowTarget,
  normals,
  qLoss,
  sampleTimePairs,
  softUpdate,
  type TimePairs,
} from './losses.js';
import { OptionError } from '../option-error.js';

type Tensor = tf.Tensor;

/** A minibatch of transitions, row-major. B = rewards.length. */
export interface TransitionBatch {
  /** [B * obsDim] */
  states: Float32Array;
  /** [B * actDim], in [-maxAction, maxAction] */
  actions: Float32Array;
  /** [B] */
  rewards: Float32Array;
  /** [B * obsDim] */
  nextStates: Float32Array;
  /** [B]: 1 - terminal (D4RL `terminals`; timeouts are not terminals). */
  notDones: Float32Array;
}

export interface CriticMetrics {
  criticLoss: number;
  /** Global L2 norm of the critic gradient before clipping (what DQL logs). */
  criticGradNorm: number;
  /** Mean TD target. */
  targetQMean: number;
}

export interface OfqlMetrics extends CriticMetrics {
  /** Index of this gradient step (0-based; DQL's `self.step` before the increment). */
  step: number;
  /** Average-velocity behaviour loss. */
  bcLoss: number;
  /** -Q_a.mean() / |Q_b|.mean() (without eta). */
  qLoss: number;
  /** bcLoss + eta * qLoss. */
  actorLoss: number;
  /** Global L2 norm of the actor gradient before clipping. */
  actorGradNorm: number;
  /** Which critic led the Q loss this step (1: -Q1/|Q2|, 2: -Q2/|Q1|). */
  qRole: 1 | 2;
  /** What happened to the EMA actor after this step. */
  ema: 'update' | 'copy' | 'none';
  /** Fraction of the batch with r = t. */
  flowFraction: number;
  /**
   * Share of the one-step action entries a_new (the actor's Q-term input) at the action bound
   * (|a| >= 0.99 maxAction): a policy the Q term drags out of the data shows here first
   * (docs/results.md). NaN in behaviour cloning (no a_new is computed).
   */
  actionAtBound: number;
}

export interface OfqlTrainingState {
  /** Gradient steps taken. */
  step: number;
  /** State of the agent's internal Rng (Rng.getState()). */
  rng: number[];
}

export interface OfqlAgent {
  readonly config: Readonly<OfqlConfig>;
  /** Gradient steps taken so far. */
  readonly step: number;
  /** One full OFQL update (critic, actor, EMA, target critic) on a batch; returns scalar metrics. */
  trainStep(batch: TransitionBatch): OfqlMetrics;
  /**
   * Only the critic's update (target, loss, backward, clip, Adam) -- no actor update, no EMA, no
   * target update, step counter unchanged. For timing and for critic-only warm starts.
   */
  criticStep(batch: TransitionBatch): CriticMetrics;
  /**
   * Actions for a batch of states `obs` ([B * obsDim]) -> [B * actDim], clipped to the action box.
   * n = 1: one one-step action per state. n > 1: DQL's evaluation rule -- n candidates per state,
   * scored by the target critic's min(Q1, Q2), one drawn with probability softmax(Q).
   * Uses the EMA actor unless config.evalActor = 'online'. Noise and draws come from `rng`.
   */
  act(obs: Float32Array, n: number, rng: Rng): Float32Array;
  /**
   * Every network parameter by stable name (`actor.*`, `ema_actor.*`, `critic.*`, `critic_target.*`;
   * see networks.ts actorNamedParams / criticNamedParams), copies in OUR [in, out] layout.
   */
  namedTensors(): Map<string, NamedArray>;
  /** Inverse of namedTensors (all four networks must be present). */
  loadNamedTensors(values: ReadonlyMap<string, NamedArray>): void;
  /**
   * Adam state with stable names: `actor_optim.step`, `actor_optim.<param>.exp_avg`,
   * `actor_optim.<param>.exp_avg_sq` (PyTorch's state names), same for `critic_optim`.
   * Moments are zeros before the first step.
   */
  getOptimizerState(): Promise<Map<string, NamedArray>>;
  setOptimizerState(values: ReadonlyMap<string, NamedArray>): Promise<void>;
  /** Step counter and Rng state, for exact resumption together with the two maps above. */
  getTrainingState(): OfqlTrainingState;
  setTrainingState(state: OfqlTrainingState): void;
  /** Free every tensor the agent owns. */
  dispose(): void;
}

/**
 * Make a restored tf.js Adam continue bit for bit. AdamOptimizer keeps beta^(t+1) in `accBeta1` /
 * `accBeta2`, updated by one float32 multiplication per step, but `setWeights` recomputes them as
 * pow(beta, t + 1); the two differ in the last bits, so a resumed run would drift from the
 * uninterrupted one by rounding noise from its first step. Set both to the exact float32 product
 * (Math.fround products = correctly rounded float32 multiplications, as the backends' Mul).
 */
function setExactBiasCorrection(opt: tf.AdamOptimizer, steps: number): void {
  const o = opt as unknown as { beta1: number; beta2: number; accBeta1?: tf.Variable; accBeta2?: tf.Variable };
  if (!o.accBeta1 || !o.accBeta2 || !Number.isSafeInteger(steps) || steps < 0) {
    throw new Error('internal: this tf.js AdamOptimizer has no accBeta1/accBeta2 to restore exactly');
  }
  const b1 = accumulatedBeta(o.beta1, steps);
  const b2 = accumulatedBeta(o.beta2, steps);
  tf.tidy(() => {
    o.accBeta1!.assign(tf.scalar(b1));
    o.accBeta2!.assign(tf.scalar(b2));
  });
}

/** Seeds of the agent's independent streams, derived from the user's seed (both engines). */
export const AGENT_STREAMS = { actorInit: 0, criticInit: 1, train: 2 } as const;

/** Check a batch's array lengths against the dims (both engines); returns the batch size. */
export function checkBatch(b: TransitionBatch, obsDim: number, actDim: number): number {
  const B = b.rewards?.length ?? 0;
  const want: Array<[keyof TransitionBatch, number]> = [
    ['rewards', B],
    ['states', B * obsDim],
    ['actions', B * actDim],
    ['nextStates', B * obsDim],
    ['notDones', B],
  ];
  if (B === 0) throw new RangeError('TransitionBatch: empty batch');
  for (const [k, n] of want) {
    if (!(b[k] instanceof Float32Array) || b[k].length !== n) {
      throw new RangeError(`TransitionBatch.${k}: expected Float32Array of length ${n} (B=${B}), got ${b[k]?.length}`);
    }
  }
  return B;
}

/** Share of action entries at the bound (|a| >= 0.99 maxAction): OfqlMetrics.actionAtBound. */
export function shareAtBound(actions: Float32Array, maxAction: number): number {
  let n = 0;
  for (let i = 0; i < actions.length; i++) if (Math.abs(actions[i]!) >= 0.99 * maxAction) n += 1;
  return n / actions.length;
}

/**
 * DQL's candidate draw (sample_action): for each of the B states, one of its n candidate actions
 * (rows b*n .. b*n+n-1 of `actions`, scored `q`) drawn with probability softmax(q).
 */
export function drawBySoftmaxQ(actions: Float32Array, q: Float32Array, B: number, n: number, actDim: number, rng: Rng): Float32Array {
  const out = new Float32Array(B * actDim);
  for (let b = 0; b < B; b++) {
    let qmax = -Infinity;
    for (let k = 0; k < n; k++) qmax = Math.max(qmax, q[b * n + k]!);
    let z = 0;
    for (let k = 0; k < n; k++) z += Math.exp(q[b * n + k]! - qmax);
    let u = rng.random() * z;
    let pick = n - 1;
    for (let k = 0; k < n; k++) {
      u -= Math.exp(q[b * n + k]! - qmax);
      if (u < 0) {
        pick = k;
        break;
      }
    }
    out.set(actions.subarray((b * n + pick) * actDim, (b * n + pick + 1) * actDim), b * actDim);
  }
  return out;
}

/** The critic metrics of a step that trains no critic (behaviour cloning). */
const UNTRAINED_CRITIC: Readonly<CriticMetrics> = Object.freeze({ criticLoss: 0, criticGradNorm: 0, targetQMean: 0 });

/** The actor update's random draws, in the order both engines make them. */
export interface ActorDraws {
  /** (t, r) ~ sorted logit-normal pairs, a flowRatio fraction with r = t. */
  pairs: TimePairs;
  /** Noise of the MeanFlow interpolant. */
  eps: Float32Array;
  /** Noise of the one-step action a_new that the Q term scores. */
  epsNew: Float32Array;
  /** Which critic leads the Q loss (OfqlMetrics.qRole). */
  qRole: 1 | 2;
}

/** What an engine's actor update reports. */
export type ActorMetrics = Pick<OfqlMetrics, 'bcLoss' | 'qLoss' | 'actorLoss' | 'actorGradNorm' | 'actionAtBound'>;

/** One step's critic and actor updates, as an engine reports them to OfqlAgentBase.trainStep. */
export interface NetworkUpdates {
  critic: CriticMetrics;
  draws: ActorDraws;
  actor: ActorMetrics;
}

/**
 * What the TF.js and ONNX agents share, so that they agree by construction: the frozen config,
 * the step counter and training Rng, the argument checks and their messages, the order of a
 * step's parts and of its random draws, and the metrics. An engine supplies the updates.
 */
export abstract class OfqlAgentBase implements OfqlAgent {
  readonly config: Readonly<OfqlConfig>;
  /** The training stream: the critic's next-action noise, then the actor's draws, every step. */
  protected readonly rng: Rng;
  private steps = 0;
  private disposed = false;

  protected constructor(config: OfqlConfig, seed: number) {
    validateConfig(config);
    assertSeed(seed);
    this.config = Object.freeze({ ...config });
    this.rng = new Rng(deriveSeed(seed, AGENT_STREAMS.train));
  }

  get step(): number {
    return this.steps;
  }

  /**
   * Critic and actor (updateNetworks), then the EMA actor and the target critic (updateTargets).
   * The critic step is skipped in behaviour cloning: nothing reads it.
   */
  trainStep(batch: TransitionBatch): OfqlMetrics {
    this.checkAlive();
    const B = checkBatch(batch, this.config.obsDim, this.config.actDim);
    const thisStep = this.steps;
    const { critic, draws, actor } = this.updateNetworks(batch, B);
    const ema = emaAction(thisStep, this.config);
    this.updateTargets(ema);
    this.steps += 1;
    let nFlow = 0;
    for (let i = 0; i < B; i++) nFlow += draws.pairs.isFlow[i]!;
    return {
      step: thisStep,
      ...critic,
      bcLoss: actor.bcLoss,
      qLoss: actor.qLoss,
      actorLoss: actor.actorLoss,
      actorGradNorm: actor.actorGradNorm,
      qRole: draws.qRole,
      ema,
      flowFraction: nFlow / B,
      actionAtBound: actor.actionAtBound,
    };
  }

  criticStep(batch: TransitionBatch): CriticMetrics {
    this.checkAlive();
    if (!this.config.trainCritic) throw new Error('criticStep: this agent is behaviour cloning only (config.trainCritic = false)');
    return this.updateCriticOnly(batch, checkBatch(batch, this.config.obsDim, this.config.actDim));
  }

  act(obs: Float32Array, n: number, rng: Rng): Float32Array {
    this.checkAlive();
    const S = this.config.obsDim;
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`act: n must be a positive integer, got ${n}`);
    if (!(obs instanceof Float32Array) || obs.length === 0 || obs.length % S !== 0) {
      throw new RangeError(`act: obs must be a non-empty Float32Array with a multiple of obsDim=${S} entries`);
    }
    if (n > 1 && !this.config.trainCritic) {
      throw new OptionError(`act: n = ${n} ranks candidates by the critic, which a behaviour-cloning agent (trainCritic = false) never trained; use n = 1`);
    }
    return this.sampleActions(obs, obs.length / S, n, rng);
  }

  getTrainingState(): OfqlTrainingState {
    return { step: this.steps, rng: this.rng.getState() };
  }

  setTrainingState(state: OfqlTrainingState): void {
    if (!Number.isInteger(state.step) || state.step < 0) throw new RangeError(`training state: bad step ${state.step}`);
    this.rng.setState(state.rng);
    this.steps = state.step;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.release();
  }

  protected checkAlive(): void {
    if (this.disposed) throw new Error('OFQL agent used after dispose()');
  }

  /** The critic's update unless behaviour cloning (then no draw is made). */
  protected criticIfTrained(update: () => CriticMetrics): CriticMetrics {
    return this.config.trainCritic ? update() : UNTRAINED_CRITIC;
  }

  /** DQL: `if np.random.uniform() > 0.5: q_loss = -q1.mean() / q2.abs().mean()` else swapped. */
  protected drawActorNoise(B: number): ActorDraws {
    const { rng, config } = this;
    const pairs = sampleTimePairs(rng, B, config);
    const eps = normals(rng, B * config.actDim);
    const epsNew = normals(rng, B * config.actDim);
    const qRole: 1 | 2 = rng.random() > 0.5 ? 1 : 2;
    return { pairs, eps, epsNew, qRole };
  }

  /** 1. the critic (via criticIfTrained), 2. drawActorNoise and the actor, on one batch of B rows. */
  protected abstract updateNetworks(batch: TransitionBatch, B: number): NetworkUpdates;
  /** 3. the EMA actor as `ema` says; 4. the target critic's soft update where the critic step did not. */
  protected abstract updateTargets(ema: OfqlMetrics['ema']): void;
  /** criticStep's update: no target update, no step. */
  protected abstract updateCriticOnly(batch: TransitionBatch, B: number): CriticMetrics;
  /** act() after its checks: B states, n candidates each. */
  protected abstract sampleActions(obs: Float32Array, B: number, n: number, rng: Rng): Float32Array;
  /** Free what the engine holds (called once). */
  protected abstract release(): void;
  abstract namedTensors(): Map<string, NamedArray>;
  abstract loadNamedTensors(values: ReadonlyMap<string, NamedArray>): void;
  abstract getOptimizerState(): Promise<Map<string, NamedArray>>;
  abstract setOptimizerState(values: ReadonlyMap<string, NamedArray>): Promise<void>;
}

/** PyTorch Adam's default betas; lr 3e-4 for both networks [DQL]; eps from the config. */
const ADAM_BETA1 = 0.9;
const ADAM_BETA2 = 0.999;

function makeAdam(lr: number, epsilon: number): tf.AdamOptimizer {
  return tf.train.adam(lr, ADAM_BETA1, ADAM_BETA2, epsilon);
}

/** A network's variables by stable name, and the same variables in that order. */
interface NamedVars {
  list: Array<[string, tf.Variable]>;
  vars: tf.Variable[];
}

function namedVars(list: Array<[string, tf.Variable]>): NamedVars {
  return { list, vars: list.map(([, v]) => v) };
}

/** A validated batch as tensors (the caller disposes them with disposeBatch). */
interface BatchTensors {
  B: number;
  s: Tensor;
  a: Tensor;
  r: Tensor;
  s2: Tensor;
  nd: Tensor;
}

function batchTensors(b: TransitionBatch, B: number, S: number, A: number): BatchTensors {
  return {
    B,
    s: tf.tensor2d(b.states, [B, S]),
    a: tf.tensor2d(b.actions, [B, A]),
    r: tf.tensor2d(b.rewards, [B, 1]),
    s2: tf.tensor2d(b.nextStates, [B, S]),
    nd: tf.tensor2d(b.notDones, [B, 1]),
  };
}

function disposeBatch(bt: BatchTensors): void {
  tf.dispose([bt.s, bt.a, bt.r, bt.s2, bt.nd]);
}

/** Rows of s ([B, S]) each repeated k times in place (torch.repeat_interleave). */
function repeatRowsT(s: Tensor, B: number, S: number, k: number): Tensor {
  return tf.reshape(tf.tile(tf.reshape(s, [B, 1, S]), [1, k, 1]), [B * k, S]);
}

/** Apply `grads` (keyed by variable name) to `vars` in list order after global-norm clipping; returns the norm. */
function clipAndApply(opt: tf.AdamOptimizer, vars: tf.Variable[], grads: tf.NamedTensorMap, maxNorm: number | undefined): number {
  const ordered = vars.map((v) => {
    const g = grads[v.name];
    if (!g) throw new Error(`internal: no gradient for variable ${v.name}`);
    return g;
  });
  const { grads: clipped, norm } = clipByGlobalNorm(ordered, maxNorm);
  // Array form: tfjs Adam matches its moment slots to variables by position (our stable order).
  opt.applyGradients(vars.map((v, i) => ({ name: v.name, tensor: clipped[i]! })));
  tf.dispose(clipped);
  return norm;
}

/** tfjs Adam keeps [iter, m_0..m_{n-1}, v_0..v_{n-1}] matched to variables by position. */
async function optimizerState(prefix: string, opt: tf.AdamOptimizer, list: Array<[string, tf.Variable]>): Promise<Map<string, NamedArray>> {
  const out = new Map<string, NamedArray>();
  const w = await opt.getWeights();
  const iter = w[0] ? (await w[0].tensor.data())[0]! : 0;
  w[0]?.tensor.dispose(); // a fresh scalar made by getWeights (the moments are the optimizer's own)
  out.set(`${prefix}.step`, { data: Float32Array.of(iter), shape: [] });
  const n = list.length;
  const moments = w.slice(1);
  const momentOrZeros = async (m: Tensor | undefined, v: tf.Variable) => (m ? Float32Array.from(await m.data()) : new Float32Array(v.size));
  for (let i = 0; i < n; i++) {
    const [name, v] = list[i]!;
    out.set(`${prefix}.${name}.exp_avg`, { data: await momentOrZeros(moments[i]?.tensor, v), shape: [...v.shape] });
    out.set(`${prefix}.${name}.exp_avg_sq`, { data: await momentOrZeros(moments[n + i]?.tensor, v), shape: [...v.shape] });
  }
  return out;
}

/** A fresh Adam holding the state optimizerState wrote, continuing bit for bit. */
async function restoreOptimizer(
  prefix: string,
  makeOpt: () => tf.AdamOptimizer,
  list: Array<[string, tf.Variable]>,
  values: ReadonlyMap<string, NamedArray>,
): Promise<tf.AdamOptimizer> {
  const get = (key: string, shape: number[]) => {
    const x = values.get(key);
    if (!x) throw new Error(`optimizer state '${key}' missing`);
    if (x.shape.join('x') !== shape.join('x')) throw new Error(`optimizer state '${key}': shape ${x.shape} != ${shape}`);
    return x;
  };
  const iter = get(`${prefix}.step`, []).data[0]!;
  const opt = makeOpt();
  const m = list.map(([name, v]) => ({ name: `${v.name}/m`, tensor: tf.tensor(get(`${prefix}.${name}.exp_avg`, v.shape).data, v.shape) }));
  const s2 = list.map(([name, v]) => ({ name: `${v.name}/v`, tensor: tf.tensor(get(`${prefix}.${name}.exp_avg_sq`, v.shape).data, v.shape) }));
  const iterT = tf.scalar(iter, 'int32');
  await opt.setWeights([{ name: 'iter', tensor: iterT }, ...m, ...s2]);
  tf.dispose([iterT, ...m.map((x) => x.tensor), ...s2.map((x) => x.tensor)]);
  setExactBiasCorrection(opt, iter);
  return opt;
}

/** The actor loss's parts, kept out of the gradient tape for the metrics (the caller disposes them). */
interface ActorLossParts {
  bc?: tf.Scalar;
  q?: tf.Scalar;
  aNew?: Tensor;
}

/** The OFQL agent on TF.js: the four networks as tf.Variables, tf.js Adam, the losses of losses.ts. */
class TfOfqlAgent extends OfqlAgentBase {
  // DQL deep-copies the actor into the EMA model and the critic into its target.
  private readonly actor: ActorVars;
  private readonly critic: CriticVars;
  private readonly emaActor: ActorVars;
  private readonly criticTarget: CriticVars;
  private readonly actorParams: NamedVars;
  private readonly emaParams: NamedVars;
  private readonly criticParams: NamedVars;
  private readonly targetParams: NamedVars;
  private actorOpt: tf.AdamOptimizer;
  private criticOpt: tf.AdamOptimizer;

  constructor(config: OfqlConfig, seed: number) {
    super(config, seed);
    const cfg = this.config;
    this.actor = initActor(cfg, new Rng(deriveSeed(seed, AGENT_STREAMS.actorInit)));
    this.critic = initCritic(cfg, new Rng(deriveSeed(seed, AGENT_STREAMS.criticInit)));
    this.emaActor = cloneActor(this.actor);
    this.criticTarget = cloneCritic(this.critic);
    this.actorParams = namedVars(actorNamedParams('actor', this.actor));
    this.emaParams = namedVars(actorNamedParams('ema_actor', this.emaActor));
    this.criticParams = namedVars(criticNamedParams('critic', this.critic));
    this.targetParams = namedVars(criticNamedParams('critic_target', this.criticTarget));
    this.actorOpt = makeAdam(cfg.actorLr, cfg.adamEpsilon);
    this.criticOpt = makeAdam(cfg.criticLr, cfg.adamEpsilon);
  }

  protected updateNetworks(batch: TransitionBatch, B: number): NetworkUpdates {
    const bt = batchTensors(batch, B, this.config.obsDim, this.config.actDim);
    try {
      const critic = this.criticIfTrained(() => this.updateCritic(bt));
      const draws = this.drawActorNoise(B);
      return { critic, draws, actor: this.updateActor(bt, draws) };
    } finally {
      disposeBatch(bt);
    }
  }

  protected updateTargets(ema: OfqlMetrics['ema']): void {
    // 3. EMA actor (DQL: every 5 steps, from step 1000); 4. target critic soft update (every step).
    if (ema === 'update') emaUpdate(this.emaParams.vars, this.actorParams.vars, this.config.emaDecay);
    else if (ema === 'copy') copyInto(this.emaParams.vars, this.actorParams.vars);
    if (this.config.trainCritic) softUpdate(this.targetParams.vars, this.criticParams.vars, this.config.tau);
  }

  protected updateCriticOnly(batch: TransitionBatch, B: number): CriticMetrics {
    const bt = batchTensors(batch, B, this.config.obsDim, this.config.actDim);
    try {
      return this.updateCritic(bt);
    } finally {
      disposeBatch(bt);
    }
  }

  /** Critic update on batch tensors; draws the next-action noise from the training Rng. */
  private updateCritic(bt: BatchTensors): CriticMetrics {
    const y = this.tdTarget(bt);
    const { value, grads } = tf.variableGrads(() => {
      const [q1, q2] = criticForward(this.critic, bt.s, bt.a);
      return criticLoss(q1, q2, y);
    }, this.criticParams.vars);
    const criticGradNorm = clipAndApply(this.criticOpt, this.criticParams.vars, grads, this.config.gradNorm);
    tf.dispose(grads);
    const criticLossValue = value.dataSync()[0]!;
    const targetQMean = tf.tidy(() => tf.mean(y).dataSync()[0]!);
    value.dispose();
    y.dispose();
    return { criticLoss: criticLossValue, criticGradNorm, targetQMean };
  }

  /** TD target, no gradient: a' from the EMA actor, Q' from the target critic. */
  private tdTarget({ B, r, s2, nd }: BatchTensors): Tensor {
    const cfg = this.config;
    const { obsDim: S, actDim: A } = cfg;
    const clip = cfg.clipTrainActions ? cfg.maxAction : undefined;
    return tf.tidy(() => {
      if (cfg.maxQBackup) {
        // DQL max-Q backup: K next actions per s' (repeat_interleave), max over them per critic, then min.
        const K = cfg.maxQBackupSamples;
        const s2rep = repeatRowsT(s2, B, S, K);
        const a2 = oneStepAction(this.emaActor, tf.tensor2d(normals(this.rng, B * K * A), [B * K, A]), s2rep, clip);
        const q1 = maxOverRepeats(qForward(this.criticTarget.q1, s2rep, a2), B, K);
        const q2 = maxOverRepeats(qForward(this.criticTarget.q2, s2rep, a2), B, K);
        return criticTarget(r, nd, q1, q2, cfg.discount);
      }
      const a2 = oneStepAction(this.emaActor, tf.tensor2d(normals(this.rng, B * A), [B, A]), s2, clip);
      const [q1, q2] = criticForward(this.criticTarget, s2, a2);
      return criticTarget(r, nd, q1, q2, cfg.discount);
    });
  }

  /** 2. the actor: MeanFlow regression target with the current actor (outside the tape = stop-gradient), loss, clip, Adam. */
  private updateActor(bt: BatchTensors, draws: ActorDraws): ActorMetrics {
    const { B, s, a } = bt;
    const A = this.config.actDim;
    const t = tf.tensor2d(draws.pairs.t, [B, 1]);
    const r = tf.tensor2d(draws.pairs.r, [B, 1]);
    const eps = tf.tensor2d(draws.eps, [B, A]);
    const epsNew = tf.tensor2d(draws.epsNew, [B, A]);
    const target = meanFlowTarget(this.actor, a, eps, t, r, s);
    const parts: ActorLossParts = {};
    // Gradient w.r.t. the actor's variables only (the critic is a fixed function here).
    const { value: actorLossT, grads } = tf.variableGrads(() => this.actorLoss(target, t, r, s, epsNew, draws.qRole, parts), this.actorParams.vars);
    const actorGradNorm = clipAndApply(this.actorOpt, this.actorParams.vars, grads, this.config.gradNorm);
    tf.dispose(grads);
    const bcLoss = parts.bc!.dataSync()[0]!;
    const qLossValue = parts.q!.dataSync()[0]!;
    const actorLoss = actorLossT.dataSync()[0]!;
    let actionAtBound = NaN;
    if (parts.aNew) {
      actionAtBound = shareAtBound(parts.aNew.dataSync() as Float32Array, this.config.maxAction);
      parts.aNew.dispose();
    }
    tf.dispose([parts.bc!, parts.q!, actorLossT, t, r, eps, epsNew, target.at, target.v, target.uTgt]);
    return { bcLoss, qLoss: qLossValue, actorLoss, actorGradNorm, actionAtBound };
  }

  /** bc + eta * q_loss (bc alone in behaviour cloning), run on the gradient tape; `parts` keeps its terms. */
  private actorLoss(
    target: ReturnType<typeof meanFlowTarget>,
    t: Tensor,
    r: Tensor,
    s: Tensor,
    epsNew: Tensor,
    qRole: 1 | 2,
    parts: ActorLossParts,
  ): tf.Scalar {
    const cfg = this.config;
    const u = actorForward(this.actor, target.at, r, t, s);
    const bc = behaviourLoss(u, target.uTgt, cfg.bcReduction);
    if (!cfg.trainCritic) {
      parts.bc = tf.keep(bc);
      parts.q = tf.keep(tf.scalar(0));
      return bc;
    }
    const aNew = oneStepAction(this.actor, epsNew, s, cfg.clipTrainActions ? cfg.maxAction : undefined);
    parts.aNew = tf.keep(aNew);
    const [q1, q2] = criticForward(this.critic, s, aNew);
    const [qa, qb] = qRole === 1 ? [q1, q2] : [q2, q1];
    // |Q_b|.mean() read back as a number = detached (DQL `.detach()`); its ops are not on the
    // path to the loss, so the tape never back-propagates through Q_b.
    const qbAbsMean = tf.mean(tf.abs(qb)).dataSync()[0]!;
    const ql = qLoss(qa, qbAbsMean);
    parts.bc = tf.keep(bc);
    parts.q = tf.keep(ql);
    return tf.add(bc, tf.mul(ql, cfg.eta)) as tf.Scalar;
  }

  protected sampleActions(obs: Float32Array, B: number, n: number, rng: Rng): Float32Array {
    const cfg = this.config;
    const { obsDim: S, actDim: A } = cfg;
    const policy = cfg.evalActor === 'online' ? this.actor : this.emaActor;
    if (n === 1) {
      return tf.tidy(() => {
        const s = tf.tensor2d(obs, [B, S]);
        const eps = tf.tensor2d(normals(rng, B * A), [B, A]);
        return Float32Array.from(oneStepAction(policy, eps, s, cfg.maxAction).dataSync() as Float32Array);
      });
    }
    // DQL sample_action: repeat the state n times, sample, score with the target critic's min(Q1,Q2),
    // draw one with probability softmax(Q).
    const [actions, q] = tf.tidy(() => {
      const sRep = repeatRowsT(tf.tensor2d(obs, [B, S]), B, S, n);
      const eps = tf.tensor2d(normals(rng, B * n * A), [B * n, A]);
      const a = oneStepAction(policy, eps, sRep, cfg.maxAction);
      const qv = criticMin(this.criticTarget, sRep, a);
      return [Float32Array.from(a.dataSync() as Float32Array), Float32Array.from(qv.dataSync() as Float32Array)];
    });
    return drawBySoftmaxQ(actions, q, B, n, A, rng);
  }

  private allLists(): Array<[string, tf.Variable]> {
    return [...this.actorParams.list, ...this.emaParams.list, ...this.criticParams.list, ...this.targetParams.list];
  }

  namedTensors(): Map<string, NamedArray> {
    this.checkAlive();
    return readNamed(this.allLists());
  }

  loadNamedTensors(values: ReadonlyMap<string, NamedArray>): void {
    this.checkAlive();
    assignNamed(this.allLists(), values);
  }

  async getOptimizerState(): Promise<Map<string, NamedArray>> {
    this.checkAlive();
    const a = await optimizerState('actor_optim', this.actorOpt, this.actorParams.list);
    const c = await optimizerState('critic_optim', this.criticOpt, this.criticParams.list);
    return new Map([...a, ...c]);
  }

  async setOptimizerState(values: ReadonlyMap<string, NamedArray>): Promise<void> {
    this.checkAlive();
    const { actorLr, criticLr, adamEpsilon } = this.config;
    const newActor = await restoreOptimizer('actor_optim', () => makeAdam(actorLr, adamEpsilon), this.actorParams.list, values);
    const newCritic = await restoreOptimizer('critic_optim', () => makeAdam(criticLr, adamEpsilon), this.criticParams.list, values);
    this.actorOpt.dispose();
    this.criticOpt.dispose();
    this.actorOpt = newActor;
    this.criticOpt = newCritic;
  }

  protected release(): void {
    this.actorOpt.dispose();
    this.criticOpt.dispose();
    tf.dispose(this.allLists().map(([, v]) => v));
  }
}

/**
 * Build an OFQL agent. Same config + seed -> identical initial weights and identical training
 * noise, hence identical metrics on the same backend.
 */
export function createOfqlAgent(config: OfqlConfig, seed: number): OfqlAgent {
  return new TfOfqlAgent(config, seed);
}
