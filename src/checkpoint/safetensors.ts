/**
 * The Hugging Face safetensors format, encoder and strict decoder, with no dependencies.
 *
 * Layout (huggingface/safetensors README, "Format"):
 *
 *   bytes [0, 8)        N = header length, unsigned 64-bit little-endian
 *   bytes [8, 8+N)      header: UTF-8 JSON object; MUST start with '{'; MAY be padded at the end
 *                       with spaces (0x20). Keys are tensor names, values
 *                       {"dtype": "F32", "shape": [d0, d1, ...], "data_offsets": [begin, end]};
 *                       the optional key "__metadata__" maps strings to strings (nothing else).
 *   bytes [8+N, EOF)    the byte buffer: every tensor's elements, row-major ('C' order),
 *                       little-endian, tightly packed (no strides).
 *
 * `data_offsets` are relative to the start of the byte buffer (not to the file), `end` is one past
 * the last byte, and `end - begin` = numel(shape) * itemsize(dtype). The tensors must cover the
 * byte buffer exactly: sorted by offset, each starts where the previous one ended, the first at 0,
 * and the last ends at EOF (no overlaps, no holes, no trailing bytes -- this rules out polyglot
 * files). Scalars have shape [] (one element); tensors with a 0 dimension have begin == end.
 * Duplicate JSON keys are not allowed.
 *
 * Safety: decoding is pure data parsing -- JSON.parse of the header and copies of byte ranges
 * into typed arrays. Nothing in a file is ever executed or used to look up code (unlike PyTorch's
 * pickle-based `.pt`/`.pth`), every length and offset is checked against the file before use, and
 * the header is limited to 100,000,000 bytes as in the reference implementation. Decoded arrays
 * are copies, never views of the input buffer.
 *
 * Encoding is deterministic: the same tensors and metadata give the same bytes. Tensors are laid
 * out by descending element size, then by name (UTF-16 code-unit order) -- the reference writer
 * also orders by dtype first -- so that with the header padded to a multiple of 8 bytes, every
 * tensor starts at a file offset that is a multiple of its element size (zero-copy readers can map
 * it). The header lists `__metadata__` first (keys sorted), then the tensors in offset order, as
 * compact JSON.
 *
 * Supported dtypes: F64 F32 F16 BF16 I64 I32 I16 I8 U64 U32 U16 U8 BOOL. In memory:
 *   F64 Float64Array, F32 Float32Array, I64 BigInt64Array, U64 BigUint64Array, I32 Int32Array,
 *   U32 Uint32Array, I16 Int16Array, U16 Uint16Array, I8 Int8Array, U8 Uint8Array,
 *   BOOL Uint8Array (0 or 1),
 *   F16 / BF16: decoded to Float32Array (exactly: every half / bfloat16 value is a float32);
 *   the encoder takes a Float32Array (rounded to nearest, ties to even) or a Uint16Array of raw bits.
 * Other safetensors dtypes (F8_*, C64, F4, F6_*, ...) are rejected with a clear error.
 */
import { type FileHandle, open } from 'node:fs/promises';
import { CheckpointError, fmtShape, tensorField } from './errors.js';

export const DTYPES = ['F64', 'F32', 'F16', 'BF16', 'I64', 'I32', 'I16', 'I8', 'U64', 'U32', 'U16', 'U8', 'BOOL'] as const;
export type Dtype = (typeof DTYPES)[number];

/** dtypes the safetensors spec defines that this codec does not handle. */
const SPEC_ONLY_DTYPES = new Set([
  'F4', 'F6_E2M3', 'F6_E3M2', 'F8_E5M2', 'F8_E4M3', 'F8_E8M0', 'F8_E4M3FNUZ', 'F8_E5M2FNUZ', 'C64',
]);

/** The typed array each dtype decodes to. */
export interface DtypeArrayMap {
  F64: Float64Array;
  F32: Float32Array;
  F16: Float32Array;
  BF16: Float32Array;
  I64: BigInt64Array;
  I32: Int32Array;
  I16: Int16Array;
  I8: Int8Array;
  U64: BigUint64Array;
  U32: Uint32Array;
  U16: Uint16Array;
  U8: Uint8Array;
  BOOL: Uint8Array;
}

/** A decoded tensor: discriminated by dtype, so `t.dtype === 'F32'` narrows `t.data` to Float32Array. */
export type Tensor = { [D in Dtype]: { dtype: D; shape: number[]; data: DtypeArrayMap[D] } }[Dtype];

