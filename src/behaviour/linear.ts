/**
 * Linear policies with observation normalisation, as trained by ARS V2 (Mania et al. 2018):
 *
 *     a = clip(M ((s - mu) ./ sigma), -1, 1)
 *
 * `M` is actionSize x observationSize (row-major), `mu` and `sigma` the running mean and standard
 * deviation of the observations seen during training. Entries of `sigma` below `SIGMA_FLOOR` are
 * treated as +inf (that observation entry is ignored), as the ARS reference code does
 * (code/filter.py `stats_increment`: `std[std < 1e-7] = inf`).
 *
 * The JSON file format (`LINEAR_POLICY_FORMAT`) is what `scripts/train-behaviour.ts` writes and
 * what the plug-in `linear-policy.ts` reads; see docs/behaviour-policies.md.
 */
import { readJsonFile } from '../json-file.js';

export const LINEAR_POLICY_FORMAT = 'ofql-eval/linear-policy';
export const LINEAR_POLICY_FORMAT_VERSION = 1;
/** sigma entries below this are treated as +inf (ARS code/filter.py). */
export const SIGMA_FLOOR = 1e-7;

export interface LinearParams {
  observationSize: number;
  actionSize: number;
  /** actionSize x observationSize, row-major. */
  M: Float64Array;
  mu: Float64Array;
  sigma: Float64Array;
}

/** Running observation statistics (count, mean, sum of squared deviations), for resuming ARS. */
export interface StatsJson {
  n: number;
  mean: number[];
  m2: number[];
}

/** The JSON document of a saved linear policy. */
export interface LinearPolicyFile {
  format: typeof LINEAR_POLICY_FORMAT;
  formatVersion: number;
  /** Env family (`hopper`, `halfcheetah`, `walker2d`, `ant`). */
  env: string;
  /** The env id it was trained on (e.g. `hopper-medium-v2`). */
  envId: string;
  observationSize: number;
  actionSize: number;
  /** actionSize rows of observationSize numbers. */
  M: number[][];
  mu: number[];
  sigma: number[];
  /** ARS iterations completed when saved. */
  iteration: number;
  /** Env steps used by training so far (rollouts only, not evaluations). */
  envSteps?: number;
  /** Mean undiscounted return of the evaluation episodes run at this checkpoint (no shift). */
  evalReturn?: number;
  evalNormalized?: number;
  evalEpisodes?: number;
  /** Episodes j used reset seed deriveSeed(evalSeed, j): `ofql-eval --seed evalSeed` replays them. */
  evalSeed?: number;
  /** Role when exported (`expert`, `medium`, `checkpoint`). */
  role?: string;
  /** Anything else (training settings, final evaluation, ...). */
  [key: string]: unknown;
}

export function paramsFromFile(doc: LinearPolicyFile): LinearParams {
  return {
    observationSize: doc.observationSize,
    actionSize: doc.actionSize,
    M: Float64Array.from(doc.M.flat()),
    mu: Float64Array.from(doc.mu),
    sigma: Float64Array.from(doc.sigma),
  };
}

export function matrixRows(M: ArrayLike<number>, rows: number, cols: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < rows; i++) out.push(Array.from({ length: cols }, (_, j) => M[i * cols + j]));
  return out;
}

