/**
 * `ofql-eval baseline` and `ofql-eval regress`: the score-regression gate (docs/regression-gate.md).
 *
 *   ofql-eval baseline (--results r.json | --env ... --policy ... | --ckpt <OFQL dir> [run flags]) --out baseline.json
 *   ofql-eval regress --baseline baseline.json (--results new.json | --ckpt dir | [run flags])
 *                     [--alpha 0.01] [--min-effect 2] [--markdown r.md] [--junit r.xml] [--json r.json]
 *
 * Exit codes of `regress`: 0 no regression; 1 at least one environment regressed; 2 the
 * comparison could not be made (bad command line, unreadable or mismatched inputs, failed
 * evaluation) or a report could not be written (it went to the fallback file named on stderr);
 * 130 / 143 stopped by SIGINT / SIGTERM.
 * Exit codes of `baseline`: 0 written; 1 the evaluation failed or is incomplete (nothing
 * written), or --out could not be written (the baseline went to the fallback file named on
 * stderr); 2 bad command line or input; 130 / 143 stopped by SIGINT / SIGTERM.
 * Output paths are checked before any evaluation (src/output-path.ts).
 *
 * Both commands evaluate through `evaluate` (eval/evaluate.ts) via runEvaluationForCli.
 */
import { userPath } from '../paths.js';
import { readFileSync } from 'node:fs';
import type { Argv, CommandModule } from 'yargs';
import { OptionError, UsageError, checkIntFlag, exitCodeOfSignal } from '../cli-errors.js';
import {
  type BaselineDocument,
  BaselineFormatError,
  baselineFromResult,
  digestCheckpoint,
  readBaselineFile,
  sha256,
  baselineToJson,
} from '../../eval/gate/baseline.js';
import { DEFAULT_BATCH_SIZE, DEFAULT_EPISODES, DEFAULT_POLICY_TIMEOUT_MS } from '../../eval/evaluate.js';
import { formatSummary } from '../../eval/format.js';
import { errorJUnitXml, toJUnitXml } from '../../eval/gate/junit.js';
import { defaultWorkerCount } from '../../eval/pool.js';
import type { ProgressMode } from '../progress.js';
import {
  type Correction,
  DEFAULT_ALPHA,
  DEFAULT_MIN_EFFECT,
  RegressInputError,
  formatErrorMarkdown,
  formatMarkdown,
  formatText,
  regress,
  reportToJson,
  resolveDecisionOptions,
} from '../../eval/gate/compare.js';
import { type EvalResultDocument, ResultFormatError, readResultFile, toJson } from '../../eval/result.js';
import { OutputPathError, checkNotAnInput, checkOutputFile, writeOutputReported } from '../output-path.js';
import { EnvListError } from '../env-list.js';
import { DEFAULT_MAX_EPISODE_STEPS } from '../make-env.js';
import { describeResolution } from '../checkpoint/run-dir.js';
import { PolicyLoadError } from '../policy/errors.js';
import { POLICY_KIND_OPTIONS, PolicyArgsError, givenKindFlags, policyKindOf, preparePolicy } from '../policy/kinds.js';
import { OFQL_CLI_OPTIONS } from '../policy/ofql-cli.js';
import type { PolicyRef } from '../policy/types.js';
import { runEvaluationForCli } from './run-evaluation.js';

export const EXIT_PASS = 0;
export const EXIT_REGRESSION = 1;
export const EXIT_BAD_INPUT = 2;

const out = (s: string): void => {
  process.stdout.write(s);
};
const err = (s: string): void => {
  process.stderr.write(s.endsWith('\n') ? s : `${s}\n`);
};

interface RunFlags {
  env?: string[];
  policy?: string;
  ckpt?: string;
  episodes?: number;
  seed?: number;
  workers?: number;
  'batch-size'?: number;
  'max-episode-steps'?: number;
  'policy-timeout'?: number;
  progress?: ProgressMode;
  'save-results'?: string;
}

