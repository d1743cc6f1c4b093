/**
 * Augmented Random Search, version V2-t (Mania, Guy & Recht 2018, "Simple random search provides
 * a competitive approach to reinforcement learning", arXiv:1803.07055, Algorithm 2), for linear
 * policies a = clip(M (s - mu) / sigma, -1, 1):
 *
 *   per iteration j:
 *     draw N directions delta_k (entries i.i.d. N(0, 1), the shape of M);
 *     roll out M + nu delta_k and M - nu delta_k (observations normalised with mu_j, sigma_j);
 *     rank directions by max(r+_k, r-_k), keep the top b;
 *     M <- M + alpha / (b sigma_R) * sum_{top b} (r+_k - r-_k) delta_k,
 *       sigma_R = standard deviation of the 2b returns used;
 *     mu, sigma <- mean and std of every observation seen in the rollouts so far.
 *
 * Choices where the paper leaves room (docs/behaviour-policies.md):
 * - Returns ARS ranks and updates with are shifted: sum(r_t - shift), shift = 1 for hopper,
 *   walker2d and ant, 0 for halfcheetah (the ARS reference code, code/ars.py `--shift`, which
 *   removes the survival bonus during training). Evaluations use the true reward.
 * - Seeds: direction k of iteration j draws its delta from deriveSeed(deriveSeed(deriveSeed(seed,
 *   DELTA_STREAM), j), k); both of its rollouts reset the env with the same seed (common random
 *   numbers: the + and - rollouts differ only by the perturbation). Everything a rollout does is
 *   a function of those seeds and the parameters, and the observation statistics are merged in
 *   direction order, so a run depends on its seed only, never on the number of worker threads.
 * - mu, sigma are held fixed during an iteration (as in the algorithm; the reference code updates
 *   each worker's filter within the iteration); sigma < 1e-7 counts as +inf.
 * - sigma_R = 0 (all 2b returns equal) skips the update instead of dividing by zero.
 */
import { deriveSeed } from '../rng.js';
import type { LinearParams } from './linear.js';
import { RunningStat } from './running-stat.js';
import { directionNoise, type RolloutOutcome, type RolloutSettings, type RolloutSpec } from './rollout.js';
import { OptionError } from '../option-error.js';

export type ArsFamily = 'hopper' | 'halfcheetah' | 'walker2d' | 'ant';

export interface ArsHyperParams {
  /** Step size alpha. */
  alpha: number;
  /** Exploration noise nu. */
  nu: number;
  /** Directions per iteration N. */
  directions: number;
  /** Top directions used b (b <= N). */
  top: number;
  /** Reward shift during training (survival bonus removed). */
  shift: number;
}

/**
 * ARS V2-t hyper-parameters per task from the paper's appendix table (the ones behind its
 * Table 1 results on the -v1 MuJoCo tasks), and `shift` from the reference code's comments
 * (code/ars.py: 0 for HalfCheetah, 1 for Hopper, Walker2d and Ant).
 */
export const ARS_V2T_PAPER: Readonly<Record<ArsFamily, Readonly<ArsHyperParams>>> = {
  hopper: { alpha: 0.01, nu: 0.025, directions: 8, top: 4, shift: 1 },
  halfcheetah: { alpha: 0.02, nu: 0.03, directions: 32, top: 4, shift: 0 },
  walker2d: { alpha: 0.03, nu: 0.025, directions: 40, top: 30, shift: 1 },
  ant: { alpha: 0.015, nu: 0.025, directions: 60, top: 20, shift: 1 },
};

export const ARS_DELTA_STREAM = 0xde17a;
export const ARS_EPISODE_STREAM = 0xe915;

/** Runs rollouts (in this thread, or over a worker pool) and returns their outcomes in any order. */
export type RolloutExecutor = (base: LinearParams, specs: RolloutSpec[], settings: RolloutSettings) => Promise<RolloutOutcome[]>;

export interface ArsOptions extends ArsHyperParams {
  seed: number;
  observationSize: number;
  actionSize: number;
}

