/**
 * What a SAC run writes (src/sac/train.ts): its checkpoint format, file names, and float32
 * arrays as safetensors tensors.
 */
import type { TensorInput } from '../checkpoint/safetensors.js';
import type { NamedArray } from '../ofql/networks.js';

export const SAC_CHECKPOINT_FORMAT = 'ofql-eval/sac';
export const SAC_CHECKPOINT_FORMAT_VERSION = 1;
/** The ONNX policies in every SAC checkpoint directory. */
export const SAC_POLICY_FILES = { sampled: 'policy.onnx', mean: 'policy-mean.onnx' } as const;
export const SAC_RUN_FILES = { metrics: 'metrics.jsonl', experience: 'replay.hdf5', summary: 'summary.json', final: 'final', resume: 'resume' } as const;

/** Named float32 arrays as safetensors F32 tensors. */
export function asF32(named: ReadonlyMap<string, NamedArray>): Map<string, TensorInput> {
  return new Map([...named].map(([n, a]) => [n, { dtype: 'F32', shape: a.shape, data: a.data }]));
}
