/**
 * Writing one "## ..." section of a markdown report (docs/benchmarks.md) atomically, leaving the
 * file's other sections as they are. Shared by the scripts that write docs/benchmarks.md and docs/results.md.
 */
import { existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from '../src/atomic-write.js';

/**
 * Replace (or append) the section headed by the line `title` in the markdown file at `path`
 * with `section` (which starts with that heading line); other sections are left as they are.
 * The section ends at the next "# " or "## " heading. Written atomically (temp file + rename).
 */
export function replaceSection(path: string, section: string, title: string): void {
  const old = existsSync(path) ? readFileSync(path, 'utf8') : '# Benchmarks\n';
  const lines = old.split('\n');
  const start = lines.findIndex((l) => l.trim() === title);
  let out: string;
  if (start < 0) {
    out = `${old.replace(/\n*$/, '\n\n')}${section}`;
  } else {
    let end = lines.findIndex((l, i) => i > start && /^##? /.test(l));
    if (end < 0) end = lines.length;
    out = [...lines.slice(0, start), ...section.replace(/\n$/, '').split('\n'), '', ...lines.slice(end)].join('\n');
  }
  writeFileAtomic(path, out.replace(/\n*$/, '\n'));
}

/** The median of the rounds of a benchmark (the mean of the two middle values for an even count). */
export function median(xs: readonly number[]): number {
  const a = [...xs].sort((p, q) => p - q);
  const m = a.length >> 1;
  return a.length % 2 ? a[m]! : (a[m - 1]! + a[m]!) / 2;
}

/** A timing of one contender at one batch size: median ms per call over the rounds. */
export interface BatchTiming<N extends string = string> {
  name: N;
  batch: number;
  msPerCall: number;
}

/**
 * Median-of-rounds ms per call of each contender at each batch size. Every round measures each
 * batch size for each contender back to back, so background load falls on all of them alike.
 * Rows come in order batch, then contender.
 */
export async function timeInRounds<N extends string, C>(
  rounds: number,
  batches: readonly number[],
  contenders: ReadonlyArray<readonly [N, C]>,
  measure: (contender: C, batch: number) => Promise<number>,
): Promise<BatchTiming<N>[]> {
  const samples = new Map<string, { name: N; batch: number; ms: number[] }>();
  for (let r = 0; r < rounds; r++) {
    for (const batch of batches) {
      for (const [name, contender] of contenders) {
        const key = `${name}|${batch}`;
        const entry = samples.get(key) ?? { name, batch, ms: [] };
        entry.ms.push(await measure(contender, batch));
        samples.set(key, entry);
      }
    }
  }
  return [...samples.values()].map(({ name, batch, ms }) => ({ name, batch, msPerCall: median(ms) }));
}

/** The batch sizes of `rows`, in first-seen order. */
export function batchesOf(rows: readonly BatchTiming[]): number[] {
  return [...new Set(rows.map((r) => r.batch))];
}

/** ms per call of `name` at `batch` (undefined: not measured). */
export function msAt(rows: readonly BatchTiming[], name: string, batch: number): number | undefined {
  return rows.find((r) => r.name === name && r.batch === batch)?.msPerCall;
}
