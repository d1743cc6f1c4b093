/**
 * OFQL checkpoints on top of the generic checkpoint layer (src/checkpoint, docs/checkpoint-format.md).
 *
 *   <dir>/config.json            format "ofql-eval/ofql", formatVersion 1, `ofql` (the full OfqlConfig),
 *                                envId, step, seed, weightLayout "in-out", producer "ofql-eval <version>",
 *                                optional dataset (free-form JSON about the training data)
 *   <dir>/model.safetensors      actor.*, ema_actor.*, critic.*, critic_target.* (F32, [in, out] weights)
 *   <dir>/optimizer.safetensors  (resumable only) actor_optim.* / critic_optim.* Adam state; `.step` as I64
 *   <dir>/trainer-state.json     (resumable only) { step, agentStep, agentRng, ...the trainer's own fields }
 *
 * Loading validates everything before any tensor reaches the engine: the format, the OfqlConfig
 * (validateConfig; errors name `ofql.<field>`), and every tensor's name and shape against what that
 * config implies (expectTensors: CheckpointError naming the file, the tensor, expected vs found).
 *
 * Also: a name table for PyTorch OFQL state dicts that use DQL's module names (the DQL -> OFQL gap
 * itself is documented in docs/checkpoint-format.md: a DQL *actor* cannot fill an OFQL actor).
 */
import { join } from 'node:path';
import {
  CHECKPOINT_FILES,
  CheckpointError,
  OFQL_CHECKPOINT_FORMAT,
  OFQL_CHECKPOINT_FORMAT_VERSION,
  expectTensors,
  importTorchStateDict,
  readCheckpointDir,
  readSafetensorsFile,
  requireResumable,
  resolveCheckpointDir,
  rngStateFromJson,
  rngStateToJson,
  toFloat32Map,
  writeCheckpointDir,
  type Checkpoint,
  type CheckpointConfig,
  type Dtype,
  type JsonValue,
  type ResolvedCheckpointDir,
  type ShapeSpec,
  type Tensor,
  type TensorInput,
  type TorchImportResult,
} from '../checkpoint/index.js';
import { envDims } from '../data/env-dims.js';
import { packageVersion } from '../package-version.js';
import { OFQL_DEFAULTS, OfqlConfigError, validateConfig, type OfqlConfig } from './config.js';
import type { NamedArray } from './networks.js';
// train-step.js (TensorFlow.js) is imported lazily in loadOfqlCheckpoint, so that checking a
// checkpoint (validateOfqlCheckpoint) costs no tensor-engine start-up.
import type { OfqlAgent } from './train-step.js';

// ---------------------------------------------------------------------------------------------
// Names and shapes
// ---------------------------------------------------------------------------------------------

type Dims = Pick<OfqlConfig, 'obsDim' | 'actDim' | 'hiddenDim' | 'depth' | 'timeEmbDim'>;

/** Actor parameter names and shapes (our [in, out] layout), in networks.ts `actorNamedParams` order. */
export function ofqlActorShapes(prefix: string, c: Dims): Array<[string, number[]]> {
  const { obsDim: S, actDim: A, hiddenDim: H, depth, timeEmbDim: T } = c;
  const out: Array<[string, number[]]> = [];
  const lin = (name: string, i: number, o: number) => out.push([`${prefix}.${name}.weight`, [i, o]], [`${prefix}.${name}.bias`, [o]]);
  lin('t_embed.1', T, 2 * T);
  lin('t_embed.3', 2 * T, T);
  lin('r_embed.1', T, 2 * T);
  lin('r_embed.3', 2 * T, T);
  let fanIn = A + 2 * T + S;
  for (let i = 0; i < depth; i++) {
    lin(`mid_layer.${2 * i}`, fanIn, H);
    fanIn = H;
  }
  lin('final_layer', H, A);
  return out;
}

