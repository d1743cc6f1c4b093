/**
 * The fidelity script's policy module, on tiny hand-made agents (no ../shared needed).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AgentFormatError, MlpPolicy, loadAgent, parseAgent, summarize } from '../scripts/fidelity-policy.js';

/** 2 inputs -> 3 hidden (relu) -> 2 outputs, with observation normalisation. */
function tinyAgent(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'tiny',
    env: 'Hopper-v3',
    published: { meanReturn: 1, stdReturn: 0, episodes: 1 },
    obsNorm: { mean: [1, -2], var: [4 - 1e-8, 0.25 - 1e-8], clip: 3, epsilon: 1e-8 },
    layers: [
      { shape: [3, 2], weight: [1, 0, 0, 1, 1, -1], bias: [0, 0.5, -10], activation: 'relu' },
      { shape: [2, 3], weight: [1, 0, 0, 0, 1, 1], bias: [0.25, 0], activation: 'none' },
    ],
    output: 'clip',
    note: 'hand-made test agent',
    ...overrides,
  };
}

describe('MlpPolicy', () => {
  it('normalises, clips the normalised observation, and runs the layers row-major', () => {
    const p = new MlpPolicy(parseAgent(tinyAgent()));
    expect(p.inputSize).toBe(2);
    expect(p.outputSize).toBe(2);
    // obs = [2, -2.25]: x = [(2-1)/2, (-2.25+2)/0.5] = [0.5, -0.5]
    // h = relu([0.5, -0.5 + 0.5, 0.5 + 0.5 - 10]) = [0.5, 0, 0]
    // y = [0.5 + 0.25, 0 + 0] -> clip -> [0.75, 0]
    const a = p.act([2, -2.25]);
    expect(a[0]).toBeCloseTo(0.75, 12);
    expect(a[1]).toBeCloseTo(0, 12);

    // obs = [100, -2]: x0 = 49.5 clipped to 3, x1 = 0 -> h = [3, 0.5, 0] -> y = [3.25, 0.5] -> clip -> [1, 0.5]
    const b = p.act([100, -2]);
    expect(b[0]).toBe(1);
    expect(b[1]).toBeCloseTo(0.5, 12);

    // lower clip: obs0 = -100 -> x0 = -3 -> h = [0, 0.5, 0] -> y = [0.25, 0.5]
    const c = p.act([-100, -2]);
    expect(c[0]).toBeCloseTo(0.25, 12);
    expect(c[1]).toBeCloseTo(0.5, 12);
  });

  it('clips the output to [-1, 1] in clip mode', () => {
    const agent = tinyAgent({
      obsNorm: null,
      layers: [{ shape: [2, 2], weight: [5, 0, 0, -5], bias: null, activation: 'none' }],
    });
    const p = new MlpPolicy(parseAgent(agent));
    expect(Array.from(p.act([1, 1]))).toEqual([1, -1]);
    expect(Array.from(p.act([0.1, 0.1]))).toEqual([0.5, -0.5]);
  });

  it('applies tanh to the output in tanh mode, and tanh hidden activations', () => {
    const agent = tinyAgent({
      obsNorm: null,
      layers: [
        { shape: [1, 2], weight: [1, 2], bias: [0.1], activation: 'tanh' },
        { shape: [1, 1], weight: [3], bias: [-0.2], activation: 'none' },
      ],
      output: 'tanh',
    });
    const p = new MlpPolicy(parseAgent(agent));
    const obs = [0.3, -0.4];
    const h = Math.tanh(0.3 + 2 * -0.4 + 0.1);
    const expected = Math.tanh(3 * h - 0.2);
    expect(p.act(obs)[0]).toBeCloseTo(expected, 14);
  });

  it('writes into a given buffer without reallocating and checks sizes', () => {
    const p = new MlpPolicy(parseAgent(tinyAgent()));
    const out = new Float64Array(2);
    expect(p.act([2, -2.25], out)).toBe(out);
    expect(() => p.act([1, 2, 3])).toThrow(RangeError);
    expect(() => p.act([1, 2], new Float64Array(3))).toThrow(RangeError);
  });
});

describe('parseAgent / loadAgent', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ofql-fidelity-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loads a file and keeps its fields', () => {
    const path = join(dir, 'tiny.json');
    writeFileSync(path, JSON.stringify(tinyAgent()));
    const a = loadAgent(path);
    expect(a.name).toBe('tiny');
    expect(a.env).toBe('Hopper-v3');
    expect(a.output).toBe('clip');
    expect(a.layers[1].bias).toEqual([0.25, 0]);
    expect(a.note).toBe('hand-made test agent');
  });

  it('rejects malformed agents with a message naming the field', () => {
    expect(() => parseAgent(tinyAgent({ output: 'softmax' }), 'x.json')).toThrow(/x\.json: field 'output'/);
    const badWeight = tinyAgent();
    (badWeight.layers as Array<{ weight: number[] }>)[0].weight = [1, 2, 3];
    expect(() => parseAgent(badWeight)).toThrow(/layers\[0\]\.weight must have 6 entries/);
    const badChain = tinyAgent();
    (badChain.layers as Array<{ shape: number[] }>)[1].shape = [2, 4];
    expect(() => parseAgent(badChain)).toThrow(/layers\[1\] takes 4 inputs/);
    const badNorm = tinyAgent({ obsNorm: { mean: [0], var: [1, 1], clip: 10, epsilon: 1e-8 } });
    expect(() => parseAgent(badNorm)).toThrow(/obsNorm\.mean must have 2 entries/);
    expect(() => parseAgent(tinyAgent({ layers: [{ shape: [1, 2], weight: [1, 2], bias: null, activation: 'gelu' }] }))).toThrow(
      AgentFormatError,
    );
    writeFileSync(join(dir, 'broken.json'), '{ not json');
    expect(() => loadAgent(join(dir, 'broken.json'))).toThrow(/not valid JSON/);
    expect(() => loadAgent(join(dir, 'missing.json'))).toThrow(/cannot read agent file/);
  });
});

describe('summarize', () => {
  it('gives population std, sample std and a Student-t 95% CI', () => {
    const s = summarize([1, 2, 3, 4]);
    expect(s.mean).toBe(2.5);
    expect(s.std).toBeCloseTo(Math.sqrt(1.25), 12);
    expect(s.sampleStd).toBeCloseTo(Math.sqrt(5 / 3), 12);
    const half = 3.1824463052837078 * (Math.sqrt(5 / 3) / 2); // t(0.975, 3), scipy.stats.t.ppf
    expect(s.ci95[0]).toBeCloseTo(2.5 - half, 9);
    expect(s.ci95[1]).toBeCloseTo(2.5 + half, 9);
  });
});
