/**
 * The one batched rollout loop (src/batched-rollout.ts) on small fake envs: plan order and refill,
 * per-episode results independent of the batch size, the one action check, the hooks, and the
 * synchronous / asynchronous paths. In-process and fast; the MuJoCo users of the loop are tested
 * through evaluation (eval-*.test.ts), collection (collect-*.test.ts) and ARS (ars-*.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { VectorEnv, type StepEnv } from '../envs/vector-env.js';
import { BatchedRollout, seededEpisodes, type EpisodeEnd, type EpisodePlan } from '../src/batched-rollout.js';
import { PolicyError } from '../src/policy/errors.js';
import type { ActContext, Policy } from '../src/policy/types.js';

const OBS = 2;
const ACT = 2;

/** Episodes of 3 + seed % 5 steps; obs = (seed, t); reward = t + a0 - a1 (so actions matter). */
class CountingEnv implements StepEnv {
  readonly observationSize = OBS;
  readonly actionSize = ACT;
  readonly id = 'counting';
  seen: number[][] = [];
  private seed = 0;
  private t = 0;
  reset(seed: number): Float64Array {
    this.seed = seed;
    this.t = 0;
    return Float64Array.from([seed, 0]);
  }
  stepInto(actions: ArrayLike<number>, off: number, obsOut: Float64Array, obsOff: number) {
    this.seen.push([actions[off], actions[off + 1]]);
    const reward = this.t + actions[off] - actions[off + 1];
    this.t++;
    obsOut[obsOff] = this.seed;
    obsOut[obsOff + 1] = this.t;
    return { reward, terminated: this.t >= 3 + (this.seed % 5), truncated: false };
  }
}

function fakeVec(n: number): VectorEnv<CountingEnv> {
  return new VectorEnv(Array.from({ length: n }, () => new CountingEnv()));
}

/** Row-wise policy: action = (0.1 * seed-of-row, 0.01 * step); rows read from obs. */
function rowPolicy(log?: Array<{ n: number; ids: number[]; obs: Float64Array }>): Policy {
  const out = new Float64Array(64 * ACT);
  return {
    act(obs: Float64Array, n: number, ctx?: ActContext) {
      log?.push({ n, ids: Array.from(ctx!.episodeIds), obs });
      for (let r = 0; r < n; r++) {
        out[r * ACT] = 0.1 * obs[r * OBS];
        out[r * ACT + 1] = 0.01 * obs[r * OBS + 1];
      }
      return out.subarray(0, n * ACT);
    },
  };
}

/** The episodes of `plan` played one at a time on one env, the reference result. */
function sequential(plan: EpisodePlan): Map<number, { return: number; length: number }> {
  const env = new CountingEnv();
  const obs = new Float64Array(OBS);
  const res = new Map<number, { return: number; length: number }>();
  for (let k = 0; k < plan.count; k++) {
    const index = plan.index(k);
    obs.set(env.reset(plan.seed(index)));
    let ret = 0;
    let length = 0;
    for (;;) {
      const r = env.stepInto([0.1 * obs[0], 0.01 * obs[1]], 0, obs, 0);
      ret += r.reward;
      length++;
      if (r.terminated || r.truncated) break;
    }
    res.set(index, { return: ret, length });
  }
  return res;
}

async function play(batch: number, plan: EpisodePlan): Promise<EpisodeEnd[]> {
  const ends: EpisodeEnd[] = [];
  const loop = new BatchedRollout(fakeVec(batch), rowPolicy(), { policyName: 'row' });
  await loop.run(plan, { episodeEnd: (e) => ends.push(e) });
  return ends;
}