const RUN_FLAGS = ['env', 'policy', 'ckpt', 'episodes', 'seed', 'workers', 'batch-size', 'max-episode-steps', 'policy-timeout', 'progress', ...Object.keys(POLICY_KIND_OPTIONS)];
const INT_FLAGS: [keyof RunFlags, number][] = [
  ['episodes', 2],
  ['seed', 0],
  ['workers', 1],
  ['batch-size', 1],
  ['max-episode-steps', 1],
  ['policy-timeout', 0],
];
const SINGLE_FLAGS = ['policy', 'ckpt', 'results', 'save-results', 'out', 'baseline', 'markdown', 'junit', 'json', 'label', 'alpha', 'min-effect'];

/** Run flags; `fromBaseline`: their defaults come from the baseline (regress). */
function addRunFlags<T>(y: Argv<T>, fromBaseline: boolean): Argv<T> {
  const cores = defaultWorkerCount();
  const dflt = (value: string): { defaultDescription: string } => ({ defaultDescription: fromBaseline ? "the baseline's" : value });
  return y
    .option('env', {
      alias: 'e',
      type: 'string',
      array: true,
      describe: 'Env id(s), comma-separated, or a suite' + (fromBaseline ? " (default: the baseline's environments; the sets must be equal)" : ''),
      group: 'Evaluation (instead of --results):',
    })
    .option('policy', {
      alias: 'p',
      type: 'string',
      describe: fromBaseline
        ? "Built-in policy, 'ofql' (OFQL checkpoint directory given by --ckpt) or path to an ES module (default: the baseline's --policy, as written)"
        : "Built-in policy, 'ofql' (OFQL checkpoint directory given by --ckpt; the default when only --ckpt is given) or path to an ES module",
      group: 'Evaluation (instead of --results):',
    })
    .option('ckpt', {
      type: 'string',
      describe: fromBaseline
        ? "Checkpoint (file or directory) to test, given to the policy (the baseline's unless --policy; an OFQL checkpoint or training run directory for an 'ofql' baseline: a run is its newest checkpoint, <run>@N step N). Default when --policy is not given either: the baseline's checkpoint (re-evaluates the baseline model)"
        : 'Checkpoint (file or directory) passed to the policy as spec.ckpt; alone (no --policy): an OFQL checkpoint directory (or a training run directory: its newest checkpoint; <run>@N: step N), --env defaulting to its task, or a PyTorch OFQL actor (.pth / .pt / .safetensors)',
      group: 'Evaluation (instead of --results):',
    })
    .option('episodes', { alias: 'n', type: 'number', describe: 'Episodes per environment (>= 2)', ...dflt(String(DEFAULT_EPISODES)), group: 'Evaluation (instead of --results):' })
    .option('seed', { alias: 's', type: 'number', describe: 'Run seed; episode i resets with deriveSeed(seed, i)', ...dflt('0'), group: 'Evaluation (instead of --results):' })
    .option('workers', {
      alias: 'w',
      type: 'number',
      describe: 'Worker threads; results do not depend on it',
      defaultDescription: `available cores (${cores})`,
      group: 'Evaluation (instead of --results):',
    })
    .option('batch-size', { type: 'number', describe: 'Envs stepped together per worker', ...dflt(String(DEFAULT_BATCH_SIZE)), group: 'Evaluation (instead of --results):' })
    .option('max-episode-steps', {
      type: 'number',
      describe: 'Episode time limit (1000 = D4RL)' + (fromBaseline ? '; must equal the baseline\'s' : ''),
      ...dflt(String(DEFAULT_MAX_EPISODE_STEPS)),
      group: 'Evaluation (instead of --results):',
    })
    .option('policy-timeout', { type: 'number', describe: 'Limit per act() call (ms; 0 = none)', ...dflt(String(DEFAULT_POLICY_TIMEOUT_MS)), group: 'Evaluation (instead of --results):' })
    .option('progress', { choices: ['auto', 'bar', 'lines', 'off'] as const, describe: 'Progress on stderr', defaultDescription: 'auto', group: 'Evaluation (instead of --results):' })
    .option('save-results', { type: 'string', describe: 'Also write the result document of the evaluation here', group: 'Evaluation (instead of --results):' })
    .options(POLICY_KIND_OPTIONS)
    .group(
      Object.keys(OFQL_CLI_OPTIONS),
      fromBaseline ? "OFQL checkpoints (--ckpt <dir> with --policy ofql or no --policy; default: the baseline's):" : 'OFQL checkpoints (--ckpt <dir> with --policy ofql or no --policy):',
    ) as unknown as Argv<T>;
}

