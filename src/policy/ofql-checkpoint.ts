/**
 * Policy plug-in that evaluates an OFQL checkpoint directory (src/ofql/checkpoint.ts):
 * `ofql-eval --ckpt <dir> [--env <id>] [--sampler one-step|dql|best-of-n|qgbs] [--backend wasm|cpu|tensorflow]`,
 * or a PyTorch OFQL state dict (`--ckpt actor.pth [--critic critic.pth]`, also `.pt` and
 * torch-layout `.safetensors`; src/ofql/torch-state-dict.ts reads it directly, nothing executed).
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
import { Rng, deriveSeed } from '../rng.js';
import type { ActContext, Policy, PolicySpec } from './types.js';
import { initBackend, type BackendName } from '../ofql/tensor-backend.js';
import { loadOfqlCheckpoint } from '../ofql/checkpoint.js';
import { checkSamplerForTorchModel, isTorchStateDictPath, loadTorchOfqlAgent } from '../ofql/torch-state-dict.js';
import type { OfqlConfig } from '../ofql/config.js';
import type { OfqlAgent } from '../ofql/train-step.js';
import { sampleActions, samplerNetsFromAgent } from '../ofql/samplers.js';
import { checkSamplerForCheckpoint, describeSampler, makeSamplerSpec, type SamplerSpec } from '../ofql/sampler-spec.js';

/** Mixed into the episode seed so the policy's noise differs from the env's reset-noise stream. */
export const OFQL_POLICY_STREAM = 0x0f91;


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
  /** PyTorch state dicts only: the critic file (absolute, or relative to the working directory). */
  critic?: string;
  /** PyTorch state dicts only: config.timeScale (default: config.json beside the actor, else 1). */
  timeScale?: number;
}

interface LoadedForEval {
  config: OfqlConfig;
  agent: OfqlAgent;
  /** `<where>: ` prefix for the dimension-mismatch message. */
  where: string;
  /** What the dimensions come from, for that message. */
  dimsFrom: string;
  envId?: string;
  /** Start of the policy description. */
  description: string;
  checkSampler(name: SamplerSpec['name']): void;
}

async function loadForEval(ckpt: string, options: OfqlPolicyOptions): Promise<LoadedForEval> {
  if (isTorchStateDictPath(ckpt)) {
    const { model, agent } = await loadTorchOfqlAgent(ckpt, { critic: options.critic, timeScale: options.timeScale });
    return {
      config: model.config,
      agent,
      where: model.actorPath,
      dimsFrom: "the actor's tensor shapes give",
      envId: model.envId,
      description: `PyTorch OFQL state dict ${model.actorPath} (${model.formats.actor}${model.criticPath ? `; critic ${model.criticPath}` : '; actor only, no critic'})`,
      checkSampler: (name) => checkSamplerForTorchModel(model, name),
    };
  }
  const loaded = await loadOfqlCheckpoint(ckpt, { forResume: false });
  return {
    config: loaded.config,
    agent: loaded.agent,
    where: `${loaded.dir}/config.json`,
    dimsFrom: 'the checkpoint was built for',
    envId: loaded.envId,
    description: `OFQL checkpoint ${loaded.dir} (step ${loaded.step}${loaded.envId ? `, trained on ${loaded.envId}` : ''})`,
    checkSampler: (name) => checkSamplerForCheckpoint(loaded.dir, loaded.config.trainCritic, name),
  };
}

/** The sampler spec the options describe (RangeError naming the bad field). */
export function samplerSpecFromOptions(o: OfqlPolicyOptions): SamplerSpec {
  return makeSamplerSpec(o.sampler ?? 'one-step', { n: o.n, K: o.K, B: o.B, M: o.M, SNR: o.SNR, eta: o.eta, kappa: o.kappa });
}

export async function createOfqlCheckpointPolicy(spec: PolicySpec, options: OfqlPolicyOptions = {}): Promise<Policy> {
  if (!spec.ckpt) throw new Error('the OFQL checkpoint policy needs --ckpt <checkpoint directory | actor.pth>');
  const sampler = samplerSpecFromOptions(options);
  const backend = options.backend ?? 'wasm';
  await initBackend(backend);
  const loaded = await loadForEval(spec.ckpt, options);
  const { config, agent } = loaded;
  const nets = (() => {
    try {
      if (config.obsDim !== spec.observationSize || config.actDim !== spec.actionSize) {
        throw new Error(
          `${loaded.where}: ${loaded.dimsFrom} obsDim ${config.obsDim} / actDim ${config.actDim}` +
            `${loaded.envId ? ` (envId ${loaded.envId})` : ''}, but ${spec.envId} has ${spec.observationSize} / ${spec.actionSize}`,
        );
      }
      loaded.checkSampler(sampler.name);
      return samplerNetsFromAgent(agent, { actor: options.actor });
    } finally {
      agent.dispose(); // the sampler holds its own copies of the two networks it needs
    }
  })();

  const S = config.obsDim;
  const rowRngs: Rng[] = [];
  const fallback = new Rng(deriveSeed(spec.seed ?? 0, OFQL_POLICY_STREAM));
  let obs32 = new Float32Array(0);
  const actor = options.actor ?? config.evalActor;
  return {
    description: `${loaded.description}, sampler ${describeSampler(sampler)}, actor ${actor}, backend ${backend}`,
    act(obs: Float64Array, n: number, ctx?: ActContext): Float32Array {
      if (obs32.length < n * S) obs32 = new Float32Array(n * S);
      const o = obs32.subarray(0, n * S);
      o.set(obs.subarray(0, n * S));
      const rngs: Rng[] = [];
      for (let j = 0; j < n; j++) {
        if (ctx) {
          const seed = deriveSeed(deriveSeed(ctx.episodeSeeds[j]!, OFQL_POLICY_STREAM), ctx.steps[j]!);
          const r = (rowRngs[j] ??= new Rng(seed));
          r.seed(seed);
          rngs.push(r);
        } else {
          rngs.push(fallback);
        }
      }
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
