/**
 * Benchmark policy for `npm run bench:eval`: an MLP with 3 hidden layers of 256 units (ReLU),
 * tanh output, Float32 weights (fixed pseudo-random init), evaluated batched in plain JS:
 * one act() call computes all n rows layer by layer with preallocated buffers.
 * ~134k multiply-adds per row for Hopper (11 -> 256 -> 256 -> 256 -> 3).
 */
import { Rng } from '../src/rng.js';
import type { Policy, PolicySpec } from '../src/policy/types.js';

export const HIDDEN = [256, 256, 256];

interface Layer {
  inDim: number;
  outDim: number;
  w: Float32Array; // [out, in] row-major
  b: Float32Array;
}

export default function createMlpPolicy(spec: PolicySpec): Policy {
  const rng = new Rng(1234);
  const dims = [spec.observationSize, ...HIDDEN, spec.actionSize];
  const layers: Layer[] = [];
  for (let l = 0; l + 1 < dims.length; l++) {
    const inDim = dims[l];
    const outDim = dims[l + 1];
    const w = new Float32Array(inDim * outDim);
    const scale = Math.sqrt(2 / inDim) * (l + 2 === dims.length ? 0.1 : 1);
    for (let i = 0; i < w.length; i++) w[i] = rng.normal() * scale;
    layers.push({ inDim, outDim, w, b: new Float32Array(outDim) });
  }
  let capacity = 0;
  let bufs: Float32Array[] = [];
  const ensure = (n: number): void => {
    if (n <= capacity) return;
    capacity = n;
    bufs = dims.map((d) => new Float32Array(n * d));
  };
  return {
    description: `MLP ${dims.join('-')} (ReLU, tanh output), Float32 weights, batched plain-JS matmul`,
    act(obs: Float64Array, n: number): Float32Array {
      ensure(n);
      const x0 = bufs[0];
      for (let i = 0; i < n * dims[0]; i++) x0[i] = obs[i];
      for (let l = 0; l < layers.length; l++) {
        const { inDim, outDim, w, b } = layers[l];
        const x = bufs[l];
        const y = bufs[l + 1];
        const last = l === layers.length - 1;
        for (let r = 0; r < n; r++) {
          const xo = r * inDim;
          const yo = r * outDim;
          for (let o = 0; o < outDim; o++) {
            let s = b[o];
            const wo = o * inDim;
            for (let i = 0; i < inDim; i++) s += w[wo + i] * x[xo + i];
            y[yo + o] = last ? Math.tanh(s) : s > 0 ? s : 0;
          }
        }
      }
      return bufs[layers.length].subarray(0, n * spec.actionSize);
    },
  };
}