interface ResolvedPolicy {
  policy: string | PolicyRef;
  env: string[] | undefined;
  /** Kind-specific flags used (e.g. the OFQL sampler; null: a built-in or plug-in policy). */
  ofqlOptions: Record<string, unknown> | null;
  /** The checkpoint to evaluate and digest: the one the policy kind resolved (a run directory's step-N/), else --ckpt as given. */
  ckpt: string | undefined;
  /** The absolute path of `ckpt` (what digestCheckpoint hashes), or null without one. */
  ckptAbs: string | null;
}

/**
 * The policy of an evaluation, as the default command resolves it (src/policy/kinds.ts);
 * `inherited`: kind flags not given default to these (regress: the baseline's).
 */
async function resolvePolicy(
  a: { policy?: string; ckpt?: string; env?: string[] },
  given: Record<string, unknown>,
  inherited: Record<string, unknown> = {},
): Promise<ResolvedPolicy> {
  // Inherited flags count only for the kind they belong to (an OFQL baseline's sampler does not follow a plug-in).
  const kind = policyKindOf({ policy: a.policy, ckpt: a.ckpt });
  const own = Object.fromEntries(Object.entries(inherited).filter(([k]) => kind !== undefined && k in kind.options));
  let prepared;
  try {
    prepared = await preparePolicy({ policy: a.policy, ckpt: a.ckpt, env: a.env, flags: { ...own, ...given } });
  } catch (e) {
    if (e instanceof PolicyArgsError) throw new UsageError(e.message);
    throw e;
  }
  const chosen = prepared.ckpt ? describeResolution(prepared.ckpt) : null;
  if (chosen !== null) err(`ofql-eval: --ckpt ${chosen}`);
  const ckpt = prepared.ckpt?.dir ?? a.ckpt;
  return { policy: prepared.ref, env: prepared.env, ofqlOptions: prepared.flags, ckpt, ckptAbs: ckpt === undefined ? null : userPath(ckpt) };
}

function checkFlags(a: Record<string, unknown>): true {
  for (const [name, min] of INT_FLAGS) {
    const v = a[name];
    if (v === undefined) continue;
    checkIntFlag(v, `--${name}`, min);
  }
  for (const name of SINGLE_FLAGS) if (Array.isArray(a[name])) throw new UsageError(`--${name} was given more than once`);
  if (Array.isArray(a.env) && a.env.some((e) => typeof e !== 'string' || e.trim() === '')) throw new UsageError('--env needs a value');
  if (a.results !== undefined) {
    const given = RUN_FLAGS.filter((f) => a[f] !== undefined);
    if (given.length) {
      throw new UsageError(
        `--results takes the scores from a result file; it cannot be combined with the evaluation flag(s) ${given.map((f) => `--${f}`).join(', ')}`,
      );
    }
    if (a['save-results'] !== undefined) throw new UsageError('--save-results needs an evaluation, not --results');
  }
  return true;
}

// ---------------------------------------------------------------- baseline

interface BaselineArgs extends RunFlags {
  results?: string;
  out: string;
  label?: string;
}