/** Twin-critic parameter names and shapes, in `criticNamedParams` order. */
export function ofqlCriticShapes(prefix: string, c: Dims): Array<[string, number[]]> {
  const out: Array<[string, number[]]> = [];
  for (const q of ['q1_model', 'q2_model']) {
    let fanIn = c.obsDim + c.actDim;
    for (let i = 0; i <= c.depth; i++) {
      const o = i === c.depth ? 1 : c.hiddenDim;
      out.push([`${prefix}.${q}.${2 * i}.weight`, [fanIn, o]], [`${prefix}.${q}.${2 * i}.bias`, [o]]);
      fanIn = o;
    }
  }
  return out;
}

/** Every tensor of model.safetensors for a config: actor, ema_actor, critic, critic_target. */
export function ofqlModelShapes(c: Dims): Array<[string, number[]]> {
  return [...ofqlActorShapes('actor', c), ...ofqlActorShapes('ema_actor', c), ...ofqlCriticShapes('critic', c), ...ofqlCriticShapes('critic_target', c)];
}

/** Every tensor of optimizer.safetensors for a config. */
export function ofqlOptimizerShapes(c: Dims): Array<[string, number[]]> {
  const out: Array<[string, number[]]> = [];
  const group = (opt: string, params: Array<[string, number[]]>) => {
    out.push([`${opt}.step`, []]);
    for (const [name, shape] of params) out.push([`${opt}.${name}.exp_avg`, shape], [`${opt}.${name}.exp_avg_sq`, shape]);
  };
  group('actor_optim', ofqlActorShapes('actor', c));
  group('critic_optim', ofqlCriticShapes('critic', c));
  return out;
}

const FLOAT_DTYPES: readonly Dtype[] = ['F32', 'F16', 'BF16', 'F64'];

// ---------------------------------------------------------------------------------------------
// Save
// ---------------------------------------------------------------------------------------------

/** config.json of an OFQL checkpoint. */
export interface OfqlCheckpointConfig extends CheckpointConfig {
  format: typeof OFQL_CHECKPOINT_FORMAT;
  formatVersion: number;
  /** The full OfqlConfig the networks were built with. */
  ofql: OfqlConfig;
  /** Environment / dataset id the agent was trained for (e.g. 'hopper-medium-v2'), if known. */
  envId?: string;
  /** Gradient steps taken when the checkpoint was written. */
  step: number;
  /** The agent's seed, if the trainer passed it. */
  seed?: number;
  weightLayout: 'in-out';
  /** "ofql-eval <version>". */
  producer: string;
  /** Free-form description of the training data (path, sha256, size, ...). */
  dataset?: JsonValue;
}

export interface SaveOfqlCheckpointOptions {
  /** Trainer step to record (config.json and trainer-state.json). Default: agent.step. */
  step?: number;
  /** Also write optimizer.safetensors + trainer-state.json (a resumable checkpoint). */
  includeTrainingState: boolean;
  /**
   * Extra JSON fields for trainer-state.json (epoch, data-sampler RNG via rngStateToJson, ...).
   * Only written with includeTrainingState. Keys `step`, `agentStep`, `agentRng` are reserved.
   */
  trainerState?: Record<string, JsonValue | undefined>;
  envId?: string;
  /** Free-form JSON (config.json `dataset`). */
  datasetInfo?: JsonValue;
  /** Seed the agent was created with (config.json `seed`; informational). */
  seed?: number;
  /** fsync files (default true; tests may turn it off). */
  fsync?: boolean;
}

const RESERVED_TRAINER_KEYS = ['step', 'agentStep', 'agentRng'] as const;

/** ofql-eval's version (src/package-version.ts), under the name this module has always exported. */
export { packageVersion as ofqlEvalVersion };

function f32(named: ReadonlyMap<string, NamedArray>): Map<string, TensorInput> {
  const out = new Map<string, TensorInput>();
  for (const [name, a] of named) out.set(name, { dtype: 'F32', shape: a.shape, data: a.data });
  return out;
}

/**
 * Write `agent` to the checkpoint directory `dir` atomically (writeCheckpointDir). With
 * includeTrainingState the checkpoint is resumable: Adam state (step counters as I64) and the
 * agent's step + RNG state (plus the trainer's own fields) are written too.
 */
