/**
 * `npm run bench:sac [-- --rounds 3 --steps 50 --threads 1 --out docs/benchmarks.md --no-write]`
 *
 * One SAC gradient step (src/sac/: twin Q nets and targets, tanh-Gaussian actor, tuned
 * temperature, three Adam optimizers; 2 x 256 ReLU, batch 256, walker2d dims obs 17 / act 6) in
 * our engine and, in the same run, the same step in PyTorch on the same CPU
 * (scripts/peer/sac_step.py; OpenBLAS, threads = ours). Rounds interleave the two so that load
 * from other processes falls on both; the median over rounds is reported, with the ratio.
 */
import os from 'node:os';
import { join, resolve } from 'node:path';
import { median, replaceSection } from './bench-report.js';
import { intFlag, scriptArgs } from './script-args.js';
import { runTorchPeer, type PeerRun } from './torch-peer.js';
import { packageRoot } from '../src/mujoco/bridge.js';
import { Rng } from '../src/rng.js';
import { SacAgent, type SacBatch } from '../src/sac/agent.js';
import { makeSacConfig } from '../src/sac/config.js';

const { values: args, fail } = scriptArgs(
  'bench-sac',
  'usage: npm run bench:sac [-- --rounds 3 --steps 50 --threads 1[,2] --python /usr/bin/python3 --out docs/benchmarks.md --no-write]',
  {
    rounds: { type: 'string', default: '3' },
    steps: { type: 'string', default: '50' },
    threads: { type: 'string', default: '1' },
    python: { type: 'string', default: '/usr/bin/python3' },
    out: { type: 'string', default: join(packageRoot, 'docs', 'benchmarks.md') },
    'no-write': { type: 'boolean', default: false },
  },
);
/** A flag's integer >= 1, or a usage error naming the flag. */
const positiveInt = (flag: string, v: string): number => intFlag(v, flag, 0, 1, fail);
const ROUNDS = positiveInt('rounds', args.rounds!);
const STEPS = positiveInt('steps', args.steps!);
const THREADS = args.threads!.split(',').map((t) => positiveInt('threads', t));
const cfg = makeSacConfig(17, 6);
const WARMUP = 3;

function randomSacBatch(rng: Rng): SacBatch {
  const { batchSize: B, obsDim: S, actDim: A } = cfg;
  const normal = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
  return { states: normal(B * S), actions: normal(B * A).map(Math.tanh), rewards: normal(B), nextStates: normal(B * S), notDones: new Float32Array(B).fill(1) };
}

/** ms per update of `steps` updates after a warm-up, on one fixed batch. */
function timeOurs(agent: SacAgent): number {
  const batch = randomSacBatch(new Rng(1));
  for (let i = 0; i < WARMUP; i++) agent.update(batch);
  const t0 = performance.now();
  for (let i = 0; i < STEPS; i++) agent.update(batch);
  return (performance.now() - t0) / STEPS;
}

function timePeer(threads: number): PeerRun {
  const { obsDim, actDim, batchSize: batch, hiddenDim: hidden, depth } = cfg;
  return runTorchPeer(args.python!, 'sac_step.py', { threads, obsDim, actDim, batch, hidden, depth, warmup: WARMUP, steps: STEPS, repeats: 1 });
}

const loadBefore = os.loadavg()[0]!;
const rows: Array<{ threads: number; ours: number; peer: number }> = [];
let info: PeerRun | undefined;
for (const threads of THREADS) {
  const ours: number[] = [];
  const peer: number[] = [];
  const agent = new SacAgent(cfg, 0, { threads });
  try {
    for (let r = 0; r < ROUNDS; r++) {
      ours.push(timeOurs(agent));
      info = timePeer(threads);
      peer.push(info.ms[0]!);
      console.error(`[bench:sac] ${threads} thread(s), round ${r + 1}/${ROUNDS}: ours ${ours.at(-1)!.toFixed(2)} ms, PyTorch ${peer.at(-1)!.toFixed(2)} ms`);
    }
  } finally {
    agent.close();
  }
  rows.push({ threads, ours: median(ours), peer: median(peer) });
}
const when = new Date().toISOString().slice(0, 16).replace('T', ' ');
const lines = [
  '## SAC gradient step (npm run bench:sac)',
  '',
  `Measured ${when} UTC by \`npm run bench:sac\` (scripts/bench-sac.ts) on ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores: one SAC update (Q nets + targets, actor, temperature; ${cfg.depth} x ${cfg.hiddenDim} ReLU, batch ${cfg.batchSize}, obs 17 / act 6 as walker2d) in our engine (src/sac/, onnxruntime CPU) and in PyTorch ${info?.torch ?? '?'} (scripts/peer/sac_step.py, ${info?.blas.split(',')[0] ?? '?'}). Median of ${ROUNDS} interleaved rounds of ${STEPS} updates. Load average (1 min) before / after: ${loadBefore.toFixed(2)} / ${os.loadavg()[0]!.toFixed(2)} on ${os.cpus().length} cores.`,
  '',
  '| threads | ours (ms/update) | PyTorch (ms/update) | ours / PyTorch |',
  '|---:|---:|---:|---:|',
  ...rows.map((r) => `| ${r.threads} | ${r.ours.toFixed(2)} | ${r.peer.toFixed(2)} | ${(r.ours / r.peer).toFixed(2)}x |`),
  '',
];
const section = lines.join('\n');
console.log(section);
if (!args['no-write']) replaceSection(resolve(args.out!), section, lines[0]!);
