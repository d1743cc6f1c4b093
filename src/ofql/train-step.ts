/**
 * One-Step Flow Q-Learning agent: parameters, optimisers and the training step, CleanRL style
 * (one function that reads top to bottom). Mirrors DQL's Diffusion_QL.train loop
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
} from './losses.js';

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

/**
 * Build an OFQL agent. Same config + seed -> identical initial weights and identical training
 * noise, hence identical metrics on the same backend.
 */
export function createOfqlAgent(config: OfqlConfig, seed: number): OfqlAgent {
  validateConfig(config);
  assertSeed(seed);
  const cfg: Readonly<OfqlConfig> = Object.freeze({ ...config });
  const { obsDim: S, actDim: A } = cfg;

  // Networks. DQL deep-copies the actor into the EMA model and the critic into its target.
  const actor: ActorVars = initActor(cfg, new Rng(deriveSeed(seed, AGENT_STREAMS.actorInit)));
  const critic: CriticVars = initCritic(cfg, new Rng(deriveSeed(seed, AGENT_STREAMS.criticInit)));
  const emaActor: ActorVars = cloneActor(actor);
  const criticTargetNet: CriticVars = cloneCritic(critic);
  const rng = new Rng(deriveSeed(seed, AGENT_STREAMS.train));

  const actorList = actorNamedParams('actor', actor);
  const emaList = actorNamedParams('ema_actor', emaActor);
  const criticList = criticNamedParams('critic', critic);
  const targetList = criticNamedParams('critic_target', criticTargetNet);
  const actorVars = actorList.map(([, v]) => v);
  const emaVars = emaList.map(([, v]) => v);
  const criticVars = criticList.map(([, v]) => v);
  const targetVars = targetList.map(([, v]) => v);

  // PyTorch Adam defaults (betas 0.9, 0.999; eps 1e-8), lr 3e-4 for both [DQL].
  const makeAdam = (lr: number) => tf.train.adam(lr, 0.9, 0.999, cfg.adamEpsilon);
  let actorOpt = makeAdam(cfg.actorLr);
  let criticOpt = makeAdam(cfg.criticLr);

  let step = 0;
  let disposed = false;

  const checkAlive = () => {
    if (disposed) throw new Error('OFQL agent used after dispose()');
  };

  /** Validate a batch and turn it into tensors (caller disposes). */
  function batchTensors(b: TransitionBatch) {
    const B = checkBatch(b, S, A);
    return {
      B,
      s: tf.tensor2d(b.states, [B, S]),
      a: tf.tensor2d(b.actions, [B, A]),
      r: tf.tensor2d(b.rewards, [B, 1]),
      s2: tf.tensor2d(b.nextStates, [B, S]),
      nd: tf.tensor2d(b.notDones, [B, 1]),
    };
  }

  /** Apply `grads` (keyed by variable name) to `vars` in list order after global-norm clipping. */
  function clipAndApply(opt: tf.AdamOptimizer, vars: tf.Variable[], grads: tf.NamedTensorMap): number {
    const ordered = vars.map((v) => {
      const g = grads[v.name];
      if (!g) throw new Error(`internal: no gradient for variable ${v.name}`);
      return g;
    });
    const { grads: clipped, norm } = clipByGlobalNorm(ordered, cfg.gradNorm);
    // Array form: tfjs Adam matches its moment slots to variables by position (our stable order).
    opt.applyGradients(vars.map((v, i) => ({ name: v.name, tensor: clipped[i]! })));
    tf.dispose(clipped);
    return norm;
  }

  /** Critic update on batch tensors; draws the next-action noise from `rng`. */
  function updateCritic(bt: ReturnType<typeof batchTensors>): CriticMetrics {
    const { B, s, a, r, s2, nd } = bt;
    const clip = cfg.clipTrainActions ? cfg.maxAction : undefined;

    // TD target, no gradient: a' from the EMA actor, Q' from the target critic.
    const y = tf.tidy(() => {
      if (cfg.maxQBackup) {
        // DQL max-Q backup: K next actions per s' (repeat_interleave), max over them per critic, then min.
        const K = cfg.maxQBackupSamples;
        const s2rep = tf.reshape(tf.tile(tf.reshape(s2, [B, 1, S]), [1, K, 1]), [B * K, S]);
        const a2 = oneStepAction(emaActor, tf.tensor2d(normals(rng, B * K * A), [B * K, A]), s2rep, clip);
        const q1 = maxOverRepeats(qForward(criticTargetNet.q1, s2rep, a2), B, K);
        const q2 = maxOverRepeats(qForward(criticTargetNet.q2, s2rep, a2), B, K);
        return criticTarget(r, nd, q1, q2, cfg.discount);
      }
      const a2 = oneStepAction(emaActor, tf.tensor2d(normals(rng, B * A), [B, A]), s2, clip);
      const [q1, q2] = criticForward(criticTargetNet, s2, a2);
      return criticTarget(r, nd, q1, q2, cfg.discount);
    });

    const { value, grads } = tf.variableGrads(() => {
      const [q1, q2] = criticForward(critic, s, a);
      return criticLoss(q1, q2, y);
    }, criticVars);
    const criticGradNorm = clipAndApply(criticOpt, criticVars, grads);
    tf.dispose(grads);
    const criticLossValue = value.dataSync()[0]!;
    const targetQMean = tf.tidy(() => tf.mean(y).dataSync()[0]!);
    value.dispose();
    y.dispose();
    return { criticLoss: criticLossValue, criticGradNorm, targetQMean };
  }

  function trainStep(batch: TransitionBatch): OfqlMetrics {
    checkAlive();
    const bt = batchTensors(batch);
    const { B, s, a } = bt;
    const thisStep = step;
    try {
      // ---- 1. Critic (skipped in behaviour cloning: nothing reads it) --------------------------
      const crit: CriticMetrics = cfg.trainCritic ? updateCritic(bt) : { criticLoss: 0, criticGradNorm: 0, targetQMean: 0 };

      // ---- 2. Actor ------------------------------------------------------------------------
      // 2a. (t, r) ~ sorted logit-normal pairs, a flowRatio fraction with r = t; noise.
      const pairs = sampleTimePairs(rng, B, cfg);
      const t = tf.tensor2d(pairs.t, [B, 1]);
      const r = tf.tensor2d(pairs.r, [B, 1]);
      const eps = tf.tensor2d(normals(rng, B * A), [B, A]);
      const epsNew = tf.tensor2d(normals(rng, B * A), [B, A]);
      // DQL: `if np.random.uniform() > 0.5: q_loss = -q1.mean() / q2.abs().mean()` else swapped.
      const qRole: 1 | 2 = rng.random() > 0.5 ? 1 : 2;

      // 2b. MeanFlow regression target with the current actor, outside the tape (= stop-gradient).
      const target = meanFlowTarget(actor, a, eps, t, r, s);

      // 2c. Loss and gradient w.r.t. the actor's variables only (the critic is a fixed function here).
      let bcT: tf.Scalar | undefined;
      let qT: tf.Scalar | undefined;
      let aNewT: Tensor | undefined;
      const { value: actorLossT, grads } = tf.variableGrads(() => {
        const u = actorForward(actor, target.at, r, t, s);
        const bc = behaviourLoss(u, target.uTgt, cfg.bcReduction);
        if (!cfg.trainCritic) {
          bcT = tf.keep(bc);
          qT = tf.keep(tf.scalar(0));
          return bc;
        }
        const aNew = oneStepAction(actor, epsNew, s, cfg.clipTrainActions ? cfg.maxAction : undefined);
        aNewT = tf.keep(aNew);
        const [q1, q2] = criticForward(critic, s, aNew);
        const [qa, qb] = qRole === 1 ? [q1, q2] : [q2, q1];
        // |Q_b|.mean() read back as a number = detached (DQL `.detach()`); its ops are not on the
        // path to the loss, so the tape never back-propagates through Q_b.
        const qbAbsMean = tf.mean(tf.abs(qb)).dataSync()[0]!;
        const ql = qLoss(qa, qbAbsMean);
        bcT = tf.keep(bc);
        qT = tf.keep(ql);
        return tf.add(bc, tf.mul(ql, cfg.eta)) as tf.Scalar;
      }, actorVars);
      const actorGradNorm = clipAndApply(actorOpt, actorVars, grads);
      tf.dispose(grads);

      const bcLoss = bcT!.dataSync()[0]!;
      const qLossValue = qT!.dataSync()[0]!;
      const actorLoss = actorLossT.dataSync()[0]!;
      let actionAtBound = NaN;
      if (aNewT) {
        actionAtBound = shareAtBound(aNewT.dataSync() as Float32Array, cfg.maxAction);
        aNewT.dispose();
      }
      tf.dispose([bcT!, qT!, actorLossT, t, r, eps, epsNew, target.at, target.v, target.uTgt]);

      // ---- 3. EMA actor (DQL: every 5 steps, from step 1000) ---------------------------------
      const ema = emaAction(thisStep, cfg);
      if (ema === 'update') emaUpdate(emaVars, actorVars, cfg.emaDecay);
      else if (ema === 'copy') copyInto(emaVars, actorVars);

      // ---- 4. Target critic soft update (every step) -----------------------------------------
      if (cfg.trainCritic) softUpdate(targetVars, criticVars, cfg.tau);

      step += 1;
      let nFlow = 0;
      for (let i = 0; i < B; i++) nFlow += pairs.isFlow[i]!;
      return {
        step: thisStep,
        ...crit,
        bcLoss,
        qLoss: qLossValue,
        actorLoss,
        actorGradNorm,
        qRole,
        ema,
        flowFraction: nFlow / B,
        actionAtBound,
      };
    } finally {
      tf.dispose([bt.s, bt.a, bt.r, bt.s2, bt.nd]);
    }
  }

  function criticStep(batch: TransitionBatch): CriticMetrics {
    checkAlive();
    if (!cfg.trainCritic) throw new Error('criticStep: this agent is behaviour cloning only (config.trainCritic = false)');
    const bt = batchTensors(batch);
    try {
      return updateCritic(bt);
    } finally {
      tf.dispose([bt.s, bt.a, bt.r, bt.s2, bt.nd]);
    }
  }

  function act(obs: Float32Array, n: number, actRng: Rng): Float32Array {
    checkAlive();
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`act: n must be a positive integer, got ${n}`);
    if (!(obs instanceof Float32Array) || obs.length === 0 || obs.length % S !== 0) {
      throw new RangeError(`act: obs must be a non-empty Float32Array with a multiple of obsDim=${S} entries`);
    }
    const B = obs.length / S;
    const policy = cfg.evalActor === 'online' ? actor : emaActor;
    if (n > 1 && !cfg.trainCritic) {
      throw new RangeError(`act: n = ${n} ranks candidates by the critic, which a behaviour-cloning agent (trainCritic = false) never trained; use n = 1`);
    }
    if (n === 1) {
      return tf.tidy(() => {
        const s = tf.tensor2d(obs, [B, S]);
        const eps = tf.tensor2d(normals(actRng, B * A), [B, A]);
        return Float32Array.from(oneStepAction(policy, eps, s, cfg.maxAction).dataSync() as Float32Array);
      });
    }
    // DQL sample_action: repeat the state n times, sample, score with the target critic's min(Q1,Q2),
    // draw one with probability softmax(Q).
    const [actions, q] = tf.tidy(() => {
      const s = tf.tensor2d(obs, [B, S]);
      const sRep = tf.reshape(tf.tile(tf.reshape(s, [B, 1, S]), [1, n, 1]), [B * n, S]);
      const eps = tf.tensor2d(normals(actRng, B * n * A), [B * n, A]);
      const a = oneStepAction(policy, eps, sRep, cfg.maxAction);
      const qv = criticMin(criticTargetNet, sRep, a);
      return [Float32Array.from(a.dataSync() as Float32Array), Float32Array.from(qv.dataSync() as Float32Array)];
    });
    return drawBySoftmaxQ(actions, q, B, n, A, actRng);
  }

  const allLists = () => [...actorList, ...emaList, ...criticList, ...targetList];

  function namedTensors(): Map<string, NamedArray> {
    checkAlive();
    return readNamed(allLists());
  }

  function loadNamedTensors(values: ReadonlyMap<string, NamedArray>): void {
    checkAlive();
    assignNamed(allLists(), values);
  }

  /** tfjs Adam keeps [iter, m_0..m_{n-1}, v_0..v_{n-1}] matched to variables by position. */
  async function optimizerState(prefix: string, opt: tf.AdamOptimizer, list: Array<[string, tf.Variable]>) {
    const out = new Map<string, NamedArray>();
    const w = await opt.getWeights();
    const iter = w[0] ? (await w[0].tensor.data())[0]! : 0;
    w[0]?.tensor.dispose(); // a fresh scalar made by getWeights (the moments are the optimizer's own)
    out.set(`${prefix}.step`, { data: Float32Array.of(iter), shape: [] });
    const n = list.length;
    const moments = w.slice(1);
    for (let i = 0; i < n; i++) {
      const [name, v] = list[i]!;
      const m = moments[i]?.tensor;
      const s2 = moments[n + i]?.tensor;
      out.set(`${prefix}.${name}.exp_avg`, {
        data: m ? Float32Array.from(await m.data()) : new Float32Array(v.size),
        shape: [...v.shape],
      });
      out.set(`${prefix}.${name}.exp_avg_sq`, {
        data: s2 ? Float32Array.from(await s2.data()) : new Float32Array(v.size),
        shape: [...v.shape],
      });
    }
    return out;
  }

  async function restoreOptimizer(
    prefix: string,
    lr: number,
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
    const opt = makeAdam(lr);
    const m = list.map(([name, v]) => ({ name: `${v.name}/m`, tensor: tf.tensor(get(`${prefix}.${name}.exp_avg`, v.shape).data, v.shape) }));
    const s2 = list.map(([name, v]) => ({ name: `${v.name}/v`, tensor: tf.tensor(get(`${prefix}.${name}.exp_avg_sq`, v.shape).data, v.shape) }));
    const iterT = tf.scalar(iter, 'int32');
    await opt.setWeights([{ name: 'iter', tensor: iterT }, ...m, ...s2]);
    tf.dispose([iterT, ...m.map((x) => x.tensor), ...s2.map((x) => x.tensor)]);
    setExactBiasCorrection(opt, iter);
    return opt;
  }

  return {
    get config() {
      return cfg;
    },
    get step() {
      return step;
    },
    trainStep,
    criticStep,
    act,
    namedTensors,
    loadNamedTensors,
    async getOptimizerState() {
      checkAlive();
      const a = await optimizerState('actor_optim', actorOpt, actorList);
      const c = await optimizerState('critic_optim', criticOpt, criticList);
      return new Map([...a, ...c]);
    },
    async setOptimizerState(values) {
      checkAlive();
      const newActor = await restoreOptimizer('actor_optim', cfg.actorLr, actorList, values);
      const newCritic = await restoreOptimizer('critic_optim', cfg.criticLr, criticList, values);
      actorOpt.dispose();
      criticOpt.dispose();
      actorOpt = newActor;
      criticOpt = newCritic;
    },
    getTrainingState() {
      return { step, rng: rng.getState() };
    },
    setTrainingState(state) {
      if (!Number.isInteger(state.step) || state.step < 0) throw new RangeError(`training state: bad step ${state.step}`);
      rng.setState(state.rng);
      step = state.step;
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      actorOpt.dispose();
      criticOpt.dispose();
      tf.dispose(allLists().map(([, v]) => v));
    },
  };
}