export async function saveOfqlCheckpoint(dir: string, agent: OfqlAgent, options: SaveOfqlCheckpointOptions): Promise<void> {
  const step = options.step ?? agent.step;
  if (!Number.isSafeInteger(step) || step < 0) {
    throw new CheckpointError({ code: 'write', file: dir, field: 'step', detail: `must be a non-negative integer, got ${String(step)}` });
  }
  const config: OfqlCheckpointConfig = {
    format: OFQL_CHECKPOINT_FORMAT,
    formatVersion: OFQL_CHECKPOINT_FORMAT_VERSION,
    ofql: { ...agent.config },
    envId: options.envId,
    step,
    seed: options.seed,
    weightLayout: 'in-out',
    producer: `ofql-eval ${packageVersion()}`,
    dataset: options.datasetInfo,
  };
  const tensors = f32(agent.namedTensors());
  const metadata = { weight_layout: 'in-out', producer: config.producer, format: OFQL_CHECKPOINT_FORMAT };
  if (!options.includeTrainingState) {
    await writeCheckpointDir(dir, { config, tensors, metadata }, { fsync: options.fsync });
    return;
  }
  const extra = options.trainerState ?? {};
  for (const k of RESERVED_TRAINER_KEYS) {
    if (k in extra) {
      throw new CheckpointError({ code: 'write', file: dir, field: `trainerState.${k}`, detail: 'is reserved (written by saveOfqlCheckpoint)' });
    }
  }
  const ts = agent.getTrainingState();
  const trainerState = { ...extra, step, agentStep: ts.step, agentRng: rngStateToJson(ts.rng) };
  const opt = await agent.getOptimizerState();
  const optimizer = new Map<string, TensorInput>();
  for (const [name, a] of opt) {
    if (name.endsWith('.step') && a.shape.length === 0) {
      optimizer.set(name, { dtype: 'I64', shape: [], data: BigInt64Array.of(BigInt(Math.round(a.data[0]!))) });
    } else {
      optimizer.set(name, { dtype: 'F32', shape: a.shape, data: a.data });
    }
  }
  await writeCheckpointDir(dir, { config, tensors, metadata, optimizer, trainerState }, { fsync: options.fsync });
}

// ---------------------------------------------------------------------------------------------
// Load
// ---------------------------------------------------------------------------------------------

export interface LoadOfqlCheckpointOptions {
  /** Require and restore the resume state (Adam, agent step and RNG). Default false (evaluation). */
  forResume?: boolean;
  /** Seed for createOfqlAgent (only matters for draws not restored from the checkpoint). Default: config.seed ?? 0. */
  seed?: number;
  /** Evaluation-time overrides of the stored config (which actor `act` uses, candidates). */
  overrides?: Partial<Pick<OfqlConfig, 'evalActor' | 'evalCandidates'>>;
  /** Makes the agent the checkpoint is loaded into (src/engine agentFactory); default the TF.js agent on the active backend. */
  makeAgent?: (config: OfqlConfig, seed: number) => OfqlAgent;
}

export interface LoadedOfqlCheckpoint {
  /** Absolute directory read (for a training run directory: the step-N/ directory it names). */
  dir: string;
  /** How `dir` was found from the path given (src/checkpoint/run-dir.ts). */
  source: ResolvedCheckpointDir;
  /** The OfqlConfig the agent was built with (after overrides). */
  config: OfqlConfig;
  /** config.json as stored. */
  checkpointConfig: OfqlCheckpointConfig;
  /** A fresh agent holding the checkpoint's weights (and, forResume, its optimizer / RNG state). */
  agent: OfqlAgent;
  /** config.json `step`. */
  step: number;
  envId?: string;
  /** trainer-state.json as stored (forResume only); the trainer's own fields are here. */
  trainerState?: Record<string, unknown> & { step: number };
}

