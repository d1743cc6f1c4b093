/**
 * docs/toy.md for the toy study, rendered entirely from a run's results so that re-running
 * `npm run toy` regenerates the page (numbers, schedule, machine, seeds, command).
 */
import { relative } from 'node:path';
import type { SwdResult } from './swd.js';
import type { ToyName } from './data.js';

export interface ToyDatasetResult {
  name: ToyName;
  seeds: Record<string, number>;
  /** Keyed by sampler key (u1, u2, v1, v2, v5, v10) and 'floor'. */
  swd: Record<string, SwdResult>;
  /** Mean nearest-neighbour distances (scripts/toy/nn.ts), same keys as swd. */
  nn: Record<string, { precision: number; coverage: number }>;
  finalLoss: { average: number; marginal: number };
  epochLoss: { average: number[]; marginal: number[] };
  trainSeconds: { average: number; marginal: number };
  steps: number;
  sampleSeconds: Record<string, number>;
  svg: string;
}

export interface ToyReport {
  date: string;
  command: string;
  machine: { cpu: string; cores: number; os: string; node: string; backend: string; tfjs: string; loadAvgAtEnd: number[] };
  schedule: { epochs: number; batches: number; batchSize: number; lr: number };
  net: { obsDim: number; actDim: number; hiddenDim: number; depth: number; timeEmbDim: number; timeScale: number };
  seed: number;
  samples: number;
  projections: number;
  plotPoints: number;
  wallSeconds: number;
  results: ToyDatasetResult[];
  samplers: Array<{ key: string; label: string }>;
  numTensorsAtEnd: number;
}

const PAPER = { epochs: 100, batches: 40, batchSize: 2048 };

/** Seeds shown in the page, in column order (see toySeeds in train.ts for what each drives). */
const SEED_KEYS = ['trainSet', 'heldOutA', 'heldOutB', 'init', 'trainAverage', 'trainMarginal', 'sampleNoise'];

function f(x: number, d = 3): string {
  return Number.isFinite(x) ? x.toFixed(d) : String(x);
}

type Metric = 'sw1' | 'sw2' | 'precision' | 'coverage';

function metric(d: ToyDatasetResult, key: string, which: Metric): number {
  return which === 'sw1' || which === 'sw2' ? d.swd[key]![which] : d.nn[key]![which];
}