/** Any typed array the encoder accepts (F16 / BF16 also take raw bits as Uint16Array). */
export type TensorData = DtypeArrayMap[Dtype] | Uint16Array;

/** What the encoder takes: the data's array type must fit the dtype (see the module comment). */
export interface TensorInput {
  dtype: Dtype;
  shape: readonly number[];
  data: TensorData;
}

export type TensorsInput = Readonly<Record<string, TensorInput>> | ReadonlyMap<string, TensorInput>;

export interface DecodedSafetensors {
  /** Tensors in file (offset) order. */
  tensors: Map<string, Tensor>;
  /** The `__metadata__` map ({} when absent). */
  metadata: Record<string, string>;
}

/** One header entry, checked against the file (see readSafetensorsHeader). */
export interface SafetensorsEntry {
  name: string;
  dtype: Dtype;
  shape: number[];
  /** Relative to the byte buffer. */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  /** Header length N (bytes after the 8-byte prefix, padding included). */
  headerLength: number;
  /** Absolute file offset of the byte buffer: 8 + N. */
  dataStart: number;
  /** Entries in offset order. */
  entries: SafetensorsEntry[];
  metadata: Record<string, string>;
}

export interface DecodeOptions {
  /** Reject NaN / +-Infinity in F64 / F32 / F16 / BF16 tensors (error names tensor and index). Default false. */
  checkFinite?: boolean;
}

export interface EncodeOptions {
  /** Refuse to encode NaN / +-Infinity in float tensors. Default false. */
  checkFinite?: boolean;
  /** Name used in error messages (e.g. the file about to be written). Default '(safetensors encoder)'. */
  source?: string;
}

/** Largest header accepted (and written), as the reference implementation. */
export const MAX_HEADER_SIZE = 100_000_000;
/** The header-length prefix: an unsigned 64-bit little-endian integer. */
const PREFIX_SIZE = 8;
/** The header's optional string-to-string map (not a tensor). */
const METADATA_KEY = '__metadata__';
const OPEN_BRACE = 0x7b;

const ITEM_SIZE: Readonly<Record<Dtype, number>> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U64: 8, U32: 4, U16: 2, U8: 1, BOOL: 1,
};
const FLOAT_DTYPES: ReadonlySet<Dtype> = new Set<Dtype>(['F64', 'F32', 'F16', 'BF16']);

export function isDtype(x: unknown): x is Dtype {
  return typeof x === 'string' && (DTYPES as readonly string[]).includes(x);
}

export function dtypeByteSize(dtype: Dtype): number {
  return ITEM_SIZE[dtype];
}

export function isFloatDtype(dtype: Dtype): boolean {
  return FLOAT_DTYPES.has(dtype);
}

/** Number of elements of a shape (1 for a scalar []). Assumes a valid shape. */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

// ---------------------------------------------------------------------------------------------
// Half-precision conversions (exact decode; encode rounds to nearest, ties to even)
// ---------------------------------------------------------------------------------------------

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** f16 bits -> the float32 bit pattern of the same value (NaN payloads kept). */
function f16BitsToF32Bits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0x1f) return (sign | 0x7f800000 | (mant << 13)) >>> 0;
  if (exp !== 0) return (sign | ((exp - 15 + 127) << 23) | (mant << 13)) >>> 0;
  if (mant === 0) return sign >>> 0;
  // Subnormal: mant * 2^-24, exactly representable as a normal float32.
  f32Scratch[0] = mant * 2 ** -24;
  return (u32Scratch[0] | sign) >>> 0;
}

let f16Table: Float32Array | undefined;
/** All 65536 half values as float32 (256 KiB, built on first use). */
function halfTable(): Float32Array {
  if (!f16Table) {
    const bits = new Uint32Array(65536);
    for (let h = 0; h < 65536; h++) bits[h] = f16BitsToF32Bits(h);
    f16Table = new Float32Array(bits.buffer);
  }
  return f16Table;
}

/** IEEE 754 binary16 bits -> number (exact). */
export function f16BitsToFloat32(bits: number): number {
  return halfTable()[bits & 0xffff];
}

/** bfloat16 bits -> number (exact: bfloat16 is the top half of a float32). */
export function bf16BitsToFloat32(bits: number): number {
  u32Scratch[0] = (bits & 0xffff) << 16;
  return f32Scratch[0];
}

