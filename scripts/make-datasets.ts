/**
 * `node dist/scripts/make-datasets.js [--envs hopper,halfcheetah,walker2d] [--datasets medium,medium-replay,medium-expert]
 *   [--steps 1000000] [--action-noise 0.1] [--seed 0] [--out data] [--workers 2] [--force]`
 *
 * D4RL-like datasets made in this project from the ARS behaviour policies in eval/behaviour
 * (scripts/train-behaviour.ts), deterministically (same flags -> same data, whatever --workers),
 * written as D4RL-layout HDF5 files by the collect machinery (src/collect/):
 *
 * | dataset | what | rows (default) | D4RL's |
 * |---|---|---|---|
 * | random | built-in uniform random actions | --steps (1M) | same |
 * | medium | the medium linear policy + N(0, 0.1^2) action noise | --steps (1M) | 1M steps of a SAC policy stopped at ~1/3 of expert |
 * | expert | the expert linear policy + noise | --steps (1M) | 1M steps of the final SAC policy |
 * | medium-replay | equal shares of rollouts of every checkpoint saved during ARS training up to the medium one (eval/behaviour/<env>-replay.json), + noise | D4RL's size x steps/1M (hopper 402,000; halfcheetah 202,000; walker2d 302,000 at 1M) | SAC's replay buffer until it reached medium |
 * | medium-expert | medium rows then expert rows (the two files above, concatenated) | 2 x --steps | same |
 *
 * ARS keeps no replay buffer (it learns from whole-episode returns), so medium-replay here is not
 * D4RL's: it is the data the training checkpoints produce, from poor to medium, in equal shares.
 * Action noise stands in for the stochasticity of SAC's policy (D4RL sampled its actions).
 *
 * With `--source sac` the same five datasets come from an online SAC run of this project
 * (scripts/train-sac.ts, run directory <sac-runs>/<env>-s<sac-seed>), the way D4RL made its own:
 *
 * | dataset | what (SAC source) |
 * |---|---|
 * | medium | --steps of the snapshot before the expert whose evaluation is closest to --medium-fraction (1/3) of the expert's, actions sampled from the policy (its policy.onnx; no added noise) |
 * | expert | --steps of the snapshot with the best recorded evaluation (--sac-expert best, the default; final/ on a tie) or of final/ (--sac-expert final), actions sampled |
 * | medium-replay | the run's replay history (replay.hdf5) up to the medium snapshot's step, as D4RL kept SAC's replay buffer |
 * | random | --steps of the untrained policy (the run's step-00000000/), sampled; uniform random actions for a run without that snapshot |
 * | medium-expert | as above |
 *
 * "Evaluation" is the run's own (10 episodes of the deterministic policy, recorded in each
 * snapshot's config.json), or, with --sac-select-episodes N, every snapshot's deterministic policy
 * (policy-mean.onnx) re-evaluated here over N episodes (run seed --seed): ten episodes misjudge a
 * policy whose returns are bimodal (docs/sac.md, halfcheetah at 50k steps).
 *
 * Files are then <out>/<env>-<dataset>-sac.hdf5, manifest keys <env>-<dataset>-sac.
 *
 * Seeds: dataset kind j (random 0, medium 1, expert 2, medium-replay share k: 100 + k) collects
 * with seed deriveSeed(--seed, j), so the datasets do not share start states.
 * Files: <out>/<env>-<dataset>-ars.hdf5 (out defaults to data/, which is gitignored; they are
 * large: ~120 MB per 1M hopper rows) and <out>/datasets-manifest.json. Existing files are kept
 * unless --force.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { readLinearPolicyFile, type LinearPolicyFile } from '../src/behaviour/linear.js';
import { BehaviourPool } from '../src/behaviour/pool.js';
import { collect, episodeRows } from '../src/collect/collect.js';
import { collectRows } from '../src/collect/collect-rows.js';
import type { CollectResult } from '../src/collect/options.js';
import { D4rlWriter, leadingRows } from '../src/data/d4rl-writer.js';
import { packageVersion } from '../src/package-version.js';
import { readD4rlFile, type MetadataValue } from '../src/data/d4rl-hdf5.js';
import { completeEpisodeReturns } from '../src/data/episode-returns.js';
import { packageRoot } from '../src/mujoco/bridge.js';
import { normalizedScore } from '../src/registry.js';
import { deriveSeed } from '../src/rng.js';
import { SAC_POLICY_FILES, SAC_RUN_FILES } from '../src/sac/train.js';
import { evaluate } from '../eval/evaluate.js';
import { preparePolicy } from '../src/policy/kinds.js';
import { intFlag, scriptArgs, type UsageFail } from './script-args.js';

const ENVS = ['hopper', 'halfcheetah', 'walker2d', 'ant'] as const;
const SOURCES = ['ars', 'sac'] as const;
type Source = (typeof SOURCES)[number];
const DATASETS = ['random', 'medium', 'expert', 'medium-replay', 'medium-expert'] as const;
type Dataset = (typeof DATASETS)[number];
/** Rows of D4RL's *-medium-replay-v2 files. */
const D4RL_REPLAY_ROWS: Record<string, number> = { hopper: 402_000, halfcheetah: 202_000, walker2d: 302_000 };