/** Check config.json's `ofql` and return a validated OfqlConfig (CheckpointError 'config' naming `ofql.<field>`). */
export function ofqlConfigFromCheckpoint(config: CheckpointConfig, file: string): OfqlConfig {
  const raw = config.ofql;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new CheckpointError({ code: 'config', file, field: 'ofql', detail: `missing or not an object; expected the full OfqlConfig (obsDim, actDim, hiddenDim, ...)` });
  }
  const r = raw as Record<string, unknown>;
  for (const k of ['obsDim', 'actDim'] as const) {
    if (!(k in r)) throw new CheckpointError({ code: 'config', file, field: `ofql.${k}`, detail: 'missing' });
  }
  // Known fields only; fields absent from an older writer take today's defaults.
  const known = new Set<string>([...Object.keys(OFQL_DEFAULTS), 'obsDim', 'actDim', 'gradNorm']);
  const picked: Record<string, unknown> = { ...OFQL_DEFAULTS };
  for (const [k, v] of Object.entries(r)) if (known.has(k)) picked[k] = v;
  if (picked.gradNorm === null) picked.gradNorm = undefined;
  const cfg = picked as unknown as OfqlConfig;
  try {
    validateConfig(cfg);
  } catch (e) {
    if (e instanceof OfqlConfigError) {
      throw new CheckpointError({ code: 'config', file, field: `ofql.${e.field}`, detail: e.message.replace(/^OfqlConfig\.\S+: /, '') }, { cause: e });
    }
    throw e;
  }
  return cfg;
}

function toNamedArrays(tensors: ReadonlyMap<string, Tensor>, file: string): Map<string, NamedArray> {
  const out = new Map<string, NamedArray>();
  for (const [name, a] of toFloat32Map(tensors, file)) out.set(name, { data: a.data instanceof Float32Array ? a.data : Float32Array.from(a.data), shape: a.shape });
  return out;
}

function specOf(list: Array<[string, number[]]>, stepDtypes?: readonly Dtype[]): Map<string, ShapeSpec> {
  return new Map(list.map(([n, s]) => [n, { shape: s, dtype: stepDtypes && n.endsWith('.step') && s.length === 0 ? stepDtypes : FLOAT_DTYPES }]));
}

/**
 * Read an OFQL checkpoint directory (or the checkpoint a training run directory, `<run>@N` or
 * `<run>/latest` names: src/checkpoint/run-dir.ts), validate it completely and build an agent from it.
 * forResume: the checkpoint must be resumable; Adam state, agent step and agent RNG are restored,
 * so the next trainStep equals the one the saving process would have taken.
 * Every problem is a CheckpointError naming the file (and the field / tensor).
 */
