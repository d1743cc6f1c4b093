/**
 * `npm run bench:train [-- --rounds 3 --steps 20 --threads 1,2 --time-emb 64 --out docs/benchmarks.md --no-write]`
 *
 * One OFQL training step at the paper's sizes (3 x 256 Mish MLPs, batch 256, twin critics, the
 * MeanFlow JVP, Adam, grad clipping; hopper dims obs 11 / act 3; DQL's hopper-medium row) in our
 * ONNX engine (src/engine), and in the same run the same step in PyTorch on the same CPU as the
 * peer (scripts/peer/ofql_step.py under /usr/bin/python3, OPENBLAS_NUM_THREADS = torch threads =
 * ours), plus the TF.js wasm agent for reference. Prints ms per step and the ratio ours / PyTorch
 * per thread count. Rounds interleave the engines (ours, peer, ours, peer, ...) so that load from
 * other processes falls on both; the median over rounds is reported.
 *
 * The peer needs Debian's python3-torch with libopenblas0-pthread: without OpenBLAS that torch
 * runs a reference BLAS about 10x slower, which is a trap, not a peer, so the script refuses a
 * peer whose process has no OpenBLAS loaded.
 */
import { createRequire } from 'node:module';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { median, replaceSection } from './bench-report.js';
import { intFlag, scriptArgs } from './script-args.js';
import { randomBatch } from './bench-batch.js';
import { runTorchPeer, type PeerRun } from './torch-peer.js';
import { createOrtOfqlAgent } from '../src/engine/ort-agent.js';
import { ofqlConfigForTask, type OfqlConfig } from '../src/ofql/config.js';
import { createOfqlAgent, type OfqlAgent } from '../src/ofql/train-step.js';
import { initBackend } from '../src/ofql/tensor-backend.js';
import { packageRoot } from '../src/mujoco/bridge.js';
import { Rng } from '../src/rng.js';

const { values: args, fail } = scriptArgs(
  'bench-train',
  'usage: npm run bench:train [-- --rounds 3 --steps 20 --threads 1,2 --time-emb <n> --python /usr/bin/python3 --out docs/benchmarks.md --no-write --no-tfjs]',
  {
    rounds: { type: 'string', default: '3' },
    steps: { type: 'string', default: '20' },
    threads: { type: 'string', default: '1,2' },
    'time-emb': { type: 'string' },
    python: { type: 'string', default: '/usr/bin/python3' },
    out: { type: 'string', default: join(packageRoot, 'docs', 'benchmarks.md') },
    'no-write': { type: 'boolean', default: false },
    'no-tfjs': { type: 'boolean', default: false },
  },
);
/** A flag's integer >= 1, or a usage error naming the flag. */
const positiveInt = (flag: string, v: string): number => intFlag(v, flag, 0, 1, fail);
const ROUNDS = positiveInt('rounds', args.rounds!);
const STEPS = positiveInt('steps', args.steps!);
const THREADS = args.threads!.split(',').map((t) => positiveInt('threads', t));
const DIMS = { obsDim: 11, actDim: 3 };
const TASK = 'hopper-medium-v2';
const cfg: OfqlConfig = ofqlConfigForTask(TASK, DIMS, args['time-emb'] ? { timeEmbDim: positiveInt('time-emb', args['time-emb']) } : {});
const WARMUP = 3;

/** ms per step of `steps` steps after a warm-up, on one fixed batch. */
function timeAgent(agent: OfqlAgent, steps: number): number {
  const batch = randomBatch(new Rng(1), cfg.batchSize, DIMS.obsDim, DIMS.actDim);
  for (let i = 0; i < WARMUP; i++) agent.trainStep(batch);
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) agent.trainStep(batch);
  return (performance.now() - t0) / steps;
}

