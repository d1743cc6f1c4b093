/**
 * The hyper-parameter table (src/train/hyper-params.ts): every OfqlConfig field a user may set is
 * a `train` flag, each flag named in messages exists, and a bad value is reported by its flag.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OFQL_DEFAULTS } from '../src/ofql/config.js';
import { FLAG_OF_FIELD, HYPER_PARAMS, overridesOfArgs } from '../src/train/hyper-params.js';
import { effectiveConfig } from '../src/train/trainer.js';
import { ROOT } from './eval-helpers.js';

const CLI = join(ROOT, 'dist', 'src', 'cli.js');
/** Fields no flag sets: the dimensions (from the data) and trainCritic (--bc-only). */
const NOT_FLAGS = ['obsDim', 'actDim', 'trainCritic'];

describe('train hyper-parameters', () => {
  it('every settable OfqlConfig field has exactly one flag', () => {
    const fields = HYPER_PARAMS.map((h) => h.field as string);
    expect(new Set(fields).size).toBe(fields.length);
    expect(new Set(HYPER_PARAMS.map((h) => h.flag)).size).toBe(fields.length);
    expect([...fields].sort()).toEqual(Object.keys(OFQL_DEFAULTS).filter((k) => !NOT_FLAGS.includes(k)).sort());
  });

  it('every flag named in messages exists in train --help', () => {
    const help = spawnSync(process.execPath, [CLI, 'train', '--help'], { encoding: 'utf8' }).stdout;
    for (const flag of Object.values(FLAG_OF_FIELD)) expect(help, flag).toContain(`${flag} `);
  });

  it('flags become overrides, and a bad value is reported by its flag', () => {
    const o = overridesOfArgs({ tau: 0.01, 'time-emb': 64, 'ema-warmup': 'copy', hidden: undefined });
    expect(o).toEqual({ tau: 0.01, timeEmbDim: 64, emaWarmup: 'copy' });
    expect(effectiveConfig('hopper-medium-v2', { obsDim: 11, actDim: 3 }, o).config).toMatchObject({ tau: 0.01, timeEmbDim: 64, emaWarmup: 'copy' });
    expect(() => effectiveConfig('hopper-medium-v2', { obsDim: 11, actDim: 3 }, { tau: 2 })).toThrow(/--tau/);
    expect(() => effectiveConfig('hopper-medium-v2', { obsDim: 11, actDim: 3 }, { timeEmbDim: 5 })).toThrow(/--time-emb/);
  });

  it("--preset: the OFQL paper's time embedding and eta by default, DQL's with --preset dql; flags still win", () => {
    const dims = { obsDim: 11, actDim: 3 };
    const paper = effectiveConfig('hopper-medium-replay-v2', dims);
    expect(paper.config).toMatchObject({ timeEmbDim: 64, eta: 0.01, gradNorm: 4 });
    expect(paper.sources.eta).toMatch(/OFQL paper/);
    const dql = effectiveConfig('hopper-medium-replay-v2', dims, {}, 'dql');
    expect(dql.config).toMatchObject({ timeEmbDim: 16, eta: 1, gradNorm: 4 });
    expect(dql.sources.eta).toMatch(/DQL table 'hopper-medium-replay-v2'/);
    expect(effectiveConfig('hopper-medium-replay-v2', dims, { eta: 0.1 }, 'dql').config).toMatchObject({ timeEmbDim: 16, eta: 0.1 });
    // No DQL row (not a D4RL id): the preset still applies.
    expect(effectiveConfig('hopper', dims, {}, 'dql').config).toMatchObject({ timeEmbDim: 16, eta: 1 });
  });
});
