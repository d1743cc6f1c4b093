/**
 * The result document (schema version 1; field by field in eval/RESULT_FORMAT.md): types,
 * summary statistics, writing (atomically, src/atomic-write.ts) and validated reading.
 */
import { readJsonFile } from '../src/json-file.js';
import { writeFileAtomic } from '../src/atomic-write.js';
import { MAX_EPISODES } from '../src/limits.js';
import { getEnvEntry } from '../src/registry.js';
import { deriveSeed } from '../src/rng.js';
import { describe, mean, meanConfidenceInterval, sampleStd } from '../src/stats.js';
import { type RecordedEpisode, checkRecordings } from './recording.js';
import { episodesOfShard } from './schedule.js';

/** Re-exported for the callers that write result-like files from here (the gate, scripts). */
export { writeFileAtomic };

export const RESULT_SCHEMA_VERSION = 1;
export const RESULT_KIND = 'ofql-eval/result';

export interface PolicyInfo {
  /** As given to --policy (built-in name or module path as written). */
  name: string;
  kind: 'builtin' | 'module';
  /** Absolute module path (modules only). */
  path: string | null;
  /** sha256 of the module file (modules only): identifies the policy across machines. */
  sha256: string | null;
  /** --ckpt as resolved (absolute path when it names a file or directory), or null. */
  ckpt: string | null;
  /** sha256 of the checkpoint file; null for no checkpoint, a directory, or a non-path. */
  ckptSha256: string | null;
  /**
   * OFQL checkpoint policy only (absent in older documents and for other policies): `--ckpt` as
   * given, e.g. a training run directory or `<run>@N`, which `ckpt` resolved.
   */
  ckptGiven?: string;
  /** OFQL only: the training run directory `ckpt` is a checkpoint of, or null (a checkpoint outside a run). */
  ckptRun?: string | null;
  /** OFQL only: the step of `ckpt` in its run (its step-NNNNNNNN name), or null outside a run. */
  ckptStep?: number | null;
}

export interface Summary {
  /** Episodes summarised. */
  episodes: number;
  returnMean: number;
  /** Sample standard deviation, ddof = 1. */
  returnStd: number;
  returnMin: number;
  returnMax: number;
  returnMedian: number;
  normalizedMean: number;
  /** Sample standard deviation, ddof = 1. */
  normalizedStd: number;
  /** Standard error of the mean, normalizedStd / sqrt(episodes). */
  normalizedSem: number;
  /** 95% Student t interval of the normalised mean, [low, high]; null for < 2 episodes. */
  normalizedCi95: [number, number] | null;
  /** Half-width of normalizedCi95. */
  normalizedCi95HalfWidth: number | null;
  /** t_{0.975, episodes-1} used for the interval. */
  tQuantile: number | null;
  lengthMean: number;
  lengthMin: number;
  lengthMax: number;
  /** Episodes that ended by the env's termination rule (rest: time limit). */
  terminatedEpisodes: number;
  truncatedEpisodes: number;
}

export interface RetryRecord {
  /** Episodes of the chunk that was retried. */
  episodes: number[];
  /** Why the first attempt failed (worker crash). */
  error: string;
  /** 'succeeded' or 'failed' (a second crash fails the run). */
  outcome: 'succeeded' | 'failed' | 'interrupted';
}

export interface EnvTiming {
  /** Env steps of the episodes in this result. */
  envSteps: number;
  /** Sum over chunks of the time workers spent on this env (seconds). */
  workerSeconds: number;
  /** Of which inside policy.act (seconds). */
  policySeconds: number;
  /** policySeconds / workerSeconds. */
  policyShare: number;
  /** Env steps per worker-second (one thread's rate). */
  envStepsPerWorkerSecond: number;
}

export interface EnvResult {
  envId: string;
  /** D4RL normalisation family and constants: 100 * (R - refMin) / (refMax - refMin). */
  family: string;
  refMin: number;
  refMax: number;
  /** Every episode of this result's share (shard) finished. */
  complete: boolean;
  /** Global indices of the finished episodes, ascending; arrays below are aligned with it. */
  episodes: number[];
  /** deriveSeed(settings.seed, index): the env reset seed of each episode. */
  seeds: number[];
  /** Undiscounted raw return of each episode. */
  returns: number[];
  lengths: number[];
  normalizedScores: number[];
  /** true: ended by termination (fell over / unhealthy / non-finite state); false: time limit. */
  terminated: boolean[];
  /** Indices of this share that did not finish (empty when complete). */
  pendingEpisodes: number[];
  summary: Summary | null;
  /** Policy.description reported by the policy for this env, if any. */
  policyDescription: string | null;
  /** Action entries outside [-1, 1] (passed to the env unchanged; MuJoCo clamps ctrl). */
  actionsOutOfRange: number;
  retries: RetryRecord[];
  /** Only with --record N: the trajectories of the episodes with index < N, in index order (eval/recording.ts). */
  recordings?: RecordedEpisode[];
  timing: EnvTiming;
}

