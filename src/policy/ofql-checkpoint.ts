/**
 * Policy plug-in that evaluates an OFQL checkpoint directory (src/ofql/checkpoint.ts):
 * `ofql-eval --ckpt <dir> [--env <id>] [--sampler one-step|dql|best-of-n|qgbs] [--backend wasm|cpu|tensorflow]`.
 *
 * Each worker thread calls the default export once per environment: it initialises the
 * TensorFlow.js backend in that thread, loads the checkpoint (evaluation only: the optimizer file is
 * not read), and builds the sampler. Options come from `createOfqlCheckpointPolicy(spec, options)`
 * when used as a library, or, for the default export (what the CLI's workers load), from
 * `spec.options`: the options the PolicyRef carries (src/policy/ofql-cli.ts builds it).
 *
 * Randomness: row j of an `act` call draws from an Rng seeded with
 * deriveSeed(deriveSeed(episodeSeed_j, OFQL_POLICY_STREAM), step_j), so an episode's actions depend
 * only on its seed and the checkpoint, not on the worker count or the batch it shares.
 */
import { POLICY_NOISE_STREAM, RowRngs } from './row-rngs.js';
import type { ActContext, Policy, PolicySpec } from './types.js';
import { initBackend, type BackendName } from '../ofql/tensor-backend.js';
import { loadOfqlCheckpoint } from '../ofql/checkpoint.js';
import { sampleActions, samplerNetsFromAgent } from '../ofql/samplers.js';
import { checkSamplerForCheckpoint, describeSampler, makeSamplerSpec, type SamplerSpec } from '../ofql/sampler-spec.js';

/** Mixed into the episode seed so the policy's noise differs from the env's reset-noise stream (src/policy/row-rngs.ts). */
export const OFQL_POLICY_STREAM = POLICY_NOISE_STREAM;


export interface OfqlPolicyOptions {
  /** Default 'one-step'. */
  sampler?: string;
  /** Candidates for dql / best-of-n. */
  n?: number;
  K?: number;
  B?: number;
  M?: number;
  SNR?: number;
  eta?: number;
  kappa?: number;
  /** Default 'wasm'. */
  backend?: BackendName;
  /** Which actor to act with (default: the checkpoint's config.evalActor, normally 'ema'). */
  actor?: 'ema' | 'online';
}

/** The sampler spec the options describe (RangeError naming the bad field). */
export function samplerSpecFromOptions(o: OfqlPolicyOptions): SamplerSpec {
  return makeSamplerSpec(o.sampler ?? 'one-step', { n: o.n, K: o.K, B: o.B, M: o.M, SNR: o.SNR, eta: o.eta, kappa: o.kappa });
}

export async function createOfqlCheckpointPolicy(spec: PolicySpec, options: OfqlPolicyOptions = {}): Promise<Policy> {
  if (!spec.ckpt) throw new Error('the OFQL checkpoint policy needs --ckpt <checkpoint directory>');
  const sampler = samplerSpecFromOptions(options);
  const backend = options.backend ?? 'wasm';
  await initBackend(backend);
  const loaded = await loadOfqlCheckpoint(spec.ckpt, { forResume: false });
  const { config, agent } = loaded;
  const nets = (() => {
    try {
      if (config.obsDim !== spec.observationSize || config.actDim !== spec.actionSize) {
        throw new Error(
          `${loaded.dir}/config.json: the checkpoint was built for obsDim ${config.obsDim} / actDim ${config.actDim}` +
            `${loaded.envId ? ` (envId ${loaded.envId})` : ''}, but ${spec.envId} has ${spec.observationSize} / ${spec.actionSize}`,
        );
      }
      checkSamplerForCheckpoint(loaded.dir, config.trainCritic, sampler.name);
      return samplerNetsFromAgent(agent, { actor: options.actor });
    } finally {
      agent.dispose(); // the sampler holds its own copies of the two networks it needs
    }
  })();

  const S = config.obsDim;
  const rowRngs = new RowRngs(spec.seed ?? 0);
  let obs32 = new Float32Array(0);
  const actor = options.actor ?? config.evalActor;
  return {
    description:
      `OFQL checkpoint ${loaded.dir} (step ${loaded.step}${loaded.envId ? `, trained on ${loaded.envId}` : ''}), ` +
      `sampler ${describeSampler(sampler)}, actor ${actor}, backend ${backend}`,
    act(obs: Float64Array, n: number, ctx?: ActContext): Float32Array {
      if (obs32.length < n * S) obs32 = new Float32Array(n * S);
      const o = obs32.subarray(0, n * S);
      o.set(obs.subarray(0, n * S));
      const rngs = rowRngs.forRows(n, ctx);
      return sampleActions(nets, sampler, o, rngs);
    },
    close() {
      nets.dispose();
    },
  };
}

/** Default export (a policy module): options from the PolicyRef (`spec.options`, src/policy/ofql-cli.ts). */
export default async function factory(spec: PolicySpec): Promise<Policy> {
  return createOfqlCheckpointPolicy(spec, (spec.options ?? {}) as OfqlPolicyOptions);
}
