/**
 * The score-regression gate (`ofql-eval regress`, docs/regression-gate.md).
 *
 * Per environment, a one-sided Welch t-test of H0: mu_new >= mu_base against H1: mu_new < mu_base
 * on the per-episode normalised scores:
 *
 *   v_b = s_b^2 / n_b,  v_n = s_n^2 / n_n            (s: sample std, ddof = 1)
 *   t   = (mean_n - mean_b) / sqrt(v_b + v_n)
 *   df  = (v_b + v_n)^2 / (v_b^2 / (n_b - 1) + v_n^2 / (n_n - 1))     (Welch-Satterthwaite)
 *   p   = P(T_df <= t) = tCdf(t, df)                                   (src/stats.ts)
 *
 * Decision rule: an environment REGRESSES if and only if
 *
 *   p < alpha   AND   drop = mean_b - mean_n >= minEffect   (normalised points)
 *
 * (alpha is divided by the number of environments under --correction bonferroni). The gate fails
 * when any environment regresses.
 *
 * Zero variance: when both samples are constant (v_b + v_n = 0, e.g. a deterministic policy that
 * reaches the same score in every episode) the difference of the means is exact: t = -Infinity,
 * p = 0 when the new mean is lower; t = +Infinity, p = 1 when higher; t = 0, p = 0.5 when equal;
 * df is then reported as n_b + n_n - 2 (Welch-Satterthwaite is 0/0). The decision is therefore
 * made by the min-effect alone. When only one sample is constant the formulas above apply as they
 * are (df = n - 1 of the other sample).
 */
import { mean, meanConfidenceInterval, sampleStd, tCdf, tQuantile } from '../../src/stats.js';
import type { BaselineDocument } from './baseline.js';
import { type EvalResultDocument, resultConsistencyProblems } from '../result.js';
import { MAX_ABS_SCORE } from '../../src/limits.js';

export const REGRESS_REPORT_KIND = 'ofql-eval/regress-report';
export const REGRESS_REPORT_SCHEMA_VERSION = 1;
export const DEFAULT_ALPHA = 0.01;
export const DEFAULT_MIN_EFFECT = 2.0;

export type Correction = 'none' | 'bonferroni';

/** One-sided Welch t-test of H1: mean(candidate) < mean(baseline). */
export interface WelchResult {
  nBaseline: number;
  nNew: number;
  meanBaseline: number;
  meanNew: number;
  /** Sample standard deviations, ddof = 1. */
  stdBaseline: number;
  stdNew: number;
  /** meanNew - meanBaseline (negative = the new policy scores lower). */
  diff: number;
  /** sqrt(s_b^2/n_b + s_n^2/n_n), the standard error of diff. */
  se: number;
  /** diff / se; +-Infinity or 0 when se = 0. */
  t: number;
  /** Welch-Satterthwaite degrees of freedom (n_b + n_n - 2 when se = 0). */
  df: number;
  /** One-sided p-value P(T_df <= t). */
  p: number;
  /** Both samples constant (se = 0): the comparison of the means is exact. */
  zeroVariance: boolean;
}

/** Bad input to the statistics (fewer than 2 values, non-finite values, bad alpha). */
export class RegressInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RegressInputError';
  }
}

function checkSample(x: ArrayLike<number>, what: string): void {
  if (x.length < 2) throw new RegressInputError(`${what}: ${x.length} value(s); the t-test needs at least 2`);
  for (let i = 0; i < x.length; i++) {
    if (typeof x[i] !== 'number' || !Number.isFinite(x[i])) throw new RegressInputError(`${what}: value ${i} is not a finite number`);
    // Past this the variance overflows float64 and the test's df became NaN ("degrees of freedom must be positive").
    if (Math.abs(x[i]) > MAX_ABS_SCORE) {
      throw new RegressInputError(`${what}: value ${i} is ${x[i]}, beyond the limit of +-${MAX_ABS_SCORE} normalised points (not a score an evaluation produces; an edited file?)`);
    }
  }
}