/** number (first rounded to float32) -> binary16 bits, round to nearest even; overflow -> +-Infinity. */
export function float32ToF16Bits(x: number): number {
  f32Scratch[0] = x;
  const b = u32Scratch[0];
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  let mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 | (mant >>> 13) : 0); // Inf / NaN (stays NaN)
  const e = exp - 127 + 15; // biased half exponent
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    // Half subnormal (or zero): value = m * 2^-24 with m = mant24 >> (14 - e).
    if (e < -10) return sign; // |x| < 2^-25: rounds to zero
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1) === 1)) h++;
    return sign | h; // h = 0x400 is the smallest normal: still the right encoding
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1) === 1)) h++; // a carry into the exponent is correct (up to Inf)
  return sign | h;
}

/** number (first rounded to float32) -> bfloat16 bits, round to nearest even; NaN stays NaN. */
export function float32ToBf16Bits(x: number): number {
  f32Scratch[0] = x;
  const b = u32Scratch[0];
  if ((b & 0x7f800000) === 0x7f800000 && (b & 0x7fffff) !== 0) return ((b >>> 16) | 0x40) & 0xffff;
  return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
}

// ---------------------------------------------------------------------------------------------
// Byte order
// ---------------------------------------------------------------------------------------------

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Reverse the bytes of each `size`-byte element in place (only used on big-endian hosts). */
function swapBytes(bytes: Uint8Array, size: number): void {
  if (size === 1) return;
  for (let i = 0; i + size <= bytes.length; i += size) {
    for (let a = i, b = i + size - 1; a < b; a++, b--) {
      const t = bytes[a];
      bytes[a] = bytes[b];
      bytes[b] = t;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------------

const EXPECTED_ARRAY: Readonly<Record<Dtype, string>> = {
  F64: 'Float64Array', F32: 'Float32Array', F16: 'Float32Array or Uint16Array (raw bits)',
  BF16: 'Float32Array or Uint16Array (raw bits)', I64: 'BigInt64Array', I32: 'Int32Array', I16: 'Int16Array',
  I8: 'Int8Array', U64: 'BigUint64Array', U32: 'Uint32Array', U16: 'Uint16Array', U8: 'Uint8Array',
  BOOL: 'Uint8Array (0 or 1)',
};

function arrayFits(dtype: Dtype, data: unknown): boolean {
  switch (dtype) {
    case 'F64': return data instanceof Float64Array;
    case 'F32': return data instanceof Float32Array;
    case 'F16':
    case 'BF16': return data instanceof Float32Array || data instanceof Uint16Array;
    case 'I64': return data instanceof BigInt64Array;
    case 'I32': return data instanceof Int32Array;
    case 'I16': return data instanceof Int16Array;
    case 'I8': return data instanceof Int8Array;
    case 'U64': return data instanceof BigUint64Array;
    case 'U32': return data instanceof Uint32Array;
    case 'U16': return data instanceof Uint16Array;
    // Node's Buffer is a Uint8Array: fine. Uint8ClampedArray is not accepted.
    case 'U8':
    case 'BOOL': return data instanceof Uint8Array;
  }
}

function typeName(x: unknown): string {
  if (x === null) return 'null';
  if (typeof x !== 'object') return typeof x;
  return (x as object).constructor?.name ?? 'object';
}

/** Checks a shape: array of non-negative safe integers with a safe element count. Returns an error text or undefined. */
function shapeProblem(shape: unknown): string | undefined {
  if (!Array.isArray(shape)) return `shape must be an array of non-negative integers, got ${JSON.stringify(shape) ?? typeName(shape)}`;
  let n = 1;
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      return `shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`;
    }
    n *= d;
    if (!Number.isSafeInteger(n)) return `shape ${JSON.stringify(shape)} has too many elements`;
  }
  return undefined;
}

/** Index of the first NaN / +-Inf, or -1. */
function firstNonFinite(a: ArrayLike<number>): number {
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (v - v !== 0) return i; // NaN - NaN and Inf - Inf are NaN
  }
  return -1;
}

function describeNonFinite(v: number, flat: number, shape: readonly number[]): string {
  const what = Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
  const pos: number[] = [];
  let rest = flat;
  for (let k = shape.length - 1; k >= 0; k--) {
    pos.unshift(rest % shape[k]);
    rest = Math.floor(rest / shape[k]);
  }
  return `${what} at flat index ${flat}${shape.length > 1 ? ` (position ${fmtShape(pos)})` : ''} of shape ${fmtShape(shape)}; expected only finite values`;
}

function entriesOf<T>(tensors: Readonly<Record<string, T>> | ReadonlyMap<string, T>): Array<[string, T]> {
  return tensors instanceof Map ? [...(tensors as ReadonlyMap<string, T>).entries()] : Object.entries(tensors);
}

