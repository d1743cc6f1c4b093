/**
 * The engine's parameter bookkeeping in JS: a network's named Float32Arrays in checkpoint order,
 * fed to the step graphs as inputs and replaced by the updated values those graphs output, and
 * the same for its Adam moments (src/engine/update-graph.ts names the graph side).
 */
import type { NamedArray } from '../ofql/networks.js';
import type { AdamState } from './optim.js';
import type { Feeds } from './ort-session.js';
import { paramShapes, type LayerSpec } from './params.js';
import { UPDATE_IO } from './update-graph.js';

/** One network's parameters: names, shapes and the live arrays, in checkpoint order. */
export class ParamSet {
  readonly names: string[];
  readonly shapes: number[][];
  arrays: Float32Array[];

  constructor(layers: readonly LayerSpec[], values: ReadonlyMap<string, NamedArray>) {
    const specs = paramShapes(layers);
    this.names = specs.map(([n]) => n);
    this.shapes = specs.map(([, s]) => s);
    this.arrays = this.names.map((n) => Float32Array.from(values.get(n)!.data));
  }

  /** Feeds under the parameter names, or with `from` replaced by `to` as prefix. */
  feed(into: Feeds, from = '', to = ''): void {
    this.names.forEach((n, k) => {
      into[to + n.slice(from.length)] = { data: this.arrays[k]!, shape: this.shapes[k]! };
    });
  }

  /** Values of a Q net (`<prefix>.q1_model.*` or q2) fed under another prefix. */
  feedPart(into: Feeds, part: string, to: string): void {
    this.names.forEach((n, k) => {
      if (n.startsWith(part)) into[to + n.slice(part.length)] = { data: this.arrays[k]!, shape: this.shapes[k]! };
    });
  }

  read(out: Map<string, NamedArray>): void {
    this.names.forEach((n, k) => out.set(n, { data: Float32Array.from(this.arrays[k]!), shape: [...this.shapes[k]!] }));
  }

  /** Check that `values` has every parameter with its shape (before anything is changed). */
  check(values: ReadonlyMap<string, NamedArray>): void {
    this.names.forEach((n, k) => {
      const v = values.get(n);
      if (!v) throw new Error(`parameter '${n}' missing from the given tensors`);
      const want = this.shapes[k]!.join('x');
      if (v.shape.join('x') !== want || v.data.length !== this.arrays[k]!.length) {
        throw new Error(`parameter '${n}': shape ${v.shape.join('x')} does not match ${want}`);
      }
    });
  }

  /** Take the new values a graph produced (`new:<param>` outputs). */
  takeUpdated(out: Record<string, Float32Array>): void {
    this.arrays = this.names.map((n) => out[UPDATE_IO.newParam(n)]!);
  }

  load(values: ReadonlyMap<string, NamedArray>): void {
    this.names.forEach((n, k) => this.arrays[k]!.set(values.get(n)!.data));
  }
}

/** Rename `<from>.*` entries to `<to>.*` (the EMA actor and the target critic start as copies). */
export function renamed(values: ReadonlyMap<string, NamedArray>, from: string, to: string): Map<string, NamedArray> {
  return new Map([...values].map(([n, v]) => [to + n.slice(from.length), v]));
}

/** Feed a network's Adam moments and bias corrections. */
export function feedAdam(feeds: Feeds, net: string, p: ParamSet, opt: AdamState): void {
  p.names.forEach((n, k) => {
    feeds[UPDATE_IO.moment1(n)] = { data: opt.m[k]!, shape: p.shapes[k]! };
    feeds[UPDATE_IO.moment2(n)] = { data: opt.v[k]!, shape: p.shapes[k]! };
  });
  const [b1, b2] = opt.biasCorrections();
  feeds[UPDATE_IO.bias1(net)] = { data: Float32Array.of(b1), shape: [] };
  feeds[UPDATE_IO.bias2(net)] = { data: Float32Array.of(b2), shape: [] };
}

/** After an update graph ran: take the new parameters and moments it made. */
export function takeAdam(out: Record<string, Float32Array>, p: ParamSet, opt: AdamState): void {
  p.takeUpdated(out);
  opt.advance(
    p.names.map((n) => out[UPDATE_IO.newMoment1(n)]!),
    p.names.map((n) => out[UPDATE_IO.newMoment2(n)]!),
  );
}

