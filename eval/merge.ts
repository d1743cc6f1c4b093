/**
 * `merge`: shard results -> the result of the whole run. Episodes are placed by their global
 * index and the summary is recomputed from the merged arrays, so the merged returns, lengths,
 * scores and summary are exactly (bit for bit) those of the unsharded run. Whether the files are
 * shards of one run is checked first (eval/same-run.ts).
 */
import { getEnvEntry } from '../src/registry.js';
import { deriveSeed } from '../src/rng.js';
import { type EnvResult, type EvalResultDocument, type SourceShard, makeEnvResult, makeResultDocument } from './result.js';
import { MergeError, type MergeInput, checkSameRun } from './same-run.js';
import { episodeIndices } from './schedule.js';

export { MergeError, type MergeInput };

export interface MergeOptions {
  /** Write an incomplete result (complete: false) instead of failing when episodes are missing. */
  allowIncomplete?: boolean;
  command?: string[];
}

/** Where one episode of the merged run comes from: row j of a file's EnvResult. */
interface Placed {
  r: EnvResult;
  j: number;
  file: string;
}

/** Ranges listed in full before `rangesText` cuts the list short. */
const MAX_RANGES_SHOWN = 8;

export function mergeResults(inputs: readonly MergeInput[], options: MergeOptions = {}): EvalResultDocument {
  if (inputs.length === 0) throw new MergeError('nothing to merge: give at least one result file');
  const shards = checkSameRun(inputs);
  const results = inputs[0].doc.results.map((_, k) => mergeEnv(inputs, k));
  if (!options.allowIncomplete) checkComplete(results, inputs[0].doc, shards);
  return mergedDocument(inputs, results, options.command);
}

/** Environment k of the merged run, its episodes in index order. */
function mergeEnv(inputs: readonly MergeInput[], k: number): EnvResult {
  const { episodes: total, seed } = inputs[0].doc.settings;
  const envId = inputs[0].doc.results[k].envId;
  const byIndex = placeEpisodes(inputs, k, total, seed);
  const parts = inputs.map((i) => i.doc.results[k]);
  const order = [...byIndex.keys()].sort((a, b) => a - b);
  const pick = <T>(get: (r: EnvResult, j: number) => T): T[] =>
    order.map((i) => {
      const e = byIndex.get(i)!;
      return get(e.r, e.j);
    });
  const recordings = parts.flatMap((r) => r.recordings ?? []);
  return makeEnvResult({
    envId,
    reference: getEnvEntry(envId),
    episodes: order,
    seeds: pick((r, j) => r.seeds[j]),
    returns: pick((r, j) => r.returns[j]),
    lengths: pick((r, j) => r.lengths[j]),
    normalizedScores: pick((r, j) => r.normalizedScores[j]),
    terminated: pick((r, j) => r.terminated[j]),
    pendingEpisodes: upTo(total).filter((i) => !byIndex.has(i)),
    policyDescription: parts.map((r) => r.policyDescription).find((d) => d !== null && d !== undefined) ?? null,
    actionsOutOfRange: sumOf(parts, (r) => r.actionsOutOfRange),
    retries: parts.flatMap((r) => r.retries),
    ...(recordings.length > 0 ? { recordings: recordings.sort((a, b) => a.episode - b.episode) } : {}),
    envSteps: sumOf(parts, (r) => r.timing.envSteps),
    workerSeconds: sumOf(parts, (r) => r.timing.workerSeconds),
    policySeconds: sumOf(parts, (r) => r.timing.policySeconds),
  });
}

