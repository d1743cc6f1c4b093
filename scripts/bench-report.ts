/**
 * Writing one "## ..." section of a markdown report (docs/benchmarks.md) atomically, leaving the
 * file's other sections as they are. Shared by scripts/bench-env.ts, bench-eval.ts and bench-policy.ts.
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

/** Replace (or append) our section of a markdown file, leaving other sections intact. */
export function upsertSection(existing: string | null, title: string, body: string): string {
  const section = `${title}\n\n${body.trimEnd()}\n`;
  if (existing === null || existing.trim() === '') return `# Benchmarks\n\n${section}`;
  const lines = existing.split('\n');
  const start = lines.findIndex((l) => l.trimEnd() === title);
  if (start < 0) return `${existing.trimEnd()}\n\n${section}`;
  let end = lines.length;
  for (let i = start + 1; i < lines.length; i++) {
    if (/^#{1,2} /.test(lines[i])) {
      end = i;
      break;
    }
  }
  const before = lines.slice(0, start).join('\n');
  const after = lines.slice(end).join('\n');
  return `${before}${before ? '\n' : ''}${section}${after ? `\n${after}` : ''}`.replace(/\n*$/, '\n');
}

/** The median of the rounds of a benchmark (the mean of the two middle values for an even count). */
export function median(xs: readonly number[]): number {
  const a = [...xs].sort((p, q) => p - q);
  const m = a.length >> 1;
  return a.length % 2 ? a[m]! : (a[m - 1]! + a[m]!) / 2;
}
