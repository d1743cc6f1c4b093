/**
 * Soft Actor-Critic's settings, declared once (CleanRL's `Args`): each field's default, its flag
 * and what it means. scripts/train-sac.ts makes its flags and help from this table, and
 * config.json of every SAC checkpoint records the whole SacConfig.
 *
 * Defaults are those D4RL's SAC runs used (rlkit's SAC as configured for the D4RL datasets: two
 * hidden layers of 256 ReLU units, Adam 3e-4 for every network, batch 256, discount 0.99, target
 * rate 0.005, one gradient step per environment step, the entropy temperature tuned automatically
 * towards -|A|), with CleanRL's uniform-random warm-up before learning; docs/sac.md gives the
 * sources.
 */

export interface SacConfig {
  obsDim: number;
  actDim: number;
  hiddenDim: number;
  depth: number;
  discount: number;
  tau: number;
  actorLr: number;
  criticLr: number;
  alphaLr: number;
  adamEpsilon: number;
  batchSize: number;
  /** exp(log alpha) at the start. */
  initialAlpha: number;
  /** Target entropy of the tuned temperature; null: -actDim. */
  targetEntropy: number | null;
  /** Bounds of the actor's log standard deviation (clamped; no gradient outside). */
  logStdMin: number;
  logStdMax: number;
  /** Environment steps with uniform random actions before the first gradient step. */
  randomSteps: number;
  /** Gradient steps per environment step. */
  updatesPerStep: number;
  /** Transitions kept; the oldest go first. */
  bufferSize: number;
}

export const SAC_DEFAULTS: Omit<SacConfig, 'obsDim' | 'actDim'> = {
  hiddenDim: 256,
  depth: 2,
  discount: 0.99,
  tau: 0.005,
  actorLr: 3e-4,
  criticLr: 3e-4,
  alphaLr: 3e-4,
  adamEpsilon: 1e-8,
  batchSize: 256,
  initialAlpha: 1,
  targetEntropy: null,
  logStdMin: -20,
  logStdMax: 2,
  randomSteps: 5000,
  updatesPerStep: 1,
  bufferSize: 1_000_000,
};

export interface SacParam {
  field: keyof typeof SAC_DEFAULTS;
  /** The flag without dashes. */
  flag: string;
  describe: string;
  integer?: boolean;
}

export const SAC_PARAMS = [
  { field: 'hiddenDim', flag: 'hidden', describe: 'Hidden width of the actor and the Q nets', integer: true },
  { field: 'depth', flag: 'depth', describe: 'Hidden layers per network', integer: true },
  { field: 'discount', flag: 'discount', describe: 'Discount gamma' },
  { field: 'tau', flag: 'tau', describe: 'Target Q nets soft update rate' },
  { field: 'actorLr', flag: 'actor-lr', describe: 'Actor learning rate' },
  { field: 'criticLr', flag: 'critic-lr', describe: 'Q nets learning rate' },
  { field: 'alphaLr', flag: 'alpha-lr', describe: 'Entropy temperature learning rate (0: alpha stays fixed)' },
  { field: 'adamEpsilon', flag: 'adam-eps', describe: "Adam's epsilon" },
  { field: 'batchSize', flag: 'batch-size', describe: 'Minibatch size', integer: true },
  { field: 'initialAlpha', flag: 'alpha', describe: 'Entropy temperature at the start' },
  { field: 'targetEntropy', flag: 'target-entropy', describe: 'Target entropy of the tuned temperature (default: -action size)' },
  { field: 'logStdMin', flag: 'log-std-min', describe: "Lower clamp of the actor's log std" },
  { field: 'logStdMax', flag: 'log-std-max', describe: "Upper clamp of the actor's log std" },
  { field: 'randomSteps', flag: 'random-steps', describe: 'Environment steps with uniform random actions before learning', integer: true },
  { field: 'updatesPerStep', flag: 'updates-per-step', describe: 'Gradient steps per environment step', integer: true },
  { field: 'bufferSize', flag: 'buffer-size', describe: 'Replay buffer capacity (transitions)', integer: true },
] as const satisfies readonly SacParam[];

/** The target entropy in use. */
export function targetEntropy(cfg: SacConfig): number {
  return cfg.targetEntropy ?? -cfg.actDim;
}

/** A SacConfig for an env of these sizes, with `overrides` over the defaults; checked. */
export function makeSacConfig(obsDim: number, actDim: number, overrides: Partial<SacConfig> = {}): SacConfig {
  const cfg: SacConfig = { ...SAC_DEFAULTS, obsDim, actDim, ...overrides };
  checkSacConfig(cfg);
  return cfg;
}

/** `SAC <field> (--<flag>)` for messages. */
function named(field: keyof SacConfig): string {
  const p = SAC_PARAMS.find((x) => x.field === field);
  return p ? `SAC ${field} (--${p.flag})` : `SAC ${field}`;
}

/** Throws a RangeError naming the first field (and its flag) out of its range. */
export function checkSacConfig(cfg: SacConfig): void {
  const positiveInts: Array<keyof SacConfig> = ['obsDim', 'actDim', 'hiddenDim', 'depth', 'batchSize', 'updatesPerStep', 'bufferSize'];
  for (const k of positiveInts) {
    const v = cfg[k];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw new RangeError(`${named(k)}: expected an integer >= 1, got ${String(v)}`);
  }
  if (!Number.isSafeInteger(cfg.randomSteps) || cfg.randomSteps < 0) throw new RangeError(`${named('randomSteps')}: expected an integer >= 0, got ${cfg.randomSteps}`);
  const unit: Array<keyof SacConfig> = ['discount', 'tau'];
  for (const k of unit) {
    const v = cfg[k] as number;
    if (!(v >= 0 && v <= 1)) throw new RangeError(`${named(k)}: expected a number in [0, 1], got ${v}`);
  }
  for (const k of ['actorLr', 'criticLr', 'alphaLr', 'adamEpsilon'] as const) {
    if (!(cfg[k] >= 0 && Number.isFinite(cfg[k]))) throw new RangeError(`${named(k)}: expected a finite number >= 0, got ${cfg[k]}`);
  }
  if (!(cfg.initialAlpha > 0 && Number.isFinite(cfg.initialAlpha))) throw new RangeError(`${named('initialAlpha')}: expected a number > 0, got ${cfg.initialAlpha}`);
  if (cfg.targetEntropy !== null && !Number.isFinite(cfg.targetEntropy)) throw new RangeError(`${named('targetEntropy')}: expected a finite number, got ${cfg.targetEntropy}`);
  if (!(cfg.logStdMin < cfg.logStdMax)) throw new RangeError(`${named('logStdMin')} = ${cfg.logStdMin} must be below ${named('logStdMax')} = ${cfg.logStdMax}`);
  if (cfg.batchSize > cfg.bufferSize) throw new RangeError(`${named('batchSize')} = ${cfg.batchSize} exceeds ${named('bufferSize')} = ${cfg.bufferSize}`);
}
