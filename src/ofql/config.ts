/**
 * OFQL hyper-parameters: one typed object with the paper's / DQL's defaults.
 *
 * Sources (see also docs/reference.md §4 and §5):
 * - [DQL-model]  Zhendong-Wang/Diffusion-Policies-for-Offline-RL agents/model.py (MLP, time_mlp, t_dim=16)
 * - [DQL-agent]  same repo, agents/ql_diffusion.py (Critic, Diffusion_QL.__init__ defaults, train())
 * - [DQL-main]   same repo, main.py (`hyperparameters` per-task table; argparse defaults)
 * - [DQL-helpers] same repo, agents/helpers.py (SinusoidalPosEmb, EMA)
 * - [OFQL]       Nguyen & Yoo, "One-Step Flow Q-Learning" (arXiv 2508.13904), as summarised in
 *                docs/reference.md §5 (logit-normal(-0.4, 1.0), flow ratio 0.5, second time embedding).
 * - [MeanFlow]   Geng et al. 2025, "Mean Flows for One-step Generative Modeling" (arXiv 2505.13447);
 *                PyTorch reproduction zhuyu-cs/MeanFlow loss.py (sampling of (r, t), JVP tangent (v, 0, 1)).
 */

/** How the flow-ratio fraction of pairs with r = t is chosen in a batch. */
export type FlowRatioSampling =
  /** exactly round(flowRatio * B) samples, chosen by a random permutation (docs/reference.md §5: "half of the pairs"). */
  | 'fixed-count'
  /** each sample independently with probability flowRatio (zhuyu-cs/MeanFlow loss.py uses a per-sample mask). */
  | 'bernoulli';

/** Reduction of the behaviour (average-velocity) loss. */
export type BcReduction =
  /** mean over batch AND action dimensions: DQL's WeightedL2 `.mean()` [DQL-helpers]; eta was tuned against it. */
  | 'mean'
  /** squared L2 norm over action dims, mean over the batch: MeanFlow's `||error||^2` per sample. */
  | 'sum-action-mean-batch';

/** What the EMA actor does before `emaStartStep`. */
export type EmaWarmup =
  /**
   * DQL [DQL-agent] `step_ema`: `if self.step < self.step_start_ema: return` -- the EMA copy keeps
   * the *initial* weights (it is a deepcopy made in __init__) until step 1000.
   */
  | 'hold-initial'
  /**
   * Copy the online weights at every EMA tick before the start step, as the diffusion `Trainer`
   * lineage does (jannerm/diffuser, lucidrains/denoising-diffusion-pytorch: `step_ema` calls
   * `reset_parameters()` = `ema_model.load_state_dict(model.state_dict())` while step < step_start_ema).
   */
  | 'copy';

