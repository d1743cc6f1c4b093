/**
 * Recorded rollouts (`--record N`, eval/recording.ts) and their replay page (`ofql-eval view`,
 * src/view/*): what is recorded, that it does not depend on the worker count and survives a merge,
 * and the page in a real headless Chromium: it loads from file://, draws, and the slider moves
 * the robot. Needs Debian's chromium (.ci/run installs it) or $CHROMIUM_PATH.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluate } from '../eval/evaluate.js';
import { mergeResults } from '../eval/merge.js';
import { decodeRecording } from '../eval/recording.js';
import { type EvalResultDocument, writeResultFile } from '../eval/result.js';
import { viewPage } from '../src/commands/view.js';
import { makeEnv } from '../src/make-env.js';
import { deriveSeed } from '../src/rng.js';
import { ROOT, fixture } from './eval-helpers.js';

const CLI = join(ROOT, 'dist', 'src', 'cli.js');
const tmp = mkdtempSync(join(tmpdir(), 'ofql-view-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const cli = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: tmp, timeout: 120_000 });

/** Debian's chromium, or $CHROMIUM_PATH. */
function chromiumPath(): string {
  const p = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(p)) throw new Error(`the replay test needs a Chromium at ${p} (apt-get install chromium, or set CHROMIUM_PATH)`);
  return p;
}

const opts = { env: 'hopper-medium-v2', policy: fixture('linear.mjs'), episodes: 4, maxEpisodeSteps: 60, batchSize: 2, record: 2 } as const;
let one: EvalResultDocument;

beforeAll(async () => {
  one = await evaluate({ ...opts, workers: 1 });
});

describe('--record', () => {
  it('keeps qpos after reset and after every step, and the rewards, of the first N episodes', async () => {
    const r = one.results[0]!;
    expect(r.recordings!.map((x) => x.episode)).toEqual([0, 1]);
    const env = await makeEnv('hopper-medium-v2');
    try {
      for (const rec of r.recordings!) {
        const j = r.episodes.indexOf(rec.episode);
        expect(rec.steps).toBe(r.lengths[j]);
        const { qpos, rewards } = decodeRecording(rec, 'test');
        expect(qpos.length).toBe((rec.steps + 1) * rec.nq);
        env.reset(deriveSeed(0, rec.episode));
        expect(Array.from(qpos.subarray(0, rec.nq))).toEqual(Array.from(Float32Array.from(env.getState().qpos)));
        const sum = rewards.reduce((s, x) => s + x, 0);
        expect(sum).toBeCloseTo(r.returns[j]!, 2); // float32 rewards, float64 return
      }
    } finally {
      env.close();
    }
  });

  it('records the same with 2 workers, and a merge of shards keeps every recording', async () => {
    const two = await evaluate({ ...opts, workers: 2 });
    expect(two.results[0]!.recordings).toEqual(one.results[0]!.recordings);
    const shards = await Promise.all([0, 1].map((i) => evaluate({ ...opts, workers: 1, shard: `${i}/2` })));
    const merged = mergeResults(shards.map((doc, i) => ({ file: `s${i}.json`, doc })));
    expect(merged.results[0]!.recordings).toEqual(one.results[0]!.recordings);
  });

  it('is bounded, and view says what to do without recordings', () => {
    const big = cli(['--env', 'hopper-medium-v2', '--policy', 'zero', '--episodes', '2', '--record', '1000']);
    expect(big.status).toBe(2);
    expect(big.stderr).toMatch(/--record keeps at most 100 episodes per env/);
    const plain = join(tmp, 'plain.json');
    writeResultFile(plain, { ...one, results: one.results.map(({ recordings: _, ...r }) => r) });
    const v = cli(['view', plain, '-o', join(tmp, 'x.html')]);
    expect(v.status).toBe(1);
    expect(v.stderr).toMatch(/no recorded episodes; evaluate with --record N/);
  });
});

describe('the replay page in headless Chromium', () => {
  it('loads from file://, draws the robot, and the slider moves it', async () => {
    const file = join(tmp, 'r.json');
    writeResultFile(file, one);
    const page = join(tmp, 'replay.html');
    writeFileSync(page, await viewPage(file));
    const browser = await chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox'] });
    try {
      const tab = await browser.newPage();
      const errors: string[] = [];
      tab.on('pageerror', (e) => errors.push(e.message));
      await tab.goto(pathToFileURL(page).href);
      await tab.waitForFunction(() => (window as unknown as { replay?: unknown }).replay !== undefined);
      // Pixels that differ from the sky and ground colours: the robot.
      const robotPixels = () =>
        tab.evaluate(() => {
          const c = document.getElementById('scene') as HTMLCanvasElement;
          const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
          let n = 0;
          for (let i = 0; i < d.length; i += 4) if (d[i]! < 200 && d[i + 2]! < 150) n++;
          return n;
        });
      const snapshot = () => tab.evaluate(() => (document.getElementById('scene') as HTMLCanvasElement).toDataURL());
      expect(await robotPixels()).toBeGreaterThan(500);
      const first = await snapshot();
      const steps = one.results[0]!.recordings![0]!.steps;
      await tab.evaluate((v) => {
        const s = document.getElementById('step') as HTMLInputElement;
        s.value = String(v);
        s.dispatchEvent(new Event('input'));
      }, steps);
      expect(await tab.evaluate(() => (window as unknown as { replay: { frame: number } }).replay.frame)).toBe(steps);
      expect(await snapshot()).not.toBe(first);
      expect(await robotPixels()).toBeGreaterThan(500);
      expect(await tab.textContent('#info')).toMatch(new RegExp(`step ${steps} / ${steps}, return so far`));
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
