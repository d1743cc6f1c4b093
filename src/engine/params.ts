/**
 * Parameter layout of the engine: names, shapes and initial values of the four OFQL networks as
 * plain Float32Arrays, in exactly the order and naming of src/ofql/networks.ts (actorNamedParams,
 * criticNamedParams), which is also the checkpoint and optimizer-state order. The initial values
 * are drawn like networks.ts initLinear, so one seed gives the same weights in both engines.
 */
import type { OfqlConfig } from '../ofql/config.js';
import type { NamedArray } from '../ofql/networks.js';
import type { Rng } from '../rng.js';
import type { ActorRef, LinearRef } from './net-graphs.js';

type Dims = Pick<OfqlConfig, 'obsDim' | 'actDim' | 'hiddenDim' | 'depth' | 'timeEmbDim' | 'timeScale'>;

/** One Linear layer of a network: its name (without .weight/.bias) and fan-in / fan-out. */
export interface LayerSpec {
  name: string;
  inDim: number;
  outDim: number;
}

export interface ActorLayout {
  tEmbed: LayerSpec[];
  rEmbed: LayerSpec[];
  trunk: LayerSpec[];
}

/** The actor's layers under `prefix` (t_embed.1/.3, r_embed.1/.3, mid_layer.0/2/4, final_layer). */
export function actorLayout(d: Dims, prefix: string): ActorLayout {
  const E = d.timeEmbDim;
  const embed = (which: string): LayerSpec[] => [
    { name: `${prefix}.${which}.1`, inDim: E, outDim: 2 * E },
    { name: `${prefix}.${which}.3`, inDim: 2 * E, outDim: E },
  ];
  const trunk: LayerSpec[] = [];
  let fanIn = d.actDim + 2 * E + d.obsDim;
  for (let i = 0; i < d.depth; i++) {
    trunk.push({ name: `${prefix}.mid_layer.${2 * i}`, inDim: fanIn, outDim: d.hiddenDim });
    fanIn = d.hiddenDim;
  }
  trunk.push({ name: `${prefix}.final_layer`, inDim: d.hiddenDim, outDim: d.actDim });
  return { tEmbed: embed('t_embed'), rEmbed: embed('r_embed'), trunk };
}

/** An MLP's layers under `prefix` (PyTorch Sequential numbering): <prefix>.0, .2, ..., .<2 depth>. */
export function mlpLayout(prefix: string, inDim: number, hiddenDim: number, depth: number, outDim: number): LayerSpec[] {
  const layers: LayerSpec[] = [];
  let fanIn = inDim;
  for (let i = 0; i < depth; i++) {
    layers.push({ name: `${prefix}.${2 * i}`, inDim: fanIn, outDim: hiddenDim });
    fanIn = hiddenDim;
  }
  layers.push({ name: `${prefix}.${2 * depth}`, inDim: hiddenDim, outDim });
  return layers;
}

/** One Q net's layers under `prefix` (e.g. `critic.q1_model`): <prefix>.0, .2, .4, .6. */
export function qLayout(d: Pick<Dims, 'obsDim' | 'actDim' | 'hiddenDim' | 'depth'>, prefix: string): LayerSpec[] {
  return mlpLayout(prefix, d.obsDim + d.actDim, d.hiddenDim, d.depth, 1);
}

export const actorLayers = (a: ActorLayout): LayerSpec[] => [...a.tEmbed, ...a.rEmbed, ...a.trunk];
export const criticLayers = (d: Pick<Dims, 'obsDim' | 'actDim' | 'hiddenDim' | 'depth'>, prefix: string): LayerSpec[] => [...qLayout(d, `${prefix}.q1_model`), ...qLayout(d, `${prefix}.q2_model`)];

/** [name, shape] of every parameter of `layers`, weight before bias (the checkpoint order). */
export function paramShapes(layers: readonly LayerSpec[]): Array<[string, number[]]> {
  return layers.flatMap((l): Array<[string, number[]]> => [
    [`${l.name}.weight`, [l.inDim, l.outDim]],
    [`${l.name}.bias`, [l.outDim]],
  ]);
}

/** PyTorch-like init U(-1/sqrt(fan_in), 1/sqrt(fan_in)), weight then bias per layer (networks.ts initLinear). */
export function initParams(layers: readonly LayerSpec[], rng: Rng): Map<string, NamedArray> {
  const out = new Map<string, NamedArray>();
  for (const l of layers) {
    const bound = 1 / Math.sqrt(l.inDim);
    const draw = (n: number) => {
      const a = new Float32Array(n);
      for (let i = 0; i < n; i++) a[i] = rng.uniform(-bound, bound);
      return a;
    };
    out.set(`${l.name}.weight`, { data: draw(l.inDim * l.outDim), shape: [l.inDim, l.outDim] });
    out.set(`${l.name}.bias`, { data: draw(l.outDim), shape: [l.outDim] });
  }
  return out;
}

/**
 * Graph references of `layers` whose parameters are graph inputs named `<inputPrefix><suffix>`,
 * where suffix is the part of the layer name after `namePrefix` (so one Q net can be fed as either
 * critic.q1_model.* or critic.q2_model.*).
 */
export function layerRefs(layers: readonly LayerSpec[], namePrefix: string, inputPrefix: string): LinearRef[] {
  return layers.map((l) => {
    const suffix = l.name.slice(namePrefix.length);
    return { name: l.name, weight: `${inputPrefix}${suffix}.weight`, bias: `${inputPrefix}${suffix}.bias`, inDim: l.inDim, outDim: l.outDim };
  });
}

export function actorRef(a: ActorLayout, prefix: string, d: Dims): ActorRef {
  return {
    tEmbed: layerRefs(a.tEmbed, prefix, prefix),
    rEmbed: layerRefs(a.rEmbed, prefix, prefix),
    trunk: layerRefs(a.trunk, prefix, prefix),
    embDim: d.timeEmbDim,
    timeScale: d.timeScale,
  };
}
