/**
 * `node dist/scripts/screenshot.js PAGE.html OUT.png [--step N] [--width 1200 --height 700]`:
 * a PNG of a report or replay page in headless Chromium (Debian's /usr/bin/chromium, or
 * $CHROMIUM_PATH), for the README's pictures. `--step N` moves a replay page's slider first.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { step: { type: 'string' }, width: { type: 'string', default: '1200' }, height: { type: 'string', default: '700' } },
});
const [page, out] = positionals;
if (page === undefined || out === undefined) {
  process.stderr.write('usage: node dist/scripts/screenshot.js PAGE.html OUT.png [--step N] [--width W --height H]\n');
  process.exit(2);
}
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
try {
  const tab = await browser.newPage({ viewport: { width: Number(values.width), height: Number(values.height) } });
  await tab.goto(pathToFileURL(resolve(page)).href);
  if (values.step !== undefined) {
    await tab.waitForFunction(() => (window as unknown as { replay?: unknown }).replay !== undefined);
    await tab.evaluate((s) => (window as unknown as { replay: { setStep(n: number): void } }).replay.setStep(s), Number(values.step));
  }
  await tab.screenshot({ path: out });
  process.stderr.write(`screenshot: wrote ${out}\n`);
} finally {
  await browser.close();
}