export interface ShardInfo {
  index: number;
  count: number;
}

export interface RunSettings {
  /** --seed: episode i uses deriveSeed(seed, i). */
  seed: number;
  /** Episodes per env in the whole (unsharded) run. */
  episodes: number;
  maxEpisodeSteps: number;
  /** false when maxEpisodeSteps != 1000: scores are then not comparable with D4RL's. */
  d4rlComparable: boolean;
  /** Env slots per worker = rows per policy call. */
  batchSize: number;
  /** Max episodes per unit of work (fixes which episodes share a batch). */
  chunkSize: number;
  workers: number;
  /** Per act() call; 0 = none. */
  policyTimeoutMs: number;
  /** This run's share; null = all episodes. */
  shard: ShardInfo | null;
}

export interface RunTiming {
  startedAt: string;
  finishedAt: string;
  /** Wall-clock seconds of the run, worker start-up included. */
  wallSeconds: number;
  envSteps: number;
  /** envSteps / wallSeconds. */
  envStepsPerSecond: number;
}

export interface SourceShard {
  file: string;
  shard: ShardInfo | null;
  complete: boolean;
  hostname: string;
  wallSeconds: number;
  envSteps: number;
  workers: number;
}

export interface EvalResultDocument {
  schemaVersion: 1;
  kind: typeof RESULT_KIND;
  /** Every episode of every env of this share finished, and nothing failed. */
  complete: boolean;
  /** Stopped by Ctrl-C / SIGTERM / an abort signal. */
  interrupted: boolean;
  /** Why the run failed (policy error, repeated worker crash), else null. */
  error: string | null;
  createdAt: string;
  tool: { name: 'ofql-eval'; version: string };
  mujoco: { version: string | null; packageVersion: string };
  runtime: { node: string; platform: string; arch: string; cpus: number; cpuModel: string; hostname: string };
  command: string[] | null;
  settings: RunSettings;
  policy: PolicyInfo;
  timing: RunTiming;
  results: EnvResult[];
  /** Only in merged documents: the files merged. */
  mergedFrom?: SourceShard[];
}

/** Summary statistics of finished episodes (null when none). */
export function summarize(returns: number[], normalized: number[], lengths: number[], terminated: boolean[]): Summary | null {
  const n = returns.length;
  if (n === 0) return null;
  const r = describe(returns);
  const l = describe(lengths);
  const ci = meanConfidenceInterval(normalized, 0.95);
  const nStd = sampleStd(normalized);
  const term = terminated.filter(Boolean).length;
  return {
    episodes: n,
    returnMean: r.mean,
    returnStd: r.std,
    returnMin: r.min,
    returnMax: r.max,
    returnMedian: r.median,
    normalizedMean: mean(normalized),
    normalizedStd: nStd,
    normalizedSem: nStd / Math.sqrt(n),
    normalizedCi95: ci ? [ci.low, ci.high] : null,
    normalizedCi95HalfWidth: ci ? ci.halfWidth : null,
    tQuantile: ci ? ci.t : null,
    lengthMean: l.mean,
    lengthMin: l.min,
    lengthMax: l.max,
    terminatedEpisodes: term,
    truncatedEpisodes: n - term,
  };
}

/** What a producer of an `EnvResult` knows; `makeEnvResult` derives the rest. */
export type EnvResultParts = Omit<EnvResult, 'family' | 'refMin' | 'refMax' | 'complete' | 'summary' | 'timing'> &
  Pick<EnvTiming, 'envSteps' | 'workerSeconds' | 'policySeconds'> & {
    /** The env's normalisation family and constants (its registry entry). */
    reference: Pick<EnvResult, 'family' | 'refMin' | 'refMax'>;
  };

