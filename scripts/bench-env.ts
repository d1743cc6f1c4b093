/**
 * Environment stepping benchmark: `npm run bench:env -- [--steps 20000] [--rounds 3]
 * [--out docs/benchmarks.md]`.
 *
 * For each of the four envs, in one process and on the one compiled model:
 *   (a) bare:       write ctrl, `mj_step` x frameSkip, nothing else (the physics floor);
 *   (b) stepInto:   our env through the allocation-free `stepInto`;
 *   (c) step():     our env through the allocating `step()`;
 *   (d) vector x8:  the batched rollout loop (src/batched-rollout.ts) over a `VectorEnv` of 8
 *                   copies, one act call per batched step.
 * All four run the same fixed action and the same episodes: a preparatory pass records, for a
 * fixed sequence of seeds, each episode's reset state and length; (a) resets to exactly those
 * states and cuts episodes at exactly those lengths, so every variant integrates the same
 * trajectories (same contacts, same physics cost). After a warm-up, each of `rounds` rounds runs
 * `steps` env steps per variant, interleaved in chunks of `chunk` steps (a b c d a b c d ...) so
 * that background load falls on all variants alike; the median round rate is reported.
 */
import os from 'node:os';
import { resolve } from 'node:path';
import { deriveSeed, loadMujoco, makeEnv, makeVectorEnv, mujocoPackageVersion, mujocoVersion } from '../src/index.js';
import { type MainModule, type MjModel, assetPath, compileModelFile } from '../src/mujoco/bridge.js';
import { BatchedRollout } from '../src/batched-rollout.js';
import type { VectorEnv } from '../envs/vector-env.js';
import { median, replaceSection } from './bench-report.js';
import { exitOnHelp, intFlag, machineLine, parseFlags, usageFail, type UsageFail } from './script-args.js';

type LocomotionEnv = Awaited<ReturnType<typeof makeEnv>>;

const ENVS: ReadonlyArray<{ id: string; modelFile: string }> = [
  { id: 'HalfCheetah-v3', modelFile: 'half_cheetah.xml' },
  { id: 'Hopper-v3', modelFile: 'hopper.xml' },
  { id: 'Walker2d-v3', modelFile: 'walker2d.xml' },
  { id: 'Ant-v3', modelFile: 'ant.xml' },
];
const VECTOR_SIZE = 8;
const SECTION_TITLE = '## Environment stepping (npm run bench:env)';
const SEED_BASE = 12345;

interface Options {
  steps: number;
  rounds: number;
  chunk: number;
  out: string | null;
}

const USAGE = 'usage: npm run bench:env -- [--steps 20000] [--rounds 3] [--chunk 500] [--out docs/benchmarks.md]\n';
const usageError: UsageFail = usageFail('bench-env', USAGE);

