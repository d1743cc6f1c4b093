/**
 * `npm run bench:policy [-- --backend wasm --rounds 3 --out docs/benchmarks.md --no-write --quick]`
 *
 * Policy speed of OFQL's one-step policy against the same network used as a multi-step flow
 * policy, and the cost of one training step of each (cf. the OFQL paper's efficiency table,
 * docs/reference.md §5: decision frequency over action batches of 2500; training time).
 *
 * Inference (actions/s at batch 1 and 2500; halfcheetah dims obs 17 / act 6; 3 x 256 Mish):
 *   - OFQL one-step: a = clip(eps - u(eps, 0, 1; s))                         (1 actor call)
 *   - flow, k Euler steps on the instantaneous velocity u(a_t, t, t; s) (r = t), from t = 1 to 0:
 *       a <- a - (1/k) u(a, t, t; s), t <- t - 1/k                          (k actor calls), k = 5, 10
 *   - for scale: DQL-style 50-candidate selection on top of one-step (50 actor + 50 critic rows per action)
 *   The noise is drawn in JS from the project's Rng for every call (as in evaluation).
 *
 * Training (one gradient step at batch 256, same critic update rule and BC loss):
 *   - OFQL: OfqlAgent.trainStep (critic target from the one-step EMA actor; Q-loss through one actor call)
 *   - multi-step (5 steps): the same step, but a' for the critic target and a_new for the Q-loss
 *     come from 5 Euler steps of the flow (r = t), and the Q-loss back-propagates through all five
 *     actor calls (DQL-like); the average-velocity BC loss is unchanged.
 *
 * Variants are interleaved in rounds (a b c ... a b c ...) so that load from other processes falls
 * on all of them alike; the median over rounds is reported, with process CPU time beside wall time.
 */
import os from 'node:os';
import { join, resolve } from 'node:path';
import { batchesOf, median, msAt, replaceSection, type BatchTiming } from './bench-report.js';
import { benchOnnxVsTfjs, type EngineRow } from './bench-onnx-policy.js';
import { benchPythonBridge } from './bench-python-policy.js';
import { packageRoot } from '../src/mujoco/bridge.js';
import { Rng } from '../src/rng.js';
import { tf } from '../src/ofql/tf.js';
import { initBackend, type BackendName } from '../src/ofql/tensor-backend.js';
import { makeOfqlConfig, type OfqlConfig } from '../src/ofql/config.js';
import { createOfqlAgent } from '../src/ofql/train-step.js';
import { randomBatch } from './bench-batch.js';
import {
  actorForward,
  actorNamedParams,
  cloneActor,
  cloneCritic,
  criticForward,
  criticNamedParams,
  initActor,
  initCritic,
  type ActorParams,
} from '../src/ofql/networks.js';
import {
  behaviourLoss,
  clipByGlobalNorm,
  criticLoss,
  criticTarget,
  meanFlowTarget,
  normals,
  qLoss,
  sampleTimePairs,
  softUpdate,
} from '../src/ofql/losses.js';
import { flowEuler, sampleActions, samplerNetsFromAgent, type SamplerNets } from '../src/ofql/samplers.js';
import { makeSamplerSpec } from '../src/ofql/sampler-spec.js';
import { intFlag, scriptArgs } from './script-args.js';

const SECTION = '## Policy speed (npm run bench:policy)';
const OBS = 17;
const ACT = 6;

const BACKENDS: readonly BackendName[] = ['wasm', 'cpu', 'tensorflow'];
const { values: args, fail } = scriptArgs(
  'bench-policy',
  'usage: npm run bench:policy [-- --backend wasm|cpu|tensorflow --rounds 3 --out docs/benchmarks.md --no-write --quick]',
  {
    backend: { type: 'string', default: 'wasm' },
    rounds: { type: 'string' },
    out: { type: 'string', default: join(packageRoot, 'docs', 'benchmarks.md') },
    'no-write': { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
  },
);
if (!BACKENDS.includes(args.backend as BackendName)) fail(`--backend must be one of ${BACKENDS.join(', ')}, got '${args.backend}'`);
const ROUNDS = intFlag(args.rounds, 'rounds', 3, 1, fail);
const QUICK = args.quick;
const log = (s: string) => process.stderr.write(`${s}\n`);

interface Sample {
  wallMs: number;
  cpuMs: number;
}

/** Time `fn` called `calls` times (after one warm-up call); ms per call. */
function timeCalls(fn: () => void, calls: number): Sample {
  fn();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < calls; i++) fn();
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { wallMs: wall / calls, cpuMs: (c.user + c.system) / 1000 / calls };
}

