/**
 * ARS on a real environment over the worker pool: the result of a seeded run is identical with 1
 * and 2 worker threads and in-process; the linear-policy plug-in, run by the evaluator, reproduces
 * the trainer's own evaluation exactly; shipped behaviour policies (eval/behaviour) are valid.
 * Short horizons (30 steps) keep it fast.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { evaluate } from '../eval/evaluate.js';
import { ArsTrainer, ARS_V2T_PAPER } from '../src/behaviour/ars.js';
import { LINEAR_POLICY_FORMAT, matrixRows, readLinearPolicyFile } from '../src/behaviour/linear.js';
import { BehaviourPool, localArsExecutor } from '../src/behaviour/pool.js';
import { makeEnv } from '../src/make-env.js';

const ROOT = join(import.meta.dirname, '..');
const PLUGIN = join(ROOT, 'dist', 'src', 'behaviour', 'linear-policy.js');
const ENV = 'hopper-medium-v2';
const T = 30;
const dir = mkdtempSync(join(tmpdir(), 'ofql-ars-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const opts = { ...ARS_V2T_PAPER.hopper, directions: 4, top: 2, seed: 3, observationSize: 11, actionSize: 3 };

async function twoIterations(executor: ConstructorParameters<typeof ArsTrainer>[1]) {
  const t = new ArsTrainer(opts, executor);
  await t.iterate();
  await t.iterate();
  return t;
}

describe('ARS over the worker pool (hopper, 30-step horizon)', () => {
  it('gives the same policy with 1 worker, 2 workers and in-process', async () => {
    const results = [];
    for (const w of [1, 2]) {
      const pool = new BehaviourPool(w);
      try {
        results.push((await twoIterations(pool.arsExecutor(ENV, T))).snapshot());
      } finally {
        await pool.destroy();
      }
    }
    const local = (await twoIterations(localArsExecutor(await makeEnv(ENV, { maxEpisodeSteps: T })))).snapshot();
    expect(results[1]).toEqual(results[0]);
    expect(local).toEqual(results[0]);
    expect(local.iteration).toBe(2);
    expect(local.M.some((x) => x !== 0)).toBe(true);
    expect(local.stats.n).toBe(local.envSteps);
  });

  it('the linear-policy plug-in run by evaluate() reproduces the trainer evaluation exactly', async () => {
    const trainer = await twoIterations(localArsExecutor(await makeEnv(ENV, { maxEpisodeSteps: T })));
    const p = trainer.params();
    const file = join(dir, 'hopper-test.json');
    writeFileSync(
      file,
      JSON.stringify({
        format: LINEAR_POLICY_FORMAT,
        formatVersion: 1,
        env: 'hopper',
        envId: ENV,
        observationSize: 11,
        actionSize: 3,
        M: matrixRows(p.M, 3, 11),
        mu: Array.from(p.mu),
        sigma: Array.from(p.sigma),
        iteration: trainer.iteration,
      }),
    );
    const own = await trainer.evaluate(4, 77);
    const doc = await evaluate({ env: ENV, policy: PLUGIN, ckpt: file, episodes: 4, seed: 77, workers: 2, maxEpisodeSteps: T });
    expect(doc.results[0].returns).toEqual(own.map((o) => o.return));
    expect(doc.results[0].lengths).toEqual(own.map((o) => o.steps));
    expect(doc.results[0].actionsOutOfRange).toBe(0);
    expect(doc.results[0].policyDescription).toMatch(/linear policy/);

    // Wrong env family: a clear load error.
    await expect(
      evaluate({ env: 'walker2d-medium-v2', policy: PLUGIN, ckpt: file, episodes: 1, workers: 1, maxEpisodeSteps: T }),
    ).rejects.toThrow(/trained on hopper/);
  });

  it('shipped behaviour policies (eval/behaviour/*.json) are valid linear policies', () => {
    const bdir = join(ROOT, 'eval', 'behaviour');
    if (!existsSync(bdir)) return;
    for (const f of readdirSync(bdir).filter((n) => /-(expert|medium)\.json$/.test(n))) {
      const doc = readLinearPolicyFile(join(bdir, f));
      expect(['expert', 'medium']).toContain(doc.role);
      expect(typeof doc.evalReturn).toBe('number');
    }
  });
});
