/**
 * Import a PyTorch state dict saved as safetensors (`safetensors.torch.save_file(model.state_dict(),
 * path)`), generically: rename tensors through a caller-supplied table, transpose nn.Linear weights
 * from PyTorch's [out, in] to the caller's layout, and report every unmapped / missing name.
 * Reading is pure data (see safetensors.ts): unlike `torch.load` on a `.pt`/`.pth` pickle, nothing in
 * the file is executed.
 *
 * Model-specific tables (e.g. DQL's module names -> OFQL's) belong with the model code; see
 * docs/checkpoint-format.md for the DQL names.
 */
import { CheckpointError, fmtShape, tensorField } from './errors.js';
import { expectTensors, type TensorSpec } from './checkpoint-dir.js';
import { readSafetensorsFile, type Tensor, type TensorData } from './safetensors.js';

/** One target name, or several (the same torch tensor initialises several of ours, e.g. critic and critic_target). */
export type NameTarget = string | readonly string[];

/**
 * torch name -> our name(s). As a Map / Record every entry is required to be in the state dict
 * (unless `allowMissing`); as a function, returning null / undefined means "not mapped".
 */
export type NameTable =
  | ReadonlyMap<string, NameTarget>
  | Readonly<Record<string, NameTarget>>
  | ((torchName: string) => NameTarget | null | undefined);

/**
 * Layout of 2-D Linear weights on our side: 'in-out' ([in, out], y = x W + b, what src/ofql uses)
 * means PyTorch's [out, in] weights are transposed; 'out-in' keeps them.
 */
export type WeightLayout = 'in-out' | 'out-in';

export interface TorchImportOptions {
  names: NameTable;
  /** Torch names to skip without complaint (exact names or patterns), e.g. DQL's diffusion schedule buffers. */
  ignore?: ReadonlyArray<string | RegExp>;
  /** Default 'in-out'. */
  layout?: WeightLayout;
  /** Which torch tensors are Linear weights. Default: the name ends with '.weight' and the tensor is 2-D. */
  isLinearWeight?: (torchName: string, tensor: Tensor) => boolean;
  /** Do not fail on state-dict tensors that are neither mapped nor ignored (they are listed in `unmapped`). Default false. */
  allowUnmapped?: boolean;
  /** Do not fail when a Map / Record table names a tensor the state dict lacks (listed in `missing`). Default false. */
  allowMissing?: boolean;
  /** Names + shapes (our side, after transposition) the result must contain; see expectTensors. */
  expect?: TensorSpec;
  /** Name of the state dict's file in errors. Default '(state dict)'. */
  source?: string;
}

export interface TorchImportResult {
  /** Our tensors, in state-dict order. */
  tensors: Map<string, Tensor>;
  mapped: Array<{ torch: string; ours: string; transposed: boolean }>;
  ignored: string[];
  /** Torch names neither mapped nor ignored (only non-empty with allowUnmapped). */
  unmapped: string[];
  /** Table entries absent from the state dict (only non-empty with allowMissing). */
  missing: string[];
}

const defaultIsLinearWeight = (name: string, t: Tensor): boolean => name.endsWith('.weight') && t.shape.length === 2;

/** Transpose a 2-D tensor of any dtype (a copy: [r, c] -> [c, r]). */
export function transpose2d<T extends Tensor>(t: T): T {
  if (t.shape.length !== 2) throw new RangeError(`transpose2d needs a 2-D tensor, got shape ${fmtShape(t.shape)}`);
  const [rows, cols] = t.shape as [number, number];
  const src = t.data as TensorData;
  const Ctor = src.constructor as new (n: number) => TensorData;
  const dst = new Ctor(src.length);
  const s = src as unknown as { [i: number]: number | bigint };
  const d = dst as unknown as { [i: number]: number | bigint };
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) d[j * rows + i] = s[i * cols + j]!;
  }
  return { dtype: t.dtype, shape: [cols, rows], data: dst } as T;
}

function lookup(names: NameTable, torchName: string): readonly string[] | undefined {
  let v: NameTarget | null | undefined;
  if (typeof names === 'function') v = names(torchName);
  else if (names instanceof Map) v = (names as ReadonlyMap<string, NameTarget>).get(torchName);
  else v = Object.prototype.hasOwnProperty.call(names, torchName) ? (names as Record<string, NameTarget>)[torchName] : undefined;
  if (v === null || v === undefined) return undefined;
  return typeof v === 'string' ? [v] : v;
}

function listNames(names: readonly string[], max = 12): string {
  const shown = names.slice(0, max).map((n) => `'${n}'`).join(', ');
  return names.length > max ? `${shown}, ... (${names.length} in all)` : shown;
}

/**
 * Rename (and transpose) the tensors of a PyTorch state dict. Throws CheckpointError naming the
 * source and the tensors at fault: 'unexpected-tensor' (unmapped torch names, all listed),
 * 'missing-tensor' (table entries absent from the state dict, all listed), 'name-table' (two torch
 * tensors mapped to one of ours, a bad target, a non-2-D "Linear weight"), and expectTensors' codes
 * when `expect` is given.
 */