export function welchTTest(baseline: ArrayLike<number>, candidate: ArrayLike<number>): WelchResult {
  checkSample(baseline, 'baseline sample');
  checkSample(candidate, 'new sample');
  const nB = baseline.length;
  const nN = candidate.length;
  const mB = mean(baseline);
  const mN = mean(candidate);
  const sB = sampleStd(baseline);
  const sN = sampleStd(candidate);
  const vB = (sB * sB) / nB;
  const vN = (sN * sN) / nN;
  const se = Math.sqrt(vB + vN);
  const diff = mN - mB;
  if (se === 0) {
    const t = diff < 0 ? -Infinity : diff > 0 ? Infinity : 0;
    const df = nB + nN - 2;
    return { nBaseline: nB, nNew: nN, meanBaseline: mB, meanNew: mN, stdBaseline: sB, stdNew: sN, diff, se, t, df, p: tCdf(t, df), zeroVariance: true };
  }
  const t = diff / se;
  const df = (vB + vN) ** 2 / ((vB * vB) / (nB - 1) + (vN * vN) / (nN - 1));
  return { nBaseline: nB, nNew: nN, meanBaseline: mB, meanNew: mN, stdBaseline: sB, stdNew: sN, diff, se, t, df, p: tCdf(t, df), zeroVariance: false };
}

export interface DecisionOptions {
  /** Significance level of each one-sided test, 0 < alpha < 1 (default 0.01). */
  alpha?: number;
  /** Smallest drop (baseline mean - new mean, normalised points) that can fail the gate (default 2). */
  minEffect?: number;
  /** Bonferroni: test each of m environments at alpha / m. */
  correction?: Correction;
}

export type Verdict = 'pass' | 'regression';

export interface Decision {
  verdict: Verdict;
  /** p < alpha (the alpha actually used). */
  significant: boolean;
  /** drop >= minEffect. */
  largeEnough: boolean;
  /** baselineMean - newMean. */
  drop: number;
  /** One line: why. */
  reason: string;
}

/** The rule, applied to one test: regression iff p < alpha AND drop >= minEffect. */
export function decide(w: WelchResult, alpha: number, minEffect: number): Decision {
  const drop = -w.diff;
  const significant = w.p < alpha;
  const largeEnough = drop >= minEffect;
  const verdict: Verdict = significant && largeEnough ? 'regression' : 'pass';
  const f = (x: number): string => fmt(x, 2);
  let reason: string;
  if (verdict === 'regression') {
    reason = `drop ${f(drop)} >= min-effect ${f(minEffect)} and p = ${fmtP(w.p)} < alpha ${fmtAlpha(alpha)}`;
  } else if (drop <= 0) {
    reason = drop === 0 ? 'no change of the mean' : `no drop (the mean rose by ${f(-drop)})`;
  } else if (!significant && !largeEnough) {
    reason = `drop ${f(drop)} < min-effect ${f(minEffect)}, and p = ${fmtP(w.p)} >= alpha ${fmtAlpha(alpha)}`;
  } else if (!significant) {
    reason = `drop ${f(drop)} not significant: p = ${fmtP(w.p)} >= alpha ${fmtAlpha(alpha)}`;
  } else {
    reason = `drop ${f(drop)} is significant (p = ${fmtP(w.p)}) but < min-effect ${f(minEffect)}`;
  }
  return { verdict, significant, largeEnough, drop, reason };
}

/** Resolved options: alpha per test after the correction. */
export function resolveDecisionOptions(opts: DecisionOptions, tests: number): { alpha: number; alphaPerTest: number; minEffect: number; correction: Correction } {
  const alpha = opts.alpha ?? DEFAULT_ALPHA;
  const minEffect = opts.minEffect ?? DEFAULT_MIN_EFFECT;
  const correction = opts.correction ?? 'none';
  if (!(typeof alpha === 'number' && alpha > 0 && alpha < 1)) throw new RegressInputError(`alpha must be in (0, 1), got ${String(alpha)}`);
  if (!(typeof minEffect === 'number' && Number.isFinite(minEffect) && minEffect >= 0)) {
    throw new RegressInputError(`min-effect must be a finite number >= 0 (normalised points), got ${String(minEffect)}`);
  }
  if (correction !== 'none' && correction !== 'bonferroni') throw new RegressInputError(`unknown correction ${String(correction)}`);
  const alphaPerTest = correction === 'bonferroni' ? alpha / Math.max(1, tests) : alpha;
  return { alpha, alphaPerTest, minEffect, correction };
}

