/**
 * `node dist/scripts/train-sac.js --env walker2d --steps 1000000 --seed 0 --out data/sac-runs/walker2d-s0 [options]`
 *
 * Online SAC (src/sac/train.ts) on one of the project's envs: policy snapshots every
 * --snapshot-every steps (step-N/, the actor alone, format ofql-eval/sac), evaluation of the
 * deterministic policy every --eval-every steps, metrics.jsonl, the whole replay history as
 * replay.hdf5 (D4RL layout), final/ (every network) and summary.json (times, evaluations).
 * SIGINT / SIGTERM stop after the current step and still write final/, replay.hdf5 and the summary.
 * Settings (defaults in src/sac/config.ts, sources in docs/sac.md) are flags; --help lists them.
 */
import { parseFlags, exitOnHelp, intFlag, usageFail, type FlagValues } from './script-args.js';
import { SAC_DEFAULTS, SAC_PARAMS, type SacConfig } from '../src/sac/config.js';
import { trainSac } from '../src/sac/train.js';
import { SacResumeError } from '../src/sac/resume.js';

const RUN_FLAGS = {
  env: 'Environment: hopper, halfcheetah, walker2d or ant',
  steps: 'Environment steps (default 1000000)',
  seed: 'Run seed (default 0)',
  out: 'Output directory (must be new or empty)',
  'eval-every': 'Steps between evaluations of the deterministic policy (default 10000)',
  'eval-episodes': 'Episodes per evaluation (default 10)',
  'snapshot-every': 'Steps between policy snapshots (default 10000)',
  'log-every': 'Steps between metrics lines (default 1000)',
  'resume-every': 'Steps between resume checkpoints (resume/; default 50000, 0 = none)',
  resume: 'Continue the run in --out from its resume/ checkpoint up to --steps (settings come from it)',
  threads: 'onnxruntime threads for the updates (default 1)',
} as const;

const usage =
  'usage: node dist/scripts/train-sac.js --env <family> --out <dir> [options]\n\nrun:\n' +
  Object.entries(RUN_FLAGS).map(([f, d]) => `  --${f.padEnd(18)} ${d}\n`).join('') +
  '\nSAC settings:\n' +
  SAC_PARAMS.map((p) => `  --${p.flag.padEnd(18)} ${p.describe} (default ${String(SAC_DEFAULTS[p.field] ?? 'none')})\n`).join('');
const fail = usageFail('train-sac', usage);

const options = {
  help: { type: 'boolean' as const },
  ...Object.fromEntries(Object.keys(RUN_FLAGS).map((f) => [f, { type: f === 'resume' ? ('boolean' as const) : ('string' as const) }])),
  ...Object.fromEntries(SAC_PARAMS.map((p) => [p.flag, { type: 'string' as const }])),
};
const values = parseFlags(process.argv.slice(2), options, fail);
exitOnHelp(values, usage);

/** The SAC settings given as flags, checked as numbers (ranges are checked by makeSacConfig). */
function sacOverrides(v: FlagValues): Partial<SacConfig> {
  const out: Record<string, number> = {};
  for (const p of SAC_PARAMS) {
    const raw = v[p.flag];
    if (raw === undefined) continue;
    if ('integer' in p && p.integer) {
      out[p.field] = intFlag(raw, p.flag, 0, 0, fail);
      continue;
    }
    const n = Number(raw);
    if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(n)) fail(`--${p.flag} must be a number, got '${String(raw)}'`);
    out[p.field] = n;
  }
  return out as Partial<SacConfig>;
}

const FAMILIES = ['hopper', 'halfcheetah', 'walker2d', 'ant'];
const family = String(values.env ?? '');
if (!FAMILIES.includes(family)) fail(`--env must be one of ${FAMILIES.join(', ')}, got '${family}'`);
const envId = `${family}-medium-v2`;
if (!values.out) fail('give --out <new directory>');
const overrides = sacOverrides(values);
if (values.resume && Object.keys(overrides).length > 0) {
  fail(`--resume continues with the run's own settings; drop --${SAC_PARAMS.find((p) => p.field in overrides)!.flag}`);
}
let stop = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (stop) process.exit(130);
    stop = true;
    process.stderr.write(`train-sac: ${sig}: stopping after this step (again to quit at once)\n`);
  });
}
try {
  const summary = await trainSac({
    envId,
    seed: intFlag(values.seed, 'seed', 0, 0, fail),
    steps: intFlag(values.steps, 'steps', 1_000_000, 1, fail),
    outDir: String(values.out),
    config: overrides,
    resume: values.resume === true,
    resumeEvery: intFlag(values['resume-every'], 'resume-every', 50_000, 0, fail),
    evalEvery: intFlag(values['eval-every'], 'eval-every', 10_000, 1, fail),
    evalEpisodes: intFlag(values['eval-episodes'], 'eval-episodes', 10, 1, fail),
    snapshotEvery: intFlag(values['snapshot-every'], 'snapshot-every', 10_000, 1, fail),
    logEvery: intFlag(values['log-every'], 'log-every', 1000, 1, fail),
    threads: intFlag(values.threads, 'threads', 1, 1, fail),
    onLog: (line) => process.stdout.write(`[train-sac] ${line}\n`),
    shouldStop: () => stop,
  });
  const last = summary.evaluations.at(-1);
  process.stdout.write(
    `train-sac: ${summary.stopped ? 'stopped' : 'finished'} at step ${summary.stepsDone}/${summary.stepsAsked} (${summary.episodes} episodes, ` +
      `${summary.seconds.total.toFixed(0)} s: updates ${summary.seconds.updates.toFixed(0)} s, rollout ${summary.seconds.rollout.toFixed(0)} s, ` +
      `evaluation ${summary.seconds.evaluation.toFixed(0)} s); last evaluation ${last?.meanReturn.toFixed(1)} (${last?.normalizedScore.toFixed(1)} normalised)\n`,
  );
} catch (err) {
  if (err instanceof RangeError || err instanceof SacResumeError || (err instanceof Error && /is not empty/.test(err.message))) fail((err as Error).message);
  throw err;
}
