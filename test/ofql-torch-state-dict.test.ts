/**
 * PyTorch OFQL state dicts evaluated like project checkpoints (src/ofql/torch-state-dict.ts,
 * src/policy/torch-cli.ts): sizes inferred from shapes, the DQL/OFQL name mapping, our network
 * reproducing torch's outputs for the fixtures (scripts/export/make-torch-fixtures.py) within
 * 1e-5, config.json beside the actor, the policy kind's flags, and `ofql-eval --ckpt actor.pth`.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EvalResultDocument } from '../eval/result.js';
import { CheckpointError, encodeSafetensors } from '../src/checkpoint/index.js';
import { OFQL_DEFAULTS } from '../src/ofql/config.js';
import { actorForward, qForward, type NamedArray } from '../src/ofql/networks.js';
import { actorParamsFromNamed, criticParamsFromNamed } from '../src/ofql/samplers.js';
import { initBackend } from '../src/ofql/tensor-backend.js';
import { tf } from '../src/ofql/tf.js';
import { checkSamplerForTorchModel, inferOfqlDims, loadTorchOfqlAgent, readTorchOfqlModel, type TorchOfqlModel } from '../src/ofql/torch-state-dict.js';
import { checkPolicyArgs, policyKindOf, preparePolicy } from '../src/policy/kinds.js';
import { createOfqlCheckpointPolicy } from '../src/policy/ofql-checkpoint.js';
import { ROOT } from './eval-helpers.js';
import { rejectedCheckpointError as caught } from './checkpoint-errors-helper.js';

const FIX = join(ROOT, 'test', 'fixtures', 'torch');
const fixture = (name: string) => join(FIX, name);
type Rows = number[][];
interface Outputs {
  u: Rows[];
  oneStep: Rows;
}
const expected = JSON.parse(readFileSync(fixture('expected.json'), 'utf8')) as {
  dims: { obsDim: number; actDim: number; hiddenDim: number; depth: number; timeEmbDim: number };
  markers: Record<string, string>;
  inputs: { obs: Rows; eps: Rows; pairs: Array<[number, number]> };
  actor: Record<string, Outputs>;
  tensors: Record<string, { shape: number[]; values: number[] }>;
  critic: { actions: Rows; q1: number[]; q2: number[]; targetQ1: number[]; targetQ2: number[] };
};
const { obs, eps, pairs } = expected.inputs;
const B = obs.length;

const tmp = mkdtempSync(join(tmpdir(), 'ofql-torch-sd-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
beforeAll(async () => {
  await initBackend('cpu');
});


function maxAbsDiff(a: Rows, b: Rows): number {
  let m = 0;
  a.forEach((r, i) => r.forEach((x, j) => (m = Math.max(m, Math.abs(x - b[i]![j]!)))));
  return m;
}

/** Our network's velocities for the fixture inputs and the one-step action, from the imported tensors. */
function ourOutputs(model: TorchOfqlModel, prefix: 'actor' | 'ema_actor'): Outputs {
  return tf.tidy(() => {
    const p = actorParamsFromNamed(model.tensors, prefix, model.config);
    const e = tf.tensor2d(eps);
    const s = tf.tensor2d(obs);
    const col = (v: number) => tf.fill([B, 1], v);
    const u = pairs.map(([r, t]) => actorForward(p, e, col(r), col(t), s).arraySync() as Rows);
    const one = tf.sub(e, actorForward(p, e, col(0), col(1), s)).arraySync() as Rows;
    return { u, oneStep: one };
  });
}

function expectMatches(model: TorchOfqlModel, prefix: 'actor' | 'ema_actor', want: Outputs, tol = 1e-5): void {
  const got = ourOutputs(model, prefix);
  want.u.forEach((w, k) => expect(maxAbsDiff(got.u[k]!, w), `pair ${pairs[k]}`).toBeLessThan(tol));
  expect(maxAbsDiff(got.oneStep, want.oneStep)).toBeLessThan(tol);
  // The comparison has teeth: outputs are not near zero.
  expect(Math.max(...want.oneStep.flat().map(Math.abs))).toBeGreaterThan(0.1);
}

