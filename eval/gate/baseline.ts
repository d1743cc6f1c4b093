/**
 * Baseline documents for the score-regression gate (`ofql-eval baseline`, docs/regression-gate.md).
 *
 * A baseline is a versioned JSON file (`kind: "ofql-eval/baseline"`, `schemaVersion: 1`) made from
 * one complete, unsharded evaluation result (eval/RESULT_FORMAT.md). It keeps, per environment,
 * the per-episode normalised scores (so that any test can be run against it later, not only the
 * one `ofql-eval regress` runs today), the returns, lengths and seeds, and their mean, sample std
 * (ddof = 1), n and 95% Student t interval; plus the run settings, the policy / checkpoint
 * identity (SHA-256 of the policy module, of a checkpoint file, or a tree digest of a checkpoint
 * directory) and the ofql-eval / MuJoCo versions of the run.
 *
 * Compatibility: readers check `kind` and `schemaVersion`; a change that removes or redefines a
 * field bumps `schemaVersion`, new fields may be added within version 1.
 */
import { sha256Hex } from '../../src/hash.js';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { readJsonFile } from '../../src/json-file.js';
import { join, relative, sep } from 'node:path';
import { MAX_ABS_SCORE } from '../../src/limits.js';
import { mean, meanConfidenceInterval, sampleStd } from '../../src/stats.js';
import { type EvalResultDocument, type PolicyInfo, type RunSettings, prettyJson, resultConsistencyProblems, writeFileAtomic } from '../result.js';

export { prettyJson };

export const BASELINE_SCHEMA_VERSION = 1;
export const BASELINE_KIND = 'ofql-eval/baseline';

/** Identity of a checkpoint's bytes. */
export interface CheckpointDigest {
  /**
   * `sha256`: SHA-256 of the checkpoint file. `sha256-tree`: SHA-256 of the text made of one line
   * `<sha256 of file>  <path relative to the directory, '/'-separated>\n` per regular file under
   * the directory, sorted by path (the format of `sha256sum`, so
   * `(cd dir && find . -type f | sed 's|^\./||' | LC_ALL=C sort | xargs sha256sum) | sha256sum`
   * reproduces it for names without spaces).
   */
  algorithm: 'sha256' | 'sha256-tree';
  value: string;
  /** Files hashed (1 for a file). */
  files: number;
  /**
   * `evaluation`: hashed by the evaluation itself (result `policy.ckptSha256`) or right before the
   * run that made this baseline; `baseline`: hashed from disk when the baseline was made from an
   * existing result file (the directory may have changed since that evaluation).
   */
  hashedAt: 'evaluation' | 'baseline';
}

export interface BaselinePolicy extends PolicyInfo {
  /** Digest of `ckpt` (file or directory), null without a checkpoint or when it is not on disk. */
  ckptDigest: CheckpointDigest | null;
  /**
   * OFQL checkpoint runs made by `ofql-eval baseline`: the sampler options given (the CLI option
   * names of src/policy/ofql-cli.ts, e.g. {"sampler": "dql"}; {} = the defaults); `regress` reuses
   * them unless overridden. null otherwise (also for baselines made from result files).
   */
  ofqlOptions?: Record<string, unknown> | null;
}

/** The run settings a comparison must match (RunSettings without workers and shard, which do not change scores). */
export type BaselineSettings = Pick<RunSettings, 'seed' | 'episodes' | 'maxEpisodeSteps' | 'd4rlComparable' | 'batchSize' | 'chunkSize' | 'policyTimeoutMs'>;

export interface BaselineEnv {
  envId: string;
  family: string;
  refMin: number;
  refMax: number;
  /** Episodes (= entries of the arrays below). */
  n: number;
  /** Mean of normalizedScores. */
  mean: number;
  /** Sample std (ddof = 1) of normalizedScores. */
  std: number;
  /** std / sqrt(n). */
  sem: number;
  /** Two-sided 95% Student t interval of the mean, [low, high]. */
  ci95: [number, number] | null;
  /** Global episode indices, ascending; the arrays below are aligned with it. */
  episodes: number[];
  seeds: number[];
  /** 100 * (return - refMin) / (refMax - refMin), per episode: what `regress` tests. */
  normalizedScores: number[];
  returns: number[];
  lengths: number[];
  terminated: boolean[];
  /** Policy.description reported for this env in the run (e.g. the sampler), or null. */
  policyDescription: string | null;
}

export interface BaselineSource {
  /** `results`: made from a result file (`--results`); `run`: from an evaluation run by `baseline`. */
  kind: 'results' | 'run';
  /** The result file as given (`results`), else null. */
  file: string | null;
  /** SHA-256 of the result file's bytes (`results`), else null. */
  fileSha256: string | null;
  /** `createdAt` and `command` of the result document. */
  resultCreatedAt: string;
  resultCommand: string[] | null;
  /** The result's `runtime.hostname` and wall time. */
  hostname: string;
  wallSeconds: number;
}

