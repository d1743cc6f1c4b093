/**
 * Recorded rollouts in result documents (`ofql-eval --record N`): the qpos trajectory and the
 * rewards of the first N episodes of each env, as little-endian float32 in base64, enough for
 * `ofql-eval view` to replay them with the MuJoCo model (poses by forward kinematics).
 */
import { endianness } from 'node:os';
import type { EpisodeRecording } from './runner.js';

/** One recorded episode as stored in `EnvResult.recordings`. */
export interface RecordedEpisode {
  /** Global episode index. */
  episode: number;
  /** Env steps: qpos has steps + 1 rows, rewards steps entries. */
  steps: number;
  nq: number;
  /** base64 of float32 little-endian, (steps + 1) x nq row-major: after reset, then after each step. */
  qpos: string;
  /** base64 of float32 little-endian, one reward per step. */
  rewards: string;
}

/** Most episodes `--record` keeps per env (each is up to ~30 KB of base64 for Ant). */
export const MAX_RECORDED_EPISODES = 100;

if (endianness() !== 'LE') throw new Error('ofql-eval: recorded rollouts assume a little-endian machine');

const toBase64 = (a: Float32Array): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');

/** Decode a base64 float32 array of `expected` entries (an error names the field). */
export function fromBase64(s: string, expected: number, what: string): Float32Array {
  const b = Buffer.from(s, 'base64');
  if (b.length !== expected * 4) throw new RangeError(`${what}: ${b.length / 4} float32 values, expected ${expected}`);
  const out = new Float32Array(expected);
  new Uint8Array(out.buffer).set(b);
  return out;
}

export function encodeRecording(episode: number, r: EpisodeRecording): RecordedEpisode {
  return { episode, steps: r.rewards.length, nq: r.nq, qpos: toBase64(r.qpos), rewards: toBase64(r.rewards) };
}

/** The qpos frames and rewards of a stored recording (checks the sizes). */
export function decodeRecording(r: RecordedEpisode, where: string): { qpos: Float32Array; rewards: Float32Array } {
  return {
    qpos: fromBase64(r.qpos, (r.steps + 1) * r.nq, `${where} episode ${r.episode} qpos`),
    rewards: fromBase64(r.rewards, r.steps, `${where} episode ${r.episode} rewards`),
  };
}

/** A message if `v` is not a well-formed recordings array, else null (cheap: sizes only). */
export function checkRecordings(v: unknown): string | null {
  if (!Array.isArray(v)) return 'recordings must be an array';
  for (const [k, r] of v.entries()) {
    const o = r as Partial<RecordedEpisode>;
    const ints = [o.episode, o.steps, o.nq].every((x) => Number.isSafeInteger(x) && (x as number) >= 0);
    if (!ints || typeof o.qpos !== 'string' || typeof o.rewards !== 'string') return `recordings[${k}] needs integer episode, steps, nq and base64 qpos, rewards`;
    if (Math.floor((o.qpos.length * 3) / 4 / 4) < (o.steps! + 1) * o.nq! - 1) return `recordings[${k}].qpos is shorter than (steps + 1) x nq float32 values`;
  }
  return null;
}