export async function loadOfqlCheckpoint(dir: string, options: LoadOfqlCheckpointOptions = {}): Promise<LoadedOfqlCheckpoint> {
  const forResume = options.forResume ?? false;
  const ckpt: Checkpoint = await readCheckpointDir(dir, {
    format: OFQL_CHECKPOINT_FORMAT,
    maxFormatVersion: OFQL_CHECKPOINT_FORMAT_VERSION,
    loadOptimizer: forResume,
  });
  const configPath = join(ckpt.dir, CHECKPOINT_FILES.config);
  const modelPath = join(ckpt.dir, CHECKPOINT_FILES.model);
  let cfg = ofqlConfigFromCheckpoint(ckpt.config, configPath);
  if (options.overrides) {
    cfg = { ...cfg, ...options.overrides };
    validateConfig(cfg);
  }
  const stored = ckpt.config as OfqlCheckpointConfig;
  const step = stored.step;
  if (!Number.isSafeInteger(step) || step < 0) {
    throw new CheckpointError({ code: 'config', file: configPath, field: 'step', detail: `must be a non-negative integer, got ${JSON.stringify(step)}` });
  }
  if (stored.envId !== undefined && typeof stored.envId !== 'string') {
    throw new CheckpointError({ code: 'config', file: configPath, field: 'envId', detail: `must be a string, got ${JSON.stringify(stored.envId)}` });
  }
  expectTensors(ckpt.tensors, specOf(ofqlModelShapes(cfg)), { file: modelPath, exact: true });
  const weights = toNamedArrays(ckpt.tensors, modelPath);

  let optimizer: Map<string, NamedArray> | undefined;
  let trainerState: (Record<string, unknown> & { step: number }) | undefined;
  let agentState: { step: number; rng: number[] } | undefined;
  if (forResume) {
    requireResumable(ckpt);
    const optPath = join(ckpt.dir, CHECKPOINT_FILES.optimizer);
    const statePath = join(ckpt.dir, CHECKPOINT_FILES.trainerState);
    expectTensors(ckpt.optimizer, specOf(ofqlOptimizerShapes(cfg), ['I64', 'I32', 'F32', 'F64']), { file: optPath, exact: true });
    optimizer = new Map();
    for (const [name, t] of ckpt.optimizer) {
      if (name.endsWith('.step') && t.shape.length === 0) {
        const v = Number(t.data[0]!);
        if (!Number.isSafeInteger(v) || v < 0) {
          throw new CheckpointError({ code: 'value', file: optPath, field: `tensor '${name}'`, detail: `Adam step must be a non-negative integer, got ${v}` });
        }
        optimizer.set(name, { data: Float32Array.of(v), shape: [] });
      } else {
        optimizer.set(name, toNamedArrays(new Map([[name, t]]), optPath).get(name)!);
      }
    }
    const ts = ckpt.trainerState as Record<string, unknown> & { step: number };
    const agentStep = ts.agentStep ?? ts.step;
    if (typeof agentStep !== 'number' || !Number.isSafeInteger(agentStep) || agentStep < 0) {
      throw new CheckpointError({ code: 'trainer-state', file: statePath, field: 'agentStep', detail: `must be a non-negative integer, got ${JSON.stringify(agentStep)}` });
    }
    if (!('agentRng' in ts)) throw new CheckpointError({ code: 'trainer-state', file: statePath, field: 'agentRng', detail: 'missing (the agent RNG state is needed to resume exactly)' });
    const rng = rngStateFromJson(ts.agentRng, statePath, 'agentRng');
    if (rng.length !== 5) throw new CheckpointError({ code: 'trainer-state', file: statePath, field: 'agentRng', detail: `expected 5 entries, got ${rng.length}` });
    agentState = { step: agentStep, rng };
    trainerState = ts;
  }

  const makeAgent = options.makeAgent ?? (await import('./train-step.js')).createOfqlAgent;
  const seed = options.seed ?? (typeof stored.seed === 'number' && Number.isSafeInteger(stored.seed) && stored.seed >= 0 ? stored.seed : 0);
  const agent = makeAgent(cfg, seed);
  try {
    agent.loadNamedTensors(weights);
    if (optimizer) await agent.setOptimizerState(optimizer);
    if (agentState) agent.setTrainingState(agentState);
  } catch (e) {
    agent.dispose();
    throw e;
  }
  return { dir: ckpt.dir, source: ckpt.source, config: cfg, checkpointConfig: stored, agent, step, envId: stored.envId, trainerState };
}

/**
 * obsDim / actDim of config.json against its own envId's spaces: an edited or mixed-up config
 * would otherwise surface as a list of tensor-shape mismatches that does not name the cause.
 */
function checkDimsOfEnv(config: OfqlConfig, envId: unknown, configPath: string): void {
  if (typeof envId !== 'string') return;
  let dims: { observationSize: number; actionSize: number } | undefined;
  try {
    dims = envDims(envId);
  } catch {
    return; // an env id this version does not know: nothing to compare with
  }
  if (dims === undefined) return;
  for (const [field, have, want, what] of [
    ['obsDim', config.obsDim, dims.observationSize, 'observations'],
    ['actDim', config.actDim, dims.actionSize, 'action entries'],
  ] as const) {
    if (have !== want) {
      throw new CheckpointError({
        code: 'config',
        file: configPath,
        field: `ofql.${field}`,
        detail: `is ${have}, but the checkpoint's envId ${envId} has ${want} ${what}; config.json was edited or belongs to another checkpoint`,
      });
    }
  }
}

/**
 * Check an OFQL checkpoint for evaluation without building an agent (no TensorFlow.js): the format,
 * the OfqlConfig and every model tensor's name and shape. Returns what config.json says.
 */
