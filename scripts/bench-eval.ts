/**
 * `npm run bench:eval [-- --episodes 150 --reps 3 --out docs/benchmarks.md --no-write]`
 *
 * Evaluation throughput on hopper-medium-v2, in one process:
 *  1. a bare physics loop on the main thread (mj_resetData + reset noise + mj_forward, then
 *     per env step: write ctrl, frame_skip x mj_step), replaying exactly the episodes (seeds
 *     and lengths) the evaluation ran: the physics-only rate one thread can reach;
 *  2. `evaluate` with a cheap policy (zero: the bare loop replays the very same trajectories;
 *     random: same seeds and lengths) on warm pools of 1 and 2 workers;
 *  3. the batch-size sweep (1 worker) and a 3 x 256 MLP policy (plain-JS Float32 matmul,
 *     batched per worker): the share of worker time spent inside policy.act.
 * Prints a markdown table and writes/replaces the section "## Evaluation throughput
 * (npm run bench:eval)" of docs/benchmarks.md (atomically; other sections are kept).
 * Every figure is the median of --reps timed runs on a warm pool (workers started, MuJoCo
 * loaded, policy built) unless marked cold.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { evaluate } from '../eval/evaluate.js';
import { EvalPool } from '../eval/pool.js';
import type { EvalResultDocument } from '../eval/result.js';
import { loadMujoco, mujocoVersion, packageRoot } from '../src/mujoco/bridge.js';
import { bareLoop as bareLoopOnThread, bareLoopThreads } from './bench-bare.js';
import { median, replaceSection } from './bench-report.js';
import { intFlag, scriptArgs } from './script-args.js';
import { ofqlPolicyRef } from '../src/policy/ofql-cli.js';
import { preparePolicy } from '../src/policy/kinds.js';
import type { PolicyRef } from '../src/policy/types.js';
import { exportOfqlOnnx } from '../src/commands/export-onnx.js';

const ENV = 'hopper-medium-v2';
const SECTION = '## Evaluation throughput (npm run bench:eval)';

const { values: args, fail } = scriptArgs(
  'bench-eval',
  'usage: npm run bench:eval [-- --episodes 150 --reps 5 --seed 0 --out docs/benchmarks.md --no-write]',
  {
    episodes: { type: 'string' },
    reps: { type: 'string' },
    seed: { type: 'string' },
    out: { type: 'string', default: join(packageRoot, 'docs', 'benchmarks.md') },
    'no-write': { type: 'boolean', default: false },
  },
);
const EPISODES = intFlag(args.episodes, 'episodes', 150, 1, fail);
const REPS = intFlag(args.reps, 'reps', 5, 1, fail);
const SEED = intFlag(args.seed, 'seed', 0, 0, fail);
const MLP = fileURLToPath(new URL('./bench-mlp-policy.js', import.meta.url));
/** The committed hopper checkpoint of the score gate (a trained 3 x 256 OFQL actor). */
const OFQL_CKPT = join(packageRoot, 'eval', 'checkpoints', 'ofql-hopper-medium');

interface Row {
  name: string;
  workers: number | '-';
  batch: number | '-';
  envSteps: number;
  wall: number;
  rate: number;
  busy: number | null;
  /** Process CPU time (all threads) / wall: the cores the run actually got. */
  cores: number | null;
  policyShare: number | null;
  note?: string;
}

const log = (m: string): void => void process.stderr.write(`${m}\n`);

async function bareLoop(lengths: number[], actions: 'zero' | 'random'): Promise<{ steps: number; seconds: number }> {
  return bareLoopOnThread(lengths, actions, SEED);
}

interface Timed {
  cores: number | null;
  doc: EvalResultDocument;
  wall: number;
  busy: number;
  policyShare: number;
}

/** Warm-up: starts every worker, loads MuJoCo, builds envs and policy (same runner key as the timed runs). */
async function warm(pool: EvalPool, policy: PolicyUnderTest, batchSize: number): Promise<void> {
  await evaluate({ env: ENV, ...asPolicy(policy), episodes: Math.max(8, 4 * pool.workers), seed: SEED, workers: pool.workers, batchSize, pool });
}