// ---------------------------------------------------------------------------------------------
// Inference variants
// ---------------------------------------------------------------------------------------------

function inferenceVariants(nets: SamplerNets, actor: ActorParams, cfg: OfqlConfig) {
  const rowRngs = (n: number, rng: Rng) => Array<Rng>(n).fill(rng);
  const flow = (k: number) => (obs: Float32Array, n: number, rng: Rng) =>
    tf.tidy(() => {
      const eps = tf.tensor2d(normals(rng, n * ACT), [n, ACT]);
      return flowEuler(actor, eps, tf.tensor2d(obs, [n, OBS]), k, cfg.maxAction).dataSync() as Float32Array;
    });
  const oneStep = makeSamplerSpec('one-step');
  const dql = makeSamplerSpec('dql', { n: 50 });
  const qgbs = makeSamplerSpec('qgbs');
  const all = [1, 2500];
  return [
    { name: 'OFQL one-step', nfe: '1 actor', batches: all, fn: (obs: Float32Array, n: number, rng: Rng) => sampleActions(nets, oneStep, obs, rowRngs(n, rng)) },
    { name: 'flow, 5 Euler steps (r = t)', nfe: '5 actor', batches: all, fn: flow(5) },
    { name: 'flow, 10 Euler steps (r = t)', nfe: '10 actor', batches: all, fn: flow(10) },
    // Samplers on top of the one-step policy (docs/samplers.md), batch 1 only (at 2500 they run 125k / 50k rows per call).
    { name: 'OFQL --sampler dql (50 candidates)', nfe: '50 actor + 50 critic', batches: [1], fn: (obs: Float32Array, n: number, rng: Rng) => sampleActions(nets, dql, obs, rowRngs(n, rng)) },
    { name: 'OFQL --sampler qgbs (K=1,B=4,M=4)', nfe: '20 actor + 24 critic + 4 critic grad', batches: [1], fn: (obs: Float32Array, n: number, rng: Rng) => sampleActions(nets, qgbs, obs, rowRngs(n, rng)) },
  ];
}

// ---------------------------------------------------------------------------------------------
// Multi-step (BPTT) training step
// ---------------------------------------------------------------------------------------------