/** The decision rule in words, with the numbers (printed in every report). */
export function decisionRuleText(alpha: number, minEffect: number, correction: Correction = 'none', tests = 1): string {
  const a = correction === 'bonferroni' ? `alpha/m = ${fmtAlpha(alpha)}/${tests} = ${fmtAlpha(alpha / Math.max(1, tests))}` : `alpha = ${fmtAlpha(alpha)}`;
  return (
    `An environment REGRESSES if and only if p < ${a} AND drop = (baseline mean - new mean) >= min-effect = ${fmt(minEffect, 2)} ` +
    `normalised points, where p is the one-sided Welch t-test p-value for H1: new mean < baseline mean ` +
    `(t = (new mean - baseline mean) / sqrt(s_b^2/n_b + s_n^2/n_n), Welch-Satterthwaite df, p = P(T_df <= t)). ` +
    `The gate fails if any environment regresses.`
  );
}

export interface EnvComparison extends WelchResult, Decision {
  envId: string;
  /** 95% Student t intervals of the two means, [low, high]. */
  ciBaseline: [number, number] | null;
  ciNew: [number, number] | null;
  ciHalfWidthBaseline: number | null;
  ciHalfWidthNew: number | null;
  /** Wall-clock seconds the workers spent on this env in the new run (JUnit time), 0 if unknown. */
  seconds: number;
}

export function compareEnv(
  envId: string,
  baseline: ArrayLike<number>,
  candidate: ArrayLike<number>,
  alpha: number,
  minEffect: number,
  seconds = 0,
): EnvComparison {
  let w: WelchResult;
  try {
    w = welchTTest(baseline, candidate);
  } catch (err) {
    if (err instanceof RegressInputError) throw new RegressInputError(`${envId}: ${err.message}`);
    throw err;
  }
  const d = decide(w, alpha, minEffect);
  const cb = meanConfidenceInterval(baseline, 0.95);
  const cn = meanConfidenceInterval(candidate, 0.95);
  return {
    envId,
    ...w,
    ...d,
    ciBaseline: cb ? [cb.low, cb.high] : null,
    ciNew: cn ? [cn.low, cn.high] : null,
    ciHalfWidthBaseline: cb ? cb.halfWidth : null,
    ciHalfWidthNew: cn ? cn.halfWidth : null,
    seconds,
  };
}

/** Inputs that cannot be compared (exit code 2). */
export class RegressMismatchError extends RegressInputError {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`the new evaluation cannot be compared with the baseline:\n  - ${problems.join('\n  - ')}`);
    this.name = 'RegressMismatchError';
    this.problems = problems;
  }
}

export interface ComparabilityOptions {
  /** Accept runs whose max episode steps is not 1000 (both sides must still be equal). */
  allowNonD4rl?: boolean;
}

/**
 * Check that a new result can be compared with a baseline. Returns warnings (differences that do
 * not invalidate the comparison); throws RegressMismatchError listing every problem otherwise.
 */
