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
  presetValues,
  HYPER_PARAM_PRESETS,
  DQL_PRESET,
  dqlTaskHyperparameters,
  gradNormForTask,
  validateConfig,
  type OfqlConfig,
  type DqlTaskHyperparameters,
  type HyperParamPreset,
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
export {
  saveOfqlCheckpoint,
  loadOfqlCheckpoint,
  readOfqlCheckpointConfig,
  ofqlConfigFromCheckpoint,
  ofqlModelShapes,
  ofqlOptimizerShapes,
  ofqlActorShapes,
  ofqlCriticShapes,
  ofqlEvalVersion,
  validateOfqlCheckpoint,
  ofqlTorchName,
  importOfqlTorchStateDict,
  importOfqlTorchSafetensors,
  DQL_SCHEDULE_BUFFERS,
  type OfqlCheckpointConfig,
  type SaveOfqlCheckpointOptions,
  type LoadOfqlCheckpointOptions,
  type LoadedOfqlCheckpoint,
} from './checkpoint.js';
export {
  readTorchOfqlModel,
  loadTorchOfqlAgent,
  readTorchSidecar,
  inferOfqlDims,
  checkSamplerForTorchModel,
  isTorchStateDictPath,
  TORCH_STATE_DICT_EXTENSIONS,
  type TorchOfqlModel,
  type TorchOfqlOptions,
  type TorchOfqlSidecar,
} from './torch-state-dict.js';
export {
  SAMPLER_NAMES,
  QGBS_DEFAULTS,
  DQL_DEFAULT_CANDIDATES,
  BEST_OF_N_DEFAULT,
  makeSamplerSpec,
  describeSampler,
  samplerNfe,
  checkSamplerForCheckpoint,
  type SamplerName,
  type SamplerSpec,
  type QgbsParams,
  type NfeCounts,
} from './sampler-spec.js';
export {
  sampleActions,
  samplerNetsFromAgent,
  samplerNetsFromParams,
  actorParamsFromNamed,
  criticParamsFromNamed,
  countingNets,
  type SamplerNets,
} from './samplers.js';
