/**
 * Policy plug-in that evaluates an OFQL checkpoint directory (src/ofql/checkpoint.ts):
 * `ofql-eval --ckpt <dir> [--env <id>] [--sampler one-step|dql|best-of-n|qgbs] [--backend onnx|wasm|cpu|tensorflow]`,
 * or a PyTorch OFQL state dict (`--ckpt actor.pth [--critic critic.pth]`, also `.pt` and
 * torch-layout `.safetensors`; src/ofql/torch-state-dict.ts reads it directly, nothing executed).
 *
 * Each worker thread calls the default export once per environment. The one-step sampler runs,
 * by default, on onnxruntime: the actor is turned into an ONNX graph in memory
 * (src/ofql/onnx-export.ts; no file is written) and run on the CPU provider with one thread,
 * several times faster than TensorFlow.js at these sizes (docs/benchmarks.md). The other samplers,
 * and `--backend wasm|cpu|tensorflow`, initialise that TensorFlow.js backend in the thread, load the checkpoint (evaluation only: the optimizer file is not read), and build the
 * sampler. Options come from `createOfqlCheckpointPolicy(spec, options)` when used as a library,
 * or, for the default export (what the CLI's workers load), from `spec.options`: the options the
 * PolicyRef carries (src/policy/ofql-cli.ts builds it).
 *
 * Randomness: row j of an `act` call draws from the row Rngs of src/policy/row-rngs.ts, so an
 * episode's actions depend only on its seed and the checkpoint, not on the worker count or the
 * batch it shares, and both backends draw the same noise.
 */
import { POLICY_NOISE_STREAM, RowRngs } from './row-rngs.js';
import type { ActContext, Policy, PolicySpec } from './types.js';
import type { BackendName } from '../ofql/tensor-backend.js';
import type { OfqlConfig } from '../ofql/config.js';
import type { NamedArray } from '../ofql/networks.js';
import type { OfqlAgent } from '../ofql/train-step.js';
// TF-free (TF.js is imported only by the TF.js path below).
import { checkSamplerForTorchModel, isTorchStateDictPath, readTorchOfqlModel, type TorchOfqlModel } from '../ofql/torch-state-dict.js';
import { checkSamplerForCheckpoint, describeSampler, makeSamplerSpec, type SamplerSpec } from '../ofql/sampler-spec.js';
import { OptionError } from '../option-error.js';

/** Mixed into the episode seed so the policy's noise differs from the env's reset-noise stream (src/policy/row-rngs.ts). */
export const OFQL_POLICY_STREAM = POLICY_NOISE_STREAM;

/** onnxruntime for the one-step actor; TensorFlow.js backends for every sampler. */
export type OfqlPolicyBackend = 'onnx' | BackendName;

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
  /** One-step sampler: scale of the noise eps (default 1; 0 = deterministic). */
  noiseScale?: number;
  /** Default: 'onnx' for the one-step sampler, else 'wasm' (defaultOfqlBackend). */
  backend?: OfqlPolicyBackend;
  /** Which actor to act with (default: the checkpoint's config.evalActor, normally 'ema'). */
  actor?: 'ema' | 'online';
  /** PyTorch state dicts only: the critic file (absolute, or relative to the working directory). */
  critic?: string;
  /** PyTorch state dicts only: config.timeScale (default: config.json beside the actor, else 1). */
  timeScale?: number;
}

/** What both backends need to know about the checkpoint, whichever kind of file it is. */
interface CheckpointFacts {
  config: OfqlConfig;
  /** `<where>: ` prefix for the dimension-mismatch message. */
  where: string;
  /** What the dimensions come from, for that message. */
  dimsFrom: string;
  envId?: string;
  /** Start of the policy description. */
  description: string;
  checkSampler(name: SamplerSpec['name']): void;
}

