/** Baseline documents (eval/gate/baseline.ts): round trip, validation, checkpoint digests. */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  BaselineFormatError,
  baselineFromResult,
  checkBaselineDocument,
  digestCheckpoint,
  readBaselineFile,
  writeBaselineFile,
} from '../eval/gate/baseline.js';
import { writeResultFile } from '../eval/result.js';
import { scoresAround, syntheticResult } from './regress-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'ofql-baseline-'));
const sha = (s: string | Buffer): string => createHash('sha256').update(s).digest('hex');

describe('baseline documents', () => {
  // Every env of a result has the run's episode count (the gate cross-checks it): 4 x the same 3 scores.
  const walker = [80.5, 81.25, 79.125, 80.5, 81.25, 79.125, 80.5, 81.25, 79.125, 80.5, 81.25, 79.125];
  const doc = syntheticResult({ scores: { 'hopper-medium-v2': scoresAround(55, 7, 12), 'walker2d-medium-v2': walker }, seed: 3, ckpt: '/x/ckpt.safetensors', ckptSha256: 'b'.repeat(64) });

  it('round-trips exactly and keeps per-episode data, settings, identity and versions', () => {
    const b = baselineFromResult(doc, { source: { kind: 'results', file: 'r.json', fileSha256: 'c'.repeat(64) }, label: 'L', command: ['ofql-eval', 'baseline'] });
    writeBaselineFile(join(dir, 'b.json'), b);
    const back = readBaselineFile(join(dir, 'b.json'));
    expect(back).toEqual(b);
    const w = back.envs[1];
    expect(w.normalizedScores).toEqual(walker);
    expect(w.mean).toBeCloseTo(80.29166666666667, 12);
    expect(w.std).toBeCloseTo(Math.sqrt((4 * ((80.5 - 80.291666) ** 2 + (81.25 - 80.291666) ** 2 + (79.125 - 80.291666) ** 2)) / 11), 5);
    expect(w.ci95![0]).toBeLessThan(w.mean);
    expect(w.returns).toEqual(doc.results[1].returns);
    expect(w.seeds).toEqual(doc.results[1].seeds);
    expect(back.settings).toEqual({ seed: 3, episodes: 12, maxEpisodeSteps: 1000, d4rlComparable: true, batchSize: 8, chunkSize: 8, policyTimeoutMs: 60000 });
    expect(back.policy.ckptDigest).toEqual({ algorithm: 'sha256', value: 'b'.repeat(64), files: 1, hashedAt: 'evaluation' });
    expect(back.mujoco.packageVersion).toBe('3.14.0');
  });

  it('rejects what regress cannot use, with the reason', () => {
    const good = JSON.parse(JSON.stringify(baselineFromResult(doc, { source: { kind: 'run' } }))) as Record<string, unknown>;
    const bad = (patch: (d: Record<string, any>) => void): unknown => {
      const d = structuredClone(good) as Record<string, any>;
      patch(d);
      return d;
    };
    expect(() => checkBaselineDocument(bad((d) => (d.schemaVersion = 2)), 'b.json')).toThrow(/schemaVersion 2 is not supported/);
    expect(() => checkBaselineDocument(bad((d) => (d.kind = 'ofql-eval/result')), 'b.json')).toThrow(/this is a result file: make a baseline with 'ofql-eval baseline --results b\.json/);
    expect(() => checkBaselineDocument(bad((d) => (d.envs[0].normalizedScores = [1])), 'b.json')).toThrow(/at least 2 are needed/);
    expect(() => checkBaselineDocument(bad((d) => (d.envs[0].normalizedScores[2] = null)), 'b.json')).toThrow(/finite numbers/);
    expect(() => checkBaselineDocument(bad((d) => (d.envs[1].envId = d.envs[0].envId)), 'b.json')).toThrow(/appears twice/);
    expect(() => checkBaselineDocument(bad((d) => delete d.settings.maxEpisodeSteps), 'b.json')).toThrow(/settings\.maxEpisodeSteps/);
    expect(() => checkBaselineDocument(bad((d) => (d.envs[0].n = 99)), 'b.json')).toThrow(/n is 99/);
    expect(() => readBaselineFile(join(dir, 'nope.json'))).toThrow(BaselineFormatError);
    writeFileSync(join(dir, 'bad.json'), '{ not json');
    expect(() => readBaselineFile(join(dir, 'bad.json'))).toThrow(/not valid JSON/);
    writeResultFile(join(dir, 'result.json'), doc);
    expect(() => readBaselineFile(join(dir, 'result.json'))).toThrow(/this is a result file/);
  });

  it('digests checkpoint files and directories (sha256sum-style tree digest)', () => {
    const ck = join(dir, 'ckpt');
    mkdirSync(join(ck, 'sub'), { recursive: true });
    writeFileSync(join(ck, 'config.json'), '{"a":1}');
    writeFileSync(join(ck, 'model.safetensors'), Buffer.from([1, 2, 3]));
    writeFileSync(join(ck, 'sub', 'x.txt'), 'x');
    const tree = digestCheckpoint(ck, 'evaluation')!;
    const expected = sha(
      `${sha('{"a":1}')}  config.json\n${sha(Buffer.from([1, 2, 3]))}  model.safetensors\n${sha('x')}  sub/x.txt\n`,
    );
    expect(tree).toEqual({ algorithm: 'sha256-tree', value: expected, files: 3, hashedAt: 'evaluation' });
    expect(digestCheckpoint(join(ck, 'config.json'), 'baseline')).toEqual({ algorithm: 'sha256', value: sha('{"a":1}'), files: 1, hashedAt: 'baseline' });
    expect(digestCheckpoint(join(dir, 'absent'), 'baseline')).toBeNull();
    expect(digestCheckpoint(null, 'baseline')).toBeNull();
    writeFileSync(join(ck, 'sub', 'x.txt'), 'y');
    expect(digestCheckpoint(ck, 'evaluation')!.value).not.toBe(expected);
  });
});
