/**
 * Registry and D4RL score normalisation (docs/reference.md §2; d4rl/infos.py).
 */
import { describe, expect, it } from 'vitest';
import {
  D4RL_REFERENCE_SCORES,
  UnknownEnvError,
  getEnvEntry,
  listEnvs,
  makeEnv,
  normalizedScore,
} from '../src/index.js';

/** (REF_MIN, REF_MAX) per family, copied from d4rl/infos.py. */
const D4RL: Record<string, [number, number]> = {
  halfcheetah: [-280.178953, 12135.0],
  hopper: [-20.272305, 3234.3],
  walker2d: [1.629008, 4592.3],
  ant: [-325.6, 3879.7],
  antmaze: [0.0, 1.0],
  kitchen: [0.0, 4.0],
  pen: [96.262799, 3076.8331017826877],
  hammer: [-274.856578, 12794.134825156867],
  relocate: [-6.425911, 4233.877797728884],
  door: [-56.512833, 2880.5693087298737],
};

const LOCO = ['halfcheetah', 'hopper', 'walker2d', 'ant'];
const TASK: Record<string, string> = { halfcheetah: 'HalfCheetah', hopper: 'Hopper', walker2d: 'Walker2d', ant: 'Ant' };
const DATASETS_V0 = ['random', 'medium', 'expert', 'medium-replay', 'medium-expert'];
const DATASETS_V1 = [...DATASETS_V0, 'full-replay'];

/** every id of d4rl/infos.py for the families above, with its family */
function d4rlIds(): Array<[string, string]> {
  const ids: Array<[string, string]> = [];
  for (const f of LOCO) {
    for (const d of DATASETS_V0) ids.push([`${f}-${d}-v0`, f]);
    for (const v of ['v1', 'v2']) for (const d of DATASETS_V1) ids.push([`${f}-${d}-${v}`, f]);
  }
  for (const v of ['v0', 'v2']) {
    for (const d of ['umaze', 'umaze-diverse', 'medium-play', 'medium-diverse', 'large-play', 'large-diverse']) {
      ids.push([`antmaze-${d}-${v}`, 'antmaze']);
    }
  }
  for (const d of ['complete', 'partial', 'mixed']) ids.push([`kitchen-${d}-v0`, 'kitchen']);
  for (const t of ['pen', 'hammer', 'relocate', 'door']) {
    for (const v of ['v0', 'v1']) for (const d of ['human', 'cloned', 'expert']) ids.push([`${t}-${d}-${v}`, t]);
  }
  return ids;
}

describe('D4RL reference scores', () => {
  it('the exported table is exactly d4rl/infos.py', () => {
    const table = Object.fromEntries(
      Object.entries(D4RL_REFERENCE_SCORES).map(([k, v]) => [k, [v.refMin, v.refMax]]),
    );
    expect(table).toEqual(D4RL);
  });

  it.each(d4rlIds())('%s is registered with family %s and its constants', (id, family) => {
    const e = getEnvEntry(id);
    expect(e.id).toBe(id);
    expect(e.family).toBe(family);
    expect(e.refMin).toBe(D4RL[family][0]);
    expect(e.refMax).toBe(D4RL[family][1]);
  });

  it.each(d4rlIds())('normalizedScore(%s): REF_MIN -> 0, REF_MAX -> 100', (id, family) => {
    const [lo, hi] = D4RL[family];
    expect(normalizedScore(id, lo)).toBe(0);
    expect(normalizedScore(id, hi)).toBeCloseTo(100, 10);
  });

  it('mid values by hand', () => {
    // hopper: 100 * (1607.01 - (-20.272305)) / (3234.3 - (-20.272305))
    expect(normalizedScore('hopper-medium-v2', 1607.01)).toBeCloseTo(
      (100 * (1607.01 + 20.272305)) / (3234.3 + 20.272305),
      12,
    );
    expect(normalizedScore('hopper-medium-v2', 1607.01)).toBeCloseTo(49.999, 2);
    // halfcheetah: return 5927.41 -> about 49.996
    expect(normalizedScore('halfcheetah-medium-expert-v2', 5927.410523)).toBeCloseTo(50, 5);
    // walker2d midpoint
    expect(normalizedScore('walker2d-expert-v2', (1.629008 + 4592.3) / 2)).toBeCloseTo(50, 10);
    // ant: return 0 -> 100 * 325.6 / 4205.3
    expect(normalizedScore('ant-random-v2', 0)).toBeCloseTo((100 * 325.6) / 4205.3, 12);
    // antmaze: success rate 0.75 -> 75
    expect(normalizedScore('antmaze-umaze-v2', 0.75)).toBeCloseTo(75, 12);
    // kitchen: 3 of 4 tasks -> 75
    expect(normalizedScore('kitchen-mixed-v0', 3)).toBeCloseTo(75, 12);
    // below REF_MIN is negative, above REF_MAX exceeds 100
    expect(normalizedScore('hopper-medium-v2', -100)).toBeLessThan(0);
    expect(normalizedScore('hopper-medium-v2', 4000)).toBeGreaterThan(100);
  });

  it('versions share the family constants', () => {
    for (const f of LOCO) {
      const r = normalizedScore(`${f}-medium-v2`, 1234.5);
      expect(normalizedScore(`${f}-medium-v0`, 1234.5)).toBe(r);
      expect(normalizedScore(`${f}-medium-v1`, 1234.5)).toBe(r);
      expect(normalizedScore(`${f}-random-v2`, 1234.5)).toBe(r);
      expect(normalizedScore(`${TASK[f]}-v3`, 1234.5)).toBe(r);
    }
  });
});