const USAGE =
  `usage: node dist/scripts/make-datasets.js [--envs ${ENVS.join(',')}] [--datasets ${DATASETS.join(',')}]\n` +
    '  [--steps 1000000] [--replay-steps <n>] [--action-noise 0.1] [--seed 0] [--out data] [--behaviour-dir eval/behaviour] [--workers 2] [--force]\n' +
    `  [--source ${SOURCES.join('|')}] [--sac-runs data/sac-runs] [--sac-seed 0] [--sac-expert best|final] [--medium-fraction 0.333] [--sac-select-episodes 0]\n`;
const parsed = scriptArgs(
  'make-datasets',
  USAGE,
  {
    envs: { type: 'string', default: 'hopper,halfcheetah,walker2d' },
    source: { type: 'string', default: 'ars' },
    'sac-runs': { type: 'string', default: join(packageRoot, 'data', 'sac-runs') },
    'sac-seed': { type: 'string', default: '0' },
    'medium-fraction': { type: 'string', default: String(1 / 3) },
    'sac-expert': { type: 'string', default: 'best' },
    'sac-select-episodes': { type: 'string' },
    datasets: { type: 'string', default: 'medium,medium-replay,medium-expert' },
    steps: { type: 'string', default: '1000000' },
    'replay-steps': { type: 'string' },
    'action-noise': { type: 'string', default: '0.1' },
    seed: { type: 'string', default: '0' },
    out: { type: 'string', default: join(packageRoot, 'data') },
    'behaviour-dir': { type: 'string', default: join(packageRoot, 'eval', 'behaviour') },
    workers: { type: 'string', default: '2' },
    force: { type: 'boolean', default: false },
  },
);
const args = parsed.values;
const usage: UsageFail = parsed.fail;
const int = (v: string | undefined, name: string, min: number): number => intFlag(v, name, 0, min, usage);
const envs = args.envs!.split(',').map((s) => s.trim()).filter(Boolean);
for (const e of envs) if (!(ENVS as readonly string[]).includes(e)) usage(`unknown env ${e}; choose from ${ENVS.join(', ')}`);
const datasets = args.datasets!.split(',').map((s) => s.trim()).filter(Boolean) as Dataset[];
for (const d of datasets) if (!(DATASETS as readonly string[]).includes(d)) usage(`unknown dataset ${d}; choose from ${DATASETS.join(', ')}`);
const steps = int(args.steps, 'steps', 1);
const seed = int(args.seed, 'seed', 0);
const workers = int(args.workers, 'workers', 1);
const actionNoise = Number(args['action-noise']);
if (!(actionNoise >= 0)) usage('--action-noise must be a number >= 0');
const source = args.source as Source;
if (!(SOURCES as readonly string[]).includes(source)) usage(`unknown --source ${String(source)}; choose from ${SOURCES.join(', ')}`);
if (source === 'ars' && envs.includes('ant')) usage('ant has no ARS behaviour policies; use --source sac');
const mediumFraction = Number(args['medium-fraction']);
if (!(mediumFraction > 0 && mediumFraction < 1)) usage(`--medium-fraction must be a number in (0, 1), got ${String(args['medium-fraction'])}`);
const sacSeed = int(args['sac-seed'], 'sac-seed', 0);
const SAC_EXPERT_RULES = ['best', 'final'] as const;
const sacExpertRule = args['sac-expert'] as (typeof SAC_EXPERT_RULES)[number];
if (!(SAC_EXPERT_RULES as readonly string[]).includes(sacExpertRule)) usage(`--sac-expert must be one of ${SAC_EXPERT_RULES.join(', ')}, got ${String(sacExpertRule)}`);
const sacSelectEpisodes = int(args['sac-select-episodes'] ?? '0', 'sac-select-episodes', 0);
if (sacSelectEpisodes > 0 && source !== 'sac') usage('--sac-select-episodes applies to --source sac only');
const outDir = resolve(args.out!);
const behaviourDir = resolve(args['behaviour-dir']!);
mkdirSync(outDir, { recursive: true });