/** Seed of the delta of direction k in iteration j (0-based). */
export function deltaSeed(seed: number, iteration: number, k: number): number {
  return deriveSeed(deriveSeed(deriveSeed(seed, ARS_DELTA_STREAM), iteration), k);
}

/** Reset seed shared by the + and - rollouts of direction k in iteration j. */
export function rolloutEpisodeSeed(seed: number, iteration: number, k: number): number {
  return deriveSeed(deriveSeed(deriveSeed(seed, ARS_EPISODE_STREAM), iteration), k);
}

/**
 * Indices of the b best directions by max(r+, r-), best first; ties go to the lower index.
 */
export function selectTop(rPlus: ArrayLike<number>, rMinus: ArrayLike<number>, b: number): number[] {
  const idx = Array.from({ length: rPlus.length }, (_, k) => k);
  const score = (k: number): number => Math.max(rPlus[k], rMinus[k]);
  idx.sort((x, y) => score(y) - score(x) || x - y);
  return idx.slice(0, Math.min(b, idx.length));
}

/** Population standard deviation (numpy's default, as the reference code's np.std). */
export function populationStd(xs: readonly number[]): number {
  const n = xs.length;
  if (n === 0) return 0;
  let m = 0;
  for (const x of xs) m += x;
  m /= n;
  let v = 0;
  for (const x of xs) v += (x - m) * (x - m);
  return Math.sqrt(v / n);
}

/**
 * The V2-t update: returns the new M (a copy), sigma_R and the directions used. `deltas[k]` is
 * direction k (flat, like M).
 */
export function arsUpdate(
  M: Float64Array,
  deltas: readonly Float64Array[],
  rPlus: ArrayLike<number>,
  rMinus: ArrayLike<number>,
  alpha: number,
  b: number,
): { M: Float64Array; sigmaR: number; selected: number[]; stepNorm: number } {
  const selected = selectTop(rPlus, rMinus, b);
  const used: number[] = [];
  for (const k of selected) used.push(rPlus[k], rMinus[k]);
  const sigmaR = populationStd(used);
  const out = Float64Array.from(M);
  if (!(sigmaR > 0)) return { M: out, sigmaR, selected, stepNorm: 0 };
  const f = alpha / (selected.length * sigmaR);
  const step = new Float64Array(M.length);
  for (const k of selected) {
    const w = f * (rPlus[k] - rMinus[k]);
    const d = deltas[k];
    for (let i = 0; i < step.length; i++) step[i] += w * d[i];
  }
  let norm = 0;
  for (let i = 0; i < step.length; i++) {
    out[i] += step[i];
    norm += step[i] * step[i];
  }
  return { M: out, sigmaR, selected, stepNorm: Math.sqrt(norm) };
}

export interface IterationReport {
  /** Iterations completed (this one included). */
  iteration: number;
  /** Env steps of this iteration's 2N rollouts. */
  envSteps: number;
  /** Mean / max undiscounted return of the 2N perturbed rollouts. */
  meanRolloutReturn: number;
  maxRolloutReturn: number;
  sigmaR: number;
  stepNorm: number;
  selected: number[];
}

export interface ArsSnapshot {
  iteration: number;
  envSteps: number;
  M: number[];
  stats: { n: number; mean: number[]; m2: number[] };
}

export class ArsTrainer {
  readonly options: Readonly<ArsOptions>;
  private readonly executor: RolloutExecutor;
  /** Iterations completed. */
  iteration = 0;
  /** Env steps used by training rollouts so far. */
  envSteps = 0;
  M: Float64Array;
  readonly stats: RunningStat;

