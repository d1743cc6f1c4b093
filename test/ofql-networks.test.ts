/**
 * OFQL networks: Mish and its derivative, the hand-written custom gradients, and above all the
 * exact forward-mode JVP of the actor (finite differences + the exact VJP identity).
 * Tiny networks only; run on both the wasm (default) and cpu backends.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../src/ofql/tf.js';
import { initBackend } from '../src/ofql/tensor-backend.js';
import { Rng } from '../src/rng.js';
import {
  actorForward,
  actorJvp,
  actorNamedParams,
  criticForward,
  criticNamedParams,
  disposeNamed,
  fromTorchLayout,
  initActor,
  initCritic,
  mish,
  mishDerivative,
  mishReference,
  oneStepAction,
  readNamed,
  sinusoidalFrequencies,
  toTorchLayout,
  type ActorParams,
  type ActorVars,
} from '../src/ofql/networks.js';
import { meanFlowTarget } from '../src/ofql/losses.js';

const DIMS = { obsDim: 3, actDim: 2, hiddenDim: 8, depth: 3, timeEmbDim: 16, timeScale: 1 };

/** float64 Mish in plain JS, straight from the definition. */
const mish64 = (x: number) => x * Math.tanh(Math.log1p(Math.exp(x)));

function rand(rng: Rng, shape: number[], scale = 1): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: n }, () => scale * rng.normal()), shape);
}

function arr(t: tf.Tensor): Float32Array {
  return t.dataSync() as Float32Array;
}

function norm(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]! * x[i]!;
  return Math.sqrt(s);
}

function diffNorm(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2;
  return Math.sqrt(s);
}

/** Actor forward built only from tf built-ins (reference Mish, plain matMul): autodiff by tfjs. */
function referenceActorForward(p: ActorParams, at: tf.Tensor, r: tf.Tensor, t: tf.Tensor, s: tf.Tensor): tf.Tensor {
  const lin = (l: { weight: tf.Tensor; bias: tf.Tensor }, x: tf.Tensor) => tf.add(tf.matMul(x, l.weight), l.bias);
  const emb = (e: ActorParams['tEmbed'], x: tf.Tensor) => {
    const d = e[0].weight.shape[0] as number;
    const arg = tf.mul(tf.mul(x, p.timeScale), tf.tensor2d(sinusoidalFrequencies(d), [1, d / 2]));
    return lin(e[1], mishReference(lin(e[0], tf.concat([tf.sin(arg), tf.cos(arg)], 1))));
  };
  let x = tf.concat([at, emb(p.tEmbed, t), emb(p.rEmbed, r), s], 1);
  for (const l of p.mid) x = mishReference(lin(l, x));
  return lin(p.final, x);
}