interface Prepared {
  name: string;
  dtype: Dtype;
  shape: number[];
  bytes: Uint8Array; // little-endian, exactly numel * itemsize
}

function prepareTensor(name: string, t: TensorInput, source: string, checkFinite: boolean): Prepared {
  const field = tensorField(name);
  const err = (code: 'dtype' | 'shape' | 'value' | 'non-finite', detail: string) =>
    new CheckpointError({ code, file: source, field, detail });
  if (t == null || typeof t !== 'object') throw err('shape', `expected {dtype, shape, data}, got ${typeName(t)}`);
  if (!isDtype(t.dtype)) throw err('dtype', `unknown dtype ${JSON.stringify(t.dtype)}; expected one of ${DTYPES.join(', ')}`);
  const dtype = t.dtype;
  const sp = shapeProblem(t.shape);
  if (sp) throw err('shape', sp);
  const shape = [...t.shape];
  if (!arrayFits(dtype, t.data)) throw err('dtype', `dtype ${dtype} needs a ${EXPECTED_ARRAY[dtype]}, got ${typeName(t.data)}`);
  const n = numel(shape);
  if (t.data.length !== n) {
    throw err('shape', `shape ${fmtShape(shape)} has ${n} elements but the data has ${t.data.length}`);
  }
  if (checkFinite && isFloatDtype(dtype) && !(t.data instanceof Uint16Array)) {
    const a = t.data as Float32Array | Float64Array;
    const i = firstNonFinite(a);
    if (i >= 0) throw err('non-finite', describeNonFinite(a[i], i, shape));
  }
  if (dtype === 'BOOL') {
    const a = t.data as Uint8Array;
    for (let i = 0; i < a.length; i++) {
      if (a[i] > 1) throw err('value', `BOOL element ${i} is ${a[i]}; expected 0 or 1`);
    }
  }
  let bytes: Uint8Array;
  if ((dtype === 'F16' || dtype === 'BF16') && t.data instanceof Float32Array) {
    const conv = dtype === 'F16' ? float32ToF16Bits : float32ToBf16Bits;
    const bits = new Uint16Array(n);
    for (let i = 0; i < n; i++) bits[i] = conv(t.data[i]);
    bytes = new Uint8Array(bits.buffer);
  } else {
    const d = t.data as ArrayBufferView;
    bytes = new Uint8Array(d.byteLength);
    bytes.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
  }
  if (!HOST_LITTLE_ENDIAN) swapBytes(bytes, ITEM_SIZE[dtype]);
  return { name, dtype, shape, bytes };
}

/**
 * Encode tensors (+ optional string metadata) as a safetensors file. Deterministic: tensors are
 * ordered by descending element size, then name; metadata keys are sorted; the header is compact
 * JSON padded with spaces to a multiple of 8 bytes. Throws CheckpointError (code 'dtype', 'shape',
 * 'value', 'non-finite' or 'header') naming the tensor at fault.
 */
