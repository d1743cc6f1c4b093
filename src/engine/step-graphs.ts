/**
 * The three ONNX graphs of the engine, each built for one batch size: the critic's loss and
 * gradients, the actor's loss and gradients, and the action rule. Parameters are graph inputs
 * (the agent keeps them, and Adam, in JS), so one graph serves every step. What each computes is
 * src/ofql/train-step.ts step for step; the comments name the matching line there.
 */
import type { OfqlConfig } from '../ofql/config.js';
import { GraphBuilder } from './graph.js';
import {
  actorBackward,
  actorForward,
  actorTimeTangent,
  chainBackward,
  inputGradient,
  oneStepForward,
  qForward,
  type Grads,
} from './net-graphs.js';
import { actorLayout, actorRef, layerRefs, paramShapes, qLayout, type LayerSpec } from './params.js';
import { adamUpdate, softUpdateOutputs } from './update-graph.js';

/** Graph input and output names shared with the agent. */
export const IO = {
  states: 'states',
  actions: 'actions',
  rewards: 'rewards',
  nextStates: 'next_states',
  notDones: 'not_dones',
  nextNoise: 'next_noise',
  t: 't',
  r: 'r',
  eps: 'eps',
  epsNew: 'eps_new',
  criticLoss: 'critic_loss',
  targetQMean: 'target_q_mean',
  bcLoss: 'bc_loss',
  qLoss: 'q_loss',
  actorLoss: 'actor_loss',
  aNew: 'a_new',
  obs: 'obs',
  noise: 'noise',
  action: 'action',
  q: 'q',
  /** Prefixes of the two Q nets fed to the actor graph: Q_a leads the loss, Q_b scales it. */
  qa: 'qa',
  qb: 'qb',
  /** Prefix of the actor fed to the action graph. */
  policy: 'policy',
} as const;

export function paramInputs(g: GraphBuilder, layers: readonly LayerSpec[], namePrefix: string, inputPrefix: string): void {
  for (const [name, shape] of paramShapes(layers)) g.input(`${inputPrefix}${name.slice(namePrefix.length)}`, shape);
}

/**
 * Critic step (train-step.ts updateCritic): y = r + not_done gamma min(Q1', Q2')(s', a') with a'
 * the EMA actor's clipped one-step action (max-Q backup: K actions per s', rows repeated by the
 * caller, max over them per critic), L = MSE(Q1, y) + MSE(Q2, y), then clip and Adam on the
 * critic and the target's soft update (steps 1 and 4: the actor step in between leaves the critic as it is).
 */
export function criticStepGraph(cfg: OfqlConfig, B: number): GraphBuilder {
  const { obsDim: S, actDim: A } = cfg;
  const K = cfg.maxQBackup ? cfg.maxQBackupSamples : 1;
  const g = new GraphBuilder('ofql_critic_step');
  const s = g.input(IO.states, [B, S]);
  const a = g.input(IO.actions, [B, A]);
  const r = g.input(IO.rewards, [B, 1]);
  const s2 = g.input(IO.nextStates, [B * K, S]);
  const nd = g.input(IO.notDones, [B, 1]);
  const noise = g.input(IO.nextNoise, [B * K, A]);
  const ema = actorLayout(cfg, 'ema_actor');
  const layers = { q1: qLayout(cfg, 'critic.q1_model'), q2: qLayout(cfg, 'critic.q2_model') };
  const target = { q1: qLayout(cfg, 'critic_target.q1_model'), q2: qLayout(cfg, 'critic_target.q2_model') };
  for (const l of [[...ema.tEmbed, ...ema.rEmbed, ...ema.trunk], layers.q1, layers.q2, target.q1, target.q2]) paramInputs(g, l, '', '');

  // TD target, no gradient.
  const next = oneStepForward(g, actorRef(ema, 'ema_actor', cfg), noise, s2, B * K).raw;
  const a2 = cfg.clipTrainActions ? g.clip(next, -cfg.maxAction, cfg.maxAction) : next;
  const nextQ = (q: LayerSpec[]) => {
    const out = qForward(g, layerRefs(q, '', ''), s2, a2).out;
    return K > 1 ? g.reduceMax(g.reshape(out, [B, K]), [1], true) : out;
  };
  const y = g.add(r, g.mul(g.mul(nd, g.scalar(cfg.discount)), g.min(nextQ(target.q1), nextQ(target.q2))));

  // Loss and gradients of both Q nets.
  const grads: Grads = new Map();
  const losses = [layers.q1, layers.q2].map((q) => {
    const refs = layerRefs(q, '', '');
    const tape = qForward(g, refs, s, a);
    const err = g.sub(tape.out, y);
    chainBackward(g, refs, tape, g.mul(err, g.scalar(2 / B)), grads);
    return g.reduceMean(g.square(err));
  });
  g.output(IO.criticLoss, g.add(losses[0]!, losses[1]!), []);
  g.output(IO.targetQMean, g.reduceMean(y), []);
  const criticParams = paramShapes([...layers.q1, ...layers.q2]);
  const updated = adamUpdate(g, 'critic', criticParams, grads, { lr: cfg.criticLr, eps: cfg.adamEpsilon, maxNorm: cfg.gradNorm });
  softUpdateOutputs(g, paramShapes([...target.q1, ...target.q2]), criticParams.map(([n]) => updated.get(n)!));
  return g;
}

/**
 * Actor step (train-step.ts trainStep, part 2): the MeanFlow target u_tgt = v - (t - r) du/dt
 * under stop-gradient, bc = mean ||u - u_tgt||^2, and with the critic q_loss =
 * -mean Q_a(s, a_new) / mean |Q_b(s, a_new)| (the denominator detached), loss = bc + eta q_loss,
 * then clip and Adam on the actor. The caller feeds the Q net that leads this step as `qa.*`.
 */