describe.each(['wasm', 'cpu'] as const)('OFQL networks on %s', (backend) => {
  let actor: ActorVars;
  const B = 5;
  let inputs: { at: tf.Tensor; r: tf.Tensor; t: tf.Tensor; s: tf.Tensor; v: tf.Tensor };

  beforeAll(async () => {
    await initBackend(backend);
    actor = initActor(DIMS, new Rng(7));
    const rng = new Rng(11);
    const t = tf.tensor2d(Float32Array.from({ length: B }, () => rng.uniform(0.2, 0.95)), [B, 1]);
    const r = tf.tensor2d(Float32Array.from({ length: B }, (_, i) => (t.dataSync()[i] as number) * rng.uniform(0, 1)), [B, 1]);
    inputs = { at: rand(rng, [B, 2]), r, t, s: rand(rng, [B, 3]), v: rand(rng, [B, 2]) };
  });

  afterAll(() => {
    disposeNamed(actorNamedParams('actor', actor));
    tf.dispose(Object.values(inputs));
  });

  it('Mish equals x tanh(softplus x) and Mish\' matches float64 finite differences', () => {
    const xs = Float32Array.from({ length: 161 }, (_, i) => -20 + i * 0.25);
    const x = tf.tensor1d(xs);
    const y = arr(mish(x));
    const dy = arr(mishDerivative(x));
    const yRef = arr(mishReference(x));
    for (let i = 0; i < xs.length; i++) {
      const xi = xs[i]!;
      const h = 1e-5;
      const fd = (mish64(xi + h) - mish64(xi - h)) / (2 * h);
      expect(Math.abs(y[i]! - mish64(xi))).toBeLessThan(1e-6 * (1 + Math.abs(xi)));
      expect(Math.abs(y[i]! - yRef[i]!)).toBeLessThan(2e-6 * (1 + Math.abs(xi)));
      expect(Math.abs(dy[i]! - fd)).toBeLessThan(2e-6 * (1 + Math.abs(xi)));
    }
    // and the custom gradient of mish is that derivative
    const g = arr(tf.grad((z: tf.Tensor) => tf.sum(mish(z)))(x));
    for (let i = 0; i < xs.length; i++) expect(g[i]).toBeCloseTo(dy[i]!, 6);
    x.dispose();
  });

  it('actorForward (custom Linear/Mish gradients) equals a built-in-only reference, values and gradients', () => {
    const { at, r, t, s } = inputs;
    const w = rand(new Rng(3), [B, 2]);
    const names = actorNamedParams('actor', actor);
    const vars = names.map(([, v]) => v);
    const ours = tf.variableGrads(() => tf.sum(tf.mul(w, actorForward(actor, at, r, t, s))) as tf.Scalar, vars);
    const ref = tf.variableGrads(() => tf.sum(tf.mul(w, referenceActorForward(actor, at, r, t, s))) as tf.Scalar, vars);
    expect(ours.value.dataSync()[0]).toBeCloseTo(ref.value.dataSync()[0]!, 4);
    for (const v of vars) {
      const a = arr(ours.grads[v.name]!);
      const b = arr(ref.grads[v.name]!);
      expect(diffNorm(a, b)).toBeLessThanOrEqual(1e-5 * (1 + norm(b)));
    }
    // input gradients as well (a_t, r, t)
    const f = (x: tf.Tensor, rr: tf.Tensor, tt: tf.Tensor) => tf.sum(tf.mul(w, actorForward(actor, x, rr, tt, s)));
    const fr = (x: tf.Tensor, rr: tf.Tensor, tt: tf.Tensor) => tf.sum(tf.mul(w, referenceActorForward(actor, x, rr, tt, s)));
    const g1 = tf.grads(f)([at, r, t]);
    const g2 = tf.grads(fr)([at, r, t]);
    for (let k = 0; k < 3; k++) expect(diffNorm(arr(g1[k]!), arr(g2[k]!))).toBeLessThanOrEqual(1e-5 * (1 + norm(arr(g2[k]!))));
    tf.dispose([w, ours.value, ref.value, ...Object.values(ours.grads), ...Object.values(ref.grads), ...g1, ...g2]);
  });

  it('actorJvp primal equals actorForward', () => {
    const { at, r, t, s, v } = inputs;
    const { u, du } = actorJvp(actor, at, r, t, s, v);
    const u2 = actorForward(actor, at, r, t, s);
    expect(diffNorm(arr(u), arr(u2))).toBeLessThan(1e-6);
    tf.dispose([u, du, u2]);
  });

  it('actorJvp matches central finite differences along (v, 0, 1)', () => {
    const { at, r, t, s, v } = inputs;
    const { u, du } = actorJvp(actor, at, r, t, s, v);
    const h = 1e-2;
    const fd = tf.tidy(() => {
      const up = actorForward(actor, tf.add(at, tf.mul(v, h)), r, tf.add(t, h), s);
      const dn = actorForward(actor, tf.sub(at, tf.mul(v, h)), r, tf.sub(t, h), s);
      return tf.div(tf.sub(up, dn), 2 * h);
    });
    const e = diffNorm(arr(fd), arr(du));
    expect(norm(arr(du))).toBeGreaterThan(1e-3); // non-trivial derivative
    expect(e).toBeLessThanOrEqual(1e-2 * norm(arr(du)) + 1e-4);
    tf.dispose([u, du, fd]);
  });

  it('actorJvp matches finite differences for a general tangent (v, dr, dt), incl. the r embedding', () => {
    const { at, r, t, s, v } = inputs;
    const dr = tf.tensor2d([0.3, -0.7, 1.1, 0.5, -0.2], [B, 1]);
    const dt = tf.tensor2d([1.0, 0.4, -0.6, 0.9, 1.5], [B, 1]);
    const { u, du } = actorJvp(actor, at, r, t, s, v, dr, dt);
    const h = 1e-2;
    const fd = tf.tidy(() => {
      const f = (sg: number) =>
        actorForward(actor, tf.add(at, tf.mul(v, sg * h)), tf.add(r, tf.mul(dr, sg * h)), tf.add(t, tf.mul(dt, sg * h)), s);
      return tf.div(tf.sub(f(1), f(-1)), 2 * h);
    });
    expect(diffNorm(arr(fd), arr(du))).toBeLessThanOrEqual(1e-2 * norm(arr(du)) + 1e-4);
    tf.dispose([dr, dt, u, du, fd]);
  });

  it('exact identity <w, J v> = <J^T w, v> per sample, J^T w from tf.grad (tight tolerance)', () => {
    const { at, r, t, s, v } = inputs;
    const rng = new Rng(5);
    const w = rand(rng, [B, 2]);
    const dr = rand(rng, [B, 1]);
    const dt = rand(rng, [B, 1]);
    for (const [drT, dtT] of [
      [0, 1],
      [dr, dt],
    ] as const) {
      const { u, du } = actorJvp(actor, at, r, t, s, v, drT, dtT);
      // <w, J v> per sample
      const lhs = arr(tf.sum(tf.mul(w, du), 1));
      // J^T w by reverse mode through the *reference* implementation (built-in kernels only)
      const [ga, gr, gt] = tf.grads((x: tf.Tensor, rr: tf.Tensor, tt: tf.Tensor) =>
        tf.sum(tf.mul(w, referenceActorForward(actor, x, rr, tt, s))),
      )([at, r, t]);
      const drv = typeof drT === 'number' ? tf.fill([B, 1], drT) : drT;
      const dtv = typeof dtT === 'number' ? tf.fill([B, 1], dtT) : dtT;
      const rhs = arr(tf.add(tf.add(tf.sum(tf.mul(ga!, v), 1), tf.sum(tf.mul(gr!, drv), 1)), tf.sum(tf.mul(gt!, dtv), 1)));
      // round-off scale: sum of the absolute values of every product entering either side
      const scale = arr(
        tf.addN([
          tf.sum(tf.abs(tf.mul(w, du)), 1),
          tf.sum(tf.abs(tf.mul(ga!, v)), 1),
          tf.sum(tf.abs(tf.mul(gr!, drv)), 1),
          tf.sum(tf.abs(tf.mul(gt!, dtv)), 1),
        ]),
      );
      for (let i = 0; i < B; i++) {
        expect(scale[i]).toBeGreaterThan(0);
        // float32: a correct JVP agrees to ~1e-6 relative; a 0.1% error in Mish' already breaks 1e-4
        expect(Math.abs(lhs[i]! - rhs[i]!)).toBeLessThanOrEqual(1e-4 * scale[i]!);
      }
      tf.dispose([u, du, ga!, gr!, gt!]);
    }
    tf.dispose([w, dr, dt]);
  });

  it('with r = t the MeanFlow target is exactly v = eps - a (plain flow matching)', () => {
    const rng = new Rng(9);
    const a = rand(rng, [B, 2]);
    const eps = rand(rng, [B, 2]);
    const { t, s } = inputs;
    const { at, v, uTgt } = meanFlowTarget(actor, a, eps, t, t, s);
    expect(Array.from(arr(uTgt))).toEqual(Array.from(arr(tf.sub(eps, a))));
    expect(Array.from(arr(uTgt))).toEqual(Array.from(arr(v)));
    // a_t interpolates: t = 1 is noise, t = 0 data
    const tv = arr(t);
    const atv = arr(at);
    const av = arr(a);
    const ev = arr(eps);
    for (let i = 0; i < B; i++)
      for (let j = 0; j < 2; j++)
        expect(atv[i * 2 + j]).toBeCloseTo((1 - tv[i]!) * av[i * 2 + j]! + tv[i]! * ev[i * 2 + j]!, 5);
    tf.dispose([a, eps, at, v, uTgt]);
  });

  it('with r < t the target subtracts (t - r) * JVP', () => {
    const rng = new Rng(10);
    const a = rand(rng, [B, 2]);
    const eps = rand(rng, [B, 2]);
    const { r, t, s } = inputs;
    const { at, v, uTgt } = meanFlowTarget(actor, a, eps, t, r, s);
    const { du } = actorJvp(actor, at, r, t, s, v);
    const expected = tf.sub(v, tf.mul(tf.sub(t, r), du));
    expect(diffNorm(arr(uTgt), arr(expected))).toBeLessThan(1e-6);
    tf.dispose([a, eps, at, v, uTgt, du, expected]);
  });

  it('one-step action = eps - u(eps, 0, 1; s), clipped when asked', () => {
    const rng = new Rng(12);
    const eps = rand(rng, [B, 2], 3);
    const { s } = inputs;
    const a = arr(oneStepAction(actor, eps, s));
    const u = arr(actorForward(actor, eps, tf.zeros([B, 1]), tf.ones([B, 1]), s));
    const e = arr(eps);
    for (let i = 0; i < a.length; i++) expect(a[i]).toBeCloseTo(e[i]! - u[i]!, 5);
    const c = arr(oneStepAction(actor, eps, s, 1));
    for (let i = 0; i < c.length; i++) expect(c[i]).toBeCloseTo(Math.max(-1, Math.min(1, a[i]!)), 6);
    expect(c.some((x) => Math.abs(x) === 1)).toBe(true);
    eps.dispose();
  });
});

