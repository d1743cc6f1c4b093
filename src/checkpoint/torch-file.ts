/**
 * PyTorch state dicts read directly from `torch.save` files, without executing anything.
 *
 * Formats (detected from the bytes, not the file name):
 *  - zip (torch >= 1.6, the default): `<stem>/data.pkl` (the pickled object), `<stem>/data/<key>`
 *    (each storage's raw bytes), `<stem>/version`, optionally `<stem>/byteorder` ("little" /
 *    "big"; absent = little). Read with src/checkpoint/zip.ts.
 *  - legacy (torch < 1.6, or `_use_new_zipfile_serialization=False`): five things back to back:
 *    the magic-number pickle, the protocol-version pickle (1001), the sys-info pickle
 *    ({little_endian, type_sizes}), the object pickle, the pickled list of storage keys, then for
 *    each key in that order an int64 element count and the storage's raw bytes.
 *  - anything else (TorchScript archives, the pre-0.4 tar format, plain pickles) is refused with a
 *    message saying what it is and what to do.
 *
 * The pickle goes through the restricted unpickler (src/checkpoint/pickle.ts) with this allowlist,
 * and nothing else: any other global is refused at its GLOBAL / STACK_GLOBAL opcode with an error
 * naming it (CheckpointError 'forbidden-global').
 *
 *   collections.OrderedDict                 -> a dict (OrderedDict's BUILD `_metadata` is kept aside, unused)
 *   torch._utils._rebuild_tensor_v2         -> a tensor view (storage, offset, size, stride, requires_grad, hooks[, metadata])
 *   torch._utils._rebuild_tensor            -> the same without requires_grad / hooks (old files)
 *   torch._utils._rebuild_parameter         -> its tensor (nn.Parameter(data, requires_grad, hooks))
 *   torch._utils._rebuild_parameter_with_state -> its tensor (the extra state is dropped)
 *   torch.{Float,Double,Half,BFloat16,Long,Int,Short,Char,Byte,Bool}Storage -> the storage dtypes
 *     (values only, never called): F32 F64 F16 BF16 I64 I32 I16 I8 U8 BOOL
 *
 * Persistent ids must be ('storage', <storage type>, key, location, numel) (legacy files add a
 * sixth element, the view metadata, which must be None). The location (e.g. 'cuda:0') is ignored:
 * bytes are bytes. A tensor is materialised as a fresh row-major copy from its storage with its
 * offset and strides, so views, transposes and several tensors sharing one storage come out as
 * torch would show them; every element it reaches must lie inside its storage, and each storage's
 * byte length must be exactly numel x item size. F16 / BF16 come back as Float32Array (exactly),
 * as the safetensors decoder does (src/checkpoint/safetensors.ts `Tensor`).
 *
 * The object must be a dict (state dict) whose values are tensors; nested dicts are flattened
 * with '.' (`{'actor': sd}` gives `actor.<name>`); other values (ints, strings, None, ...) are
 * listed in `skipped`.
 */
import { readFile } from 'node:fs/promises';
import { CheckpointError, fmtShape, tensorField } from './errors.js';
import { PyDict, PyGlobal, PyTuple, pyTypeName, unpickle, type GlobalImpl, type UnpickleOptions } from './pickle.js';
import { bf16BitsToFloat32, decodeSafetensors, dtypeByteSize, f16BitsToFloat32, isFloatDtype, STORED_ARRAY, type Dtype, type Tensor, type TensorData } from './safetensors.js';
import { looksLikeZip, openZip } from './zip.js';

/** torch.<Name>Storage -> dtype. */
export const TORCH_STORAGE_DTYPES: Readonly<Record<string, Dtype>> = Object.freeze({
  FloatStorage: 'F32',
  DoubleStorage: 'F64',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  LongStorage: 'I64',
  IntStorage: 'I32',
  ShortStorage: 'I16',
  CharStorage: 'I8',
  ByteStorage: 'U8',
  BoolStorage: 'BOOL',
});