const SEED_INDEX: Record<Exclude<Dataset, 'medium-expert' | 'medium-replay'>, number> = { random: 0, medium: 1, expert: 2 };
const fileOf = (env: string, d: Dataset): string => join(outDir, `${env}-${d}-${source}.hdf5`);
/** Manifest key (ARS keys predate the SAC source and keep their form). */
const keyOf = (env: string, d: Dataset): string => (source === 'ars' ? `${env}-${d}` : `${env}-${d}-${source}`);
const log = (s: string): void => {
  process.stderr.write(`[make-datasets] ${s}\n`);
};

interface Made {
  file: string;
  rows: number;
  episodes: number;
  meanReturn: number | null;
  normalized: number | null;
  wallSeconds: number;
  skipped?: boolean;
}

function summary(env: string, file: string, r: Pick<CollectResult, 'rows' | 'episodes' | 'meanReturn' | 'wallSeconds'>): Made {
  const ok = Number.isFinite(r.meanReturn);
  return {
    file: file.slice(outDir.length + 1),
    rows: r.rows,
    episodes: r.episodes,
    meanReturn: ok ? r.meanReturn : null,
    normalized: ok ? normalizedScore(`${env}-medium-v2`, r.meanReturn) : null,
    wallSeconds: r.wallSeconds,
  };
}

const progress = (label: string) => {
  let last = Date.now();
  return (p: { rows: number; steps: number; elapsedSeconds: number }): void => {
    if (Date.now() - last < 10_000) return;
    last = Date.now();
    log(`${label}: ${p.rows.toLocaleString('en-US')}/${p.steps.toLocaleString('en-US')} steps, ${Math.round(p.rows / Math.max(p.elapsedSeconds, 1e-9)).toLocaleString('en-US')} steps/s`);
  };
};

/** Inside the package: relative to its root (metadata stays machine-independent); else absolute. */
function shortPath(p: string): string {
  const r = relative(packageRoot, p);
  return r.startsWith('..') ? p : r;
}

function policyPath(env: string, role: 'medium' | 'expert'): string {
  const p = join(behaviourDir, `${env}-${role}.json`);
  if (!existsSync(p)) throw new Error(`${p} is missing: run 'node dist/scripts/train-behaviour.js --env ${env}' first`);
  return p;
}

/** What collect() rolls out for a dataset kind, and the metadata line saying so. */
function behaviourOf(env: string, d: 'random' | 'medium' | 'expert'): { policy?: string; ckpt?: string; actionNoise: number; behaviour: string } {
  if (d === 'random' && source === 'sac' && sacSnapshots(env).untrained) {
    const dir = sacSnapshots(env).untrained!;
    return { policy: join(dir, SAC_POLICY_FILES.sampled), actionNoise: 0, behaviour: `the untrained SAC policy ${shortPath(dir)}, actions sampled from it` };
  }
  if (d === 'random') return { policy: 'random', actionNoise: 0, behaviour: 'uniform random' };
  if (source === 'sac') {
    const snap = sacSnapshots(env)[d];
    return {
      policy: join(snap.dir, SAC_POLICY_FILES.sampled),
      actionNoise: 0,
      behaviour: `SAC policy ${shortPath(snap.dir)} (step ${snap.step}, evaluation return ${snap.evalReturn.toFixed(1)}: ${selectionNote()}), actions sampled from it`,
    };
  }
  return { ckpt: shortPath(policyPath(env, d)), actionNoise, behaviour: `ARS linear policy (${env}-${d}.json)` };
}

interface SacSnapshot {
  dir: string;
  step: number;
  /** Mean return of its deterministic policy: the run's evaluation, or --sac-select-episodes episodes here. */
  evalReturn: number;
}

interface SacChoice {
  medium: SacSnapshot;
  expert: SacSnapshot;
  /** step-00000000/ (the initial policy), when the run wrote one. */
  untrained?: string;
}

const sacChoices = new Map<string, SacChoice>();

