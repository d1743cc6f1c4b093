/**
 * Every OfqlConfig field a user may set from `ofql-eval train`, declared once (CleanRL's `Args`):
 * the field, its flag and what it means. The yargs options with their help and defaults, the
 * TrainOverrides a command line gives, and the flag named in error messages are all made from
 * this table. Defaults come from OFQL_DEFAULTS (src/ofql/config.ts, each with its source there);
 * the per-task DQL row (docs/reference.md §4) replaces some of them for a D4RL task.
 */
import type { Options } from 'yargs';
import { BC_REDUCTIONS, EMA_WARMUPS, EVAL_ACTORS, FLOW_RATIO_SAMPLINGS, OFQL_DEFAULTS, type OfqlConfig } from '../ofql/config.js';

/** Fields the per-task DQL row sets (their help says "per task"). */
const PER_TASK: ReadonlySet<string> = new Set(['actorLr', 'eta', 'gradNorm', 'maxQBackup']);

export interface HyperParam {
  field: keyof OfqlConfig;
  /** The flag without dashes. */
  flag: string;
  describe: string;
  choices?: readonly string[];
  boolean?: boolean;
}

export const HYPER_PARAMS = [
  { field: 'eta', flag: 'eta', describe: 'Q-loss weight eta' },
  { field: 'batchSize', flag: 'batch-size', describe: 'Minibatch size' },
  { field: 'actorLr', flag: 'lr', describe: 'Actor learning rate (DQL `lr`)' },
  { field: 'criticLr', flag: 'critic-lr', describe: 'Critic learning rate' },
  { field: 'adamEpsilon', flag: 'adam-eps', describe: "Adam's epsilon" },
  { field: 'gradNorm', flag: 'grad-norm', describe: 'Max gradient norm for actor and critic, 0 = no clipping (DQL `gn`)' },
  { field: 'hiddenDim', flag: 'hidden', describe: 'Hidden width of every MLP' },
  { field: 'depth', flag: 'depth', describe: 'Hidden layers per MLP' },
  { field: 'timeEmbDim', flag: 'time-emb', describe: 'Width of the sinusoidal time embeddings of t and r (the OFQL paper: 64)' },
  { field: 'timeScale', flag: 'time-scale', describe: 't and r are multiplied by this before the embedding' },
  { field: 'discount', flag: 'discount', describe: 'Discount gamma' },
  { field: 'tau', flag: 'tau', describe: 'Target-critic soft update rate' },
  { field: 'emaDecay', flag: 'ema-decay', describe: 'EMA decay of the evaluation actor' },
  { field: 'emaEvery', flag: 'ema-every', describe: 'Gradient steps between EMA updates' },
  { field: 'emaStartStep', flag: 'ema-start', describe: 'First step with an EMA update' },
  { field: 'emaWarmup', flag: 'ema-warmup', describe: 'The EMA actor before --ema-start: hold-initial (DQL) or copy', choices: EMA_WARMUPS },
  { field: 'logitNormalMean', flag: 'logit-normal-mean', describe: 'Logit-normal location of the (t, r) sampler' },
  { field: 'logitNormalStd', flag: 'logit-normal-std', describe: 'Logit-normal scale of the (t, r) sampler' },
  { field: 'flowRatio', flag: 'flow-ratio', describe: 'Fraction of (t, r) pairs with r = t' },
  { field: 'flowRatioSampling', flag: 'flow-ratio-sampling', describe: 'fixed-count: exactly that fraction per batch; bernoulli: per sample', choices: FLOW_RATIO_SAMPLINGS },
  { field: 'bcReduction', flag: 'bc-reduction', describe: "Behaviour-loss reduction: mean (DQL) or sum-action-mean-batch (MeanFlow's)", choices: BC_REDUCTIONS },
  { field: 'maxQBackup', flag: 'max-q-backup', describe: 'Max-Q backup over --max-q-samples next actions', boolean: true },
  { field: 'maxQBackupSamples', flag: 'max-q-samples', describe: 'Next actions of the max-Q backup' },
  { field: 'maxAction', flag: 'max-action', describe: 'Action bound' },
  { field: 'clipTrainActions', flag: 'clip-train-actions', describe: 'Clip one-step actions to the bound in training too', boolean: true },
  { field: 'evalCandidates', flag: 'eval-candidates', describe: 'Candidate actions scored by the critic per evaluation step' },
  { field: 'evalActor', flag: 'eval-actor', describe: 'Actor the checkpoint acts with by default', choices: EVAL_ACTORS },
] as const satisfies readonly HyperParam[];

export type HyperParamField = (typeof HYPER_PARAMS)[number]['field'];

const defaultText = (h: HyperParam): string => {
  const d = OFQL_DEFAULTS[h.field as keyof typeof OFQL_DEFAULTS];
  const value = d === undefined ? 'none' : String(d);
  return PER_TASK.has(h.field) ? `per task, else ${value}` : value;
};

/** The yargs options of the table (no yargs defaults: "not given" leaves the task's or the paper's value). */
export function hyperParamOptions(group: string): Record<string, Options> {
  return Object.fromEntries(
    (HYPER_PARAMS as readonly HyperParam[]).map((h) => [
      h.flag,
      { ...(h.choices ? { choices: h.choices } : { type: h.boolean ? 'boolean' : 'number' }), group, describe: `${h.describe} [default: ${defaultText(h)}]` } as Options,
    ]),
  );
}

/** The fields the command line sets (flags not given are left out). */
export function overridesOfArgs(a: Readonly<Record<string, unknown>>): Partial<Pick<OfqlConfig, HyperParamField>> {
  return Object.fromEntries((HYPER_PARAMS as readonly HyperParam[]).filter((h) => a[h.flag] !== undefined).map((h) => [h.field, a[h.flag]]));
}

/** `--flag` of a field, for messages (`--bc-only` sets trainCritic). */
export const FLAG_OF_FIELD: Readonly<Record<string, string>> = Object.freeze({
  ...Object.fromEntries((HYPER_PARAMS as readonly HyperParam[]).map((h) => [h.field, `--${h.flag}`])),
  trainCritic: '--bc-only',
});
