/**
 * What `train()` (src/train/trainer.ts) is asked to do: its options and the defaults of the run
 * settings. The hyper-parameters a user may set are declared in src/train/hyper-params.ts, their
 * defaults in src/ofql/config.ts.
 */
import { RUN_DIR_FILES } from '../checkpoint/index.js';
import type { EngineDevice, TrainBackend } from '../engine/index.js';
import type { HyperParamPreset, OfqlConfig, OfqlMetrics } from '../ofql/index.js';
import type { HyperParamField } from './hyper-params.js';
import type { TrainProgressMode } from './progress.js';
import type { RewardTune } from './sampler.js';

export const TRAIN_DEFAULTS = Object.freeze({
  /** OFQL paper: 1M gradient steps. */
  steps: 1_000_000,
  seed: 0,
  preset: 'ofql' as HyperParamPreset,
  /** The ONNX engine (src/engine); wasm / cpu / tensorflow = the TF.js agent on that backend. */
  backend: 'onnx' as TrainBackend,
  /** The ONNX engine's intra-op threads (docs/benchmarks.md: a second thread did not pay on 2 cores). */
  threads: 1,
  /** Where the ONNX engine's graphs run (src/engine/ort-session.ts). */
  device: 'cpu' as EngineDevice,
  logEvery: 1000,
  saveEvery: 10_000,
  keep: 5,
  /** 0 = no periodic evaluation. DQL evaluates every 50 epochs = 50k steps. */
  evalEvery: 0,
  /** DQL: 10 evaluation episodes. */
  evalEpisodes: 10,
  evalWorkers: 1,
});

/** The run directory's own files (defined next to the run-directory resolver, src/checkpoint/run-dir.ts). */
export const FILES = RUN_DIR_FILES;

/** Hyper-parameters a user may override (flags: src/train/hyper-params.ts), and trainCritic (--bc-only). */
export type TrainOverrides = Partial<Pick<OfqlConfig, HyperParamField | 'trainCritic'>>;

export interface TrainOptions {
  /** D4RL-layout HDF5 file. */
  dataset: string;
  /** Env / D4RL id (`hopper-medium-v2`): dims are checked against it, the per-task DQL row is taken from it, evaluation runs it. */
  envId: string;
  /** Output directory. */
  out: string;
  /** Total gradient steps (a resumed run continues up to this number). Default 1M. */
  steps?: number;
  /** Run seed (initial weights, training noise, minibatches). Default 0. */
  seed?: number;
  /** Whose defaults where the OFQL paper and DQL differ (time embedding, eta): 'ofql' (default) or 'dql'. */
  preset?: HyperParamPreset;
  /** Explicit hyper-parameters (beat the per-task row; on resume they must equal the checkpoint's). */
  overrides?: TrainOverrides;
  /** DQL reward preprocessing; default from the per-task row ('no' for locomotion). */
  rewardTune?: RewardTune;
  /** Training engine: 'onnx' (default) or a TF.js backend. */
  backend?: TrainBackend;
  /** Intra-op threads of the ONNX engine (default 1). */
  threads?: number;
  /** Where the ONNX engine runs its graphs: 'cpu' (default) or 'webgpu' (onnxruntime's WebGPU provider). */
  device?: EngineDevice;
  /** Continue from the newest checkpoint in `out`. */
  resume?: boolean;
  /** Steps per metrics line (default 1000). */
  logEvery?: number;
  /** Steps between checkpoints (default 10000; 0 = only at the end / stop). */
  saveEvery?: number;
  /** Checkpoint directories to keep (newest first; 0 = all). Default 5. */
  keep?: number;
  /** Steps between evaluations (0 = none, default). Each evaluation writes a checkpoint first. */
  evalEvery?: number;
  evalEpisodes?: number;
  /** Run seed of the evaluations (same for every evaluation). Default seed + 100 (as DQL). */
  evalSeed?: number;
  evalWorkers?: number;
  /** Episode horizon for evaluation (default 1000 = D4RL; less only for tests). */
  evalMaxEpisodeSteps?: number;
  /** Evaluate without pausing training (default true); false waits for each evaluation. */
  evalInBackground?: boolean;
  /**
   * How the evaluated policy draws actions (src/ofql/samplers.ts): default 'dql' with
   * config.evalCandidates candidates (DQL's evaluation rule, = agent.act); 'one-step' is OFQL's plain
   * one-network-call action.
   */
  evalSampler?: 'one-step' | 'dql' | 'best-of-n' | 'qgbs';
  progress?: TrainProgressMode;
  /** Abort to stop: the current step finishes, a checkpoint is written, the result says interrupted. */
  signal?: AbortSignal;
  /** Messages (default: stderr). */
  log?: (message: string) => void;
  /** The effective configuration at start (default: stdout). */
  print?: (text: string) => void;
  /** fsync checkpoints (default true; tests turn it off). */
  fsync?: boolean;
  /** Keep this HTML file up to date with the run's learning curves and metrics (src/report/training-page.ts). */
  plot?: string;
  /** Called after every gradient step with its metrics (`metrics.step` is 0-based: the step just taken). */
  onStep?: (metrics: OfqlMetrics) => void;
}

/** A message sink (stderr lines, the progress display's log, a test's array). */
export type Say = (message: string) => void;