function parseOptions(argv: string[]): Options {
  const values = parseFlags(argv, { steps: { type: 'string' }, rounds: { type: 'string' }, chunk: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean' } }, usageError);
  exitOnHelp(values, USAGE);
  return {
    steps: intFlag(values.steps, 'steps', 20000, 100, usageError),
    rounds: intFlag(values.rounds, 'rounds', 3, 1, usageError),
    chunk: intFlag(values.chunk, 'chunk', 500, 1, usageError),
    out: typeof values.out === 'string' ? resolve(values.out) : null,
  };
}

/** The fixed "trivial policy": small alternating torques. */
function fixedAction(n: number): Float64Array {
  return Float64Array.from({ length: n }, (_, j) => (j % 2 === 0 ? 0.1 : -0.1));
}

interface Episode {
  seed: number;
  qpos: Float64Array;
  qvel: Float64Array;
  length: number;
}

/** Episodes (seed, reset state, length) covering at least `steps` env steps with the fixed action. */
function planEpisodes(env: LocomotionEnv, action: Float64Array, steps: number): Episode[] {
  const obs = new Float64Array(env.observationSize);
  const eps: Episode[] = [];
  let total = 0;
  for (let k = 0; total < steps; k++) {
    const seed = deriveSeed(SEED_BASE, k);
    env.reset(seed);
    const { qpos, qvel } = env.getState();
    let len = 0;
    for (;;) {
      const r = env.stepInto(action, 0, obs, 0);
      len++;
      if (r.terminated || r.truncated) break;
    }
    eps.push({ seed, qpos, qvel, length: len });
    total += len;
  }
  return eps;
}

/**
 * Advances its variant by about `steps` env steps and returns how many it took (a vector env
 * may overshoot by up to numEnvs - 1). Runners keep their place between calls: episodes run on
 * across chunks, so chunking does not add resets.
 */
type Runner = (steps: number) => number;

/** (a) the bare MuJoCo loop, on its own MjData, replaying the planned episodes. */
function bareRunner(mj: MainModule, model: MjModel, frameSkip: number, action: Float64Array, eps: Episode[]): Runner {
  const data = new mj.MjData(model);
  let qpos: Float64Array = data.qpos;
  let qvel: Float64Array = data.qvel;
  let ctrl: Float64Array = data.ctrl;
  const nu = action.length;
  let e = -1;
  let pos = 0;
  let len = 0;
  return (steps) => {
    let done = 0;
    while (done < steps) {
      if (pos >= len) {
        e = (e + 1) % eps.length;
        const ep = eps[e];
        mj.mj_resetData(model, data);
        if (qpos.length === 0) {
          qpos = data.qpos;
          qvel = data.qvel;
          ctrl = data.ctrl;
        }
        qpos.set(ep.qpos);
        qvel.set(ep.qvel);
        mj.mj_forward(model, data);
        pos = 0;
        len = ep.length;
      }
      const n = Math.min(len - pos, steps - done);
      for (let s = 0; s < n; s++) {
        for (let j = 0; j < nu; j++) ctrl[j] = action[j];
        for (let k = 0; k < frameSkip; k++) mj.mj_step(model, data);
      }
      pos += n;
      done += n;
    }
    return done;
  };
}

/**
 * (b) and (c): our env replaying the planned seeds, one `stepOnce` call per env step (stepInto or
 * the allocating step()); a new episode starts where the last one ended.
 */
function seededEnvRunner(env: LocomotionEnv, eps: Episode[], stepOnce: () => { terminated: boolean; truncated: boolean }): Runner {
  let e = -1;
  let ended = true;
  return (steps) => {
    let done = 0;
    while (done < steps) {
      if (ended) {
        e = (e + 1) % eps.length;
        env.reset(eps[e].seed);
        ended = false;
      }
      const r = stepOnce();
      done++;
      ended = r.terminated || r.truncated;
    }
    return done;
  };
}

/** (b) our env through stepInto. */
function stepIntoRunner(env: LocomotionEnv, action: Float64Array, eps: Episode[]): Runner {
  const obs = new Float64Array(env.observationSize);
  return seededEnvRunner(env, eps, () => env.stepInto(action, 0, obs, 0));
}

/** (c) our env through the allocating step(). */
function stepRunner(env: LocomotionEnv, action: Float64Array, eps: Episode[]): Runner {
  return seededEnvRunner(env, eps, () => env.step(action));
}

/**
 * (d) the batched rollout loop over a VectorEnv of 8, as evaluation and collection run it, with a
 * policy that always answers the fixed action; finished slots restart with the next planned seed.
 */
function vectorRunner(vec: VectorEnv, action: Float64Array, eps: Episode[]): Runner {
  const actions = new Float64Array(vec.numEnvs * vec.actionSize);
  for (let i = 0; i < vec.numEnvs; i++) actions.set(action, i * vec.actionSize);
  // act() must answer exactly n rows: one view per batch size.
  const views = Array.from({ length: vec.numEnvs + 1 }, (_, n) => actions.subarray(0, n * vec.actionSize));
  const loop = new BatchedRollout(vec, { act: (_obs, n) => views[n] }, { policyName: 'fixed action' });
  loop.begin({ count: Infinity, index: (k) => k, seed: (k) => eps[k % eps.length].seed });
  return (steps) => {
    const start = loop.counts.envSteps;
    while (loop.counts.envSteps - start < steps) {
      if (!loop.stepSync()) break;
    }
    return loop.counts.envSteps - start;
  };
}

interface Row {
  env: string;
  frameSkip: number;
  meanEpisodeLength: number;
  /** env steps per wall-clock second, one entry per round */
  rates: Record<VariantKey, number[]>;
  /** env steps per second of process CPU time (user + system), one entry per round */
  cpuRates: Record<VariantKey, number[]>;
  /** rate / bare rate within each a-b-c-d cycle of chunks (wall clock), all rounds */
  pairedRatios: Record<VariantKey, number[]>;
}
type VariantKey = 'bare' | 'stepInto' | 'step' | 'vector';
const VARIANTS: ReadonlyArray<{ key: VariantKey; label: string }> = [
  { key: 'bare', label: '(a) bare mj_step loop' },
  { key: 'stepInto', label: '(b) env.stepInto' },
  { key: 'step', label: '(c) env.step()' },
  { key: 'vector', label: `(d) VectorEnv x${VECTOR_SIZE}` },
];

async function benchEnv(mj: MainModule, id: string, modelFile: string, opts: Options): Promise<Row> {
  const model = await compileModelFile(assetPath(modelFile)); // the cached model makeEnv uses too
  const env = await makeEnv(id);
  const envStep = await makeEnv(id);
  const vec = await makeVectorEnv(id, VECTOR_SIZE);
  const frameSkip = env.frameSkip;
  const action = fixedAction(env.actionSize);
  const eps = planEpisodes(env, action, opts.steps);
  const meanEpisodeLength = eps.reduce((s, e) => s + e.length, 0) / eps.length;

  const runners: Record<VariantKey, Runner> = {
    bare: bareRunner(mj, model, frameSkip, action, eps),
    stepInto: stepIntoRunner(env, action, eps),
    step: stepRunner(envStep, action, eps),
    vector: vectorRunner(vec, action, eps),
  };
  const warm = Math.min(opts.steps, 3000);
  for (const v of VARIANTS) runners[v.key](warm);

  // Rounds of `steps` env steps per variant, interleaved in chunks (a b c d a b c d ...) so
  // that load from other processes falls on every variant alike.
  const rates: Record<VariantKey, number[]> = { bare: [], stepInto: [], step: [], vector: [] };
  const cpuRates: Record<VariantKey, number[]> = { bare: [], stepInto: [], step: [], vector: [] };
  const pairedRatios: Record<VariantKey, number[]> = { bare: [], stepInto: [], step: [], vector: [] };
  for (let r = 0; r < opts.rounds; r++) {
    const wallNs: Record<VariantKey, number> = { bare: 0, stepInto: 0, step: 0, vector: 0 };
    const cpuUs: Record<VariantKey, number> = { bare: 0, stepInto: 0, step: 0, vector: 0 };
    const count: Record<VariantKey, number> = { bare: 0, stepInto: 0, step: 0, vector: 0 };
    while (VARIANTS.some((v) => count[v.key] < opts.steps)) {
      const cycle: Partial<Record<VariantKey, number>> = {};
      for (const v of VARIANTS) {
        const want = Math.min(opts.chunk, opts.steps - count[v.key]);
        if (want <= 0) continue;
        const c0 = process.cpuUsage();
        const t0 = process.hrtime.bigint();
        const took = runners[v.key](want);
        const ns = Number(process.hrtime.bigint() - t0);
        const c = process.cpuUsage(c0);
        count[v.key] += took;
        wallNs[v.key] += ns;
        cpuUs[v.key] += c.user + c.system;
        cycle[v.key] = took / ns;
      }
      // Paired ratio within one cycle (a b c d run back to back, so they share the machine's state).
      const bare = cycle.bare;
      if (bare !== undefined) {
        for (const v of VARIANTS) {
          const x = cycle[v.key];
          if (x !== undefined) pairedRatios[v.key].push(x / bare);
        }
      }
    }
    for (const v of VARIANTS) {
      rates[v.key].push(count[v.key] / (wallNs[v.key] / 1e9));
      cpuRates[v.key].push(count[v.key] / (cpuUs[v.key] / 1e6));
    }
  }
  env.close();
  envStep.close();
  vec.close();
  return { env: id, frameSkip, meanEpisodeLength, rates, cpuRates, pairedRatios };
}

function fmtInt(x: number): string {
  return Math.round(x).toLocaleString('en-US');
}

function renderTable(rows: Row[]): string {
  const L: string[] = [];
  L.push(
    '| env | frame skip | mean episode length | variant | env steps/s (wall) | physics steps/s (wall) | ours / bare (wall) | ' +
      'ours / bare (paired chunks, wall) | env steps/s (CPU time) | ours / bare (CPU time) | spread of rounds (wall) |',
  );
  L.push('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const row of rows) {
    const bare = median(row.rates.bare);
    const bareCpu = median(row.cpuRates.bare);
    for (const v of VARIANTS) {
      const xs = row.rates[v.key];
      const m = median(xs);
      const mc = median(row.cpuRates[v.key]);
      const spread = `${fmtInt(Math.min(...xs))} – ${fmtInt(Math.max(...xs))}`;
      L.push(
        `| ${row.env} | ${row.frameSkip} | ${row.meanEpisodeLength.toFixed(0)} | ${v.label} | ${fmtInt(m)} | ${fmtInt(m * row.frameSkip)} | ` +
          `${(m / bare).toFixed(2)} | ${median(row.pairedRatios[v.key]).toFixed(2)} | ${fmtInt(mc)} | ${(mc / bareCpu).toFixed(2)} | ${spread} |`,
      );
    }
  }
  return L.join('\n');
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const mj = await loadMujoco();
  const t0 = performance.now();
  const loadBefore = os.loadavg()[0];
  const rows: Row[] = [];
  for (const { id, modelFile } of ENVS) {
    process.stderr.write(`bench-env: ${id} ... `);
    const row = await benchEnv(mj, id, modelFile, opts);
    process.stderr.write(
      `bare ${fmtInt(median(row.rates.bare))}, stepInto ${fmtInt(median(row.rates.stepInto))} env steps/s (wall); ` +
        `stepInto / bare ${(median(row.rates.stepInto) / median(row.rates.bare)).toFixed(2)} wall, ` +
        `${median(row.pairedRatios.stepInto).toFixed(2)} paired, ` +
        `${(median(row.cpuRates.stepInto) / median(row.cpuRates.bare)).toFixed(2)} CPU time\n`,
    );
    rows.push(row);
  }
  const wall = (performance.now() - t0) / 1000;
  const loadAfter = os.loadavg()[0];
  const cpus = os.cpus();
  const machine = machineLine(cpus);
  const body = [
    `Machine: ${machine}; Node ${process.version}; MuJoCo ${mujocoVersion(mj)} (\`@mujoco/mujoco\` ${mujocoPackageVersion()}, WASM). Date: ${new Date().toISOString()}.`,
    '',
    `One process, one thread, all variants on the same compiled model. After a warm-up, each of ${opts.rounds} rounds runs ` +
      `${fmtInt(opts.steps)} env steps per variant, interleaved in chunks of ${fmtInt(opts.chunk)} steps (a b c d a b c d ...) so that ` +
      'load from other processes falls on all variants alike; the median round is reported. ' +
      'Action: a fixed vector of ±0.1. Every variant integrates the same episodes: the bare loop resets to the exact reset ' +
      'states of the env (seeds `deriveSeed(12345, k)`) and ends episodes where the env terminated/truncated them, so the ' +
      'physics work is identical. Physics steps/s = env steps/s x frame skip. "ours / bare" is the median env-step rate over ' +
      'the bare loop\'s, on wall-clock time and on this process\'s CPU time (user + system, `process.cpuUsage`; ' +
      'less sensitive to other processes on a shared machine); "paired chunks" is the median, over every a-b-c-d cycle of ' +
      'chunks, of the variant\'s rate over the bare rate in the same cycle (the most robust of the three to background ' +
      'load). (d) counts env steps summed over the 8 copies, stepped by the batched rollout loop (one policy call per batched step).',
    '',
    renderTable(rows),
    '',
    `Total wall time ${wall.toFixed(1)} s. System load average (1 min) ${loadBefore.toFixed(2)} at the start, ` +
      `${loadAfter.toFixed(2)} at the end, on ${cpus.length} cores` +
      (Math.max(loadBefore, loadAfter) > cpus.length * 0.75
        ? ': the machine was shared with other work, so absolute wall-clock rates are depressed and noisy; the ' +
          'paired-chunk and CPU-time ratios are the figures to compare.'
        : '.'),
  ].join('\n');
  process.stdout.write(`${SECTION_TITLE}\n\n${body}\n`);
  if (opts.out) {
    replaceSection(opts.out, `${SECTION_TITLE}\n\n${body.trimEnd()}\n`, SECTION_TITLE);
    process.stderr.write(`bench-env: wrote section "${SECTION_TITLE.slice(3)}" of ${opts.out}\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench-env: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
