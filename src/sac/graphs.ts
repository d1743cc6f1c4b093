/**
 * Soft Actor-Critic (Haarnoja et al. 2018, with the tuned temperature of "SAC: Algorithms and
 * Applications") as ONNX graphs on the training engine's pieces (src/engine/): ReLU chains, their
 * hand-written backward passes, Adam and the soft update inside the graph. Three graphs, each built
 * for one batch size; parameters and Adam moments are graph inputs the agent (agent.ts) keeps.
 *
 * The policy is a tanh-squashed Gaussian: [mean, log std] = MLP(s), log std clamped to
 * [logStdMin, logStdMax], u = mean + std eps with eps ~ N(0, I) fed by the caller, a = tanh(u),
 *   log pi(a|s) = sum_j [ -eps_j^2 / 2 - log std_j - log(2 pi) / 2 ] - sum_j log(1 - tanh(u_j)^2),
 * the last term in the stable form log(1 - tanh(u)^2) = 2 (log 2 - u - softplus(-2u)).
 *
 * Gradients of the actor loss L = mean_b [alpha log pi(a_b|s_b) - min(Q1, Q2)(s_b, a_b)] by hand:
 *   dL/da = -(1/B) dQ_min/da (through the smaller Q of each row);
 *   dL/du = dL/da (1 - a^2) + (alpha/B) 2a        (d/du of -log(1 - tanh(u)^2) is 2 tanh(u));
 *   dL/dmean = dL/du;   dL/dlogstd = (dL/du std eps - alpha/B) [logStdMin <= raw <= logStdMax].
 */
import { GraphBuilder } from '../engine/graph.js';
import { chainBackward, chainForward, inputGradient, type ChainTape, type Grads, type LinearRef } from '../engine/net-graphs.js';
import { layerRefs, mlpLayout, paramShapes, qLayout, type LayerSpec } from '../engine/params.js';
import { paramInputs } from '../engine/step-graphs.js';
import { adamUpdate, softUpdateOutputs } from '../engine/update-graph.js';
import { targetEntropy, type SacConfig } from './config.js';

/** Graph input and output names shared with the agent. */
export const SAC_IO = {
  states: 'states',
  actions: 'actions',
  rewards: 'rewards',
  nextStates: 'next_states',
  notDones: 'not_dones',
  eps: 'eps',
  nextEps: 'next_eps',
  logAlpha: 'log_alpha',
  criticLoss: 'critic_loss',
  qMean: 'q_mean',
  targetQMean: 'target_q_mean',
  actorLoss: 'actor_loss',
  alphaLoss: 'alpha_loss',
  logPiMean: 'log_pi_mean',
  obs: 'obs',
  noise: 'noise',
  action: 'action',
} as const;

/** Parameter prefixes: the actor, the twin Q nets and their targets. */
export const SAC_NETS = { actor: 'actor', critic: 'critic', target: 'critic_target' } as const;

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

type Dims = Pick<SacConfig, 'obsDim' | 'actDim' | 'hiddenDim' | 'depth'>;

/** The actor's layers: obs -> hidden x depth -> [mean, log std] (2 x actDim). */
export function sacActorLayers(d: Dims): LayerSpec[] {
  return mlpLayout(SAC_NETS.actor, d.obsDim, d.hiddenDim, d.depth, 2 * d.actDim);
}

/** Both Q nets under `prefix` (critic or critic_target): <prefix>.q1_model.*, <prefix>.q2_model.*. */
export function sacCriticLayers(d: Dims, prefix: string): { q1: LayerSpec[]; q2: LayerSpec[] } {
  return { q1: qLayout(d, `${prefix}.q1_model`), q2: qLayout(d, `${prefix}.q2_model`) };
}

const refs = (layers: readonly LayerSpec[]): LinearRef[] => layerRefs(layers, '', '');

/** Everything a sampled action needs for its log-probability and gradients. */
interface PolicySample {
  tape: ChainTape;
  rawLogStd: string;
  std: string;
  a: string;
  /** log pi(a|s), [rows, 1]. */
  logPi: string;
}

/** a = tanh(mean + std eps) and log pi(a|s) for the actor fed as `actor.*`. */
function samplePolicy(g: GraphBuilder, cfg: SacConfig, actor: readonly LinearRef[], s: string, eps: string): PolicySample {
  const A = cfg.actDim;
  const tape = chainForward(g, actor, s, 'relu');
  const mean = g.slice(tape.out, 0, A, 1);
  const rawLogStd = g.slice(tape.out, A, 2 * A, 1);
  const logStd = g.clip(rawLogStd, cfg.logStdMin, cfg.logStdMax);
  const std = g.op('Exp', [logStd]);
  const u = g.add(mean, g.mul(std, eps));
  const a = g.op('Tanh', [u]);
  const gauss = g.sub(g.sub(g.mul(g.square(eps), g.scalar(-0.5)), logStd), g.scalar(HALF_LOG_2PI));
  const softplus = g.op('Softplus', [g.mul(u, g.scalar(-2))]);
  const logDet = g.mul(g.sub(g.sub(g.scalar(Math.LN2), u), softplus), g.scalar(2));
  const logPi = g.reduceSum(g.sub(gauss, logDet), [1], true);
  return { tape, rawLogStd, std, a, logPi };
}

