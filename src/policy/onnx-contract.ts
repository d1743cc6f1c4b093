/**
 * What an ONNX policy file must look like (README, "ONNX policies"), checked from the model's
 * own input / output metadata before any worker starts:
 *
 *   input  `obs`    float32 [n, observationSize]   (any name; n dynamic, or fixed at 1)
 *   input  `noise`  float32 [n, actionSize]        (optional, exactly this name: stochastic policies)
 *   output          float32 [n, actionSize]        (any name; exactly one output)
 *
 * Pure functions of the metadata (no onnxruntime here), so every refusal is testable.
 */

/** One input or output as onnxruntime-node's `inputMetadata` / `outputMetadata` describe it. */
export interface OnnxValueInfo {
  name: string;
  isTensor: boolean;
  /** 'float32', 'float64', 'int64', ... (tensors only). */
  type?: string;
  /** A number for a fixed dimension, a string (or -1 / null) for a symbolic one. */
  shape?: ReadonlyArray<number | string | null>;
}

/** Name of the optional second input that the harness fills with N(0, 1) draws. */
export const ONNX_NOISE_INPUT = 'noise';

/** How the workers call a model that passed the contract. */
export interface OnnxBinding {
  obsInput: string;
  /** The `noise` input's name, or null for a deterministic policy. */
  noiseInput: string | null;
  output: string;
  /** 'dynamic': one call per act() batch; 1: the model's batch is fixed at 1, so rows go one at a time. */
  batch: 'dynamic' | 1;
}

/** Sizes of the environment the policy is about to act in. */
export interface OnnxDims {
  envId: string;
  observationSize: number;
  actionSize: number;
}

const isFixed = (d: number | string | null | undefined): d is number => typeof d === 'number' && d >= 0;
const fmtShape = (s: ReadonlyArray<number | string | null> | undefined): string =>
  s === undefined ? '(unknown)' : `[${s.map((d) => (isFixed(d) ? String(d) : typeof d === 'string' ? d : '?')).join(', ')}]`;

/** Thrown with a message that names the input / output and what was expected. */
export class OnnxContractError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OnnxContractError';
  }
}

/** The batch dimension of `v`: 'dynamic', 1, or an error for any other fixed size. */
function batchOf(v: OnnxValueInfo, role: string): 'dynamic' | 1 {
  const d = v.shape![0];
  if (!isFixed(d)) return 'dynamic';
  if (d === 1) return 1;
  throw new OnnxContractError(
    `${role} '${v.name}' has a fixed batch size ${d}; export it with a dynamic first dimension ` +
      `(torch.onnx.export(..., dynamic_axes={'${v.name}': {0: 'n'}})) or a batch of 1`,
  );
}

/** Check one float32 rank-2 value of width `width` (fixed, or symbolic: checked at run time). */
function checkMatrix(v: OnnxValueInfo, role: string, width: number, what: string): void {
  if (!v.isTensor) throw new OnnxContractError(`${role} '${v.name}' is not a tensor; expected float32 [n, ${width}] (${what})`);
  if (v.type !== 'float32') throw new OnnxContractError(`${role} '${v.name}' is ${v.type ?? 'of unknown type'}; expected float32 [n, ${width}] (${what})`);
  if (v.shape === undefined || v.shape.length !== 2) {
    throw new OnnxContractError(`${role} '${v.name}' has shape ${fmtShape(v.shape)}; expected float32 [n, ${width}] (${what})`);
  }
  const w = v.shape[1];
  if (isFixed(w) && w !== width) {
    throw new OnnxContractError(`${role} '${v.name}' has shape ${fmtShape(v.shape)}; expected [n, ${width}] (${what})`);
  }
}

/** Which input is the observation and which (if any) the noise: an error names what is wrong. */
function pickInputs(inputs: readonly OnnxValueInfo[]): { obs: OnnxValueInfo; noise: OnnxValueInfo | null } {
  if (inputs.length === 1) return { obs: inputs[0]!, noise: null };
  const names = inputs.map((i) => `'${i.name}'`).join(', ');
  const noise = inputs.filter((i) => i.name === ONNX_NOISE_INPUT);
  if (inputs.length === 2 && noise.length === 1) return { obs: inputs.find((i) => i.name !== ONNX_NOISE_INPUT)!, noise: noise[0]! };
  throw new OnnxContractError(
    `the model has ${inputs.length} inputs (${names}); expected one input [n, observationSize], ` +
      `plus optionally one named '${ONNX_NOISE_INPUT}' [n, actionSize]`,
  );
}

/** Check a model's inputs and outputs against an environment; the binding the workers use. */
export function checkOnnxContract(inputs: readonly OnnxValueInfo[], outputs: readonly OnnxValueInfo[], dims: OnnxDims): OnnxBinding {
  const { observationSize: S, actionSize: A, envId } = dims;
  const { obs, noise } = pickInputs(inputs);
  checkMatrix(obs, 'input', S, `${envId} observations`);
  if (noise !== null) checkMatrix(noise, 'input', A, `standard normal noise for ${envId}'s ${A} action dimensions`);
  if (outputs.length !== 1) {
    throw new OnnxContractError(
      `the model has ${outputs.length} outputs (${outputs.map((o) => `'${o.name}'`).join(', ')}); expected exactly one, the actions [n, ${A}]`,
    );
  }
  const out = outputs[0]!;
  checkMatrix(out, 'output', A, `${envId} actions`);
  const batches = [batchOf(obs, 'input'), ...(noise ? [batchOf(noise, 'input')] : []), batchOf(out, 'output')];
  const batch = batches.includes(1) ? 1 : 'dynamic';
  return { obsInput: obs.name, noiseInput: noise?.name ?? null, output: out.name, batch };
}

/** The model's interface in one line, for messages and the result's policy description. */
export function describeOnnxInterface(inputs: readonly OnnxValueInfo[], outputs: readonly OnnxValueInfo[]): string {
  const one = (v: OnnxValueInfo): string => `${v.name}: ${v.isTensor ? `${v.type} ${fmtShape(v.shape)}` : 'not a tensor'}`;
  return `(${inputs.map(one).join(', ')}) -> (${outputs.map(one).join(', ')})`;
}