/** A DQL-like trainer of the same networks whose policy is a K-step Euler flow (see the module comment). */
function createMultiStepTrainer(cfg: OfqlConfig, steps: number, seed: number) {
  const rng = new Rng(seed);
  const actor = initActor(cfg, new Rng(seed + 1));
  const critic = initCritic(cfg, new Rng(seed + 2));
  const ema = cloneActor(actor);
  const target = cloneCritic(critic);
  const actorVars = actorNamedParams('actor', actor).map(([, v]) => v);
  const criticVars = criticNamedParams('critic', critic).map(([, v]) => v);
  const targetVars = criticNamedParams('critic_target', target).map(([, v]) => v);
  const adam = (lr: number) => tf.train.adam(lr, 0.9, 0.999, cfg.adamEpsilon);
  const actorOpt = adam(cfg.actorLr);
  const criticOpt = adam(cfg.criticLr);
  const S = cfg.obsDim;
  const A = cfg.actDim;
  const apply = (opt: tf.AdamOptimizer, vars: tf.Variable[], grads: tf.NamedTensorMap) => {
    const { grads: clipped } = clipByGlobalNorm(vars.map((v) => grads[v.name]!), cfg.gradNorm);
    opt.applyGradients(vars.map((v, i) => ({ name: v.name, tensor: clipped[i]! })));
    tf.dispose(clipped);
  };
  return {
    trainStep(b: ReturnType<typeof randomBatch>) {
      const B = b.rewards.length;
      tf.tidy(() => {
        const s = tf.tensor2d(b.states, [B, S]);
        const a = tf.tensor2d(b.actions, [B, A]);
        const r = tf.tensor2d(b.rewards, [B, 1]);
        const s2 = tf.tensor2d(b.nextStates, [B, S]);
        const nd = tf.tensor2d(b.notDones, [B, 1]);
        // Critic: a' from K Euler steps of the EMA flow.
        const a2 = flowEuler(ema, tf.tensor2d(normals(rng, B * A), [B, A]), s2, steps, cfg.maxAction);
        const [tq1, tq2] = criticForward(target, s2, a2);
        const y = criticTarget(r, nd, tq1, tq2, cfg.discount);
        const cg = tf.variableGrads(() => {
          const [q1, q2] = criticForward(critic, s, a);
          return criticLoss(q1, q2, y);
        }, criticVars);
        apply(criticOpt, criticVars, cg.grads);
        // Actor: the same BC loss; Q-loss through K Euler steps (back-propagated through all of them).
        const pairs = sampleTimePairs(rng, B, cfg);
        const t = tf.tensor2d(pairs.t, [B, 1]);
        const rr = tf.tensor2d(pairs.r, [B, 1]);
        const eps = tf.tensor2d(normals(rng, B * A), [B, A]);
        const epsNew = tf.tensor2d(normals(rng, B * A), [B, A]);
        const tgt = meanFlowTarget(actor, a, eps, t, rr, s);
        const ag = tf.variableGrads(() => {
          const u = actorForward(actor, tgt.at, rr, t, s);
          const bc = behaviourLoss(u, tgt.uTgt, cfg.bcReduction);
          const aNew = flowEuler(actor, epsNew, s, steps, cfg.maxAction);
          const [q1, q2] = criticForward(critic, s, aNew);
          const ql = qLoss(q1, tf.mean(tf.abs(q2)).dataSync()[0]!);
          return tf.add(bc, tf.mul(ql, cfg.eta)) as tf.Scalar;
        }, actorVars);
        apply(actorOpt, actorVars, ag.grads);
        softUpdate(targetVars, criticVars, cfg.tau);
      });
    },
    dispose() {
      actorOpt.dispose();
      criticOpt.dispose();
      tf.dispose([...actorVars, ...criticVars, ...targetVars, ...actorNamedParams('ema', ema).map(([, v]) => v)]);
    },
  };
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const backend = args.backend as BackendName;
  await initBackend(backend);
  const cfg = makeOfqlConfig({ obsDim: OBS, actDim: ACT }, { gradNorm: 9 });
  const agent = createOfqlAgent(cfg, 0);
  const nets = samplerNetsFromAgent(agent);
  const named = agent.namedTensors();
  const { actorParamsFromNamed } = await import('../src/ofql/samplers.js');
  const actor = actorParamsFromNamed(named, 'ema_actor', cfg);
  const variants = inferenceVariants(nets, actor, cfg);
  const started = new Date();
  const load0 = os.loadavg();

  // ---- inference ----
  const batches = [1, 2500];
  const obsRng = new Rng(7);
  const obsFor = new Map(batches.map((b) => [b, Float32Array.from({ length: b * OBS }, () => obsRng.normal())]));
  const inf = new Map<string, Sample[]>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const B of batches) {
      for (const v of variants.filter((x) => x.batches.includes(B))) {
        // Aim for ~1 s per measurement (fewer calls for slow variants at batch 2500).
        const probe = timeCalls(() => v.fn(obsFor.get(B)!, B, new Rng(round)), 1);
        const calls = Math.max(1, Math.min(QUICK ? 50 : 400, Math.round((QUICK ? 300 : 1000) / Math.max(probe.wallMs, 0.01))));
        const rng = new Rng(1000 + round);
        const s = timeCalls(() => v.fn(obsFor.get(B)!, B, rng), calls);
        const key = `${v.name}|${B}`;
        inf.set(key, [...(inf.get(key) ?? []), s]);
        log(`[bench] round ${round} batch ${B} ${v.name}: ${s.wallMs.toFixed(3)} ms/call (${calls} calls)`);
      }
    }
  }

  // ---- training ----
  const trainIters = QUICK ? 2 : 5;
  const ms = createMultiStepTrainer(cfg, 5, 11);
  const batch = randomBatch(new Rng(3), cfg.batchSize, OBS, ACT);
  const train = { ofql: [] as Sample[], multi: [] as Sample[] };
  let tensorsAfterRound0 = -1;
  for (let round = 0; round < ROUNDS; round++) {
    train.ofql.push(timeCalls(() => agent.trainStep(batch), trainIters));
    train.multi.push(timeCalls(() => ms.trainStep(batch), trainIters));
    if (round === 0) tensorsAfterRound0 = tf.memory().numTensors;
    log(`[bench] round ${round} train: OFQL ${train.ofql.at(-1)!.wallMs.toFixed(1)} ms, 5-step BPTT ${train.multi.at(-1)!.wallMs.toFixed(1)} ms`);
  }
  const tensorsAfter = tf.memory().numTensors;
  const py = await benchPythonBridge(ROUNDS, OBS, ACT);
  for (const r of py.rows) log(`[bench] python bridge ${r.name} batch ${r.batch}: ${r.msPerCall.toFixed(3)} ms/call`);
  const engines = await benchOnnxVsTfjs(named, cfg, nets, ROUNDS);
  for (const r of engines.rows) log(`[bench] ${r.name} one-step batch ${r.batch}: ${r.msPerCall.toFixed(3)} ms/call`);
  ms.dispose();
  nets.dispose();
  agent.dispose();

  // ---- report ----
  const med = (xs: Sample[], k: keyof Sample) => median(xs.map((x) => x[k]));
  const fmt = (x: number, d = 0) => x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
  const cpus = os.cpus();
  const lines: string[] = [
    SECTION,
    '',
    `Measured ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC by \`npm run bench:policy\` (scripts/bench-policy.ts), backend ${tf.getBackend()} ` +
      `(TensorFlow.js ${tf.version_core}), one thread. Networks at the paper's sizes: 3 x 256 Mish MLPs, time embeddings 16, obs 17 / act 6 (halfcheetah), untrained weights ` +
      `(speed does not depend on them). Median of ${ROUNDS} interleaved rounds.`,
    `Machine: ${cpus[0]?.model ?? 'unknown CPU'}, ${os.availableParallelism()} cores available, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${process.platform} ${process.arch}. ` +
      `Load average at start / end: ${load0.map((x) => x.toFixed(2)).join(' ')} / ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}.`,
    '',
    '### Actions per second',
    '',
    '| policy | network calls per action | batch | ms per call | actions/s (wall) | actions/s (CPU time) | x one-step (wall) |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const B of batches) {
    const base = med(inf.get(`${variants[0]!.name}|${B}`)!, 'wallMs');
    for (const v of variants.filter((x) => x.batches.includes(B))) {
      const xs = inf.get(`${v.name}|${B}`)!;
      const w = med(xs, 'wallMs');
      const c = med(xs, 'cpuMs');
      lines.push(`| ${v.name} | ${v.nfe} | ${B} | ${fmt(w, 3)} | ${fmt((B * 1000) / w)} | ${fmt((B * 1000) / Math.max(c, 1e-6))} | ${fmt(base / w, 2)} |`);
    }
  }
  const ow = med(train.ofql, 'wallMs');
  const mw = med(train.multi, 'wallMs');
  const oc = med(train.ofql, 'cpuMs');
  const mc = med(train.multi, 'cpuMs');
  lines.push(
    '',
    '### One training step (batch 256)',
    '',
    '| trainer | actor calls in the Q-loss (with backprop) | actor calls for the critic target | ms per step (wall) | ms per step (CPU time) | x OFQL (wall) | x OFQL (CPU time) |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    `| OFQL (OfqlAgent.trainStep) | 1 | 1 | ${fmt(ow, 1)} | ${fmt(oc, 1)} | 1.00 | 1.00 |`,
    `| multi-step flow, 5 Euler steps, BPTT (same BC loss) | 5 | 5 | ${fmt(mw, 1)} | ${fmt(mc, 1)} | ${fmt(mw / ow, 2)} | ${fmt(mc / oc, 2)} |`,
    '',
    '- Both training steps include the critic update (TD target from the EMA policy, twin-Q MSE, clipping, Adam), the actor update ' +
      '(average-velocity BC loss with its exact JVP target + eta x Q-loss, clipping, Adam) and the target-critic soft update; ' +
      'they differ only in how the policy action is produced (1 vs 5 actor calls, back-propagated through in the Q-loss).',
    '- Flow rows use the average-velocity network at r = t, i.e. as the instantaneous velocity of a plain flow; OFQL\'s ' +
      'one-step action is u(eps, 0, 1; s). Time per call includes drawing the Gaussian noise in JS and reading the actions back.',
    '- The paper reports (A100, PyTorch) 846.5 decisions/s for OFQL vs 238.7 for DQL-5 and 35.5 for DQL-50 over batches of 2500, and 6.3 h vs 11.7 h (DQL-5) for 1M training steps; ' +
      'its DQL baselines are diffusion chains, ours are Euler flows of the same network, so only the ratios are comparable in spirit.',
    `- tf.memory().numTensors after the first / last training round: ${tensorsAfterRound0} / ${tensorsAfter} (the networks, optimizer slots and cached constants; equal = no leak per step).`,
    '- Numbers from a shared machine are only as good as its load average (see above: well over 2 on 2 cores means other processes took much of the CPU); ' +
      'the "CPU time" columns (this process\'s user + system time; the wasm backend runs on one thread) are less sensitive to other load than wall time.',
    '',
    ...engineSection(engines.rows, engines.version, py.rows, tf.getBackend(), fmt),
    ...pythonBridgeSection(py.rows, py.description, fmt),
  );
  const text = lines.join('\n');
  process.stdout.write(`${text}\n`);
  if (!args['no-write']) {
    replaceSection(resolve(args.out), text, SECTION);
    log(`[bench] wrote the section to ${args.out}`);
  }
}