async function baselineMain(a: BaselineArgs, argv: string[]): Promise<number> {
  const command = ['ofql-eval', ...argv];
  // Destinations before the evaluation (src/output-path.ts): a bad path must not cost the run.
  checkNotAnInput(a.out, '--out', [['--results', a.results]]);
  checkOutputFile(a.out, '--out');
  if (a['save-results'] !== undefined) checkOutputFile(a['save-results'], '--save-results');
  let base: BaselineDocument;
  let ofqlOptions: Record<string, unknown> | null = null;
  if (a.results !== undefined) {
    const doc = readResultFile(a.results);
    const ckptDigest =
      doc.policy.ckptSha256 !== null
        ? { algorithm: 'sha256' as const, value: doc.policy.ckptSha256, files: 1, hashedAt: 'evaluation' as const }
        : digestCheckpoint(doc.policy.ckpt, 'baseline');
    base = baselineFromResult(doc, {
      label: a.label ?? null,
      command,
      source: { kind: 'results', file: a.results, fileSha256: sha256(readFileSync(a.results)) },
      ckptDigest,
    });
  } else {
    if (a.policy === undefined && a.ckpt === undefined) {
      throw new UsageError('give --results <result.json>, or --env and --policy (or --ckpt <OFQL checkpoint directory>) to run the evaluation');
    }
    const resolved = await resolvePolicy(a, givenKindFlags(a as unknown as Record<string, unknown>));
    if (resolved.env === undefined) throw new UsageError('give the environment(s): --env <ids|suite>');
    ofqlOptions = resolved.ofqlOptions;
    // The resolved checkpoint is digested, not a training run directory around it.
    const ckptDigest = digestCheckpoint(resolved.ckptAbs, 'evaluation');
    const ev = await runEvaluationForCli({
      name: 'ofql-eval baseline',
      env: resolved.env,
      policy: resolved.policy,
      ckpt: resolved.ckpt,
      ckptGiven: a.ckpt,
      episodes: a.episodes ?? DEFAULT_EPISODES,
      seed: a.seed ?? 0,
      workers: a.workers ?? defaultWorkerCount(),
      batchSize: a['batch-size'] ?? DEFAULT_BATCH_SIZE,
      maxEpisodeSteps: a['max-episode-steps'] ?? DEFAULT_MAX_EPISODE_STEPS,
      policyTimeoutMs: a['policy-timeout'] ?? DEFAULT_POLICY_TIMEOUT_MS,
      progress: a.progress ?? 'auto',
      command,
    });
    out(formatSummary(ev.doc));
    if (a['save-results'] && writeOutputReported('ofql-eval baseline', 'result', a['save-results'], toJson(ev.doc), err)) {
      err(`ofql-eval baseline: wrote ${ev.doc.complete ? '' : 'PARTIAL '}result to ${a['save-results']}`);
    }
    if (ev.signal) return exitCodeOfSignal(ev.signal);
    if (ev.failed !== null || !ev.doc.complete) {
      err(`ofql-eval baseline: error: the evaluation ${ev.failed !== null ? `failed: ${ev.failed}` : 'is incomplete'}; no baseline written`);
      return 1;
    }
    base = baselineFromResult(ev.doc, { label: a.label ?? null, command, source: { kind: 'run' }, ckptDigest, ofqlOptions });
  }
  const written = writeOutputReported('ofql-eval baseline', 'baseline', a.out, baselineToJson(base), err);
  out(`\nbaseline ${written ? a.out : '(NOT written to --out; see the error)'}: ${base.policy.name}${base.policy.ckpt ? ` (ckpt ${base.policy.ckpt})` : ''}, seed ${base.settings.seed}, max episode steps ${base.settings.maxEpisodeSteps}\n`);
  for (const e of base.envs) {
    out(`  ${e.envId}: normalised ${e.mean.toFixed(2)} ± ${e.std.toFixed(2)} (mean ± sample std, n=${e.n}), 95% CI ${e.ci95 ? `[${e.ci95[0].toFixed(2)}, ${e.ci95[1].toFixed(2)}]` : 'n/a'}\n`);
  }
  if (!base.settings.d4rlComparable) {
    out(`  note: max episode steps ${base.settings.maxEpisodeSteps} is not D4RL's 1000; 'regress' will need --allow-non-d4rl\n`);
  }
  return written ? 0 : 1;
}

