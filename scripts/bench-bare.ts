/**
 * The bare physics loop of `npm run bench:eval`: replay episodes (reset noise from the same
 * seeds as the evaluation, same lengths) with nothing but MuJoCo calls. Runs on the calling
 * thread (`bareLoop`), or in N worker threads at once (`bareLoopThreads`) to measure what N
 * threads of pure physics reach on this machine (the ceiling for N evaluation workers).
 */
import { performance } from 'node:perf_hooks';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { HOPPER } from '../envs/hopper.js';
import { assetPath, compileModelFile, loadMujoco } from '../src/mujoco/bridge.js';
import { createRandomPolicy } from '../src/policy/builtin.js';
import { Rng, deriveSeed } from '../src/rng.js';

export type BareActions = 'zero' | 'random';

export async function bareLoop(
  lengths: readonly number[],
  actions: BareActions,
  seed: number,
): Promise<{ steps: number; seconds: number }> {
  const mj = await loadMujoco();
  const model = await compileModelFile(assetPath(HOPPER.modelFile));
  const data = new mj.MjData(model);
  const frameSkip = HOPPER.frameSkip;
  const s = HOPPER.resetNoiseScale;
  const rng = new Rng(0);
  // 'random': the built-in random policy's own actions (seeded per episode and step), so the
  // bare loop replays exactly the evaluation's trajectories.
  const random = createRandomPolicy({ envId: 'hopper-medium-v2', observationSize: HOPPER.observationSize, actionSize: model.nu });
  const noObs = new Float64Array(HOPPER.observationSize);
  const ctx = { episodeIds: new Int32Array(1), episodeSeeds: new Float64Array(1), steps: new Int32Array(1) };
  const qpos0 = Float64Array.from(data.qpos);
  let steps = 0;
  const t0 = performance.now();
  for (let i = 0; i < lengths.length; i++) {
    mj.mj_resetData(model, data);
    const episodeSeed = deriveSeed(seed, i);
    rng.seed(episodeSeed);
    ctx.episodeIds[0] = i;
    ctx.episodeSeeds[0] = episodeSeed;
    const qpos = data.qpos;
    const qvel = data.qvel;
    for (let k = 0; k < qpos.length; k++) qpos[k] = qpos0[k] + rng.uniform(-s, s);
    for (let k = 0; k < qvel.length; k++) qvel[k] = rng.uniform(-s, s);
    mj.mj_forward(model, data);
    const ctrl = data.ctrl;
    for (let t = 0; t < lengths[i]; t++) {
      if (actions === 'random') {
        ctx.steps[0] = t;
        const a = random.act(noObs, 1, ctx) as Float64Array;
        for (let k = 0; k < ctrl.length; k++) ctrl[k] = a[k];
      }
      for (let f = 0; f < frameSkip; f++) mj.mj_step(model, data);
      steps++;
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  data.delete();
  return { steps, seconds };
}

interface BareJob {
  lengths: number[];
  actions: BareActions;
  seed: number;
}

/**
 * `threads` threads each replay all `lengths` at the same time (after a warm-up replay);
 * returns the aggregate rate: threads x steps / (time until the last one finished).
 */
export async function bareLoopThreads(
  threads: number,
  lengths: number[],
  actions: BareActions,
  seed: number,
): Promise<{ steps: number; seconds: number }> {
  const workers = Array.from({ length: threads }, () => new Worker(new URL(import.meta.url), { workerData: { lengths, actions, seed } satisfies BareJob }));
  try {
    // Each worker warms up, says 'ready', then waits for 'go'.
    await Promise.all(workers.map((w) => new Promise<void>((res, rej) => {
      w.once('message', () => res());
      w.once('error', rej);
    })));
    const t0 = performance.now();
    const done = workers.map((w) => new Promise<number>((res, rej) => {
      w.once('message', (m: { steps: number }) => res(m.steps));
      w.once('error', rej);
    }));
    for (const w of workers) w.postMessage('go');
    const steps = (await Promise.all(done)).reduce((a, b) => a + b, 0);
    return { steps, seconds: (performance.now() - t0) / 1000 };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

if (!isMainThread && parentPort && (workerData as BareJob | undefined)?.lengths) {
  const job = workerData as BareJob;
  const port = parentPort;
  await bareLoop(job.lengths, job.actions, job.seed); // warm-up: one full replay
  port.once('message', () => {
    void bareLoop(job.lengths, job.actions, job.seed).then((r) => port.postMessage({ steps: r.steps }));
  });
  port.postMessage('ready');
}
