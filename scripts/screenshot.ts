/**
 * `node dist/scripts/screenshot.js PAGE.html OUT.png [--step N] [--width 1200 --height 700]`:
 * a PNG of a report or replay page in headless Chromium (Debian's /usr/bin/chromium, or
 * $CHROMIUM_PATH), for the README's pictures. `--step N` moves a replay page's slider first.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { intFlag, scriptArgs } from './script-args.js';

const { values, positionals, fail } = scriptArgs(
  'screenshot',
  'usage: node dist/scripts/screenshot.js PAGE.html OUT.png [--step N] [--width 1200 --height 700]',
  { step: { type: 'string' }, width: { type: 'string' }, height: { type: 'string' } },
  true,
);
const [page, out] = positionals;
if (page === undefined || out === undefined || positionals.length > 2) fail('give the page and the PNG to write');
const width = intFlag(values.width, 'width', 1200, 1, fail);
const height = intFlag(values.height, 'height', 700, 1, fail);
const step = values.step === undefined ? undefined : intFlag(values.step, 'step', 0, 0, fail);
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
try {
  const tab = await browser.newPage({ viewport: { width, height } });
  await tab.goto(pathToFileURL(resolve(page)).href);
  if (step !== undefined) {
    await tab.waitForFunction(() => (window as unknown as { replay?: unknown }).replay !== undefined);
    await tab.evaluate((s) => (window as unknown as { replay: { setStep(n: number): void } }).replay.setStep(s), step);
  }
  await tab.screenshot({ path: out });
  process.stderr.write(`screenshot: wrote ${out}\n`);
} finally {
  await browser.close();
}