/** The weights as plain arrays (for the ONNX graph), from an OFQL checkpoint or a PyTorch state dict. */
async function readForOnnx(ckpt: string, options: OfqlPolicyOptions): Promise<CheckpointFacts & { weights: ReadonlyMap<string, NamedArray> }> {
  if (isTorchStateDictPath(ckpt)) {
    const model = await readTorchOfqlModel(ckpt, { critic: options.critic, timeScale: options.timeScale });
    return { ...torchFacts(model), weights: model.tensors };
  }
  const { readOfqlModel } = await import('../ofql/checkpoint.js');
  const model = await readOfqlModel(ckpt);
  return { ...checkpointFacts(model.dir, model.step, model.envId, model.config), weights: model.weights };
}

/** A TF.js agent, from an OFQL checkpoint or a PyTorch state dict. */
async function loadForTfjs(ckpt: string, options: OfqlPolicyOptions): Promise<CheckpointFacts & { agent: OfqlAgent }> {
  if (isTorchStateDictPath(ckpt)) {
    const { loadTorchOfqlAgent } = await import('../ofql/torch-state-dict.js');
    const { model, agent } = await loadTorchOfqlAgent(ckpt, { critic: options.critic, timeScale: options.timeScale });
    return { ...torchFacts(model), agent };
  }
  const { loadOfqlCheckpoint } = await import('../ofql/checkpoint.js');
  const loaded = await loadOfqlCheckpoint(ckpt, { forResume: false });
  return { ...checkpointFacts(loaded.dir, loaded.step, loaded.envId, loaded.config), agent: loaded.agent };
}

function torchFacts(model: TorchOfqlModel): CheckpointFacts {
  return {
    config: model.config,
    where: model.actorPath,
    dimsFrom: "the actor's tensor shapes give",
    envId: model.envId,
    description: `PyTorch OFQL state dict ${model.actorPath} (${model.formats.actor}${model.criticPath ? `; critic ${model.criticPath}` : '; actor only, no critic'})`,
    checkSampler: (name) => checkSamplerForTorchModel(model, name),
  };
}

function checkpointFacts(dir: string, step: number, envId: string | undefined, config: OfqlConfig): CheckpointFacts {
  return {
    config,
    where: `${dir}/config.json`,
    dimsFrom: 'the checkpoint was built for',
    envId,
    description: `OFQL checkpoint ${dir} (step ${step}${envId ? `, trained on ${envId}` : ''})`,
    checkSampler: (name) => checkSamplerForCheckpoint(dir, config.trainCritic, name),
  };
}

function checkDims(f: CheckpointFacts, spec: PolicySpec): void {
  const { config } = f;
  if (config.obsDim !== spec.observationSize || config.actDim !== spec.actionSize) {
    throw new Error(
      `${f.where}: ${f.dimsFrom} obsDim ${config.obsDim} / actDim ${config.actDim}` +
        `${f.envId ? ` (envId ${f.envId})` : ''}, but ${spec.envId} has ${spec.observationSize} / ${spec.actionSize}`,
    );
  }
}

/** The sampler spec the options describe (OptionError naming the bad field). */
export function samplerSpecFromOptions(o: OfqlPolicyOptions): SamplerSpec {
  return makeSamplerSpec(o.sampler ?? 'one-step', { n: o.n, K: o.K, B: o.B, M: o.M, SNR: o.SNR, eta: o.eta, kappa: o.kappa, noiseScale: o.noiseScale });
}

/**
 * onnxruntime for the one-step sampler (several times faster; docs/benchmarks.md), TF.js wasm for
 * the samplers that need the critic and several passes. Safe as a default because stopping a run
 * never terminates a worker inside an onnxruntime call (eval/evaluate.ts stop, WATCH.stop):
 * onnxruntime-node aborts the whole process when that happens.
 */
export function defaultOfqlBackend(sampler: string): OfqlPolicyBackend {
  return sampler === 'one-step' ? 'onnx' : 'wasm';
}

/** A message when the backend cannot run the sampler, else null. */
export function checkOfqlBackend(backend: OfqlPolicyBackend, sampler: string): string | null {
  return backend === 'onnx' && sampler !== 'one-step' ? `--backend onnx runs the one-step sampler only; --sampler ${sampler} needs --backend wasm, cpu or tensorflow` : null;
}

