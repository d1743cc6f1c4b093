import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { POLICY_KINDS, POLICY_KIND_OPTIONS, PolicyArgsError, checkPolicyArgs, givenKindFlags, policyKindOf, preparePolicy } from '../src/policy/kinds.js';
import { loadPolicy } from '../src/policy/load.js';

const FIX = join(import.meta.dirname, 'fixtures', 'policies');

describe('policy kinds (src/policy/kinds.ts)', () => {
  it('each argument shape is claimed by the kind that reads it; the plug-in kind comes last', () => {
    expect(policyKindOf({ ckpt: 'some/dir' })?.name).toBe('ofql');
    expect(policyKindOf({ policy: 'ofql', ckpt: 'd' })?.name).toBe('ofql');
    expect(policyKindOf({ policy: 'random' })?.name).toBe('plugin');
    expect(policyKindOf({ policy: './x.mjs', ckpt: 'w.json' })?.name).toBe('plugin');
    expect(policyKindOf({})).toBeUndefined();
    expect(policyKindOf({ policy: 'py:agent.py' })?.name).toBe('python');
    expect(policyKindOf({ policy: 'agents/agent.py', ckpt: 'w.npz' })?.name).toBe('python');
    expect(POLICY_KINDS.at(-1)?.name).toBe('plugin');
  });

  it('refuses a missing policy, a flag of another kind and a repeated flag, naming the flag', () => {
    expect(checkPolicyArgs({})).toMatch(/Missing required argument: policy/);
    expect(checkPolicyArgs({ policy: 'random', flags: { sampler: 'dql' } })).toMatch(/--sampler only applies to OFQL checkpoints/);
    expect(checkPolicyArgs({ ckpt: 'd', flags: { backend: ['wasm', 'cpu'] } })).toMatch(/--backend was given more than once/);
    expect(checkPolicyArgs({ policy: 'ofql' })).toMatch(/--policy ofql needs --ckpt/);
    expect(checkPolicyArgs({ ckpt: 'd', flags: { 'qgbs-k': Number.NaN } })).toMatch(/--qgbs-k must be a number/);
    expect(checkPolicyArgs({ policy: 'random' })).toBeNull();
    expect(checkPolicyArgs({ policy: 'random', flags: { python: '/usr/bin/python3' } })).toMatch(/--python only applies to Python policies \(--policy py:policy\.py\)/);
    expect(checkPolicyArgs({ policy: 'py:' })).toMatch(/--policy py: needs a file/);
  });

  it('givenKindFlags keeps only the kind flags that were given', () => {
    expect(Object.keys(POLICY_KIND_OPTIONS)).toContain('sampler');
    expect(givenKindFlags({ sampler: 'dql', backend: undefined, episodes: 3 })).toEqual({ sampler: 'dql' });
  });

  it('preparePolicy throws a usage error before touching files, and resolves plug-ins', async () => {
    await expect(preparePolicy({ policy: 'zero', flags: { sampler: 'dql' } })).rejects.toBeInstanceOf(PolicyArgsError);
    const p = await preparePolicy({ policy: 'linear.mjs', env: ['hopper-medium-v2'] }, FIX);
    expect(p).toMatchObject({ kind: 'plugin', env: ['hopper-medium-v2'], flags: null, ref: { kind: 'module', path: join(FIX, 'linear.mjs') } });
  });

  it("a module reference's options reach the factory as spec.options", async () => {
    const ref = { kind: 'module' as const, spec: 'echo', path: join(FIX, 'echo-options.mjs'), options: { sampler: 'dql', n: 7 } };
    const policy = await loadPolicy(ref, { envId: 'hopper-medium-v2', observationSize: 11, actionSize: 3 });
    expect(policy.description).toBe('{"sampler":"dql","n":7}');
    const plain = await loadPolicy({ ...ref, options: undefined }, { envId: 'hopper-medium-v2', observationSize: 11, actionSize: 3 });
    expect(plain.description).toBe('none');
  });
});
