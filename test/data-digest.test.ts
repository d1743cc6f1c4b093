/** d4rlContentSha256: identical content -> identical digest whatever the file bytes; any change -> another digest. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { d4rlContentSha256, readD4rlFile, writeD4rlFile } from '../src/data/index.js';

const dir = mkdtempSync(join(tmpdir(), 'ofql-digest-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const data = () => ({
  observations: Float32Array.from({ length: 12 }, (_, i) => i / 7),
  actions: Float32Array.from({ length: 4 }, (_, i) => -i / 3),
  rewards: Float32Array.of(1, 2, 3, 4),
  terminals: Uint8Array.of(0, 1, 0, 0),
  timeouts: Uint8Array.of(0, 0, 0, 1),
});
const view = (d: ReturnType<typeof data>, observationSize = 3) => ({ ...d, N: 4, observationSize, actionSize: 1 });

describe('d4rlContentSha256', () => {
  it('is the same for two files with the same data and different bytes (bool storage, metadata)', async () => {
    const a = join(dir, 'a.hdf5');
    const b = join(dir, 'b.hdf5');
    await writeD4rlFile(a, data());
    await writeD4rlFile(b, data(), { boolDtype: 'uint8', metadata: { note: 'other bytes' } });
    expect(readFileSync(a)).not.toEqual(readFileSync(b));
    const da = d4rlContentSha256(await readD4rlFile(a));
    expect(da).toMatch(/^[0-9a-f]{64}$/);
    expect(d4rlContentSha256(await readD4rlFile(b))).toBe(da);
    expect(d4rlContentSha256(view(data()))).toBe(da);
  });

  it('changes with any value, flag or layout', () => {
    const base = d4rlContentSha256(view(data()));
    for (const field of ['observations', 'actions', 'rewards', 'terminals', 'timeouts'] as const) {
      const d = data();
      d[field][1] = d[field][1]! + 1;
      expect(d4rlContentSha256(view(d)), field).not.toBe(base);
    }
    // same bytes, other widths (obs 3 x 4 rows vs ... a width mismatch is an error instead)
    expect(() => d4rlContentSha256(view(data(), 2))).toThrow(/observations has 12 entries, expected 4 x 2/);
  });
});
