/** PyTorch state-dict import: transposition, renaming, unmapped / missing names, a DQL-shaped end-to-end import. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CheckpointError,
  encodeSafetensors,
  exportTorchStateDict,
  importTorchSafetensors,
  importTorchStateDict,
  renamePrefixes,
  transpose2d,
  type CheckpointErrorCode,
  type Tensor,
} from '../src/checkpoint/index.js';
import { caughtCheckpointError as thrown } from './checkpoint-errors-helper.js';

const dir = mkdtempSync(join(tmpdir(), 'ofql-torch-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const f32 = (shape: number[], fill: (i: number) => number = (i) => i): Tensor => {
  const n = shape.reduce((a, b) => a * b, 1);
  return { dtype: 'F32', shape, data: Float32Array.from({ length: n }, (_, i) => fill(i)) };
};


function expectCode(e: CheckpointError, code: CheckpointErrorCode, re: RegExp): void {
  expect(e.code).toBe(code);
  expect(e.message).toMatch(re);
}

describe('transposition and renaming', () => {
  // nn.Linear(2, 3): weight [out=3, in=2] = [[1, 2], [3, 4], [5, 6]], bias [3].
  const sd = new Map<string, Tensor>([
    ['fc.weight', { dtype: 'F32', shape: [3, 2], data: Float32Array.of(1, 2, 3, 4, 5, 6) }],
    ['fc.bias', { dtype: 'F32', shape: [3], data: Float32Array.of(7, 8, 9) }],
  ]);

  it("transposes Linear weights from [out, in] to our [in, out] and keeps biases", () => {
    const r = importTorchStateDict(sd, { names: { 'fc.weight': 'net.0.weight', 'fc.bias': 'net.0.bias' } });
    expect(r.tensors.get('net.0.weight')).toEqual({ dtype: 'F32', shape: [2, 3], data: Float32Array.of(1, 3, 5, 2, 4, 6) });
    expect(r.tensors.get('net.0.bias')).toEqual({ dtype: 'F32', shape: [3], data: Float32Array.of(7, 8, 9) });
    expect(r.mapped).toEqual([
      { torch: 'fc.weight', ours: 'net.0.weight', transposed: true },
      { torch: 'fc.bias', ours: 'net.0.bias', transposed: false },
    ]);
    // The input is not modified.
    expect(sd.get('fc.weight')!.shape).toEqual([3, 2]);
  });

  it("keeps PyTorch's layout with layout 'out-in' and honours a custom isLinearWeight", () => {
    const keep = importTorchStateDict(sd, { names: (n) => n, layout: 'out-in' });
    expect(keep.tensors.get('fc.weight')!.shape).toEqual([3, 2]);
    const none = importTorchStateDict(sd, { names: (n) => n, isLinearWeight: () => false });
    expect(none.tensors.get('fc.weight')!.data).toEqual(Float32Array.of(1, 2, 3, 4, 5, 6));
  });

  it('transpose2d works for any dtype', () => {
    const t = transpose2d({ dtype: 'I64', shape: [1, 3], data: BigInt64Array.of(1n, 2n, 3n) });
    expect(t).toEqual({ dtype: 'I64', shape: [3, 1], data: BigInt64Array.of(1n, 2n, 3n) });
    expect(transpose2d(f32([2, 3]))).toEqual({ dtype: 'F32', shape: [3, 2], data: Float32Array.of(0, 3, 1, 4, 2, 5) });
    expect(() => transpose2d(f32([2]))).toThrow(/2-D/);
  });

  it('one torch tensor can initialise several of ours, as independent copies', () => {
    const r = importTorchStateDict(sd, { names: renamePrefixes([['fc.', ['critic.q.', 'critic_target.q.']]]) });
    const a = r.tensors.get('critic.q.weight')!;
    const b = r.tensors.get('critic_target.q.weight')!;
    expect(b).toEqual(a);
    (a.data as Float32Array)[0] = 100;
    expect((b.data as Float32Array)[0]).toBe(1);
  });

  it('export is the inverse of import', () => {
    const table = { 'fc.weight': 'net.0.weight', 'fc.bias': 'net.0.bias' };
    const ours = importTorchStateDict(sd, { names: table }).tensors;
    expect(exportTorchStateDict(ours, table)).toEqual(sd);
    ours.delete('net.0.bias');
    expectCode(thrown(() => exportTorchStateDict(ours, table, { source: 'agent' })), 'missing-tensor', /^agent: tensor 'net\.0\.bias': 1 tensor\(s\) needed/);
  });
});

describe('unmapped, missing and inconsistent names are reported clearly', () => {
  const sd = new Map<string, Tensor>([
    ['a.weight', f32([2, 2])],
    ['a.bias', f32([2])],
    ['buf.betas', f32([5])],
    ['buf.alphas', f32([5])],
  ]);

  it('lists every unmapped state-dict tensor', () => {
    const e = thrown(() => importTorchStateDict(sd, { names: { 'a.weight': 'x.weight' }, source: 'actor.safetensors' }));
    expectCode(e, 'unexpected-tensor', /^actor\.safetensors: tensor 'a\.bias': 3 state-dict tensor\(s\) have no entry in the name table: 'a\.bias', 'buf\.betas', 'buf\.alphas'; map them or list them in `ignore`$/);
    expect(e.field).toBe("tensor 'a.bias'");
  });

  it('ignore (names or patterns) silences expected extras; allowUnmapped reports instead of failing', () => {
    const r = importTorchStateDict(sd, { names: { 'a.weight': 'x.weight', 'a.bias': 'x.bias' }, ignore: [/^buf\./] });
    expect(r.ignored).toEqual(['buf.betas', 'buf.alphas']);
    expect(r.unmapped).toEqual([]);
    const loose = importTorchStateDict(sd, { names: { 'a.weight': 'x.weight' }, ignore: ['buf.betas'], allowUnmapped: true });
    expect(loose.unmapped).toEqual(['a.bias', 'buf.alphas']);
    expect([...loose.tensors.keys()]).toEqual(['x.weight']);
  });

  it('lists table entries that the state dict lacks', () => {
    const names = { 'a.weight': 'x.weight', 'a.bias': 'x.bias', 'b.weight': 'y.weight', 'b.bias': 'y.bias' };
    const e = thrown(() => importTorchStateDict(sd, { names, ignore: [/^buf\./], source: 'f.safetensors' }));
    expectCode(e, 'missing-tensor', /^f\.safetensors: tensor 'b\.weight': 2 tensor\(s\) named in the name table are not in the state dict: 'b\.weight', 'b\.bias'$/);
    expect(importTorchStateDict(sd, { names, ignore: [/^buf\./], allowMissing: true }).missing).toEqual(['b.weight', 'b.bias']);
  });

  it('rejects two torch tensors mapped to one of ours, and empty targets', () => {
    expectCode(
      thrown(() => importTorchStateDict(sd, { names: { 'a.weight': 'x', 'a.bias': 'x' }, ignore: [/^buf/] })),
      'name-table',
      /tensor 'x': both torch tensors 'a\.weight' and 'a\.bias' map to it/,
    );
    expectCode(thrown(() => importTorchStateDict(sd, { names: { 'a.weight': [] }, allowUnmapped: true })), 'name-table', /tensor 'a\.weight'.*empty list/);
  });

  it('checks the result against an expected spec, naming our tensor', () => {
    const e = thrown(() =>
      importTorchStateDict(sd, {
        names: { 'a.weight': 'x.weight', 'a.bias': 'x.bias' },
        ignore: [/^buf/],
        expect: { 'x.weight': [2, 2], 'x.bias': [3] },
        source: 's.safetensors',
      }),
    );
    expectCode(e, 'tensor-shape', /^s\.safetensors \(after renaming to our names\): tensor 'x\.bias': expected shape \[3\], found \[2\]$/);
  });
});

describe('a DQL-shaped checkpoint (names as in Diffusion-Policies-for-Offline-RL agents/)', () => {
  const S = 11; // hopper
  const A = 3;
  const H = 256;
  const T = 16;
  const linear = (sd: Map<string, Tensor>, name: string, inDim: number, outDim: number, seed: number) => {
    sd.set(`${name}.weight`, f32([outDim, inDim], (i) => Math.sin(seed + i)));
    sd.set(`${name}.bias`, f32([outDim], (i) => Math.cos(seed + i)));
  };
  /** `Diffusion(model=MLP).state_dict()`: the module's own schedule buffers, then model.* parameters. */
  function dqlActorStateDict(): Map<string, Tensor> {
    const sd = new Map<string, Tensor>();
    for (const b of [
      'betas', 'alphas_cumprod', 'alphas_cumprod_prev', 'sqrt_alphas_cumprod', 'sqrt_one_minus_alphas_cumprod',
      'log_one_minus_alphas_cumprod', 'sqrt_recip_alphas_cumprod', 'sqrt_recipm1_alphas_cumprod', 'posterior_variance',
      'posterior_log_variance_clipped', 'posterior_mean_coef1', 'posterior_mean_coef2',
    ]) sd.set(b, f32([100], () => 0.5));
    linear(sd, 'model.time_mlp.1', T, 2 * T, 1);
    linear(sd, 'model.time_mlp.3', 2 * T, T, 2);
    linear(sd, 'model.mid_layer.0', S + A + T, H, 3);
    linear(sd, 'model.mid_layer.2', H, H, 4);
    linear(sd, 'model.mid_layer.4', H, H, 5);
    linear(sd, 'model.final_layer', H, A, 6);
    return sd;
  }
  /** `Critic.state_dict()`. */
  function dqlCriticStateDict(): Map<string, Tensor> {
    const sd = new Map<string, Tensor>();
    for (const q of ['q1_model', 'q2_model']) {
      linear(sd, `${q}.0`, S + A, H, 7);
      linear(sd, `${q}.2`, H, H, 8);
      linear(sd, `${q}.4`, H, H, 9);
      linear(sd, `${q}.6`, H, 1, 10);
    }
    return sd;
  }
  /** What an OFQL critic + target critic must hold (src/ofql/networks.ts names, [in, out]). */
  function ofqlCriticSpec(): Record<string, number[]> {
    const spec: Record<string, number[]> = {};
    for (const net of ['critic', 'critic_target']) {
      for (const q of ['q1_model', 'q2_model']) {
        const dims: Array<[number, number]> = [[S + A, H], [H, H], [H, H], [H, 1]];
        dims.forEach(([i, o], k) => {
          spec[`${net}.${q}.${2 * k}.weight`] = [i, o];
          spec[`${net}.${q}.${2 * k}.bias`] = [o];
        });
      }
    }
    return spec;
  }

  it('imports a DQL critic (file written like safetensors.torch.save_file) into OFQL critic + target names', async () => {
    const path = join(dir, 'critic.safetensors');
    writeFileSync(path, encodeSafetensors(dqlCriticStateDict(), { format: 'pt' }));
    const r = await importTorchSafetensors(path, {
      names: renamePrefixes([
        ['q1_model.', ['critic.q1_model.', 'critic_target.q1_model.']],
        ['q2_model.', ['critic.q2_model.', 'critic_target.q2_model.']],
      ]),
      expect: ofqlCriticSpec(),
    });
    expect(r.tensors.size).toBe(32);
    const w = r.tensors.get('critic.q1_model.6.weight')!;
    expect(w.shape).toEqual([H, 1]);
    expect((w.data as Float32Array)[5]).toBeCloseTo(Math.sin(10 + 5), 6); // [out=1, in=256] -> [256, 1]: same order
    const w0 = r.tensors.get('critic_target.q2_model.0.weight')!;
    // element (in=i, out=o) of ours = torch [o, i] = sin(7 + o * (S + A) + i)
    expect((w0.data as Float32Array)[2 * H + 5]).toBeCloseTo(Math.sin(7 + 5 * (S + A) + 2), 6);
  });

  it("imports a DQL actor and reports clearly why it cannot fill an OFQL actor (r embedding, wider input)", () => {
    const names = renamePrefixes([
      ['model.time_mlp.', 'actor.t_embed.'],
      ['model.mid_layer.', 'actor.mid_layer.'],
      ['model.final_layer.', 'actor.final_layer.'],
    ]);
    const buffers = /^(betas|alphas_cumprod(_prev)?|sqrt_alphas_cumprod|sqrt_one_minus_alphas_cumprod|log_one_minus_alphas_cumprod|sqrt_recip(m1)?_alphas_cumprod|posterior_(variance|log_variance_clipped|mean_coef[12]))$/;
    // Without ignoring the diffusion buffers, they are listed as unmapped.
    const e1 = thrown(() => importTorchStateDict(dqlActorStateDict(), { names, source: 'actor_1999.safetensors' }));
    expectCode(e1, 'unexpected-tensor', /12 state-dict tensor\(s\) have no entry.*'betas', 'alphas_cumprod'/);
    // Into a DQL-shaped spec it goes through ...
    const ok = importTorchStateDict(dqlActorStateDict(), { names, ignore: [buffers] });
    expect(ok.ignored).toHaveLength(12);
    expect(ok.tensors.get('actor.mid_layer.0.weight')!.shape).toEqual([S + A + T, H]);
    expect(ok.tensors.get('actor.t_embed.1.weight')!.shape).toEqual([T, 2 * T]);
    // ... but an OFQL actor also needs r_embed and takes [a, emb(t), emb(r), s] (A + 2T + S inputs).
    const e2 = thrown(() =>
      importTorchStateDict(dqlActorStateDict(), {
        names,
        ignore: [buffers],
        source: 'actor_1999.safetensors',
        expect: {
          'actor.t_embed.1.weight': [T, 2 * T],
          'actor.r_embed.1.weight': [T, 2 * T],
          'actor.mid_layer.0.weight': [A + 2 * T + S, H],
          'actor.final_layer.weight': [H, A],
        },
      }),
    );
    expect(e2.code).toBe('missing-tensor');
    expect(e2.message).toBe(
      "actor_1999.safetensors (after renaming to our names): tensor 'actor.r_embed.1.weight': missing (expected shape [16, 32]); " +
        "also tensor 'actor.mid_layer.0.weight' expected shape [46, 256], found [30, 256]",
    );
  });
});
