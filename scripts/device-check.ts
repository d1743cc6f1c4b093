/**
 * `node dist/scripts/device-check.js [--steps 20] [--batches 256,1024,4096] [--device webgpu]`
 *
 * The GPU check of the training engine, for a session lent a GPU machine (scripts/device-check.sh
 * packs and runs it there). The ONNX engine runs the same graphs on onnxruntime's CPU provider
 * and on its WebGPU provider (bundled in onnxruntime-node on Linux x64: Dawn over Vulkan):
 *
 * 1. parity: the same seed and the same batches on both devices for --parity-steps steps at the
 *    paper's sizes; prints the largest relative difference of every loss / Q metric and of the
 *    weights after the last step (float32 on both, other summation orders: ~1e-5 expected, the
 *    check fails above 1e-3);
 * 2. speed: steps/s of a full OFQL step on each device at each batch size.
 *
 * Prints one JSON document on stdout (also written to --json). Exit 0 when parity holds, 1 when
 * it does not, 2 when the device cannot start (the message says why).
 */
import { writeFileSync } from 'node:fs';
import { randomBatch } from './bench-batch.js';
import { createOrtOfqlAgent } from '../src/engine/index.js';
import { ENGINE_DEVICES, EngineDeviceError, type EngineDevice } from '../src/engine/ort-session.js';
import { ofqlConfigForTask, type OfqlConfig } from '../src/ofql/config.js';
import type { OfqlAgent, OfqlMetrics } from '../src/ofql/train-step.js';
import { Rng } from '../src/rng.js';
import { intFlag, scriptArgs } from './script-args.js';

const DIMS = { obsDim: 17, actDim: 6 }; // halfcheetah / walker2d widths
const TASK = 'halfcheetah-medium-v2';
const PARITY_LIMIT = 1e-3;
const METRICS = ['criticLoss', 'targetQMean', 'bcLoss', 'qLoss', 'actorLoss', 'criticGradNorm', 'actorGradNorm'] as const;

const { values: args, fail } = scriptArgs(
  'device-check',
  'usage: node dist/scripts/device-check.js [--steps 20] [--parity-steps 5] [--batches 256,1024,4096] [--device webgpu] [--json out.json]',
  {
    steps: { type: 'string' },
    'parity-steps': { type: 'string' },
    batches: { type: 'string', default: '256,1024,4096' },
    device: { type: 'string', default: 'webgpu' },
    json: { type: 'string' },
  },
);
const STEPS = intFlag(args.steps, 'steps', 20, 1, fail);
const PARITY_STEPS = intFlag(args['parity-steps'], 'parity-steps', 5, 1, fail);
const BATCHES = args.batches.split(',').map((b) => intFlag(b, 'batches', 0, 1, fail));
if (!ENGINE_DEVICES.includes(args.device as EngineDevice)) fail(`--device must be one of ${ENGINE_DEVICES.join(', ')}, got '${args.device}'`);
const DEVICE = args.device as EngineDevice;

const config = (batchSize: number): OfqlConfig => ofqlConfigForTask(TASK, DIMS, { batchSize });
const relDiff = (a: number, b: number) => Math.abs(a - b) / Math.max(1, Math.abs(a));

/** Largest relative difference per metric over the steps, and over the weights at the end. */
function parity(): Record<string, number> {
  const cfg = config(256);
  const agents: OfqlAgent[] = [createOrtOfqlAgent(cfg, 0), createOrtOfqlAgent(cfg, 0, { device: DEVICE })];
  try {
    const worst: Record<string, number> = Object.fromEntries(METRICS.map((k) => [k, 0]));
    const rng = new Rng(1);
    for (let i = 0; i < PARITY_STEPS; i++) {
      const b = randomBatch(rng, cfg.batchSize, DIMS.obsDim, DIMS.actDim);
      const [m0, m1] = agents.map((a) => a.trainStep(b)) as [OfqlMetrics, OfqlMetrics];
      for (const k of METRICS) worst[k] = Math.max(worst[k]!, relDiff(m0[k], m1[k]));
    }
    const [w0, w1] = agents.map((a) => a.namedTensors());
    let weights = 0;
    for (const [name, t] of w0!) t.data.forEach((x, i) => (weights = Math.max(weights, relDiff(x, w1!.get(name)!.data[i]!))));
    return { ...worst, weights };
  } finally {
    for (const a of agents) a.dispose();
  }
}

/** Steps per second of full OFQL steps on one device at one batch size (after 3 warm-up steps). */
function stepsPerSecond(device: EngineDevice, batchSize: number): number {
  const cfg = config(batchSize);
  const agent = createOrtOfqlAgent(cfg, 0, { device });
  try {
    const b = randomBatch(new Rng(2), batchSize, DIMS.obsDim, DIMS.actDim);
    for (let i = 0; i < 3; i++) agent.trainStep(b);
    const t0 = performance.now();
    for (let i = 0; i < STEPS; i++) agent.trainStep(b);
    return (STEPS * 1000) / (performance.now() - t0);
  } finally {
    agent.dispose();
  }
}

function main(): number {
  const report: Record<string, unknown> = { task: TASK, dims: DIMS, device: DEVICE, steps: STEPS, parityLimit: PARITY_LIMIT };
  try {
    report.parity = parity();
  } catch (e) {
    if (!(e instanceof EngineDeviceError)) throw e;
    report.error = e.message;
    console.log(JSON.stringify(report, null, 2));
    return 2;
  }
  report.stepsPerSecond = BATCHES.map((B) => ({ batch: B, cpu: stepsPerSecond('cpu', B), [DEVICE]: stepsPerSecond(DEVICE, B) }));
  const ok = Object.values(report.parity as Record<string, number>).every((d) => d <= PARITY_LIMIT);
  report.parityHolds = ok;
  const text = JSON.stringify(report, null, 2);
  console.log(text);
  if (args.json) writeFileSync(args.json, `${text}\n`);
  return ok ? 0 : 1;
}

process.exitCode = main();
