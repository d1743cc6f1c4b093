/**
 * Piscina worker for behaviour-policy work (compiled to dist/src/behaviour/rollout-worker.js):
 * - `ars`: ARS rollouts of a linear policy (src/behaviour/rollout.ts);
 * - `collect`: whole episodes with every step kept (src/behaviour/collect-episodes.ts).
 * Environments and loaded policies are cached per thread for the thread's lifetime.
 */
import type { LocomotionEnv } from '../../envs/locomotion-env.js';
import { makeEnv } from '../make-env.js';
import { CollectRunner, type CollectConfig, type EpisodeData } from './collect-episodes.js';
import type { LinearParams } from './linear.js';
import { runRollouts, type RolloutOutcome, type RolloutSettings, type RolloutSpec } from './rollout.js';

export interface ArsTask {
  kind: 'ars';
  envId: string;
  maxEpisodeSteps: number;
  base: LinearParams;
  specs: RolloutSpec[];
  settings: RolloutSettings;
}

export interface CollectTask {
  kind: 'collect';
  config: CollectConfig;
  episodes: number[];
}

export type BehaviourTask = ArsTask | CollectTask;

const envs = new Map<string, Promise<LocomotionEnv>>();
/** The one collect runner kept alive (its envs hold MuJoCo memory: one set per thread at a time). */
let current: { key: string; runner: Promise<CollectRunner> } | undefined;

function envFor(envId: string, maxEpisodeSteps: number): Promise<LocomotionEnv> {
  const key = `${envId}/${maxEpisodeSteps}`;
  let p = envs.get(key);
  if (!p) {
    p = makeEnv(envId, { maxEpisodeSteps });
    envs.set(key, p);
    p.catch(() => envs.delete(key));
  }
  return p;
}

/**
 * The runner for (env, horizon, batch, policy, ckpt, seed); the noise settings vary per task. A
 * different key closes the previous runner first (its envs and policy), so that a long session
 * going through many policies (make-datasets: one per replay checkpoint) does not pile up MuJoCo
 * memory in the 2 GiB WASM heap. Tasks run one at a time per thread, so nothing is in use then.
 */
async function collectorFor(config: CollectConfig): Promise<CollectRunner> {
  const key = JSON.stringify({ ...config, actionNoise: 0, epsilon: 0 });
  if (current?.key === key) return current.runner;
  const old = current;
  current = undefined;
  if (old) {
    try {
      await (await old.runner).close();
    } catch {
      // a runner that failed to build has nothing to close
    }
  }
  const p = CollectRunner.create(config);
  current = { key, runner: p };
  p.catch(() => {
    if (current?.runner === p) current = undefined;
  });
  return p;
}

export default async function run(task: BehaviourTask): Promise<RolloutOutcome[] | EpisodeData[]> {
  if (task.kind === 'ars') {
    const env = await envFor(task.envId, task.maxEpisodeSteps);
    return runRollouts(env, task.base, task.specs, task.settings);
  }
  if (task.kind === 'collect') {
    const runner = await collectorFor(task.config);
    return runner.run(task.episodes, { actionNoise: task.config.actionNoise, epsilon: task.config.epsilon });
  }
  throw new Error(`unknown task kind ${(task as { kind: unknown }).kind as string}`);
}