export function encodeSafetensors(
  tensors: TensorsInput,
  metadata?: Readonly<Record<string, string>>,
  options: EncodeOptions = {},
): Uint8Array {
  const source = options.source ?? '(safetensors encoder)';
  const prepared: Prepared[] = [];
  for (const [name, t] of entriesOf(tensors)) {
    if (typeof name !== 'string' || name.length === 0) {
      throw new CheckpointError({ code: 'header', file: source, detail: 'tensor names must be non-empty strings' });
    }
    if (name === METADATA_KEY) {
      throw new CheckpointError({ code: 'header', file: source, field: tensorField(name), detail: `'${METADATA_KEY}' is reserved and cannot name a tensor` });
    }
    prepared.push(prepareTensor(name, t, source, options.checkFinite ?? false));
  }
  prepared.sort((a, b) => ITEM_SIZE[b.dtype] - ITEM_SIZE[a.dtype] || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  const parts: string[] = [];
  if (metadata !== undefined) {
    if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) {
      throw new CheckpointError({ code: 'header', file: source, field: METADATA_KEY, detail: `must be an object of strings, got ${typeName(metadata)}` });
    }
    const keys = Object.keys(metadata).sort();
    for (const k of keys) {
      if (typeof metadata[k] !== 'string') {
        throw new CheckpointError({ code: 'header', file: source, field: `${METADATA_KEY}.${k}`, detail: `metadata values must be strings, got ${typeName(metadata[k])}` });
      }
    }
    if (keys.length > 0) {
      parts.push(`"${METADATA_KEY}":{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(metadata[k])}`).join(',')}}`);
    }
  }
  let offset = 0;
  for (const p of prepared) {
    const end = offset + p.bytes.length;
    parts.push(`${JSON.stringify(p.name)}:{"dtype":"${p.dtype}","shape":[${p.shape.join(',')}],"data_offsets":[${offset},${end}]}`);
    offset = end;
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const headerLength = Math.ceil(json.length / 8) * 8;
  if (headerLength > MAX_HEADER_SIZE) {
    throw new CheckpointError({ code: 'header', file: source, detail: `header would be ${headerLength} bytes, more than the ${MAX_HEADER_SIZE}-byte limit` });
  }
  const out = new Uint8Array(PREFIX_SIZE + headerLength + offset);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, headerLength, true); // high 32 bits stay 0 (headerLength < 2^32)
  out.set(json, PREFIX_SIZE);
  out.fill(0x20, PREFIX_SIZE + json.length, PREFIX_SIZE + headerLength);
  let pos = PREFIX_SIZE + headerLength;
  for (const p of prepared) {
    out.set(p.bytes, pos);
    pos += p.bytes.length;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------------

/** First key that occurs twice in one JSON object of `text` (which JSON.parse accepted), if any. */
function findDuplicateKey(text: string): string | undefined {
  const stack: Array<Set<string> | null> = []; // a Set per open object, null per open array
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let j = i + 1;
      while (text.charCodeAt(j) !== 0x22) j += text.charCodeAt(j) === 0x5c /* \ */ ? 2 : 1;
      const top = stack[stack.length - 1];
      if (top && expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (top.has(key)) return key;
        top.add(key);
        expectKey = false;
      }
      i = j;
    } else if (c === 0x7b /* { */) {
      stack.push(new Set());
      expectKey = true;
    } else if (c === 0x5b /* [ */) {
      stack.push(null);
      expectKey = false;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
      expectKey = false;
    } else if (c === 0x2c /* , */) {
      expectKey = stack[stack.length - 1] != null;
    }
  }
  return undefined;
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return x !== null && typeof x === 'object' && !Array.isArray(x);
}

/**
 * Parse and check the header of a safetensors file held in `bytes` against the file: length
 * prefix, UTF-8, JSON, structure, dtypes, shapes vs byte ranges, exact coverage of the byte
 * buffer, total file size. Throws CheckpointError naming `source` and the tensor / field at fault.
 */
export function readSafetensorsHeader(bytes: Uint8Array, source: string): SafetensorsHeader {
  return checkSafetensorsHeader(bytes, source, bytes instanceof Uint8Array ? bytes.length : 0);
}

type HeaderFail = (code: 'truncated' | 'header' | 'dtype' | 'shape' | 'offsets' | 'trailing-bytes', detail: string, field?: string) => never;

/** The header length N from the 8-byte little-endian prefix: exact up to 2^53, larger values fail the checks anyway. */
function prefixHeaderLength(bytes: Uint8Array): number {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, PREFIX_SIZE);
  return dv.getUint32(4, true) * 2 ** 32 + dv.getUint32(0, true);
}

/**
 * readSafetensorsHeader for a file of `fileSize` bytes of which `bytes` holds the beginning (at
 * least the prefix and the header): what readSafetensorsFile checks before reading the tensor data.
 */
function checkSafetensorsHeader(bytes: Uint8Array, source: string, fileSize: number): SafetensorsHeader {
  const fail: HeaderFail = (code, detail, field) => {
    throw new CheckpointError({ code, file: source, field, detail });
  };
  const n = checkHeaderLength(bytes, fileSize, fail);
  const header = parseHeaderJson(bytes.subarray(PREFIX_SIZE, PREFIX_SIZE + n), fail);
  let metadata: Record<string, string> = {};
  const entries: SafetensorsEntry[] = [];
  for (const name of Object.keys(header)) {
    if (name === METADATA_KEY) metadata = readMetadata(header[name], fail);
    else entries.push(readHeaderEntry(name, header[name], fail));
  }
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  const dataStart = PREFIX_SIZE + n;
  checkDataSize(entries, checkCoverage(entries, fail), dataStart, fileSize, fail);
  return { headerLength: n, dataStart, entries, metadata };
}

/** The length prefix, checked against the file and the limit, and that the header starts like a JSON object. */
function checkHeaderLength(bytes: Uint8Array, fileSize: number, fail: HeaderFail): number {
  if (!(bytes instanceof Uint8Array)) fail('header', `expected the file's bytes as a Uint8Array, got ${typeName(bytes)}`);
  if (fileSize < PREFIX_SIZE) {
    fail('truncated', `file is ${fileSize} bytes, shorter than the ${PREFIX_SIZE}-byte header-length prefix (empty or truncated file)`);
  }
  const n = prefixHeaderLength(bytes);
  const after = fileSize - PREFIX_SIZE;
  if (n > after) {
    const dv = new DataView(bytes.buffer, bytes.byteOffset, PREFIX_SIZE);
    fail('truncated', `header-length prefix says ${dv.getBigUint64(0, true)} bytes but only ${after} bytes follow it (truncated file or corrupt length prefix)`);
  }
  if (n > MAX_HEADER_SIZE) fail('header', `header length ${n} is more than the ${MAX_HEADER_SIZE}-byte limit (corrupt length prefix?)`);
  const first = bytes[PREFIX_SIZE];
  if (n < 2 || first !== OPEN_BRACE) {
    fail('header', `header must be a JSON object starting with '{' (got ${n === 0 ? 'an empty header' : `byte 0x${first.toString(16).padStart(2, '0')}`}); not a safetensors file?`);
  }
  return n;
}