/**
 * An `EnvResult` from its parts: `complete` (nothing pending), the summary of the episode
 * arrays and the derived timing rates are computed here, so a run and a merge of its shards
 * derive them the same way.
 */
export function makeEnvResult(p: EnvResultParts): EnvResult {
  const { envSteps, workerSeconds, policySeconds } = p;
  return {
    envId: p.envId,
    family: p.reference.family,
    refMin: p.reference.refMin,
    refMax: p.reference.refMax,
    complete: p.pendingEpisodes.length === 0,
    episodes: p.episodes,
    seeds: p.seeds,
    returns: p.returns,
    lengths: p.lengths,
    normalizedScores: p.normalizedScores,
    terminated: p.terminated,
    pendingEpisodes: p.pendingEpisodes,
    summary: summarize(p.returns, p.normalizedScores, p.lengths, p.terminated),
    policyDescription: p.policyDescription,
    actionsOutOfRange: p.actionsOutOfRange,
    retries: p.retries,
    ...(p.recordings !== undefined ? { recordings: p.recordings } : {}),
    timing: {
      envSteps,
      workerSeconds,
      policySeconds,
      policyShare: workerSeconds > 0 ? policySeconds / workerSeconds : 0,
      envStepsPerWorkerSecond: workerSeconds > 0 ? envSteps / workerSeconds : 0,
    },
  };
}

/** The parts of a result document its producer decides; makeResultDocument adds the rest. */
export type ResultDocumentParts = Omit<EvalResultDocument, 'schemaVersion' | 'kind' | 'createdAt' | 'timing'> &
  Pick<RunTiming, 'startedAt' | 'finishedAt' | 'wallSeconds'>;

/**
 * A result document from its parts: the schema, the creation time and the run's env-step totals
 * are added here, so a run and a merge of its shards make them the same way.
 */
export function makeResultDocument(p: ResultDocumentParts): EvalResultDocument {
  const envSteps = p.results.reduce((a, r) => a + r.timing.envSteps, 0);
  return {
    schemaVersion: RESULT_SCHEMA_VERSION,
    kind: RESULT_KIND,
    complete: p.complete,
    interrupted: p.interrupted,
    error: p.error,
    createdAt: new Date().toISOString(),
    tool: p.tool,
    mujoco: p.mujoco,
    runtime: p.runtime,
    command: p.command,
    settings: p.settings,
    policy: p.policy,
    timing: {
      startedAt: p.startedAt,
      finishedAt: p.finishedAt,
      wallSeconds: p.wallSeconds,
      envSteps,
      envStepsPerSecond: p.wallSeconds > 0 ? envSteps / p.wallSeconds : 0,
    },
    results: p.results,
    ...(p.mergedFrom !== undefined ? { mergedFrom: p.mergedFrom } : {}),
  };
}

/**
 * JSON text of a document: 2-space indentation, arrays of numbers / booleans / strings on one
 * line (per-episode arrays stay readable), NaN and Infinity written as null (JSON has none).
 * Numbers are written by JSON.stringify, which round-trips every float64 exactly.
 */
export function toJson(doc: EvalResultDocument): string {
  return prettyJson(doc, '') + '\n';
}

/**
 * JSON text of any value in the layout of toJson (also used for baseline files, eval/gate/baseline.ts):
 * 2-space indentation, arrays of scalars on one line, non-finite numbers as null.
 */
export function prettyJson(v: unknown, indent = ''): string {
  if (typeof v === 'number') return Number.isFinite(v) ? JSON.stringify(v) : 'null';
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  const inner = indent + '  ';
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    if (v.every((x) => x === null || typeof x !== 'object')) return `[${v.map((x) => prettyJson(x, inner)).join(', ')}]`;
    return `[\n${v.map((x) => inner + prettyJson(x, inner)).join(',\n')}\n${indent}]`;
  }
  const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
  if (entries.length === 0) return '{}';
  return `{\n${entries.map(([k, x]) => `${inner}${JSON.stringify(k)}: ${prettyJson(x, inner)}`).join(',\n')}\n${indent}}`;
}

/** Write atomically: a temp file in the same directory, then rename over the target. */
export function writeResultFile(path: string, doc: EvalResultDocument): void {
  writeFileAtomic(path, toJson(doc));
}

export class ResultFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ResultFormatError';
  }
}

