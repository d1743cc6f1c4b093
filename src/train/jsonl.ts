/**
 * JSON-lines logs of a training run (metrics.jsonl, eval.jsonl): appended line by line with a
 * write(2) per line (on disk for the OS at once; fsynced at every checkpoint), and cut back to a
 * step on resume so that the resumed run continues the file without duplicates.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';

export class JsonlWriter {
  private fd: number | null;
  constructor(readonly path: string) {
    this.fd = openSync(path, 'a');
  }

  append(record: Record<string, unknown>): void {
    if (this.fd === null) throw new Error(`${this.path}: log already closed`);
    writeSync(this.fd, `${JSON.stringify(record)}\n`);
  }

  /** Make everything appended so far durable. */
  sync(): void {
    if (this.fd !== null) fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd === null) return;
    try {
      fsyncSync(this.fd);
    } finally {
      closeSync(this.fd);
      this.fd = null;
    }
  }
}

/**
 * Keep the lines of `path` whose `step` is <= `maxStep` (a resumed run rewrites what came after its
 * checkpoint), stopping at the first line that is not a complete JSON object (the torn last line
 * of a crashed run). Rewritten atomically (temp file + rename). Returns {kept, dropped}.
 */
export function truncateJsonlAfterStep(path: string, maxStep: number): { kept: number; dropped: number } {
  if (!existsSync(path)) return { kept: 0, dropped: 0 };
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const keep: string[] = [];
  for (const line of lines) {
    let rec: unknown;
    try {
      rec = JSON.parse(line);
    } catch {
      break;
    }
    const step = (rec as { step?: unknown } | null)?.step;
    if (typeof step !== 'number' || step > maxStep) break;
    keep.push(line);
  }
  const dropped = lines.length - keep.length;
  if (dropped > 0 || (text.length > 0 && !text.endsWith('\n'))) {
    const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, keep.map((l) => `${l}\n`).join(''));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  }
  return { kept: keep.length, dropped };
}

/** Parse a JSONL file (tests, tools). */
export function readJsonl(path: string): Array<Record<string, unknown>> {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