export async function validateOfqlCheckpoint(
  dir: string,
): Promise<{ dir: string; source: ResolvedCheckpointDir; config: OfqlConfig; envId?: string; step: number; resumable: boolean }> {
  const { ckpt, ...checked } = await readValidated(dir);
  return { ...checked, resumable: ckpt.resumable };
}

/** Read and check an OFQL checkpoint once (format, config, every tensor), keeping what was read. */
async function readValidated(dir: string): Promise<{ ckpt: Checkpoint; dir: string; source: ResolvedCheckpointDir; config: OfqlConfig; envId?: string; step: number }> {
  const ckpt = await readCheckpointDir(dir, { format: OFQL_CHECKPOINT_FORMAT, maxFormatVersion: OFQL_CHECKPOINT_FORMAT_VERSION, loadOptimizer: false });
  const configPath = join(ckpt.dir, CHECKPOINT_FILES.config);
  const config = ofqlConfigFromCheckpoint(ckpt.config, configPath);
  checkDimsOfEnv(config, (ckpt.config as OfqlCheckpointConfig).envId, configPath);
  expectTensors(ckpt.tensors, specOf(ofqlModelShapes(config)), { file: join(ckpt.dir, CHECKPOINT_FILES.model), exact: true });
  const c = ckpt.config as OfqlCheckpointConfig;
  if (c.envId !== undefined && typeof c.envId !== 'string') {
    throw new CheckpointError({ code: 'config', file: configPath, field: 'envId', detail: `must be a string, got ${JSON.stringify(c.envId)}` });
  }
  return { ckpt, dir: ckpt.dir, source: ckpt.source, config, envId: c.envId, step: c.step };
}

/**
 * The networks of an OFQL checkpoint as plain float32 arrays (our [in, out] layout), validated like
 * validateOfqlCheckpoint, without starting a tensor engine (e.g. for the ONNX export).
 */
export async function readOfqlModel(dir: string): Promise<{ dir: string; config: OfqlConfig; envId?: string; step: number; weights: Map<string, NamedArray> }> {
  const { ckpt, config, envId, step } = await readValidated(dir);
  return { dir: ckpt.dir, config, envId, step, weights: toNamedArrays(ckpt.tensors, join(ckpt.dir, CHECKPOINT_FILES.model)) };
}

/** Read only config.json of an OFQL checkpoint (cheap; e.g. to find its envId). A training run directory reads the checkpoint it names. */
export async function readOfqlCheckpointConfig(
  dir: string,
): Promise<{ dir: string; source: ResolvedCheckpointDir; config: OfqlConfig; checkpointConfig: OfqlCheckpointConfig }> {
  const { readFile } = await import('node:fs/promises');
  const source = resolveCheckpointDir(dir);
  const path = join(source.dir, CHECKPOINT_FILES.config);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new CheckpointError({ code: 'not-found', file: path, detail: `cannot read (${(e as Error).message}); a checkpoint directory holds ${CHECKPOINT_FILES.config} and ${CHECKPOINT_FILES.model}` }, { cause: e });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new CheckpointError({ code: 'config', file: path, detail: `not valid JSON (${(e as Error).message})` }, { cause: e });
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new CheckpointError({ code: 'config', file: path, detail: 'must hold a JSON object' });
  const c = json as OfqlCheckpointConfig;
  if (c.format !== OFQL_CHECKPOINT_FORMAT) {
    throw new CheckpointError({ code: 'config', file: path, field: 'format', detail: `is ${JSON.stringify(c.format)}, expected ${JSON.stringify(OFQL_CHECKPOINT_FORMAT)}` });
  }
  return { dir: source.dir, source, config: ofqlConfigFromCheckpoint(c, path), checkpointConfig: c };
}

// ---------------------------------------------------------------------------------------------
// PyTorch import (OFQL state dicts with DQL-style module names)
// ---------------------------------------------------------------------------------------------

