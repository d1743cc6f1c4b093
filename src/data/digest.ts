/**
 * Content digest of a D4RL dataset: what training reads, independent of how the HDF5 file stores
 * it. HDF5 object headers carry modification times (h5wasm cannot turn them off), so two files
 * written from the same rollouts differ byte-wise while holding identical data; checkpoints and
 * `--resume` therefore identify their dataset by this digest as well as by the file's sha256.
 */
import { createHash } from 'node:crypto';
import type { D4rlDataset } from './d4rl-hdf5.js';

/** The arrays the digest covers, in this order (qlearning_dataset needs no more). */
export const DIGEST_FIELDS = ['observations', 'actions', 'rewards', 'terminals', 'timeouts'] as const;

/**
 * SHA-256 over, per field in DIGEST_FIELDS order, a header line `name dtype rows x width\n` and the
 * array's bytes as held in memory (float32 / uint8 in the platform's byte order: little-endian on
 * x86-64 and arm64).
 */
export function d4rlContentSha256(ds: Pick<D4rlDataset, 'N' | 'observationSize' | 'actionSize' | (typeof DIGEST_FIELDS)[number]>): string {
  const h = createHash('sha256');
  const width = { observations: ds.observationSize, actions: ds.actionSize, rewards: 1, terminals: 1, timeouts: 1 } as const;
  for (const name of DIGEST_FIELDS) {
    const a = ds[name];
    const dtype = a instanceof Float32Array ? 'float32' : 'uint8';
    if (a.length !== ds.N * width[name]) {
      throw new RangeError(`d4rlContentSha256: ${name} has ${a.length} entries, expected ${ds.N} x ${width[name]}`);
    }
    h.update(`${name} ${dtype} ${ds.N} x ${width[name]}\n`);
    h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  }
  return h.digest('hex');
}