/** Every episode of environment k by its index; no index outside the run or twice, every seed the run's. */
function placeEpisodes(inputs: readonly MergeInput[], k: number, total: number, seed: number): Map<number, Placed> {
  const envId = inputs[0].doc.results[k].envId;
  const byIndex = new Map<number, Placed>();
  for (const { file, doc } of inputs) {
    const r = doc.results[k];
    r.episodes.forEach((idx, j) => {
      if (!Number.isSafeInteger(idx) || idx < 0 || idx >= total) {
        throw new MergeError(`${file}: ${envId} episode index ${String(idx)} is outside 0..${total - 1}`);
      }
      const prev = byIndex.get(idx);
      if (prev) throw new MergeError(`${envId} episode ${idx} is in both ${prev.file} and ${file} (overlapping shards)`);
      if (r.seeds[j] !== deriveSeed(seed, idx)) {
        throw new MergeError(`${file}: ${envId} episode ${idx} has seed ${r.seeds[j]}, expected deriveSeed(${seed}, ${idx})`);
      }
      byIndex.set(idx, { r, j, file });
    });
  }
  return byIndex;
}

/** A MergeError saying which episodes and shards are missing, if any are. */
function checkComplete(results: readonly EnvResult[], first: EvalResultDocument, shards: ReadonlyMap<number, string>): void {
  const missing = results.filter((r) => r.pendingEpisodes.length > 0);
  if (missing.length === 0) return;
  const total = first.settings.episodes;
  const count = first.settings.shard?.count ?? 1;
  const absent = upTo(count).filter((i) => !shards.has(i)).map((i) => `${i}/${count}`);
  const envs = missing.map((r) => `${r.envId} misses ${r.pendingEpisodes.length} of ${total} episodes (${rangesText(r.pendingEpisodes)})`);
  const why = absent.length ? `shards not given: ${absent.join(', ')}` : 'some shard files are partial (complete: false)';
  throw new MergeError(`the merged result would be incomplete: ${envs.join('; ')}; ${why}. Use --allow-incomplete to write it anyway.`);
}

function mergedDocument(inputs: readonly MergeInput[], results: EnvResult[], command: string[] | undefined): EvalResultDocument {
  const fd = inputs[0].doc;
  const docs = inputs.map((i) => i.doc);
  const errors = inputs.filter((i) => i.doc.error !== null).map((i) => `${i.file}: ${i.doc.error}`);
  return makeResultDocument({
    complete: results.every((r) => r.complete) && errors.length === 0,
    interrupted: docs.some((d) => d.interrupted),
    error: errors.length ? errors.join('; ') : null,
    tool: fd.tool,
    mujoco: { version: docs.map((d) => d.mujoco.version).find((v) => v !== null) ?? null, packageVersion: fd.mujoco.packageVersion },
    runtime: fd.runtime,
    command: command ?? null,
    settings: { ...fd.settings, workers: sumOf(docs, (d) => d.settings.workers), shard: null },
    policy: fd.policy,
    startedAt: docs.map((d) => d.timing.startedAt).sort()[0],
    finishedAt: docs.map((d) => d.timing.finishedAt).sort().at(-1)!,
    wallSeconds: Math.max(...docs.map((d) => d.timing.wallSeconds)),
    results,
    mergedFrom: inputs.map(sourceShard),
  });
}

function sourceShard({ file, doc }: MergeInput): SourceShard {
  return {
    file,
    shard: doc.settings.shard,
    complete: doc.complete,
    hostname: doc.runtime.hostname,
    wallSeconds: doc.timing.wallSeconds,
    envSteps: doc.timing.envSteps,
    workers: doc.settings.workers,
  };
}

/** [0,1,2,5,7,8] -> "0-2, 5, 7-8" */
export function rangesText(indices: readonly number[]): string {
  const parts: string[] = [];
  for (let k = 0; k < indices.length; ) {
    let e = k;
    while (e + 1 < indices.length && indices[e + 1] === indices[e] + 1) e++;
    parts.push(e === k ? `${indices[k]}` : `${indices[k]}-${indices[e]}`);
    k = e + 1;
  }
  return parts.length > MAX_RANGES_SHOWN ? `${parts.slice(0, MAX_RANGES_SHOWN).join(', ')}, ...` : parts.join(', ');
}

/** Sum in the files' order (float addition is not associative: the same order, the same bits). */
function sumOf<T>(xs: readonly T[], f: (x: T) => number): number {
  return xs.reduce((a, x) => a + f(x), 0);
}

/** 0, ..., n - 1 */
function upTo(n: number): number[] {
  return episodeIndices({ start: 0, end: n });
}
