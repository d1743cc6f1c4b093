/** SHA-256 helpers shared by the evaluator (policy/checkpoint identity), the gate, collect and the trainer (dataset identity). */
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';

/** SHA-256 (hex) of bytes or a string. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** SHA-256 (hex) of a small file, read at once (a policy module, a JSON file). */
export function sha256FileSync(path: string): string {
  return sha256Hex(readFileSync(path));
}

/** SHA-256 of a file, streamed (checkpoints and datasets can be large). */
export function sha256File(path: string): Promise<string> {
  return new Promise((res, rej) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (d) => h.update(d))
      .on('error', rej)
      .on('end', () => res(h.digest('hex')));
  });
}
