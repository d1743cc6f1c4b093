/** --shard i/n + merge == the unsharded run; merge refuses what does not belong together. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { evaluate } from '../eval/evaluate.js';
import { MergeError, mergeResults } from '../eval/merge.js';
import {
  type EvalResultDocument,
  ResultFormatError,
  checkResultDocument,
  readResultFile,
  writeResultFile,
} from '../eval/result.js';
import { fixture } from './eval-helpers.js';

const opts = {
  env: 'hopper-medium-v2,halfcheetah-medium-v2',
  policy: fixture('linear.mjs'),
  episodes: 20,
  seed: 3,
  maxEpisodeSteps: 40,
  workers: 2,
} as const;

let whole: EvalResultDocument;
let shards: EvalResultDocument[];
const dir = mkdtempSync(join(tmpdir(), 'ofql-merge-'));

const inputs = (docs: EvalResultDocument[]) => docs.map((doc, i) => ({ file: `s${i}.json`, doc }));
const clone = (d: EvalResultDocument): EvalResultDocument => JSON.parse(JSON.stringify(d)) as EvalResultDocument;

beforeAll(async () => {
  whole = await evaluate(opts);
  shards = [];
  for (let i = 0; i < 3; i++) shards.push(await evaluate({ ...opts, shard: `${i}/3`, workers: 1 + (i % 2) }));
}, 120_000);

describe('shard + merge', () => {
  it('shards split the episodes', () => {
    const counts = shards.map((s) => s.results[0].episodes.length);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(20);
    for (const s of shards) {
      expect(s.complete).toBe(true);
      expect(s.results[0].pendingEpisodes).toEqual([]);
      expect(s.settings.shard!.count).toBe(3);
    }
  });

  it('merging the shards (in any order, through files) gives exactly the unsharded result', () => {
    const files = shards.map((s, i) => {
      const f = join(dir, `shard-${i}.json`);
      writeResultFile(f, s);
      return f;
    });
    const read = [files[2], files[0], files[1]].map((file) => ({ file, doc: readResultFile(file) }));
    const merged = mergeResults(read);
    expect(merged.complete).toBe(true);
    expect(merged.settings.shard).toBeNull();
    expect(merged.mergedFrom).toHaveLength(3);
    for (const [k, r] of merged.results.entries()) {
      const w = whole.results[k];
      expect(r.envId).toBe(w.envId);
      expect(r.episodes).toEqual(w.episodes);
      expect(r.seeds).toEqual(w.seeds);
      expect(r.returns).toEqual(w.returns); // bit for bit (toEqual on numbers is Object.is)
      expect(r.lengths).toEqual(w.lengths);
      expect(r.normalizedScores).toEqual(w.normalizedScores);
      expect(r.terminated).toEqual(w.terminated);
      expect(r.summary).toEqual(w.summary);
      expect(r.timing.envSteps).toBe(w.timing.envSteps);
    }
    expect(merged.policy.sha256).toBe(whole.policy.sha256);
  });

  it('the JSON file round-trips every float exactly and is written atomically', () => {
    const f = join(dir, 'whole.json');
    writeResultFile(f, whole);
    const back = readResultFile(f);
    expect(back.results[0].returns).toEqual(whole.results[0].returns);
    expect(back.results[0].summary).toEqual(whole.results[0].summary);
    const text = readFileSync(f, 'utf8');
    expect(text).toMatch(/"schemaVersion": 1,/);
    expect(text).toMatch(/"returns": \[-?\d/); // per-episode arrays on one line
  });

  it('an incomplete merge is refused, or written with --allow-incomplete', () => {
    expect(() => mergeResults(inputs([shards[0], shards[2]]))).toThrow(MergeError);
    expect(() => mergeResults(inputs([shards[0], shards[2]]))).toThrow(/misses \d+ of 20 episodes .*shards not given: 1\/3/);
    const partial = mergeResults(inputs([shards[0], shards[2]]), { allowIncomplete: true });
    expect(partial.complete).toBe(false);
    expect(partial.results[0].pendingEpisodes).toEqual(shards[1].results[0].episodes);
  });

  it('overlapping shards are refused', () => {
    expect(() => mergeResults(inputs([shards[0], shards[1], shards[1]]))).toThrow(/shard 1\/3 is given twice: s1\.json and s2\.json/);
    const fake = clone(shards[2]);
    fake.settings.shard = { index: 1, count: 3 };
    const other = clone(shards[1]);
    other.settings.shard = { index: 2, count: 3 };
    other.results[0].episodes = [...shards[2].results[0].episodes];
    expect(() => mergeResults(inputs([shards[0], fake, other]))).toThrow(/episode \d+ is in both/);
    expect(() => mergeResults(inputs([whole, shards[0]]))).toThrow(/split the run differently/);
  });

  it.each([
    ['seed', (d: EvalResultDocument) => void (d.settings.seed = 4), /different seed \(--seed\)/],
    ['episodes', (d: EvalResultDocument) => void (d.settings.episodes = 30), /different episodes in the whole run/],
    ['env', (d: EvalResultDocument) => void (d.results[0].envId = 'walker2d-medium-v2'), /different environments/],
    ['policy', (d: EvalResultDocument) => void (d.policy.sha256 = 'f'.repeat(64)), /different policy/],
    ['ckpt', (d: EvalResultDocument) => void (d.policy.ckpt = '/a/b.ckpt'), /different checkpoint/],
    ['horizon', (d: EvalResultDocument) => void (d.settings.maxEpisodeSteps = 1000), /different max episode steps/],
    ['batch', (d: EvalResultDocument) => void (d.settings.batchSize = 4), /different batch size/],
    ['sampler', (d: EvalResultDocument) => void (d.results[1].policyDescription += ', sampler dql'), /different policy description for halfcheetah-medium-v2 .*--sampler/],
  ])('mismatched runs are refused: %s', (_what, mutate, message) => {
    const bad = clone(shards[1]);
    mutate(bad);
    expect(() => mergeResults(inputs([shards[0], bad, shards[2]]))).toThrow(message);
  });

  it('a checkpoint path inside the policy description may differ between machines', () => {
    const a = clone(shards[0]);
    const b = clone(shards[1]);
    const c = clone(shards[2]);
    for (const [d, path] of [[a, '/runner-1/ckpt'], [b, '/runner-2/ckpt'], [c, '/runner-3/ckpt']] as const) {
      d.policy.ckpt = path;
      for (const r of d.results) r.policyDescription = `model at ${path}, sampler one-step`;
    }
    // ckptIdentity compares the basename when there is no file hash: the same 'ckpt' here.
    expect(mergeResults(inputs([a, b, c])).complete).toBe(true);
  });

  it('tampered seeds are refused', () => {
    const bad = clone(shards[1]);
    bad.results[0].seeds[0] += 1;
    expect(() => mergeResults(inputs([shards[0], bad, shards[2]]))).toThrow(/has seed \d+, expected deriveSeed/);
  });

  it('files that are not results are refused', () => {
    const f = join(dir, 'not-result.json');
    writeFileSync(f, '{"hello": 1}');
    expect(() => readResultFile(f)).toThrow(ResultFormatError);
    expect(() => readResultFile(f)).toThrow(/not an ofql-eval result/);
    expect(() => checkResultDocument({ ...clone(whole), schemaVersion: 2 })).toThrow(/schemaVersion 2 is not supported/);
    expect(() => readResultFile(join(dir, 'missing.json'))).toThrow(/cannot read/);
  });
});
