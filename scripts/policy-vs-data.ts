/**
 * How far an OFQL checkpoint's one-step actions are from the dataset's actions on the dataset's
 * own states: mean squared difference per action entry, and the share of entries at the action
 * bound (|a| > 0.99). A policy pulled out of the data's support by its Q term shows up here long
 * before an evaluation does (docs/results.md, "DQL's eta on these datasets").
 *
 *   node dist/scripts/policy-vs-data.js --ckpt eval/checkpoints/ofql-hopper-medium --dataset data/hopper-medium-ars.hdf5
 */
import { parseArgs } from 'node:util';
import { readD4rlFile } from '../src/data/d4rl-hdf5.js';
import { loadOfqlCheckpoint } from '../src/ofql/checkpoint.js';
import { initBackend } from '../src/ofql/tensor-backend.js';
import { Rng } from '../src/rng.js';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { ckpt: { type: 'string' }, dataset: { type: 'string' }, rows: { type: 'string', default: '2000' }, seed: { type: 'string', default: '1' } } });
  if (!values.ckpt || !values.dataset) throw new Error('usage: policy-vs-data --ckpt <OFQL checkpoint dir> --dataset <hdf5> [--rows 2000] [--seed 1]');
  await initBackend('wasm');
  const ds = await readD4rlFile(values.dataset, { nextObservations: false, infos: false });
  const { agent, config, step } = await loadOfqlCheckpoint(values.ckpt, { forResume: false });
  try {
    const S = config.obsDim;
    const A = config.actDim;
    if (ds.observationSize !== S || ds.actionSize !== A) throw new Error(`${values.dataset}: widths ${ds.observationSize}/${ds.actionSize} do not fit the checkpoint (${S}/${A})`);
    // every k-th row, so the states span the whole file
    const n = Math.min(Number(values.rows), ds.N);
    const stride = Math.floor(ds.N / n);
    const obs = new Float32Array(n * S);
    const data = new Float32Array(n * A);
    for (let i = 0; i < n; i++) {
      obs.set(ds.observations.subarray(i * stride * S, (i * stride + 1) * S), i * S);
      data.set(ds.actions.subarray(i * stride * A, (i * stride + 1) * A), i * A);
    }
    const act = agent.act(obs, 1, new Rng(Number(values.seed)));
    let sq = 0;
    let sat = 0;
    let dataSat = 0;
    for (let i = 0; i < n * A; i++) {
      sq += (act[i]! - data[i]!) ** 2;
      if (Math.abs(act[i]!) > 0.99) sat += 1;
      if (Math.abs(data[i]!) > 0.99) dataSat += 1;
    }
    process.stdout.write(
      `${values.ckpt} (step ${step}, eta ${config.eta}) on ${n} states of ${values.dataset}: ` +
        `mean squared difference to the data's actions ${(sq / (n * A)).toFixed(4)}; ` +
        `entries at the bound: policy ${((100 * sat) / (n * A)).toFixed(1)} %, data ${((100 * dataSat) / (n * A)).toFixed(1)} %\n`,
    );
  } finally {
    agent.dispose();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`policy-vs-data: error: ${(e as Error).message}\n`);
  process.exit(1);
});
