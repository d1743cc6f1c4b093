/**
 * Policy plug-in for linear policies saved as JSON (format `ofql-eval/linear-policy`, written by
 * scripts/train-behaviour.ts; see docs/behaviour-policies.md):
 *
 *     ofql-eval --env hopper-medium-v2 --policy dist/src/behaviour/linear-policy.js \
 *       --ckpt eval/behaviour/hopper-expert.json
 *
 * a = clip(M (s - mu) / sigma, -1, 1), deterministic, row-wise (batching does not matter).
 */
import { getEnvEntry } from '../registry.js';
import type { Policy, PolicySpec } from '../policy/types.js';
import { LinearActor, paramsFromFile, readLinearPolicyFile, type LinearPolicyFile } from './linear.js';

/** Build the policy from a parsed file, checking it fits `spec`'s env. */
export function createLinearPolicy(doc: LinearPolicyFile, spec: PolicySpec, label = 'linear policy'): Policy {
  const family = getEnvEntry(spec.envId).family;
  if (doc.env !== family) {
    throw new Error(`${label} was trained on ${doc.env} (${doc.envId}), not on ${family} (${spec.envId})`);
  }
  if (doc.observationSize !== spec.observationSize || doc.actionSize !== spec.actionSize) {
    throw new Error(
      `${label} is ${doc.actionSize} x ${doc.observationSize}, but ${spec.envId} has ${spec.actionSize} actions and ${spec.observationSize} observations`,
    );
  }
  const actor = new LinearActor(paramsFromFile(doc));
  const A = spec.actionSize;
  const O = spec.observationSize;
  let out = new Float64Array(0);
  const ret = typeof doc.evalReturn === 'number' ? `, training-eval return ${doc.evalReturn.toFixed(1)}` : '';
  return {
    description: `linear policy (${doc.role ?? 'checkpoint'}) ${doc.env} iteration ${doc.iteration}${ret}`,
    act(obs: Float64Array, n: number): Float64Array {
      if (out.length < n * A) out = new Float64Array(n * A);
      const view = out.subarray(0, n * A);
      for (let r = 0; r < n; r++) actor.actInto(obs, r * O, view, r * A);
      return view;
    },
  };
}

/** Plug-in factory: reads the JSON named by `--ckpt` (spec.ckpt). */
export default async function linearPolicyFactory(spec: PolicySpec): Promise<Policy> {
  if (!spec.ckpt) {
    throw new Error('the linear policy needs --ckpt <policy.json> (e.g. eval/behaviour/hopper-expert.json)');
  }
  return createLinearPolicy(readLinearPolicyFile(spec.ckpt), spec, spec.ckpt);
}