/** Check a parsed JSON value is a usable linear policy file; throws an Error naming the problem. */
export function validateLinearPolicyFile(doc: unknown, where = 'linear policy'): LinearPolicyFile {
  const fail = (detail: string): never => {
    throw new Error(`${where}: ${detail}`);
  };
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) fail('not a JSON object');
  const d = doc as Record<string, unknown>;
  if (d.format !== LINEAR_POLICY_FORMAT) fail(`"format" must be "${LINEAR_POLICY_FORMAT}", got ${JSON.stringify(d.format)}`);
  if (typeof d.formatVersion !== 'number' || d.formatVersion > LINEAR_POLICY_FORMAT_VERSION || d.formatVersion < 1) {
    fail(`unsupported formatVersion ${JSON.stringify(d.formatVersion)} (this reader knows ${LINEAR_POLICY_FORMAT_VERSION})`);
  }
  const O = d.observationSize;
  const A = d.actionSize;
  if (!Number.isInteger(O) || (O as number) < 1) fail('"observationSize" must be a positive integer');
  if (!Number.isInteger(A) || (A as number) < 1) fail('"actionSize" must be a positive integer');
  const finiteArray = (v: unknown, n: number, name: string): void => {
    if (!Array.isArray(v) || v.length !== n) fail(`"${name}" must be an array of ${n} numbers`);
    for (const x of v as unknown[]) if (typeof x !== 'number' || !Number.isFinite(x)) fail(`"${name}" holds a non-finite or non-number entry`);
  };
  if (!Array.isArray(d.M) || d.M.length !== A) fail(`"M" must have ${String(A)} rows (actionSize)`);
  (d.M as unknown[]).forEach((row, i) => finiteArray(row, O as number, `M[${i}]`));
  finiteArray(d.mu, O as number, 'mu');
  finiteArray(d.sigma, O as number, 'sigma');
  if ((d.sigma as number[]).some((x) => x < 0)) fail('"sigma" has a negative entry');
  if (typeof d.env !== 'string' || d.env === '') fail('"env" (the env family) must be a non-empty string');
  return d as unknown as LinearPolicyFile;
}

export function readLinearPolicyFile(path: string): LinearPolicyFile {
  const doc = readJsonFile(path, (stage, why) =>
    new Error(stage === 'read' ? `cannot read linear policy ${path}: ${why}` : `linear policy ${path} is not valid JSON: ${why}`),
  );
  return validateLinearPolicyFile(doc, `linear policy ${path}`);
}

/** 1/sigma, with 0 where sigma < SIGMA_FLOOR (the entry is ignored). */
export function inverseSigma(sigma: ArrayLike<number>): Float64Array {
  const w = new Float64Array(sigma.length);
  for (let i = 0; i < sigma.length; i++) w[i] = sigma[i] >= SIGMA_FLOOR ? 1 / sigma[i] : 0;
  return w;
}

/**
 * A linear policy ready to act: normalised input z = (s - mu) * invSigma, a = clip(M z, -1, 1).
 * `M` may be replaced (`setWeights`) without reallocating (ARS perturbations).
 */
export class LinearActor {
  readonly observationSize: number;
  readonly actionSize: number;
  readonly M: Float64Array;
  readonly mu: Float64Array;
  readonly invSigma: Float64Array;
  private readonly z: Float64Array;

  constructor(p: LinearParams) {
    const { observationSize: O, actionSize: A } = p;
    if (p.M.length !== O * A || p.mu.length !== O || p.sigma.length !== O) {
      throw new RangeError(`linear policy: M must be ${A} x ${O}, mu and sigma ${O} long`);
    }
    this.observationSize = O;
    this.actionSize = A;
    this.M = Float64Array.from(p.M);
    this.mu = Float64Array.from(p.mu);
    this.invSigma = inverseSigma(p.sigma);
    this.z = new Float64Array(O);
  }

  /** Action for the observation at obs[obsOffset..], written to out[outOffset..]. */
  actInto(obs: ArrayLike<number>, obsOffset: number, out: Float64Array, outOffset: number): void {
    const { observationSize: O, actionSize: A, M, mu, invSigma, z } = this;
    for (let k = 0; k < O; k++) z[k] = (obs[obsOffset + k] - mu[k]) * invSigma[k];
    for (let i = 0; i < A; i++) {
      let s = 0;
      const row = i * O;
      for (let k = 0; k < O; k++) s += M[row + k] * z[k];
      out[outOffset + i] = s > 1 ? 1 : s < -1 ? -1 : s;
    }
  }
}