function runPeer(threads: number, steps: number): PeerRun {
  return runTorchPeer(args.python!, 'ofql_step.py', {
    threads,
    ...DIMS,
    batch: cfg.batchSize,
    hidden: cfg.hiddenDim,
    depth: cfg.depth,
    timeEmb: cfg.timeEmbDim,
    eta: cfg.eta,
    gradNorm: cfg.gradNorm ?? 0,
    warmup: WARMUP,
    steps,
    repeats: 1,
  });
}

interface Row {
  threads: number;
  oursMs: number;
  peerMs: number;
}

async function main(): Promise<void> {
  const loadBefore = os.loadavg()[0]!;
  const rows: Row[] = [];
  let peerInfo: PeerRun | undefined;
  for (const threads of THREADS) {
    const ours: number[] = [];
    const peer: number[] = [];
    const agent = createOrtOfqlAgent(cfg, 0, { threads });
    try {
      for (let r = 0; r < ROUNDS; r++) {
        ours.push(timeAgent(agent, STEPS));
        peerInfo = runPeer(threads, STEPS);
        peer.push(peerInfo.ms[0]!);
        console.error(`[bench:train] ${threads} thread(s), round ${r + 1}/${ROUNDS}: ours ${ours.at(-1)!.toFixed(1)} ms, PyTorch ${peer.at(-1)!.toFixed(1)} ms`);
      }
    } finally {
      agent.dispose();
    }
    rows.push({ threads, oursMs: median(ours), peerMs: median(peer) });
  }
  let tfjsMs: number | undefined;
  if (!args['no-tfjs']) {
    await initBackend('wasm');
    const agent = createOfqlAgent(cfg, 0);
    try {
      tfjsMs = timeAgent(agent, Math.min(STEPS, 10));
    } finally {
      agent.dispose();
    }
  }

  const when = new Date().toISOString().slice(0, 16).replace('T', ' ');
  const cpu = `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores`;
  const lines = [
    '## Training step (npm run bench:train)',
    '',
    `Measured ${when} UTC by \`npm run bench:train\` (scripts/bench-train.ts) on ${cpu}: one OFQL training step (critic + actor with the MeanFlow JVP + Adam + clipping + EMA/target updates) at batch ${cfg.batchSize}, ${cfg.depth} x ${cfg.hiddenDim} Mish MLPs, time embeddings ${cfg.timeEmbDim}, hopper dims (obs 11, act 3), ${TASK} hyper-parameters. Ours: the ONNX engine (onnxruntime ${ortVersion()} CPU, \`train --backend onnx\`, the default). Peer: the same step in PyTorch ${peerInfo?.torch ?? '?'} (scripts/peer/ofql_step.py, ${peerInfo?.blas ?? '?'}), threads = OPENBLAS_NUM_THREADS = torch threads. Median of ${ROUNDS} interleaved rounds of ${STEPS} steps. Load average (1 min) before / after: ${loadBefore.toFixed(2)} / ${os.loadavg()[0]!.toFixed(2)}, on ${os.cpus().length} cores (other processes share the CPU; a load near the core count makes the two-thread row oversubscribed).`,
    '',
    '| threads | ours (ms/step) | PyTorch (ms/step) | ours / PyTorch |',
    '|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.threads} | ${r.oursMs.toFixed(1)} | ${r.peerMs.toFixed(1)} | ${(r.oursMs / r.peerMs).toFixed(2)}x |`),
    '',
    ...(tfjsMs === undefined ? [] : [`For reference, the TF.js wasm agent (\`train --backend wasm\`, one thread) took ${tfjsMs.toFixed(1)} ms per step in the same run.`, '']),
  ];
  const section = lines.join('\n');
  console.log(section);
  if (!args['no-write']) replaceSection(resolve(args.out!), section, lines[0]!);
}

function ortVersion(): string {
  return (createRequire(import.meta.url)('onnxruntime-node/package.json') as { version: string }).version;
}

main().catch((e: unknown) => {
  console.error(`bench:train: ${(e as Error).message}`);
  process.exit(1);
});
