/**
 * Sampler names, parameters, defaults and NFE formulas (no TensorFlow.js: the CLI checks options
 * with this before any worker starts). The samplers themselves are in samplers.ts; the NFE table
 * is docs/samplers.md.
 */
import { OptionError } from '../option-error.js';

/** Per-row network-evaluation counts, for the NFE table / tests. */
export interface NfeCounts {
  /** Actor (velocity) evaluations, summed over rows. */
  actor: number;
  /** Critic forward evaluations of min(Q1, Q2), summed over rows. */
  critic: number;
  /** Critic gradient evaluations (forward + backward) of min(Q1, Q2), summed over rows. */
  criticGrad: number;
}

export const SAMPLER_NAMES = ['one-step', 'dql', 'best-of-n', 'qgbs'] as const;
export type SamplerName = (typeof SAMPLER_NAMES)[number];

export interface QgbsParams {
  /** Search rounds (K = 0: best-of-M). */
  K: number;
  /** Branches (re-noised completions) per beam and round. */
  B: number;
  /** Beams (initial one-step actions, kept per round). */
  M: number;
  /** Re-noising signal-to-noise ratio; our re-noise time t = 1 / (1 + SNR). */
  SNR: number;
  /** Trust-region step length. */
  eta: number;
  /** Trust-region damping in eta g / (||g|| + kappa). */
  kappa: number;
}

export type SamplerSpec =
  /** noiseScale (absent = 1): eps ~ noiseScale * N(0, I); 0 acts with the deterministic map of eps = 0. */
  | { name: 'one-step'; noiseScale?: number }
  | { name: 'dql'; n: number }
  | { name: 'best-of-n'; n: number }
  | ({ name: 'qgbs' } & QgbsParams);

/** docs/reference.md §6's defaults ("K = 1, B = 4, M = 4, SNR = 1.5, eta = 0.3"); kappa is not given there. */
export const QGBS_DEFAULTS: Readonly<QgbsParams> = Object.freeze({ K: 1, B: 4, M: 4, SNR: 1.5, eta: 0.3, kappa: 1e-3 });
/** DQL's 50 candidates. */
export const DQL_DEFAULT_CANDIDATES = 50;
/** The common best-of-32 baseline (docs/reference.md §6). */
export const BEST_OF_N_DEFAULT = 32;

/** Sampler parameters as the flags and config files give them (any subset). */
export type SamplerParams = Partial<QgbsParams & { n: number; noiseScale: number }>;

/** Complete a (partial) sampler description with defaults and check it; throws OptionError naming the field. */
export function makeSamplerSpec(name: string, params: SamplerParams = {}): SamplerSpec {
  const int = (field: string, v: number, min: number) => {
    if (!Number.isSafeInteger(v) || v < min) throw new OptionError(`sampler ${name}: ${field} must be an integer >= ${min}, got ${String(v)}`);
    return v;
  };
  const num = (field: string, v: number, min: number, open: boolean) => {
    if (!Number.isFinite(v) || (open ? v <= min : v < min)) throw new OptionError(`sampler ${name}: ${field} must be a number ${open ? '>' : '>='} ${min}, got ${String(v)}`);
    return v;
  };
  if (params.noiseScale !== undefined && name !== 'one-step') {
    // The other samplers draw several candidates or re-noise: one scale would not say which noise it changes.
    throw new OptionError(`sampler ${name}: noiseScale (--noise-scale) applies to the one-step sampler only`);
  }
  switch (name) {
    case 'one-step': {
      const scale = params.noiseScale === undefined ? 1 : num('noiseScale', params.noiseScale, 0, false);
      return scale === 1 ? { name } : { name, noiseScale: scale };
    }
    case 'dql':
      return { name, n: int('n', params.n ?? DQL_DEFAULT_CANDIDATES, 1) };
    case 'best-of-n':
      return { name, n: int('n', params.n ?? BEST_OF_N_DEFAULT, 1) };
    case 'qgbs': {
      const p = { ...QGBS_DEFAULTS, ...Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined)) };
      return {
        name,
        K: int('K', p.K, 0),
        B: int('B', p.B, 1),
        M: int('M', p.M, 1),
        SNR: num('SNR', p.SNR, 0, true),
        eta: num('eta', p.eta, 0, false),
        kappa: num('kappa', p.kappa, 0, false),
      };
    }
    default:
      throw new OptionError(`unknown sampler '${name}'; use one of ${SAMPLER_NAMES.join(', ')}`);
  }
}

/** One-line description: `qgbs(K=1,B=4,M=4,SNR=1.5,eta=0.3,kappa=0.001)`. */
export function describeSampler(spec: SamplerSpec): string {
  const { name, ...rest } = spec;
  const kv = Object.entries(rest).map(([k, v]) => `${k}=${v}`);
  return kv.length ? `${name}(${kv.join(',')})` : name;
}

/** Network evaluations per action (per state), by formula; see docs/samplers.md. */
export function samplerNfe(spec: SamplerSpec): NfeCounts {
  switch (spec.name) {
    case 'one-step':
      return { actor: 1, critic: 0, criticGrad: 0 };
    case 'dql':
      return { actor: spec.n, critic: spec.n, criticGrad: 0 };
    case 'best-of-n':
      return { actor: spec.n, critic: spec.n, criticGrad: 0 };
    case 'qgbs': {
      const { K, B, M } = spec;
      return { actor: M * (1 + K * B), critic: M + K * M * (B + 1), criticGrad: K * M };
    }
  }
}

/**
 * A behaviour-cloning checkpoint (config trainCritic = false) has untrained critics: refuse every
 * sampler that ranks actions with them. `dir` names the checkpoint in the message.
 */
export function checkSamplerForCheckpoint(dir: string, trainCritic: boolean, sampler: SamplerName): void {
  if (!trainCritic && sampler !== 'one-step') {
    throw new Error(
      `${dir}/config.json: trainCritic is false (a behaviour-cloning checkpoint, eta = 0): its critics were never ` +
        `trained, so sampler '${sampler}' cannot rank actions with them; use --sampler one-step`,
    );
  }
}