/** A built-in or module path, or a prepared reference with its checkpoint. */
type PolicyUnderTest = string | { policy: PolicyRef; ckpt?: string };
const asPolicy = (p: PolicyUnderTest): { policy: string | PolicyRef; ckpt?: string } => (typeof p === 'string' ? { policy: p } : p);

const coresUsed = new WeakMap<EvalResultDocument, number>();

/** CPU seconds of the whole process (every thread) per wall second while `fn` runs. */
async function withCores<T>(fn: () => Promise<T>): Promise<{ value: T; cores: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await fn();
  const wall = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  return { value, cores: (c.user + c.system) / 1e6 / wall };
}

async function once(pool: EvalPool, policy: PolicyUnderTest, batchSize: number): Promise<EvalResultDocument> {
  const { value, cores } = await withCores(() =>
    evaluate({ env: ENV, ...asPolicy(policy), episodes: EPISODES, seed: SEED, workers: pool.workers, batchSize, pool }),
  );
  coresUsed.set(value, cores);
  return value;
}

function summarizeRuns(docs: EvalResultDocument[], workers: number): Timed {
  const walls = docs.map((d) => d.timing.wallSeconds);
  const wall = median(walls);
  const doc = docs[walls.indexOf(wall)] ?? docs[0];
  const t = doc.results[0].timing;
  return {
    doc,
    wall,
    busy: t.workerSeconds / (doc.timing.wallSeconds * workers),
    policyShare: t.policyShare,
    cores: coresUsed.get(doc) ?? null,
  };
}

async function timedEval(pool: EvalPool, policy: PolicyUnderTest, batchSize: number, reps = REPS): Promise<Timed> {
  await warm(pool, policy, batchSize);
  const docs: EvalResultDocument[] = [];
  for (let r = 0; r < reps; r++) docs.push(await once(pool, policy, batchSize));
  return summarizeRuns(docs, pool.workers);
}

function evalRow(name: string, workers: number, batch: number, r: Timed, note?: string): Row {
  const steps = r.doc.timing.envSteps;
  return { name, workers, batch, envSteps: steps, wall: r.wall, rate: steps / r.wall, busy: r.busy, cores: r.cores, policyShare: r.policyShare, note };
}