export interface BaselineDocument {
  schemaVersion: 1;
  kind: typeof BASELINE_KIND;
  createdAt: string;
  /** Free text (`--label`), e.g. "OFQL main@abc123, 2026-11". */
  label: string | null;
  /** The `ofql-eval baseline` command line. */
  command: string[] | null;
  /** Versions of the evaluation that produced the scores. */
  tool: { name: 'ofql-eval'; version: string };
  mujoco: { version: string | null; packageVersion: string };
  source: BaselineSource;
  settings: BaselineSettings;
  policy: BaselinePolicy;
  envs: BaselineEnv[];
}

export class BaselineFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BaselineFormatError';
  }
}

export interface BaselineFromResultOptions {
  label?: string | null;
  command?: string[] | null;
  source: { kind: 'results' | 'run'; file?: string | null; fileSha256?: string | null };
  /** Digest of the checkpoint; default: from the result's ckptSha256, else none. */
  ckptDigest?: CheckpointDigest | null;
  /** OFQL sampler options of the run (BaselinePolicy.ofqlOptions). */
  ofqlOptions?: Record<string, unknown> | null;
}

/**
 * Make a baseline from a result document. The result must be a complete, unsharded run (merge
 * shards first) with at least 2 episodes per environment and finite scores.
 */
export function baselineFromResult(doc: EvalResultDocument, options: BaselineFromResultOptions): BaselineDocument {
  const where = options.source.file ?? 'the evaluation';
  if (!doc.complete) {
    throw new BaselineFormatError(
      `${where} is not a complete result (${doc.error ? `error: ${doc.error}` : doc.interrupted ? 'interrupted' : 'episodes missing'}); a baseline needs every episode`,
    );
  }
  if (doc.settings.shard !== null) {
    throw new BaselineFormatError(
      `${where} is shard ${doc.settings.shard.index}/${doc.settings.shard.count} of a run; merge the shards first ('ofql-eval merge')`,
    );
  }
  if (doc.results.length === 0) throw new BaselineFormatError(`${where} has no environments`);
  // The flags above can be edited; the arrays must agree with them and with each other.
  const problems = resultConsistencyProblems(doc);
  if (problems.length > 0) throw new BaselineFormatError(`${where} is not a consistent result document: ${problems.join('; ')}`);
  const seen = new Set<string>();
  const envs = doc.results.map((r): BaselineEnv => {
    if (seen.has(r.envId)) throw new BaselineFormatError(`${where}: ${r.envId} appears twice`);
    seen.add(r.envId);
    const s = r.normalizedScores;
    if (s.length < 2) throw new BaselineFormatError(`${where}: ${r.envId} has ${s.length} episode(s); a baseline needs at least 2 per environment`);
    if (!s.every((x) => typeof x === 'number' && Number.isFinite(x))) {
      throw new BaselineFormatError(`${where}: ${r.envId} has non-finite normalised scores`);
    }
    const std = sampleStd(s);
    const ci = meanConfidenceInterval(s, 0.95);
    return {
      envId: r.envId,
      family: r.family,
      refMin: r.refMin,
      refMax: r.refMax,
      n: s.length,
      mean: mean(s),
      std,
      sem: std / Math.sqrt(s.length),
      ci95: ci ? [ci.low, ci.high] : null,
      episodes: [...r.episodes],
      seeds: [...r.seeds],
      normalizedScores: [...s],
      returns: [...r.returns],
      lengths: [...r.lengths],
      terminated: [...r.terminated],
      policyDescription: r.policyDescription ?? null,
    };
  });
  const p = doc.policy;
  const ckptDigest =
    options.ckptDigest !== undefined
      ? options.ckptDigest
      : p.ckptSha256 !== null
        ? { algorithm: 'sha256' as const, value: p.ckptSha256, files: 1, hashedAt: 'evaluation' as const }
        : null;
  const st = doc.settings;
  return {
    schemaVersion: BASELINE_SCHEMA_VERSION,
    kind: BASELINE_KIND,
    createdAt: new Date().toISOString(),
    label: options.label ?? null,
    command: options.command ?? null,
    tool: { name: 'ofql-eval', version: doc.tool.version },
    mujoco: { version: doc.mujoco.version, packageVersion: doc.mujoco.packageVersion },
    source: {
      kind: options.source.kind,
      file: options.source.file ?? null,
      fileSha256: options.source.fileSha256 ?? null,
      resultCreatedAt: doc.createdAt,
      resultCommand: doc.command,
      hostname: doc.runtime?.hostname ?? 'unknown',
      wallSeconds: doc.timing?.wallSeconds ?? 0,
    },
    settings: {
      seed: st.seed,
      episodes: st.episodes,
      maxEpisodeSteps: st.maxEpisodeSteps,
      d4rlComparable: st.d4rlComparable,
      batchSize: st.batchSize,
      chunkSize: st.chunkSize,
      policyTimeoutMs: st.policyTimeoutMs,
    },
    policy: { ...p, ckptDigest, ofqlOptions: options.ofqlOptions ?? null },
    envs,
  };
}

/**
 * Digest of a checkpoint on disk: SHA-256 of a file, or the tree digest of a directory (see
 * CheckpointDigest). null when `path` is null or names nothing on disk.
 */