export function checkComparable(baseline: BaselineDocument, doc: EvalResultDocument, opts: ComparabilityOptions = {}): string[] {
  const problems: string[] = [];
  const warnings: string[] = [];
  if (!doc.complete) {
    problems.push(
      `the new result is not complete (${doc.error ? `error: ${doc.error}` : doc.interrupted ? 'interrupted' : 'episodes missing'})`,
    );
  }
  // The flags above can be edited; the arrays must agree with them and with each other.
  for (const p of resultConsistencyProblems(doc)) problems.push(`the new result is not consistent: ${p}`);
  if (doc.settings.shard !== null) {
    problems.push(`the new result is shard ${doc.settings.shard.index}/${doc.settings.shard.count}; merge the shards first ('ofql-eval merge')`);
  }
  const baseIds = baseline.envs.map((e) => e.envId);
  const newIds = doc.results.map((r) => r.envId);
  const missing = baseIds.filter((id) => !newIds.includes(id));
  const extra = newIds.filter((id) => !baseIds.includes(id));
  const dup = newIds.filter((id, i) => newIds.indexOf(id) !== i);
  if (missing.length || extra.length) {
    problems.push(
      `different environment sets: baseline has [${baseIds.join(', ')}], new result has [${newIds.join(', ')}]` +
        `${missing.length ? `; missing in the new result: ${missing.join(', ')}` : ''}${extra.length ? `; not in the baseline: ${extra.join(', ')}` : ''}`,
    );
  }
  if (dup.length) problems.push(`the new result lists ${[...new Set(dup)].join(', ')} more than once`);
  const bs = baseline.settings;
  const ns = doc.settings;
  if (bs.maxEpisodeSteps !== ns.maxEpisodeSteps) {
    problems.push(`different max episode steps: baseline ${bs.maxEpisodeSteps}, new ${ns.maxEpisodeSteps} (episode returns over different horizons are not comparable)`);
  }
  const nonD4rl = [!bs.d4rlComparable ? `baseline (max episode steps ${bs.maxEpisodeSteps})` : null, !ns.d4rlComparable ? `new result (max episode steps ${ns.maxEpisodeSteps})` : null].filter(
    (x): x is string => x !== null,
  );
  if (nonD4rl.length) {
    const msg = `not D4RL-comparable settings: ${nonD4rl.join(' and ')}; D4RL uses 1000`;
    if (opts.allowNonD4rl) warnings.push(`${msg} (accepted: --allow-non-d4rl)`);
    else problems.push(`${msg}; pass --allow-non-d4rl to compare such runs anyway`);
  }
  for (const e of baseline.envs) {
    const r = doc.results.find((x) => x.envId === e.envId);
    if (!r) continue;
    if (r.refMin !== e.refMin || r.refMax !== e.refMax || r.family !== e.family) {
      problems.push(
        `${e.envId}: different normalisation (baseline ${e.family} [${e.refMin}, ${e.refMax}], new ${r.family} [${r.refMin}, ${r.refMax}])`,
      );
    }
    if (r.normalizedScores.length < 2) problems.push(`${e.envId}: the new result has ${r.normalizedScores.length} episode(s); the t-test needs at least 2`);
    else if (!r.normalizedScores.every((x) => typeof x === 'number' && Number.isFinite(x))) problems.push(`${e.envId}: the new result has non-finite scores`);
  }
  if (problems.length) throw new RegressMismatchError(problems);

  if (baseline.tool.version !== doc.tool.version) warnings.push(`ofql-eval version differs: baseline ${baseline.tool.version}, new ${doc.tool.version}`);
  if (baseline.mujoco.packageVersion !== doc.mujoco.packageVersion) {
    warnings.push(`@mujoco/mujoco version differs: baseline ${baseline.mujoco.packageVersion}, new ${doc.mujoco.packageVersion}`);
  }
  if (bs.seed === ns.seed) {
    warnings.push(
      `same seed (${bs.seed}) as the baseline: episode i starts from the same state in both runs; the Welch test treats the samples as independent ` +
        `(conservative when the paired outcomes are positively correlated; an unchanged deterministic policy gives identical scores and passes)`,
    );
  }
  if (bs.batchSize !== ns.batchSize) warnings.push(`batch size differs (baseline ${bs.batchSize}, new ${ns.batchSize}); harmless for row-wise policies`);
  return warnings;
}

export interface RunDescription {
  /** Where the scores came from: a file path, or null for a run made by this command. */
  file: string | null;
  policy: string;
  policySha256: string | null;
  ckpt: string | null;
  /** sha256 / tree digest of the checkpoint, if known. */
  ckptDigest: string | null;
  seed: number;
  episodes: number;
  maxEpisodeSteps: number;
  toolVersion: string;
  mujocoVersion: string;
  createdAt: string;
  /** Policy.description reported for the first environment (e.g. the OFQL sampler), or null. */
  description: string | null;
}

export interface RegressReport {
  schemaVersion: 1;
  kind: typeof REGRESS_REPORT_KIND;
  createdAt: string;
  /** true: no environment regressed (exit 0); false: at least one did (exit 1). */
  passed: boolean;
  alpha: number;
  alphaPerTest: number;
  minEffect: number;
  correction: Correction;
  rule: string;
  baseline: RunDescription & { label: string | null };
  candidate: RunDescription;
  /** Same policy module and checkpoint digests as the baseline (a re-evaluation, not a new model). */
  sameModel: boolean;
  envs: EnvComparison[];
  regressions: string[];
  warnings: string[];
  /** Notes, e.g. on zero-variance environments. */
  notes: string[];
  command: string[] | null;
}

export interface RegressOptions extends DecisionOptions, ComparabilityOptions {
  baselineFile?: string | null;
  candidateFile?: string | null;
  /** Digest of the new checkpoint (for the report), when known. */
  candidateCkptDigest?: string | null;
  command?: string[] | null;
}