/**
 * Torch name -> ours for a PyTorch OFQL agent written in DQL's module layout:
 *   actor.model.{time_mlp,r_time_mlp,mid_layer,final_layer}.*      -> actor.{t_embed,r_embed,mid_layer,final_layer}.*
 *   ema_model.model.*                                             -> ema_actor.*
 *   critic.q{1,2}_model.*, critic_target.q{1,2}_model.*           -> the same names
 * `time_mlp` is DQL's t embedding; `r_time_mlp` (alias `r_mlp`) is the second (r) embedding OFQL adds.
 * A state dict without the EMA actor fills `ema_actor.*` from `actor.*`; one without the target
 * critic fills `critic_target.*` from `critic.*` (DQL's save_model saves neither).
 */
export function ofqlTorchName(torchName: string, has: { ema: boolean; target: boolean }): string[] | undefined {
  const actorPart = (rest: string): string | undefined => {
    const m = /^(time_mlp|r_time_mlp|r_mlp|mid_layer|final_layer)\.(.+)$/.exec(rest);
    if (!m) return undefined;
    const mod = m[1] === 'time_mlp' ? 't_embed' : m[1] === 'r_time_mlp' || m[1] === 'r_mlp' ? 'r_embed' : m[1];
    return `${mod}.${m[2]}`;
  };
  for (const [from, ours, isActor] of [
    ['actor.model.', 'actor', true],
    ['ema_model.model.', 'ema_actor', true],
    ['critic_target.', 'critic_target', false],
    ['critic.', 'critic', false],
  ] as const) {
    if (!torchName.startsWith(from)) continue;
    const rest = torchName.slice(from.length);
    const mapped = isActor ? actorPart(rest) : /^q[12]_model\.\d+\.(weight|bias)$/.test(rest) ? rest : undefined;
    if (mapped === undefined) return undefined;
    const names = [`${ours}.${mapped}`];
    if (ours === 'actor' && !has.ema) names.push(`ema_actor.${mapped}`);
    if (ours === 'critic' && !has.target) names.push(`critic_target.${mapped}`);
    return names;
  }
  return undefined;
}

/** DQL's diffusion-schedule buffers (ignored on import). */
export const DQL_SCHEDULE_BUFFERS =
  /^(actor\.|ema_model\.)?(betas|alphas_cumprod|alphas_cumprod_prev|sqrt_alphas_cumprod|sqrt_one_minus_alphas_cumprod|log_one_minus_alphas_cumprod|sqrt_recip_alphas_cumprod|sqrt_recipm1_alphas_cumprod|posterior_variance|posterior_log_variance_clipped|posterior_mean_coef1|posterior_mean_coef2)$/;

/**
 * Import a PyTorch OFQL agent state dict (DQL-style names, see ofqlTorchName; Linear weights
 * [out, in]) into our names and layout, checked against `cfg`'s shapes. The result can go
 * straight into agent.loadNamedTensors. Unmapped tensors, missing ones and wrong shapes are
 * CheckpointErrors listing all of them.
 */
export function importOfqlTorchStateDict(
  stateDict: ReadonlyMap<string, Tensor>,
  cfg: Dims,
  source = '(state dict)',
): { tensors: Map<string, NamedArray>; result: TorchImportResult } {
  const names = [...stateDict.keys()];
  const has = { ema: names.some((n) => n.startsWith('ema_model.')), target: names.some((n) => n.startsWith('critic_target.')) };
  const result = importTorchStateDict(stateDict, {
    names: (n) => ofqlTorchName(n, has),
    ignore: [DQL_SCHEDULE_BUFFERS],
    source,
  });
  expectTensors(result.tensors, specOf(ofqlModelShapes(cfg)), { file: `${source} (after renaming to our names)`, exact: true });
  return { tensors: toNamedArrays(result.tensors, source), result };
}

/** readSafetensorsFile + importOfqlTorchStateDict. */
export async function importOfqlTorchSafetensors(path: string, cfg: Dims): Promise<{ tensors: Map<string, NamedArray>; result: TorchImportResult }> {
  const { tensors } = await readSafetensorsFile(path, { checkFinite: true });
  return importOfqlTorchStateDict(tensors, cfg, path);
}