export function baselineCommand(argv: string[], setExitCode: (code: number) => void): CommandModule<object, BaselineArgs> {
  return {
    command: 'baseline',
    describe: 'Record the scores of a policy / checkpoint as the baseline of the regression gate',
    builder: (y: Argv<object>) =>
      addRunFlags(
        y
          .usage(
            [
              'Record per-episode normalised scores, run settings, policy / checkpoint hashes and versions as a baseline for',
              "'ofql-eval regress' (docs/regression-gate.md).",
              '',
              'Usage:',
              '  $0 baseline --results <result.json> --out <baseline.json>',
              '  $0 baseline --env <ids|suite> --policy <p> [--ckpt <c>] [--episodes N] [--seed S] ... --out <baseline.json>',
              '  $0 baseline --ckpt <OFQL checkpoint dir> [--sampler ...] [--episodes N] ... --out <baseline.json>',
            ].join('\n'),
          )
          .option('results', { alias: 'r', type: 'string', describe: 'Take the scores from this result file (complete, unsharded; merge shards first)' })
          .option('out', { alias: 'o', type: 'string', demandOption: 'give the baseline file: --out baseline.json', describe: 'Write the baseline here' })
          .option('label', { type: 'string', describe: 'Free-text label stored in the baseline (e.g. model and commit)' }),
        false,
      )
        .check((a) => checkFlags(a as unknown as Record<string, unknown>))
        .example('$0 baseline --results docs/results/hopper-medium-ofql-one-step.json --out eval/baselines/ofql-hopper-medium.json', 'from an existing result')
        .example('$0 baseline -e d4rl-locomotion -p ./pol.mjs --ckpt ckpts/ --out baseline.json', 'evaluate, then record')
        .epilogue('Exit codes: 0 written; 1 the evaluation failed or is incomplete (nothing written); 2 bad command line or input.') as unknown as Argv<BaselineArgs>,
    handler: async (a) => {
      try {
        setExitCode(await baselineMain(a as unknown as BaselineArgs, argv));
      } catch (e) {
        setExitCode(reportError('ofql-eval baseline', e, 1));
      }
    },
  };
}

// ---------------------------------------------------------------- regress

interface RegressArgs extends RunFlags {
  baseline: string;
  results?: string;
  alpha: number;
  'min-effect': number;
  correction: Correction;
  'allow-non-d4rl': boolean;
  markdown?: string;
  junit?: string;
  json?: string;
}