/** Compare a new result with a baseline: checks (RegressMismatchError), tests, decisions. */
export function regress(baseline: BaselineDocument, doc: EvalResultDocument, opts: RegressOptions = {}): RegressReport {
  const { alpha, alphaPerTest, minEffect, correction } = resolveDecisionOptions(opts, baseline.envs.length);
  const warnings = checkComparable(baseline, doc, opts);
  const envs = baseline.envs.map((e) => {
    const r = doc.results.find((x) => x.envId === e.envId)!;
    return compareEnv(e.envId, e.normalizedScores, r.normalizedScores, alphaPerTest, minEffect, r.timing?.workerSeconds ?? 0);
  });
  const notes: string[] = [];
  for (const c of envs) {
    if (c.zeroVariance) {
      notes.push(
        `${c.envId}: both samples are constant (std 0, e.g. a deterministic policy): the difference of the means is exact, ` +
          `t = ${fmtT(c.t)}, p = ${fmtP(c.p)}; the verdict rests on the min-effect alone`,
      );
    } else if (c.stdBaseline === 0 || c.stdNew === 0) {
      notes.push(`${c.envId}: the ${c.stdBaseline === 0 ? 'baseline' : 'new'} sample is constant (std 0); Welch's df comes from the other sample alone`);
    }
  }
  const bp = baseline.policy;
  const np = doc.policy;
  const baseDigest = bp.ckptDigest ? `${bp.ckptDigest.algorithm}:${bp.ckptDigest.value}` : bp.ckptSha256 ? `sha256:${bp.ckptSha256}` : null;
  const newDigest = opts.candidateCkptDigest ?? (np.ckptSha256 ? `sha256:${np.ckptSha256}` : null);
  const sameModel =
    bp.kind === np.kind &&
    (bp.kind === 'builtin' ? bp.name === np.name : bp.sha256 !== null && bp.sha256 === np.sha256) &&
    (bp.ckpt === null ? np.ckpt === null : baseDigest !== null && baseDigest === newDigest);
  if (sameModel) {
    warnings.push(
      `the new run evaluates the same policy${bp.kind === 'module' ? ' module (same sha256)' : ''}${bp.ckpt !== null ? ' and checkpoint (same digest)' : ''} as the baseline: this checks the evaluation, not a new model`,
    );
  }
  return {
    schemaVersion: REGRESS_REPORT_SCHEMA_VERSION,
    kind: REGRESS_REPORT_KIND,
    createdAt: new Date().toISOString(),
    passed: envs.every((c) => c.verdict === 'pass'),
    alpha,
    alphaPerTest,
    minEffect,
    correction,
    rule: decisionRuleText(alpha, minEffect, correction, envs.length),
    baseline: {
      label: baseline.label,
      file: opts.baselineFile ?? null,
      policy: bp.name,
      policySha256: bp.sha256,
      ckpt: bp.ckpt,
      ckptDigest: baseDigest,
      seed: baseline.settings.seed,
      episodes: baseline.settings.episodes,
      maxEpisodeSteps: baseline.settings.maxEpisodeSteps,
      toolVersion: baseline.tool.version,
      mujocoVersion: baseline.mujoco.packageVersion,
      createdAt: baseline.createdAt,
      description: baseline.envs[0]?.policyDescription ?? null,
    },
    candidate: {
      file: opts.candidateFile ?? null,
      policy: np.name,
      policySha256: np.sha256,
      ckpt: np.ckpt,
      ckptDigest: newDigest,
      seed: doc.settings.seed,
      episodes: doc.settings.episodes,
      maxEpisodeSteps: doc.settings.maxEpisodeSteps,
      toolVersion: doc.tool.version,
      mujocoVersion: doc.mujoco.packageVersion,
      createdAt: doc.createdAt,
      description: doc.results[0]?.policyDescription ?? null,
    },
    sameModel,
    envs,
    regressions: envs.filter((c) => c.verdict === 'regression').map((c) => c.envId),
    warnings,
    notes,
    command: opts.command ?? null,
  };
}

/**
 * Power: the smallest true drop detected with probability `power` by the gate, for n episodes on
 * each side and a common per-episode std sigma (normal approximation of the Welch test):
 *
 *   SE = sigma * sqrt(2 / n),  nu = 2n - 2
 *   drop_detectable = max(minEffect, t_{1-alpha, nu} * SE) + t_{power, nu} * SE
 *
 * (with minEffect = 0 this is the textbook (t_{1-alpha} + t_{1-beta}) * sigma * sqrt(2/n)).
 * `power = 0.5` gives the drop that is flagged half of the time, i.e. the decision threshold.
 */