/** min(Q1, Q2)(s, a) of the pair fed as <prefix>.q1_model.* / q2_model.*, with both tapes. */
function twinQ(g: GraphBuilder, q: { q1: LayerSpec[]; q2: LayerSpec[] }, s: string, a: string): { q1: ChainTape; q2: ChainTape; min: string } {
  const x = g.concat([s, a], 1);
  const q1 = chainForward(g, refs(q.q1), x, 'relu');
  const q2 = chainForward(g, refs(q.q2), x, 'relu');
  return { q1, q2, min: g.min(q1.out, q2.out) };
}

/**
 * Critic step: a' ~ pi(.|s') with next_eps, y = r + gamma not_done (min Q'(s', a') - alpha log pi(a'|s')),
 * L = MSE(Q1(s, a), y) + MSE(Q2(s, a), y); Adam on both Q nets, then the targets' soft update.
 */
export function sacCriticStepGraph(cfg: SacConfig, B: number): GraphBuilder {
  const { obsDim: S, actDim: A } = cfg;
  const g = new GraphBuilder('sac_critic_step');
  const s = g.input(SAC_IO.states, [B, S]);
  const a = g.input(SAC_IO.actions, [B, A]);
  const r = g.input(SAC_IO.rewards, [B, 1]);
  const s2 = g.input(SAC_IO.nextStates, [B, S]);
  const nd = g.input(SAC_IO.notDones, [B, 1]);
  const nextEps = g.input(SAC_IO.nextEps, [B, A]);
  const alpha = g.op('Exp', [g.input(SAC_IO.logAlpha, [])]);
  const actor = sacActorLayers(cfg);
  const critic = sacCriticLayers(cfg, SAC_NETS.critic);
  const target = sacCriticLayers(cfg, SAC_NETS.target);
  for (const l of [actor, critic.q1, critic.q2, target.q1, target.q2]) paramInputs(g, l, '', '');

  // TD target, no gradient.
  const next = samplePolicy(g, cfg, refs(actor), s2, nextEps);
  const softQ = g.sub(twinQ(g, target, s2, next.a).min, g.mul(alpha, next.logPi));
  const y = g.add(r, g.mul(g.mul(nd, g.scalar(cfg.discount)), softQ));

  const grads: Grads = new Map();
  const x = g.concat([s, a], 1);
  const qs = [critic.q1, critic.q2].map((layers) => {
    const tape = chainForward(g, refs(layers), x, 'relu');
    const err = g.sub(tape.out, y);
    chainBackward(g, refs(layers), tape, g.mul(err, g.scalar(2 / B)), grads);
    return { loss: g.reduceMean(g.square(err)), q: tape.out };
  });
  g.output(SAC_IO.criticLoss, g.add(qs[0]!.loss, qs[1]!.loss), []);
  g.output(SAC_IO.qMean, g.reduceMean(qs[0]!.q), []);
  g.output(SAC_IO.targetQMean, g.reduceMean(y), []);
  const criticParams = paramShapes([...critic.q1, ...critic.q2]);
  const updated = adamUpdate(g, SAC_NETS.critic, criticParams, grads, { lr: cfg.criticLr, eps: cfg.adamEpsilon, maxNorm: undefined });
  softUpdateOutputs(g, paramShapes([...target.q1, ...target.q2]), criticParams.map(([n]) => updated.get(n)!));
  return g;
}

/**
 * Actor and temperature step: a ~ pi(.|s) with eps, L = mean(alpha log pi - min(Q1, Q2)(s, a)) through
 * the Q nets fed as critic.* (fixed), then Adam on the actor; with alphaLr > 0 also
 * L_alpha = -mean(log alpha (log pi + target entropy)) (log pi detached) and Adam on log alpha.
 */
