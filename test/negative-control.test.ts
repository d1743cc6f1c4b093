/**
 * The gate's negative control (eval/gate/negative-control.ts): a degraded OFQL checkpoint changes only
 * the actors, by the requested relative amount, deterministically, and says so in its config.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { degradeOfqlCheckpoint } from '../eval/gate/negative-control.js';
import { readCheckpointDir } from '../src/checkpoint/checkpoint-dir.js';
import { makeOfqlConfig } from '../src/ofql/config.js';
import { saveOfqlCheckpoint, loadOfqlCheckpoint } from '../src/ofql/checkpoint.js';
import { initBackend } from '../src/ofql/tensor-backend.js';
import { createOfqlAgent } from '../src/ofql/train-step.js';

const dir = mkdtempSync(join(tmpdir(), 'ofql-negctl-'));
const src = join(dir, 'src');

beforeAll(async () => {
  await initBackend('wasm');
  const agent = createOfqlAgent(makeOfqlConfig({ obsDim: 11, actDim: 3 }, { hiddenDim: 16, depth: 2, timeEmbDim: 4 }), 7);
  await saveOfqlCheckpoint(src, agent, { includeTrainingState: true, envId: 'hopper-medium-v2', fsync: false });
  agent.dispose();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('degradeOfqlCheckpoint', () => {
  it('adds scale x RMS noise to actor tensors only; same seed -> same bytes; still loads; marked as degraded', async () => {
    const a = join(dir, 'a');
    const b = join(dir, 'b');
    const c = join(dir, 'c');
    const rep = await degradeOfqlCheckpoint(src, a, { scale: 0.5, seed: 3 });
    await degradeOfqlCheckpoint(src, b, { scale: 0.5, seed: 3 });
    await degradeOfqlCheckpoint(src, c, { scale: 0.5, seed: 4 });
    expect(readFileSync(join(a, 'model.safetensors'))).toEqual(readFileSync(join(b, 'model.safetensors')));
    expect(readFileSync(join(a, 'model.safetensors'))).not.toEqual(readFileSync(join(c, 'model.safetensors')));

    const before = (await readCheckpointDir(src)).tensors;
    const after = await readCheckpointDir(a);
    expect(after.resumable).toBe(false);
    let actorTensors = 0;
    let num = 0;
    let den = 0;
    for (const [name, t] of before) {
      const x = t.data as Float32Array;
      const y = after.tensors.get(name)!.data as Float32Array;
      if (name.startsWith('actor.') || name.startsWith('ema_actor.')) {
        actorTensors += 1;
        for (let i = 0; i < x.length; i++) {
          num += (y[i]! - x[i]!) ** 2;
          den += x[i]! ** 2;
        }
      } else {
        expect(Array.from(y), name).toEqual(Array.from(x));
      }
    }
    expect(rep.tensors).toBe(actorTensors);
    // relative noise energy ~ scale^2 = 0.25 (pooled over all actor tensors)
    expect(num / den).toBeGreaterThan(0.2);
    expect(num / den).toBeLessThan(0.3);
    expect(after.config.degraded).toMatchObject({ scale: 0.5, seed: 3 });
    const loaded = await loadOfqlCheckpoint(a, { forResume: false });
    expect(loaded.envId).toBe('hopper-medium-v2');
    loaded.agent.dispose();
  });

  it('refuses a bad scale and writing over its source', async () => {
    await expect(degradeOfqlCheckpoint(src, join(dir, 'x'), { scale: 0, seed: 0 })).rejects.toThrow(/scale must be a finite number > 0, got 0/);
    await expect(degradeOfqlCheckpoint(src, src, { scale: 1, seed: 0 })).rejects.toThrow(/is the source checkpoint/);
  });
});
