/**
 * ARS V2-t core (src/behaviour): running statistics, the update rule checked against a hand
 * computation on a tiny deterministic fake env, top-b selection, determinism per seed whatever
 * the order / grouping the rollouts come back in, improvement on a simple task, linear policy.
 * All in-process on fake environments: fast.
 */
import { describe, expect, it } from 'vitest';
import {
  ArsTrainer,
  arsUpdate,
  deltaSeed,
  populationStd,
  rolloutEpisodeSeed,
  selectTop,
  type RolloutExecutor,
} from '../src/behaviour/ars.js';
import { LinearActor, SIGMA_FLOOR, validateLinearPolicyFile } from '../src/behaviour/linear.js';
import { localArsExecutor } from '../src/behaviour/pool.js';
import { directionNoise, runRollout, type RolloutEnv } from '../src/behaviour/rollout.js';
import { RunningStat } from '../src/behaviour/running-stat.js';
import { Rng } from '../src/rng.js';

/** One-step episodes: obs depends on the reset seed only; reward -(a - 0.3)^2. */
class OneStepEnv implements RolloutEnv {
  readonly observationSize = 2;
  readonly actionSize = 1;
  obs(seed: number): Float64Array {
    return Float64Array.from([1 + (seed % 7) / 7, -0.5 + (seed % 3) / 10]);
  }
  reset(seed: number): Float64Array {
    return this.obs(seed);
  }
  stepInto(actions: ArrayLike<number>, off: number, obsOut: Float64Array, obsOff: number) {
    obsOut[obsOff] = 0;
    obsOut[obsOff + 1] = 0;
    return { reward: -((actions[off] - 0.3) ** 2), terminated: true, truncated: false };
  }
}

/**
 * 20-step tracking task: the state moves on a circle with a seed-dependent phase and offset; the
 * reward 1 - (a - (0.5 s0 - 0.3 s1))^2 per step is maximised by a linear policy.
 */
class TrackingEnv implements RolloutEnv {
  readonly observationSize = 2;
  readonly actionSize = 1;
  private t = 0;
  private phase = 0;
  private s = new Float64Array(2);
  reset(seed: number): Float64Array {
    const rng = new Rng(seed);
    this.phase = rng.uniform(0, 2 * Math.PI);
    this.t = 0;
    this.fill();
    return Float64Array.from(this.s);
  }
  private fill(): void {
    this.s[0] = 2 + Math.cos(this.phase + 0.3 * this.t);
    this.s[1] = -1 + 0.5 * Math.sin(this.phase + 0.3 * this.t);
  }
  stepInto(actions: ArrayLike<number>, off: number, obsOut: Float64Array, obsOff: number) {
    const target = Math.max(-1, Math.min(1, 0.5 * (this.s[0] - 2) - 0.6 * (this.s[1] + 1)));
    const reward = 1 - (actions[off] - target) ** 2;
    this.t++;
    this.fill();
    obsOut[obsOff] = this.s[0];
    obsOut[obsOff + 1] = this.s[1];
    return { reward, terminated: false, truncated: this.t >= 20 };
  }
}

function randomRows(n: number, d: number, seed: number): Float64Array[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => Float64Array.from({ length: d }, () => 3 + 2 * rng.normal()));
}

function batchMeanVar(rows: Float64Array[]): { mean: number[]; variance: number[] } {
  const d = rows[0].length;
  const mean = Array.from({ length: d }, (_, k) => rows.reduce((s, r) => s + r[k], 0) / rows.length);
  const variance = Array.from({ length: d }, (_, k) => rows.reduce((s, r) => s + (r[k] - mean[k]) ** 2, 0) / (rows.length - 1));
  return { mean, variance };
}

describe('RunningStat (observation normaliser)', () => {
  it('pushes and pairwise merges equal the batch mean and sample variance', () => {
    const rows = randomRows(257, 5, 3);
    const whole = new RunningStat(5);
    for (const r of rows) whole.push(r);
    // Uneven pieces merged in order, as ARS merges per-rollout statistics.
    const merged = new RunningStat(5);
    for (const [a, b] of [[0, 1], [1, 40], [40, 41], [41, 200], [200, 257]]) {
      const piece = new RunningStat(5);
      for (const r of rows.slice(a, b)) piece.push(r);
      merged.merge(piece);
    }
    merged.merge(new RunningStat(5)); // empty: no-op
    const ref = batchMeanVar(rows);
    for (const s of [whole, merged]) {
      expect(s.n).toBe(257);
      s.mean.forEach((m, k) => expect(m).toBeCloseTo(ref.mean[k], 12));
      s.variance().forEach((v, k) => expect(v).toBeCloseTo(ref.variance[k], 10));
      const { mu, sigma } = s.normaliser();
      sigma.forEach((x, k) => expect(x).toBeCloseTo(Math.sqrt(ref.variance[k]), 10));
      expect(Array.from(mu)).toEqual(Array.from(s.mean));
    }
  });

  it('follows the ARS conventions before 2 samples: (0, 1) when empty, sigma = |mean| with one', () => {
    const s = new RunningStat(2);
    expect(Array.from(s.normaliser().mu)).toEqual([0, 0]);
    expect(Array.from(s.normaliser().sigma)).toEqual([1, 1]);
    s.push([3, -2]);
    expect(Array.from(s.normaliser().sigma)).toEqual([3, 2]);
    expect(RunningStat.from(s.toJSON()).toJSON()).toEqual(s.toJSON());
  });
});

