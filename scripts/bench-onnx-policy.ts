/**
 * The ONNX rows of `npm run bench:policy`: OFQL's one-step actor (3 x 256 Mish) at batch 1, 8 and 75
 * on onnxruntime-node (CPU provider, one intra-op thread: the graph of src/ofql/onnx-export.ts, as
 * the `onnx` backend runs it) and on the TensorFlow.js backend of the run, interleaved in rounds.
 * Both draw the same per-row noise (src/policy/row-rngs.ts), so the only difference is the engine.
 */
import { timeInRounds, type BatchTiming } from './bench-report.js';
import type { OfqlConfig } from '../src/ofql/config.js';
import type { NamedArray } from '../src/ofql/networks.js';
import { ofqlActorOnnx, OFQL_ONNX_INPUTS, OFQL_ONNX_OUTPUT } from '../src/ofql/onnx-export.js';
import { sampleActions, type SamplerNets } from '../src/ofql/samplers.js';
import { makeSamplerSpec } from '../src/ofql/sampler-spec.js';
import { OnnxActor, createOnnxSession, importOnnxRuntime } from '../src/policy/onnx-policy.js';
import { RowRngs } from '../src/policy/row-rngs.js';
import type { ActContext } from '../src/policy/types.js';

export const ONNX_BENCH_BATCHES = [1, 8, 75] as const;
const WARMUP = 20;
/** Aim for about this long per measurement. */
const TARGET_MS = 400;

/** ms per act() call of one engine at one batch size. */
export type EngineRow = BatchTiming<'onnxruntime' | 'tfjs'>;

function context(n: number): ActContext {
  return {
    episodeIds: Int32Array.from({ length: n }, (_, j) => j),
    episodeSeeds: Float64Array.from({ length: n }, (_, j) => 100 + j),
    steps: new Int32Array(n),
  };
}

async function msPerCall(act: (obs: Float64Array, n: number, ctx: ActContext) => unknown, n: number, S: number): Promise<number> {
  const obs = Float64Array.from({ length: n * S }, (_, i) => Math.sin(0.1 * i));
  const ctx = context(n);
  for (let i = 0; i < WARMUP; i++) await act(obs, n, ctx);
  const t0 = performance.now();
  let calls = 0;
  while (performance.now() - t0 < TARGET_MS) {
    ctx.steps.fill(calls);
    await act(obs, n, ctx);
    calls++;
  }
  return (performance.now() - t0) / calls;
}

/** Median-of-rounds ms per call for both engines at each batch, and onnxruntime's version. */
export async function benchOnnxVsTfjs(named: ReadonlyMap<string, NamedArray>, cfg: OfqlConfig, nets: SamplerNets, rounds: number): Promise<{ rows: EngineRow[]; version: string }> {
  const ort = await importOnnxRuntime();
  const session = await createOnnxSession(ort, ofqlActorOnnx(named, cfg, { actor: 'ema', producerVersion: 'bench' }), 1);
  const binding = { obsInput: OFQL_ONNX_INPUTS.obs, noiseInput: OFQL_ONNX_INPUTS.noise, output: OFQL_ONNX_OUTPUT, batch: 'dynamic' as const };
  const onnx = new OnnxActor(ort, session, binding, cfg.obsDim, cfg.actDim, 0);
  const oneStep = makeSamplerSpec('one-step');
  const rngs = new RowRngs(0);
  let obs32 = new Float32Array(0);
  const tfjs = (obs: Float64Array, n: number, ctx: ActContext) => {
    if (obs32.length !== n * cfg.obsDim) obs32 = new Float32Array(n * cfg.obsDim);
    obs32.set(obs);
    return sampleActions(nets, oneStep, obs32, rngs.forRows(n, ctx));
  };
  type Act = (obs: Float64Array, n: number, ctx: ActContext) => unknown;
  const engines: ReadonlyArray<readonly [EngineRow['name'], Act]> = [
    ['onnxruntime', (o, k, c) => onnx.act(o, k, c)],
    ['tfjs', tfjs],
  ];
  try {
    const rows = await timeInRounds(rounds, ONNX_BENCH_BATCHES, engines, (act, n) => msPerCall(act, n, cfg.obsDim));
    return { rows, version: ort.env.versions.node ?? 'unknown' };
  } finally {
    await onnx.close();
  }
}