/** One 3 x 256 network on three engines at batch 1, 8, 75: onnxruntime, TF.js, numpy through the Python bridge. */
function engineSection(rows: EngineRow[], ortVersion: string, py: BatchTiming[], backend: string, fmt: (x: number, d?: number) => string): string[] {
  const ms = (engine: EngineRow['name'], batch: number) => msAt(rows, engine, batch)!;
  const out = [
    '### The same 3 x 256 network on onnxruntime, TensorFlow.js and Python (numpy)',
    '',
    `OFQL's one-step actor (obs 17, act 6) on onnxruntime-node ${ortVersion} (CPU provider, 1 intra-op thread; the graph \`export-onnx\` writes) ` +
      `and on TensorFlow.js ${backend}, both with the harness's per-row noise; numpy: a 3 x 256 MLP through the Python bridge (next table; numpy's BLAS may use every core, the others one thread). ms per act() call.`,
    '',
    '| batch | onnxruntime | TF.js | Python bridge (numpy) | onnxruntime speed-up over TF.js | actions/s (onnxruntime) |',
    '| ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const b of batchesOf(rows)) {
    const o = ms('onnxruntime', b);
    const t = ms('tfjs', b);
    const p = msAt(py, 'numpy MLP 3 x 256', b);
    out.push(`| ${b} | ${fmt(o, 3)} | ${fmt(t, 3)} | ${p === undefined ? '' : fmt(p, 3)} | ${fmt(t / o, 1)}x | ${fmt((b * 1000) / o)} |`);
  }
  out.push('');
  return out;
}

/** The Python bridge table (scripts/bench-python-policy.ts): ms per call and the bridge's share. */
function pythonBridgeSection(rows: BatchTiming[], description: string, fmt: (x: number, d?: number) => string): string[] {
  const ms = (policy: string, batch: number) => msAt(rows, policy, batch)!;
  const out = [
    '### The same 3 x 256 MLP as a Python policy (numpy, through the bridge)',
    '',
    `${description}; no-op = a Python policy returning zeros through the same bridge (frames, pipes, numpy conversion): the bridge's overhead per call.`,
    '',
    '| batch | numpy MLP ms per call | no-op ms per call (bridge overhead) | overhead share | actions/s (wall) |',
    '| ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const b of batchesOf(rows)) {
    const m = ms('numpy MLP 3 x 256', b);
    const o = ms('no-op', b);
    out.push(`| ${b} | ${fmt(m, 3)} | ${fmt(o, 3)} | ${fmt((100 * o) / m, 0)} % | ${fmt((b * 1000) / m)} |`);
  }
  out.push('');
  return out;
}

await main();