/** Every global a PyTorch file may name (`module.name`). */
export const TORCH_ALLOWED_GLOBALS: readonly string[] = Object.freeze([
  'collections.OrderedDict',
  'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_tensor',
  'torch._utils._rebuild_parameter',
  'torch._utils._rebuild_parameter_with_state',
  ...Object.keys(TORCH_STORAGE_DTYPES).map((s) => `torch.${s}`),
]);

/** Largest tensor (elements) materialised, and the total over a file: 2^28 (1 GiB of float32). */
export const MAX_TORCH_ELEMENTS = 2 ** 28;

/** The magic number torch's legacy format starts with. */
const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL = 1001;

export type StateDictFormat = 'torch-zip' | 'torch-legacy' | 'safetensors';

export interface StateDictFile {
  format: StateDictFormat;
  /** Tensors in the state dict's order (nested dicts flattened with '.'). */
  tensors: Map<string, Tensor>;
  /** Non-tensor entries, as `name (python type)`. */
  skipped: string[];
  /** A safetensors file's `__metadata__` ({} for torch files). */
  metadata: Record<string, string>;
}

export interface TorchReadOptions {
  /** Refuse NaN / +-Infinity in float tensors (naming the tensor). Default false. */
  checkFinite?: boolean;
}

class StorageRef {
  readonly pyType = 'torch storage';
  constructor(
    readonly key: string,
    readonly dtype: Dtype,
    readonly numel: number,
  ) {}
}

class TensorRef {
  readonly pyType = 'torch.Tensor';
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly size: number[],
    readonly stride: number[],
  ) {}
}

// ---------------------------------------------------------------------------------------------
// The allowlist
// ---------------------------------------------------------------------------------------------

function torchFail(source: string, detail: string, field?: string): never {
  throw new CheckpointError({ code: 'torch-format', file: source, field, detail });
}

function intTuple(v: unknown, what: string, where: string, source: string): number[] {
  if (!(v instanceof PyTuple)) torchFail(source, `${where}: ${what} must be a tuple of ints, got ${pyTypeName(v)}`);
  return (v as PyTuple).items.map((x) => {
    if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 0) {
      torchFail(source, `${where}: ${what} must hold non-negative ints, got ${typeof x === 'number' || typeof x === 'bigint' ? String(x) : pyTypeName(x)}`);
    }
    return x as number;
  });
}

function rebuildTensor(args: unknown[], where: string, source: string, full: boolean): TensorRef {
  const want = full ? '(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])' : '(storage, storage_offset, size, stride)';
  if (full ? args.length !== 6 && args.length !== 7 : args.length !== 4) torchFail(source, `${where}: expected the arguments ${want}, got ${args.length}`);
  const [storage, offset, size, stride, requiresGrad, hooks, metadata] = args;
  if (!(storage instanceof StorageRef)) torchFail(source, `${where}: the first argument must be a storage (a persistent id), got ${pyTypeName(storage)}`);
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) torchFail(source, `${where}: storage_offset must be a non-negative int, got ${String(offset)}`);
  const sz = intTuple(size, 'size', where, source);
  const st = intTuple(stride, 'stride', where, source);
  if (sz.length !== st.length) torchFail(source, `${where}: size ${fmtShape(sz)} and stride ${fmtShape(st)} have different lengths`);
  if (full) {
    if (typeof requiresGrad !== 'boolean') torchFail(source, `${where}: requires_grad must be a bool, got ${pyTypeName(requiresGrad)}`);
    if (!(hooks instanceof PyDict) || hooks.map.size > 0) torchFail(source, `${where}: backward_hooks must be an empty OrderedDict, got ${hooks instanceof PyDict ? `${hooks.map.size} hook(s)` : pyTypeName(hooks)}`);
    if (metadata !== undefined && metadata !== null && !(metadata instanceof PyDict)) torchFail(source, `${where}: metadata must be a dict or None, got ${pyTypeName(metadata)}`);
  }
  return new TensorRef(storage as StorageRef, offset as number, sz, st);
}

function rebuildParameter(args: unknown[], where: string, source: string, n: number): TensorRef {
  if (args.length !== n) torchFail(source, `${where}: expected ${n} arguments (data, requires_grad, backward_hooks${n === 4 ? ', state' : ''}), got ${args.length}`);
  if (!(args[0] instanceof TensorRef)) torchFail(source, `${where}: data must be a tensor, got ${pyTypeName(args[0])}`);
  if (!(args[2] instanceof PyDict) || args[2].map.size > 0) torchFail(source, `${where}: backward_hooks must be an empty OrderedDict`);
  return args[0] as TensorRef;
}