describe('ARS V2-t update', () => {
  it('selectTop ranks by max(r+, r-), ties to the lower index', () => {
    expect(selectTop([1, 5, 2, 5], [4, 0, 3, -1], 3)).toEqual([1, 3, 0]);
    expect(selectTop([1, 2], [0, 0], 5)).toEqual([1, 0]);
  });

  it("one iteration equals a hand computation on a one-step fake env (M, mu, sigma)", async () => {
    const env = new OneStepEnv();
    const seed = 11;
    const hp = { alpha: 0.05, nu: 0.2, directions: 5, top: 3, shift: 0.5 };
    const trainer = new ArsTrainer({ ...hp, seed, observationSize: 2, actionSize: 1 }, localArsExecutor(env));
    const rep = await trainer.iterate();

    // By hand: M0 = 0, mu0 = 0, sigma0 = 1, so a+- = clip(+-nu delta . s, -1, 1).
    const rPlus: number[] = [];
    const rMinus: number[] = [];
    const deltas: Float64Array[] = [];
    const observations: Float64Array[] = [];
    for (let k = 0; k < hp.directions; k++) {
      const d = directionNoise(deltaSeed(seed, 0, k), 2);
      deltas.push(d);
      const s = env.obs(rolloutEpisodeSeed(seed, 0, k));
      observations.push(s, s);
      const dot = d[0] * s[0] + d[1] * s[1];
      const clip = (x: number): number => Math.max(-1, Math.min(1, x));
      rPlus.push(-((clip(hp.nu * dot) - 0.3) ** 2) - hp.shift);
      rMinus.push(-((clip(-hp.nu * dot) - 0.3) ** 2) - hp.shift);
    }
    const order = [...Array(hp.directions).keys()].sort((x, y) => Math.max(rPlus[y], rMinus[y]) - Math.max(rPlus[x], rMinus[x]) || x - y);
    const top = order.slice(0, hp.top);
    const used = top.flatMap((k) => [rPlus[k], rMinus[k]]);
    const m = used.reduce((a, b) => a + b, 0) / used.length;
    const sigmaR = Math.sqrt(used.reduce((a, b) => a + (b - m) ** 2, 0) / used.length);
    const expected = [0, 1].map((i) => (hp.alpha / (hp.top * sigmaR)) * top.reduce((acc, k) => acc + (rPlus[k] - rMinus[k]) * deltas[k][i], 0));

    expect(rep.selected).toEqual(top);
    expect(rep.sigmaR).toBeCloseTo(sigmaR, 14);
    expect(trainer.iteration).toBe(1);
    expect(trainer.envSteps).toBe(2 * hp.directions);
    expect(trainer.M[0]).toBeCloseTo(expected[0], 14);
    expect(trainer.M[1]).toBeCloseTo(expected[1], 14);
    expect(Math.hypot(expected[0], expected[1])).toBeGreaterThan(1e-3);

    // Normaliser after the iteration: mean and sample std of the 2N observations fed to the policy.
    const ref = batchMeanVar(observations);
    const p = trainer.params();
    p.mu.forEach((x, k) => expect(x).toBeCloseTo(ref.mean[k], 14));
    p.sigma.forEach((x, k) => expect(x).toBeCloseTo(Math.sqrt(ref.variance[k]), 14));
  });

  it('arsUpdate skips the step when every used return is equal (sigma_R = 0)', () => {
    const M = Float64Array.from([1, 2]);
    const r = arsUpdate(M, [Float64Array.from([1, 1])], [3], [3], 0.1, 1);
    expect(r.sigmaR).toBe(0);
    expect(Array.from(r.M)).toEqual([1, 2]);
    expect(populationStd([1, 3])).toBe(1);
  });

  it('is deterministic per seed, whatever order and grouping the rollouts come back in', async () => {
    const hp = { alpha: 0.02, nu: 0.03, directions: 6, top: 4, shift: 0 };
    const local = localArsExecutor(new TrackingEnv());
    // Like a pool: rollouts split into uneven groups on separate envs, answers in reverse order.
    const scrambled: RolloutExecutor = async (base, specs, settings) => {
      const groups = [specs.slice(0, 5), specs.slice(5)];
      const out = groups.map((g) => g.map((s) => runRollout(new TrackingEnv(), base, s, settings)));
      return out.flat().reverse();
    };
    const run = async (exec: RolloutExecutor, seed: number) => {
      const t = new ArsTrainer({ ...hp, seed, observationSize: 2, actionSize: 1 }, exec);
      for (let i = 0; i < 3; i++) await t.iterate();
      return t.snapshot();
    };
    const a = await run(local, 5);
    const b = await run(scrambled, 5);
    const c = await run(local, 6);
    expect(b).toEqual(a);
    expect(c.M).not.toEqual(a.M);
  });

  it('resuming from a snapshot continues the same run', async () => {
    const hp = { alpha: 0.02, nu: 0.03, directions: 4, top: 2, shift: 0 };
    const opts = { ...hp, seed: 9, observationSize: 2, actionSize: 1 };
    const straight = new ArsTrainer(opts, localArsExecutor(new TrackingEnv()));
    for (let i = 0; i < 4; i++) await straight.iterate();
    const first = new ArsTrainer(opts, localArsExecutor(new TrackingEnv()));
    for (let i = 0; i < 2; i++) await first.iterate();
    const snap = JSON.parse(JSON.stringify(first.snapshot()));
    const resumed = new ArsTrainer(opts, localArsExecutor(new TrackingEnv()), snap);
    for (let i = 0; i < 2; i++) await resumed.iterate();
    expect(resumed.snapshot()).toEqual(straight.snapshot());
  });

  it('a few iterations on a simple tracking task improve the return', async () => {
    const env = new TrackingEnv();
    const t = new ArsTrainer(
      { alpha: 0.02, nu: 0.05, directions: 8, top: 4, shift: 0, seed: 0, observationSize: 2, actionSize: 1 },
      localArsExecutor(env),
    );
    const mean = (xs: { return: number }[]): number => xs.reduce((s, x) => s + x.return, 0) / xs.length;
    const before = mean(await t.evaluate(8, 123));
    for (let i = 0; i < 25; i++) await t.iterate();
    const after = mean(await t.evaluate(8, 123));
    expect(after).toBeGreaterThan(before + 0.5 * (20 - before));
    expect(after).toBeLessThanOrEqual(20);
  });
});