/** The header's bytes as a JSON object: UTF-8, valid JSON, an object, no duplicate keys. */
function parseHeaderJson(headerBytes: Uint8Array, fail: HeaderFail): Record<string, unknown> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(headerBytes);
  } catch {
    return fail('header', 'header is not valid UTF-8');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return fail('header', `header is not valid JSON (${(e as Error).message})`);
  }
  if (!isPlainObject(parsed)) fail('header', `header must be a JSON object, got ${Array.isArray(parsed) ? 'an array' : typeName(parsed)}`);
  const dup = findDuplicateKey(text);
  if (dup !== undefined) fail('header', `duplicate key ${JSON.stringify(dup)} in the header`);
  return parsed as Record<string, unknown>;
}

/** `__metadata__`: strings only (defineProperty, so a key like `__proto__` stays plain data). */
function readMetadata(v: unknown, fail: HeaderFail): Record<string, string> {
  if (!isPlainObject(v)) fail('header', `must be an object of strings, got ${JSON.stringify(v)}`, METADATA_KEY);
  const metadata: Record<string, string> = {};
  for (const [k, s] of Object.entries(v as Record<string, unknown>)) {
    if (typeof s !== 'string') fail('header', `metadata values must be strings, got ${JSON.stringify(s)}`, `${METADATA_KEY}.${k}`);
    Object.defineProperty(metadata, k, { value: s, enumerable: true, writable: true, configurable: true });
  }
  return metadata;
}

/** One tensor's header entry: dtype, shape and data_offsets, each checked, and the shape's size against the span. */
function readHeaderEntry(name: string, v: unknown, fail: HeaderFail): SafetensorsEntry {
  const field = tensorField(name);
  if (name.length === 0) fail('header', 'tensor name is empty', field);
  if (!isPlainObject(v)) fail('header', `expected {"dtype", "shape", "data_offsets"}, got ${JSON.stringify(v)}`, field);
  const info = v as Record<string, unknown>;
  for (const key of ['dtype', 'shape', 'data_offsets']) {
    if (!(key in info)) fail('header', `missing "${key}"`, field);
  }
  const dtype = checkDtype(info.dtype, field, fail);
  const sp = shapeProblem(info.shape);
  if (sp) fail('shape', sp, field);
  const shape = [...(info.shape as number[])];
  const [begin, end] = checkOffsets(info.data_offsets, field, fail);
  const want = numel(shape) * ITEM_SIZE[dtype];
  if (end - begin !== want) {
    fail('shape', `shape ${fmtShape(shape)} of ${dtype} needs ${want} bytes but data_offsets [${begin}, ${end}] span ${end - begin}`, field);
  }
  return { name, dtype, shape, begin, end };
}

function checkDtype(dtype: unknown, field: string, fail: HeaderFail): Dtype {
  if (!isDtype(dtype)) {
    if (typeof dtype === 'string' && SPEC_ONLY_DTYPES.has(dtype)) {
      fail('dtype', `dtype ${dtype} is not supported here; supported: ${DTYPES.join(', ')}`, field);
    }
    fail('dtype', `unknown dtype ${JSON.stringify(dtype)}; expected one of ${DTYPES.join(', ')}`, field);
  }
  return dtype as Dtype;
}