async function regressMain(a: RegressArgs, argv: string[]): Promise<number> {
  const command = ['ofql-eval', ...argv];
  // Destinations before the evaluation (src/output-path.ts): a bad path must not cost the run.
  for (const flag of ['markdown', 'junit', 'json', 'save-results'] as const) {
    if (a[flag] === undefined) continue;
    checkNotAnInput(a[flag], `--${flag}`, [['--baseline', a.baseline], ['--results', a.results]]);
    checkOutputFile(a[flag], `--${flag}`);
  }
  const baseline = readBaselineFile(a.baseline);
  // Check the decision options before spending time on an evaluation.
  resolveDecisionOptions({ alpha: a.alpha, minEffect: a['min-effect'], correction: a.correction }, baseline.envs.length);
  let doc: EvalResultDocument;
  let candidateDigest: string | null = null;
  if (a.results !== undefined) {
    doc = readResultFile(a.results);
    const d = doc.policy.ckptSha256 !== null ? { algorithm: 'sha256', value: doc.policy.ckptSha256 } : digestCheckpoint(doc.policy.ckpt, 'baseline');
    candidateDigest = d ? `${d.algorithm}:${d.value}` : null;
  } else {
    const bs = baseline.settings;
    // The checkpoint defaults to the baseline's only when the policy does too.
    const ckpt = a.ckpt ?? (a.policy === undefined ? (baseline.policy.ckpt ?? undefined) : undefined);
    const policyName = a.policy ?? baseline.policy.name;
    err(
      `ofql-eval regress: evaluating ${policyName}${ckpt !== undefined ? ` with ckpt ${ckpt}` : ''} on ${(a.env ?? baseline.envs.map((e) => e.envId)).join(', ')} ` +
        `(${a.episodes ?? bs.episodes} episodes, seed ${a.seed ?? bs.seed})`,
    );
    let ev;
    try {
      // OFQL checkpoints: sampler options not given default to the ones the baseline was run with.
      const resolved = await resolvePolicy(
        { policy: policyName, ckpt, env: a.env ?? baseline.envs.map((e) => e.envId) },
        givenKindFlags(a as unknown as Record<string, unknown>),
        baseline.policy.ofqlOptions ?? {},
      );
      // The resolved checkpoint is digested, not a training run directory around it.
      const d = digestCheckpoint(resolved.ckptAbs, 'evaluation');
      candidateDigest = d ? `${d.algorithm}:${d.value}` : null;
      ev = await runEvaluationForCli({
        name: 'ofql-eval regress',
        env: resolved.env!,
        policy: resolved.policy,
        ckpt: resolved.ckpt,
        ckptGiven: ckpt,
        episodes: a.episodes ?? bs.episodes,
        seed: a.seed ?? bs.seed,
        workers: a.workers ?? defaultWorkerCount(),
        batchSize: a['batch-size'] ?? bs.batchSize,
        maxEpisodeSteps: a['max-episode-steps'] ?? bs.maxEpisodeSteps,
        policyTimeoutMs: a['policy-timeout'] ?? bs.policyTimeoutMs,
        progress: a.progress ?? 'auto',
        command,
      });
    } catch (e) {
      if (e instanceof PolicyLoadError && a.policy === undefined) {
        throw new RegressInputError(`${e.message} (the policy was taken from the baseline; give --policy)`);
      }
      throw e;
    }
    if (a['save-results'] && writeOutputReported('ofql-eval regress', 'result', a['save-results'], toJson(ev.doc), err)) {
      err(`ofql-eval regress: wrote ${ev.doc.complete ? '' : 'PARTIAL '}result to ${a['save-results']}`);
    }
    if (ev.signal) return exitCodeOfSignal(ev.signal);
    if (ev.failed !== null) throw new RegressInputError(`the evaluation failed: ${ev.failed}`);
    doc = ev.doc;
  }
  const report = regress(baseline, doc, {
    alpha: a.alpha,
    minEffect: a['min-effect'],
    correction: a.correction,
    allowNonD4rl: a['allow-non-d4rl'],
    baselineFile: a.baseline,
    candidateFile: a.results ?? null,
    candidateCkptDigest: candidateDigest,
    command,
  });
  // The verdict on stdout first; then the reports, each with a fallback file if its write fails.
  out(formatText(report));
  let written = true;
  if (a.markdown) written = writeOutputReported('ofql-eval regress', 'Markdown report', a.markdown, formatMarkdown(report), err) && written;
  if (a.junit) written = writeOutputReported('ofql-eval regress', 'JUnit report', a.junit, toJUnitXml(report), err) && written;
  if (a.json) written = writeOutputReported('ofql-eval regress', 'JSON report', a.json, reportToJson(report), err) && written;
  if (!written) return EXIT_BAD_INPUT;
  return report.passed ? EXIT_PASS : EXIT_REGRESSION;
}