export interface OfqlConfig {
  /** State dimension (e.g. 17 for halfcheetah / walker2d, 11 for hopper). */
  obsDim: number;
  /** Action dimension (6 for halfcheetah / walker2d, 3 for hopper). */
  actDim: number;
  /** Hidden width of every MLP layer: 256 [DQL-model] mid_layer, [DQL-agent] Critic hidden_dim. */
  hiddenDim: number;
  /** Number of [Linear hidden, Mish] blocks in actor and each critic: 3 [DQL-model], [DQL-agent]. */
  depth: number;
  /**
   * Time-embedding width E: SinusoidalPosEmb(E) -> Linear(E, 2E) -> Mish -> Linear(2E, E), one for t
   * and one for r [OFQL]. Default 64, the OFQL paper's (appendix B, docs/reference.md §8); DQL's
   * code uses 16 [DQL-model] (`t_dim=16`): `--preset dql`.
   */
  timeEmbDim: number;
  /**
   * t is multiplied by this before the sinusoidal embedding. DQL feeds integer diffusion steps
   * 0..T-1; OFQL's t lives in [0, 1] and the paper does not say whether it is rescaled (some
   * MeanFlow code multiplies by 1000). Default 1 = feed t as is. Ambiguous; see report.
   */
  timeScale: number;
  /** Discount 0.99 [DQL-main] `--discount`. */
  discount: number;
  /** Target-critic soft update rate 0.005, every step [DQL-main] `--tau`, [DQL-agent] train(). */
  tau: number;
  /** Actor Adam learning rate 3e-4 [DQL-main] table `lr` (3e-4 on locomotion). */
  actorLr: number;
  /** Critic Adam learning rate 3e-4; hard-coded in [DQL-agent] (`lr=3e-4` for critic_optimizer). */
  criticLr: number;
  /**
   * Adam epsilon. PyTorch's default is 1e-8; tf.train.adam's default would be 1e-7 (float32
   * backend epsilon), so we set PyTorch's explicitly.
   */
  adamEpsilon: number;
  /** Batch size 256 [DQL-main] `--batch_size`. */
  batchSize: number;
  /** EMA decay 0.995 [DQL-agent] `ema_decay`. */
  emaDecay: number;
  /** EMA tick every 5 gradient steps [DQL-agent] `update_ema_every`. */
  emaEvery: number;
  /** First step at which the EMA is updated: 1000 [DQL-agent] `step_start_ema`. */
  emaStartStep: number;
  /** Behaviour before `emaStartStep`; default DQL's ('hold-initial'). */
  emaWarmup: EmaWarmup;
  /**
   * Q-loss weight eta. Default 0.01, from the OFQL paper's per-task grid {0.001, 0.01, 0.1, 0.3, 0.5}
   * (docs/reference.md §8; the paper publishes no per-task choice); DQL's table has 1.0 on every
   * locomotion task [DQL-main] (`--preset dql`). Why 0.01 of the grid: docs/hyper-parameters.md.
   */
  eta: number;
  /**
   * Max global gradient norm for both actor and critic (`gn` [DQL-main]); 0 or undefined = no clipping
   * (DQL: `if self.grad_norm > 0`).
   */
  gradNorm?: number;
  /** Logit-normal location for (t, r): -0.4 [OFQL]/[MeanFlow]. */
  logitNormalMean: number;
  /** Logit-normal scale for (t, r): 1.0 [OFQL]/[MeanFlow]. */
  logitNormalStd: number;
  /** Fraction of pairs with r = t (plain flow matching): 0.5 [OFQL] (ablation: 1.0 and 0 are worse). */
  flowRatio: number;
  /** How that fraction is realised; see FlowRatioSampling. */
  flowRatioSampling: FlowRatioSampling;
  /** Behaviour-loss reduction; see BcReduction. Default DQL's mean over all elements. */
  bcReduction: BcReduction;
  /** Max-Q backup (AntMaze in DQL) [DQL-agent]: `maxQBackupSamples` next actions, max per critic, then min. */
  maxQBackup: boolean;
  /** Number of next actions for the max-Q backup: 10 [DQL-agent] (`repeats=10`). */
  maxQBackupSamples: number;
  /** Action bound: actions are clipped to [-maxAction, maxAction] (1.0 for D4RL locomotion). */
  maxAction: number;
  /**
   * Clip one-step actions to [-maxAction, maxAction] also during training (critic target a' and
   * actor a_new). DQL's Diffusion.sample ends with `action.clamp_(-max_action, max_action)` and
   * both uses go through it ([DQL-agent] `self.ema_model(next_state)`, `self.actor(state)`).
   */
  clipTrainActions: boolean;
  /** Number of candidate actions per state at evaluation (DQL sample_action: 50, softmax over target min-Q). */
  evalCandidates: number;
  /** Which actor `act` uses: the EMA actor (default here) or the online actor (DQL's sample_action uses self.actor). */
  evalActor: 'ema' | 'online';
  /**
   * false = behaviour cloning only (needs eta = 0): the critics are neither trained nor used, so a
   * step is the actor's BC update alone (about half the cost). The reference "BC (eta = 0)" runs use
   * it; their checkpoints support only the one-step sampler (no trained critic to rank actions).
   */
  trainCritic: boolean;
}

