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
import { runRollout, type RolloutOutcome, type RolloutSettings, type RolloutSpec } from './rollout.js';

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
const collectors = new Map<string, Promise<CollectRunner>>();

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

/** Runners are kept per (env, horizon, batch, policy, ckpt, seed): the noise settings vary per task. */
function collectorFor(config: CollectConfig): Promise<CollectRunner> {
  const key = JSON.stringify({ ...config, actionNoise: 0, epsilon: 0 });
  let p = collectors.get(key);
  if (!p) {
    p = CollectRunner.create(config);
    collectors.set(key, p);
    p.catch(() => collectors.delete(key));
  }
  return p;
}

export default async function run(task: BehaviourTask): Promise<RolloutOutcome[] | EpisodeData[]> {
  if (task.kind === 'ars') {
    const env = await envFor(task.envId, task.maxEpisodeSteps);
    return task.specs.map((spec) => runRollout(env, task.base, spec, task.settings));
  }
  if (task.kind === 'collect') {
    const runner = await collectorFor(task.config);
    return runner.run(task.episodes, { actionNoise: task.config.actionNoise, epsilon: task.config.epsilon });
  }
  throw new Error(`unknown task kind ${(task as { kind: unknown }).kind as string}`);
}