/** What the snapshots' `evalReturn` is, for the log and the files' metadata. */
const selectionNote = (): string =>
  sacSelectEpisodes > 0 ? `deterministic policy over ${sacSelectEpisodes} episodes, run seed ${seed}` : "the run's evaluation";

/**
 * The SAC run's expert and medium policy (chosen once per env by chooseSacSnapshots). Expert:
 * with --sac-expert best, the snapshot (final/ included) with the highest evaluation, final/ on a
 * tie (a run short of D4RL's 1M steps still swings from one evaluation to the next,
 * docs/sac.md); with final, final/. Medium: the snapshot before the expert whose evaluation is
 * closest to --medium-fraction of the expert's, the earliest on a tie.
 */
function sacSnapshots(env: string): SacChoice {
  const hit = sacChoices.get(env);
  if (!hit) throw new Error(`internal: the SAC snapshots of ${env} were not chosen before use`);
  return hit;
}

/** Every snapshot's deterministic policy over --sac-select-episodes episodes: its mean return. */
async function reevaluate(env: string, snaps: SacSnapshot[]): Promise<SacSnapshot[]> {
  const envId = `${env}-medium-v2`;
  const out: SacSnapshot[] = [];
  for (const s of snaps) {
    const prepared = await preparePolicy({ policy: join(s.dir, SAC_POLICY_FILES.mean), env: [envId], flags: {} }, packageRoot);
    const doc = await evaluate({ env: envId, policy: prepared.ref, episodes: sacSelectEpisodes, seed, workers });
    const r = doc.results[0]!;
    if (!r.complete || r.summary === null) throw new Error(`${s.dir}: the re-evaluation did not complete`);
    log(`${env}: ${shortPath(s.dir)} run's evaluation ${s.evalReturn.toFixed(1)}, over ${sacSelectEpisodes} episodes ${r.summary.returnMean.toFixed(1)}`);
    out.push({ ...s, evalReturn: r.summary.returnMean });
  }
  return out;
}

/** Choose (and cache) the SAC run's expert and medium snapshots of `env`; see sacSnapshots. */
async function chooseSacSnapshots(env: string): Promise<SacChoice> {
  const runDir = join(resolve(args['sac-runs']!), `${env}-s${sacSeed}`);
  if (!existsSync(join(runDir, 'final', 'config.json'))) {
    throw new Error(`${runDir}/final is missing: run 'node dist/scripts/train-sac.js --env ${env} --seed ${sacSeed} --out ${runDir}' first (or give --sac-runs)`);
  }
  const read = (dir: string): SacSnapshot => {
    const c = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { step?: unknown; evalReturn?: unknown };
    if (typeof c.step !== 'number' || typeof c.evalReturn !== 'number') throw new Error(`${dir}/config.json: expected numbers 'step' and 'evalReturn'`);
    return { dir, step: c.step, evalReturn: c.evalReturn };
  };
  const steps = readdirSync(runDir)
    .filter((n) => /^step-\d+$/.test(n))
    .sort();
  let all = [...steps.filter((n) => Number(n.slice(5)) > 0).map((n) => read(join(runDir, n))), read(join(runDir, 'final'))];
  if (sacSelectEpisodes > 0) all = await reevaluate(env, all);
  const final = all.at(-1)!;
  const snapshots = all.slice(0, -1);
  const expert = sacExpertRule === 'final' ? final : snapshots.reduce((best, s) => (s.evalReturn > best.evalReturn ? s : best), final);
  const earlier = snapshots.filter((s) => s.step < expert.step);
  if (earlier.length === 0) throw new Error(`${runDir}: no step-N/ snapshots before the expert (step ${expert.step})`);
  const goal = mediumFraction * expert.evalReturn;
  const medium = earlier.reduce((best, s) => (Math.abs(s.evalReturn - goal) < Math.abs(best.evalReturn - goal) ? s : best));
  log(`${env}: SAC expert ${shortPath(expert.dir)} (${expert.evalReturn.toFixed(1)}), medium ${shortPath(medium.dir)} (${medium.evalReturn.toFixed(1)}; goal ${goal.toFixed(1)}); ${selectionNote()}`);
  const choice: SacChoice = { medium, expert, ...(steps.some((n) => Number(n.slice(5)) === 0) ? { untrained: join(runDir, steps[0]!) } : {}) };
  sacChoices.set(env, choice);
  return choice;
}

