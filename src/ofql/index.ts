/**
 * One-Step Flow Q-Learning (OFQL) in TypeScript on TensorFlow.js.
 * Public surface: config, backend selection, the agent, and the network/loss building blocks
 * (for tests, checkpoints and tools). Agent inputs and outputs are Float32Arrays.
 */
export {
  OFQL_DEFAULTS,
  DQL_TASK_HYPERPARAMETERS,
  OfqlConfigError,
  makeOfqlConfig,
  ofqlConfigForTask,
  dqlTaskHyperparameters,
  gradNormForTask,
  validateConfig,
  type OfqlConfig,
  type DqlTaskHyperparameters,
  type FlowRatioSampling,
  type BcReduction,
  type EmaWarmup,
} from './config.js';
export {
  initBackend,
  currentBackend,
  BackendUnavailableError,
  NATIVE_TF_PACKAGES,
  type BackendName,
  type BackendInfo,
} from './tensor-backend.js';
export {
  createOfqlAgent,
  type OfqlAgent,
  type OfqlMetrics,
  type CriticMetrics,
  type OfqlTrainingState,
  type TransitionBatch,
} from './train-step.js';
export { toTorchLayout, fromTorchLayout, type NamedArray } from './networks.js';
export { benchmarkOfqlStep, type OfqlBenchOptions, type OfqlBenchResult } from './bench.js';