export function actorStepGraph(cfg: OfqlConfig, B: number): GraphBuilder {
  const { obsDim: S, actDim: A } = cfg;
  const g = new GraphBuilder('ofql_actor_step');
  const s = g.input(IO.states, [B, S]);
  const a = g.input(IO.actions, [B, A]);
  const t = g.input(IO.t, [B, 1]);
  const r = g.input(IO.r, [B, 1]);
  const eps = g.input(IO.eps, [B, A]);
  const epsNew = g.input(IO.epsNew, [B, A]);
  const layout = actorLayout(cfg, 'actor');
  const actor = actorRef(layout, 'actor', cfg);
  const allActor = [...layout.tEmbed, ...layout.rEmbed, ...layout.trunk];
  paramInputs(g, allActor, '', '');
  const grads: Grads = new Map();

  // 2b. a_t = (1 - t) a + t eps, v = eps - a; u and du/dt along (v, 0, 1) at the current weights.
  const at = g.add(g.mul(g.sub(g.scalar(1), t), a), g.mul(t, eps));
  const v = g.sub(eps, a);
  const tape = actorForward(g, actor, at, r, t, s);
  const uTgt = g.sub(v, g.mul(g.sub(t, r), actorTimeTangent(g, actor, tape, v, B, S)));
  // 2c. Behaviour loss; its gradient flows through u only (u_tgt is a constant).
  const diff = g.sub(tape.trunk.out, uTgt);
  const perSample = cfg.bcReduction === 'mean' ? 1 / (B * A) : 1 / B;
  const bc = cfg.bcReduction === 'mean' ? g.reduceMean(g.square(diff)) : g.reduceMean(g.reduceSum(g.square(diff), [1]));
  actorBackward(g, actor, tape, g.mul(diff, g.scalar(2 * perSample)), A, grads);
  g.output(IO.bcLoss, bc, []);

  if (!cfg.trainCritic) {
    g.output(IO.actorLoss, bc, []);
  } else {
    const one = oneStepForward(g, actor, epsNew, s, B);
    const aNew = cfg.clipTrainActions ? g.clip(one.raw, -cfg.maxAction, cfg.maxAction) : one.raw;
    const qLayers = qLayout(cfg, IO.qa);
    for (const p of [IO.qa, IO.qb]) paramInputs(g, qLayers, IO.qa, p);
    const qa = layerRefs(qLayers, IO.qa, IO.qa);
    const qaTape = qForward(g, qa, s, aNew);
    const qbAbsMean = g.reduceMean(g.abs(qForward(g, layerRefs(qLayers, IO.qa, IO.qb), s, aNew).out));
    const ql = g.div(g.neg(g.reduceMean(qaTape.out)), qbAbsMean);
    // d(eta q_loss)/dQ_a = -eta / (B |Q_b|.mean()) per row; back through Q_a to a_new, the clip, and u.
    const dq = g.expand(g.div(g.scalar(-cfg.eta / B), qbAbsMean), [B, 1]);
    let dANew = inputGradient(g, qa[0]!, chainBackward(g, qa, qaTape, dq, null), S, S + A);
    if (cfg.clipTrainActions) dANew = g.mul(dANew, g.insideMask(one.raw, -cfg.maxAction, cfg.maxAction));
    actorBackward(g, actor, one.tape, g.neg(dANew), A, grads);
    g.output(IO.qLoss, ql, []);
    g.output(IO.actorLoss, g.add(bc, g.mul(ql, g.scalar(cfg.eta))), []);
    g.output(IO.aNew, aNew, [B, A]);
  }
  adamUpdate(g, 'actor', paramShapes(allActor), grads, { lr: cfg.actorLr, eps: cfg.adamEpsilon, maxNorm: cfg.gradNorm });
  return g;
}

/**
 * Action rule (train-step.ts act): clip(eps - u(eps, 0, 1; s)) from the actor fed as `policy.*`;
 * with `score`, also min(Q1, Q2) of the target critic at each action.
 */
export function actGraph(cfg: OfqlConfig, N: number, score: boolean): GraphBuilder {
  const { obsDim: S, actDim: A } = cfg;
  const g = new GraphBuilder('ofql_act');
  const obs = g.input(IO.obs, [N, S]);
  const noise = g.input(IO.noise, [N, A]);
  const layout = actorLayout(cfg, 'actor');
  const policy = {
    tEmbed: layerRefs(layout.tEmbed, 'actor', IO.policy),
    rEmbed: layerRefs(layout.rEmbed, 'actor', IO.policy),
    trunk: layerRefs(layout.trunk, 'actor', IO.policy),
    embDim: cfg.timeEmbDim,
    timeScale: cfg.timeScale,
  };
  paramInputs(g, [...layout.tEmbed, ...layout.rEmbed, ...layout.trunk], 'actor', IO.policy);
  const action = g.clip(oneStepForward(g, policy, noise, obs, N).raw, -cfg.maxAction, cfg.maxAction);
  g.output(IO.action, action, [N, A]);
  if (score) {
    const q = ['critic_target.q1_model', 'critic_target.q2_model'].map((p) => {
      const layers = qLayout(cfg, p);
      paramInputs(g, layers, '', '');
      return qForward(g, layerRefs(layers, '', ''), obs, action).out;
    });
    g.output(IO.q, g.min(q[0]!, q[1]!), [N, 1]);
  }
  return g;
}
