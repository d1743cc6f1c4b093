/**
 * Environment fidelity check: `npm run fidelity -- [--dir ../shared/fidelity] [--episodes 50]
 * [--seed 0] [--out docs/fidelity.md]`.
 *
 * Runs each published rl-zoo reference agent (shared/fidelity/*.json, deterministic actions)
 * in our environment of its `env` field through the public API, and compares the mean return
 * with the zoo's published evaluation and with an independent reference implementation's
 * figure (docs/reference.md §7). Writes a markdown report and the raw per-episode returns
 * (same path with .json). Every figure is as measured: nothing is tuned.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { deriveSeed, loadMujoco, makeEnv, mujocoPackageVersion, mujocoVersion } from '../src/index.js';
import { writeFileAtomic } from '../src/atomic-write.js';
import { packageRoot } from '../src/mujoco/bridge.js';
import { type AgentFile, MlpPolicy, type Summary, loadAgent, summarize } from './fidelity-policy.js';
import { exitOnHelp, intFlag, machineLine, parseFlags, usageFail, type UsageFail } from './script-args.js';

/**
 * What an independent reference implementation of docs/reference.md §1 measured on
 * `@mujoco/mujoco` 3.14 (50 episodes, its own seeds); docs/reference.md §7. Context only.
 */
const REFERENCE_IMPL: Record<string, { mean: number; std: number }> = {
  'ars-hopper': { mean: 3294.1, std: 5.6 },
  'trpo-halfcheetah': { mean: 1790.7, std: 37.5 },
  'sac-walker2d': { mean: 3668.0, std: 551.0 },
  'ars-ant': { mean: 2319.3, std: 21.8 },
};
const AGENT_ORDER = Object.keys(REFERENCE_IMPL);

interface Options {
  dir: string;
  episodes: number;
  seed: number;
  out: string;
}

interface EpisodeRecord {
  seed: number;
  return: number;
  length: number;
  terminated: boolean;
}

interface AgentResult {
  agent: AgentFile;
  file: string;
  episodes: EpisodeRecord[];
  summary: Summary;
  meanLength: number;
  terminatedCount: number;
  wallSeconds: number;
}

const USAGE = 'usage: npm run fidelity -- [--dir ../shared/fidelity] [--episodes 50] [--seed 0] [--out docs/fidelity.md]\n';
const usageError: UsageFail = usageFail('fidelity', USAGE);

function parseOptions(argv: string[]): Options {
  const values = parseFlags(
    argv,
    { dir: { type: 'string' }, episodes: { type: 'string' }, seed: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    usageError,
  );
  exitOnHelp(values, USAGE);
  return {
    dir: resolve(typeof values.dir === 'string' ? values.dir : join(packageRoot, '..', 'shared', 'fidelity')),
    episodes: intFlag(values.episodes, 'episodes', 50, 2, usageError),
    seed: intFlag(values.seed, 'seed', 0, 0, usageError),
    out: resolve(typeof values.out === 'string' ? values.out : join(packageRoot, 'docs', 'fidelity.md')),
  };
}

function findAgentFiles(dir: string): string[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    usageError(
      `agent directory ${dir} does not exist (or is not a directory). ` +
        `It should hold the rl-zoo reference agents (*.json, see shared/fidelity/README.md); ` +
        `point --dir at it, e.g. --dir ../shared/fidelity`,
    );
  }
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => join(dir, f));
  if (files.length === 0) usageError(`no agent files (*.json) in ${dir}; point --dir at the reference agents`);
  return files;
}

async function runAgent(file: string, agent: AgentFile, opts: Options): Promise<AgentResult> {
  const env = await makeEnv(agent.env);
  const policy = new MlpPolicy(agent);
  if (policy.inputSize !== env.observationSize || policy.outputSize !== env.actionSize) {
    env.close();
    throw new Error(
      `${agent.name}: policy maps ${policy.inputSize} -> ${policy.outputSize} but ${agent.env} has ` +
        `observation ${env.observationSize}, action ${env.actionSize}`,
    );
  }
  const obs = new Float64Array(env.observationSize);
  const action = new Float64Array(env.actionSize);
  const episodes: EpisodeRecord[] = [];
  const t0 = performance.now();
  for (let i = 0; i < opts.episodes; i++) {
    const seed = deriveSeed(opts.seed, i);
    obs.set(env.reset(seed));
    let ret = 0;
    for (;;) {
      policy.act(obs, action);
      const r = env.stepInto(action, 0, obs, 0);
      ret += r.reward;
      if (r.terminated || r.truncated) {
        episodes.push({ seed, return: ret, length: env.episodeSteps, terminated: r.terminated });
        break;
      }
    }
  }
  const wallSeconds = (performance.now() - t0) / 1000;
  env.close();
  const summary = summarize(episodes.map((e) => e.return));
  const meanLength = episodes.reduce((s, e) => s + e.length, 0) / episodes.length;
  const terminatedCount = episodes.filter((e) => e.terminated).length;
  return { agent, file, episodes, summary, meanLength, terminatedCount, wallSeconds };
}

