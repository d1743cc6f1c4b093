/**
 * `merge`: shard results -> the result of the whole run. Episodes are placed by their global
 * index and the summary is recomputed from the merged arrays, so the merged returns, lengths,
 * scores and summary are exactly (bit for bit) those of the unsharded run.
 */
import { basename } from 'node:path';
import { getEnvEntry } from '../src/registry.js';
import { deriveSeed } from '../src/rng.js';
import {
  type EnvResult,
  type EvalResultDocument,
  RESULT_KIND,
  RESULT_SCHEMA_VERSION,
  type SourceShard,
  makeEnvResult,
} from './result.js';

export class MergeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MergeError';
  }
}

export interface MergeInput {
  /** Name used in messages (the file path). */
  file: string;
  doc: EvalResultDocument;
}

export interface MergeOptions {
  /** Write an incomplete result (complete: false) instead of failing when episodes are missing. */
  allowIncomplete?: boolean;
  command?: string[];
}

export function mergeResults(inputs: readonly MergeInput[], options: MergeOptions = {}): EvalResultDocument {
  if (inputs.length === 0) throw new MergeError('nothing to merge: give at least one result file');
  const first = inputs[0];
  const fd = first.doc;

  // 1. Same run: everything that decides an episode's outcome must match.
  const identity: [string, (d: EvalResultDocument) => unknown][] = [
    ['environments (--env)', (d) => d.results.map((r) => r.envId).join(',')],
    ['seed (--seed)', (d) => d.settings.seed],
    ['episodes in the whole run (--episodes)', (d) => d.settings.episodes],
    ['max episode steps (--max-episode-steps)', (d) => d.settings.maxEpisodeSteps],
    ['batch size (--batch-size)', (d) => d.settings.batchSize],
    ['chunk size', (d) => d.settings.chunkSize],
    ['policy', (d) => policyIdentity(d)],
    ['checkpoint (--ckpt)', (d) => ckptIdentity(d)],
    ['ofql-eval version', (d) => d.tool.version],
    ['@mujoco/mujoco version', (d) => d.mujoco.packageVersion],
  ];
  for (const { file, doc } of inputs.slice(1)) {
    for (const [what, get] of identity) {
      const a = get(fd);
      const b = get(doc);
      if (a !== b) {
        throw new MergeError(
          `${file} is not from the same run as ${first.file}: different ${what} (${JSON.stringify(b)} vs ${JSON.stringify(a)})`,
        );
      }
    }
  }
  // 2. What the policy says about itself (an OFQL checkpoint: sampler and its parameters, actor,
  // backend) must agree wherever both files report it; checkpoint paths inside it may differ by machine.
  for (const { file, doc } of inputs.slice(1)) {
    for (let j = 0; j < fd.results.length; j++) {
      const a = descriptionIdentity(fd, j);
      const b = descriptionIdentity(doc, j);
      if (a !== null && b !== null && a !== b) {
        throw new MergeError(
          `${file} is not from the same run as ${first.file}: different policy description for ${fd.results[j]!.envId} ` +
            `(${JSON.stringify(b)} vs ${JSON.stringify(a)}), e.g. another --sampler, --ofql-actor or --backend`,
        );
      }
    }
  }
  const shardCounts = new Set(inputs.map((i) => i.doc.settings.shard?.count ?? 1));
  if (shardCounts.size > 1) {
    throw new MergeError(
      `the files split the run differently: ${inputs.map((i) => `${i.file} is ${shardText(i.doc)}`).join(', ')}`,
    );
  }
  const seenShard = new Map<number, string>();
  for (const { file, doc } of inputs) {
    const idx = doc.settings.shard?.index ?? 0;
    const other = seenShard.get(idx);
    if (other !== undefined) throw new MergeError(`${shardText(doc)} is given twice: ${other} and ${file}`);
    seenShard.set(idx, file);
  }

  // 2. Place episodes by index; no episode twice.
  const total = fd.settings.episodes;
  const seed = fd.settings.seed;
  const results: EnvResult[] = fd.results.map((r0, k) => {
    const envId = r0.envId;
    const byIndex = new Map<number, { r: EnvResult; j: number; file: string }>();
    const retries: EnvResult['retries'] = [];
    let outOfRange = 0;
    let envSteps = 0;
    let workerSeconds = 0;
    let policySeconds = 0;
    let description: string | null = null;
    const recordings: NonNullable<EnvResult['recordings']> = [];
    for (const { file, doc } of inputs) {
      const r = doc.results[k];
      recordings.push(...(r.recordings ?? []));
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
      retries.push(...r.retries);
      outOfRange += r.actionsOutOfRange;
      envSteps += r.timing.envSteps;
      workerSeconds += r.timing.workerSeconds;
      policySeconds += r.timing.policySeconds;
      description ??= r.policyDescription;
    }
    const order = [...byIndex.keys()].sort((a, b) => a - b);
    const pick = <T>(get: (r: EnvResult, j: number) => T): T[] => order.map((i) => {
      const e = byIndex.get(i)!;
      return get(e.r, e.j);
    });
    const pendingEpisodes: number[] = [];
    for (let i = 0; i < total; i++) if (!byIndex.has(i)) pendingEpisodes.push(i);
    return makeEnvResult({
      envId,
      reference: getEnvEntry(envId),
      episodes: order,
      seeds: pick((r, j) => r.seeds[j]),
      returns: pick((r, j) => r.returns[j]),
      lengths: pick((r, j) => r.lengths[j]),
      normalizedScores: pick((r, j) => r.normalizedScores[j]),
      terminated: pick((r, j) => r.terminated[j]),
      pendingEpisodes,
      policyDescription: description,
      actionsOutOfRange: outOfRange,
      retries,
      ...(recordings.length > 0 ? { recordings: recordings.sort((a, b) => a.episode - b.episode) } : {}),
      envSteps,
      workerSeconds,
      policySeconds,
    });
  });

  const missing = results.filter((r) => r.pendingEpisodes.length > 0);
  if (missing.length > 0 && !options.allowIncomplete) {
    const count = fd.settings.shard?.count ?? 1;
    const have = [...seenShard.keys()].sort((a, b) => a - b);
    const absent: string[] = [];
    for (let i = 0; i < count; i++) if (!have.includes(i)) absent.push(`${i}/${count}`);
    throw new MergeError(
      `the merged result would be incomplete: ${missing
        .map((r) => `${r.envId} misses ${r.pendingEpisodes.length} of ${total} episodes (${rangesText(r.pendingEpisodes)})`)
        .join('; ')}${absent.length ? `; shards not given: ${absent.join(', ')}` : '; some shard files are partial (complete: false)'}. Use --allow-incomplete to write it anyway.`,
    );
  }

  const errors = inputs.filter((i) => i.doc.error !== null).map((i) => `${i.file}: ${i.doc.error}`);
  const wallSeconds = Math.max(...inputs.map((i) => i.doc.timing.wallSeconds));
  const envSteps = results.reduce((a, r) => a + r.timing.envSteps, 0);
  const mergedFrom: SourceShard[] = inputs.map(({ file, doc }) => ({
    file,
    shard: doc.settings.shard,
    complete: doc.complete,
    hostname: doc.runtime.hostname,
    wallSeconds: doc.timing.wallSeconds,
    envSteps: doc.timing.envSteps,
    workers: doc.settings.workers,
  }));
  return {
    schemaVersion: RESULT_SCHEMA_VERSION,
    kind: RESULT_KIND,
    complete: missing.length === 0 && errors.length === 0,
    interrupted: inputs.some((i) => i.doc.interrupted),
    error: errors.length ? errors.join('; ') : null,
    createdAt: new Date().toISOString(),
    tool: fd.tool,
    mujoco: { version: inputs.map((i) => i.doc.mujoco.version).find((v) => v !== null) ?? null, packageVersion: fd.mujoco.packageVersion },
    runtime: fd.runtime,
    command: options.command ?? null,
    settings: {
      ...fd.settings,
      workers: inputs.reduce((a, i) => a + i.doc.settings.workers, 0),
      shard: null,
    },
    policy: fd.policy,
    timing: {
      startedAt: inputs.map((i) => i.doc.timing.startedAt).sort()[0],
      finishedAt: inputs.map((i) => i.doc.timing.finishedAt).sort().at(-1)!,
      wallSeconds,
      envSteps,
      envStepsPerSecond: wallSeconds > 0 ? envSteps / wallSeconds : 0,
    },
    results,
    mergedFrom,
  };
}

function policyIdentity(d: EvalResultDocument): string {
  const p = d.policy;
  return p.kind === 'builtin' ? `built-in ${p.name}` : `module ${basename(p.path ?? p.name)} (sha256 ${p.sha256 ?? '?'})`;
}

function ckptIdentity(d: EvalResultDocument): string | null {
  const p = d.policy;
  if (p.ckpt === null) return null;
  return p.ckptSha256 !== null ? `sha256 ${p.ckptSha256}` : basename(p.ckpt);
}

function descriptionIdentity(d: EvalResultDocument, j: number): string | null {
  const text = d.results[j]?.policyDescription ?? null;
  if (text === null) return null;
  return d.policy.ckpt ? text.split(d.policy.ckpt).join('<ckpt>') : text;
}

function shardText(d: EvalResultDocument): string {
  const s = d.settings.shard;
  return s ? `shard ${s.index}/${s.count}` : 'an unsharded run';
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
  return parts.length > 8 ? `${parts.slice(0, 8).join(', ')}, ...` : parts.join(', ');
}