describe('BatchedRollout', () => {
  const episodes = [4, 0, 7, 1, 9, 3, 2];
  const plan = seededEpisodes(episodes, 11);

  it('gives every episode the result of playing it alone, whatever the batch size', async () => {
    const want = sequential(plan);
    for (const batch of [1, 3, 8]) {
      const ends = await play(batch, plan);
      expect(ends.map((e) => e.index).sort((a, b) => a - b)).toEqual([...episodes].sort((a, b) => a - b));
      for (const e of ends) {
        expect(e.seed).toBe(plan.seed(e.index));
        expect({ return: e.return, length: e.length }).toEqual(want.get(e.index));
        expect(e.terminated).toBe(true);
        expect(e.nonFinite).toBe(false);
      }
    }
  });

  it('fills slots in plan order, refills a finished slot with the next episode, and compacts the batch', async () => {
    const log: Array<{ n: number; ids: number[]; obs: Float64Array }> = [];
    const starts: Array<[number, number]> = [];
    const loop = new BatchedRollout(fakeVec(3), rowPolicy(log), { policyName: 'row' });
    const counts = await loop.run(plan, { episodeStart: (slot, index) => starts.push([slot, index]) });
    expect(starts.slice(0, 3)).toEqual([[0, 4], [1, 0], [2, 7]]);
    expect(starts.map(([, i]) => i)).toEqual(episodes);
    expect(log[0].ids).toEqual([4, 0, 7]);
    // Once the plan is used up, fewer rows run and each row carries its own episode's observation.
    const last = log[log.length - 1];
    expect(last.n).toBeLessThan(3);
    for (let r = 0; r < last.n; r++) expect(last.obs[r * OBS]).toBe(plan.seed(last.ids[r]));
    expect(counts.actCalls).toBe(log.length);
    expect(counts.envSteps).toBe(log.reduce((s, l) => s + l.n, 0));
  });

  it('reuses its buffers: a full batch is the VectorEnv observation buffer itself', async () => {
    const log: Array<{ n: number; ids: number[]; obs: Float64Array }> = [];
    const vec = fakeVec(2);
    await new BatchedRollout(vec, rowPolicy(log), { policyName: 'row' }).run(seededEpisodes([0, 1, 2, 3, 4, 5], 3));
    const full = log.filter((l) => l.n === 2);
    expect(full.length).toBeGreaterThan(1);
    for (const l of full) expect(l.obs).toBe(vec.observations);
  });

  it('lets beforeStep rewrite the action the env executes; afterStep sees each reward', async () => {
    const vec = fakeVec(2);
    const rewards: number[] = [];
    await new BatchedRollout(vec, rowPolicy(), { policyName: 'row' }).run(seededEpisodes([0], 5), {
      beforeStep: (_slot, action) => {
        action[0] = 1;
        action[1] = 0.5;
      },
      afterStep: (_slot, reward) => rewards.push(reward),
    });
    const env = vec.env(0);
    expect(env.seen.length).toBeGreaterThan(0);
    for (const a of env.seen) expect(a).toEqual([1, 0.5]);
    expect(rewards).toEqual(env.seen.map((_, t) => t + 1 - 0.5));
  });

  it('stops when shouldStop says so, and the next run starts from fresh episodes', async () => {
    const loop = new BatchedRollout(fakeVec(2), rowPolicy(), { policyName: 'row' });
    let calls = 0;
    const first = await loop.run(seededEpisodes([4, 9], 0), { shouldStop: () => ++calls > 2 });
    expect(first.actCalls).toBe(2);
    const ends: EpisodeEnd[] = [];
    await loop.run(seededEpisodes([1], 0), { episodeEnd: (e) => ends.push(e) });
    expect(ends.map((e) => e.index)).toEqual([1]);
  });

  it('runs a synchronous policy synchronously; stepSync refuses a promise', async () => {
    const ends: EpisodeEnd[] = [];
    const counts = new BatchedRollout(fakeVec(2), rowPolicy(), { policyName: 'row' }).runSync(plan, { episodeEnd: (e) => ends.push(e) });
    expect(ends.length).toBe(episodes.length);
    expect(counts.envSteps).toBe(ends.reduce((s, e) => s + e.length, 0));

    const sync = rowPolicy();
    const asyncPolicy: Policy = { act: (obs, n, ctx) => Promise.resolve(sync.act(obs, n, ctx)) };
    const loop = new BatchedRollout(fakeVec(2), asyncPolicy, { policyName: 'async' });
    loop.begin(plan);
    expect(() => loop.stepSync()).toThrow(TypeError);
    const viaPromise = await play(2, plan);
    const asyncEnds: EpisodeEnd[] = [];
    await new BatchedRollout(fakeVec(2), asyncPolicy, { policyName: 'async' }).run(plan, { episodeEnd: (e) => asyncEnds.push(e) });
    expect(asyncEnds).toEqual(viaPromise);
  });

  describe('one action check: PolicyError naming the policy, env and episodes', () => {
    const fail = async (answer: (n: number) => unknown, options: { policyTimeoutMs?: number } = {}): Promise<PolicyError> => {
      const policy = { act: (_obs: Float64Array, n: number) => answer(n) } as Policy;
      const loop = new BatchedRollout(fakeVec(2), policy, { policyName: 'bad.mjs', ...options });
      const err = await loop.run(seededEpisodes([6, 8], 1)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PolicyError);
      return err as PolicyError;
    };

    it('wrong length', async () => {
      const e = await fail(() => new Float64Array(3));
      expect(e.kind).toBe('wrong-length');
      expect(e.message).toBe('policy bad.mjs failed on counting, episodes 6, 8: act() returned 3 numbers for 2 observations; expected 2 x 2 = 4');
    });

    it('a non-finite entry names the culprit episode', async () => {
      const e = await fail(() => Float64Array.from([0, 0, 0, Number.NaN]));
      expect(e.kind).toBe('non-finite');
      expect(e.episodes).toEqual([8]);
      expect(e.message).toContain('episode 8: act() returned NaN for action[1]; actions must be finite numbers');
      const inf = await fail(() => Float64Array.from([Infinity, 0, 0, 0]));
      expect(inf.episodes).toEqual([6]);
    });

    it('not numbers', async () => {
      expect((await fail(() => ['0.1', 0, 0, 0])).message).toContain('act() returned the string "0.1" (a string, not a number) for action[0]');
      const e = await fail(() => 42);
      expect(e.kind).toBe('bad-type');
      expect(e.message).toContain('act() must return a Float32Array or Float64Array of 2 x 2 actions, got number');
    });

    it('throws, rejects, or does not answer in time', async () => {
      const thrown = await fail(() => {
        throw new Error('boom');
      });
      expect(thrown.kind).toBe('threw');
      expect(thrown.message).toContain('act() threw: boom');
      expect((await fail(() => Promise.reject(new Error('late')))).message).toContain('act() rejected: late');
      const hung = await fail(() => new Promise(() => undefined), { policyTimeoutMs: 20 });
      expect(hung.kind).toBe('timeout');
      expect(hung.message).toContain('act() did not answer within --policy-timeout 20 ms');
    });
  });
});
