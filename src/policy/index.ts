export type {
  ActContext,
  Actions,
  BuiltinPolicyName,
  Policy,
  PolicyFactory,
  PolicyOptions,
  PolicyRef,
  PolicySpec,
} from './types.js';
export { BUILTIN_POLICIES, createRandomPolicy, createZeroPolicy, isBuiltinPolicyName } from './builtin.js';
export { PolicyError, PolicyLoadError, formatEpisodes, type PolicyFailureKind } from './errors.js';
export { BUILTIN_POLICY_NAMES, loadPolicy, policyLabel, resolvePolicyRef } from './load.js';
export { POLICY_KINDS, POLICY_KIND_OPTIONS, preparePolicy, type PolicyArgs, type PolicyKind, type PreparedPolicy } from './kinds.js';
export { createPythonPolicy, type PythonPolicyOptions } from './python-policy.js';