function table(r: ToyReport, which: Metric): string {
  const cols = [...r.samplers.map((s) => s.label), 'noise floor'];
  const keys = [...r.samplers.map((s) => s.key), 'floor'];
  const lines = [`| dataset | ${cols.join(' | ')} |`, `|---|${cols.map(() => '---:').join('|')}|`];
  for (const d of r.results) {
    // Bold the best model column (excluding the floor).
    const modelVals = r.samplers.map((s) => metric(d, s.key, which));
    const best = Math.min(...modelVals.filter(Number.isFinite));
    const cells = keys.map((k) => {
      const v = metric(d, k, which);
      return k !== 'floor' && v === best ? `**${f(v)}**` : f(v);
    });
    lines.push(`| ${d.name} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

/** "between v with 2 and 5 steps" style placement of u's one-step value among v's step counts. */
function placement(u1: number, v: Array<[number, number]>): string {
  // v: [steps, value] in increasing steps. Lower is better.
  const better = v.filter(([, x]) => x <= u1).map(([k]) => k);
  if (better.length === v.length) return 'worse than v at every step count';
  if (better.length === 0) return `better than v at every step count (up to ${v[v.length - 1]![0]})`;
  const firstBetter = Math.min(...better);
  const worseBelow = v.filter(([k, x]) => k < firstBetter && x > u1).map(([k]) => k);
  return worseBelow.length
    ? `between v with ${Math.max(...worseBelow)} and ${firstBetter} steps`
    : `worse than v with ${firstBetter} step(s)`;
}

function findings(r: ToyReport): string {
  const out: string[] = [];
  const vs = ['v1', 'v2', 'v5', 'v10'];
  for (const d of r.results) {
    const s = (k: string) => d.swd[k]!.sw1;
    const u1 = s('u1');
    const floor = s('floor');
    // Smallest number of Euler steps at which v comes within 5% of one-step u (or beats it).
    const match = vs.find((k) => s(k) <= 1.05 * u1);
    const excess = (x: number) => x - floor;
    const vSeries = (m: 'precision' | 'coverage') => vs.map((k) => [Number(k.slice(1)), d.nn[k]![m]] as [number, number]);
    out.push(
      `- **${d.name}**: u in 1 step SW1 = ${f(u1)} vs v in 1 / 2 / 5 / 10 steps ${vs.map((k) => f(s(k))).join(' / ')} ` +
        `(noise floor ${f(floor)}). Above the floor, one-step u has ${f(excess(u1) / excess(s('v1')), 2)}x the error of ` +
        `one-step v and ${f(excess(u1) / excess(s('v10')), 2)}x that of 10-step v; ` +
        (match ? `v first comes within 5% of it (or beats it) at ${match.slice(1)} Euler step(s).` : `v does not come within 5% of it in 10 Euler steps.`) +
        ` On the nearest-neighbour distances below, one-step u is ${placement(d.nn.u1!.precision, vSeries('precision'))} (precision-like) ` +
        `and ${placement(d.nn.u1!.coverage, vSeries('coverage'))} (coverage-like).`,
    );
  }
  return out.join('\n');
}

export function renderToyMarkdown(r: ToyReport, mdDir: string, notes?: string): string {
  const sch = r.schedule;
  const paperSchedule = sch.epochs === PAPER.epochs && sch.batches === PAPER.batches && sch.batchSize === PAPER.batchSize;
  const steps = sch.epochs * sch.batches;
  const img = r.results.map((d) => `![${d.name}](${relative(mdDir, d.svg).split('\\').join('/')})`).join('\n\n');
  const trainTimes = r.results
    .map(
      (d) =>
        `| ${d.name} | ${d.steps} | ${f(d.trainSeconds.average, 0)} s (${f((1000 * d.trainSeconds.average) / d.steps, 1)} ms/step) | ` +
        `${f(d.trainSeconds.marginal, 0)} s (${f((1000 * d.trainSeconds.marginal) / d.steps, 1)} ms/step) | ` +
        `${f(d.finalLoss.average, 4)} | ${f(d.finalLoss.marginal, 4)} |`,
    )
    .join('\n');
  const seeds = r.results
    .map((d) => `| ${d.name} | ${SEED_KEYS.filter((k) => k in d.seeds).map((k) => d.seeds[k]).join(' | ')} |`)
    .join('\n');
  return `# OFQL toy study: one-step average velocity vs multi-step flow matching

Reproduction of the 2-D toy study of the OFQL paper (Nguyen & Yoo, "One-Step Flow Q-Learning",
arXiv 2508.13904, appendix C; docs/reference.md §5): an **average-velocity model u** trained with
OFQL's MeanFlow loss and sampled in **one step**, against a **marginal-velocity flow-matching model v**
sampled with **1, 2, 5 and 10 Euler steps**, on three 2-D distributions. The paper's expectation:
one-step u close to 10-step v and far better than 1-step v.

_This page is generated by \`scripts/toy.ts\`; re-running the command below rewrites it._

## Results

Sliced Wasserstein distance to ${r.samples} held-out points (lower is better; ${r.samples} generated
points per cell, ${r.projections} random directions, same directions and same source noise for every
cell). "noise floor" = the same distance between two independent held-out sets of ${r.samples}
points: no model can be expected to go below it. Best model cell per row in bold.

**SW1** (mean over directions of the 1-D W1 of the projections) -- the headline metric:

${table(r, 'sw1')}

**SW2** (root-mean-square over directions of the 1-D W2 of the projections; more sensitive to stray points):

${table(r, 'sw2')}

"u, 2 steps" is an extra column (not in the paper): the same u model sampled with two average-velocity
jumps 1 -> 0.5 -> 0.

What the numbers say (generated from the tables on this page):

${findings(r)}

Single run, single seed (${r.seed}); we did not repeat the study over seeds, so differences of the
order of the noise floor are not significant.

**Nearest-neighbour distances** (scripts/toy/nn.ts; a complement to the SWD, which averages over 1-D
projections and can under-weight mass put in the gaps of a distribution). _Precision-like_: mean over the
generated points of the distance to the nearest held-out point (large when samples land where the data has
no mass, e.g. between spiral arms or moons). _Coverage-like_: mean over held-out points of the distance to the
nearest generated point (large when part of the data is missed). Noise floor: held-out set B against set A.

generated -> data (precision-like):

${table(r, 'precision')}

data -> generated (coverage-like):

${table(r, 'coverage')}
${notes ? `
## Observations on this run (hand-written, docs/toy/notes.md)

${notes.trim()}
` : ''}

## Scatter plots

Panels: held-out data, u in 1 step, v in 1, 2, 5, 10 Euler steps (first ${r.plotPoints} of the
${r.samples} points of each set; window [-4.5, 4.5]^2, points outside it are counted in the caption).

${img}

## Setup

**Schedule.** ${sch.epochs} epochs x ${sch.batches} batches of ${sch.batchSize} = ${steps} gradient steps per
model${paperSchedule ? " (the paper's schedule)." : `; the paper's is ${PAPER.epochs} epochs x ${PAPER.batches} batches of ${PAPER.batchSize} (${PAPER.epochs * PAPER.batches} steps), see Deviations.`}
An epoch is one pass over a fixed training set of ${sch.batches} x ${sch.batchSize} = ${sch.batches * sch.batchSize} points drawn once from the
generator, reshuffled every epoch. Adam (betas 0.9, 0.999, eps 1e-8), learning rate ${sch.lr}, no weight decay,
no gradient clipping, no EMA, no learning-rate schedule.

**Network** (src/ofql/networks.ts \`initActor\`/\`actorForward\`, unchanged): OFQL's actor u(a_t, r, t; s) with
no state (obsDim ${r.net.obsDim}: an empty [B, 0] state tensor), action dim ${r.net.actDim}, ${r.net.depth} x [Linear ${r.net.hiddenDim}, Mish],
two DQL time embeddings (sinusoidal ${r.net.timeEmbDim} -> Linear 32 -> Mish -> Linear ${r.net.timeEmbDim}) for t and r, t fed unscaled
(timeScale ${r.net.timeScale}), PyTorch-default uniform initialisation. Both models of a dataset start from the *same* initial weights.

**u (average velocity, OFQL).** a_t = (1 - t) a + t eps, eps ~ N(0, I), t = 0 data, t = 1 noise.
(t, r): two logit-normal(-0.4, 1.0) draws sorted so r <= t; exactly half of each batch (flow ratio 0.5,
'fixed-count') gets r = t (src/ofql/losses.ts \`sampleTimePairs\`). Target
u_tgt = v - (t - r) (v . d_a u + d_t u), v = eps - a, with the exact hand-written JVP (\`actorJvp\`, tangent (v, 0, 1)),
under stop-gradient (\`meanFlowTarget\`); loss mean over batch and both coordinates of (u - u_tgt)^2 (\`behaviourLoss\`, 'mean').
Sampling: a = eps - u(eps, r = 0, t = 1) (\`oneStepAction\`); the 2-step column uses a <- a - 0.5 u(a, r = 0.5, t = 1), then a <- a - 0.5 u(a, 0, 0.5).

**v (marginal velocity, flow matching).** The *same network and loss code* with flow ratio 1.0: r = t for every
sample, so u_tgt = v = eps - a exactly and the net learns v(a_t, t) = u(a_t, t, t) (the r input always equals t).
The JVP term is multiplied by t - r = 0, so it is not computed. t is the larger of two logit-normal(-0.4, 1) draws
(that is what \`sampleTimePairs\` with ratio 1.0 gives; it matches the flow-matching half of OFQL's batches).
Sampling: Euler on the grid t_k = 1 - k/K: a <- a - (1/K) v(a, t_k), K = 1, 2, 5, 10, from t = 1 (noise) to t = 0.

**Metric.** Sliced Wasserstein distance (scripts/toy/swd.ts): ${r.projections} directions uniform on the unit circle
(normalised Gaussian vectors, one fixed set for the whole run); per direction the exact 1-D Wasserstein distance
between the two projected empirical distributions (sorted projections). SW1 = mean of W1 over directions;
SW2 = sqrt(mean of W2^2). Generated sets and held-out set A have ${r.samples} points each; the noise floor compares
held-out set B with set A. All model columns use the same ${r.samples} source-noise draws.

## Datasets (scripts/toy/data.ts)

Ports of the generators of FFJORD's toy suite (rtqichen/ffjord \`lib/toy_data.py\`, used by most flow-matching toy
code), with the project's seeded xoshiro128** \`Rng\` instead of numpy. The OFQL paper does not print its
generators, so these exact shapes are our choice.

- **checkerboard** (FFJORD \`checkerboard\`), in **[-4, 4]^2**: x1 = U[0,1) * 4 - 2; x2 = U[0,1) - 2 * Bernoulli(1/2) + (floor(x1) mod 2);
  point = 2 (x1, x2). The 4 x 4 board of 2 x 2 squares on [-4, 4]^2, uniform on the 8 "on" squares: those with
  floor(x/2) + floor(y/2) even.
- **spiral** (FFJORD \`2spirals\`), two arms: s = sqrt(U[0,1)) * 3 pi; d = (-cos(s) s + 0.5 U[0,1), sin(s) s + 0.5 U[0,1));
  arm 2 is -d (rotated by pi); point = d / 3 + N(0, 0.1^2 I). Radius up to about pi; the points lie in about [-4, 4]^2.
- **crescent**: two interlocking crescents, scikit-learn's \`make_moons(noise=0.1)\` placed as FFJORD's \`moons\`
  (\`2 * data + (-1, -0.2)\`): upper moon (cos th, sin th), lower moon (1 - cos th, 1/2 - sin th), th ~ U[0, pi)
  (make_moons uses an even grid in th; we draw it i.i.d.), half the points on each; point = 2 (moon + N(0, 0.1^2 I)) + (-1, -0.2).
  Support about [-3.6, 3.6] x [-1.8, 2.4].

## Run

- Command: \`${r.command}\` (after \`npm run build\`; with the package.json script \`"toy": "node dist/scripts/toy.js"\`
  this is \`npm run toy${r.command.replace('node dist/scripts/toy.js', '').trim() ? ' -- ' + r.command.replace('node dist/scripts/toy.js', '').trim() : ''}\`).
  \`npm run toy -- --render-only\` re-renders this page from docs/toy/results.json and docs/toy/notes.md without training.
- Date: ${r.date}.
- Machine: ${r.machine.cpu} (${r.machine.cores} logical cores, shared with other jobs during the run; load average at the end
  ${r.machine.loadAvgAtEnd.map((x) => f(x, 2)).join(' / ')}), ${r.machine.os}, Node ${r.machine.node}, TensorFlow.js ${r.machine.tfjs}
  on the '${r.machine.backend}' backend (single-threaded).
- Wall time of the whole run: ${f(r.wallSeconds, 0)} s (${f(r.wallSeconds / 60, 1)} min). Live tensors at the end: ${r.numTensorsAtEnd}.

| dataset | steps/model | train u | train v | final-epoch loss u | final-epoch loss v |
|---|---:|---:|---:|---:|---:|
${trainTimes}

(u's step costs a JVP and a second forward pass on top of v's; the losses are not comparable between u and v,
u's target includes the JVP correction.)

**Seeds** (all derived from --seed ${r.seed} with \`deriveSeed\`; directions: deriveSeed(${r.seed}, 999999)):

| dataset | training set | held-out A | held-out B | network init (u and v) | u training stream | v training stream | source noise |
|---|---:|---:|---:|---:|---:|---:|---:|
${seeds}

(Training streams draw the epoch shuffles, the (t, r) pairs and eps. Every model column of a dataset uses the
same source-noise draws.)

Per-epoch losses, all SWDs and timings are in [toy/results.json](toy/results.json).

## Deviations from the paper's protocol

${paperSchedule ? "- Schedule: the paper's (100 epochs x 40 batches of 2048)." : `- **Schedule**: ${sch.epochs} x ${sch.batches} x ${sch.batchSize} instead of the paper's ${PAPER.epochs} x ${PAPER.batches} x ${PAPER.batchSize}, to fit the run into about 15 minutes on this 2-core machine (the paper's schedule is the default: \`npm run toy\` with no flags, about 15 min here).`}
- Learning rate ${sch.lr}: ours; the paper's toy learning rate was not available to us.
- Dataset generators: FFJORD-suite shapes (our choice; see above); "crescent" is read as two-moons.
- v shares u's network (with r = t) instead of a separate v(a_t, t) net; its t distribution is the max of two
  logit-normal(-0.4, 1) draws (flow-ratio 1.0 in OFQL's sampler) rather than a single draw.
- We could not read the appendix itself, only its summary (docs/reference.md §5: data sets, 3 x 64 Mish MLP,
  100 x 40 x 2048, u one step vs v 1/2/5/10 steps). Learning rate, v's time sampling, EMA (none here) and the
  time-embedding details are therefore our choices, taken from this repository's OFQL implementation where it has one.
- Metric: the paper shows scatter plots; the sliced Wasserstein and nearest-neighbour tables and the "u, 2 steps"
  column are our additions.
- One seed only.
`;
}