describe('registered ids', () => {
  it('gym ids v2 and v3 of the four tasks are simulated envs of the right family', () => {
    for (const f of LOCO) {
      for (const v of ['v2', 'v3']) {
        const e = getEnvEntry(`${TASK[f]}-${v}`);
        expect(e.family).toBe(f);
        expect(e.task).toBe(TASK[f]);
      }
    }
  });

  it('full-replay exists for v1/v2 only (not v0)', () => {
    const all = new Set(listEnvs());
    for (const f of LOCO) {
      expect(all.has(`${f}-full-replay-v2`)).toBe(true);
      expect(all.has(`${f}-full-replay-v1`)).toBe(true);
      expect(all.has(`${f}-full-replay-v0`)).toBe(false);
    }
  });

  it('listEnvs({ simulated: true }) = locomotion ids only', () => {
    const sim = listEnvs({ simulated: true });
    const all = listEnvs();
    expect(sim.length).toBeLessThan(all.length);
    expect(new Set(sim).size).toBe(sim.length);
    expect(new Set(all).size).toBe(all.length);
    for (const id of sim) {
      expect(all).toContain(id);
      expect(getEnvEntry(id).task).toBeDefined();
    }
    for (const f of LOCO) for (const d of DATASETS_V1) expect(sim).toContain(`${f}-${d}-v2`);
    for (const id of ['antmaze-umaze-v2', 'kitchen-mixed-v0', 'pen-human-v1', 'door-expert-v0']) {
      expect(all).toContain(id);
      expect(sim).not.toContain(id);
      expect(getEnvEntry(id).task).toBeUndefined();
    }
    // every locomotion dataset id simulates its own task
    for (const [id, family] of d4rlIds()) {
      if (LOCO.includes(family)) expect(getEnvEntry(id).task).toBe(TASK[family]);
    }
  });

  it('unknown ids raise UnknownEnvError listing the valid ids', async () => {
    for (const bad of ['hopper-medium-v9', 'foo', '', 'hopper-full-replay-v0']) {
      expect(() => getEnvEntry(bad)).toThrow(UnknownEnvError);
      expect(() => normalizedScore(bad, 0)).toThrow(UnknownEnvError);
      try {
        getEnvEntry(bad);
      } catch (err) {
        const msg = (err as Error).message;
        expect(msg).toContain(`'${bad}'`);
        expect(msg).toContain('hopper-medium-v2');
        expect(msg).toContain('antmaze-umaze-v2');
      }
      await expect(makeEnv(bad)).rejects.toThrow(UnknownEnvError);
      await expect(makeEnv(bad)).rejects.toThrow(/hopper-medium-v2/);
    }
  });

  it('makeEnv on a normalisation-only id gives a clear error naming it and the simulated ids', async () => {
    for (const id of ['antmaze-umaze-v2', 'kitchen-complete-v0', 'pen-human-v1']) {
      const p = makeEnv(id);
      await expect(p).rejects.toThrow(Error);
      await expect(makeEnv(id)).rejects.toThrow(new RegExp(id));
      await expect(makeEnv(id)).rejects.toThrow(/normali[sz]ation/);
      await expect(makeEnv(id)).rejects.toThrow(/hopper-medium-v2/);
      await expect(makeEnv(id)).rejects.not.toThrow(UnknownEnvError);
    }
  });

  it('makeEnv on every simulated family builds the right env', async () => {
    const sizes: Record<string, [number, number]> = {
      'halfcheetah-random-v2': [17, 6],
      'Hopper-v3': [11, 3],
      'walker2d-full-replay-v1': [17, 6],
      'Ant-v2': [111, 8],
    };
    for (const [id, [obs, act]] of Object.entries(sizes)) {
      const env = await makeEnv(id);
      expect(env.id).toBe(id);
      expect(env.observationSize).toBe(obs);
      expect(env.actionSize).toBe(act);
      env.close();
    }
  });
});