/** An agent's result beside its published figure and the reference implementation's (both tables read it). */
function versusPublished(r: AgentResult) {
  const { agent: a, summary: s } = r;
  return { a, s, ref: REFERENCE_IMPL[a.name], diff: s.mean - a.published.meanReturn };
}

const f1 = (x: number) => x.toFixed(1);
const pct = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(2)}%`;

function renderMarkdown(
  results: AgentResult[],
  opts: Options,
  meta: { machine: string; date: string; mujoco: string; pkg: string; wallSeconds: number; jsonPath: string },
): string {
  const L: string[] = [];
  L.push('# Environment fidelity (npm run fidelity)');
  L.push('');
  L.push(
    'Published stable-baselines3 rl-zoo agents (DLR-RM/rl-trained-agents, trained on gym 0.19 v3 envs with ' +
      'mujoco-py / MuJoCo 2.0), run with deterministic actions in our `@mujoco/mujoco` environments through the ' +
      'public API (`makeEnv(agent.env)`, `reset(seed)`, `stepInto`). Each figure is as measured; nothing was tuned.',
  );
  L.push('');
  L.push(
    '| agent | env | published mean ± std (n) | ours mean ± std (n) | ours 95% CI of mean (t) | ours vs published | ' +
      'ref. impl. on MuJoCo 3.14 (n=50) | ours vs ref. impl. | mean episode length | terminated |',
  );
  L.push('|---|---|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    const { a, s, ref, diff } = versusPublished(r);
    const diffPub = (100 * diff) / Math.abs(a.published.meanReturn);
    const refCell = ref ? `${f1(ref.mean)} ± ${f1(ref.std)}` : 'n/a';
    const diffRef = ref ? pct((100 * (s.mean - ref.mean)) / Math.abs(ref.mean)) : 'n/a';
    L.push(
      `| ${a.name} | ${a.env} | ${f1(a.published.meanReturn)} ± ${f1(a.published.stdReturn)} (${a.published.episodes}) | ` +
        `${f1(s.mean)} ± ${f1(s.std)} (${s.n}) | [${f1(s.ci95[0])}, ${f1(s.ci95[1])}] | ${pct(diffPub)} | ` +
        `${refCell} | ${diffRef} | ${r.meanLength.toFixed(1)} | ${r.terminatedCount}/${s.n} |`,
    );
  }
  L.push('');
  L.push(
    '- "± std" is the population standard deviation of per-episode returns (ddof = 0, as `np.std` in the zoo\'s ' +
      'evaluation). The 95% CI is Student-t with n - 1 degrees of freedom on the sample standard deviation ' +
      '(ddof = 1): mean ± t(0.975, n-1) · s / √n.',
  );
  L.push(
    '- "ours vs published" = (ours − published) / published. "ref. impl." is the figure an independent implementation ' +
      'of the same env semantics measured on `@mujoco/mujoco` 3.14 (docs/reference.md §7, its own seeds): it shows ' +
      'what the physics version alone does, so a large gap to it (rather than to the published figure) would point to a bug.',
  );
  L.push('- "terminated" counts episodes that ended by the env\'s termination rule before the 1000-step cut.');
  L.push('');
  L.push('## Run');
  L.push('');
  L.push(`- Machine: ${meta.machine}`);
  L.push(`- Date: ${meta.date}`);
  L.push(`- MuJoCo: ${meta.mujoco} (\`mj_versionString\`), npm package \`@mujoco/mujoco\` ${meta.pkg}; Node ${process.version}`);
  L.push(
    `- Episodes: ${opts.episodes} per agent; episode i is seeded with \`deriveSeed(${opts.seed}, i)\`, i = 0..${opts.episodes - 1} ` +
      `(the same seeds for every agent; listed with each return in \`${meta.jsonPath}\`)`,
  );
  L.push(
    `- Wall time: ${meta.wallSeconds.toFixed(1)} s in total, one thread (` +
      results.map((r) => `${r.agent.name} ${r.wallSeconds.toFixed(1)} s`).join(', ') +
      ')',
  );
  L.push(`- Agents: ${results.map((r) => `\`${relative(packageRoot, r.file)}\``).join(', ')}`);
  L.push('');
  L.push('## Gaps');
  L.push('');
  L.push(...gapsSection(results));
  L.push('');
  return L.join('\n');
}

function gapsSection(results: AgentResult[]): string[] {
  const L: string[] = [];
  L.push(
    'The published figures come from gym 0.19 + mujoco-py on MuJoCo 2.0; ours run the same env semantics ' +
      '(docs/reference.md §1) on MuJoCo 3.14 compiled to WebAssembly. MuJoCo\'s changelog between those versions ' +
      'includes changes to collision detection, the constraint solver and the model compiler, and Hopper and Walker2d ' +
      'use converted local-coordinate model files (MuJoCo >= 2.3.4 refuses `coordinate="global"`). A deterministic ' +
      'closed-loop policy amplifies tiny per-step differences: trajectories drift apart over hundreds of steps, so ' +
      'returns shift although every step follows the same rules. Which physics change causes which gap was not isolated. ' +
      'Our seeds and reset-noise generator also differ from gym\'s (numpy), which matters where the return spread is wide ' +
      '(Walker2d). The "ref. impl." column is the better yardstick for bugs: it ran the same MuJoCo version as ours.',
  );
  L.push('');
  for (const r of results) {
    const { a, s, ref, diff: diffPub } = versusPublished(r);
    const se = s.sampleStd / Math.sqrt(s.n);
    let line =
      `- **${a.name}** (${a.env}): ours ${f1(s.mean)} vs published ${f1(a.published.meanReturn)}, ` +
      `a difference of ${diffPub >= 0 ? '+' : ''}${f1(diffPub)} (${pct((100 * diffPub) / a.published.meanReturn)}); ` +
      `the published mean is ${a.published.meanReturn >= s.ci95[0] && a.published.meanReturn <= s.ci95[1] ? 'inside' : 'outside'} our 95% CI.`;
    if (ref) {
      const d = s.mean - ref.mean;
      const refSe = ref.std / Math.sqrt(50);
      const z = d / Math.sqrt(se * se + refSe * refSe);
      line +=
        ` Against the independent MuJoCo 3.14 implementation (${f1(ref.mean)} ± ${f1(ref.std)}): ${d >= 0 ? '+' : ''}${f1(d)} ` +
        `(${pct((100 * d) / ref.mean)}), ${Math.abs(d / Math.max(ref.std, s.std)).toFixed(2)} episode std, ` +
        `z = ${z.toFixed(2)} for the difference of the two means.`;
    }
    if (r.terminatedCount > 0) {
      line += ` ${r.terminatedCount} of ${s.n} episodes terminated early (mean length ${r.meanLength.toFixed(1)}).`;
    }
    L.push(line);
  }
  return L;
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const files = findAgentFiles(opts.dir);
  const agents = files.map((f) => ({ file: f, agent: loadAgent(f) }));
  agents.sort((x, y) => {
    const ix = AGENT_ORDER.indexOf(x.agent.name);
    const iy = AGENT_ORDER.indexOf(y.agent.name);
    return (ix < 0 ? 99 : ix) - (iy < 0 ? 99 : iy) || x.agent.name.localeCompare(y.agent.name);
  });

  const mj = await loadMujoco();
  const t0 = performance.now();
  const results: AgentResult[] = [];
  for (const { file, agent } of agents) {
    process.stderr.write(`fidelity: ${agent.name} in ${agent.env}, ${opts.episodes} episodes ... `);
    const r = await runAgent(file, agent, opts);
    process.stderr.write(
      `mean ${f1(r.summary.mean)} ± ${f1(r.summary.std)} (published ${f1(agent.published.meanReturn)}), ${r.wallSeconds.toFixed(1)} s\n`,
    );
    results.push(r);
  }
  const wallSeconds = (performance.now() - t0) / 1000;

  const meta = {
    machine: machineLine(),
    date: new Date().toISOString(),
    mujoco: mujocoVersion(mj),
    pkg: mujocoPackageVersion(),
    wallSeconds,
    jsonPath: '',
  };
  const jsonPath = opts.out.replace(/\.md$/i, '') + '.json';
  meta.jsonPath = relative(dirname(opts.out), jsonPath) || jsonPath;

  const raw = {
    generatedBy: 'npm run fidelity',
    date: meta.date,
    machine: meta.machine,
    node: process.version,
    mujocoVersion: meta.mujoco,
    mujocoPackageVersion: meta.pkg,
    episodes: opts.episodes,
    baseSeed: opts.seed,
    seedRule: 'episode i uses deriveSeed(baseSeed, i)',
    wallSeconds,
    agents: results.map((r) => ({
      name: r.agent.name,
      env: r.agent.env,
      published: r.agent.published,
      referenceImplementation: REFERENCE_IMPL[r.agent.name] ?? null,
      ours: {
        mean: r.summary.mean,
        std: r.summary.std,
        sampleStd: r.summary.sampleStd,
        ci95: r.summary.ci95,
        meanLength: r.meanLength,
        terminated: r.terminatedCount,
      },
      wallSeconds: r.wallSeconds,
      seeds: r.episodes.map((e) => e.seed),
      returns: r.episodes.map((e) => e.return),
      lengths: r.episodes.map((e) => e.length),
      terminatedFlags: r.episodes.map((e) => e.terminated),
    })),
  };
  writeFileAtomic(jsonPath, JSON.stringify(raw, null, 2) + '\n');
  writeFileAtomic(opts.out, renderMarkdown(results, opts, meta));
  process.stdout.write(renderMarkdown(results, opts, meta));
  process.stderr.write(`fidelity: wrote ${opts.out} and ${jsonPath}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`fidelity: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