export function sacActorStepGraph(cfg: SacConfig, B: number): GraphBuilder {
  const { obsDim: S, actDim: A } = cfg;
  const g = new GraphBuilder('sac_actor_step');
  const s = g.input(SAC_IO.states, [B, S]);
  const eps = g.input(SAC_IO.eps, [B, A]);
  const logAlpha = g.input(SAC_IO.logAlpha, []);
  const alpha = g.op('Exp', [logAlpha]);
  const actorLayers = sacActorLayers(cfg);
  const actor = refs(actorLayers);
  const critic = sacCriticLayers(cfg, SAC_NETS.critic);
  for (const l of [actorLayers, critic.q1, critic.q2]) paramInputs(g, l, '', '');

  const pi = samplePolicy(g, cfg, actor, s, eps);
  const q = twinQ(g, critic, s, pi.a);
  g.output(SAC_IO.actorLoss, g.reduceMean(g.sub(g.mul(alpha, pi.logPi), q.min)), []);
  g.output(SAC_IO.logPiMean, g.reduceMean(pi.logPi), []);

  // dL/da through the smaller Q of each row (Q1 on ties).
  const first = g.op('Cast', [g.op('LessOrEqual', [q.q1.out, q.q2.out])], { to: { int: 1 } });
  const dMin = g.scalar(-1 / B);
  const dA = [
    [critic.q1, q.q1, g.mul(first, dMin)],
    [critic.q2, q.q2, g.mul(g.sub(g.scalar(1), first), dMin)],
  ].map(([layers, tape, dq]) => {
    const r = refs(layers as LayerSpec[]);
    return inputGradient(g, r[0]!, chainBackward(g, r, tape as ChainTape, dq as string, null), S, S + A);
  });
  const alphaOverB = g.div(alpha, g.scalar(B));
  const dU = g.add(g.mul(g.add(dA[0]!, dA[1]!), g.sub(g.scalar(1), g.square(pi.a))), g.mul(g.mul(pi.a, g.scalar(2)), alphaOverB));
  const dLogStd = g.mul(g.sub(g.mul(g.mul(dU, pi.std), eps), alphaOverB), g.insideMask(pi.rawLogStd, cfg.logStdMin, cfg.logStdMax));
  const grads: Grads = new Map();
  chainBackward(g, actor, pi.tape, g.concat([dU, dLogStd], 1), grads);
  adamUpdate(g, SAC_NETS.actor, paramShapes(actorLayers), grads, { lr: cfg.actorLr, eps: cfg.adamEpsilon, maxNorm: undefined });

  const entropyGap = g.reduceMean(g.add(pi.logPi, g.scalar(targetEntropy(cfg))));
  g.output(SAC_IO.alphaLoss, g.neg(g.mul(logAlpha, entropyGap)), []);
  if (cfg.alphaLr > 0) {
    const alphaGrads: Grads = new Map([[SAC_IO.logAlpha, g.neg(entropyGap)]]);
    adamUpdate(g, 'alpha', [[SAC_IO.logAlpha, []]], alphaGrads, { lr: cfg.alphaLr, eps: cfg.adamEpsilon, maxNorm: undefined });
  }
  return g;
}

/** tanh(mean) (noise null) or tanh(mean + std noise) of the actor `actor` at obs. */
function policyAction(g: GraphBuilder, cfg: SacConfig, actor: readonly LinearRef[], obs: string, noise: string | null): string {
  const A = cfg.actDim;
  const out = chainForward(g, actor, obs, 'relu').out;
  const mean = g.slice(out, 0, A, 1);
  if (noise === null) return g.op('Tanh', [mean]);
  const std = g.op('Exp', [g.clip(g.slice(out, A, 2 * A, 1), cfg.logStdMin, cfg.logStdMax)]);
  return g.op('Tanh', [g.add(mean, g.mul(std, noise))]);
}

/** Actions for N observations from the actor fed as `actor.*`: tanh(mean) when `deterministic`, else with `noise`. */
export function sacActGraph(cfg: SacConfig, N: number, deterministic: boolean): GraphBuilder {
  const g = new GraphBuilder('sac_act');
  const obs = g.input(SAC_IO.obs, [N, cfg.obsDim]);
  const layers = sacActorLayers(cfg);
  paramInputs(g, layers, '', '');
  const noise = deterministic ? null : g.input(SAC_IO.noise, [N, cfg.actDim]);
  g.output(SAC_IO.action, policyAction(g, cfg, refs(layers), obs, noise), [N, cfg.actDim]);
  return g;
}

/**
 * The SAC policy as a stand-alone ONNX model for the harness's ONNX policy kind (README, "ONNX
 * policies"): weights baked in, input `obs` [n, obsDim], with `stochastic` also the input `noise`
 * [n, actDim] (the harness fills it with N(0, 1) per row and step), output `action` [n, actDim].
 */
export function sacPolicyGraph(cfg: SacConfig, actor: ReadonlyMap<string, { data: Float32Array; shape: readonly number[] }>, stochastic: boolean): GraphBuilder {
  const g = new GraphBuilder(stochastic ? 'sac_policy_sampled' : 'sac_policy_mean');
  const obs = g.input(SAC_IO.obs, ['n', cfg.obsDim]);
  const noise = stochastic ? g.input(SAC_IO.noise, ['n', cfg.actDim]) : null;
  const baked = sacActorLayers(cfg).map((l): LinearRef => {
    const get = (name: string) => {
      const t = actor.get(name);
      if (!t) throw new Error(`SAC ONNX export: no tensor ${name}`);
      return g.floats(t.data, t.shape);
    };
    return { ...l, weight: get(`${l.name}.weight`), bias: get(`${l.name}.bias`) };
  });
  g.output(SAC_IO.action, policyAction(g, cfg, baked, obs, noise), ['n', cfg.actDim]);
  return g;
}