/** Read and check a result file (schema version, kind, the fields merge relies on). */
export function readResultFile(path: string): EvalResultDocument {
  const doc = readJsonFile(path, (stage, why) =>
    new ResultFormatError(stage === 'read' ? `cannot read ${path}: ${why}` : `${path} is not valid JSON: ${why}`),
  );
  return checkResultDocument(doc, path);
}

export function checkResultDocument(doc: unknown, source = 'result'): EvalResultDocument {
  const fail = (what: string): never => {
    throw new ResultFormatError(`${source}: ${what}`);
  };
  if (doc === null || typeof doc !== 'object') fail('not a JSON object');
  const d = doc as Partial<EvalResultDocument>;
  if (d.kind !== RESULT_KIND) fail(`not an ofql-eval result (kind is ${JSON.stringify(d.kind)})`);
  if (d.schemaVersion !== RESULT_SCHEMA_VERSION) {
    fail(`schemaVersion ${String(d.schemaVersion)} is not supported (this ofql-eval reads version ${RESULT_SCHEMA_VERSION})`);
  }
  if (!d.settings || typeof d.settings !== 'object') fail('missing settings');
  if (!d.policy || typeof d.policy !== 'object') fail('missing policy');
  checkCkptResolution(d.policy as PolicyInfo, fail);
  if (!Array.isArray(d.results)) fail('missing results');
  for (const [k, r] of (d.results as EnvResult[]).entries()) {
    if (typeof r.envId !== 'string') fail(`results[${k}].envId missing`);
    const n = Array.isArray(r.episodes) ? r.episodes.length : fail(`results[${k}].episodes missing`);
    for (const f of ['seeds', 'returns', 'lengths', 'normalizedScores', 'terminated'] as const) {
      if (!Array.isArray(r[f]) || r[f].length !== n) fail(`results[${k}].${f} must be an array of ${String(n)} entries`);
    }
    const bad = r.recordings === undefined ? null : checkRecordings(r.recordings);
    if (bad !== null) fail(`results[${k}].${bad}`);
  }
  return d as EvalResultDocument;
}

/** The optional run-directory fields of `policy` (absent in documents written before them). */
function checkCkptResolution(p: PolicyInfo, fail: (what: string) => never): void {
  if (p.ckptGiven !== undefined && typeof p.ckptGiven !== 'string') fail(`policy.ckptGiven must be a string, got ${JSON.stringify(p.ckptGiven)}`);
  if (p.ckptRun !== undefined && p.ckptRun !== null && typeof p.ckptRun !== 'string') fail(`policy.ckptRun must be a string or null, got ${JSON.stringify(p.ckptRun)}`);
  const step = p.ckptStep;
  if (step !== undefined && step !== null && !(typeof step === 'number' && Number.isSafeInteger(step) && step >= 0)) {
    fail(`policy.ckptStep must be a non-negative integer or null, got ${JSON.stringify(step)}`);
  }
}

/** Relative tolerance of a stored normalised score against the one its return gives. */
const SCORE_TOLERANCE = 1e-9;

/**
 * What is inconsistent in a result document that passed checkResultDocument: the cross-checks
 * a hand-edited file fails (docs/robustness.md). Each entry names the environment and field.
 * - `complete` flags against what is there: every episode of the run's share (settings.episodes,
 *   settings.chunkSize, settings.shard) present, nothing pending, no error, not interrupted;
 * - episode indices: integers, ascending, inside [0, settings.episodes);
 * - seeds: deriveSeed(settings.seed, index);
 * - normalised scores: 100 * (return - refMin) / (refMax - refMin), refMin / refMax as the registry's;
 * - lengths: 1..settings.maxEpisodeSteps.
 * The gate (`baseline`, `regress`) refuses a document with any of these.
 */
export function resultConsistencyProblems(doc: EvalResultDocument): string[] {
  const problems: string[] = [];
  const s = doc.settings;
  for (const k of ['seed', 'episodes', 'maxEpisodeSteps', 'chunkSize'] as const) {
    if (!Number.isSafeInteger(s[k]) || s[k] < (k === 'seed' ? 0 : 1)) problems.push(`settings.${k} must be a positive integer, got ${JSON.stringify(s[k])}`);
  }
  if (problems.length > 0) return problems;
  let scope: number[] | null = null;
  try {
    scope = s.episodes <= MAX_EPISODES ? episodesOfShard(s.episodes, s.chunkSize, s.shard) : null;
  } catch (err) {
    problems.push(`settings.shard ${JSON.stringify(s.shard)}: ${err instanceof Error ? err.message : String(err)}`);
  }
  for (const r of doc.results) problems.push(...envResultProblems(r, s, scope));
  const incomplete = doc.results.filter((r) => !r.complete).map((r) => r.envId);
  if (doc.complete) {
    if (doc.interrupted) problems.push('complete is true but interrupted is true');
    if (doc.error !== null) problems.push(`complete is true but error is set (${JSON.stringify(doc.error)})`);
    if (incomplete.length > 0) problems.push(`complete is true but results of ${incomplete.join(', ')} are not complete`);
  }
  return problems;
}