/** The values of the choice fields (validateConfig and the train flags use these). */
export const FLOW_RATIO_SAMPLINGS = ['fixed-count', 'bernoulli'] as const satisfies readonly FlowRatioSampling[];
export const BC_REDUCTIONS = ['mean', 'sum-action-mean-batch'] as const satisfies readonly BcReduction[];
export const EMA_WARMUPS = ['hold-initial', 'copy'] as const satisfies readonly EmaWarmup[];
export const EVAL_ACTORS = ['ema', 'online'] as const;

/** Defaults without the environment-dependent dimensions. */
export const OFQL_DEFAULTS: Omit<OfqlConfig, 'obsDim' | 'actDim'> = Object.freeze({
  hiddenDim: 256,
  depth: 3,
  timeEmbDim: 64,
  timeScale: 1,
  discount: 0.99,
  tau: 0.005,
  actorLr: 3e-4,
  criticLr: 3e-4,
  adamEpsilon: 1e-8,
  batchSize: 256,
  emaDecay: 0.995,
  emaEvery: 5,
  emaStartStep: 1000,
  emaWarmup: 'hold-initial' as EmaWarmup,
  eta: 0.01,
  gradNorm: undefined,
  logitNormalMean: -0.4,
  logitNormalStd: 1.0,
  flowRatio: 0.5,
  flowRatioSampling: 'fixed-count' as FlowRatioSampling,
  bcReduction: 'mean' as BcReduction,
  maxQBackup: false,
  maxQBackupSamples: 10,
  maxAction: 1.0,
  clipTrainActions: true,
  evalCandidates: 50,
  evalActor: 'ema' as const,
  trainCritic: true,
});

/** One row of DQL's per-task table [DQL-main] `hyperparameters`. */
export interface DqlTaskHyperparameters {
  /** Actor learning rate (the critic stays at 3e-4). */
  lr: number;
  /** Q-loss weight. */
  eta: number;
  maxQBackup: boolean;
  /** DQL reward preprocessing: 'no', 'cql_antmaze' (r - 1), 'normalize' (by return range). */
  rewardTune: 'no' | 'cql_antmaze' | 'normalize';
  evalFreq: number;
  numEpochs: number;
  /** Max gradient norm. */
  gn: number;
  /** Offline model-selection rank (DQL's `--ms offline`). */
  topK: number;
}

const row = (
  lr: number,
  eta: number,
  maxQBackup: boolean,
  rewardTune: DqlTaskHyperparameters['rewardTune'],
  numEpochs: number,
  gn: number,
  topK: number,
): DqlTaskHyperparameters => Object.freeze({ lr, eta, maxQBackup, rewardTune, evalFreq: 50, numEpochs, gn, topK });

/**
 * DQL's per-task hyper-parameters, transcribed from [DQL-main] `hyperparameters` (commit 35481c7).
 * The locomotion `gn` column matches docs/reference.md §4. OFQL reuses DQL's settings
 * (docs/reference.md §5: "Critic and actor losses as DQL"); the OFQL paper's own per-task
 * table, if it differs, was not available to us.
 */