async function single(pool: BehaviourPool, env: string, d: 'random' | 'medium' | 'expert'): Promise<Made> {
  const out = fileOf(env, d);
  const envId = `${env}-${d}-v2`;
  const t0 = performance.now();
  const { behaviour, ...who } = behaviourOf(env, d);
  const res = await collect({
    env: envId,
    ...who,
    cwd: packageRoot,
    steps,
    seed: deriveSeed(seed, SEED_INDEX[d]),
    out,
    pool,
    onProgress: progress(`${env}-${d}`),
    progressIntervalMs: 1000,
    metadata: { dataset: `${env}-${d}`, d4rl_analogue: envId, make_datasets_seed: seed, behaviour },
  });
  return { ...summary(env, out, res), wallSeconds: (performance.now() - t0) / 1000 };
}

/**
 * medium-replay from a SAC run: its replay history (every transition it took, in order) up to the
 * medium snapshot's step, the last row marked as a time-out when it is not a termination.
 */
async function sacMediumReplay(env: string): Promise<Made> {
  const out = fileOf(env, 'medium-replay');
  const t0 = performance.now();
  const { medium } = sacSnapshots(env);
  const history = await readD4rlFile(join(dirname(medium.dir), SAC_RUN_FILES.experience));
  const N = Math.min(medium.step, history.N);
  const rows = leadingRows(history, N);
  // The cut episode ends in a time-out, so episodes do not run past the file's end.
  const timeouts = rows.timeouts.slice();
  if (N > 0 && rows.terminals[N - 1] === 0) timeouts[N - 1] = 1;
  const { infos } = history;
  const w = await D4rlWriter.create(out, {
    observationSize: history.observationSize,
    actionSize: history.actionSize,
    nextObservations: true,
    qposSize: infos.qposSize,
    qvelSize: infos.qvelSize,
    infosDtype: 'float32',
    expectedRows: N,
  });
  try {
    w.append({ ...rows, timeouts });
    const returns = completeEpisodeReturns({ ...rows, timeouts });
    const meanReturn = returns.length > 0 ? returns.reduce((a, b) => a + b, 0) / returns.length : NaN;
    const meta: Record<string, MetadataValue> = {
      algorithm: 'ofql-eval make-datasets (medium-replay, SAC)',
      dataset: `${env}-medium-replay`,
      d4rl_analogue: `${env}-medium-replay-v2`,
      env_id: `${env}-medium-replay-v2`,
      behaviour: `the replay history of SAC run ${shortPath(dirname(medium.dir))} up to step ${N} (its medium snapshot)`,
      steps: N,
      episodes: returns.length,
      complete_episodes: returns.length,
      ...(Number.isFinite(meanReturn) ? { mean_return: meanReturn } : {}),
    };
    for (const [k, v] of Object.entries(meta)) w.setMetadata(k, v);
    await w.close();
    return { ...summary(env, out, { rows: N, episodes: returns.length, meanReturn, wallSeconds: 0 }), wallSeconds: (performance.now() - t0) / 1000 };
  } catch (err) {
    w.abort();
    throw err;
  }
}

