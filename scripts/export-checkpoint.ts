/**
 * Export one checkpoint of a training run as a small, committable reference checkpoint
 * (eval/checkpoints/<name>): config.json + model.safetensors only (no optimizer state: it doubles
 * the size and is only for --resume), the dataset path made repository-relative, the dataset's
 * content digest added when the trainer that wrote it predates it (after checking the file's
 * sha256 against the one recorded), and the run's metrics.jsonl / train-config.json under
 * training/ as provenance.
 *
 *   node dist/scripts/export-checkpoint.js --run data/runs/ofql-hopper-medium --step 40000 \
 *     --dataset data/hopper-medium-ars.hdf5 --out eval/checkpoints/ofql-hopper-medium
 *
 * Without --step, the run's newest checkpoint; `--run <run>@N` works as well (src/checkpoint/run-dir.ts).
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OFQL_CHECKPOINT_FORMAT, readCheckpointDir, writeCheckpointDir } from '../src/checkpoint/checkpoint-dir.js';
import { d4rlContentSha256 } from '../src/data/digest.js';
import { readD4rlFile } from '../src/data/d4rl-hdf5.js';
import { sha256File } from '../src/hash.js';
import { validateOfqlCheckpoint } from '../src/ofql/checkpoint.js';
import { resolveCheckpointDir } from '../src/checkpoint/run-dir.js';
import { scriptArgs } from './script-args.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

async function main(): Promise<void> {
  const { values, fail } = scriptArgs(
    'export-checkpoint',
    "usage: export-checkpoint --run <run dir>[@N] [--step <N>] --dataset <the run's HDF5 file> --out <dir>",
    { run: { type: 'string' }, step: { type: 'string' }, dataset: { type: 'string' }, out: { type: 'string' } },
  );
  const runArg = values.run ?? fail('give --run (a training run directory)');
  const dataset = values.dataset ?? fail("give --dataset (the run's HDF5 file)");
  const out = values.out ?? fail('give --out (the directory to write)');
  if (values.step !== undefined && !/^\d+$/.test(values.step)) fail(`--step must be a step number, got '${values.step}'`);
  // The run directory alone is its newest checkpoint; an unknown step lists the ones there.
  const source = resolveCheckpointDir(values.step !== undefined ? `${runArg.replace(/[/\\]+$/, '')}@${Number(values.step)}` : runArg);
  if (source.run === null) {
    throw new Error(`--run ${runArg}: not a training run directory (one written by 'ofql-eval train --out', holding step-NNNNNNNN/ checkpoints and metrics.jsonl)`);
  }
  const run = source.run;
  const src = source.dir;
  const ckpt = await readCheckpointDir(src, { format: OFQL_CHECKPOINT_FORMAT, loadOptimizer: false });
  const v0 = { step: ckpt.config.step as number };
  const ds = { ...(ckpt.config.dataset as Record<string, unknown>) };
  const fileSha = await sha256File(dataset);
  if (fileSha !== ds.sha256) throw new Error(`${dataset}: sha256 ${fileSha.slice(0, 12)}… is not the run's dataset (${String(ds.sha256).slice(0, 12)}…)`);
  const d4rl = await readD4rlFile(dataset, { nextObservations: false, infos: false });
  const content = d4rlContentSha256(d4rl);
  if (ds.contentSha256 !== undefined && ds.contentSha256 !== content) throw new Error(`${dataset}: content digest differs from the recorded one`);
  ds.contentSha256 = content;
  const abs = resolve(String(ds.path));
  ds.path = abs.startsWith(ROOT) ? relative(ROOT, abs) : String(ds.path);
  await writeCheckpointDir(out, { config: { ...ckpt.config, dataset: ds }, tensors: ckpt.tensors, metadata: ckpt.metadata });
  mkdirSync(join(out, 'training'), { recursive: true });
  copyFileSync(join(run, 'train-config.json'), join(out, 'training', 'train-config.json'));
  // metrics up to the exported step (the run may have gone on)
  const metrics = readFileSync(join(run, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '' && (JSON.parse(l) as { step: number }).step <= v0.step);
  writeFileSync(join(out, 'training', 'metrics.jsonl'), metrics.map((l) => `${l}\n`).join(''));
  const v = await validateOfqlCheckpoint(out);
  process.stdout.write(`exported ${src} -> ${isAbsolute(out) ? out : relative(process.cwd(), out)} (step ${v.step}, ${v.envId})\n`);
}


main().catch((e: unknown) => {
  process.stderr.write(`export-checkpoint: error: ${(e as Error).message}\n`);
  process.exit(1);
});
