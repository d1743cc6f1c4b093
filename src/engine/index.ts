/**
 * Which engine trains an OFQL agent: the ONNX engine (default; src/engine/ort-agent.ts) or the
 * TF.js agent (src/ofql/train-step.ts) on one of its backends. Both implement OfqlAgent with the
 * same seeds, draws, update rules and checkpoint names (test/engine-parity.test.ts).
 */
import type { OfqlConfig } from '../ofql/config.js';
import { initBackend, type BackendName } from '../ofql/tensor-backend.js';
import { createOfqlAgent, type OfqlAgent } from '../ofql/train-step.js';
import { createOrtOfqlAgent } from './ort-agent.js';

export { createOrtOfqlAgent, type EngineOptions } from './ort-agent.js';

export const TRAIN_BACKENDS = ['onnx', 'wasm', 'cpu', 'tensorflow'] as const;
export type TrainBackend = 'onnx' | BackendName;

/** Make `backend` ready; returns the factory of agents on it. `threads`: the ONNX engine's intra-op threads. */
export async function agentFactory(backend: TrainBackend, threads = 1): Promise<(config: OfqlConfig, seed: number) => OfqlAgent> {
  if (backend === 'onnx') return (config, seed) => createOrtOfqlAgent(config, seed, { threads });
  await initBackend(backend);
  return createOfqlAgent;
}
