/**
 * OFQL agents from PyTorch state dicts: an actor file (`.pth` / `.pt` written by torch.save, or a
 * torch-layout `.safetensors`), optionally a critic file, and optionally a `config.json` beside the
 * actor for what the tensors cannot tell. Network sizes are inferred from the tensor shapes.
 * Nothing in the files is executed (src/checkpoint/torch-file.ts). The expected names and shapes
 * are documented in docs/pytorch-checkpoints.md.
 *
 * Actor file: DQL's MLP module names plus OFQL's second time embedding, at one of three levels
 *   <p>time_mlp.{1,3}.*  <p>r_time_mlp.{1,3}.* (or r_mlp)  <p>mid_layer.{0,2,..}.*  <p>final_layer.*
 * with <p> = '' (the MLP's own state_dict), 'model.' (a DQL-style wrapper whose `.model` is the
 * MLP; DQL's diffusion-schedule buffers beside it are ignored) or 'actor.model.' (a whole agent:
 * then 'ema_model.model.*', 'critic.*', 'critic_target.*' may be in the same file).
 * Critic file: DQL's Critic, 'q1_model.{0,2,..}.*' and 'q2_model.*' (or the same under 'critic.' /
 * 'critic_target.').
 *
 * Sizes (torch [out, in] shapes): T = time_mlp.1.weight [2T, T]; depth = number of mid_layer
 * Linears; H = rows of mid_layer.0.weight; A = rows of final_layer.weight; S = columns of
 * mid_layer.0.weight - A - 2T (its input is concat(a_t, emb(t), emb(r), s)).
 *
 * Without a critic the agent gets zero critics and `trainCritic: false` (and eta 0): only the
 * one-step sampler can run, as for a behaviour-cloning checkpoint. A missing EMA actor / target
 * critic is filled from the online one.
 */
import { userPath } from '../paths.js';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import {
  CheckpointError,
  OFQL_CHECKPOINT_FORMAT,
  expectTensors,
  importTorchStateDict,
  toFloat32Map,
  type ShapeSpec,
  type Tensor,
} from '../checkpoint/index.js';
import { tensorField } from '../checkpoint/errors.js';
import { readStateDictFile, type StateDictFormat } from '../checkpoint/torch-file.js';
import { DQL_SCHEDULE_BUFFERS, ofqlCriticShapes, ofqlModelShapes, ofqlTorchName } from './checkpoint.js';
import { OFQL_DEFAULTS, OfqlConfigError, validateConfig, type OfqlConfig } from './config.js';
import type { NamedArray } from './networks.js';
import type { OfqlAgent } from './train-step.js';

/** File names the torch kind claims for --ckpt (a file, not a checkpoint directory). */
export const TORCH_STATE_DICT_EXTENSIONS = ['.pth', '.pt', '.safetensors'] as const;

export function isTorchStateDictPath(p: string | undefined): boolean {
  if (p === undefined) return false;
  const lower = p.toLowerCase();
  return TORCH_STATE_DICT_EXTENSIONS.some((e) => lower.endsWith(e));
}

/** The name of the optional sidecar beside the actor file. */
export const TORCH_SIDECAR = 'config.json';

/** Sampler keys config.json's `sampler` object may hold (the --sampler / --sampler-n / --qgbs-* flags). */
const SAMPLER_KEYS = ['name', 'n', 'K', 'B', 'M', 'SNR', 'eta', 'kappa', 'noiseScale'] as const;

export interface TorchOfqlOptions {
  /** Critic file (overrides config.json `critic`). */
  critic?: string;
  /** Multiplier of t and r before the sinusoidal embedding (overrides config.json `ofql.timeScale`; default 1). */
  timeScale?: number;
  /** Base for relative paths (default process.cwd()). */
  cwd?: string;
}

/** What config.json beside the actor file says (all optional). */
export interface TorchOfqlSidecar {
  path: string;
  envId?: string;
  /** OfqlConfig fields (validated together with the inferred sizes). */
  ofql: Partial<OfqlConfig>;
  /** Sampler defaults as policy options: { sampler, n, K, B, M, SNR, eta, kappa, noiseScale } (only those given). */
  sampler: Record<string, string | number>;
  /** Absolute critic path. */
  critic?: string;
}