export function minimumDetectableDrop(opts: { n: number; std: number; alpha?: number; power?: number; minEffect?: number }): number {
  const { n, std } = opts;
  const alpha = opts.alpha ?? DEFAULT_ALPHA;
  const power = opts.power ?? 0.8;
  const minEffect = opts.minEffect ?? 0;
  if (!(Number.isSafeInteger(n) && n >= 2)) throw new RangeError(`n must be an integer >= 2, got ${n}`);
  if (!(std >= 0)) throw new RangeError(`std must be >= 0, got ${std}`);
  const nu = 2 * n - 2;
  const se = std * Math.sqrt(2 / n);
  const zPower = power === 0.5 ? 0 : tQuantile(power, nu);
  return Math.max(minEffect, tQuantile(1 - alpha, nu) * se) + zPower * se;
}

// ---------- formatting ----------

export function fmt(x: number, digits = 2): string {
  if (Number.isNaN(x)) return 'n/a';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  const s = x.toFixed(digits);
  return /^-0\.?0*$/.test(s) ? s.slice(1) : s;
}

export function fmtP(p: number): string {
  if (Number.isNaN(p)) return 'n/a';
  if (p === 0) return '0';
  if (p < 1e-4) return p.toExponential(1);
  return p.toFixed(4);
}

export function fmtT(t: number): string {
  return fmt(t, 3);
}

function fmtAlpha(a: number): string {
  return String(Number(a.toPrecision(6)));
}

function signed(x: number, digits = 2): string {
  const s = fmt(x, digits);
  return x > 0 && !s.startsWith('-') ? `+${s}` : s;
}

function meanCi(m: number, half: number | null, n: number): string {
  return `${fmt(m)} ± ${half === null ? 'n/a' : fmt(half)} (n=${n})`;
}

export interface ReportRow {
  env: string;
  baseline: string;
  candidate: string;
  diff: string;
  t: string;
  df: string;
  p: string;
  verdict: string;
}

export const REPORT_COLUMNS: [keyof ReportRow, string][] = [
  ['env', 'env'],
  ['baseline', 'baseline mean ± 95% CI'],
  ['candidate', 'new mean ± 95% CI'],
  ['diff', 'diff (new − base)'],
  ['t', 't'],
  ['df', 'df'],
  ['p', 'p (one-sided)'],
  ['verdict', 'verdict'],
];

export function reportRows(report: RegressReport): ReportRow[] {
  return report.envs.map((c) => ({
    env: c.envId,
    baseline: meanCi(c.meanBaseline, c.ciHalfWidthBaseline, c.nBaseline),
    candidate: meanCi(c.meanNew, c.ciHalfWidthNew, c.nNew),
    diff: signed(c.diff),
    t: fmtT(c.t),
    df: fmt(c.df, 1),
    p: fmtP(c.p),
    verdict: c.verdict === 'regression' ? `REGRESSION: ${c.reason}` : `pass: ${c.reason}`,
  }));
}

