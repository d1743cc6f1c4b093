/**
 * `ofql-eval --ckpt a,b,c ...`: several checkpoints (training seeds) of one policy, evaluated one
 * after the other on ONE warm worker pool, with one result document each (`--json DIR`:
 * DIR/<checkpoint name>.json) and a line per env across the seeds. `ofql-eval report DIR/*.json`
 * then gives the intervals over seeds.
 */
import { basename, dirname, join } from 'node:path';
import { EvalPool } from '../../eval/pool.js';
import { formatSummary } from '../../eval/format.js';
import { type EvalResultDocument, toJson } from '../../eval/result.js';
import { capWorkers } from '../limits.js';
import { checkOutputDir, writeOutputReported } from '../output-path.js';
import { type PolicyArgs, type PreparedPolicy, preparePolicy } from '../policy/kinds.js';
import { type CliEvaluateOptions, runEvaluationForCli } from './run-evaluation.js';
import { OptionError } from '../option-error.js';

/** `--ckpt` names several checkpoints when it holds commas (split; empty entries refused). */
export function splitCheckpoints(ckpt: string | undefined): string[] | null {
  if (ckpt === undefined || !ckpt.includes(',')) return null;
  const list = ckpt.split(',').map((c) => c.trim());
  if (list.some((c) => c === '')) throw new OptionError(`--ckpt ${ckpt}: an empty entry in the comma-separated list`);
  if (new Set(list).size !== list.length) throw new OptionError(`--ckpt ${ckpt}: a checkpoint is listed twice`);
  return list;
}

/** The result file name of a checkpoint: its directory name (a step directory: run name + step). */
export function resultNameOf(ckptDir: string): string {
  const base = basename(ckptDir);
  const name = /^step-\d+$/.test(base) ? `${basename(dirname(ckptDir))}_${base}` : base;
  return name.replace(/\.(pth?|safetensors)$/i, '').replace(/[^A-Za-z0-9._-]+/g, '_');
}

export interface SeedsRun {
  docs: EvalResultDocument[];
  failed: string | null;
  signal: NodeJS.Signals | null;
}

/**
 * Check every checkpoint first (a bad one is found before any evaluation), then evaluate them in
 * order on one pool. Stops at the first failure or signal (the runs done so far are kept).
 */
export async function runSeeds(
  base: Omit<CliEvaluateOptions, 'env' | 'policy' | 'ckpt' | 'ckptGiven' | 'pool'>,
  policy: PolicyArgs,
  ckpts: readonly string[],
  json: string | undefined,
  log: (m: string) => void,
): Promise<SeedsRun> {
  if (json !== undefined) checkOutputDir(json, '--json');
  const prepared: PreparedPolicy[] = [];
  for (const ckpt of ckpts) prepared.push(await preparePolicy({ ...policy, ckpt }));
  const names = prepared.map((p, i) => resultNameOf(p.ckpt?.dir ?? ckpts[i]!));
  const twin = names.find((n, i) => names.indexOf(n) !== i);
  if (twin !== undefined) throw new OptionError(`--ckpt: two checkpoints would both write ${twin}.json; give checkpoints with different names`);
  const workers = capWorkers(base.workers ?? 1, '--workers', log);
  const pool = new EvalPool(workers);
  const docs: EvalResultDocument[] = [];
  try {
    for (const [i, p] of prepared.entries()) {
      if (p.env === undefined) throw new OptionError(`--ckpt ${ckpts[i]}: no --env given and the checkpoint names no task`);
      log(`ofql-eval: checkpoint ${i + 1} of ${prepared.length}: ${p.ckpt?.dir ?? ckpts[i]}`);
      const { doc, failed, signal } = await runEvaluationForCli({ ...base, workers, env: p.env, policy: p.ref, ckpt: p.ckpt?.dir ?? ckpts[i], ckptGiven: ckpts[i], pool });
      docs.push(doc);
      process.stdout.write(formatSummary(doc));
      if (json !== undefined) {
        const file = join(json, `${names[i]}.json`);
        if (writeOutputReported('ofql-eval', 'result', file, toJson(doc), log)) log(`ofql-eval: wrote ${doc.complete ? '' : 'PARTIAL '}result to ${file}`);
      }
      if (failed !== null || signal !== null) return { docs, failed, signal };
    }
  } finally {
    await pool.destroy();
  }
  process.stdout.write(acrossSeeds(docs));
  return { docs, failed: null, signal: null };
}

/** Per env: the mean over checkpoints of their normalised means, with the lowest and highest. */
export function acrossSeeds(docs: readonly EvalResultDocument[]): string {
  const byEnv = new Map<string, number[]>();
  for (const d of docs) for (const r of d.results) if (r.summary) byEnv.set(r.envId, [...(byEnv.get(r.envId) ?? []), r.summary.normalizedMean]);
  const lines = [`\nacross ${docs.length} checkpoints (seeds):`];
  for (const [env, xs] of byEnv) {
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    lines.push(`  ${env}: normalised ${mean.toFixed(2)} (mean of ${xs.length}; lowest ${Math.min(...xs).toFixed(2)}, highest ${Math.max(...xs).toFixed(2)})`);
  }
  lines.push("  intervals over seeds (IQM, bootstrap): ofql-eval report <the --json files>\n");
  return lines.join('\n');
}