function checkOffsets(off: unknown, field: string, fail: HeaderFail): [number, number] {
  if (
    !Array.isArray(off) || off.length !== 2 ||
    !off.every((x) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0) || off[0] > off[1]
  ) {
    fail('offsets', `data_offsets must be [begin, end] with 0 <= begin <= end, got ${JSON.stringify(off)}`, field);
  }
  return off as [number, number];
}

/** Entries sorted by offset must tile the byte buffer from 0 (no overlaps, no holes); returns where they end. */
function checkCoverage(entries: readonly SafetensorsEntry[], fail: HeaderFail): number {
  let expected = 0;
  let prev: SafetensorsEntry | undefined;
  for (const e of entries) {
    const field = tensorField(e.name);
    if (e.begin < expected) {
      fail('offsets', `data_offsets [${e.begin}, ${e.end}] overlap ${prev ? `${tensorField(prev.name)} [${prev.begin}, ${prev.end}]` : 'the previous tensor'}`, field);
    }
    if (e.begin > expected) {
      fail('offsets', prev
        ? `hole in the byte buffer: bytes [${expected}, ${e.begin}) between ${tensorField(prev.name)} and this tensor belong to no tensor`
        : `the first tensor must start at offset 0 of the byte buffer, got data_offsets [${e.begin}, ${e.end}]`, field);
    }
    expected = e.end;
    prev = e;
  }
  return expected;
}

/** The tensors' end (`expected`, relative to the byte buffer) must be the end of the file exactly. */
function checkDataSize(entries: readonly SafetensorsEntry[], expected: number, dataStart: number, fileSize: number, fail: HeaderFail): void {
  const available = fileSize - dataStart;
  if (expected > available) {
    const cut = entries.find((e) => e.end > available)!;
    fail('truncated', `data_offsets [${cut.begin}, ${cut.end}] reach past the end of the file: the byte buffer has only ${available} bytes (file truncated at ${fileSize} bytes, expected ${dataStart + expected})`, tensorField(cut.name));
  }
  if (expected < available) {
    fail('trailing-bytes', `${available - expected} bytes after the last tensor's data (the tensors end at file byte ${dataStart + expected}, the file has ${fileSize}); the byte buffer must be covered exactly`);
  }
}

/** A typed-array class made from a length or from an ArrayBuffer. */
export interface TensorArrayClass {
  new (length: number): TensorData;
  new (buffer: ArrayBuffer): TensorData;
}

/** The typed array that holds each dtype's elements as stored (F16 / BF16: their raw 16-bit patterns). */
export const STORED_ARRAY: Readonly<Record<Dtype, TensorArrayClass>> = {
  F64: Float64Array,
  F32: Float32Array,
  F16: Uint16Array,
  BF16: Uint16Array,
  I64: BigInt64Array,
  I32: Int32Array,
  I16: Int16Array,
  I8: Int8Array,
  U64: BigUint64Array,
  U32: Uint32Array,
  U16: Uint16Array,
  U8: Uint8Array,
  BOOL: Uint8Array,
};

/**
 * Decode a safetensors file held in memory. `source` (e.g. the path) names the file in errors.
 * Strict: see readSafetensorsHeader; additionally BOOL elements must be 0 or 1, and with
 * `checkFinite` float tensors must hold no NaN / +-Infinity. F16 / BF16 come back as Float32Array.
 * The returned arrays are fresh copies (never views of `bytes`).
 */
export function decodeSafetensors(bytes: Uint8Array, source: string, options: DecodeOptions = {}): DecodedSafetensors {
  const header = readSafetensorsHeader(bytes, source);
  const tensors = new Map<string, Tensor>();
  for (const e of header.entries) {
    const size = ITEM_SIZE[e.dtype];
    const copy = new Uint8Array(e.end - e.begin);
    copy.set(bytes.subarray(header.dataStart + e.begin, header.dataStart + e.end));
    if (!HOST_LITTLE_ENDIAN) swapBytes(copy, size);
    let data = new STORED_ARRAY[e.dtype](copy.buffer);
    if (e.dtype === 'F16') {
      const table = halfTable();
      const bits = data as Uint16Array;
      const f = new Float32Array(bits.length);
      for (let i = 0; i < bits.length; i++) f[i] = table[bits[i]];
      data = f;
    } else if (e.dtype === 'BF16') {
      const bits = data as Uint16Array;
      const u = new Uint32Array(bits.length);
      for (let i = 0; i < bits.length; i++) u[i] = bits[i] << 16;
      data = new Float32Array(u.buffer);
    } else if (e.dtype === 'BOOL') {
      const a = data as Uint8Array;
      for (let i = 0; i < a.length; i++) {
        if (a[i] > 1) {
          throw new CheckpointError({ code: 'value', file: source, field: tensorField(e.name), detail: `BOOL element ${i} is ${a[i]}; expected 0 or 1` });
        }
      }
    }
    if (options.checkFinite && isFloatDtype(e.dtype)) {
      const a = data as Float32Array | Float64Array;
      const i = firstNonFinite(a);
      if (i >= 0) {
        throw new CheckpointError({ code: 'non-finite', file: source, field: tensorField(e.name), detail: describeNonFinite(a[i], i, e.shape) });
      }
    }
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data } as Tensor);
  }
  return { tensors, metadata: header.metadata };
}