export const DQL_TASK_HYPERPARAMETERS: Readonly<Record<string, DqlTaskHyperparameters>> = Object.freeze({
  'halfcheetah-medium-v2': row(3e-4, 1.0, false, 'no', 2000, 9.0, 1),
  'hopper-medium-v2': row(3e-4, 1.0, false, 'no', 2000, 9.0, 2),
  'walker2d-medium-v2': row(3e-4, 1.0, false, 'no', 2000, 1.0, 1),
  'halfcheetah-medium-replay-v2': row(3e-4, 1.0, false, 'no', 2000, 2.0, 0),
  'hopper-medium-replay-v2': row(3e-4, 1.0, false, 'no', 2000, 4.0, 2),
  'walker2d-medium-replay-v2': row(3e-4, 1.0, false, 'no', 2000, 4.0, 1),
  'halfcheetah-medium-expert-v2': row(3e-4, 1.0, false, 'no', 2000, 7.0, 0),
  'hopper-medium-expert-v2': row(3e-4, 1.0, false, 'no', 2000, 5.0, 2),
  'walker2d-medium-expert-v2': row(3e-4, 1.0, false, 'no', 2000, 5.0, 1),
  'antmaze-umaze-v0': row(3e-4, 0.5, false, 'cql_antmaze', 1000, 2.0, 2),
  'antmaze-umaze-diverse-v0': row(3e-4, 2.0, true, 'cql_antmaze', 1000, 3.0, 2),
  'antmaze-medium-play-v0': row(1e-3, 2.0, true, 'cql_antmaze', 1000, 2.0, 1),
  'antmaze-medium-diverse-v0': row(3e-4, 3.0, true, 'cql_antmaze', 1000, 1.0, 1),
  'antmaze-large-play-v0': row(3e-4, 4.5, true, 'cql_antmaze', 1000, 10.0, 2),
  'antmaze-large-diverse-v0': row(3e-4, 3.5, true, 'cql_antmaze', 1000, 7.0, 1),
  'pen-human-v1': row(3e-5, 0.15, false, 'normalize', 1000, 7.0, 2),
  'pen-cloned-v1': row(3e-5, 0.1, false, 'normalize', 1000, 8.0, 2),
  'kitchen-complete-v0': row(3e-4, 0.005, false, 'no', 250, 9.0, 2),
  'kitchen-partial-v0': row(3e-4, 0.005, false, 'no', 1000, 10.0, 2),
  'kitchen-mixed-v0': row(3e-4, 0.005, false, 'no', 1000, 10.0, 0),
});

export class OfqlConfigError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`OfqlConfig.${field}: ${message}`);
    this.name = 'OfqlConfigError';
  }
}

/** DQL's row for a D4RL id (case-insensitive, e.g. `hopper-medium-v2`), or throws listing the known ids. */
export function dqlTaskHyperparameters(d4rlId: string): DqlTaskHyperparameters {
  const key = d4rlId.trim().toLowerCase();
  const hp = DQL_TASK_HYPERPARAMETERS[key];
  if (!hp) {
    throw new OfqlConfigError(
      'task',
      `no DQL hyper-parameters for '${d4rlId}'; known ids: ${Object.keys(DQL_TASK_HYPERPARAMETERS).join(', ')}`,
    );
  }
  return hp;
}

/** Per-task max gradient norm `gn` [DQL-main]; docs/reference.md §4 lists the locomotion ones. */
export function gradNormForTask(d4rlId: string): number {
  return dqlTaskHyperparameters(d4rlId).gn;
}

/** Build a config from defaults plus overrides and validate it. */
export function makeOfqlConfig(
  dims: { obsDim: number; actDim: number },
  overrides: Partial<OfqlConfig> = {},
): OfqlConfig {
  const cfg: OfqlConfig = { ...OFQL_DEFAULTS, ...dims, ...overrides };
  validateConfig(cfg);
  return cfg;
}

/**
 * Whose values a fresh config takes where the OFQL paper and DQL's code differ (time embedding
 * width, eta; docs/hyper-parameters.md): 'ofql' (default) the paper's, 'dql' DQL's.
 */
export const HYPER_PARAM_PRESETS = ['ofql', 'dql'] as const;
export type HyperParamPreset = (typeof HYPER_PARAM_PRESETS)[number];

/** DQL's values of the fields where the OFQL paper differs (a task's DQL row also sets its eta). */
export const DQL_PRESET: Readonly<Pick<OfqlConfig, 'timeEmbDim' | 'eta'>> = Object.freeze({ timeEmbDim: 16, eta: 1.0 });

/** The values `preset` puts over OFQL_DEFAULTS (nothing for 'ofql'). */
export function presetValues(preset: HyperParamPreset, hp?: DqlTaskHyperparameters): Partial<OfqlConfig> {
  return preset === 'dql' ? { ...DQL_PRESET, ...(hp ? { eta: hp.eta } : {}) } : {};
}

/**
 * Config for a D4RL task: DQL's per-task actor lr, gn and max-Q backup flag on top of the
 * defaults (the critic lr stays 3e-4 as in DQL); with preset 'dql' also DQL's eta and time
 * embedding. Overrides win.
 */