function qValues(tensors: ReadonlyMap<string, NamedArray>, prefix: string, depth: number): [number[], number[]] {
  return tf.tidy(() => {
    const c = criticParamsFromNamed(tensors, prefix, { depth });
    const s = tf.tensor2d(obs);
    const a = tf.tensor2d(expected.critic.actions);
    return [Array.from(qForward(c.q1, s, a).dataSync()), Array.from(qForward(c.q2, s, a).dataSync())];
  });
}
const close = (a: number[], b: number[], tol = 1e-5) => a.every((x, i) => Math.abs(x - b[i]!) < tol);

describe('sizes, names and parity with torch', () => {
  it('actor.pth: sizes inferred from shapes, actor-only model (zero critics, trainCritic false), outputs = torch within 1e-5', async () => {
    const m = await readTorchOfqlModel(fixture('actor.pth'));
    expect(m.dims).toEqual(expected.dims);
    expect(m.config).toMatchObject({ ...expected.dims, trainCritic: false, eta: 0, timeScale: 1, maxAction: 1 });
    expect(m.formats).toEqual({ actor: 'torch-zip', critic: undefined });
    expect(m.has).toEqual({ critic: false, ema: false, target: false });
    // Linear weights transposed to our [in, out]; the EMA actor filled from the actor.
    const w = expected.tensors['model.time_mlp.1.weight']!;
    const ours = m.tensors.get('actor.t_embed.1.weight')!;
    expect(ours.shape).toEqual([w.shape[1], w.shape[0]]);
    expect(ours.data[1 * w.shape[0]! + 2]).toBe(w.values[2 * w.shape[1]! + 1]); // ours[1][2] = torch[2][1]
    expect(m.tensors.get('ema_actor.mid_layer.2.bias')!.data).toEqual(m.tensors.get('actor.mid_layer.2.bias')!.data);
    expect(m.tensors.get('critic.q1_model.0.weight')!.data.every((x) => x === 0)).toBe(true);
    expect(m.tensors.get('critic_target.q2_model.4.weight')!.shape).toEqual([expected.dims.hiddenDim, 1]);
    expectMatches(m, 'ema_actor', expected.actor['actor.pth']!);
    expectMatches(m, 'actor', expected.actor['actor.pth']!);
  });

  it('the same network from every container: legacy, protocol 4, deflate, big-endian, strided views, bare MLP keys, safetensors, float64', async () => {
    for (const f of ['actor-legacy.pth', 'actor-proto4.pth', 'actor-deflate.pth', 'actor-bigendian.pth', 'actor-strided.pth', 'actor-mlp.pth', 'actor.safetensors', 'actor-f64.pth']) {
      const m = await readTorchOfqlModel(fixture(f));
      expect(m.dims, f).toEqual(expected.dims);
      expectMatches(m, 'actor', expected.actor['actor.pth']!);
    }
  });

  it('float16 and bfloat16 actors match torch on the upcast weights', async () => {
    for (const f of ['actor-f16.pth', 'actor-bf16.pth']) {
      const m = await readTorchOfqlModel(fixture(f));
      expectMatches(m, 'actor', expected.actor[f]!);
      // ... and differ from the float32 actor by more than the tolerance (the precision is real).
      expect(maxAbsDiff(ourOutputs(m, 'actor').oneStep, expected.actor['actor.pth']!.oneStep)).toBeGreaterThan(1e-4);
    }
  });

  it('a critic file (pth or safetensors) fills critic and critic_target; Q values = torch within 1e-5', async () => {
    for (const c of ['critic.pth', 'critic.safetensors']) {
      const m = await readTorchOfqlModel(fixture('actor.pth'), { critic: fixture(c) });
      expect(m.config.trainCritic).toBe(true);
      expect(m.config.eta).toBe(OFQL_DEFAULTS.eta);
      expect(m.criticPath).toBe(fixture(c));
      for (const prefix of ['critic', 'critic_target']) {
        const [q1, q2] = qValues(m.tensors, prefix, m.config.depth);
        expect(close(q1, expected.critic.q1), `${c} ${prefix} q1 ${q1} vs ${expected.critic.q1}`).toBe(true);
        expect(close(q2, expected.critic.q2), `${c} ${prefix} q2`).toBe(true);
      }
    }
  });

  it('a whole-agent file: its own EMA actor and target critic', async () => {
    const m = await readTorchOfqlModel(fixture('agent.pt'));
    expect(m.has).toEqual({ critic: true, ema: true, target: true });
    expect(m.config.trainCritic).toBe(true);
    expectMatches(m, 'actor', expected.actor['actor.pth']!);
    expectMatches(m, 'ema_actor', expected.actor['agent.pt:ema']!);
    const [t1, t2] = qValues(m.tensors, 'critic_target', m.config.depth);
    expect(close(t1, expected.critic.targetQ1) && close(t2, expected.critic.targetQ2)).toBe(true);
    expect(close(t1, expected.critic.q1)).toBe(false);
    const both = await caught(readTorchOfqlModel(fixture('agent.pt'), { critic: fixture('critic.pth') }));
    expect(both.message).toMatch(/agent\.pt: already holds the critic.*and a critic file was given as well/);
  });

  it('an agent built from the files holds the weights; the policy plug-in acts with it and checks env and sampler', async () => {
    const { model, agent } = await loadTorchOfqlAgent(fixture('actor.pth'));
    try {
      expect(agent.config.obsDim).toBe(model.dims.obsDim);
      expect(agent.namedTensors().get('ema_actor.final_layer.bias')!.data).toEqual(model.tensors.get('actor.final_layer.bias')!.data);
    } finally {
      agent.dispose();
    }
    const spec = { envId: 'hopper-medium-v2', observationSize: 11, actionSize: 3, ckpt: fixture('actor.pth'), seed: 0 };
    const policy = await createOfqlCheckpointPolicy(spec, { backend: 'cpu' });
    try {
      expect(policy.description).toBe(`PyTorch OFQL state dict ${fixture('actor.pth')} (torch-zip; actor only, no critic), sampler one-step, actor ema, backend cpu`);
      const a = (await policy.act(Float64Array.from(obs.flat()), B)) as Float32Array;
      expect(a).toHaveLength(B * 3);
      expect(Array.from(a).every((x) => Number.isFinite(x) && Math.abs(x) <= 1)).toBe(true);
    } finally {
      await policy.close?.();
    }
    await expect(createOfqlCheckpointPolicy({ ...spec, envId: 'halfcheetah-medium-v2', observationSize: 17, actionSize: 6 }, { backend: 'cpu' })).rejects.toThrow(
      /actor\.pth: the actor's tensor shapes give obsDim 11 \/ actDim 3, but halfcheetah-medium-v2 has 17 \/ 6/,
    );
    await expect(createOfqlCheckpointPolicy(spec, { backend: 'cpu', sampler: 'best-of-n' })).rejects.toThrow(/no critic was given.*sampler 'best-of-n'/);
    const withCritic = await createOfqlCheckpointPolicy(spec, { backend: 'cpu', sampler: 'dql', n: 3, critic: fixture('critic.pth') });
    expect(withCritic.description).toContain(`critic ${fixture('critic.pth')}), sampler dql(n=3)`);
    await withCritic.close?.();
  });
});

