import { describe, expect, it } from 'vitest';
import { chunksOfShard, episodesOfShard, parseShard, partitionEpisodes } from '../eval/schedule.js';
import { EnvListError, SUITES, expandEnvList } from '../eval/suites.js';

describe('partitionEpisodes', () => {
  it('covers 0..N-1 exactly once, in order, chunks <= C, shrinking at the end', () => {
    for (const [n, c] of [[150, 8], [150, 16], [7, 8], [1, 1], [1000, 4], [3, 1]]) {
      const chunks = partitionEpisodes(n, c);
      let next = 0;
      for (const ch of chunks) {
        expect(ch.start).toBe(next);
        expect(ch.end - ch.start).toBeGreaterThan(0);
        expect(ch.end - ch.start).toBeLessThanOrEqual(c);
        next = ch.end;
      }
      expect(next).toBe(n);
      expect(chunks.at(-1)!.end - chunks.at(-1)!.start).toBe(1);
    }
    expect(partitionEpisodes(12, 8).map((c) => c.end - c.start)).toEqual([3, 3, 2, 2, 1, 1]);
    expect(partitionEpisodes(0, 8)).toEqual([]);
  });
  it('rejects bad sizes', () => {
    expect(() => partitionEpisodes(-1, 8)).toThrow(RangeError);
    expect(() => partitionEpisodes(10, 0)).toThrow(RangeError);
  });
});

describe('shards', () => {
  it('parseShard', () => {
    expect(parseShard('0/4')).toEqual({ index: 0, count: 4 });
    expect(parseShard(' 3 / 4 ')).toEqual({ index: 3, count: 4 });
    expect(() => parseShard('4/4')).toThrow(/numbered from 0/);
    expect(() => parseShard('1/0')).toThrow(/at least 1/);
    expect(() => parseShard('a/b')).toThrow(/i\/n/);
    expect(() => parseShard('1')).toThrow(/i\/n/);
  });
  it('shards are disjoint, cover every episode, take whole chunks and are balanced', () => {
    for (const [n, c, k] of [[150, 8, 2], [150, 8, 3], [150, 8, 7], [20, 8, 3], [1000, 16, 10]]) {
      const all = Array.from({ length: k }, (_, i) => episodesOfShard(n, c, { index: i, count: k }));
      expect(all.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
      const whole = partitionEpisodes(n, c).map((r) => `${r.start}-${r.end}`);
      for (let i = 0; i < k; i++) {
        for (const ch of chunksOfShard(n, c, { index: i, count: k })) expect(whole).toContain(`${ch.start}-${ch.end}`);
      }
      if (n >= 150) for (const s of all) expect(Math.abs(s.length - n / k)).toBeLessThanOrEqual(c);
    }
  });
});

describe('--env lists', () => {
  it('comma lists, suites, dedup', () => {
    expect(expandEnvList('hopper-medium-v2, walker2d-medium-v2')).toEqual(['hopper-medium-v2', 'walker2d-medium-v2']);
    expect(expandEnvList(['hopper-medium-v2', 'hopper-medium-v2'])).toEqual(['hopper-medium-v2']);
    expect(expandEnvList('d4rl-locomotion')).toEqual(SUITES['d4rl-locomotion']);
    expect(SUITES['d4rl-locomotion']).toHaveLength(9);
  });
  it('clear errors', () => {
    expect(() => expandEnvList('nope-v0')).toThrow(EnvListError);
    expect(() => expandEnvList('nope-v0')).toThrow(/unknown environment 'nope-v0'/);
    expect(() => expandEnvList('pen-human-v1')).toThrow(/normalisation only/);
    expect(() => expandEnvList(' , ')).toThrow(/no environment/);
  });
});
