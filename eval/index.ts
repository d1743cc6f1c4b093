/** Public API of the evaluation harness (re-exported from src/index.ts). */
export {
  evaluate,
  EvaluationError,
  episodeSeeds,
  DEFAULT_BATCH_SIZE,
  DEFAULT_EPISODES,
  DEFAULT_POLICY_TIMEOUT_MS,
  type EvaluateOptions,
  type Progress,
} from './evaluate.js';
export { EvalPool, defaultWorkerCount } from './pool.js';
export { mergeResults, MergeError, type MergeInput, type MergeOptions } from './merge.js';
export {
  RESULT_SCHEMA_VERSION,
  RESULT_KIND,
  readResultFile,
  writeResultFile,
  checkResultDocument,
  summarize,
  toJson,
  ResultFormatError,
  type EvalResultDocument,
  type EnvResult,
  type Summary,
  type PolicyInfo,
  type RetryRecord,
  type RunSettings,
  type RunTiming,
  type EnvTiming,
  type ShardInfo,
  type SourceShard,
} from './result.js';
export { partitionEpisodes, parseShard, chunksOfShard, episodesOfShard, type Shard, type EpisodeRange } from './schedule.js';
export { SUITES, expandEnvList, EnvListError } from './suites.js';
export { formatSummary } from './format.js';
export { createProgressReporter, type ProgressMode, type ProgressReporter } from './progress.js';
export { EpisodeRunner, type RunnerConfig, type ChunkOutcome, type EpisodeOutcome } from './runner.js';
