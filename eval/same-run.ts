/**
 * Whether result files are shards of one run (eval/merge.ts): everything that decides an
 * episode's outcome must match, and each shard must be given once. A mismatch is a MergeError
 * naming both files and what differs.
 */
import { basename } from 'node:path';
import type { EvalResultDocument } from './result.js';

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

/** What must be equal in every file, with its name in messages. */
const IDENTITY: ReadonlyArray<[string, (d: EvalResultDocument) => unknown]> = [
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

/**
 * Check that `inputs` are shards of one run, each given once; returns which file holds each
 * shard index.
 */
export function checkSameRun(inputs: readonly MergeInput[]): Map<number, string> {
  checkSettings(inputs);
  checkDescriptions(inputs);
  return checkShards(inputs);
}

function notSameRun(input: MergeInput, first: MergeInput, what: string): MergeError {
  return new MergeError(`${input.file} is not from the same run as ${first.file}: different ${what}`);
}

function checkSettings(inputs: readonly MergeInput[]): void {
  const first = inputs[0];
  for (const input of inputs.slice(1)) {
    for (const [what, get] of IDENTITY) {
      const a = get(first.doc);
      const b = get(input.doc);
      if (a !== b) throw notSameRun(input, first, `${what} (${JSON.stringify(b)} vs ${JSON.stringify(a)})`);
    }
  }
}

/**
 * What the policy says about itself (an OFQL checkpoint: sampler and its parameters, actor,
 * backend) must agree wherever both files report it; checkpoint paths inside it may differ by machine.
 */
function checkDescriptions(inputs: readonly MergeInput[]): void {
  const first = inputs[0];
  for (const input of inputs.slice(1)) {
    for (let j = 0; j < first.doc.results.length; j++) {
      const a = descriptionIdentity(first.doc, j);
      const b = descriptionIdentity(input.doc, j);
      if (a !== null && b !== null && a !== b) {
        throw notSameRun(
          input,
          first,
          `policy description for ${first.doc.results[j]!.envId} (${JSON.stringify(b)} vs ${JSON.stringify(a)}), ` +
            'e.g. another --sampler, --ofql-actor or --backend',
        );
      }
    }
  }
}

/** The same split into shards, no shard twice; the file of each shard index. */
function checkShards(inputs: readonly MergeInput[]): Map<number, string> {
  const shardCounts = new Set(inputs.map((i) => i.doc.settings.shard?.count ?? 1));
  if (shardCounts.size > 1) {
    throw new MergeError(`the files split the run differently: ${inputs.map((i) => `${i.file} is ${shardText(i.doc)}`).join(', ')}`);
  }
  const seen = new Map<number, string>();
  for (const { file, doc } of inputs) {
    const idx = doc.settings.shard?.index ?? 0;
    const other = seen.get(idx);
    if (other !== undefined) throw new MergeError(`${shardText(doc)} is given twice: ${other} and ${file}`);
    seen.set(idx, file);
  }
  return seen;
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