async function mediumReplay(pool: BehaviourPool, env: string): Promise<Made> {
  const out = fileOf(env, 'medium-replay');
  const envId = `${env}-medium-replay-v2`;
  const set = JSON.parse(readFileSync(join(behaviourDir, `${env}-replay.json`), 'utf8')) as { checkpoints: LinearPolicyFile[] };
  const ckpts = set.checkpoints;
  const total = args['replay-steps'] !== undefined ? int(args['replay-steps'], 'replay-steps', ckpts.length) : Math.max(ckpts.length, Math.round((D4RL_REPLAY_ROWS[env] * steps) / 1_000_000));
  const tmp = mkdtempSync(join(outDir, '.replay-'));
  const t0 = performance.now();
  const writer = await openReplayWriter(env);
  let rows = 0;
  let episodes = 0;
  let complete = 0;
  let retSum = 0;
  const shares: Record<string, MetadataValue> = {};
  try {
    for (let k = 0; k < ckpts.length; k++) {
      const n = Math.floor(total / ckpts.length) + (k < total % ckpts.length ? 1 : 0);
      const file = join(tmp, `ckpt-${k}.json`);
      writeFileSync(file, JSON.stringify(ckpts[k]));
      readLinearPolicyFile(file);
      const stats = await collectRows(
        { env: envId, ckpt: file, steps: n, actionNoise, seed: deriveSeed(seed, 100 + k), pool, onProgress: progress(`${env}-medium-replay share ${k + 1}`), progressIntervalMs: 1000 },
        (ep, m) => writer.append(episodeRows(ep, m)),
      );
      rows += stats.rows;
      episodes += stats.episodes;
      complete += stats.completeEpisodes;
      if (Number.isFinite(stats.meanReturn)) retSum += stats.meanReturn * stats.completeEpisodes;
      shares[`share/${k}/iteration`] = ckpts[k].iteration;
      shares[`share/${k}/rows`] = stats.rows;
      shares[`share/${k}/mean_return`] = Number.isFinite(stats.meanReturn) ? stats.meanReturn : -1;
      log(`${env}-medium-replay: share ${k + 1}/${ckpts.length} (iteration ${ckpts[k].iteration}): ${stats.rows} rows, mean return ${stats.meanReturn.toFixed(1)}`);
    }
    const meanReturn = complete > 0 ? retSum / complete : NaN;
    for (const [key, v] of Object.entries({
      algorithm: 'ofql-eval make-datasets (medium-replay)',
      dataset: `${env}-medium-replay`,
      d4rl_analogue: envId,
      env_id: envId,
      behaviour: `equal shares of the ARS checkpoints up to the medium one (${env}-replay.json)`,
      action_noise: actionNoise,
      seed,
      share_seeds: 'share k collects with seed deriveSeed(seed, 100 + k)',
      steps: rows,
      episodes,
      complete_episodes: complete,
      ...(Number.isFinite(meanReturn) ? { mean_return: meanReturn } : {}),
      ...shares,
    })) writer.setMetadata(key, v);
    await writer.close();
    return { ...summary(env, out, { rows, episodes, meanReturn, wallSeconds: 0 }), wallSeconds: (performance.now() - t0) / 1000 };
  } catch (err) {
    writer.abort();
    throw err;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

async function openReplayWriter(env: string): Promise<D4rlWriter> {
  const { makeEnv } = await import('../src/make-env.js');
  const e = await makeEnv(`${env}-medium-v2`);
  const w = await D4rlWriter.create(fileOf(env, 'medium-replay'), {
    observationSize: e.observationSize,
    actionSize: e.actionSize,
    nextObservations: true,
    qposSize: e.nq,
    qvelSize: e.nv,
    infosDtype: 'float32',
    metadata: { ofql_eval_version: packageVersion() },
  });
  e.close();
  return w;
}

async function mediumExpert(env: string): Promise<Made> {
  const out = fileOf(env, 'medium-expert');
  const t0 = performance.now();
  const parts = [await readD4rlFile(fileOf(env, 'medium')), await readD4rlFile(fileOf(env, 'expert'))];
  const [m, e] = parts;
  const w = await D4rlWriter.create(out, {
    observationSize: m.observationSize,
    actionSize: m.actionSize,
    nextObservations: true,
    qposSize: m.infos.qposSize,
    qvelSize: m.infos.qvelSize,
    infosDtype: 'float32',
    expectedRows: m.N + e.N,
  });
  try {
    for (const p of parts) {
      w.append({
        observations: p.observations,
        actions: p.actions,
        rewards: p.rewards,
        terminals: p.terminals,
        timeouts: p.timeouts,
        nextObservations: p.nextObservations,
        qpos: p.infos.qpos,
        qvel: p.infos.qvel,
      });
    }
    const episodes = Number(m.metadata.episodes) + Number(e.metadata.episodes);
    const complete = Number(m.metadata.complete_episodes) + Number(e.metadata.complete_episodes);
    const meanReturn = (Number(m.metadata.mean_return) * Number(m.metadata.complete_episodes) + Number(e.metadata.mean_return) * Number(e.metadata.complete_episodes)) / complete;
    const meta: Record<string, MetadataValue> = {
      algorithm: 'ofql-eval make-datasets (medium-expert)',
      dataset: `${env}-medium-expert`,
      d4rl_analogue: `${env}-medium-expert-v2`,
      env_id: `${env}-medium-expert-v2`,
      behaviour: `rows 0..${m.N - 1}: ${basename(fileOf(env, 'medium'))}; rows ${m.N}..${m.N + e.N - 1}: ${basename(fileOf(env, 'expert'))} (as D4RL's medium-expert = medium + expert)`,
      steps: m.N + e.N,
      episodes,
      complete_episodes: complete,
      mean_return: meanReturn,
      'medium/mean_return': Number(m.metadata.mean_return),
      'expert/mean_return': Number(e.metadata.mean_return),
      action_noise: Number(m.metadata.action_noise),
      seed,
    };
    for (const [k, v] of Object.entries(meta)) w.setMetadata(k, v);
    await w.close();
    return { ...summary(env, out, { rows: m.N + e.N, episodes, meanReturn, wallSeconds: 0 }), wallSeconds: (performance.now() - t0) / 1000 };
  } catch (err) {
    w.abort();
    throw err;
  }
}

const manifestPath = join(outDir, 'datasets-manifest.json');

/** The Gaussian action noise a dataset's actions carry: SAC data and random data add none. */
const noiseOf = (d: Dataset): number => (source === 'sac' || d === 'random' ? 0 : actionNoise);

/** Record one dataset in <out>/datasets-manifest.json (after each file, so a crash loses nothing). */
function record(key: string, d: Dataset, v: Made): void {
  const manifest = existsSync(manifestPath) ? (JSON.parse(readFileSync(manifestPath, 'utf8')) as Record<string, unknown>) : {};
  if (v.skipped && manifest[key] !== undefined) return;
  const { skipped: _s, ...rest } = v;
  manifest[key] = v.skipped ? { ...rest, wallSeconds: null, note: 'recorded from an existing file' } : { ...rest, steps, actionNoise: noiseOf(d), seed };
  writeFileSync(`${manifestPath}.tmp`, `${JSON.stringify(manifest, null, 1)}\n`);
  renameSync(`${manifestPath}.tmp`, manifestPath);
}

async function main(): Promise<void> {
  const pool = new BehaviourPool(workers);
  const made: Record<string, Made> = {};
  const t0 = performance.now();
  try {
    for (const env of envs) {
      if (source === 'sac') await chooseSacSnapshots(env);
      // medium-expert needs the medium and expert files.
      const wanted = new Set<Dataset>(datasets);
      if (wanted.has('medium-expert')) {
        wanted.add('medium');
        wanted.add('expert');
      }
      for (const d of DATASETS.filter((x) => wanted.has(x))) {
        const file = fileOf(env, d);
        const key = keyOf(env, d);
        if (existsSync(file) && !args.force) {
          log(`${key}: ${file} exists, kept (--force to remake)`);
          const ds = await readD4rlFile(file, { nextObservations: false, infos: false });
          made[key] = { file: file.slice(outDir.length + 1), rows: ds.N, episodes: Number(ds.metadata.episodes), meanReturn: Number(ds.metadata.mean_return), normalized: normalizedScore(`${env}-medium-v2`, Number(ds.metadata.mean_return)), wallSeconds: 0, skipped: true };
          record(key, d, made[key]);
          continue;
        }
        log(`${key}: collecting`);
        if (d === 'medium-replay') made[key] = source === 'sac' ? await sacMediumReplay(env) : await mediumReplay(pool, env);
        else if (d === 'medium-expert') made[key] = await mediumExpert(env);
        else made[key] = await single(pool, env, d);
        const r = made[key];
        record(key, d, r);
        log(
          `${key}: ${r.rows.toLocaleString('en-US')} rows, ${r.episodes} episodes, mean return ${r.meanReturn?.toFixed(1) ?? 'n/a'} ` +
            `(normalised ${r.normalized?.toFixed(1) ?? 'n/a'}), ${r.wallSeconds.toFixed(1)} s -> ${file}`,
        );
      }
    }
  } finally {
    await pool.destroy();
  }
  log(`done in ${((performance.now() - t0) / 1000).toFixed(1)} s; ${manifestPath}`);
  process.stdout.write('| dataset | rows | episodes | mean return | normalised | wall s |\n|---|---:|---:|---:|---:|---:|\n');
  for (const [k, v] of Object.entries(made)) {
    process.stdout.write(
      `| ${k} | ${v.rows.toLocaleString('en-US')} | ${v.episodes} | ${v.meanReturn?.toFixed(1) ?? 'n/a'} | ${v.normalized?.toFixed(1) ?? 'n/a'} | ${v.skipped ? '(kept)' : v.wallSeconds.toFixed(1)} |\n`,
    );
  }
}

try {
  await main();
} catch (err) {
  process.stderr.write(`make-datasets: error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
}
