/** Public API of the evaluation harness (re-exported from src/index.ts). */
export {
  evaluate,
  EvaluationError,
  episodeSeeds,
  DEFAULT_BATCH_SIZE,
  DEFAULT_EPISODES,
  DEFAULT_POLICY_LOAD_TIMEOUT_MS,
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
export {
  BASELINE_SCHEMA_VERSION,
  BASELINE_KIND,
  BaselineFormatError,
  baselineFromResult,
  checkBaselineDocument,
  digestCheckpoint,
  readBaselineFile,
  writeBaselineFile,
  baselineToJson,
  type BaselineDocument,
  type BaselineEnv,
  type BaselinePolicy,
  type BaselineSettings,
  type BaselineSource,
  type CheckpointDigest,
} from './gate/baseline.js';
export {
  welchTTest,
  decide,
  compareEnv,
  regress,
  checkComparable,
  resolveDecisionOptions,
  decisionRuleText,
  minimumDetectableDrop,
  formatMarkdown,
  formatText,
  reportToJson,
  RegressInputError,
  RegressMismatchError,
  DEFAULT_ALPHA,
  DEFAULT_MIN_EFFECT,
  REGRESS_REPORT_KIND,
  type WelchResult,
  type Decision,
  type Verdict,
  type EnvComparison,
  type RegressReport,
  type RegressOptions,
  type Correction,
} from './gate/compare.js';
export { toJUnitXml, errorJUnitXml, escapeXml } from './gate/junit.js';
