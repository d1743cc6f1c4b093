/**
 * How far an OFQL checkpoint's one-step actions are from the dataset's actions on the dataset's
 * own states: mean squared difference per action entry, and the share of entries at the action
 * bound (|a| > 0.99). A policy pulled out of the data's support by its Q term shows up here long
 * before an evaluation does (docs/results.md, "DQL's eta on these datasets").
 *
 * `--spread K` also draws K one-step actions per state (K noise draws) and reports the per-state
 * spread: the standard deviation over the K draws, averaged over states and action entries. The
 * data's own per-state spread is at least their action noise (0.1 for the ARS-made files); a
 * one-step map that collapses its noise shows a much smaller number.
 *
 * `--flow-steps k` (with --spread) reports the same spread for k Euler steps of the plain flow
 * (r = t) of the same network, to tell a collapsed one-step map from a collapsed flow.
 *
 * `--behaviour policy.onnx` (with --spread) reports the same spread for a stochastic ONNX policy
 * with inputs `obs` and `noise` (N(0, 1) per entry) and output `action`, such as the SAC snapshot
 * that made a SAC dataset (docs/sac.md): the data's own per-state spread, to compare with.
 *
 *   node dist/scripts/policy-vs-data.js --ckpt eval/checkpoints/ofql-hopper-medium --dataset data/hopper-medium-ars.hdf5 [--spread 32 --flow-steps 10]
 */
import { readD4rlFile } from '../src/data/d4rl-hdf5.js';
import { loadOfqlCheckpoint } from '../src/ofql/checkpoint.js';
import { initBackend } from '../src/ofql/tensor-backend.js';
import { Rng } from '../src/rng.js';
import { normals } from '../src/ofql/losses.js';
import { actorParamsFromNamed, flowEuler } from '../src/ofql/samplers.js';
import { tf } from '../src/ofql/tf.js';
import { intFlag, scriptArgs } from './script-args.js';

async function main(): Promise<void> {
  const { values, fail } = scriptArgs(
    'policy-vs-data',
    'usage: policy-vs-data --ckpt <OFQL checkpoint dir> --dataset <hdf5> [--rows 2000] [--seed 1] [--spread K --flow-steps k --behaviour policy.onnx]',
    { ckpt: { type: 'string' }, dataset: { type: 'string' }, rows: { type: 'string' }, seed: { type: 'string' }, spread: { type: 'string' }, 'flow-steps': { type: 'string' }, behaviour: { type: 'string' } },
  );
  const ckptDir = values.ckpt ?? fail('give --ckpt (an OFQL checkpoint directory)');
  const datasetPath = values.dataset ?? fail('give --dataset (an HDF5 file)');
  const rows = intFlag(values.rows, 'rows', 2000, 1, fail);
  const seed = intFlag(values.seed, 'seed', 1, 0, fail);
  const K = intFlag(values.spread, 'spread', 0, 0, fail);
  const flowSteps = intFlag(values['flow-steps'], 'flow-steps', 0, 0, fail);
  await initBackend('wasm');
  const ds = await readD4rlFile(datasetPath, { nextObservations: false, infos: false });
  const { agent, config, step } = await loadOfqlCheckpoint(ckptDir, { forResume: false });
  try {
    const S = config.obsDim;
    const A = config.actDim;
    if (ds.observationSize !== S || ds.actionSize !== A) throw new Error(`${datasetPath}: widths ${ds.observationSize}/${ds.actionSize} do not fit the checkpoint (${S}/${A})`);
    // every k-th row, so the states span the whole file
    const n = Math.min(rows, ds.N);
    const stride = Math.floor(ds.N / n);
    const obs = new Float32Array(n * S);
    const data = new Float32Array(n * A);
    for (let i = 0; i < n; i++) {
      obs.set(ds.observations.subarray(i * stride * S, (i * stride + 1) * S), i * S);
      data.set(ds.actions.subarray(i * stride * A, (i * stride + 1) * A), i * A);
    }
    const act = agent.act(obs, 1, new Rng(seed));
    const oneStep: Sampler = (o, rng) => agent.act(o, 1, rng);
    // The flow's parameters are read only when --flow-steps asks for them.
    const actor = flowSteps > 0 ? actorParamsFromNamed(agent.namedTensors(), config.evalActor === 'online' ? 'actor' : 'ema_actor', config) : null;
    const flow: Sampler = (o, rng) =>
      tf.tidy(() => flowEuler(actor!, tf.tensor2d(normals(rng, (o.length / S) * A), [o.length / S, A]), tf.tensor2d(o, [o.length / S, S]), flowSteps, config.maxAction).dataSync() as Float32Array);
    let sq = 0;
    let sat = 0;
    let dataSat = 0;
    for (let i = 0; i < n * A; i++) {
      sq += (act[i]! - data[i]!) ** 2;
      if (Math.abs(act[i]!) > 0.99) sat += 1;
      if (Math.abs(data[i]!) > 0.99) dataSat += 1;
    }
    process.stdout.write(
      `${ckptDir} (step ${step}, eta ${config.eta}) on ${n} states of ${datasetPath}: ` +
        `mean squared difference to the data's actions ${(sq / (n * A)).toFixed(4)}; ` +
        `entries at the bound: policy ${((100 * sat) / (n * A)).toFixed(1)} %, data ${((100 * dataSat) / (n * A)).toFixed(1)} %` +
        (K > 1 ? `; per-state spread of ${K} one-step draws ${(await perStateSpread(oneStep, obs, n, A, K, seed)).toFixed(4)}` : '') +
        (K > 1 && flowSteps > 0 ? `, of ${K} ${flowSteps}-step flow draws ${(await perStateSpread(flow, obs, n, A, K, seed)).toFixed(4)}` : '') +
        (K > 1 && values.behaviour ? `, of ${K} draws of the behaviour ${values.behaviour} ${(await behaviourSpread(values.behaviour, obs, n, S, A, K, seed)).toFixed(4)}` : '') +
        '\n',
    );
  } finally {
    agent.dispose();
  }
}

