/**
 * OFQL toy study (paper appendix C): `npm run toy -- [--epochs 100] [--batches 40] [--batch-size 2048]
 * [--lr 1e-3] [--seed 0] [--datasets checkerboard,spiral,crescent] [--samples 5000]
 * [--projections 256] [--plot-points 2000] [--md docs/toy.md] [--svg-dir docs/toy] [--backend wasm]`.
 *
 * Per 2-D dataset: trains (a) the average-velocity model u with OFQL's MeanFlow loss (flow ratio
 * 0.5, logit-normal(-0.4, 1), exact JVP) and (b) the marginal-velocity flow-matching model v (same
 * network and loss with flow ratio 1.0), both from the same initial weights; samples u in one step
 * (and two) and v with 1, 2, 5, 10 Euler steps; scores every sample set by the sliced Wasserstein
 * distance to a held-out set; writes scatter plots (SVG), docs/toy.md and docs/toy/results.json.
 * Defaults are the paper's schedule (100 epochs x 40 batches of 2048).
 * `--render-only` re-renders docs/toy.md from docs/toy/results.json (+ docs/toy/notes.md, the
 * hand-written observations) without training.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { tf } from '../src/ofql/tf.js';
import { initBackend, type BackendName } from '../src/ofql/tensor-backend.js';
import { TOY_NAMES, sampleToy, type ToyName } from './toy/data.js';
import { randomDirections, slicedWasserstein, type SwdResult } from './toy/swd.js';
import { meanNearestDistance } from './toy/nn.js';
import { scatterSvg } from './toy/svg.js';
import { TOY_NET, sampleToyModel, toySeeds, trainToyModel } from './toy/train.js';
import { renderToyMarkdown, type ToyReport, type ToyDatasetResult } from './toy/report.js';
import { deriveSeed } from '../src/rng.js';
import { exitOnHelp, parseFlags, usageFail, type UsageFail } from './script-args.js';

interface Options {
  epochs: number;
  batches: number;
  batchSize: number;
  lr: number;
  seed: number;
  datasets: ToyName[];
  samples: number;
  projections: number;
  plotPoints: number;
  md: string | null;
  svgDir: string;
  backend: BackendName;
  /** Only re-render the markdown from <svg-dir>/results.json (+ notes.md); no training. */
  renderOnly: boolean;
}

const USAGE =
  'usage: npm run toy -- [--epochs 100] [--batches 40] [--batch-size 2048] [--lr 1e-3] [--seed 0]\n' +
  '         [--datasets checkerboard,spiral,crescent] [--samples 5000] [--projections 256]\n' +
  '         [--plot-points 2000] [--md docs/toy.md | --no-md] [--svg-dir docs/toy] [--backend wasm|cpu|tensorflow]\n' +
  '       npm run toy -- --render-only [--md docs/toy.md] [--svg-dir docs/toy]   (re-render the page from results.json + notes.md)\n';

const usageError: UsageFail = usageFail('toy', USAGE);

function parseOptions(argv: string[]): Options {
  const values = parseFlags(
    argv,
    {
      epochs: { type: 'string' },
      batches: { type: 'string' },
      'batch-size': { type: 'string' },
      lr: { type: 'string' },
      seed: { type: 'string' },
      datasets: { type: 'string' },
      samples: { type: 'string' },
      projections: { type: 'string' },
      'plot-points': { type: 'string' },
      md: { type: 'string' },
      'no-md': { type: 'boolean' },
      'svg-dir': { type: 'string' },
      backend: { type: 'string' },
      'render-only': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    usageError,
  );
  exitOnHelp(values, USAGE);
  const int = (key: string, def: number, min = 1): number => {
    const v = values[key];
    if (v === undefined) return def;
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < min) usageError(`--${key} must be an integer >= ${min}, got '${String(v)}'`);
    return n;
  };
  const lrRaw = values.lr;
  const lr = lrRaw === undefined ? 1e-3 : Number(lrRaw);
  if (!(Number.isFinite(lr) && lr > 0)) usageError(`--lr must be a positive number, got '${String(lrRaw)}'`);
  const datasets = (typeof values.datasets === 'string' ? values.datasets.split(',') : [...TOY_NAMES]).map((s) => s.trim());
  for (const d of datasets) if (!TOY_NAMES.includes(d as ToyName)) usageError(`unknown dataset '${d}' (known: ${TOY_NAMES.join(', ')})`);
  const backend = (values.backend ?? 'wasm') as string;
  if (!['wasm', 'cpu', 'tensorflow'].includes(backend)) usageError(`unknown backend '${backend}'`);
  return {
    epochs: int('epochs', 100),
    batches: int('batches', 40),
    batchSize: int('batch-size', 2048),
    lr,
    seed: int('seed', 0, 0),
    datasets: datasets as ToyName[],
    samples: int('samples', 5000, 2),
    projections: int('projections', 256),
    plotPoints: int('plot-points', 2000),
    md: values['no-md'] ? null : typeof values.md === 'string' ? values.md : 'docs/toy.md',
    svgDir: typeof values['svg-dir'] === 'string' ? values['svg-dir'] : 'docs/toy',
    backend: backend as BackendName,
    renderOnly: values['render-only'] === true,
  };
}

