/**
 * Which engine trains an OFQL agent: the ONNX engine (default; src/engine/ort-agent.ts) or the
 * TF.js agent (src/ofql/train-step.ts) on one of its backends. Both implement OfqlAgent with the
 * same seeds, draws, update rules and checkpoint names (test/engine-parity.test.ts).
 */
import type { OfqlConfig } from '../ofql/config.js';
import { initBackend, type BackendName } from '../ofql/tensor-backend.js';
import { createOfqlAgent, type OfqlAgent } from '../ofql/train-step.js';
import { createOrtOfqlAgent, type EngineOptions } from './ort-agent.js';
import { GraphBuilder } from './graph.js';
import { EngineDeviceError, probeDevice } from './ort-session.js';

export { createOrtOfqlAgent, type EngineOptions } from './ort-agent.js';
export { ENGINE_DEVICES, EngineDeviceError, type EngineDevice } from './ort-session.js';

export const TRAIN_BACKENDS = ['onnx', 'wasm', 'cpu', 'tensorflow'] as const;
export type TrainBackend = 'onnx' | BackendName;

/** Make `backend` ready; returns the factory of agents on it. `engine`: the ONNX engine's threads and device. */
export async function agentFactory(backend: TrainBackend, engine: EngineOptions = {}): Promise<(config: OfqlConfig, seed: number) => OfqlAgent> {
  if (backend === 'onnx') {
    probeDevice(engine.device ?? 'cpu', identityModel);
    return (config, seed) => createOrtOfqlAgent(config, seed, engine);
  }
  if (engine.device !== undefined && engine.device !== 'cpu') {
    throw new EngineDeviceError(`--device ${engine.device} runs the onnx engine's graphs; the TF.js backend '${backend}' picks its own device (use --backend onnx)`);
  }
  await initBackend(backend);
  return createOfqlAgent;
}

/** The smallest graph a provider must run: y = Identity(x). */
function identityModel(): Uint8Array {
  const g = new GraphBuilder('device-probe');
  g.output('y', g.input('x', [1]), [1]);
  return g.encode('ofql-eval device probe');
}