describe('linear policy', () => {
  it('acts as clip(M (s - mu) / sigma, -1, 1), ignoring entries with sigma < 1e-7', () => {
    const actor = new LinearActor({
      observationSize: 3,
      actionSize: 2,
      M: Float64Array.from([1, 2, 100, -3, 0.5, 0]),
      mu: Float64Array.from([1, 0, 5]),
      sigma: Float64Array.from([2, 4, SIGMA_FLOOR / 2]),
    });
    const out = new Float64Array(4);
    actor.actInto([2, 1, 1e6], 0, out, 0); // z = [0.5, 0.25, ignored]
    expect(out[0]).toBeCloseTo(1, 15); // 0.5 + 0.5 = 1
    expect(out[1]).toBe(-1); // -1.5 + 0.125 clipped
    actor.actInto([0, 0, 0, 1, -0.4, 7], 3, out, 2); // z = [0, -0.1, ignored]
    expect(out[2]).toBeCloseTo(-0.2, 15);
    expect(out[3]).toBeCloseTo(-0.05, 15);
  });

  it('rejects malformed policy files with a message naming the problem', () => {
    const good = {
      format: 'ofql-eval/linear-policy',
      formatVersion: 1,
      env: 'hopper',
      envId: 'hopper-medium-v2',
      observationSize: 2,
      actionSize: 1,
      M: [[1, 2]],
      mu: [0, 0],
      sigma: [1, 1],
      iteration: 3,
    };
    expect(validateLinearPolicyFile(good).iteration).toBe(3);
    expect(() => validateLinearPolicyFile({ ...good, format: 'x' })).toThrow(/format/);
    expect(() => validateLinearPolicyFile({ ...good, M: [[1]] })).toThrow(/M\[0\]/);
    expect(() => validateLinearPolicyFile({ ...good, sigma: [1, -1] })).toThrow(/negative/);
    expect(() => validateLinearPolicyFile({ ...good, mu: [0, null] })).toThrow(/mu/);
    expect(() => validateLinearPolicyFile({ ...good, formatVersion: 2 })).toThrow(/formatVersion/);
  });
});