function envResultProblems(r: EnvResult, s: RunSettings, scope: number[] | null): string[] {
  const p: string[] = [];
  const id = r.envId;
  const eps = r.episodes;
  if (scope === null) p.push(`${id}: settings.episodes ${s.episodes} is more than ${MAX_EPISODES}`);
  for (let i = 0; i < eps.length; i++) {
    const e = eps[i];
    if (!Number.isSafeInteger(e) || e < 0 || e >= s.episodes) {
      p.push(`${id}: episodes[${i}] is ${JSON.stringify(e)}, outside 0..${s.episodes - 1} (settings.episodes ${s.episodes})`);
      break;
    }
    if (i > 0 && e <= eps[i - 1]) {
      p.push(`${id}: episodes must be ascending without repeats; episodes[${i}] = ${e} follows ${eps[i - 1]}`);
      break;
    }
  }
  if (scope !== null && p.length === 0) {
    const have = new Set(eps);
    const missing = scope.filter((e) => !have.has(e));
    const inScope = new Set(scope);
    const outside = eps.filter((e) => !inScope.has(e));
    if (outside.length > 0) p.push(`${id}: episodes ${outside.slice(0, 5).join(', ')} are not in this result's share of the run (settings.shard ${JSON.stringify(s.shard)})`);
    if (r.complete && missing.length > 0) {
      p.push(`${id}: complete is true but ${missing.length} of the ${scope.length} episodes are missing (e.g. ${missing.slice(0, 5).join(', ')}); an interrupted or edited result?`);
    }
    if (r.complete && Array.isArray(r.pendingEpisodes) && r.pendingEpisodes.length > 0) p.push(`${id}: complete is true but pendingEpisodes lists ${r.pendingEpisodes.length}`);
  }
  for (let i = 0; i < eps.length && p.length === 0; i++) {
    if (r.seeds[i] !== deriveSeed(s.seed, eps[i])) {
      p.push(`${id}: seeds[${i}] is ${JSON.stringify(r.seeds[i])}, but episode ${eps[i]} of a run seeded ${s.seed} resets with ${deriveSeed(s.seed, eps[i])}`);
    }
  }
  let ref: { refMin: number; refMax: number } | null = null;
  try {
    ref = getEnvEntry(id);
  } catch {
    ref = null; // an env this version does not know: compare with the document's own constants
  }
  if (ref !== null && (r.refMin !== ref.refMin || r.refMax !== ref.refMax)) {
    p.push(`${id}: refMin / refMax are ${r.refMin} / ${r.refMax}, but the D4RL constants of ${id} are ${ref.refMin} / ${ref.refMax}`);
  }
  const { refMin, refMax } = ref ?? r;
  for (let i = 0; i < eps.length; i++) {
    const R = r.returns[i];
    const ns = r.normalizedScores[i];
    if (typeof R !== 'number' || !Number.isFinite(R)) {
      p.push(`${id}: returns[${i}] is ${JSON.stringify(R)}, not a finite number`);
      break;
    }
    const want = (100 * (R - refMin)) / (refMax - refMin);
    if (typeof ns !== 'number' || !(Math.abs(ns - want) <= SCORE_TOLERANCE * Math.max(1, Math.abs(want)))) {
      p.push(`${id}: normalizedScores[${i}] is ${JSON.stringify(ns)}, but returns[${i}] = ${R} gives ${want} (100 * (R - ${refMin}) / (${refMax} - ${refMin})); the arrays disagree`);
      break;
    }
    const L = r.lengths[i];
    if (!Number.isSafeInteger(L) || L < 1 || L > s.maxEpisodeSteps) {
      p.push(`${id}: lengths[${i}] is ${JSON.stringify(L)}, outside 1..${s.maxEpisodeSteps} (settings.maxEpisodeSteps)`);
      break;
    }
  }
  return p;
}