function makeOrderedDict(args: unknown[], where: string, source: string): PyDict {
  const d = new PyDict('collections.OrderedDict');
  if (args.length === 0) return d;
  const items = args[0];
  if (args.length === 1 && Array.isArray(items)) {
    for (const it of items) {
      if (!(it instanceof PyTuple) || it.items.length !== 2 || typeof it.items[0] !== 'string') torchFail(source, `${where}: OrderedDict items must be (str, value) pairs`);
      d.map.set((it as PyTuple).items[0] as string, (it as PyTuple).items[1]);
    }
    return d;
  }
  return torchFail(source, `${where}: OrderedDict takes no arguments or one list of pairs here, got ${args.length} argument(s)`);
}

function torchGlobals(source: string): (module: string, name: string) => GlobalImpl | undefined {
  return (module, name) => {
    if (module === 'collections' && name === 'OrderedDict') return { call: (a, w) => makeOrderedDict(a, w, source) };
    if (module === 'torch._utils') {
      if (name === '_rebuild_tensor_v2') return { call: (a, w) => rebuildTensor(a, w, source, true) };
      if (name === '_rebuild_tensor') return { call: (a, w) => rebuildTensor(a, w, source, false) };
      if (name === '_rebuild_parameter') return { call: (a, w) => rebuildParameter(a, w, source, 3) };
      if (name === '_rebuild_parameter_with_state') return { call: (a, w) => rebuildParameter(a, w, source, 4) };
    }
    if (module === 'torch' && Object.prototype.hasOwnProperty.call(TORCH_STORAGE_DTYPES, name)) return { storageDtype: TORCH_STORAGE_DTYPES[name] };
    return undefined;
  };
}

