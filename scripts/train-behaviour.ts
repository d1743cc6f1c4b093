/**
 * `node dist/scripts/train-behaviour.js --env hopper --iterations 300 --seed 0 [options]`
 *
 * Trains a linear policy with ARS V2-t (src/behaviour/ars.ts; hyper-parameters per env from the
 * paper, ARS_V2T_PAPER) over a pool of worker threads, saving a checkpoint (JSON: M, mu, sigma,
 * iteration, evaluation return, and the observation statistics for --resume) every --eval-every
 * iterations into <run-dir>/<env>-s<seed>/. Then, unless --no-export, picks from those checkpoints
 * (re-evaluated with the project's evaluator, `evaluate()` + the linear-policy plug-in, on fresh
 * seeds):
 *   expert = the best checkpoint;
 *   medium = the checkpoint closest to 40% of the expert's return (aim: a third to a half);
 *   replay = the checkpoints saved up to the medium one (for medium-replay datasets);
 * and writes <out>/<env>-expert.json, <env>-medium.json, <env>-replay.json and updates
 * <out>/manifest.json (returns raw and normalised, wall times, settings). "random" is the
 * built-in uniform-random policy, evaluated the same way for the manifest.
 *
 * The run depends only on --seed (not on --workers); --time-limit stops early after a whole
 * iteration (a deterministic prefix of the same run); --resume continues from the latest checkpoint.
 *
 * Options: --workers 2, --eval-every 10, --eval-episodes 10, --run-dir data/behaviour-runs,
 * --out eval/behaviour, --time-limit <minutes>, --resume, --select-only, --no-export,
 * --final-episodes 20, --final-seed 1, --medium-fraction 0.4, --alpha/--nu/--directions/--top/--shift.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync, appendFileSync } from 'node:fs';
import os from 'node:os';
import { join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { evaluate } from '../eval/evaluate.js';
import { ARS_V2T_PAPER, ArsTrainer, type ArsFamily, type ArsHyperParams } from '../src/behaviour/ars.js';
import {
  LINEAR_POLICY_FORMAT,
  LINEAR_POLICY_FORMAT_VERSION,
  matrixRows,
  validateLinearPolicyFile,
  type LinearPolicyFile,
} from '../src/behaviour/linear.js';
import { BehaviourPool } from '../src/behaviour/pool.js';
import { linearPolicyModulePath } from '../src/collect/policy.js';
import { packageRoot } from '../src/mujoco/bridge.js';
import { getEnvEntry, normalizedScore, TASK_SPACES } from '../src/registry.js';
import { deriveSeed } from '../src/rng.js';
import { intFlag, scriptArgs, type UsageFail } from './script-args.js';

const USAGE =
  'usage: node dist/scripts/train-behaviour.js --env <hopper|halfcheetah|walker2d|ant> [--iterations 300] [--seed 0] [--workers 2]\n' +
    '  [--eval-every 10] [--eval-episodes 10] [--time-limit <min>] [--resume] [--select-only] [--no-export]\n' +
    '  [--run-dir data/behaviour-runs] [--out eval/behaviour] [--final-episodes 20] [--final-seed 1] [--medium-fraction 0.4]\n' +
    '  [--alpha a --nu n --directions N --top b --shift s]\n';
const parsed = scriptArgs(
  'train-behaviour',
  USAGE,
  {
    env: { type: 'string' },
    iterations: { type: 'string', default: '300' },
    seed: { type: 'string', default: '0' },
    workers: { type: 'string', default: '2' },
    'eval-every': { type: 'string', default: '10' },
    'eval-episodes': { type: 'string', default: '10' },
    'run-dir': { type: 'string', default: join(packageRoot, 'data', 'behaviour-runs') },
    out: { type: 'string', default: join(packageRoot, 'eval', 'behaviour') },
    'time-limit': { type: 'string' },
    resume: { type: 'boolean', default: false },
    'select-only': { type: 'boolean', default: false },
    'no-export': { type: 'boolean', default: false },
    'final-episodes': { type: 'string', default: '20' },
    'final-seed': { type: 'string', default: '1' },
    'medium-fraction': { type: 'string', default: '0.4' },
    'max-replay': { type: 'string', default: '20' },
    alpha: { type: 'string' },
    nu: { type: 'string' },
    directions: { type: 'string' },
    top: { type: 'string' },
    shift: { type: 'string' },
  },
);
const args = parsed.values;
const usage: UsageFail = parsed.fail;
const int = (name: keyof typeof args, min: number): number => intFlag(args[name] as string | undefined, name, 0, min, usage);
const num = (name: keyof typeof args): number | undefined => {
  if (args[name] === undefined) return undefined;
  const v = Number(args[name]);
  if (!Number.isFinite(v)) usage(`--${name} must be a number, got ${String(args[name])}`);
  return v;
};

if (!args.env) usage('give --env');
const family = (args.env.includes('-') ? getEnvEntry(args.env).family : args.env.toLowerCase()) as ArsFamily;
if (!(family in ARS_V2T_PAPER)) usage(`--env must be one of ${Object.keys(ARS_V2T_PAPER).join(', ')}, got ${args.env}`);
const envId = `${family}-medium-v2`;
const task = getEnvEntry(envId).task!;
const { observationSize: O, actionSize: A } = TASK_SPACES[task];
const seed = int('seed', 0);
const maxIterations = int('iterations', 0);
const workers = int('workers', 1);
const evalEvery = int('eval-every', 1);
const evalEpisodes = int('eval-episodes', 1);
const finalEpisodes = int('final-episodes', 2);
const finalSeed = int('final-seed', 0);
const mediumFraction = num('medium-fraction') ?? 0.4;
const maxReplay = int('max-replay', 2);
const timeLimitMs = args['time-limit'] === undefined ? Infinity : (num('time-limit') ?? 0) * 60_000;
const hp: ArsHyperParams = {
  ...ARS_V2T_PAPER[family],
  ...(num('alpha') !== undefined ? { alpha: num('alpha')! } : {}),
  ...(num('nu') !== undefined ? { nu: num('nu')! } : {}),
  ...(num('directions') !== undefined ? { directions: num('directions')! } : {}),
  ...(num('top') !== undefined ? { top: num('top')! } : {}),
  ...(num('shift') !== undefined ? { shift: num('shift')! } : {}),
};
const evalSeed = deriveSeed(seed, 0xe7a1);
const runDir = resolve(args['run-dir']!, `${family}-s${seed}`);
const outDir = resolve(args.out!);
mkdirSync(runDir, { recursive: true });

const log = (s: string): void => {
  process.stderr.write(`[train-behaviour ${family}] ${s}\n`);
};

function writeJsonAtomic(path: string, value: unknown): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(value, null, 1)}\n`);
  renameSync(tmp, path);
}

function ckptPath(iteration: number): string {
  return join(runDir, `iter-${String(iteration).padStart(6, '0')}.json`);
}

function listCheckpoints(): LinearPolicyFile[] {
  return readdirSync(runDir)
    .filter((f) => /^iter-\d+\.json$/.test(f))
    .sort()
    .map((f) => validateLinearPolicyFile(JSON.parse(readFileSync(join(runDir, f), 'utf8')), join(runDir, f)));
}

const training = {
  algorithm: 'ARS V2-t (Mania et al. 2018)',
  ...hp,
  seed,
  evalEvery,
  maxEpisodeSteps: 1000,
  hyperParameterSource: 'ARS_V2T_PAPER (paper appendix table; shift from the ARS reference code)',
};

async function train(): Promise<{ trainSeconds: number; iterations: number; envSteps: number }> {
  const existing = listCheckpoints();
  let resume: LinearPolicyFile | undefined;
  if (args.resume && existing.length > 0) resume = existing[existing.length - 1];
  else if (existing.length > 0 && !args.resume) {
    throw new Error(`${runDir} already holds checkpoints; use --resume to continue, --select-only to re-select, or another --run-dir`);
  }
  const pool = new BehaviourPool(workers);
  let prevSeconds = 0;
  try {
    const trainer = new ArsTrainer(
      { ...hp, seed, observationSize: O, actionSize: A },
      pool.arsExecutor(envId, 1000),
      resume
        ? {
            iteration: resume.iteration,
            envSteps: resume.envSteps ?? 0,
            M: resume.M.flat(),
            stats: resume.stats as { n: number; mean: number[]; m2: number[] },
          }
        : undefined,
    );
    prevSeconds = typeof resume?.trainSeconds === 'number' ? resume.trainSeconds : 0;
    if (resume) log(`resuming from iteration ${resume.iteration} (${relative(process.cwd(), ckptPath(resume.iteration))})`);
    const t0 = performance.now();
    const seconds = (): number => prevSeconds + (performance.now() - t0) / 1000;
    const saveCheckpoint = async (): Promise<number> => {
      const eps = await trainer.evaluate(evalEpisodes, evalSeed);
      const ret = eps.reduce((s, e) => s + e.return, 0) / eps.length;
      const p = trainer.params();
      const doc: LinearPolicyFile = {
        format: LINEAR_POLICY_FORMAT,
        formatVersion: LINEAR_POLICY_FORMAT_VERSION,
        env: family,
        envId,
        observationSize: O,
        actionSize: A,
        M: matrixRows(p.M, A, O),
        mu: Array.from(p.mu),
        sigma: Array.from(p.sigma),
        iteration: trainer.iteration,
        envSteps: trainer.envSteps,
        evalReturn: ret,
        evalNormalized: normalizedScore(envId, ret),
        evalEpisodes,
        evalSeed,
        evalLengthMean: eps.reduce((s, e) => s + e.steps, 0) / eps.length,
        trainSeconds: seconds(),
        training,
        stats: trainer.stats.toJSON(),
      };
      writeJsonAtomic(ckptPath(trainer.iteration), doc);
      return ret;
    };
    if (!resume) {
      const r = await saveCheckpoint();
      appendFileSync(join(runDir, 'log.jsonl'), `${JSON.stringify({ iteration: 0, envSteps: 0, evalReturn: r, wallSeconds: seconds() })}\n`);
      log(`iteration 0: eval return ${r.toFixed(1)}`);
    }
    while (trainer.iteration < maxIterations) {
      if (performance.now() - t0 > timeLimitMs) {
        log(`time limit reached after iteration ${trainer.iteration}`);
        break;
      }
      const rep = await trainer.iterate();
      const line: Record<string, unknown> = { ...rep, selected: undefined, totalEnvSteps: trainer.envSteps, wallSeconds: seconds() };
      if (trainer.iteration % evalEvery === 0 || trainer.iteration === maxIterations) {
        line.evalReturn = await saveCheckpoint();
        log(
          `iteration ${trainer.iteration}: eval return ${(line.evalReturn as number).toFixed(1)} ` +
            `(norm ${normalizedScore(envId, line.evalReturn as number).toFixed(1)}), rollouts mean ${rep.meanRolloutReturn.toFixed(1)} max ${rep.maxRolloutReturn.toFixed(1)}, ` +
            `${(trainer.envSteps / 1e6).toFixed(2)}M steps, ${seconds().toFixed(0)} s`,
        );
      }
      appendFileSync(join(runDir, 'log.jsonl'), `${JSON.stringify(line)}\n`);
    }
    if (trainer.iteration % evalEvery !== 0 && !existsSync(ckptPath(trainer.iteration))) await saveCheckpoint();
    return { trainSeconds: seconds(), iterations: trainer.iteration, envSteps: trainer.envSteps };
  } finally {
    await pool.destroy();
  }
}

interface FinalEval {
  episodes: number;
  seed: number;
  returnMean: number;
  returnStd: number;
  normalizedMean: number;
  normalizedStd: number;
  lengthMean: number;
  terminatedEpisodes: number;
  command: string;
}

async function finalEval(policy: 'random' | string, ckpt?: string): Promise<FinalEval> {
  const doc = await evaluate({
    env: envId,
    policy: policy === 'random' ? 'random' : linearPolicyModulePath(),
    ckpt,
    episodes: finalEpisodes,
    seed: finalSeed,
    workers,
  });
  const s = doc.results[0].summary!;
  const ckptArg = ckpt ? ` --ckpt ${relative(packageRoot, ckpt)}` : '';
  return {
    episodes: s.episodes,
    seed: finalSeed,
    returnMean: s.returnMean,
    returnStd: s.returnStd,
    normalizedMean: s.normalizedMean,
    normalizedStd: s.normalizedStd,
    lengthMean: s.lengthMean,
    terminatedEpisodes: s.terminatedEpisodes,
    command:
      `ofql-eval --env ${envId} --policy ${policy === 'random' ? 'random' : 'dist/src/behaviour/linear-policy.js'}${ckptArg}` +
      ` --episodes ${finalEpisodes} --seed ${finalSeed}`,
  };
}

function exported(doc: LinearPolicyFile, role: string, fe?: FinalEval): LinearPolicyFile {
  const { stats: _stats, ...rest } = doc;
  return { ...rest, role, ...(fe ? { finalEval: fe } : {}) };
}

async function select(trainInfo: { trainSeconds: number; iterations: number; envSteps: number } | null): Promise<void> {
  const t0 = performance.now();
  const ckpts = listCheckpoints();
  if (ckpts.length === 0) throw new Error(`no checkpoints in ${runDir}`);
  mkdirSync(outDir, { recursive: true });
  const pathOf = (c: LinearPolicyFile): string => ckptPath(c.iteration);
  const evaluated = new Map<number, FinalEval>();
  const fe = async (c: LinearPolicyFile): Promise<FinalEval> => {
    let r = evaluated.get(c.iteration);
    if (!r) {
      r = await finalEval('linear', pathOf(c));
      evaluated.set(c.iteration, r);
      log(`final eval of iteration ${c.iteration}: ${r.returnMean.toFixed(1)} +- ${r.returnStd.toFixed(1)} (norm ${r.normalizedMean.toFixed(1)})`);
    }
    return r;
  };
  const byEval = [...ckpts].sort((a, b) => (b.evalReturn ?? -Infinity) - (a.evalReturn ?? -Infinity));
  let expert = byEval[0];
  for (const c of byEval.slice(0, 2)) if ((await fe(c)).returnMean > (await fe(expert)).returnMean) expert = c;
  const expertFe = await fe(expert);
  const target = mediumFraction * expertFe.returnMean;
  const candidates = ckpts
    .filter((c) => c.iteration < expert.iteration && c.iteration > 0)
    .filter((c) => (c.evalReturn ?? -Infinity) >= 0.25 * expertFe.returnMean && (c.evalReturn ?? Infinity) <= 0.6 * expertFe.returnMean)
    .sort((a, b) => Math.abs(a.evalReturn! - target) - Math.abs(b.evalReturn! - target))
    .slice(0, 3);
  if (candidates.length === 0) {
    // Fall back on the checkpoints whose training-eval return is closest to the target.
    candidates.push(
      ...ckpts
        .filter((c) => c.iteration < expert.iteration)
        .sort((a, b) => Math.abs(a.evalReturn! - target) - Math.abs(b.evalReturn! - target))
        .slice(0, 2),
    );
  }
  // Prefer a final return within [1/3, 1/2] of the expert's, then the one closest to the target.
  const badness = (r: number): number => {
    const f = r / expertFe.returnMean;
    return Math.abs(r - target) + (f >= 1 / 3 && f <= 1 / 2 ? 0 : 1e9);
  };
  let medium = candidates[0];
  for (const c of candidates) if (badness((await fe(c)).returnMean) < badness((await fe(medium)).returnMean)) medium = c;
  const mediumFe = await fe(medium);
  const fraction = mediumFe.returnMean / expertFe.returnMean;
  const randomFe = await finalEval('random');
  log(`random: ${randomFe.returnMean.toFixed(1)} (norm ${randomFe.normalizedMean.toFixed(1)})`);

  const upTo = ckpts.filter((c) => c.iteration <= medium.iteration);
  let replay = upTo;
  if (upTo.length > maxReplay) {
    const idx = new Set<number>();
    for (let i = 0; i < maxReplay; i++) idx.add(Math.round((i * (upTo.length - 1)) / (maxReplay - 1)));
    replay = [...idx].sort((a, b) => a - b).map((i) => upTo[i]);
  }
  // The exported files hold the same parameters: name them in the reproduction commands.
  const renamed = (f: FinalEval, file: string): FinalEval => ({ ...f, command: f.command.replace(/--ckpt \S+/, `--ckpt ${relative(packageRoot, join(outDir, file))}`) });
  const expertOut = renamed(expertFe, `${family}-expert.json`);
  const mediumOut = renamed(mediumFe, `${family}-medium.json`);
  writeJsonAtomic(join(outDir, `${family}-expert.json`), exported(expert, 'expert', expertOut));
  writeJsonAtomic(join(outDir, `${family}-medium.json`), exported(medium, 'medium', mediumOut));
  writeJsonAtomic(join(outDir, `${family}-replay.json`), {
    format: 'ofql-eval/linear-policy-set',
    formatVersion: 1,
    env: family,
    envId,
    role: 'replay',
    note: 'The checkpoints saved during ARS training up to (and including) the medium one, thinned to at most --max-replay, in training order. scripts/make-datasets.ts rolls out equal shares of them for medium-replay.',
    checkpoints: replay.map((c) => exported(c, 'checkpoint')),
  });
  const manifestPath = join(outDir, 'manifest.json');
  const manifest = existsSync(manifestPath) ? (JSON.parse(readFileSync(manifestPath, 'utf8')) as Record<string, unknown>) : {};
  const prev = (manifest[family] ?? {}) as Record<string, unknown>;
  const cpu = os.cpus()[0]?.model ?? 'unknown';
  manifest[family] = {
    envId,
    // --select-only keeps the record of the training run it selects from.
    training:
      trainInfo === null && prev.training !== undefined
        ? prev.training
        : {
            ...training,
            iterations: trainInfo?.iterations ?? ckpts[ckpts.length - 1].iteration,
            envSteps: trainInfo?.envSteps ?? ckpts[ckpts.length - 1].envSteps,
            wallSeconds: trainInfo?.trainSeconds ?? ckpts[ckpts.length - 1].trainSeconds,
            workers,
            machine: `${os.availableParallelism()} cores (${cpu}), Node ${process.version}`,
            evalSeed,
            evalEpisodes,
            command:
              `node dist/scripts/train-behaviour.js --env ${family} --iterations ${maxIterations} --seed ${seed} --workers ${workers}` +
              ` --eval-every ${evalEvery} --eval-episodes ${evalEpisodes}${args['time-limit'] ? ` --time-limit ${args['time-limit']}` : ''}`,
          },
    finalEvaluation: { episodes: finalEpisodes, seed: finalSeed },
    random: randomFe,
    medium: { file: `${family}-medium.json`, iteration: medium.iteration, trainingEvalReturn: medium.evalReturn, fractionOfExpert: fraction, ...mediumOut },
    expert: { file: `${family}-expert.json`, iteration: expert.iteration, trainingEvalReturn: expert.evalReturn, ...expertOut },
    replay: { file: `${family}-replay.json`, iterations: replay.map((c) => c.iteration) },
    selectionWallSeconds: (performance.now() - t0) / 1000,
  };
  writeJsonAtomic(manifestPath, manifest);
  log(
    `expert: iteration ${expert.iteration}, ${expertFe.returnMean.toFixed(1)} (norm ${expertFe.normalizedMean.toFixed(1)}); ` +
      `medium: iteration ${medium.iteration}, ${mediumFe.returnMean.toFixed(1)} (norm ${mediumFe.normalizedMean.toFixed(1)}, ${(100 * fraction).toFixed(0)}% of expert)` +
      `${fraction < 1 / 3 || fraction > 1 / 2 ? ' -- OUTSIDE a third to a half' : ''}; replay: ${replay.length} checkpoints; wrote ${relative(process.cwd(), outDir)}`,
  );
}

try {
  const info = args['select-only'] ? null : await train();
  if (info) log(`trained ${info.iterations} iterations, ${(info.envSteps / 1e6).toFixed(2)}M env steps, ${info.trainSeconds.toFixed(0)} s`);
  if (!args['no-export']) await select(info);
} catch (err) {
  process.stderr.write(`train-behaviour: error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
}
