/**
 * The policy plug-in interface.
 *
 * A policy plug-in is an ES module whose default export is a factory
 *
 *     export default async (spec: PolicySpec) => Policy
 *
 * called once per worker thread and environment. `Policy.act(obs, n)` receives a batch of `n`
 * observations (row-major, `n x observationSize`) and returns `n x actionSize` actions, meant to
 * lie in [-1, 1], as a `Float32Array` or `Float64Array` (or a Promise of one).
 *
 * Everything beyond `envId`, `observationSize`, `actionSize` and `act(obs, n)` is optional.
 */

/** What a policy factory is told about the environment it will act in. */
export interface PolicySpec {
  /** Registry id, e.g. `hopper-medium-v2`. */
  envId: string;
  observationSize: number;
  actionSize: number;
  /** `--ckpt` as an absolute path (or the string as given when it is not a file path), if any. */
  ckpt?: string;
  /** Run seed (`--seed`); for policies with their own randomness outside `ActContext`. */
  seed?: number;
  /** Episode horizon of the run (1000 unless `--max-episode-steps`). */
  maxEpisodeSteps?: number;
  /** The run's limit per act() call in ms (`--policy-timeout`; 0 = none), for policies that act elsewhere. */
  policyTimeoutMs?: number;
  /** The run's limit on this factory in ms (`--policy-load-timeout`; 0 = none; the evaluator enforces it). */
  loadTimeoutMs?: number;
  /** Options of the policy's kind (e.g. the OFQL sampler), as its PolicyRef carries them. */
  options?: Readonly<PolicyOptions>;
}

/** JSON-like options a policy kind hands its factory in the workers (structured-cloned). */
export type PolicyOptions = Record<string, string | number | boolean | null>;

/**
 * Optional third argument of `act`: which episode each row belongs to. The arrays are reused
 * between calls (copy what you keep) and have exactly `n` entries.
 *
 * A stochastic policy that draws its randomness from `episodeSeeds[j]` and `steps[j]` (as the
 * built-in `random` policy does) gives results that do not depend on the number of workers or
 * on which rows share a batch.
 */
export interface ActContext {
  /** Global episode index (0-based) of row j. */
  episodeIds: Int32Array;
  /** Seed of row j's episode (`deriveSeed(--seed, episodeIds[j])`; also the env reset seed). */
  episodeSeeds: Float64Array;
  /** Steps already taken in row j's episode (0 for the first action after reset). */
  steps: Int32Array;
}

/** The actions of one `act` call. */
export type Actions = Float32Array | Float64Array;

export interface Policy {
  /**
   * Actions for `n` observations. `obs` has exactly `n * observationSize` entries, is owned by
   * the evaluator and overwritten after the call returns. The result must have exactly
   * `n * actionSize` finite entries (checked: NaN, +-Infinity or a wrong length fail the run).
   */
  act(obs: Float64Array, n: number, ctx?: ActContext): Actions | Promise<Actions>;
  /** One line recorded in the result JSON (e.g. checkpoint name and step). */
  description?: string;
  /** Called when the worker is done with the policy. */
  close?(): void | Promise<void>;
}

/** The default export of a policy module. */
export type PolicyFactory = (spec: PolicySpec) => Policy | Promise<Policy>;

/** How a run names its policy: a built-in by name, or an ES module by path. */
export type PolicyRef =
  | { kind: 'builtin'; name: BuiltinPolicyName }
  | {
      kind: 'module';
      /** As the user wrote it. */
      spec: string;
      /** Absolute file path. */
      path: string;
      /** Given to the factory as `spec.options` (src/policy/kinds.ts). */
      options?: PolicyOptions;
      /**
       * Set by a kind whose checkpoints are directories that training runs write: its `ckpt` may
       * name a training run directory (`<run>`, `<run>@N`, `<run>/latest`), which the evaluator
       * resolves to one step-N/ directory before any worker starts and records which
       * (src/checkpoint/run-dir.ts, resolvePolicyCheckpoint in src/policy/load.ts).
       */
      ckptRunDir?: boolean;
    };

export type BuiltinPolicyName = 'random' | 'zero';
