/**
 * The regression gate's negative control: a deliberately degraded copy of an OFQL checkpoint.
 * Every actor tensor (online and EMA) gets Gaussian noise of `scale` times its own RMS, from a
 * seeded stream, so the same source, scale and seed always give the same bytes. The critics are left
 * alone (the one-step sampler does not read them). config.json records the degradation, so the copy
 * cannot be mistaken for a trained checkpoint.
 */
import { resolve } from 'node:path';
import { readCheckpointDir, writeCheckpointDir, type CheckpointConfig } from '../../src/checkpoint/checkpoint-dir.js';
import type { TensorInput } from '../../src/checkpoint/safetensors.js';
import { OFQL_CHECKPOINT_FORMAT } from '../../src/checkpoint/checkpoint-dir.js';
import { Rng, assertSeed } from '../../src/rng.js';
import { OptionError } from '../../src/option-error.js';

/** Tensor-name prefixes of the two actors (src/ofql/networks.ts actorNamedParams). */
const ACTOR_PREFIXES = ['actor.', 'ema_actor.'] as const;

export interface DegradeOptions {
  /** Noise standard deviation relative to each tensor's RMS (> 0). */
  scale: number;
  /** Seed of the noise stream. */
  seed: number;
}

export interface DegradeReport {
  /** Actor tensors that received noise. */
  tensors: number;
  /** Parameters that received noise. */
  parameters: number;
}

/** Write a degraded copy of the OFQL checkpoint `source` to `target` (atomically; no optimizer state). */
export async function degradeOfqlCheckpoint(source: string, target: string, o: DegradeOptions): Promise<DegradeReport> {
  if (!(Number.isFinite(o.scale) && o.scale > 0)) throw new OptionError(`degrade: scale must be a finite number > 0, got ${o.scale}`);
  assertSeed(o.seed);
  if (resolve(source) === resolve(target)) throw new Error(`degrade: target ${target} is the source checkpoint`);
  const ckpt = await readCheckpointDir(source, { format: OFQL_CHECKPOINT_FORMAT, loadOptimizer: false });
  const rng = new Rng(o.seed);
  const tensors = new Map<string, TensorInput>();
  const report: DegradeReport = { tensors: 0, parameters: 0 };
  for (const [name, t] of ckpt.tensors) {
    if (!ACTOR_PREFIXES.some((p) => name.startsWith(p)) || t.dtype !== 'F32') {
      tensors.set(name, t as TensorInput);
      continue;
    }
    const src = t.data as Float32Array;
    let ss = 0;
    for (let i = 0; i < src.length; i++) ss += src[i]! * src[i]!;
    const sd = o.scale * Math.sqrt(ss / Math.max(1, src.length));
    const data = Float32Array.from(src, (x) => x + sd * rng.normal());
    tensors.set(name, { dtype: 'F32', shape: t.shape, data });
    report.tensors += 1;
    report.parameters += src.length;
  }
  if (report.tensors === 0) throw new Error(`${ckpt.dir}/model.safetensors: no float32 actor tensors (actor.*, ema_actor.*) to degrade`);
  const config: CheckpointConfig = {
    ...ckpt.config,
    degraded: { source: ckpt.dir, scale: o.scale, seed: o.seed, note: 'negative control for the regression gate: NOT a trained checkpoint' },
  };
  await writeCheckpointDir(target, { config, tensors, metadata: ckpt.metadata });
  return report;
}