describe('what the tensors cannot tell: config.json beside the actor, flags', () => {
  it('with-config/: envId, timeScale 1000, sampler and critic from config.json; torch outputs at that time scale', async () => {
    const m = await readTorchOfqlModel(fixture('with-config/actor.pth'));
    expect(m.envId).toBe('hopper-medium-v2');
    expect(m.config.timeScale).toBe(1000);
    expect(m.criticPath).toBe(fixture('with-config/critic.pth'));
    expect(m.sidecar?.sampler).toEqual({ sampler: 'best-of-n', n: 4 });
    expectMatches(m, 'actor', expected.actor['with-config/actor.pth']!);
    // The time scale changes the outputs (so the test above could fail) and the flag overrides it.
    const scaled = expected.actor['with-config/actor.pth']!.u;
    expect(Math.max(...scaled.map((u, k) => maxAbsDiff(u, expected.actor['actor.pth']!.u[k]!)))).toBeGreaterThan(1e-3);
    const flagged = await readTorchOfqlModel(fixture('with-config/actor.pth'), { timeScale: 1 });
    expectMatches(flagged, 'actor', expected.actor['actor.pth']!);
  });

  it('bad config.json: errors name the file and the field', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ ofql: { timescale: 1000 } }, /config\.json: ofql\.timescale: is not an OfqlConfig field; known: .*timeScale/],
      [{ ofql: { obsDim: 17 } }, /config\.json: ofql\.obsDim: is 17, but the tensors of .*actor\.pth give 11/],
      [{ ofql: { hiddenDim: 256 } }, /ofql\.hiddenDim: is 256, but the tensors .* give 8/],
      [{ ofql: { trainCritic: true } }, /ofql\.trainCritic: is true, but no critic file was given/],
      [{ ofql: { timeScale: -1 } }, /config\.json: ofql\.timeScale: must be in \(0, Infinity\]/],
      [{ ofql: { maxAction: 'big' } }, /ofql\.maxAction: must be a finite number/],
      [{ envId: 3 }, /config\.json: envId: must be a non-empty string/],
      [{ sampler: { name: 'dql', N: 3 } }, /config\.json: sampler\.N: is not a sampler field/],
      [{ sampler: { name: 'dql', n: '3' } }, /sampler\.n: must be a finite number/],
      [{ critic: 7 }, /config\.json: critic: must be the critic file's path/],
      [{ format: 'ofql-eval/ofql', formatVersion: 1 }, /config\.json: format: is "ofql-eval\/ofql": actor\.pth is a file of an ofql-eval checkpoint directory; pass the directory itself/],
      ['[1, 2]', /config\.json: must hold a JSON object/],
      ['{ not json', /config\.json: is not valid JSON/],
    ];
    for (const [i, [json, re]] of cases.entries()) {
      const d = join(tmp, `cfg${i}`);
      rmSync(d, { recursive: true, force: true });
      mkdirSync(d);
      copyFileSync(fixture('actor.pth'), join(d, 'actor.pth'));
      writeFileSync(join(d, 'config.json'), typeof json === 'string' ? json : JSON.stringify(json));
      const e = await caught(readTorchOfqlModel(join(d, 'actor.pth')));
      expect(e.message).toContain(join(d, 'config.json'));
      expect(e.message).toMatch(re);
    }
    // A one-step noise scale is a sampler field too.
    const d = join(tmp, 'cfg-noise');
    rmSync(d, { recursive: true, force: true });
    mkdirSync(d);
    copyFileSync(fixture('actor.pth'), join(d, 'actor.pth'));
    writeFileSync(join(d, 'config.json'), JSON.stringify({ sampler: { name: 'one-step', noiseScale: 0 } }));
    expect((await readTorchOfqlModel(join(d, 'actor.pth'))).sidecar?.sampler).toEqual({ sampler: 'one-step', noiseScale: 0 });
  });

  it('a critic-less model refuses the critic-ranked samplers, naming the actor and what to give', async () => {
    const m = await readTorchOfqlModel(fixture('actor.pth'));
    expect(() => checkSamplerForTorchModel(m, 'one-step')).not.toThrow();
    expect(() => checkSamplerForTorchModel(m, 'qgbs')).toThrow(/actor\.pth: no critic was given \(--critic <critic\.pth>, or "critic" in config\.json beside it\), so sampler 'qgbs' cannot rank actions/);
  });
});

