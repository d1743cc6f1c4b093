/**
 * B environments of one id, the policy loaded for their widths, and the one batched rollout loop
 * over them (src/batched-rollout.ts): what the evaluation runner (eval/runner.ts) and the dataset
 * collector (src/behaviour/collect-episodes.ts) start from. They differ only in their hooks.
 */
import type { LocomotionEnv } from '../envs/locomotion-env.js';
import { VectorEnv } from '../envs/vector-env.js';
import { BatchedRollout } from './batched-rollout.js';
import { policyLabel, type EnvsWithPolicyConfig } from './policy/load.js';
import type { Policy } from './policy/types.js';

export abstract class LoadedRollout<C extends EnvsWithPolicyConfig> {
  readonly config: C;
  readonly policy: Policy;
  readonly policyName: string;
  readonly observationSize: number;
  readonly actionSize: number;

  protected readonly vec: VectorEnv;
  protected readonly loop: BatchedRollout;

  /** `envs` and `policy` as makeEnvsWithPolicy(config) built them. */
  protected constructor(config: C, envs: LocomotionEnv[], policy: Policy) {
    this.config = config;
    this.policy = policy;
    this.policyName = policyLabel(config.policy);
    this.vec = new VectorEnv(envs);
    this.observationSize = this.vec.observationSize;
    this.actionSize = this.vec.actionSize;
    this.loop = new BatchedRollout(this.vec, policy, {
      policyName: this.policyName,
      envId: config.envId,
      policyTimeoutMs: config.policyTimeoutMs,
    });
  }

  async close(): Promise<void> {
    this.vec.close();
    await this.policy.close?.();
  }
}