/** The one-step actor on onnxruntime (graph built in memory from the checkpoint's weights). */
async function createOnnxOneStepPolicy(spec: PolicySpec, ckpt: string, sampler: SamplerSpec & { name: 'one-step' }, options: OfqlPolicyOptions): Promise<Policy> {
  const { ofqlActorOnnx, OFQL_ONNX_INPUTS, OFQL_ONNX_OUTPUT } = await import('../ofql/onnx-export.js');
  const { OnnxActor, createOnnxSession, importOnnxRuntime } = await import('./onnx-policy.js');
  const facts = await readForOnnx(ckpt, options);
  checkDims(facts, spec);
  const actor = options.actor ?? facts.config.evalActor;
  const ort = await importOnnxRuntime();
  const session = await createOnnxSession(ort, ofqlActorOnnx(facts.weights, facts.config, { actor, producerVersion: 'in memory' }), 1);
  const binding = { obsInput: OFQL_ONNX_INPUTS.obs, noiseInput: OFQL_ONNX_INPUTS.noise, output: OFQL_ONNX_OUTPUT, batch: 'dynamic' as const };
  const run = new OnnxActor(ort, session, binding, spec.observationSize, spec.actionSize, spec.seed ?? 0, sampler.noiseScale ?? 1);
  return {
    description: `${facts.description}, sampler ${describeSampler(sampler)}, actor ${actor}, backend onnx (onnxruntime ${ort.env.versions.node} CPU)`,
    act: (obs, n, ctx) => run.act(obs, n, ctx),
    close: () => run.close(),
  };
}

/** Any sampler on a TensorFlow.js backend. */
async function createTfjsPolicy(spec: PolicySpec, ckpt: string, sampler: SamplerSpec, backend: BackendName, options: OfqlPolicyOptions): Promise<Policy> {
  const { initBackend } = await import('../ofql/tensor-backend.js');
  const { sampleActions, samplerNetsFromAgent } = await import('../ofql/samplers.js');
  await initBackend(backend);
  const loaded = await loadForTfjs(ckpt, options);
  const { config, agent } = loaded;
  const nets = (() => {
    try {
      checkDims(loaded, spec);
      loaded.checkSampler(sampler.name);
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
    description: `${loaded.description}, sampler ${describeSampler(sampler)}, actor ${actor}, backend ${backend}`,
    act(obs: Float64Array, n: number, ctx?: ActContext): Float32Array {
      if (obs32.length < n * S) obs32 = new Float32Array(n * S);
      const o = obs32.subarray(0, n * S);
      o.set(obs.subarray(0, n * S));
      return sampleActions(nets, sampler, o, rowRngs.forRows(n, ctx));
    },
    close() {
      nets.dispose();
    },
  };
}

export async function createOfqlCheckpointPolicy(spec: PolicySpec, options: OfqlPolicyOptions = {}): Promise<Policy> {
  if (!spec.ckpt) throw new Error('the OFQL checkpoint policy needs --ckpt <checkpoint directory | actor.pth>');
  const sampler = samplerSpecFromOptions(options);
  const backend = options.backend ?? defaultOfqlBackend(sampler.name);
  const problem = checkOfqlBackend(backend, sampler.name);
  if (problem !== null) throw new OptionError(problem);
  return backend === 'onnx' && sampler.name === 'one-step'
    ? createOnnxOneStepPolicy(spec, spec.ckpt, sampler, options)
    : createTfjsPolicy(spec, spec.ckpt, sampler, backend as BackendName, options);
}

/** Default export (a policy module): options from the PolicyRef (`spec.options`, src/policy/ofql-cli.ts). */
export default async function factory(spec: PolicySpec): Promise<Policy> {
  return createOfqlCheckpointPolicy(spec, (spec.options ?? {}) as OfqlPolicyOptions);
}
