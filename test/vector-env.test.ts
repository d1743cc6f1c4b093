/** VectorEnv: N copies of one env stepped together must equal N single envs, with reused buffers. */
import { describe, expect, it } from 'vitest';
import { EnvUsageError, Rng, VectorEnv, makeEnv, makeVectorEnv } from '../src/index.js';
import type { Env } from '../src/index.js';

const ID = 'hopper-medium-v2';
const N = 4;
const OBS = 11;
const ACT = 3;

function randomActions(rng: Rng, n: number): Float64Array {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.uniform(-1, 1);
  return a;
}

describe('VectorEnv', () => {
  it('has the shape of its env', async () => {
    const vec = await makeVectorEnv(ID, N);
    expect(vec.id).toBe(ID);
    expect(vec.numEnvs).toBe(N);
    expect(vec.observationSize).toBe(OBS);
    expect(vec.actionSize).toBe(ACT);
    expect(vec.maxEpisodeSteps).toBe(1000);
    expect(vec.observations.length).toBe(N * OBS);
    expect(vec.rewards.length).toBe(N);
    expect(Array.from(vec.running)).toEqual([0, 0, 0, 0]);
    vec.close();
  });

  it('steps bit-identically to 4 single envs with the same seeds and actions; finished slots stop', async () => {
    const opts = { maxEpisodeSteps: 60 };
    const vec = await makeVectorEnv(ID, N, opts);
    const singles: Env[] = [];
    for (let i = 0; i < N; i++) singles.push(await makeEnv(ID, opts));
    const seeds = [10, 11, 12, 13];
    vec.reset(seeds);
    const running = [true, true, true, true];
    const lastObs: number[][] = [];
    const episodeSteps = [0, 0, 0, 0];
    for (let i = 0; i < N; i++) {
      lastObs.push(Array.from(singles[i].reset(seeds[i])));
      expect(Array.from(vec.observations.subarray(i * OBS, (i + 1) * OBS))).toEqual(lastObs[i]);
    }
    expect(Array.from(vec.running)).toEqual([1, 1, 1, 1]);

    const obsBuffer = vec.observations;
    const rewardBuffer = vec.rewards;
    const rng = new Rng(2024);
    let sawFinishedWhileOthersRun = false;
    for (let t = 0; t < 100; t++) {
      const actions = randomActions(rng, N * ACT);
      const expectedStepped = running.filter(Boolean).length;
      const stepped = vec.step(actions);
      expect(stepped).toBe(expectedStepped);
      for (let i = 0; i < N; i++) {
        const row = Array.from(vec.observations.subarray(i * OBS, (i + 1) * OBS));
        if (running[i]) {
          const r = singles[i].step(actions.subarray(i * ACT, (i + 1) * ACT));
          episodeSteps[i]++;
          expect(row).toEqual(Array.from(r.obs));
          expect(vec.rewards[i]).toBe(r.reward);
          expect(vec.terminated[i]).toBe(r.terminated ? 1 : 0);
          expect(vec.truncated[i]).toBe(r.truncated ? 1 : 0);
          expect(vec.nonFinite[i]).toBe(0);
          lastObs[i] = row;
          if (r.terminated || r.truncated) running[i] = false;
        } else {
          // skipped: row untouched, no reward, no flags
          expect(row).toEqual(lastObs[i]);
          expect(vec.rewards[i]).toBe(0);
          expect(vec.terminated[i]).toBe(0);
          expect(vec.truncated[i]).toBe(0);
          sawFinishedWhileOthersRun ||= running.some(Boolean);
        }
        expect(vec.running[i]).toBe(running[i] ? 1 : 0);
        // the slot's env was stepped exactly as often as the single env
        expect(vec.env(i).getState().qpos).toEqual(singles[i].getState().qpos);
      }
      // no reallocation
      expect(vec.observations).toBe(obsBuffer);
      expect(vec.rewards).toBe(rewardBuffer);
      if (!running.some(Boolean)) break;
    }
    expect(running.some(Boolean)).toBe(false);
    expect(sawFinishedWhileOthersRun).toBe(true);
    // every episode ended within the horizon
    for (const n of episodeSteps) expect(n).toBeLessThanOrEqual(60);
    // nothing left to step
    expect(vec.step(new Float64Array(N * ACT))).toBe(0);
    vec.close();
    for (const s of singles) s.close();
  });

  it('resetAt restarts one slot; the restarted slot matches a fresh env with that seed', async () => {
    const vec = await makeVectorEnv(ID, N, { maxEpisodeSteps: 3 });
    vec.reset([1, 2, 3, 4]);
    const zero = new Float64Array(N * ACT);
    for (let t = 0; t < 3; t++) vec.step(zero);
    expect(Array.from(vec.running)).toEqual([0, 0, 0, 0]);
    expect(Array.from(vec.truncated)).toEqual([1, 1, 1, 1]);

    vec.resetAt(2, 99);
    expect(Array.from(vec.running)).toEqual([0, 0, 1, 0]);
    expect(vec.truncated[2]).toBe(0);
    const single = await makeEnv(ID, { maxEpisodeSteps: 3 });
    const o = single.reset(99);
    expect(Array.from(vec.observations.subarray(2 * OBS, 3 * OBS))).toEqual(Array.from(o));

    const rng = new Rng(8);
    for (let t = 0; t < 3; t++) {
      const actions = randomActions(rng, N * ACT);
      expect(vec.step(actions)).toBe(1);
      const r = single.step(actions.subarray(2 * ACT, 3 * ACT));
      expect(Array.from(vec.observations.subarray(2 * OBS, 3 * OBS))).toEqual(Array.from(r.obs));
      expect(vec.rewards[2]).toBe(r.reward);
      expect(vec.rewards[0]).toBe(0);
    }
    expect(vec.running[2]).toBe(0);
    single.close();
    vec.close();
  });

  it('release stops a slot without finishing its episode', async () => {
    const vec = await makeVectorEnv(ID, 2);
    vec.reset([5, 6]);
    vec.release(1);
    expect(Array.from(vec.running)).toEqual([1, 0]);
    const before = vec.env(1).getState().qpos;
    expect(vec.step(new Float64Array(2 * ACT))).toBe(1);
    expect(vec.env(1).getState().qpos).toEqual(before);
    vec.close();
  });

  it('rows of idle slots are ignored (even non-finite); running rows are checked', async () => {
    const vec = await makeVectorEnv(ID, 2);
    vec.reset([5, 6]);
    vec.release(0);
    const a = new Float64Array(2 * ACT);
    a[0] = Number.NaN;
    expect(() => vec.step(a)).not.toThrow();
    a[0] = 0;
    a[ACT] = Infinity;
    expect(() => vec.step(a)).toThrow(EnvUsageError);
    vec.close();
  });

  it.each([0, 3, 11, 13, 24])('an action buffer of length %d throws (needs 12)', async (len) => {
    const vec = await makeVectorEnv(ID, N);
    vec.reset([0, 1, 2, 3]);
    expect(() => vec.step(new Float64Array(len))).toThrow(EnvUsageError);
    expect(() => vec.step(new Float64Array(len))).toThrow(/hopper-medium-v2/);
    expect(vec.step(new Float64Array(N * ACT))).toBe(N);
    vec.close();
  });

  it('reports a non-finite physics state in its slot', async () => {
    const vec = await makeVectorEnv(ID, 2);
    vec.reset([0, 1]);
    vec.step(new Float64Array(2 * ACT));
    const env = vec.env(1);
    const qvel = new Float64Array(6);
    qvel[0] = 1e300;
    env.setState(env.getState().qpos, qvel);
    vec.step(new Float64Array(2 * ACT));
    expect(Array.from(vec.nonFinite)).toEqual([0, 1]);
    expect(Array.from(vec.terminated)).toEqual([0, 1]);
    expect(Array.from(vec.running)).toEqual([1, 0]);
    for (const x of vec.observations) expect(Number.isFinite(x)).toBe(true);
    vec.close();
  });

  it('rejects bad construction and slot arguments', async () => {
    await expect(makeVectorEnv(ID, 0)).rejects.toThrow(RangeError);
    await expect(makeVectorEnv(ID, 1.5)).rejects.toThrow(RangeError);
    expect(() => new VectorEnv([])).toThrow(RangeError);
    const a = await makeEnv('hopper-medium-v2');
    const b = await makeEnv('walker2d-medium-v2');
    expect(() => new VectorEnv([a, b] as never)).toThrow(RangeError);
    const c = await makeEnv('hopper-medium-v2', { maxEpisodeSteps: 10 });
    expect(() => new VectorEnv([a, c] as never)).toThrow(RangeError);
    const vec = await makeVectorEnv(ID, 2);
    expect(() => vec.resetAt(2, 0)).toThrow(RangeError);
    expect(() => vec.resetAt(-1, 0)).toThrow(RangeError);
    expect(() => vec.reset([1])).toThrow(RangeError);
    expect(() => vec.resetAt(0, -5)).toThrow(RangeError);
    vec.close();
    a.close();
    b.close();
    c.close();
  });
});
