/**
 * scripts/make-datasets.ts on small synthetic behaviour policies: every file is readable by
 * readD4rlFile + qlearningDataset; medium-expert is medium then expert; medium-replay has equal
 * shares of the replay checkpoints; a second run gives the same data.
 */
import { cpSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { qlearningDataset, readD4rlFile } from '../src/data/index.js';
import { spawnAsync } from './eval-helpers.js';

const ROOT = join(import.meta.dirname, '..');
const SCRIPT = join(ROOT, 'dist', 'scripts', 'make-datasets.js');
const dir = mkdtempSync(join(tmpdir(), 'ofql-datasets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function policy(scale: number, iteration: number, role: string) {
  return {
    format: 'ofql-eval/linear-policy',
    formatVersion: 1,
    env: 'halfcheetah',
    envId: 'halfcheetah-medium-v2',
    observationSize: 17,
    actionSize: 6,
    M: Array.from({ length: 6 }, (_, i) => Array.from({ length: 17 }, (_, j) => scale * Math.sin(3 * i + j))),
    mu: Array(17).fill(0),
    sigma: Array(17).fill(1),
    iteration,
    role,
  };
}

const bdir = join(dir, 'behaviour');
mkdirSync(bdir);
writeFileSync(join(bdir, 'halfcheetah-medium.json'), JSON.stringify(policy(0.2, 20, 'medium')));
writeFileSync(join(bdir, 'halfcheetah-expert.json'), JSON.stringify(policy(0.5, 50, 'expert')));
writeFileSync(
  join(bdir, 'halfcheetah-replay.json'),
  JSON.stringify({ format: 'ofql-eval/linear-policy-set', env: 'halfcheetah', checkpoints: [policy(0, 0, 'checkpoint'), policy(0.1, 10, 'checkpoint'), policy(0.2, 20, 'checkpoint')] }),
);

const run = (out: string) =>
  spawnAsync(
    process.execPath,
    [SCRIPT, '--envs', 'halfcheetah', '--datasets', 'medium-replay,medium-expert', '--steps', '1500', '--replay-steps', '700', '--seed', '3', '--behaviour-dir', bdir, '--out', out, '--workers', '1'],
  );

describe('make-datasets', () => {
  it('makes medium, expert, medium-replay and medium-expert files the reader accepts', async () => {
    const out = join(dir, 'a');
    const r = await run(out);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\| halfcheetah-medium-expert \| 3,000 \|/);
    const m = await readD4rlFile(join(out, 'halfcheetah-medium-ars.hdf5'), { envId: 'halfcheetah-medium-v2' });
    const e = await readD4rlFile(join(out, 'halfcheetah-expert-ars.hdf5'), { envId: 'halfcheetah-expert-v2' });
    const me = await readD4rlFile(join(out, 'halfcheetah-medium-expert-ars.hdf5'), { envId: 'halfcheetah-medium-expert-v2' });
    const mr = await readD4rlFile(join(out, 'halfcheetah-medium-replay-ars.hdf5'), { envId: 'halfcheetah-medium-replay-v2' });
    expect([m.N, e.N, me.N, mr.N]).toEqual([1500, 1500, 3000, 700]);
    expect(m.metadata.action_noise).toBe(0.1);
    expect(m.metadata.ckpt).toBe(join(bdir, 'halfcheetah-medium.json'));
    // medium-expert = medium rows, then expert rows.
    expect(me.observations.subarray(0, 1500 * 17)).toEqual(m.observations);
    expect(me.observations.subarray(1500 * 17)).toEqual(e.observations);
    expect(me.actions.subarray(1500 * 6)).toEqual(e.actions);
    expect(me.timeouts.subarray(0, 1500)).toEqual(m.timeouts);
    expect(me.infos.qpos!.subarray(1500 * 9)).toEqual(e.infos.qpos);
    // The medium part ends with its cut episode flagged, so episodes do not run across the seam.
    expect(me.timeouts[1499]).toBe(1);
    // medium-replay: 3 equal shares (234, 233, 233 rows), each ending in a flagged cut.
    expect([mr.metadata['share/0/rows'], mr.metadata['share/1/rows'], mr.metadata['share/2/rows']]).toEqual([234, 233, 233]);
    expect([mr.metadata['share/0/iteration'], mr.metadata['share/2/iteration']]).toEqual([0, 20]);
    expect([mr.timeouts[233], mr.timeouts[466], mr.timeouts[699]]).toEqual([1, 1, 1]);
    for (const ds of [m, e, me, mr]) expect(qlearningDataset(ds).N).toBeGreaterThan(0);
    const manifest = JSON.parse(readFileSync(join(out, 'datasets-manifest.json'), 'utf8')) as Record<string, { rows: number }>;
    expect(manifest['halfcheetah-medium-expert'].rows).toBe(3000);
  });

  it('is deterministic: a second run gives the same data', async () => {
    const out = join(dir, 'b');
    expect((await run(out)).status).toBe(0);
    for (const f of ['halfcheetah-medium-replay-ars.hdf5', 'halfcheetah-medium-expert-ars.hdf5']) {
      const x = await readD4rlFile(join(dir, 'a', f));
      const y = await readD4rlFile(join(out, f));
      expect(y.observations).toEqual(x.observations);
      expect(y.actions).toEqual(x.actions);
      expect(y.rewards).toEqual(x.rewards);
      expect(y.timeouts).toEqual(x.timeouts);
    }
  });
});

describe('make-datasets --source sac', () => {
  it('random, medium and expert sample the SAC snapshots, medium-replay is the run history up to the medium step', { timeout: 180_000 }, async () => {
    const { trainSac, SAC_RUN_FILES } = await import('../src/sac/train.js');
    const runs = join(dir, 'sac-runs');
    await trainSac({
      envId: 'hopper-medium-v2',
      seed: 0,
      steps: 600,
      outDir: join(runs, 'hopper-s0'),
      config: { hiddenDim: 16, batchSize: 32, randomSteps: 100, bufferSize: 1000 },
      evalEvery: 200,
      evalEpisodes: 2,
      snapshotEvery: 200,
      logEvery: 200,
    });
    // Set the recorded evaluations so that the best snapshot (400) is not the final one (600), and
    // the snapshot closest to a third of the best is step 200: --sac-expert best (the default) must
    // pick 400 as expert and 200 as medium.
    const recorded: Record<string, number> = { 'step-00000200': 28, 'step-00000400': 90, 'step-00000600': 30, final: 30 };
    for (const [snap, evalReturn] of Object.entries(recorded)) {
      const path = join(runs, 'hopper-s0', snap, 'config.json');
      writeFileSync(path, JSON.stringify({ ...JSON.parse(readFileSync(path, 'utf8')), evalReturn }));
    }
    const out = join(dir, 'sac');
    const bad = await spawnAsync(process.execPath, [SCRIPT, '--source', 'sac', '--sac-runs', runs, '--envs', 'hopper', '--sac-expert', 'last', '--out', out]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--sac-expert must be one of best, final, got last/);
    const r = await spawnAsync(
      process.execPath,
      [SCRIPT, '--source', 'sac', '--sac-runs', runs, '--envs', 'hopper', '--datasets', 'random,medium-replay,medium-expert', '--steps', '800', '--out', out, '--workers', '1'],
    );
    expect(r.status, r.stderr).toBe(0);
    const medium = /medium (\S+)step-0*(\d+) \(/.exec(r.stderr);
    expect(medium, r.stderr).not.toBeNull();
    const mediumStep = Number(medium![2]);
    expect(mediumStep).toBe(200);
    expect(r.stderr).toMatch(/SAC expert \S+step-00000400 \(90\.0\)/);
    const history = await readD4rlFile(join(runs, 'hopper-s0', SAC_RUN_FILES.experience));
    const mr = await readD4rlFile(join(out, 'hopper-medium-replay-sac.hdf5'), { envId: 'hopper-medium-replay-v2' });
    expect(mr.N).toBe(mediumStep);
    expect(mr.observations).toEqual(history.observations.subarray(0, mediumStep * 11));
    expect(mr.actions).toEqual(history.actions.subarray(0, mediumStep * 3));
    expect(mr.terminals[mr.N - 1] === 1 || mr.timeouts[mr.N - 1] === 1).toBe(true);
    const m = await readD4rlFile(join(out, 'hopper-medium-sac.hdf5'), { envId: 'hopper-medium-v2' });
    const me = await readD4rlFile(join(out, 'hopper-medium-expert-sac.hdf5'), { envId: 'hopper-medium-expert-v2' });
    expect([m.N, me.N]).toEqual([800, 1600]);
    expect(String(m.metadata.behaviour)).toMatch(/SAC policy .*step-0*\d+.*actions sampled/);
    expect(m.metadata.action_noise).toBe(0);
    const random = await readD4rlFile(join(out, 'hopper-random-sac.hdf5'), { envId: 'hopper-random-v2' });
    expect(String(random.metadata.behaviour)).toMatch(/untrained SAC policy .*step-00000000/);
    // Sampled actions: tanh of a Gaussian, strictly inside the bounds.
    expect(Array.from(m.actions).every((x) => x > -1 && x < 1)).toBe(true);
    for (const ds of [m, me, mr]) expect(qlearningDataset(ds).N).toBeGreaterThan(0);
    const manifest = JSON.parse(readFileSync(join(out, 'datasets-manifest.json'), 'utf8')) as Record<string, { rows: number; actionNoise: number }>;
    expect(manifest['hopper-medium-expert-sac'].rows).toBe(1600);
    // Sampled from the policy, no noise added (the --action-noise default is for ARS data).
    expect(manifest['hopper-medium-sac'].actionNoise).toBe(0);
  });

  it('--sac-select-episodes chooses expert and medium by re-evaluating every snapshot here', { timeout: 180_000 }, async () => {
    // Runs after the test above, on its SAC run (whose recorded evaluations it overwrote).
    const { evaluate } = await import('../eval/evaluate.js');
    const { preparePolicy } = await import('../src/policy/kinds.js');
    const runDir = join(dir, 'sac-runs', 'hopper-s0');
    // A run this short may score best at its first snapshot, which leaves no medium before it: an
    // early copy of the last snapshot (step 100) gives the choice an earlier candidate.
    cpSync(join(runDir, 'step-00000600'), join(runDir, 'step-00000100'), { recursive: true });
    const cfgPath = join(runDir, 'step-00000100', 'config.json');
    writeFileSync(cfgPath, JSON.stringify({ ...JSON.parse(readFileSync(cfgPath, 'utf8')), step: 100 }));
    const out = join(dir, 'sac-select');
    const r = await spawnAsync(
      process.execPath,
      [SCRIPT, '--source', 'sac', '--sac-runs', join(dir, 'sac-runs'), '--envs', 'hopper', '--datasets', 'medium', '--steps', '200', '--sac-select-episodes', '3', '--seed', '5', '--out', out, '--workers', '1'],
    );
    expect(r.status, r.stderr).toBe(0);
    // The same evaluation, done here independently: 3 episodes of policy-mean.onnx, run seed 5.
    const mean: Record<string, number> = {};
    const snaps = ['step-00000100', 'step-00000200', 'step-00000400', 'step-00000600'];
    for (const snap of [...snaps, 'final']) {
      const envId = 'hopper-medium-v2';
      const prepared = await preparePolicy({ policy: join(runDir, snap, 'policy-mean.onnx'), env: [envId], flags: {} }, ROOT);
      const doc = await evaluate({ env: envId, policy: prepared.ref, episodes: 3, seed: 5, workers: 1 });
      mean[snap] = doc.results[0]!.summary!.returnMean;
      expect(r.stderr).toContain(`${snap} run's evaluation`);
      expect(r.stderr).toContain(`over 3 episodes ${mean[snap].toFixed(1)}`);
    }
    // Expert: the best of them, final/ on a tie; medium: the earlier one closest to a third of it.
    const expert = snaps.reduce((b, s) => (mean[s]! > mean[b]! ? s : b), 'final');
    const expertStep = expert === 'final' ? 600 : Number(expert.slice(5));
    const earlier = snaps.filter((s) => Number(s.slice(5)) < expertStep);
    expect(earlier.length).toBeGreaterThan(0);
    const chosen = /SAC expert (\S+) \(([-\d.]+)\), medium (\S+) \(/.exec(r.stderr);
    expect(chosen, r.stderr).not.toBeNull();
    expect(chosen![1]).toMatch(new RegExp(`${expert}$`));
    expect(Number(chosen![2])).toBeCloseTo(mean[expert]!, 1);
    const goal = mean[expert]! / 3;
    const medium = earlier.reduce((b, s) => (Math.abs(mean[s]! - goal) < Math.abs(mean[b]! - goal) ? s : b));
    expect(chosen![3]).toMatch(new RegExp(`${medium}$`));
    expect(r.stderr).toMatch(/deterministic policy over 3 episodes, run seed 5/);
    const m = await readD4rlFile(join(out, 'hopper-medium-sac.hdf5'), { envId: 'hopper-medium-v2' });
    expect(String(m.metadata.behaviour)).toMatch(/deterministic policy over 3 episodes, run seed 5\), actions sampled/);
    // Only the SAC source has snapshots to re-evaluate.
    const bad = await spawnAsync(process.execPath, [SCRIPT, '--source', 'ars', '--envs', 'hopper', '--sac-select-episodes', '3', '--out', out]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--sac-select-episodes applies to --source sac only/);
  });
});