describe('files that are not OFQL actors: errors name the file and the tensor', () => {
  it('a critic given as the actor, a DQL diffusion actor, an ofql-eval model.safetensors, mismatched critic, unmapped names', async () => {
    const c = await caught(readTorchOfqlModel(fixture('critic.pth')));
    expect(c.code).toBe('missing-tensor');
    expect(c.message).toMatch(/critic\.pth: tensor 'time_mlp\.1\.weight': is missing; an OFQL actor has time_mlp\.\{1,3\}, r_time_mlp\.\{1,3\} \(or r_mlp\).*'q1_model\.0\.weight'.*\(a critic file\? give it with --critic\)/);

    const d = await caught(readTorchOfqlModel(fixture('dql-actor.pth')));
    expect(d.message).toMatch(/dql-actor\.pth: tensor 'model\.r_time_mlp\.1\.weight': is missing \(nor is there model\.r_mlp\.1\.weight\): the file has one time embedding, like a DQL diffusion actor/);

    const ours = join(tmp, 'model.safetensors');
    writeFileSync(ours, encodeSafetensors({ 'actor.t_embed.1.weight': { dtype: 'F32', shape: [4, 8], data: new Float32Array(32) } }, { format: 'ofql-eval/ofql' }));
    expect((await caught(readTorchOfqlModel(ours))).message).toMatch(/model\.safetensors: is an ofql-eval model\.safetensors \(our names, \[in, out\] weights\), not a PyTorch state dict; pass its checkpoint directory/);

    // A critic for another observation width: shapes reported against the inferred sizes.
    const wrong = join(tmp, 'critic-wide.safetensors');
    const t = (shape: number[]) => ({ dtype: 'F32' as const, shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });
    writeFileSync(wrong, encodeSafetensors({ 'q1_model.0.weight': t([8, 20]), 'q1_model.0.bias': t([8]), 'q1_model.2.weight': t([8, 8]), 'q1_model.2.bias': t([8]), 'q1_model.4.weight': t([1, 8]), 'q1_model.4.bias': t([1]) }));
    const w = await caught(readTorchOfqlModel(fixture('actor.pth'), { critic: wrong }));
    expect(w.message).toContain('sizes inferred: obsDim 11, actDim 3, hiddenDim 8, depth 2, timeEmbDim 4');
    expect(w.message).toMatch(/tensor 'critic\.q1_model\.0\.weight': expected shape \[14, 8\], found \[20, 8\]/);
    expect(w.message).toMatch(/tensor 'critic\.q2_model\.0\.weight' missing/); // missing q2 listed too

    const extra = join(tmp, 'actor-extra.safetensors');
    const sd = (await import('../src/checkpoint/torch-file.js')).readStateDictFile;
    const base = (await sd(fixture('actor.pth'))).tensors;
    writeFileSync(extra, encodeSafetensors(new Map([...base, ['model.dropout.weight', t([2, 2])]])));
    expect((await caught(readTorchOfqlModel(extra))).message).toMatch(/actor-extra\.safetensors: tensor 'model\.dropout\.weight': 1 state-dict tensor\(s\) have no entry in the name table/);

    // Size inference on its own: a gap in mid_layer, a first layer too narrow, a wrong embedding shape.
    const f = (shape: number[]) => ({ dtype: 'F32' as const, shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });
    const dims = (entries: Array<[string, number[]]>) => inferOfqlDims(new Map(entries.map(([n, sh]) => [n, f(sh)])), 'synthetic.pth');
    const emb: Array<[string, number[]]> = [['time_mlp.1.weight', [8, 4]], ['r_mlp.1.weight', [8, 4]]];
    expect(dims([...emb, ['mid_layer.0.weight', [5, 12]], ['mid_layer.2.weight', [5, 5]], ['mid_layer.4.weight', [5, 5]], ['final_layer.weight', [2, 5]]])).toEqual({ obsDim: 2, actDim: 2, hiddenDim: 5, depth: 3, timeEmbDim: 4 });
    expect(() => dims([...emb, ['mid_layer.0.weight', [5, 12]], ['mid_layer.4.weight', [5, 5]], ['final_layer.weight', [2, 5]]])).toThrow(/synthetic\.pth: tensor 'mid_layer\.2\.weight': is missing: mid_layer Linears must sit at nn\.Sequential positions 0, 2, 4, \.\.\. \(Linear, Mish, Linear, \.\.\.\); found positions 0, 4/);
    expect(() => dims([...emb, ['mid_layer.0.weight', [5, 10]], ['final_layer.weight', [2, 5]]])).toThrow(/tensor 'mid_layer\.0\.weight': has 10 inputs, but its input is concat\(a_t \[2\], emb\(t\) \[4\], emb\(r\) \[4\], s \[S\]\), which leaves S = 0/);
    expect(() => dims([['time_mlp.1.weight', [6, 4]], ['r_mlp.1.weight', [8, 4]]])).toThrow(/tensor 'time_mlp\.1\.weight': must be \[2T, T\].*got \[6, 4\]/);
    expect(() => dims([...emb, ['mid_layer.0.weight', [5, 12]], ['final_layer.weight', [2, 6]]])).toThrow(/final_layer\.weight': must be \[A, 5\]/);

    const missing = join(tmp, 'nope.pth');
    expect((await caught(readTorchOfqlModel(missing))).code).toBe('not-found');
  });
});

describe('the ofql-torch policy kind', () => {
  it('claims .pth / .pt / .safetensors files; its flags are refused for other kinds; flag checks', () => {
    expect(policyKindOf({ ckpt: 'x/actor.pth' })?.name).toBe('ofql-torch');
    expect(policyKindOf({ ckpt: 'x/actor.PT', policy: 'ofql' })?.name).toBe('ofql-torch');
    expect(policyKindOf({ ckpt: 'x/actor.safetensors' })?.name).toBe('ofql-torch');
    expect(policyKindOf({ ckpt: 'x/ckpt-dir' })?.name).toBe('ofql');
    expect(checkPolicyArgs({ ckpt: 'dir', flags: { critic: 'c.pth' } })).toMatch(/^--critic only applies to PyTorch OFQL state dicts/);
    expect(checkPolicyArgs({ ckpt: 'a.pth', flags: { 'time-scale': 0 } })).toBe('--time-scale must be a positive number, got 0');
    expect(checkPolicyArgs({ ckpt: 'a.pth', flags: { sampler: 'dql', 'sampler-n': 8, critic: 'c.pth' } })).toBeNull();
    expect(checkPolicyArgs({ policy: 'ofql-torch' })).toMatch(/needs --ckpt <actor\.pth/);
  });

  it('prepare: env and sampler from config.json, flags on top; the workers get the files and options', async () => {
    const p = await preparePolicy({ ckpt: fixture('with-config/actor.pth'), flags: { 'sampler-n': 6 } });
    expect(p.kind).toBe('ofql-torch');
    expect(p.env).toEqual(['hopper-medium-v2']);
    expect(p.ref).toMatchObject({ kind: 'module', spec: 'ofql-torch', options: { sampler: 'best-of-n', n: 6, critic: fixture('with-config/critic.pth') } });
    expect(p.flags).toEqual({ 'sampler-n': 6 });
    await expect(preparePolicy({ ckpt: fixture('actor.pth') })).rejects.toThrow(/actor\.pth: the state dict does not say which environment it is for; give --env/);
    await expect(preparePolicy({ ckpt: fixture('actor.pth'), env: ['hopper-medium-v2'], flags: { sampler: 'dql' } })).rejects.toThrow(/no critic was given.*sampler 'dql' cannot rank actions/);
    await expect(preparePolicy({ ckpt: fixture('malicious.pth'), env: ['hopper-medium-v2'] })).rejects.toThrow(/policy ofql-torch: .*malicious\.pth.*refused to load the global 'posix\.system'/);
  });
});

describe('ofql-eval --ckpt actor.pth', () => {
  const CLI = join(ROOT, 'dist', 'src', 'cli.js');
  const cli = (args: string[]) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, [CLI, '--progress', 'off', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      const out = { stdout: '', stderr: '' };
      child.stdout.on('data', (d: Buffer) => (out.stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out.stderr += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, ...out }));
    });

  it('evaluates a torch actor + critic (env, sampler, critic from config.json) and refuses a malicious file before any worker starts', async () => {
    const json = join(tmp, 'run.json');
    const r = await cli(['--ckpt', fixture('with-config/actor.pth'), '--episodes', '2', '--max-episode-steps', '5', '--workers', '1', '--json', json]);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(readFileSync(json, 'utf8')) as EvalResultDocument;
    expect(doc.complete).toBe(true);
    expect(doc.policy).toMatchObject({ name: 'ofql-torch', kind: 'module' });
    expect(doc.results[0]!.envId).toBe('hopper-medium-v2');
    expect(doc.results[0]!.returns.every(Number.isFinite)).toBe(true);
    expect(doc.results[0]!.policyDescription).toMatch(/^PyTorch OFQL state dict .*with-config\/actor\.pth \(torch-zip; critic .*with-config\/critic\.pth\), sampler best-of-n\(n=4\), actor ema, backend wasm$/);

    const marker = expected.markers['malicious.pth']!;
    rmSync(marker, { force: true });
    const bad = await cli(['--ckpt', fixture('malicious.pth'), '--env', 'hopper-medium-v2', '--episodes', '1']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/refused to load the global 'posix\.system'/);
    expect(existsSync(marker)).toBe(false);
  });
});
