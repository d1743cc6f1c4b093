/**
 * Worker side of ONNX policies (`--policy model.onnx`; main-thread checks in src/policy/onnx-cli.ts):
 * one onnxruntime CPU session per worker and environment, `intraOpNumThreads` from --onnx-threads
 * (1 by default: the workers already use the cores).
 *
 * A model with a `noise` input gets standard normals from each row's episode seed and step
 * (src/policy/row-rngs.ts): the same draws the OFQL checkpoint policy makes, so an exported OFQL
 * actor acts like its checkpoint, and results do not depend on the worker count.
 */
import { checkOnnxContract, describeOnnxInterface, type OnnxBinding, type OnnxValueInfo } from './onnx-contract.js';
import { RowRngs } from './row-rngs.js';
import type { ActContext, Policy, PolicySpec } from './types.js';

/** Options the PolicyRef carries (src/policy/onnx-cli.ts). */
export interface OnnxPolicyOptions {
  /** Absolute path of the .onnx file. */
  file: string;
  /** onnxruntime intra-op threads per session. */
  threads: number;
  /** The label in messages (`model.onnx` as given). */
  label: string;
}

type Ort = typeof import('onnxruntime-node');
type Session = import('onnxruntime-node').InferenceSession;

/** onnxruntime-node, imported only where an ONNX policy runs. */
export async function importOnnxRuntime(): Promise<Ort> {
  return (await import('onnxruntime-node')).default as unknown as Ort;
}

/** A CPU session for `model` (a path or the bytes of a model). */
export async function createOnnxSession(ort: Ort, model: string | Uint8Array, threads: number): Promise<Session> {
  const options = { executionProviders: ['cpu'], intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' as const };
  return typeof model === 'string' ? ort.InferenceSession.create(model, options) : ort.InferenceSession.create(model, options);
}

/** The session's inputs and outputs in the contract's terms. */
export function sessionInterface(s: Session): { inputs: OnnxValueInfo[]; outputs: OnnxValueInfo[] } {
  return { inputs: s.inputMetadata as unknown as OnnxValueInfo[], outputs: s.outputMetadata as unknown as OnnxValueInfo[] };
}

/** Calls one checked session: float64 observations in, float32 actions out, noise filled per row. */
export class OnnxActor {
  private obs32 = new Float32Array(0);
  private noise = new Float32Array(0);
  private readonly rowRngs: RowRngs;

  constructor(
    private readonly ort: Ort,
    private readonly session: Session,
    private readonly binding: OnnxBinding,
    private readonly S: number,
    private readonly A: number,
    seed: number,
    /** Multiplies the standard normals fed to the noise input (OFQL's one-step --noise-scale). */
    private readonly noiseScale = 1,
  ) {
    this.rowRngs = new RowRngs(seed);
  }

  /** The actions of the last call (reused: the evaluator copies them before the next call). */
  private out = new Float32Array(0);

  async act(obs: Float64Array, n: number, ctx?: ActContext): Promise<Float32Array> {
    const { S, A } = this;
    if (this.obs32.length < n * S) this.obs32 = new Float32Array(n * S);
    this.obs32.set(obs.subarray(0, n * S));
    if (this.binding.noiseInput !== null) this.fillNoise(n, ctx);
    if (this.out.length < n * A) this.out = new Float32Array(n * A);
    if (this.binding.batch === 'dynamic') await this.run(0, n);
    else for (let j = 0; j < n; j++) await this.run(j, 1);
    return this.out.subarray(0, n * A);
  }

  /** Rows [first, first + n) through the model, into `out` at the same rows. */
  private async run(first: number, n: number): Promise<void> {
    const { S, A, binding, ort } = this;
    const feeds: Record<string, InstanceType<Ort['Tensor']>> = {
      [binding.obsInput]: new ort.Tensor('float32', this.obs32.subarray(first * S, (first + n) * S), [n, S]),
    };
    if (binding.noiseInput !== null) feeds[binding.noiseInput] = new ort.Tensor('float32', this.noise.subarray(first * A, (first + n) * A), [n, A]);
    const result = await this.session.run(feeds, [binding.output]);
    const y = result[binding.output]!;
    if (y.type !== 'float32' || y.dims.length !== 2 || y.dims[0] !== n || y.dims[1] !== A) {
      throw new Error(`output '${binding.output}' came back as ${y.type} [${y.dims.join(', ')}]; expected float32 [${n}, ${A}]`);
    }
    this.out.set(y.data as Float32Array, first * A);
  }

  private fillNoise(n: number, ctx: ActContext | undefined): void {
    const A = this.A;
    if (this.noise.length < n * A) this.noise = new Float32Array(n * A);
    const rngs = this.rowRngs.forRows(n, ctx);
    const scale = this.noiseScale;
    for (let j = 0; j < n; j++) for (let k = 0; k < A; k++) this.noise[j * A + k] = scale * rngs[j]!.normal();
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

export async function createOnnxPolicy(spec: PolicySpec, o: OnnxPolicyOptions): Promise<Policy> {
  const ort = await importOnnxRuntime();
  const session = await createOnnxSession(ort, o.file, o.threads);
  const { inputs, outputs } = sessionInterface(session);
  let binding: OnnxBinding;
  try {
    binding = checkOnnxContract(inputs, outputs, spec);
  } catch (e) {
    await session.release();
    throw new Error(`${o.file}: ${(e as Error).message}`, { cause: e });
  }
  const actor = new OnnxActor(ort, session, binding, spec.observationSize, spec.actionSize, spec.seed ?? 0);
  return {
    description: `ONNX model ${o.file} ${describeOnnxInterface(inputs, outputs)}, onnxruntime ${ort.env.versions.node} CPU, ${o.threads} thread(s)`,
    act: (obs, n, ctx) => actor.act(obs, n, ctx),
    close: () => actor.close(),
  };
}

/** Default export (a policy module): options from the PolicyRef (`spec.options`). */
export default async function factory(spec: PolicySpec): Promise<Policy> {
  return createOnnxPolicy(spec, spec.options as unknown as OnnxPolicyOptions);
}