  constructor(options: ArsOptions, executor: RolloutExecutor, resume?: ArsSnapshot) {
    const { observationSize: O, actionSize: A, directions, top, alpha, nu } = options;
    if (!(Number.isInteger(directions) && directions >= 1)) throw new OptionError(`ARS: directions must be a positive integer, got ${directions}`);
    if (!(Number.isInteger(top) && top >= 1 && top <= directions)) throw new OptionError(`ARS: top must be an integer in 1..${directions}, got ${top}`);
    if (!(alpha > 0) || !(nu > 0)) throw new OptionError('ARS: alpha and nu must be positive');
    this.options = { ...options };
    this.executor = executor;
    this.M = new Float64Array(O * A);
    this.stats = new RunningStat(O);
    if (resume) {
      if (resume.M.length !== O * A) throw new RangeError(`ARS resume: M has ${resume.M.length} entries, expected ${O * A}`);
      this.M.set(resume.M);
      this.stats.merge({ n: resume.stats.n, mean: resume.stats.mean, m2: resume.stats.m2 });
      this.iteration = resume.iteration;
      this.envSteps = resume.envSteps;
    }
  }

  /** The current policy: M with the normaliser of the statistics so far. */
  params(): LinearParams {
    const { mu, sigma } = this.stats.normaliser();
    return { observationSize: this.options.observationSize, actionSize: this.options.actionSize, M: Float64Array.from(this.M), mu, sigma };
  }

  /** One iteration: 2N rollouts, the update of M, then the update of the statistics. */
  async iterate(): Promise<IterationReport> {
    const { seed, directions: N, top: b, alpha, nu, shift, observationSize: O, actionSize: A } = this.options;
    const j = this.iteration;
    const base = this.params();
    const specs: RolloutSpec[] = [];
    for (let k = 0; k < N; k++) {
      const ds = deltaSeed(seed, j, k);
      const es = rolloutEpisodeSeed(seed, j, k);
      specs.push({ index: 2 * k, episodeSeed: es, deltaSeed: ds, sign: 1 });
      specs.push({ index: 2 * k + 1, episodeSeed: es, deltaSeed: ds, sign: -1 });
    }
    const outcomes = await this.executor(base, specs, { nu, shift, collectStats: true });
    const byIndex = new Array<RolloutOutcome>(2 * N);
    for (const o of outcomes) byIndex[o.index] = o;
    for (let i = 0; i < 2 * N; i++) if (!byIndex[i]) throw new Error(`ARS: rollout ${i} of iteration ${j} is missing`);
    const rPlus = new Float64Array(N);
    const rMinus = new Float64Array(N);
    let steps = 0;
    let sumRet = 0;
    let maxRet = -Infinity;
    for (let k = 0; k < N; k++) {
      rPlus[k] = byIndex[2 * k].shiftedReturn;
      rMinus[k] = byIndex[2 * k + 1].shiftedReturn;
    }
    for (const o of byIndex) {
      steps += o.steps;
      sumRet += o.return;
      maxRet = Math.max(maxRet, o.return);
    }
    const deltas = Array.from({ length: N }, (_, k) => directionNoise(deltaSeed(seed, j, k), O * A));
    const upd = arsUpdate(this.M, deltas, rPlus, rMinus, alpha, b);
    this.M = upd.M;
    for (const o of byIndex) if (o.stats) this.stats.merge(o.stats);
    this.iteration = j + 1;
    this.envSteps += steps;
    return {
      iteration: this.iteration,
      envSteps: steps,
      meanRolloutReturn: sumRet / byIndex.length,
      maxRolloutReturn: maxRet,
      sigmaR: upd.sigmaR,
      stepNorm: upd.stepNorm,
      selected: upd.selected,
    };
  }

  /** Episodes j = 0..episodes-1 of the current policy, reset with deriveSeed(evalSeed, j); true reward. */
  async evaluate(episodes: number, evalSeed: number): Promise<RolloutOutcome[]> {
    const specs: RolloutSpec[] = Array.from({ length: episodes }, (_, i) => ({
      index: i,
      episodeSeed: deriveSeed(evalSeed, i),
      deltaSeed: null,
      sign: 1 as const,
    }));
    const out = await this.executor(this.params(), specs, { nu: this.options.nu, shift: 0, collectStats: false });
    return out.sort((a, b) => a.index - b.index);
  }

  snapshot(): ArsSnapshot {
    return { iteration: this.iteration, envSteps: this.envSteps, M: Array.from(this.M), stats: this.stats.toJSON() };
  }
}