export interface TorchOfqlModel {
  actorPath: string;
  criticPath?: string;
  formats: { actor: StateDictFormat; critic?: StateDictFormat };
  sidecar?: TorchOfqlSidecar;
  /** Sizes inferred from the shapes. */
  dims: Pick<OfqlConfig, 'obsDim' | 'actDim' | 'hiddenDim' | 'depth' | 'timeEmbDim'>;
  /** Full, validated config (sizes + sidecar + flags + defaults). */
  config: OfqlConfig;
  envId?: string;
  /** Every tensor the agent needs, our names and [in, out] layout (zero critics when there is none). */
  tensors: Map<string, NamedArray>;
  /** Whether the files held an EMA actor / target critic of their own. */
  has: { critic: boolean; ema: boolean; target: boolean };
  /** Non-tensor entries found in the files (e.g. `step (int)`). */
  skipped: string[];
}

// ---------------------------------------------------------------------------------------------
// config.json
// ---------------------------------------------------------------------------------------------

const SIZE_FIELDS = ['obsDim', 'actDim', 'hiddenDim', 'depth', 'timeEmbDim'] as const;

function configFail(file: string, field: string | undefined, detail: string): never {
  throw new CheckpointError({ code: 'config', file, field, detail });
}

/** Read and check config.json beside the actor, if there is one. */
export async function readTorchSidecar(actorPath: string): Promise<TorchOfqlSidecar | undefined> {
  const path = join(dirname(actorPath), TORCH_SIDECAR);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return configFail(path, undefined, `cannot be read (${(e as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return configFail(path, undefined, `is not valid JSON (${(e as Error).message})`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) configFail(path, undefined, 'must hold a JSON object');
  const j = json as Record<string, unknown>;
  if (j.format === OFQL_CHECKPOINT_FORMAT) {
    configFail(path, 'format', `is ${JSON.stringify(OFQL_CHECKPOINT_FORMAT)}: ${basename(actorPath)} is a file of an ofql-eval checkpoint directory; pass the directory itself (--ckpt ${dirname(actorPath)})`);
  }
  const out: TorchOfqlSidecar = { path, ofql: {}, sampler: {} };
  if (j.envId !== undefined) {
    if (typeof j.envId !== 'string' || j.envId === '') configFail(path, 'envId', `must be a non-empty string, got ${JSON.stringify(j.envId)}`);
    out.envId = j.envId as string;
  }
  if (j.critic !== undefined) {
    if (typeof j.critic !== 'string' || j.critic === '') configFail(path, 'critic', `must be the critic file's path (relative to ${dirname(path)}), got ${JSON.stringify(j.critic)}`);
    out.critic = userPath(j.critic as string, dirname(path));
  }
  if (j.ofql !== undefined) {
    if (j.ofql === null || typeof j.ofql !== 'object' || Array.isArray(j.ofql)) configFail(path, 'ofql', 'must be an object of OfqlConfig fields');
    const known = new Set<string>([...Object.keys(OFQL_DEFAULTS), 'obsDim', 'actDim', 'gradNorm']);
    for (const [k, v] of Object.entries(j.ofql as Record<string, unknown>)) {
      if (!known.has(k)) configFail(path, `ofql.${k}`, `is not an OfqlConfig field; known: ${[...known].join(', ')}`);
      (out.ofql as Record<string, unknown>)[k] = v;
    }
  }
  if (j.sampler !== undefined) {
    const s = typeof j.sampler === 'string' ? { name: j.sampler } : j.sampler;
    if (s === null || typeof s !== 'object' || Array.isArray(s)) configFail(path, 'sampler', 'must be a sampler name or an object { name, n, K, B, M, SNR, eta, kappa }');
    for (const [k, v] of Object.entries(s as Record<string, unknown>)) {
      if (!(SAMPLER_KEYS as readonly string[]).includes(k)) configFail(path, `sampler.${k}`, `is not a sampler field; known: ${SAMPLER_KEYS.join(', ')}`);
      if (k === 'name' ? typeof v !== 'string' : typeof v !== 'number' || !Number.isFinite(v)) {
        configFail(path, `sampler.${k}`, `must be ${k === 'name' ? 'a string' : 'a finite number'}, got ${JSON.stringify(v)}`);
      }
      out.sampler[k === 'name' ? 'sampler' : k] = v as string | number;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Names and sizes
// ---------------------------------------------------------------------------------------------

/** Where the actor MLP's modules sit in the actor file: '', 'model.' or 'actor.model.'. */
function actorPrefix(names: readonly string[]): '' | 'model.' | 'actor.model.' {
  if (names.some((n) => n.startsWith('actor.model.'))) return 'actor.model.';
  if (names.some((n) => n.startsWith('model.'))) return 'model.';
  return '';
}

function listSome(names: readonly string[], max = 6): string {
  return names.length === 0 ? '(none)' : names.slice(0, max).map((n) => `'${n}'`).join(', ') + (names.length > max ? `, ... (${names.length} in all)` : '');
}

/** Sizes from the actor's torch shapes (see the module comment); CheckpointError naming the tensor otherwise. */
export function inferOfqlDims(sd: ReadonlyMap<string, Tensor>, source: string): TorchOfqlModel['dims'] {
  const names = [...sd.keys()];
  const p = actorPrefix(names);
  const fail = (code: 'missing-tensor' | 'tensor-shape', name: string | undefined, detail: string): never => {
    throw new CheckpointError({ code, file: source, field: name === undefined ? undefined : tensorField(name), detail });
  };
  const shape2 = (name: string): [number, number] => {
    const t = sd.get(name);
    if (!t) {
      return fail('missing-tensor', name, `is missing; an OFQL actor has ${p}time_mlp.{1,3}, ${p}r_time_mlp.{1,3} (or r_mlp), ${p}mid_layer.{0,2,...} and ${p}final_layer ` +
        `(each .weight and .bias; see docs/pytorch-checkpoints.md). The file has ${listSome(names)}${names.some((n) => /^(critic\.)?q[12]_model\./.test(n)) ? ' (a critic file? give it with --critic)' : ''}`);
    }
    if (t.shape.length !== 2) fail('tensor-shape', name, `must be a 2-D Linear weight [out, in], got shape [${t.shape.join(', ')}]`);
    return t.shape as [number, number];
  };
  const [t2, T] = shape2(`${p}time_mlp.1.weight`);
  if (t2 !== 2 * T) fail('tensor-shape', `${p}time_mlp.1.weight`, `must be [2T, T] (Linear(T, 2T) after SinusoidalPosEmb(T)), got [${t2}, ${T}]`);
  if (!sd.has(`${p}r_time_mlp.1.weight`) && !sd.has(`${p}r_mlp.1.weight`)) {
    fail('missing-tensor', `${p}r_time_mlp.1.weight`, `is missing (nor is there ${p}r_mlp.1.weight): the file has one time embedding, like a DQL diffusion actor; an OFQL actor also embeds r (the interval start) with a second embedding of the same shape`);
  }
  const mid = names.map((n) => new RegExp(`^${p.replace(/\./g, '\\.')}mid_layer\\.(\\d+)\\.weight$`).exec(n)).filter((m): m is RegExpExecArray => m !== null).map((m) => Number(m[1])).sort((a, b) => a - b);
  if (mid.length === 0) fail('missing-tensor', `${p}mid_layer.0.weight`, `is missing; the file has ${listSome(names)}`);
  mid.forEach((idx, i) => {
    if (idx !== 2 * i) fail('missing-tensor', `${p}mid_layer.${2 * i}.weight`, `is missing: mid_layer Linears must sit at nn.Sequential positions 0, 2, 4, ... (Linear, Mish, Linear, ...); found positions ${mid.join(', ')}`);
  });
  const [H, inDim] = shape2(`${p}mid_layer.0.weight`);
  const [A, hFinal] = shape2(`${p}final_layer.weight`);
  if (hFinal !== H) fail('tensor-shape', `${p}final_layer.weight`, `must be [A, ${H}] (hidden width from mid_layer.0.weight), got [${A}, ${hFinal}]`);
  const S = inDim - A - 2 * T;
  if (S < 1) {
    fail('tensor-shape', `${p}mid_layer.0.weight`, `has ${inDim} inputs, but its input is concat(a_t [${A}], emb(t) [${T}], emb(r) [${T}], s [S]), which leaves S = ${S}; expected S >= 1`);
  }
  return { obsDim: S, actDim: A, hiddenDim: H, depth: mid.length, timeEmbDim: T };
}

/** Torch name -> ours for a critic file: q{1,2}_model.* (or under critic. / critic_target.). */
function criticTorchName(n: string, hasTarget: boolean): string[] | undefined {
  const full = n.startsWith('critic.') || n.startsWith('critic_target.') ? n : `critic.${n}`;
  return ofqlTorchName(full, { ema: true, target: hasTarget });
}

const FLOAT_DTYPES = ['F32', 'F16', 'BF16', 'F64'] as const;
function specOf(list: Array<[string, number[]]>): Map<string, ShapeSpec> {
  return new Map(list.map(([n, s]) => [n, { shape: s, dtype: [...FLOAT_DTYPES] }]));
}

// ---------------------------------------------------------------------------------------------
// The whole model
// ---------------------------------------------------------------------------------------------

/**
 * Read the actor (and critic) files plus config.json, infer sizes, build and validate the config,
 * and rename / transpose / check every tensor. No TensorFlow.js. Every problem is a
 * CheckpointError naming the file and the tensor / field.
 */
export async function readTorchOfqlModel(actor: string, options: TorchOfqlOptions = {}): Promise<TorchOfqlModel> {
  const cwd = options.cwd ?? process.cwd();
  const actorPath = userPath(actor, cwd);
  const sidecar = await readTorchSidecar(actorPath);
  const criticArg = options.critic !== undefined ? userPath(options.critic, cwd) : sidecar?.critic;

  const actorFile = await readStateDictFile(actorPath, { checkFinite: true });
  const a = actorFile.tensors;
  const meta = actorFile.metadata;
  if (meta.format === OFQL_CHECKPOINT_FORMAT || [...a.keys()].some((n) => /^(ema_)?actor\.t_embed\./.test(n))) {
    throw new CheckpointError({
      code: 'unexpected-tensor',
      file: actorPath,
      detail: `is an ofql-eval model.safetensors (our names, [in, out] weights), not a PyTorch state dict; pass its checkpoint directory (--ckpt ${dirname(actorPath)})`,
    });
  }
  const aNames = [...a.keys()];
  const prefix = actorPrefix(aNames);
  const dims = inferOfqlDims(a, actorPath);

  const has = { ema: aNames.some((n) => n.startsWith('ema_model.model.')), target: aNames.some((n) => n.startsWith('critic_target.')), critic: aNames.some((n) => n.startsWith('critic.')) };
  if (has.critic && criticArg !== undefined) {
    throw new CheckpointError({ code: 'unexpected-tensor', file: actorPath, detail: `already holds the critic (critic.* tensors), and a critic file was given as well (${criticArg}); give one of the two` });
  }
  const toOurs = (n: string): string[] | undefined => ofqlTorchName(prefix === 'actor.model.' ? n : `actor.model.${n.slice(prefix.length)}`, has);
  const actorImport = importTorchStateDict(a, {
    names: (n) => (prefix === 'model.' && !n.startsWith('model.') ? undefined : toOurs(n)),
    ignore: [DQL_SCHEDULE_BUFFERS],
    source: actorPath,
  });
  const ours = new Map(actorImport.tensors);
  const skipped = actorFile.skipped.map((s) => `${actorPath}: ${s}`);

  let criticPath: string | undefined;
  let criticFormat: StateDictFormat | undefined;
  if (criticArg !== undefined) {
    criticPath = criticArg;
    const c = await readStateDictFile(criticPath, { checkFinite: true });
    criticFormat = c.format;
    const cNames = [...c.tensors.keys()];
    has.critic = true;
    has.target = cNames.some((n) => n.startsWith('critic_target.'));
    const imp = importTorchStateDict(c.tensors, { names: (n) => criticTorchName(n, has.target), source: criticPath });
    for (const [k, v] of imp.tensors) ours.set(k, v);
    skipped.push(...c.skipped.map((s) => `${criticPath}: ${s}`));
  }

  const config = buildConfig(dims, sidecar, options, has.critic, actorPath);
  if (!has.critic) {
    // Zero critics: never used (trainCritic false allows only the one-step sampler).
    for (const [name, shape] of [...ofqlCriticShapes('critic', config), ...ofqlCriticShapes('critic_target', config)]) {
      ours.set(name, { dtype: 'F32', shape, data: new Float32Array(shape.reduce((x, y) => x * y, 1)) });
    }
  }
  expectTensors(ours, specOf(ofqlModelShapes(config)), {
    file: `${actorPath}${criticPath ? ` + ${criticPath}` : ''} (after renaming to our names; sizes inferred: obsDim ${dims.obsDim}, actDim ${dims.actDim}, hiddenDim ${dims.hiddenDim}, depth ${dims.depth}, timeEmbDim ${dims.timeEmbDim})`,
    exact: true,
  });
  const tensors = new Map<string, NamedArray>();
  for (const [name, t] of toFloat32Map(ours, actorPath)) tensors.set(name, { data: t.data instanceof Float32Array ? t.data : Float32Array.from(t.data), shape: t.shape });
  const envId = sidecar?.envId;
  return {
    actorPath,
    criticPath,
    formats: { actor: actorFile.format, critic: criticFormat },
    sidecar,
    dims,
    config,
    envId,
    tensors,
    has,
    skipped,
  };
}

function buildConfig(dims: TorchOfqlModel['dims'], sidecar: TorchOfqlSidecar | undefined, options: TorchOfqlOptions, hasCritic: boolean, actorPath: string): OfqlConfig {
  const file = sidecar?.path ?? actorPath;
  const given = sidecar?.ofql ?? {};
  for (const k of SIZE_FIELDS) {
    if (given[k] !== undefined && given[k] !== dims[k]) {
      configFail(file, `ofql.${k}`, `is ${JSON.stringify(given[k])}, but the tensors of ${actorPath} give ${dims[k]}`);
    }
  }
  if (given.trainCritic === true && !hasCritic) {
    configFail(file, 'ofql.trainCritic', 'is true, but no critic file was given (--critic <critic.pth>, or "critic" in config.json)');
  }
  const trainCritic = hasCritic && given.trainCritic !== false;
  const cfg: OfqlConfig = {
    ...OFQL_DEFAULTS,
    ...given,
    ...dims,
    ...(options.timeScale !== undefined ? { timeScale: options.timeScale } : {}),
    trainCritic,
    // eta is a training weight; a critic-less model is evaluated like a behaviour-cloning checkpoint.
    eta: trainCritic ? (given.eta ?? OFQL_DEFAULTS.eta) : 0,
  };
  if ((cfg as { gradNorm?: unknown }).gradNorm === null) cfg.gradNorm = undefined;
  try {
    validateConfig(cfg);
  } catch (e) {
    if (e instanceof OfqlConfigError) {
      const fromFlag = e.field === 'timeScale' && options.timeScale !== undefined;
      throw new CheckpointError({ code: 'config', file: fromFlag ? '--time-scale' : file, field: fromFlag ? undefined : `ofql.${e.field}`, detail: e.message.replace(/^OfqlConfig\.\S+: /, '') }, { cause: e });
    }
    throw e;
  }
  return cfg;
}

/**
 * Refuse a critic-ranked sampler for a model without a critic (message names the actor file and
 * says how to give one).
 */
export function checkSamplerForTorchModel(model: Pick<TorchOfqlModel, 'actorPath' | 'criticPath' | 'config'>, sampler: string): void {
  if (!model.config.trainCritic && sampler !== 'one-step') {
    const why = model.criticPath === undefined
      ? `no critic was given (--critic <critic.pth>, or "critic" in ${TORCH_SIDECAR} beside it)`
      : `${TORCH_SIDECAR} says ofql.trainCritic is false`;
    throw new Error(`${model.actorPath}: ${why}, so sampler '${sampler}' cannot rank actions with a critic; use --sampler one-step${model.criticPath === undefined ? ' or give the critic' : ''}`);
  }
}

/** readTorchOfqlModel + an agent holding the weights (TensorFlow.js is imported here, lazily). */
export async function loadTorchOfqlAgent(actor: string, options: TorchOfqlOptions = {}): Promise<{ model: TorchOfqlModel; agent: OfqlAgent }> {
  const model = await readTorchOfqlModel(actor, options);
  const { createOfqlAgent } = await import('./train-step.js');
  const agent = createOfqlAgent(model.config, 0);
  try {
    agent.loadNamedTensors(model.tensors);
  } catch (e) {
    agent.dispose();
    throw e;
  }
  return { model, agent };
}