/** Read and decode a safetensors file; a missing file is CheckpointError 'not-found'. */
export async function readSafetensorsFile(path: string, options: DecodeOptions = {}): Promise<DecodedSafetensors> {
  const cannotRead = (e: unknown): CheckpointError => {
    const code = (e as NodeJS.ErrnoException).code;
    return new CheckpointError(
      { code: 'not-found', file: path, detail: code === 'ENOENT' ? 'file does not exist' : code === 'EISDIR' ? 'is a directory, expected a .safetensors file' : code === 'ELOOP' ? 'is a symbolic link loop (ELOOP)' : `cannot be read (${(e as Error).message})` },
      { cause: e },
    );
  };
  let file;
  try {
    file = await open(path, 'r');
  } catch (e) {
    throw cannotRead(e);
  }
  try {
    // The length prefix and the header first: a corrupt prefix or a header that does not cover the
    // file is refused after reading a few bytes, not after reading a (possibly huge, sparse) file whole.
    let size: number;
    let head: Uint8Array;
    try {
      const st = await file.stat();
      if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
      size = st.size;
      const prefix = await readAt(file, 0, Math.min(PREFIX_SIZE, size));
      if (prefix.length < PREFIX_SIZE) return decodeSafetensors(prefix, path, options); // reports the truncation
      const n = prefixHeaderLength(prefix);
      head = n <= size - PREFIX_SIZE && n <= MAX_HEADER_SIZE ? await readAt(file, 0, PREFIX_SIZE + n) : prefix;
    } catch (e) {
      if (e instanceof CheckpointError) throw e;
      throw cannotRead(e);
    }
    checkSafetensorsHeader(head, path, size);
    let bytes: Uint8Array;
    try {
      bytes = await readAt(file, 0, size);
    } catch (e) {
      throw cannotRead(e);
    }
    return decodeSafetensors(bytes, path, options);
  } finally {
    await file.close();
  }
}

/** `length` bytes of `file` from `position` (fewer only at the end of the file). */
async function readAt(file: FileHandle, position: number, length: number): Promise<Uint8Array> {
  const buf = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await file.read(buf, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done === length ? buf : buf.subarray(0, done);
}

// ---------------------------------------------------------------------------------------------
// Float32 maps (what the OFQL agent's namedTensors / loadNamedTensors deal in)
// ---------------------------------------------------------------------------------------------

/** {data: Float32Array, shape} -- structurally the same as src/ofql's NamedArray. */
export interface Float32Named {
  data: Float32Array;
  shape: number[];
}

/** Wrap Float32 arrays as F32 tensors (no copy). */
export function fromFloat32Map(named: ReadonlyMap<string, Float32Named>): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const [name, a] of named) out.set(name, { dtype: 'F32', shape: [...a.shape], data: a.data });
  return out;
}

/**
 * Float tensors (F32, F16, BF16: as they are; F64: rounded to float32) as {data, shape}. Any other
 * dtype is CheckpointError 'dtype' naming the tensor. `source` names the file in errors.
 */
export function toFloat32Map(tensors: ReadonlyMap<string, Tensor>, source: string): Map<string, Float32Named> {
  const out = new Map<string, Float32Named>();
  for (const [name, t] of tensors) {
    if (t.dtype === 'F64') out.set(name, { data: Float32Array.from(t.data), shape: [...t.shape] });
    else if (t.dtype === 'F32' || t.dtype === 'F16' || t.dtype === 'BF16') out.set(name, { data: t.data, shape: [...t.shape] });
    else throw new CheckpointError({ code: 'dtype', file: source, field: tensorField(name), detail: `expected a float tensor (F32, F16, BF16 or F64), got ${t.dtype}` });
  }
  return out;
}
