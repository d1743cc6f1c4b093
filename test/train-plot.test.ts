/**
 * `ofql-eval train --plot` (src/report/training-page.ts): the page is written during the run and
 * at its end, with the evaluations' learning curve and the training metrics, and opens offline.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src/ofql/index.js';
import { train } from '../src/train/index.js';
import { trainingPageHtml } from '../src/report/training-page.js';
import { writeBehaviourDataset } from './train-helpers.js';

let dir: string;
let dataset: string;

beforeAll(async () => {
  await initBackend('wasm');
  dir = mkdtempSync(join(tmpdir(), 'ofql-plot-'));
  dataset = join(dir, 'hopper.hdf5');
  await writeBehaviourDataset(dataset, { rows: 1000, seed: 1 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('train --plot', () => {
  it('keeps a page with the learning curve and the metrics up to date', async () => {
    const out = join(dir, 'run');
    const plot = join(dir, 'progress.html');
    await train({
      dataset,
      envId: 'hopper-medium-v2',
      out,
      steps: 6,
      overrides: { hiddenDim: 16, batchSize: 32 },
      logEvery: 2,
      saveEvery: 3,
      evalEvery: 3,
      evalEpisodes: 2,
      evalWorkers: 1,
      evalMaxEpisodeSteps: 20,
      evalInBackground: false,
      plot,
      log: () => {},
      print: () => {},
      progress: 'off',
      fsync: false,
    });
    const html = readFileSync(plot, 'utf8');
    expect(html).toBe(trainingPageHtml(out).replace(/Updated [^ ]+/, html.match(/Updated [^ ]+/)![0]));
    expect(html).toMatch(/Training run .*run/);
    expect(html).toMatch(/step 6, [\d.]+ steps\/s; last evaluation at step 6: normalised -?[\d.]+/);
    expect(html).toContain('aria-label="learning curves on hopper-medium-v2"');
    expect(html).toContain('aria-label="Losses"');
    expect(html).not.toMatch(/<script|src="http/);
  });
});