export function regressCommand(argv: string[], setExitCode: (code: number) => void): CommandModule<object, RegressArgs> {
  return {
    command: 'regress',
    describe: 'Compare a new evaluation with a baseline: one-sided Welch t-test per environment (exit 1 on a regression)',
    builder: (y: Argv<object>) =>
      addRunFlags(
        y
          .usage(
            [
              'Test whether a new policy / checkpoint scores lower than a baseline (docs/regression-gate.md).',
              '',
              'Usage:',
              '  $0 regress --baseline <baseline.json> --results <new.json> [options]',
              '  $0 regress --baseline <baseline.json> --ckpt <dir> [--episodes N] [run flags] [options]',
            ].join('\n'),
          )
          .option('baseline', { alias: 'b', type: 'string', demandOption: 'give the baseline: --baseline baseline.json', describe: "Baseline file made by 'ofql-eval baseline'" })
          .option('results', { alias: 'r', type: 'string', describe: 'Take the new scores from this result file instead of evaluating' })
          .option('alpha', { type: 'number', default: DEFAULT_ALPHA, describe: 'Significance level of each one-sided test' })
          .option('min-effect', { type: 'number', default: DEFAULT_MIN_EFFECT, describe: 'Smallest drop of the mean normalised score (points) that can fail the gate' })
          .option('correction', { choices: ['none', 'bonferroni'] as const, default: 'none' as const, describe: 'bonferroni: test each of m environments at alpha/m' })
          .option('allow-non-d4rl', { type: 'boolean', default: false, describe: 'Accept max episode steps other than 1000 (equal on both sides), e.g. for smoke tests' })
          .option('markdown', { type: 'string', describe: 'Write the Markdown report here (e.g. for $GITHUB_STEP_SUMMARY)' })
          .option('junit', { type: 'string', describe: 'Write a JUnit XML report here (one testcase per environment)' })
          .option('json', { type: 'string', describe: 'Write the report as JSON here' }),
        true,
      )
        .check((a) => {
          checkFlags(a as unknown as Record<string, unknown>);
          if (typeof a.alpha !== 'number' || !(a.alpha > 0 && a.alpha < 1)) throw new UsageError(`--alpha must be in (0, 1), got ${String(a.alpha)}`);
          const m = a['min-effect'];
          if (typeof m !== 'number' || !Number.isFinite(m) || m < 0) throw new UsageError(`--min-effect must be a number >= 0, got ${String(m)}`);
          return true;
        })
        .example('$0 regress -b eval/baselines/ofql-hopper-medium.json --ckpt eval/checkpoints/ofql-hopper-medium --episodes 50 --junit r.xml', 'evaluate and test')
        .example('$0 regress -b baseline.json -r new.json --markdown report.md', 'test an existing result')
        .epilogue(
          'Decision rule: an environment REGRESSES if and only if p < alpha AND drop = (baseline mean - new mean) >= min-effect, ' +
            'p being the one-sided Welch t-test p-value for H1: new mean < baseline mean on the per-episode normalised scores ' +
            '(Welch-Satterthwaite df, Student t CDF). The gate fails if any environment regresses. ' +
            'Both samples constant (zero variance): t = -inf/+inf/0, p = 0/1/0.5, so the min-effect decides. ' +
            'Run settings not given default to the baseline\'s (same seed: paired initial states). ' +
            'Exit codes: 0 no regression; 1 regression; 2 the comparison could not be made (bad input, mismatched environments or settings, failed evaluation).',
        ) as unknown as Argv<RegressArgs>,
    handler: async (a) => {
      const args = a as unknown as RegressArgs;
      try {
        setExitCode(await regressMain(args, argv));
      } catch (e) {
        const code = reportError('ofql-eval regress', e, EXIT_BAD_INPUT);
        const message = e instanceof Error ? e.message : String(e);
        // A destination that failed its check gets no error report either (it cannot be written).
        if (!(e instanceof OutputPathError)) {
          if (args.markdown) writeOutputReported('ofql-eval regress', 'error report', args.markdown, formatErrorMarkdown(message), err);
          if (args.junit) writeOutputReported('ofql-eval regress', 'error report', args.junit, errorJUnitXml(message), err);
        }
        setExitCode(code);
      }
    },
  };
}

/** Print an error; the exit code: 2 for bad input, `unexpected` otherwise. */
function reportError(name: string, e: unknown, unexpected: number): number {
  if (e instanceof UsageError) {
    err(`${name}: error: ${e.message}\nRun '${name} --help' for usage.`);
    return EXIT_BAD_INPUT;
  }
  if (
    e instanceof RegressInputError ||
    e instanceof BaselineFormatError ||
    e instanceof ResultFormatError ||
    e instanceof PolicyLoadError ||
    e instanceof EnvListError ||
    e instanceof OptionError
  ) {
    err(`${name}: error: ${e.message}`);
    return EXIT_BAD_INPUT;
  }
  err(`${name}: error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  return unexpected;
}