/** Actions for a batch of states with fresh noise from `rng`. */
type Sampler = (obs: Float32Array, rng: Rng) => Float32Array | Promise<Float32Array>;

/** The per-state spread of a stochastic ONNX policy (inputs obs, noise; output action). */
async function behaviourSpread(file: string, obs: Float32Array, n: number, S: number, A: number, K: number, seed: number): Promise<number> {
  const { default: ort } = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(file);
  try {
    const sample: Sampler = async (o, rng) => {
      const m = o.length / S;
      const out = await session.run({ obs: new ort.Tensor('float32', o, [m, S]), noise: new ort.Tensor('float32', normals(rng, m * A), [m, A]) });
      const action = out.action;
      if (!action || action.dims.length !== 2 || action.dims[1] !== A) throw new Error(`${file}: expected an output 'action' of shape [n, ${A}]`);
      return action.data as Float32Array;
    };
    return await perStateSpread(sample, obs, n, A, K, seed);
  } finally {
    await session.release();
  }
}

/** Mean over states and action entries of the standard deviation of K draws per state. */
async function perStateSpread(sample: Sampler, obs: Float32Array, n: number, A: number, K: number, seed: number): Promise<number> {
  const S = obs.length / n;
  const repeated = new Float32Array(n * K * S);
  for (let i = 0; i < n; i++) for (let k = 0; k < K; k++) repeated.set(obs.subarray(i * S, (i + 1) * S), (i * K + k) * S);
  const a = await sample(repeated, new Rng(seed + 1));
  let total = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < A; j++) {
      let mean = 0;
      for (let k = 0; k < K; k++) mean += a[(i * K + k) * A + j]!;
      mean /= K;
      let v = 0;
      for (let k = 0; k < K; k++) v += (a[(i * K + k) * A + j]! - mean) ** 2;
      total += Math.sqrt(v / (K - 1));
    }
  }
  return total / (n * A);
}

main().catch((e: unknown) => {
  process.stderr.write(`policy-vs-data: error: ${(e as Error).message}\n`);
  process.exit(1);
});