function mdCell(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** Markdown report (for $GITHUB_STEP_SUMMARY, PR comments). */
export function formatMarkdown(report: RegressReport): string {
  const L: string[] = [];
  const n = report.envs.length;
  const bad = report.regressions.length;
  L.push(`## Score regression gate: ${report.passed ? 'PASS' : 'FAIL'}`);
  L.push('');
  L.push(
    report.passed
      ? `No regression in ${n} environment${n === 1 ? '' : 's'}.`
      : `**${bad} of ${n} environment${n === 1 ? '' : 's'} regressed: ${report.regressions.join(', ')}.**`,
  );
  L.push('');
  L.push(`**Rule.** ${mdCell(report.rule)}`);
  L.push('');
  L.push('| ' + REPORT_COLUMNS.map(([, h]) => h).join(' | ') + ' |');
  L.push('|' + REPORT_COLUMNS.map(([k]) => (k === 'env' || k === 'verdict' ? ' --- ' : ' ---: ')).join('|') + '|');
  for (const [i, row] of reportRows(report).entries()) {
    const c = report.envs[i];
    const cells = REPORT_COLUMNS.map(([k]) => {
      const v = mdCell(row[k]);
      if (k === 'verdict') return c.verdict === 'regression' ? `**REGRESSION** (${mdCell(c.reason)})` : `pass (${mdCell(c.reason)})`;
      return k === 'env' ? `\`${v}\`` : v;
    });
    L.push('| ' + cells.join(' | ') + ' |');
  }
  L.push('');
  L.push('Scores are D4RL-normalised (100 × (R − REF_MIN) / (REF_MAX − REF_MIN)); CIs are two-sided 95% Student t intervals of each mean.');
  L.push('');
  const b = report.baseline;
  const c = report.candidate;
  L.push('| | baseline | new |');
  L.push('| --- | --- | --- |');
  L.push(`| source | ${b.file ? `\`${mdCell(b.file)}\`` : ''}${b.label ? ` (${mdCell(b.label)})` : ''} | ${c.file ? `\`${mdCell(c.file)}\`` : 'evaluated by this command'} |`);
  L.push(`| policy | \`${mdCell(b.policy)}\`${b.policySha256 ? ` sha256 ${b.policySha256.slice(0, 12)}` : ''} | \`${mdCell(c.policy)}\`${c.policySha256 ? ` sha256 ${c.policySha256.slice(0, 12)}` : ''} |`);
  L.push(`| checkpoint | ${ckptCell(b.ckpt, b.ckptDigest)} | ${ckptCell(c.ckpt, c.ckptDigest)} |`);
  if (b.description || c.description) L.push(`| policy description | ${mdCell(b.description ?? '')} | ${mdCell(c.description ?? '')} |`);
  L.push(`| episodes, seed | ${b.episodes}, ${b.seed} | ${c.episodes}, ${c.seed} |`);
  L.push(`| max episode steps | ${b.maxEpisodeSteps} | ${c.maxEpisodeSteps} |`);
  L.push(`| ofql-eval, @mujoco/mujoco | ${mdCell(b.toolVersion)}, ${mdCell(b.mujocoVersion)} | ${mdCell(c.toolVersion)}, ${mdCell(c.mujocoVersion)} |`);
  if (report.notes.length || report.warnings.length) {
    L.push('');
    for (const x of report.notes) L.push(`- note: ${mdCell(x)}`);
    for (const x of report.warnings) L.push(`- warning: ${mdCell(x)}`);
  }
  return L.join('\n') + '\n';
}

function ckptCell(ckpt: string | null, digest: string | null): string {
  if (ckpt === null) return '(none)';
  return `\`${mdCell(ckpt)}\`${digest ? ` ${mdCell(digest.slice(0, digest.indexOf(':') + 13))}` : ''}`;
}

/** Markdown for a gate that could not run (bad input, failed evaluation). */
export function formatErrorMarkdown(message: string): string {
  return `## Score regression gate: ERROR\n\nThe comparison could not be made (exit code 2):\n\n\`\`\`\n${message.replace(/```/g, "'''")}\n\`\`\`\n`;
}

/** Plain-text report for the terminal / CI log. */
export function formatText(report: RegressReport): string {
  const rows = reportRows(report);
  const head = REPORT_COLUMNS.map(([, h]) => h);
  const cols = REPORT_COLUMNS.map(([k], i) => Math.max(head[i].length, ...rows.map((r) => r[k].length)));
  const right = (k: keyof ReportRow): boolean => k !== 'env' && k !== 'verdict';
  const line = (cells: string[]): string =>
    cells
      .map((s, i) => (i === cells.length - 1 ? s : right(REPORT_COLUMNS[i][0]) ? s.padStart(cols[i]) : s.padEnd(cols[i])))
      .join('  ')
      .trimEnd();
  const L: string[] = [];
  L.push(`ofql-eval regress: ${report.passed ? 'PASS' : `FAIL (${report.regressions.join(', ')})`}`);
  L.push(`rule: ${report.rule}`);
  L.push('');
  L.push(line(head));
  for (const r of rows) L.push(line(REPORT_COLUMNS.map(([k]) => r[k])));
  for (const x of report.notes) L.push(`note: ${x}`);
  for (const x of report.warnings) L.push(`warning: ${x}`);
  return L.join('\n') + '\n';
}

/** JSON of a report; +-Infinity (t of a zero-variance comparison) written as "Infinity" / "-Infinity". */
export function reportToJson(report: RegressReport): string {
  return (
    JSON.stringify(
      report,
      (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? (Number.isNaN(v) ? null : v > 0 ? 'Infinity' : '-Infinity') : v),
      2,
    ) + '\n'
  );
}
