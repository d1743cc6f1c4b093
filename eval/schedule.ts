/**
 * How the episodes of a run are cut into chunks (units of work) and shards (machines).
 *
 * The cut depends only on (episodes, chunk size): never on the number of workers or shards.
 * So the rows that share a policy batch are the same in every configuration, and even a policy
 * whose floating-point results depend on the batch composition gives bit-identical results
 * for any `--workers` and for shard + merge.
 *
 * Chunks shrink towards the end of the run (sizes ..., C, C, ..., 3, 3, 2, 2, 1, 1) so the
 * last pieces of work handed out dynamically are small and workers finish together.
 */
import { OptionError } from '../src/option-error.js';

/** Half-open episode index range [start, end). */
export interface EpisodeRange {
  start: number;
  end: number;
}

/** Cut [0, total) into chunks of at most `chunkSize`, shrinking to 1 at the end. */
export function partitionEpisodes(total: number, chunkSize: number): EpisodeRange[] {
  assertPositiveInt(total, 'episodes', true);
  assertPositiveInt(chunkSize, 'chunk size');
  const sizes: number[] = [];
  let rem = total;
  for (let k = 0; rem > 0; k++) {
    const s = Math.min(chunkSize, Math.floor(k / 2) + 1, rem);
    sizes.push(s);
    rem -= s;
  }
  sizes.reverse();
  const out: EpisodeRange[] = [];
  let start = 0;
  for (const s of sizes) {
    out.push({ start, end: start + s });
    start += s;
  }
  return out;
}

export interface Shard {
  /** 0-based. */
  index: number;
  count: number;
}

/** Parse `i/n` (0 <= i < n). */
export function parseShard(text: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!m) throw new OptionError(`--shard must look like i/n with 0 <= i < n (e.g. 0/4), got '${text}'`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (!Number.isSafeInteger(count) || count < 1) throw new OptionError(`--shard: n must be at least 1, got '${text}'`);
  if (!Number.isSafeInteger(index) || index >= count) {
    throw new OptionError(`--shard: i must be in 0..${count - 1} (shards are numbered from 0), got '${text}'`);
  }
  return { index, count };
}

/** Shard that owns a chunk starting at `start`: whole chunks, split by episode index. */
export function shardOfChunk(start: number, total: number, count: number): number {
  return Math.min(count - 1, Math.floor((start * count) / total));
}

/** The chunks of shard `shard` (all chunks without a shard). */
export function chunksOfShard(total: number, chunkSize: number, shard?: Shard | null): EpisodeRange[] {
  const chunks = partitionEpisodes(total, chunkSize);
  if (!shard || shard.count === 1) return chunks;
  return chunks.filter((c) => shardOfChunk(c.start, total, shard.count) === shard.index);
}

/** Episode indices of shard `shard`, ascending. */
export function episodesOfShard(total: number, chunkSize: number, shard?: Shard | null): number[] {
  return chunksOfShard(total, chunkSize, shard).flatMap((c) => episodeIndices(c));
}

/** The indices start, ..., end - 1 of a range. */
export function episodeIndices(r: EpisodeRange): number[] {
  return Array.from({ length: r.end - r.start }, (_, k) => r.start + k);
}

function assertPositiveInt(v: number, what: string, allowZero = false): void {
  if (!Number.isSafeInteger(v) || v < (allowZero ? 0 : 1)) {
    throw new OptionError(`${what} must be a ${allowZero ? 'non-negative' : 'positive'} integer, got ${String(v)}`);
  }
}
