/**
 * Micro-benchmark of the OFQL training step: one full step (critic + actor + EMA + target) and one
 * critic-only step, at the paper's sizes by default (3 x 256 Mish MLPs, batch 256,
 * halfcheetah/walker2d dims 17/6). Synthetic random batch; the numbers are wall-clock ms per step
 * on the active backend (median over `iters` after `warmup` steps).
 */
import { Rng } from '../src/rng.js';
import { makeOfqlConfig, type OfqlConfig } from '../src/ofql/config.js';
import { initBackend, type BackendName } from '../src/ofql/tensor-backend.js';
import { createOfqlAgent, type TransitionBatch } from '../src/ofql/train-step.js';
import { tf } from '../src/ofql/tf.js';

export interface OfqlBenchOptions {
  backend?: BackendName;
  obsDim?: number;
  actDim?: number;
  /** Extra config (hiddenDim, batchSize, gradNorm ...). */
  overrides?: Partial<OfqlConfig>;
  warmup?: number;
  iters?: number;
  seed?: number;
}

export interface OfqlBenchResult {
  backend: string;
  batchSize: number;
  hiddenDim: number;
  depth: number;
  /** Median ms of one full trainStep. */
  fullStepMs: number;
  /** Median ms of one criticStep. */
  criticStepMs: number;
  /**
   * Median process CPU time (user + system, ms) of one full step / critic step: less sensitive than
   * wall time to other load on a shared machine (wasm and cpu backends are single-threaded).
   */
  fullStepCpuMs: number;
  criticStepCpuMs: number;
  fullStepSamplesMs: number[];
  criticStepSamplesMs: number[];
  numTensorsAfter: number;
}

function median(xs: number[]): number {
  const a = [...xs].sort((p, q) => p - q);
  const m = a.length >> 1;
  return a.length % 2 ? a[m]! : (a[m - 1]! + a[m]!) / 2;
}

/** A batch of standard-normal states and rewards, uniform actions, and episode ends with probability `doneProb`. */
export function randomBatch(rng: Rng, B: number, obsDim: number, actDim: number, doneProb = 0.01): TransitionBatch {
  const n = (k: number) => Float32Array.from({ length: k }, () => rng.normal());
  return {
    states: n(B * obsDim),
    actions: Float32Array.from({ length: B * actDim }, () => rng.uniform(-1, 1)),
    rewards: n(B),
    nextStates: n(B * obsDim),
    notDones: Float32Array.from({ length: B }, () => (rng.random() < doneProb ? 0 : 1)),
  };
}

export async function benchmarkOfqlStep(opts: OfqlBenchOptions = {}): Promise<OfqlBenchResult> {
  const { backend = 'wasm', obsDim = 17, actDim = 6, warmup = 3, iters = 10, seed = 0 } = opts;
  await initBackend(backend);
  const cfg = makeOfqlConfig({ obsDim, actDim }, { gradNorm: 9, ...opts.overrides });
  const agent = createOfqlAgent(cfg, seed);
  try {
    const rng = new Rng(seed + 1);
    const batch = randomBatch(rng, cfg.batchSize, obsDim, actDim);
    for (let i = 0; i < warmup; i++) {
      agent.trainStep(batch);
      agent.criticStep(batch);
    }
    const full: number[] = [];
    const critic: number[] = [];
    const fullCpu: number[] = [];
    const criticCpu: number[] = [];
    const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;
    for (let i = 0; i < iters; i++) {
      let c0 = process.cpuUsage();
      let t0 = performance.now();
      agent.trainStep(batch);
      full.push(performance.now() - t0);
      fullCpu.push(cpuMs(process.cpuUsage(c0)));
      c0 = process.cpuUsage();
      t0 = performance.now();
      agent.criticStep(batch);
      critic.push(performance.now() - t0);
      criticCpu.push(cpuMs(process.cpuUsage(c0)));
    }
    return {
      backend: tf.getBackend(),
      batchSize: cfg.batchSize,
      hiddenDim: cfg.hiddenDim,
      depth: cfg.depth,
      fullStepMs: median(full),
      criticStepMs: median(critic),
      fullStepCpuMs: median(fullCpu),
      criticStepCpuMs: median(criticCpu),
      fullStepSamplesMs: full,
      criticStepSamplesMs: critic,
      numTensorsAfter: tf.memory().numTensors,
    };
  } finally {
    agent.dispose();
  }
}