async function main(): Promise<void> {
  if (!existsSync(MLP)) throw new Error(`${MLP} missing: run 'npm run build' first`);
  const load0 = os.loadavg();
  const started = new Date();
  const rows: Row[] = [];
  const pools = new Map<number, EvalPool>();
  const pool = (w: number): EvalPool => {
    let p = pools.get(w);
    if (!p) pools.set(w, (p = new EvalPool(w)));
    return p;
  };

  const results: Record<string, { oneRate: number; bareRate: number }> = {};
  let twoThreadBare = NaN;
  for (const policy of ['zero', 'random'] as const) {
    // Interleaved repetitions (bare, 1 worker, 2 workers, bare, ...) so slow drifts of a shared
    // machine hit all three alike; medians are reported.
    log(`[bench] ${policy}: warm-up`);
    await warm(pool(1), policy, 8);
    await warm(pool(2), policy, 8);
    const lengths = (await once(pool(1), policy, 8)).results[0].lengths;
    await bareLoop(lengths, policy); // warm-up: one full replay (lets the WASM code tier up, as in the warm workers)
    const bare: number[] = [];
    const bareCores: number[] = [];
    let bareSteps = 0;
    const ones: EvalResultDocument[] = [];
    const twos: EvalResultDocument[] = [];
    for (let r = 0; r < REPS; r++) {
      log(`[bench] ${policy}: repetition ${r + 1}/${REPS} (bare loop, 1 worker, 2 workers)`);
      const { value: b, cores } = await withCores(() => bareLoop(lengths, policy));
      bareCores.push(cores);
      bare.push(b.seconds);
      bareSteps = b.steps;
      ones.push(await once(pool(1), policy, 8));
      twos.push(await once(pool(2), policy, 8));
    }
    const one = summarizeRuns(ones, 1);
    const two = summarizeRuns(twos, 2);
    const bareWall = median(bare);
    rows.push({
      name: `bare mj_step loop (${policy} ctrl), main thread`,
      workers: '-',
      batch: '-',
      envSteps: bareSteps,
      wall: bareWall,
      rate: bareSteps / bareWall,
      busy: null,
      cores: median(bareCores),
      policyShare: null,
    });
    rows.push(evalRow(`evaluate, ${policy} policy`, 1, 8, one));
    rows.push(evalRow(`evaluate, ${policy} policy`, 2, 8, two));
    if (policy === 'zero') {
      // The ceiling for 2 workers on this machine: 2 threads of bare physics at once.
      log('[bench] zero: bare loop in 2 threads at once');
      const par: { steps: number; seconds: number; cores: number }[] = [];
      for (let r = 0; r < Math.min(REPS, 3); r++) {
        const { value, cores } = await withCores(() => bareLoopThreads(2, lengths, 'zero', SEED));
        par.push({ ...value, cores });
      }
      const mid = par.map((p) => p.seconds);
      const m = par[mid.indexOf(median(mid))] ?? par[0];
      rows.push({
        name: 'bare mj_step loop (zero ctrl), 2 threads at once, each all episodes',
        workers: 2,
        batch: '-',
        envSteps: m.steps,
        wall: m.seconds,
        rate: m.steps / m.seconds,
        busy: null,
        cores: m.cores,
        policyShare: null,
      });
      twoThreadBare = m.steps / m.seconds;
    }
    if (JSON.stringify(two.doc.results[0].returns) !== JSON.stringify(one.doc.results[0].returns)) {
      throw new Error('1 and 2 workers gave different returns');
    }
    if (bareSteps !== one.doc.timing.envSteps) throw new Error('the bare loop did not replay the same number of steps');
    results[policy] = { oneRate: one.doc.timing.envSteps / one.wall, bareRate: bareSteps / bareWall };
  }
  for (const b of [1, 16]) {
    log(`[bench] zero: batch ${b}`);
    rows.push(evalRow('evaluate, zero policy (batch sweep)', 1, b, await timedEval(pool(1), 'zero', b)));
  }
  // Cold: a fresh pool per run (worker start-up, WASM compile, model compile included), like the CLI.
  {
    log('[bench] zero: cold start, 2 workers');
    const t0 = performance.now();
    const { value: doc, cores } = await withCores(() => evaluate({ env: ENV, policy: 'zero', episodes: EPISODES, seed: SEED, workers: 2 }));
    const wall = (performance.now() - t0) / 1000;
    rows.push({
      name: 'evaluate, zero policy, cold (fresh workers, as the CLI)',
      workers: 2,
      batch: 8,
      envSteps: doc.timing.envSteps,
      wall,
      rate: doc.timing.envSteps / wall,
      busy: doc.results[0].timing.workerSeconds / (wall * 2),
      cores,
      policyShare: doc.results[0].timing.policyShare,
    });
  }
  for (const [w, b] of [[1, 1], [1, 8], [1, 16], [2, 8]] as const) {
    log(`[bench] MLP 3x256: ${w} worker(s), batch ${b}`);
    rows.push(evalRow('evaluate, MLP 3x256 policy (plain JS)', w, b, await timedEval(pool(w), MLP, b, Math.min(REPS, 2))));
  }
  // OFQL's one-step actor: onnxruntime (the default backend) vs TF.js wasm, and the same actor as an exported ONNX file.
  const onnxFile = join(os.tmpdir(), `ofql-bench-${process.pid}.onnx`);
  await exportOfqlOnnx({ ckpt: OFQL_CKPT, out: onnxFile });
  const ofqlRuns: Array<[string, PolicyUnderTest, number]> = [
    ['evaluate, OFQL checkpoint, one-step, backend onnx (default)', { policy: ofqlPolicyRef({ backend: 'onnx' }), ckpt: OFQL_CKPT }, 1],
    ['evaluate, OFQL checkpoint, one-step, backend onnx (default)', { policy: ofqlPolicyRef({ backend: 'onnx' }), ckpt: OFQL_CKPT }, 2],
    ['evaluate, OFQL checkpoint, one-step, backend wasm (TF.js)', { policy: ofqlPolicyRef({ backend: 'wasm' }), ckpt: OFQL_CKPT }, 1],
    ['evaluate, ONNX policy file (the exported OFQL actor)', { policy: (await preparePolicy({ policy: onnxFile, env: [ENV] })).ref }, 1],
  ];
  for (const [name, policy, w] of ofqlRuns) {
    log(`[bench] ${name}: ${w} worker(s), batch 8`);
    rows.push(evalRow(name, w, 8, await timedEval(pool(w), policy, 8, Math.min(REPS, 2))));
  }
  const { rmSync } = await import('node:fs');
  rmSync(onnxFile, { force: true });
  // Per-chunk hand-out cost: 400 one-step episodes, one episode per chunk (batch 1), 1 worker.
  log('[bench] per-chunk overhead');
  const overheadOpts = { env: ENV, policy: 'zero', episodes: 400, seed: SEED, workers: 1, batchSize: 1, maxEpisodeSteps: 1, pool: pool(1) };
  await evaluate(overheadOpts);
  const overheads: number[] = [];
  for (let r = 0; r < REPS; r++) {
    const d = await evaluate(overheadOpts);
    overheads.push((1000 * (d.timing.wallSeconds - d.results[0].timing.workerSeconds)) / 400);
  }
  const chunkOverheadMs = median(overheads);
  for (const p of pools.values()) await p.destroy();

  const mj = await loadMujoco();
  const one = rows.find((r) => r.name === 'evaluate, zero policy' && r.workers === 1)!;
  const two = rows.find((r) => r.name === 'evaluate, zero policy' && r.workers === 2)!;
  const oneR = rows.find((r) => r.name === 'evaluate, random policy' && r.workers === 1)!;
  const twoR = rows.find((r) => r.name === 'evaluate, random policy' && r.workers === 2)!;
  const ratios = {
    zeroVsBare: results.zero.oneRate / results.zero.bareRate,
    zeroTwoVsOne: two.rate / one.rate,
    randomVsBare: results.random.oneRate / results.random.bareRate,
    randomTwoVsOne: twoR.rate / oneR.rate,
  };
  // An OFQL checkpoint's evaluation against the zero policy's on one worker (goal >= 0.85: the policy's share <= 15 %).
  const ofqlOne = rows.find((r) => r.name.startsWith('evaluate, OFQL checkpoint, one-step, backend onnx (default)') && r.workers === 1)!;
  const ofqlWasm = rows.find((r) => r.name.startsWith('evaluate, OFQL checkpoint, one-step, backend wasm'))!;
  const load1 = os.loadavg();
  const fmt = (x: number, d = 0): string => x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
  const table = [
    '| run | workers | batch | env steps | wall s | env steps/s | x bare | x 1 worker | worker busy | CPU cores used | policy share |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map((r) => {
      const bare = r.name.includes('random') ? results.random.bareRate : results.zero.bareRate;
      const base = rows.find((x) => x.name === r.name && x.workers === 1 && x.batch === r.batch);
      return `| ${r.name} | ${r.workers} | ${r.batch} | ${fmt(r.envSteps)} | ${fmt(r.wall, 2)} | ${fmt(r.rate)} | ${
        r.workers === '-' ? '1.00' : fmt(r.rate / bare, 2)
      } | ${typeof r.workers === 'number' && r.workers > 1 && base ? fmt(r.rate / base.rate, 2) : ''} | ${
        r.busy === null ? '' : `${fmt(100 * r.busy, 0)}%`
      } | ${r.cores === null ? '' : fmt(r.cores, 2)} | ${r.policyShare === null ? '' : `${fmt(100 * r.policyShare, 1)}%`} |`;
    }),
  ].join('\n');
  const cpus = os.cpus();
  const text = [
    SECTION,
    '',
    `Measured ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC by \`npm run bench:eval\` (scripts/bench-eval.ts): ` +
      `${EPISODES} episodes of ${ENV}, seed ${SEED}, median of ${REPS} timed runs on warm pools (MLP rows: ${Math.min(REPS, 2)}), bare loop and 1 / 2 workers interleaved.`,
    `Machine: ${cpus[0]?.model ?? 'unknown CPU'}, ${os.availableParallelism()} cores available, ${fmt(os.totalmem() / 2 ** 30, 0)} GiB, ` +
      `Node ${process.version}, MuJoCo ${mujocoVersion(mj)} (@mujoco/mujoco WASM), ${os.platform()} ${os.arch()}. ` +
      `Load average at start / end: ${load0.map((x) => x.toFixed(2)).join(' ')} / ${load1.map((x) => x.toFixed(2)).join(' ')}.`,
    '',
    table,
    '',
    `- One worker vs the bare physics loop: **${ratios.zeroVsBare.toFixed(2)}x** (zero policy, identical trajectories; goal >= 0.85), ` +
      `${ratios.randomVsBare.toFixed(2)}x (random policy, ~22-step episodes: resets and episode starts weigh more).`,
    `- Two workers vs one: **${ratios.zeroTwoVsOne.toFixed(2)}x** (zero), ${ratios.randomTwoVsOne.toFixed(2)}x (random) (goal >= 1.8). ` +
      `For scale: two threads of bare physics at once reach ${(twoThreadBare / results.zero.bareRate).toFixed(2)}x one bare thread on this machine, ` +
      `and 2 evaluation workers reach ${(two.rate / twoThreadBare).toFixed(2)}x of that two-thread physics rate.`,
    `- An OFQL checkpoint (one-step sampler, onnx backend) vs the zero policy, 1 worker: **${(ofqlOne.rate / one.rate).toFixed(2)}x** the env steps/s ` +
      `(goal >= 0.85; policy share ${(100 * (ofqlOne.policyShare ?? NaN)).toFixed(1)} %); on TF.js wasm ${(ofqlWasm.rate / one.rate).toFixed(2)}x ` +
      `(policy share ${(100 * (ofqlWasm.policyShare ?? NaN)).toFixed(1)} %). The checkpoint's episodes differ from the zero policy's (longer, other states), so env steps/s are compared.`,
    `- Hand-out cost per chunk (one Piscina task: message to the worker, reply, scheduling): **${chunkOverheadMs.toFixed(2)} ms** ` +
      '(400 one-step episodes in chunks of 1 on one worker: (wall - worker busy time) / 400). A 150-episode run has 26 chunks of <= 8 episodes.',
    '- "CPU cores used": CPU time of the whole process (all threads) / wall time. Two workers can only reach 2x if the ' +
      'run actually gets two cores; on a shared machine this column shows how much it got.',
    '- "x bare": env steps/s relative to the bare loop of the same action kind. "worker busy": time the workers spent inside ' +
      'chunks / (wall x workers), i.e. what hand-out, messaging and the end-of-run tail cost. "policy share": time inside ' +
      'policy.act / worker time.',
    '- Bare loop: mj_resetData, the env\'s reset noise, mj_forward, then per env step ctrl + 4 x mj_step, nothing else ' +
      '(no observation, reward, termination check or threads), replaying the evaluation\'s episodes exactly: same reset seeds, ' +
      'same lengths, same actions (zeros, or the built-in random policy\'s actions for each (episode, step)), hence the same trajectories.',
    '- The cold row starts fresh workers (each compiles the MuJoCo WASM module and the model) as every CLI run does.',
    '- Numbers from a shared machine are only as good as its load average; rerun on an idle machine for publication.',
    '',
  ].join('\n');
  process.stdout.write(`${text}\n`);
  if (!args['no-write']) {
    replaceSection(resolve(args.out), text, SECTION);
    log(`[bench] wrote the section to ${args.out}`);
  }
}

await main();
