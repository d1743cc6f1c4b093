/** Small D4RL-layout datasets for the training tests (hopper widths: obs 11, act 3). */
import { writeD4rlFile } from '../src/data/index.js';
import { Rng } from '../src/rng.js';

export const HOPPER = { obs: 11, act: 3 } as const;

/**
 * `rows` steps of a simple behaviour policy a = tanh(W s) + small noise, clipped to [-1, 1], on a
 * stable linear system s' = 0.9 s + 0.1 B a + noise; episodes of `episodeLength` steps cut by
 * timeouts, a terminal now and then; reward = s[0] - 0.01 |a|^2.
 */
export async function writeBehaviourDataset(
  path: string,
  opts: { rows?: number; obs?: number; act?: number; seed?: number; episodeLength?: number; metadata?: Record<string, string> } = {},
): Promise<{ path: string; rows: number }> {
  const { rows = 2000, obs = HOPPER.obs, act = HOPPER.act, seed = 1, episodeLength = 100 } = opts;
  const rng = new Rng(seed);
  const W = Float64Array.from({ length: act * obs }, () => rng.normal() * 0.5);
  const Bm = Float64Array.from({ length: obs * act }, () => rng.normal());
  const observations = new Float32Array(rows * obs);
  const actions = new Float32Array(rows * act);
  const rewards = new Float32Array(rows);
  const terminals = new Uint8Array(rows);
  const timeouts = new Uint8Array(rows);
  let s = Float64Array.from({ length: obs }, () => rng.normal());
  let t = 0;
  for (let i = 0; i < rows; i++) {
    observations.set(s, i * obs);
    const a = new Float64Array(act);
    for (let k = 0; k < act; k++) {
      let z = 0;
      for (let j = 0; j < obs; j++) z += W[k * obs + j]! * s[j]!;
      a[k] = Math.max(-1, Math.min(1, Math.tanh(z) + 0.1 * rng.normal()));
    }
    actions.set(a, i * act);
    let aa = 0;
    for (let k = 0; k < act; k++) aa += a[k]! ** 2;
    rewards[i] = s[0]! - 0.01 * aa;
    const next = new Float64Array(obs);
    for (let j = 0; j < obs; j++) {
      let u = 0;
      for (let k = 0; k < act; k++) u += Bm[j * act + k]! * a[k]!;
      next[j] = 0.9 * s[j]! + 0.1 * u + 0.05 * rng.normal();
    }
    t += 1;
    const terminal = rng.random() < 0.003;
    const timeout = !terminal && t >= episodeLength;
    terminals[i] = terminal ? 1 : 0;
    timeouts[i] = timeout ? 1 : 0;
    if (terminal || timeout) {
      s = Float64Array.from({ length: obs }, () => rng.normal());
      t = 0;
    } else {
      s = next;
    }
  }
  return writeD4rlFile(path, { observations, actions, rewards, terminals, timeouts }, { metadata: opts.metadata });
}
