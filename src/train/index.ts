/** Training OFQL on D4RL data (`ofql-eval train`): loop, sampler, logs, progress. */
export { TrainError, type TrainErrorCode } from './errors.js';
export {
  train,
  effectiveConfig,
  listCheckpoints,
  stepDirName,
  TRAIN_DEFAULTS,
  FILES as TRAIN_FILES,
  FLAG_OF_FIELD,
  type TrainOptions,
  type TrainOverrides,
  type TrainResult,
  type MetricsLine,
  type EvalLine,
  type DatasetInfo,
} from './trainer.js';
export { UniformSampler, tuneRewards, REWARD_TUNES, type RewardTune, type SamplerData } from './sampler.js';
export { JsonlWriter, truncateJsonlAfterStep, readJsonl } from './jsonl.js';
export { createTrainProgress, type TrainProgressMode, type TrainProgressReporter, type TrainProgress } from './progress.js';
