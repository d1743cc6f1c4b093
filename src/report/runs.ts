/**
 * Result documents -> runs and tasks: which policy family a result belongs to, which run (training
 * seed) it is, and the run x task score cells the aggregate statistics work on.
 *
 * A run is one checkpoint (`policy.ckpt`, or the file itself when there is none): one training
 * seed. A task is an environment id. With `--by policy` (the default) results whose checkpoints
 * differ only in the task and seed parts of their names (`ofql-hopper-medium`,
 * `ofql-walker2d-medium-seed1`, ...) and that use the same sampler form one family, so several
 * files or checkpoints of it are several seeds; `--by file` makes every file its own policy.
 */
import { basename, dirname, extname } from 'node:path';
import type { EnvResult, EvalResultDocument } from '../../eval/result.js';

export const GROUP_BY = ['policy', 'file'] as const;
export type GroupBy = (typeof GROUP_BY)[number];

export class ReportInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReportInputError';
  }
}

/** One (run, task) entry of the matrix: one env's result in one document. */
export interface RunCell {
  policy: string;
  task: string;
  /** Run identity: the checkpoint path, else the result file. */
  run: string;
  file: string;
  /** Training step of the checkpoint when its path or description names one, else null. */
  step: number | null;
  /** The run's score on the task: mean normalised score over its episodes. */
  score: number;
  episodeScores: number[];
  episodeReturns: number[];
  /** The document's 150-episode Student t interval (uncertainty over episodes, not seeds). */
  episodeCi95: [number, number] | null;
}

/** A policy family: its cells by task, tasks in first-seen order. */
export interface PolicyRuns {
  label: string;
  tasks: Map<string, RunCell[]>;
}

/** Env family and dataset words removed from checkpoint names to find the policy family. */
const TASK_WORDS = /(^|[-_.])(halfcheetah|hopper|walker2d|walker|ant|medium-replay|medium-expert|full-replay|medium|expert|random|v\d)(?=$|[-_.])/gi;
/** Seed suffixes (`-seed3`, `_seed-3`) removed from names: seeds of one family share a label. */
const SEED_WORDS = /(^|[-_.])seed[-_]?\d+(?=$|[-_.])/gi;
const STEP_DIR = /^step-(\d+)$/;
/** A file extension: a dot, a letter, then up to 11 letters or digits. */
const FILE_EXTENSION = /^\.[A-Za-z][A-Za-z0-9]{0,11}$/;

/** The name a checkpoint path contributes to a label: a step directory stands for its run directory. */
function checkpointStem(ckpt: string): string {
  const base = basename(ckpt);
  const name = STEP_DIR.test(base) ? basename(dirname(ckpt)) : base;
  // Only a file extension is dropped (actor.pth, model.safetensors); a dot inside a run name
  // (ofql-eta0.01-seed0) is part of it, or eta 0.01 and 0.1 would share a label.
  const ext = extname(name);
  return FILE_EXTENSION.test(ext) ? name.slice(0, -ext.length) : name;
}

/** A name without its seed words ("hopper-medium-seed2" -> "hopper-medium"). */
export function withoutSeed(name: string): string {
  return name.replace(SEED_WORDS, '$1').replace(/[-_.]{2,}/g, '-').replace(/^[-_.]+|[-_.]+$/g, '');
}

/** A checkpoint name without task and seed words ("ofql-hopper-medium-seed2" -> "ofql"). */
export function familyStem(name: string): string {
  return name.replace(SEED_WORDS, '$1').replace(TASK_WORDS, '$1').replace(TASK_WORDS, '$1').replace(/[-_.]{2,}/g, '-').replace(/^[-_.]+|[-_.]+$/g, '');
}

/**
 * The sampler the policy reported with its parameters (OFQL: "sampler one-step", "sampler
 * dql(n=50)" -> "dql, n=50"), else --sampler of the command. The parameters are part of the
 * family: one checkpoint evaluated with two noise scales is two policies.
 */
function samplerOf(doc: EvalResultDocument): string | null {
  for (const r of doc.results) {
    const m = /\bsampler ([A-Za-z0-9_-]+)(?:\(([^)]*)\))?/.exec(r.policyDescription ?? '');
    if (m) return m[2] ? `${m[1]}, ${m[2].split(',').join(', ')}` : m[1]!;
  }
  const cmd = doc.command ?? [];
  const i = cmd.indexOf('--sampler');
  return i >= 0 && i + 1 < cmd.length ? cmd[i + 1] : null;
}

/** The policy family label of a document (see the file header). */
export function policyLabel(doc: EvalResultDocument, file: string, by: GroupBy): string {
  if (by === 'file') return basename(file, '.json');
  const fromCkpt = doc.policy.ckpt ? familyStem(checkpointStem(doc.policy.ckpt)) : '';
  const moduleName = doc.policy.kind === 'module' ? basename(doc.policy.path ?? doc.policy.name).replace(/\.[cm]?js$/, '') : doc.policy.name;
  const base = fromCkpt || moduleName;
  const sampler = samplerOf(doc);
  return sampler ? `${base} (${sampler})` : base;
}

/** The checkpoint's training step, from a `step-N` path or "(step N" in the description. */
export function checkpointStep(doc: EvalResultDocument, r: EnvResult): number | null {
  const m = doc.policy.ckpt ? STEP_DIR.exec(basename(doc.policy.ckpt)) : null;
  if (m) return Number(m[1]);
  const d = /\(step (\d+)/.exec(r.policyDescription ?? '');
  return d ? Number(d[1]) : null;
}

function cellOf(doc: EvalResultDocument, file: string, label: string, r: EnvResult): RunCell {
  if (!r.complete || r.normalizedScores.length === 0 || r.summary === null) {
    throw new ReportInputError(`${file}: results for ${r.envId} are incomplete (${r.pendingEpisodes.length} episodes pending); report only complete evaluations`);
  }
  return {
    policy: label,
    task: r.envId,
    run: doc.policy.ckpt ?? file,
    file,
    step: checkpointStep(doc, r),
    score: r.summary.normalizedMean,
    episodeScores: r.normalizedScores,
    episodeReturns: r.returns,
    episodeCi95: r.summary.normalizedCi95,
  };
}

/**
 * Groups documents into policy families of run x task cells. Refuses incomplete results and the
 * same run of the same policy on the same task twice (naming both files).
 */
export function groupRuns(inputs: { file: string; doc: EvalResultDocument }[], by: GroupBy): PolicyRuns[] {
  const policies = new Map<string, PolicyRuns>();
  for (const { file, doc } of inputs) {
    if (!doc.complete) throw new ReportInputError(`${file}: the evaluation is not complete (complete: false${doc.error ? `, error: ${doc.error}` : ''})`);
    const label = policyLabel(doc, file, by);
    const group = policies.get(label) ?? { label, tasks: new Map<string, RunCell[]>() };
    policies.set(label, group);
    for (const r of doc.results) {
      const cell = cellOf(doc, file, label, r);
      const cells = group.tasks.get(r.envId) ?? [];
      const twin = cells.find((c) => c.run === cell.run);
      if (twin) {
        throw new ReportInputError(`${file} and ${twin.file}: both are run ${cell.run} of policy "${label}" on ${r.envId}; pass each run once (or --by file)`);
      }
      cells.push(cell);
      group.tasks.set(r.envId, cells);
    }
  }
  return [...policies.values()];
}