describe('OFQL network initialisation and names', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it('same seed -> same weights; different seed -> different; PyTorch-like bounds', () => {
    const a = initActor(DIMS, new Rng(1));
    const b = initActor(DIMS, new Rng(1));
    const c = initActor(DIMS, new Rng(2));
    const na = readNamed(actorNamedParams('actor', a));
    const nb = readNamed(actorNamedParams('actor', b));
    const nc = readNamed(actorNamedParams('actor', c));
    for (const [k, v] of na) {
      expect(Array.from(v.data)).toEqual(Array.from(nb.get(k)!.data));
      const fanIn = k.endsWith('.weight') ? v.shape[0]! : na.get(k.replace('.bias', '.weight'))!.shape[0]!;
      const bound = 1 / Math.sqrt(fanIn);
      for (const x of v.data) expect(Math.abs(x)).toBeLessThanOrEqual(bound + 1e-7);
    }
    expect(Array.from(na.get('actor.mid_layer.0.weight')!.data)).not.toEqual(Array.from(nc.get('actor.mid_layer.0.weight')!.data));
    for (const p of [a, b, c]) disposeNamed(actorNamedParams('actor', p));
  });

  it('stable DQL-like names and shapes, [in, out] layout, torch layout round trip', () => {
    const cfg = { ...DIMS, obsDim: 17, actDim: 6, hiddenDim: 256 };
    const actor = initActor(cfg, new Rng(3));
    const critic = initCritic(cfg, new Rng(4));
    const shapes = Object.fromEntries([...readNamed(actorNamedParams('actor', actor))].map(([k, v]) => [k, v.shape]));
    expect(shapes).toEqual({
      'actor.t_embed.1.weight': [16, 32],
      'actor.t_embed.1.bias': [32],
      'actor.t_embed.3.weight': [32, 16],
      'actor.t_embed.3.bias': [16],
      'actor.r_embed.1.weight': [16, 32],
      'actor.r_embed.1.bias': [32],
      'actor.r_embed.3.weight': [32, 16],
      'actor.r_embed.3.bias': [16],
      'actor.mid_layer.0.weight': [6 + 32 + 17, 256],
      'actor.mid_layer.0.bias': [256],
      'actor.mid_layer.2.weight': [256, 256],
      'actor.mid_layer.2.bias': [256],
      'actor.mid_layer.4.weight': [256, 256],
      'actor.mid_layer.4.bias': [256],
      'actor.final_layer.weight': [256, 6],
      'actor.final_layer.bias': [6],
    });
    const cn = readNamed(criticNamedParams('critic', critic));
    expect([...cn.keys()].filter((k) => k.startsWith('critic.q1_model'))).toEqual([
      'critic.q1_model.0.weight',
      'critic.q1_model.0.bias',
      'critic.q1_model.2.weight',
      'critic.q1_model.2.bias',
      'critic.q1_model.4.weight',
      'critic.q1_model.4.bias',
      'critic.q1_model.6.weight',
      'critic.q1_model.6.bias',
    ]);
    expect(cn.get('critic.q2_model.0.weight')!.shape).toEqual([23, 256]);
    expect(cn.get('critic.q2_model.6.weight')!.shape).toEqual([256, 1]);
    const torch = toTorchLayout(cn);
    expect(torch.get('critic.q2_model.0.weight')!.shape).toEqual([256, 23]);
    const w = cn.get('critic.q1_model.0.weight')!;
    const wt = torch.get('critic.q1_model.0.weight')!;
    expect(wt.data[5 * 23 + 7]).toBe(w.data[7 * 256 + 5]); // torch[out=5][in=7] == ours[in=7][out=5]
    const back = fromTorchLayout(torch);
    for (const [k, v] of cn) expect(Array.from(back.get(k)!.data)).toEqual(Array.from(v.data));
    // twin Q nets are independent
    const s = tf.ones([2, 17]);
    const a = tf.ones([2, 6]);
    const [q1, q2] = criticForward(critic, s, a);
    expect(q1.shape).toEqual([2, 1]);
    expect(q1.dataSync()[0]).not.toBe(q2.dataSync()[0]);
    tf.dispose([s, a, q1, q2]);
    disposeNamed(actorNamedParams('actor', actor));
    disposeNamed(criticNamedParams('critic', critic));
  });
});