export function ofqlConfigForTask(
  d4rlId: string,
  dims: { obsDim: number; actDim: number },
  overrides: Partial<OfqlConfig> = {},
  preset: HyperParamPreset = 'ofql',
): OfqlConfig {
  const hp = dqlTaskHyperparameters(d4rlId);
  return makeOfqlConfig(dims, {
    actorLr: hp.lr,
    gradNorm: hp.gn,
    maxQBackup: hp.maxQBackup,
    ...presetValues(preset, hp),
    ...overrides,
  });
}

/** Throws OfqlConfigError naming the first bad field. */
export function validateConfig(cfg: OfqlConfig): void {
  const posInt = (field: keyof OfqlConfig) => {
    const v = cfg[field];
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
      throw new OfqlConfigError(field, `must be a positive integer, got ${String(v)}`);
    }
  };
  const finite = (field: keyof OfqlConfig, lo: number, hi: number, loOpen = false, hiOpen = false) => {
    const v = cfg[field];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new OfqlConfigError(field, `must be a finite number, got ${String(v)}`);
    }
    const badLo = loOpen ? v <= lo : v < lo;
    const badHi = hiOpen ? v >= hi : v > hi;
    if (badLo || badHi) {
      throw new OfqlConfigError(field, `must be in ${loOpen ? '(' : '['}${lo}, ${hi}${hiOpen ? ')' : ']'}, got ${v}`);
    }
  };
  const oneOf = (field: keyof OfqlConfig, allowed: readonly unknown[]) => {
    if (!allowed.includes(cfg[field])) {
      throw new OfqlConfigError(field, `must be one of ${allowed.map(String).join(', ')}, got ${String(cfg[field])}`);
    }
  };
  if (cfg == null || typeof cfg !== 'object') throw new OfqlConfigError('(config)', 'must be an object');
  posInt('obsDim');
  posInt('actDim');
  posInt('hiddenDim');
  posInt('depth');
  posInt('timeEmbDim');
  if (cfg.timeEmbDim < 4 || cfg.timeEmbDim % 2 !== 0) {
    throw new OfqlConfigError('timeEmbDim', `must be even and >= 4 (sinusoidal halves), got ${cfg.timeEmbDim}`);
  }
  finite('timeScale', 0, Infinity, true);
  finite('discount', 0, 1);
  finite('tau', 0, 1);
  finite('actorLr', 0, Infinity, true);
  finite('criticLr', 0, Infinity, true);
  finite('adamEpsilon', 0, Infinity, true);
  posInt('batchSize');
  finite('emaDecay', 0, 1);
  posInt('emaEvery');
  finite('emaStartStep', 0, Number.MAX_SAFE_INTEGER);
  if (!Number.isInteger(cfg.emaStartStep)) {
    throw new OfqlConfigError('emaStartStep', `must be an integer, got ${cfg.emaStartStep}`);
  }
  oneOf('emaWarmup', EMA_WARMUPS);
  finite('eta', 0, Infinity);
  if (cfg.gradNorm !== undefined) finite('gradNorm', 0, Infinity);
  finite('logitNormalMean', -Infinity, Infinity);
  finite('logitNormalStd', 0, Infinity, true);
  finite('flowRatio', 0, 1);
  oneOf('flowRatioSampling', FLOW_RATIO_SAMPLINGS);
  oneOf('bcReduction', BC_REDUCTIONS);
  oneOf('maxQBackup', [true, false]);
  posInt('maxQBackupSamples');
  finite('maxAction', 0, Infinity, true);
  oneOf('clipTrainActions', [true, false]);
  posInt('evalCandidates');
  oneOf('evalActor', EVAL_ACTORS);
  oneOf('trainCritic', [true, false]);
  if (!cfg.trainCritic && cfg.eta !== 0) {
    throw new OfqlConfigError('trainCritic', `false (behaviour cloning) needs eta = 0, got eta ${cfg.eta}`);
  }
}