export function importTorchStateDict(stateDict: ReadonlyMap<string, Tensor>, options: TorchImportOptions): TorchImportResult {
  const source = options.source ?? '(state dict)';
  const layout = options.layout ?? 'in-out';
  const isLinear = options.isLinearWeight ?? defaultIsLinearWeight;
  const ignore = options.ignore ?? [];
  const isIgnored = (n: string) => ignore.some((p) => (typeof p === 'string' ? p === n : p.test(n)));

  const out = new Map<string, Tensor>();
  const from = new Map<string, string>(); // ours -> torch, to catch collisions
  const result: TorchImportResult = { tensors: out, mapped: [], ignored: [], unmapped: [], missing: [] };
  for (const [torchName, t] of stateDict) {
    const targets = lookup(options.names, torchName);
    if (targets === undefined) {
      if (isIgnored(torchName)) result.ignored.push(torchName);
      else result.unmapped.push(torchName);
      continue;
    }
    const transpose = layout === 'in-out' && isLinear(torchName, t);
    if (transpose && t.shape.length !== 2) {
      throw new CheckpointError({ code: 'name-table', file: source, field: tensorField(torchName), detail: `is treated as a Linear weight but has shape ${fmtShape(t.shape)} (expected 2-D [out, in])` });
    }
    const value = transpose ? transpose2d(t) : { ...t, shape: [...t.shape] } as Tensor;
    if (targets.length === 0) {
      throw new CheckpointError({ code: 'name-table', file: source, field: tensorField(torchName), detail: 'the name table maps it to an empty list of names' });
    }
    targets.forEach((ours, k) => {
      if (typeof ours !== 'string' || ours.length === 0) {
        throw new CheckpointError({ code: 'name-table', file: source, field: tensorField(torchName), detail: `the name table maps it to ${JSON.stringify(ours)}, expected a non-empty name` });
      }
      const prev = from.get(ours);
      if (prev !== undefined) {
        throw new CheckpointError({ code: 'name-table', file: source, field: tensorField(ours), detail: `both torch tensors '${prev}' and '${torchName}' map to it` });
      }
      from.set(ours, torchName);
      // Several targets get independent copies so that later in-place updates do not alias.
      const v = k === 0 ? value : ({ ...value, shape: [...value.shape], data: value.data.slice() } as Tensor);
      out.set(ours, v);
      result.mapped.push({ torch: torchName, ours, transposed: transpose });
    });
  }
  if (result.unmapped.length > 0 && !options.allowUnmapped) {
    throw new CheckpointError({
      code: 'unexpected-tensor',
      file: source,
      field: tensorField(result.unmapped[0]!),
      detail: `${result.unmapped.length} state-dict tensor(s) have no entry in the name table: ${listNames(result.unmapped)}; map them or list them in \`ignore\``,
    });
  }
  if (typeof options.names !== 'function') {
    const tableKeys = options.names instanceof Map ? [...(options.names as ReadonlyMap<string, NameTarget>).keys()] : Object.keys(options.names);
    result.missing = tableKeys.filter((k) => !stateDict.has(k));
    if (result.missing.length > 0 && !options.allowMissing) {
      throw new CheckpointError({
        code: 'missing-tensor',
        file: source,
        field: tensorField(result.missing[0]!),
        detail: `${result.missing.length} tensor(s) named in the name table are not in the state dict: ${listNames(result.missing)}`,
      });
    }
  }
  if (options.expect) expectTensors(out, options.expect, { file: `${source} (after renaming to our names)` });
  return result;
}

/** readSafetensorsFile + importTorchStateDict (source = the path). */
export async function importTorchSafetensors(path: string, options: Omit<TorchImportOptions, 'source'>): Promise<TorchImportResult> {
  const { tensors } = await readSafetensorsFile(path, { checkFinite: true });
  return importTorchStateDict(tensors, { ...options, source: path });
}

/**
 * The inverse direction, for handing weights to PyTorch: rename ours -> torch through the same
 * (Map / Record) table used for importing and transpose Linear weights back to [out, in]. A torch
 * name mapped to several of ours takes the first. Our tensors not in the table are ignored.
 * Missing ones are CheckpointError 'missing-tensor'.
 */
export function exportTorchStateDict(
  ours: ReadonlyMap<string, Tensor>,
  names: Exclude<NameTable, (torchName: string) => unknown>,
  options: { layout?: WeightLayout; isLinearWeight?: (torchName: string, tensor: Tensor) => boolean; source?: string } = {},
): Map<string, Tensor> {
  const source = options.source ?? '(tensors)';
  const layout = options.layout ?? 'in-out';
  const isLinear = options.isLinearWeight ?? defaultIsLinearWeight;
  const entries: Array<[string, NameTarget]> = names instanceof Map ? [...(names as ReadonlyMap<string, NameTarget>).entries()] : Object.entries(names);
  const out = new Map<string, Tensor>();
  const missing: string[] = [];
  for (const [torchName, target] of entries) {
    const first = typeof target === 'string' ? target : target[0];
    const t = first === undefined ? undefined : ours.get(first);
    if (!t) {
      missing.push(first ?? torchName);
      continue;
    }
    out.set(torchName, layout === 'in-out' && isLinear(torchName, t) ? transpose2d(t) : { ...t, shape: [...t.shape] } as Tensor);
  }
  if (missing.length > 0) {
    throw new CheckpointError({ code: 'missing-tensor', file: source, field: tensorField(missing[0]!), detail: `${missing.length} tensor(s) needed for export are missing: ${listNames(missing)}` });
  }
  return out;
}

/**
 * A function name table from prefix rules, first match wins: `[['model.time_mlp.', 'actor.t_embed.'],
 * ['q1_model.', ['critic.q1_model.', 'critic_target.q1_model.']]]` maps 'model.time_mlp.1.weight'
 * to 'actor.t_embed.1.weight' and 'q1_model.0.bias' to both critic copies. Unmatched names map to
 * nothing (so they must be ignored, or allowed with allowUnmapped).
 */
export function renamePrefixes(rules: ReadonlyArray<readonly [string, NameTarget]>): (torchName: string) => NameTarget | undefined {
  return (torchName) => {
    for (const [from, to] of rules) {
      if (torchName.startsWith(from)) {
        const rest = torchName.slice(from.length);
        return typeof to === 'string' ? to + rest : to.map((p) => p + rest);
      }
    }
    return undefined;
  };
}