export function digestCheckpoint(path: string | null, hashedAt: CheckpointDigest['hashedAt']): CheckpointDigest | null {
  if (path === null) return null;
  let st;
  try {
    st = statSync(path);
  } catch {
    return null;
  }
  if (st.isFile()) return { algorithm: 'sha256', value: sha256(readFileSync(path)), files: 1, hashedAt };
  if (!st.isDirectory()) return null;
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const full = join(dir, name);
      const s = statSync(full);
      if (s.isDirectory()) walk(full);
      else if (s.isFile()) files.push(full);
    }
  };
  walk(path);
  const lines = files
    .map((f) => ({ rel: relative(path, f).split(sep).join('/'), f }))
    .sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0))
    .map(({ rel, f }) => `${sha256(readFileSync(f))}  ${rel}\n`);
  return { algorithm: 'sha256-tree', value: sha256(Buffer.from(lines.join(''), 'utf8')), files: files.length, hashedAt };
}

export function sha256(data: Buffer | string): string {
  return sha256Hex(data);
}

/** JSON text: 2-space indentation, arrays of scalars on one line, non-finite numbers as null. */
export function baselineToJson(doc: BaselineDocument): string {
  return prettyJson(doc, '') + '\n';
}

/** Write atomically (temp file + rename). */
export function writeBaselineFile(path: string, doc: BaselineDocument): void {
  writeFileAtomic(path, baselineToJson(doc));
}

export function readBaselineFile(path: string): BaselineDocument {
  const doc = readJsonFile(path, (stage, why) =>
    new BaselineFormatError(stage === 'read' ? `cannot read baseline ${path}: ${why}` : `baseline ${path} is not valid JSON: ${why}`),
  );
  return checkBaselineDocument(doc, path);
}

/** Check kind, version and every field `regress` relies on. */
export function checkBaselineDocument(doc: unknown, source = 'baseline'): BaselineDocument {
  const fail = (what: string): never => {
    throw new BaselineFormatError(`${source}: ${what}`);
  };
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) fail('not a JSON object');
  const d = doc as Partial<BaselineDocument> & { kind?: unknown };
  if (d.kind !== BASELINE_KIND) {
    const hint = d.kind === 'ofql-eval/result' ? ` (this is a result file: make a baseline with 'ofql-eval baseline --results ${source} --out baseline.json')` : '';
    fail(`not an ofql-eval baseline (kind is ${JSON.stringify(d.kind)})${hint}`);
  }
  if (d.schemaVersion !== BASELINE_SCHEMA_VERSION) {
    fail(`schemaVersion ${String(d.schemaVersion)} is not supported (this ofql-eval reads baseline version ${BASELINE_SCHEMA_VERSION})`);
  }
  const s = d.settings;
  if (!s || typeof s !== 'object') fail('missing settings');
  for (const k of ['seed', 'episodes', 'maxEpisodeSteps', 'batchSize', 'chunkSize', 'policyTimeoutMs'] as const) {
    if (typeof s![k] !== 'number' || !Number.isFinite(s![k])) fail(`settings.${k} must be a number`);
  }
  if (typeof s!.d4rlComparable !== 'boolean') fail('settings.d4rlComparable must be a boolean');
  if (!d.policy || typeof d.policy !== 'object' || typeof d.policy.name !== 'string') fail('missing policy');
  if (!d.tool || typeof d.tool.version !== 'string') fail('missing tool.version');
  if (!d.mujoco || typeof d.mujoco.packageVersion !== 'string') fail('missing mujoco.packageVersion');
  if (!Array.isArray(d.envs) || d.envs.length === 0) fail('envs must be a non-empty array');
  const seen = new Set<string>();
  for (const [k, e] of d.envs!.entries()) {
    if (!e || typeof e !== 'object') fail(`envs[${k}] is not an object`);
    if (typeof e.envId !== 'string' || e.envId === '') fail(`envs[${k}].envId missing`);
    if (seen.has(e.envId)) fail(`${e.envId} appears twice`);
    seen.add(e.envId);
    for (const f of ['refMin', 'refMax'] as const) {
      if (typeof e[f] !== 'number' || !Number.isFinite(e[f])) fail(`envs[${k}] (${e.envId}).${f} must be a number`);
    }
    if (!Array.isArray(e.normalizedScores)) fail(`envs[${k}] (${e.envId}).normalizedScores missing`);
    if (e.normalizedScores.length < 2) fail(`${e.envId} has ${e.normalizedScores.length} score(s); at least 2 are needed`);
    if (!e.normalizedScores.every((x) => typeof x === 'number' && Number.isFinite(x))) {
      fail(`${e.envId}: normalizedScores must all be finite numbers`);
    }
    const huge = e.normalizedScores.findIndex((x) => Math.abs(x) > MAX_ABS_SCORE);
    if (huge >= 0) fail(`${e.envId}: normalizedScores[${huge}] is ${e.normalizedScores[huge]}, beyond the limit of +-${MAX_ABS_SCORE} normalised points (an edited file?)`);
    if (e.n !== e.normalizedScores.length) fail(`${e.envId}: n is ${String(e.n)} but normalizedScores has ${e.normalizedScores.length} entries`);
  }
  return d as BaselineDocument;
}