/** Sampler columns: label, model, steps, mode. */
const SAMPLERS = [
  { key: 'u1', label: 'u, 1 step', model: 'average', steps: 1, mode: 'average' },
  { key: 'u2', label: 'u, 2 steps', model: 'average', steps: 2, mode: 'average' },
  { key: 'v1', label: 'v, 1 step', model: 'marginal', steps: 1, mode: 'euler' },
  { key: 'v2', label: 'v, 2 steps', model: 'marginal', steps: 2, mode: 'euler' },
  { key: 'v5', label: 'v, 5 steps', model: 'marginal', steps: 5, mode: 'euler' },
  { key: 'v10', label: 'v, 10 steps', model: 'marginal', steps: 10, mode: 'euler' },
] as const;

/** Panels in the scatter plot (besides the data). */
const PLOT_KEYS = ['u1', 'v1', 'v2', 'v5', 'v10'] as const;

function fmt(x: number, d = 3): string {
  return Number.isFinite(x) ? x.toFixed(d) : String(x);
}

/** Write docs/toy.md (embedding <svg-dir>/notes.md if present). */
function writeMarkdown(report: ToyReport, mdFile: string, svgDir: string): string {
  const mdPath = resolve(mdFile);
  mkdirSync(dirname(mdPath), { recursive: true });
  // Hand-written observations on the figures live next to them and are embedded verbatim.
  const notesPath = join(resolve(svgDir), 'notes.md');
  const notes = existsSync(notesPath) ? readFileSync(notesPath, 'utf8') : undefined;
  writeFileSync(mdPath, renderToyMarkdown(report, dirname(mdPath), notes));
  return mdPath;
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  if (opts.renderOnly) {
    if (!opts.md) usageError('--render-only needs a markdown target (drop --no-md)');
    const jsonPath = join(resolve(opts.svgDir), 'results.json');
    if (!existsSync(jsonPath)) usageError(`--render-only: ${jsonPath} not found (run the study first)`);
    const saved = JSON.parse(readFileSync(jsonPath, 'utf8')) as ToyReport;
    const mdDir = dirname(resolve(opts.md));
    // results.json stores the SVG paths relative to the markdown's folder.
    const report = { ...saved, results: saved.results.map((r) => ({ ...r, svg: resolve(mdDir, r.svg) })) };
    const mdPath = writeMarkdown(report, opts.md, opts.svgDir);
    process.stderr.write(`toy: re-rendered ${relative(process.cwd(), mdPath)} from ${relative(process.cwd(), jsonPath)}\n`);
    return;
  }
  const wallStart = performance.now();
  const backend = await initBackend(opts.backend);
  const log = (s: string) => process.stderr.write(`${s}\n`);
  log(
    `toy: backend ${backend.name}; ${opts.epochs} epochs x ${opts.batches} batches of ${opts.batchSize} ` +
      `(${opts.epochs * opts.batches} steps per model); datasets ${opts.datasets.join(', ')}`,
  );
  const directions = randomDirections(opts.projections, 2, deriveSeed(opts.seed, 999_999));
  const results: ToyDatasetResult[] = [];
  for (const name of opts.datasets) {
    const idx = TOY_NAMES.indexOf(name);
    const seeds = toySeeds(opts.seed, idx);
    const train = sampleToy(name, opts.batches * opts.batchSize, seeds.trainSet);
    const heldA = sampleToy(name, opts.samples, seeds.heldOutA);
    const heldB = sampleToy(name, opts.samples, seeds.heldOutB);
    const models = {} as Record<'average' | 'marginal', ReturnType<typeof trainToyModel>>;
    for (const kind of ['average', 'marginal'] as const) {
      const every = Math.max(1, Math.round(opts.epochs / 10));
      models[kind] = trainToyModel({
        kind,
        data: train,
        epochs: opts.epochs,
        batchSize: opts.batchSize,
        lr: opts.lr,
        initSeed: seeds.init,
        trainSeed: kind === 'average' ? seeds.trainAverage : seeds.trainMarginal,
        onEpoch: (e, loss) => {
          if ((e + 1) % every === 0 || e === 0) log(`  ${name} ${kind === 'average' ? 'u' : 'v'} epoch ${e + 1}/${opts.epochs} loss ${fmt(loss, 4)}`);
        },
      });
      log(`  ${name} ${kind}: ${models[kind].steps} steps in ${fmt(models[kind].trainSeconds, 1)} s`);
    }
    const swd: Record<string, SwdResult> = {};
    const nn: Record<string, { precision: number; coverage: number }> = {};
    const samples: Record<string, Float32Array> = {};
    const sampleSeconds: Record<string, number> = {};
    for (const s of SAMPLERS) {
      const t0 = performance.now();
      samples[s.key] = sampleToyModel(models[s.model].actor, opts.samples, s.steps, s.mode, seeds.sampleNoise);
      sampleSeconds[s.key] = (performance.now() - t0) / 1000;
      swd[s.key] = slicedWasserstein(samples[s.key]!, heldA, 2, directions);
      nn[s.key] = { precision: meanNearestDistance(samples[s.key]!, heldA), coverage: meanNearestDistance(heldA, samples[s.key]!) };
    }
    swd.floor = slicedWasserstein(heldB, heldA, 2, directions);
    nn.floor = { precision: meanNearestDistance(heldB, heldA), coverage: meanNearestDistance(heldA, heldB) };
    log(`  ${name}: ` + [...SAMPLERS.map((s) => s.key), 'floor'].map((k) => `${k} SW1 ${fmt(swd[k]!.sw1)}`).join(', '));

    // Scatter plot: data (held-out set B) + model panels.
    const extent = 4.5;
    const panels = [
      { title: 'data (held-out)', points: heldB, subtitle: `floor SW1 ${fmt(swd.floor.sw1)}` },
      ...PLOT_KEYS.map((k) => ({
        title: SAMPLERS.find((s) => s.key === k)!.label,
        points: samples[k]!,
        subtitle: `SW1 ${fmt(swd[k]!.sw1)}`,
      })),
    ];
    const svgPath = resolve(opts.svgDir, `${name}.svg`);
    mkdirSync(dirname(svgPath), { recursive: true });
    writeFileSync(
      svgPath,
      scatterSvg(panels, {
        extent,
        maxPoints: opts.plotPoints,
        heading: `${name}: OFQL average velocity u vs flow-matching marginal velocity v (${opts.epochs}x${opts.batches}x${opts.batchSize})`,
      }),
    );
    log(`  wrote ${relative(process.cwd(), svgPath)}`);

    results.push({
      name,
      seeds,
      swd,
      nn,
      finalLoss: { average: models.average.epochLoss.at(-1)!, marginal: models.marginal.epochLoss.at(-1)! },
      epochLoss: { average: models.average.epochLoss, marginal: models.marginal.epochLoss },
      trainSeconds: { average: models.average.trainSeconds, marginal: models.marginal.trainSeconds },
      steps: models.average.steps,
      sampleSeconds,
      svg: svgPath,
    });
    models.average.dispose();
    models.marginal.dispose();
  }
  const wallSeconds = (performance.now() - wallStart) / 1000;
  const report: ToyReport = {
    date: new Date().toISOString(),
    command: `node dist/scripts/toy.js ${process.argv.slice(2).join(' ')}`.trim(),
    machine: {
      cpu: os.cpus()[0]?.model ?? 'unknown',
      cores: os.cpus().length,
      os: `${os.type()} ${os.release()} ${os.arch()}`,
      node: process.version,
      backend: backend.name,
      tfjs: tf.version_core,
      loadAvgAtEnd: os.loadavg(),
    },
    schedule: { epochs: opts.epochs, batches: opts.batches, batchSize: opts.batchSize, lr: opts.lr },
    net: { ...TOY_NET },
    seed: opts.seed,
    samples: opts.samples,
    projections: opts.projections,
    plotPoints: opts.plotPoints,
    wallSeconds,
    results,
    samplers: SAMPLERS.map((s) => ({ key: s.key, label: s.label })),
    numTensorsAtEnd: tf.memory().numTensors,
  };
  if (opts.md) {
    const mdPath = writeMarkdown(report, opts.md, opts.svgDir);
    const jsonPath = join(resolve(opts.svgDir), 'results.json');
    writeFileSync(
      jsonPath,
      JSON.stringify({ ...report, results: report.results.map((r) => ({ ...r, svg: relative(dirname(mdPath), r.svg) })) }, null, 1) + '\n',
    );
    log(`  wrote ${relative(process.cwd(), mdPath)} and ${relative(process.cwd(), jsonPath)}`);
  }
  log(`toy: done in ${fmt(wallSeconds, 1)} s`);
}

main().catch((err) => {
  process.stderr.write(`toy: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