/** Unpickler options for a torch object pickle; `storages` collects the persistent ids by key. */
function torchPickleOptions(source: string, legacy: boolean, storages: Map<string, StorageRef>): UnpickleOptions {
  return {
    source,
    findGlobal: torchGlobals(source),
    allowedHint: `allowed: ${TORCH_ALLOWED_GLOBALS.join(', ')}`,
    persistentLoad(pid, where) {
      const n = legacy ? 6 : 5;
      if (!(pid instanceof PyTuple) || pid.items.length !== n) {
        torchFail(source, `${where}: a persistent id must be a ${n}-tuple ('storage', storage type, key, location, numel${legacy ? ', view metadata' : ''}), got ${pid instanceof PyTuple ? `a ${pid.items.length}-tuple` : pyTypeName(pid)}`);
      }
      const [tag, type, key, location, numel, view] = (pid as PyTuple).items;
      if (tag !== 'storage') torchFail(source, `${where}: persistent id of kind ${JSON.stringify(tag)}; only 'storage' is supported`);
      if (!(type instanceof PyGlobal) || typeof type.impl.storageDtype !== 'string') torchFail(source, `${where}: the storage type must be one of torch.${Object.keys(TORCH_STORAGE_DTYPES).join(', torch.')}, got ${pyTypeName(type)}`);
      if (typeof key !== 'string' || !/^[A-Za-z0-9_.-]+$/.test(key)) torchFail(source, `${where}: storage key must be a plain string, got ${JSON.stringify(key) ?? pyTypeName(key)}`);
      if (typeof location !== 'string') torchFail(source, `${where}: storage location must be a string, got ${pyTypeName(location)}`);
      if (typeof numel !== 'number' || !Number.isSafeInteger(numel) || numel < 0) torchFail(source, `${where}: storage size must be a non-negative int, got ${String(numel)}`);
      if (legacy && view !== null) torchFail(source, `${where}: storage '${String(key)}' is a view of another storage (legacy view metadata), which is not supported; re-save the file with torch >= 1.6 (torch.save's default zip format)`);
      const dtype = (type as PyGlobal).impl.storageDtype as Dtype;
      const k = key as string;
      const prev = storages.get(k);
      if (prev) {
        if (prev.dtype !== dtype || prev.numel !== numel) {
          torchFail(source, `${where}: storage '${k}' is named twice with different types or sizes (${prev.dtype} x ${prev.numel}, then ${dtype} x ${String(numel)})`);
        }
        return prev;
      }
      const ref = new StorageRef(k, dtype, numel as number);
      storages.set(k, ref);
      return ref;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Materialising tensors
// ---------------------------------------------------------------------------------------------

const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A zeroed array of `n` elements of `dtype` as decoded (half floats widen to float32). */
function newArray(dtype: Dtype, n: number): TensorData {
  return dtype === 'F16' || dtype === 'BF16' ? new Float32Array(n) : new STORED_ARRAY[dtype](n);
}

type Reader = (dv: DataView, byte: number) => number | bigint;

function readerOf(dtype: Dtype, le: boolean): Reader {
  switch (dtype) {
    case 'F64': return (dv, b) => dv.getFloat64(b, le);
    case 'F32': return (dv, b) => dv.getFloat32(b, le);
    case 'F16': return (dv, b) => f16BitsToFloat32(dv.getUint16(b, le));
    case 'BF16': return (dv, b) => bf16BitsToFloat32(dv.getUint16(b, le));
    case 'I64': return (dv, b) => dv.getBigInt64(b, le);
    case 'U64': return (dv, b) => dv.getBigUint64(b, le);
    case 'I32': return (dv, b) => dv.getInt32(b, le);
    case 'U32': return (dv, b) => dv.getUint32(b, le);
    case 'I16': return (dv, b) => dv.getInt16(b, le);
    case 'U16': return (dv, b) => dv.getUint16(b, le);
    case 'I8': return (dv, b) => dv.getInt8(b);
    case 'U8':
    case 'BOOL': return (dv, b) => dv.getUint8(b);
  }
}

/** Copy the elements `t` views out of its storage's bytes, row-major. */
function materialise(t: TensorRef, bytes: Uint8Array, littleEndian: boolean, name: string, source: string): Tensor {
  const field = tensorField(name);
  const { dtype, numel: storageNumel } = t.storage;
  const item = dtypeByteSize(dtype);
  if (bytes.length !== storageNumel * item) {
    torchFail(source, `its storage '${t.storage.key}' should hold ${storageNumel} ${dtype} elements (${storageNumel * item} bytes) but has ${bytes.length} bytes`, field);
  }
  let n = 1;
  for (const d of t.size) n *= d;
  if (!Number.isSafeInteger(n) || n > MAX_TORCH_ELEMENTS) torchFail(source, `shape ${fmtShape(t.size)} has more than the ${MAX_TORCH_ELEMENTS} elements allowed`, field);
  if (n > 0) {
    let last = t.offset;
    for (let k = 0; k < t.size.length; k++) last += (t.size[k]! - 1) * t.stride[k]!;
    if (!Number.isSafeInteger(last) || last >= storageNumel) {
      torchFail(source, `shape ${fmtShape(t.size)}, stride ${fmtShape(t.stride)} at offset ${t.offset} reaches element ${last} of storage '${t.storage.key}', which has ${storageNumel} elements`, field);
    }
  }
  const out = newArray(dtype, n);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // Row-major strides (dimensions of size 1 may have any stride).
  let contiguous = true;
  for (let k = t.size.length - 1, expect = 1; k >= 0; k--) {
    if (t.size[k]! !== 1 && t.stride[k]! !== expect) contiguous = false;
    expect *= t.size[k]!;
  }
  if (n === 0) {
    // nothing to copy
  } else if (contiguous && littleEndian === HOST_LE && (dtype === 'F32' || dtype === 'F64' || dtype === 'I64' || dtype === 'I32' || dtype === 'I16' || dtype === 'I8' || dtype === 'U8' || dtype === 'BOOL')) {
    const src = bytes.subarray(t.offset * item, (t.offset + n) * item);
    new Uint8Array(out.buffer, out.byteOffset, out.byteLength).set(src);
  } else {
    const read = readerOf(dtype, littleEndian);
    const o = out as unknown as { [i: number]: number | bigint };
    const rank = t.size.length;
    const idx = new Array<number>(rank).fill(0);
    let e = t.offset;
    for (let i = 0; i < n; i++) {
      o[i] = read(dv, e * item);
      // Advance the multi-index (last dimension fastest).
      for (let k = rank - 1; k >= 0; k--) {
        if (++idx[k]! < t.size[k]!) {
          e += t.stride[k]!;
          break;
        }
        e -= (t.size[k]! - 1) * t.stride[k]!;
        idx[k] = 0;
      }
    }
  }
  if (dtype === 'BOOL') {
    const a = out as Uint8Array;
    for (let i = 0; i < a.length; i++) if (a[i]! > 1) throw new CheckpointError({ code: 'value', file: source, field, detail: `BOOL element ${i} is ${a[i]}; expected 0 or 1` });
  }
  return { dtype, shape: [...t.size], data: out } as Tensor;
}

function checkFiniteTensor(t: Tensor, name: string, source: string): void {
  if (!isFloatDtype(t.dtype)) return;
  const a = t.data as Float32Array | Float64Array;
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!;
    if (v - v !== 0) {
      throw new CheckpointError({ code: 'non-finite', file: source, field: tensorField(name), detail: `${Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity'} at flat index ${i} of shape ${fmtShape(t.shape)}; expected only finite values` });
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The object: a (nested) dict of tensors
// ---------------------------------------------------------------------------------------------

function flattenStateDict(root: unknown, source: string): { refs: Array<[string, TensorRef]>; skipped: string[] } {
  if (!(root instanceof PyDict)) {
    const what = root instanceof TensorRef ? 'a single tensor' : `a ${pyTypeName(root)}`;
    torchFail(source, `holds ${what}, not a state dict (a dict of tensors); save module.state_dict() with torch.save`);
  }
  const refs: Array<[string, TensorRef]> = [];
  const skipped: string[] = [];
  const names = new Set<string>();
  const onPath = new Set<PyDict>();
  const walk = (d: PyDict, prefix: string, depth: number) => {
    if (depth > 16) torchFail(source, `dicts nested more than 16 deep at '${prefix}'`);
    if (onPath.has(d)) torchFail(source, `the dict at '${prefix}' contains itself`);
    onPath.add(d);
    for (const [k, v] of d.map) {
      const key = typeof k === 'string' ? k : typeof k === 'number' || typeof k === 'bigint' ? String(k) : undefined;
      if (key === undefined) {
        skipped.push(`${prefix}${String(k)} (${pyTypeName(k)} key)`);
        continue;
      }
      const name = prefix + key;
      if (v instanceof TensorRef) {
        if (names.has(name)) torchFail(source, 'occurs twice after flattening nested dicts with "."', tensorField(name));
        names.add(name);
        refs.push([name, v]);
      } else if (v instanceof PyDict) {
        walk(v, `${name}.`, depth + 1);
      } else {
        skipped.push(`${name} (${pyTypeName(v)})`);
      }
    }
    onPath.delete(d);
  };
  walk(root as PyDict, '', 0);
  return { refs, skipped };
}

function buildTensors(
  refs: Array<[string, TensorRef]>,
  storageBytes: (ref: StorageRef) => Uint8Array,
  littleEndian: boolean,
  source: string,
  options: TorchReadOptions,
): Map<string, Tensor> {
  const tensors = new Map<string, Tensor>();
  let total = 0;
  for (const [name, ref] of refs) {
    const t = materialise(ref, storageBytes(ref.storage), littleEndian, name, source);
    total += t.data.length;
    if (total > MAX_TORCH_ELEMENTS) torchFail(source, `the tensors hold more than the ${MAX_TORCH_ELEMENTS} elements allowed in all`, tensorField(name));
    if (options.checkFinite) checkFiniteTensor(t, name, source);
    tensors.set(name, t);
  }
  return tensors;
}

// ---------------------------------------------------------------------------------------------
// The two container formats
// ---------------------------------------------------------------------------------------------

function decodeTorchZip(bytes: Uint8Array, source: string, options: TorchReadOptions): StateDictFile {
  const zip = openZip(bytes, source);
  const names = zip.entries.map((e) => e.name);
  const pkls = names.filter((n) => /^[^/]+\/data\.pkl$/.test(n));
  const stemOf = (n: string) => n.slice(0, n.indexOf('/'));
  const isScript = names.some((n) => /^[^/]+\/(code\/|constants\.pkl$)/.test(n));
  if (isScript) {
    torchFail(source, 'is a TorchScript archive (torch.jit.save), not a state dict; in Python, torch.save(model.state_dict(), "actor.pth") and pass that file');
  }
  if (pkls.length !== 1) {
    torchFail(source, pkls.length === 0
      ? `is a ZIP archive without a <name>/data.pkl entry, so not a torch.save file (entries: ${names.slice(0, 8).join(', ')}${names.length > 8 ? ', ...' : ''})`
      : `holds ${pkls.length} data.pkl entries (${pkls.join(', ')}); expected one`);
  }
  const stem = stemOf(pkls[0]!);
  let littleEndian = true;
  if (zip.has(`${stem}/byteorder`)) {
    const bo = new TextDecoder().decode(zip.read(`${stem}/byteorder`)).trim();
    if (bo !== 'little' && bo !== 'big') torchFail(source, `${stem}/byteorder says ${JSON.stringify(bo)}; expected "little" or "big"`);
    littleEndian = bo === 'little';
  }
  const storages = new Map<string, StorageRef>();
  const { value } = unpickle(zip.read(pkls[0]!), torchPickleOptions(`${source} (${pkls[0]})`, false, storages));
  const { refs, skipped } = flattenStateDict(value, source);
  const tensors = buildTensors(refs, (ref) => {
    const entry = `${stem}/data/${ref.key}`;
    if (!zip.has(entry)) torchFail(source, `the pickle refers to storage '${ref.key}' but the archive has no entry '${entry}'`);
    return zip.read(entry);
  }, littleEndian, source, options);
  return { format: 'torch-zip', tensors, skipped, metadata: {} };
}

function decodeTorchLegacy(bytes: Uint8Array, source: string, options: TorchReadOptions): StateDictFile {
  const noGlobals: UnpickleOptions = { source, findGlobal: () => undefined, allowedHint: 'no globals are allowed in the header pickles of a legacy torch file' };
  const magic = unpickle(bytes, noGlobals, 0);
  const m = magic.value;
  if (!((typeof m === 'bigint' && m === LEGACY_MAGIC) || (typeof m === 'number' && BigInt(m) === LEGACY_MAGIC))) {
    torchFail(source, 'is a pickle but not a torch.save file (no PyTorch magic number); only state dicts written by torch.save (or safetensors files) are read');
  }
  const proto = unpickle(bytes, noGlobals, magic.end);
  if (proto.value !== LEGACY_PROTOCOL) torchFail(source, `legacy torch file with protocol version ${String(proto.value)}; only ${LEGACY_PROTOCOL} is supported`);
  const sys = unpickle(bytes, noGlobals, proto.end);
  let littleEndian = true;
  if (sys.value instanceof PyDict) {
    const le = sys.value.map.get('little_endian');
    if (typeof le === 'boolean') littleEndian = le;
  } else {
    torchFail(source, `legacy torch file: the system-info pickle is a ${pyTypeName(sys.value)}, expected a dict`);
  }
  const storages = new Map<string, StorageRef>();
  const main = unpickle(bytes, torchPickleOptions(source, true, storages), sys.end);
  const keysP = unpickle(bytes, noGlobals, main.end);
  const keys = keysP.value;
  if (!Array.isArray(keys) || !keys.every((k) => typeof k === 'string')) torchFail(source, `legacy torch file: the storage-key list is a ${pyTypeName(keys)}, expected a list of str`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const data = new Map<string, Uint8Array>();
  let pos = keysP.end;
  for (const key of keys as string[]) {
    const ref = storages.get(key);
    if (!ref) torchFail(source, `legacy torch file: storage '${key}' is listed but no tensor uses it`);
    if (data.has(key)) torchFail(source, `legacy torch file: storage '${key}' is listed twice`);
    if (pos + 8 > bytes.length) torchFail(source, `legacy torch file ends at byte ${bytes.length} before storage '${key}' (truncated)`);
    const count = dv.getBigInt64(pos, littleEndian);
    if (count !== BigInt(ref!.numel)) torchFail(source, `legacy torch file: storage '${key}' holds ${count} elements, the pickle says ${ref!.numel}`);
    const len = ref!.numel * dtypeByteSize(ref!.dtype);
    if (pos + 8 + len > bytes.length) torchFail(source, `legacy torch file: storage '${key}' (${len} bytes at byte ${pos + 8}) runs past the end of the ${bytes.length}-byte file (truncated)`);
    data.set(key, bytes.subarray(pos + 8, pos + 8 + len));
    pos += 8 + len;
  }
  if (pos !== bytes.length) torchFail(source, `legacy torch file: ${bytes.length - pos} bytes after the last storage`);
  const { refs, skipped } = flattenStateDict(main.value, source);
  const tensors = buildTensors(refs, (ref) => {
    const b = data.get(ref.key);
    if (!b) torchFail(source, `legacy torch file: storage '${ref.key}' is used but not stored`);
    return b!;
  }, littleEndian, source, options);
  return { format: 'torch-legacy', tensors, skipped, metadata: {} };
}

/** Is this a torch.save file (zip or legacy), judging from the first bytes? */
export function looksLikeTorchFile(bytes: Uint8Array): boolean {
  return looksLikeZip(bytes) || (bytes.length > 2 && bytes[0] === 0x80);
}

/**
 * Decode a torch.save file (zip or legacy) held in memory. Every problem is a CheckpointError
 * naming `source`: 'archive' (ZIP), 'pickle' (malformed / unsupported opcode), 'forbidden-global'
 * (a global not on the allowlist: refused, nothing executed), 'torch-format' (layout, storages,
 * bounds, not a state dict), 'value' / 'non-finite'.
 */
export function decodeTorchFile(bytes: Uint8Array, source: string, options: TorchReadOptions = {}): StateDictFile {
  if (looksLikeZip(bytes)) return decodeTorchZip(bytes, source, options);
  if (bytes.length > 2 && bytes[0] === 0x80) return decodeTorchLegacy(bytes, source, options);
  if (bytes.length > 262 && new TextDecoder('latin1').decode(bytes.subarray(257, 262)) === 'ustar') {
    torchFail(source, 'is a tar archive (the torch <= 0.3 format), which is not supported; load it with an old torch and torch.save it again');
  }
  return torchFail(source, 'is not a torch.save file (neither a ZIP archive nor a pickle)');
}

/**
 * A state dict from a file, by content: a torch.save file (zip or legacy) or a safetensors file.
 * Missing file: CheckpointError 'not-found'.
 */
export async function readStateDictFile(path: string, options: TorchReadOptions = {}): Promise<StateDictFile> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CheckpointError(
      { code: 'not-found', file: path, detail: code === 'ENOENT' ? 'file does not exist' : code === 'EISDIR' ? 'is a directory, expected a .pth / .pt / .safetensors file' : `cannot be read (${(e as Error).message})` },
      { cause: e },
    );
  }
  return decodeStateDict(bytes, path, options);
}

/**
 * decodeTorchFile or decodeSafetensors, whichever the bytes are. Safetensors is recognised first
 * (its 8-byte header length may start with 0x80, like a pickle): '{' at byte 8. A legacy torch
 * file has the magic number's bytes there, a ZIP archive its local-header fields.
 */
export function decodeStateDict(bytes: Uint8Array, source: string, options: TorchReadOptions = {}): StateDictFile {
  if (bytes.length >= 10 && bytes[8] === 0x7b && !looksLikeZip(bytes)) {
    const { tensors, metadata } = decodeSafetensors(bytes, source, { checkFinite: options.checkFinite });
    return { format: 'safetensors', tensors, skipped: [], metadata };
  }
  if (looksLikeTorchFile(bytes)) return decodeTorchFile(bytes, source, options);
  return torchFail(source, 'is neither a torch.save file (.pth / .pt: a ZIP archive or a legacy pickle) nor a safetensors file');
}
