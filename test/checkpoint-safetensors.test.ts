/** The safetensors codec: round trips, hand-computed half values, byte-exact encoding, every corruption path. */
import { describe, expect, it } from 'vitest';
import {
  CheckpointError,
  DTYPES,
  bf16BitsToFloat32,
  decodeSafetensors,
  encodeSafetensors,
  f16BitsToFloat32,
  float32ToBf16Bits,
  float32ToF16Bits,
  readSafetensorsHeader,
  toFloat32Map,
  type CheckpointErrorCode,
  type Tensor,
  type TensorInput,
} from '../src/checkpoint/index.js';

const SRC = '/ckpt/bad.safetensors';

/** Assemble a file by hand: 8-byte LE length, header text (optionally space-padded to 8), data. */
function assemble(header: string | object, data: Uint8Array | number[] = [], pad = false): Uint8Array {
  let text = typeof header === 'string' ? header : JSON.stringify(header);
  if (pad) text = text.padEnd(Math.ceil(text.length / 8) * 8, ' ');
  const h = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setUint32(0, h.length, true);
  out.set(h, 8);
  out.set(data instanceof Uint8Array ? data : Uint8Array.from(data), 8 + h.length);
  return out;
}

function f32Bytes(...xs: number[]): Uint8Array {
  return new Uint8Array(Float32Array.from(xs).buffer);
}

/** Expect decode to throw a CheckpointError with `code` whose message names the file (and `field`, if given). */
function expectFail(bytes: Uint8Array, code: CheckpointErrorCode, field?: string, msg?: RegExp, checkFinite = false): CheckpointError {
  let err: unknown;
  try {
    decodeSafetensors(bytes, SRC, { checkFinite });
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a CheckpointError').toBeInstanceOf(CheckpointError);
  const ce = err as CheckpointError;
  expect(ce.code).toBe(code);
  expect(ce.file).toBe(SRC);
  expect(ce.message.startsWith(SRC)).toBe(true);
  if (field !== undefined) {
    expect(ce.field).toBe(field);
    expect(ce.message).toContain(field);
  }
  if (msg) expect(ce.message).toMatch(msg);
  return ce;
}

/** One tensor of every dtype with edge values. */
function everyDtype(): Record<string, TensorInput> {
  return {
    f64: { dtype: 'F64', shape: [2, 2], data: Float64Array.of(Math.PI, -0, 1e300, -Number.MIN_VALUE) },
    f32: { dtype: 'F32', shape: [3], data: Float32Array.of(1.5, -2, 3.4028234663852886e38) },
    f16: { dtype: 'F16', shape: [6], data: Float32Array.of(1, -2.5, 65504, 2 ** -24, -0, Infinity) },
    bf16: { dtype: 'BF16', shape: [2, 2], data: Float32Array.of(1, -2.5, 65280, 2 ** -133) },
    i64: { dtype: 'I64', shape: [3], data: BigInt64Array.of(-(2n ** 63n), 2n ** 63n - 1n, 42n) },
    i32: { dtype: 'I32', shape: [2], data: Int32Array.of(-(2 ** 31), 2 ** 31 - 1) },
    i16: { dtype: 'I16', shape: [2], data: Int16Array.of(-32768, 32767) },
    i8: { dtype: 'I8', shape: [2], data: Int8Array.of(-128, 127) },
    u64: { dtype: 'U64', shape: [2], data: BigUint64Array.of(0n, 2n ** 64n - 1n) },
    u32: { dtype: 'U32', shape: [1], data: Uint32Array.of(2 ** 32 - 1) },
    u16: { dtype: 'U16', shape: [1], data: Uint16Array.of(65535) },
    u8: { dtype: 'U8', shape: [1, 3], data: Uint8Array.of(0, 128, 255) },
    bool: { dtype: 'BOOL', shape: [3], data: Uint8Array.of(1, 0, 1) },
    scalar: { dtype: 'F32', shape: [], data: Float32Array.of(7) },
    empty: { dtype: 'F32', shape: [0, 4], data: new Float32Array(0) },
  };
}

describe('half-precision conversions', () => {
  it('decodes hand-computed F16 bit patterns', () => {
    expect(f16BitsToFloat32(0x3c00)).toBe(1);
    expect(f16BitsToFloat32(0xc100)).toBe(-2.5);
    expect(f16BitsToFloat32(0x7bff)).toBe(65504);
    expect(f16BitsToFloat32(0x0001)).toBe(5.960464477539063e-8); // 2^-24, smallest subnormal
    expect(f16BitsToFloat32(0x03ff)).toBe(1023 * 2 ** -24); // largest subnormal
    expect(f16BitsToFloat32(0x0400)).toBe(2 ** -14); // smallest normal
    expect(Object.is(f16BitsToFloat32(0x8000), -0)).toBe(true);
    expect(f16BitsToFloat32(0x7c00)).toBe(Infinity);
    expect(f16BitsToFloat32(0xfc00)).toBe(-Infinity);
    expect(f16BitsToFloat32(0x7e00)).toBeNaN();
  });

  it('decodes hand-computed BF16 bit patterns', () => {
    expect(bf16BitsToFloat32(0x3f80)).toBe(1);
    expect(bf16BitsToFloat32(0xc020)).toBe(-2.5);
    expect(bf16BitsToFloat32(0x477f)).toBe(65280); // largest bf16 below 65504
    expect(bf16BitsToFloat32(0x0001)).toBe(2 ** -133); // smallest bf16 subnormal
    expect(bf16BitsToFloat32(0x7f80)).toBe(Infinity);
  });

  it('encodes with round-to-nearest-even', () => {
    expect(float32ToF16Bits(1)).toBe(0x3c00);
    expect(float32ToF16Bits(-2.5)).toBe(0xc100);
    expect(float32ToF16Bits(65504)).toBe(0x7bff);
    expect(float32ToF16Bits(65519)).toBe(0x7bff); // below the midpoint to 65536
    expect(float32ToF16Bits(65520)).toBe(0x7c00); // the midpoint rounds to even = overflow
    expect(float32ToF16Bits(2 ** -24)).toBe(0x0001);
    expect(float32ToF16Bits(2 ** -25)).toBe(0x0000); // tie between 0 and 2^-24: even is 0
    expect(float32ToF16Bits(3 * 2 ** -26)).toBe(0x0001); // above the tie
    expect(float32ToF16Bits(3 * 2 ** -25)).toBe(0x0002); // 1.5 units: tie -> even (2)
    expect(float32ToF16Bits(1 + 2 ** -11)).toBe(0x3c00); // tie -> even
    expect(float32ToF16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie -> even (up)
    expect(float32ToF16Bits(2 ** -14 - 2 ** -25)).toBe(0x0400); // rounds up into the normals
    expect(float32ToF16Bits(-0)).toBe(0x8000);
    expect(float32ToF16Bits(1e-10)).toBe(0);
    expect(f16BitsToFloat32(float32ToF16Bits(NaN))).toBeNaN();
    expect(float32ToBf16Bits(65504)).toBe(0x4780); // 0x477FE000 rounds up
    expect(float32ToBf16Bits(1 + 2 ** -8)).toBe(0x3f80); // tie -> even
    expect(float32ToBf16Bits(1 + 3 * 2 ** -8)).toBe(0x3f82);
    expect(bf16BitsToFloat32(float32ToBf16Bits(NaN))).toBeNaN();
  });

  it('every non-NaN half / bfloat16 value survives decode -> encode exactly', () => {
    const bad: string[] = [];
    for (let h = 0; h < 65536; h++) {
      const f = f16BitsToFloat32(h);
      if (!Number.isNaN(f) && float32ToF16Bits(f) !== h) bad.push(`f16 0x${h.toString(16)}`);
      const b = bf16BitsToFloat32(h);
      if (!Number.isNaN(b) && float32ToBf16Bits(b) !== h) bad.push(`bf16 0x${h.toString(16)}`);
    }
    expect(bad).toEqual([]);
  });

  it('agrees with a reference F16 rounding on sample values (numpy float16 vectors)', () => {
    // (value, np.float16(value).view(np.uint16)) computed with numpy 2.4.
    const vectors: Array<[number, number]> = [
      [0.1, 0x2e66], [1 / 3, 0x3555], [-123.456, 0xd7b7], [6.1e-5, 0x03ff], [3.0e-8, 0x0001], [2.9e-8, 0x0000], [1e5, 0x7c00],
    ];
    for (const [v, bits] of vectors) expect(float32ToF16Bits(v)).toBe(bits);
  });
});

describe('encode / decode round trip', () => {
  it('round-trips every dtype, scalars and empty tensors', () => {
    const input = everyDtype();
    const bytes = encodeSafetensors(input, { producer: 'test', 'a key': 'a value' });
    const { tensors, metadata } = decodeSafetensors(bytes, SRC);
    expect(metadata).toEqual({ producer: 'test', 'a key': 'a value' });
    expect([...tensors.keys()].sort()).toEqual(Object.keys(input).sort());
    for (const [name, t] of Object.entries(input)) {
      const got = tensors.get(name)!;
      expect(got.dtype, name).toBe(t.dtype);
      expect(got.shape, name).toEqual(t.shape);
      expect(Array.from(got.data as ArrayLike<unknown>), name).toEqual(Array.from(t.data as ArrayLike<unknown>));
      expect(got.data.constructor.name, name).toBe(
        t.dtype === 'F16' || t.dtype === 'BF16' ? 'Float32Array' : t.data.constructor.name,
      );
    }
    expect(Object.is(tensors.get('f64')!.data[1], -0)).toBe(true);
    // Every supported dtype was exercised.
    expect(new Set(Object.values(input).map((t) => t.dtype))).toEqual(new Set(DTYPES));
    // Re-encoding the decoded tensors gives the same bytes (F16/BF16 decode is exact).
    expect(encodeSafetensors(tensors, { producer: 'test', 'a key': 'a value' })).toEqual(bytes);
  });

  it('writes F16 / BF16 from raw bits and from Float32Array to the same hand-computed bytes', () => {
    const fromFloat = encodeSafetensors({ h: { dtype: 'F16', shape: [4], data: Float32Array.of(1, -2.5, 65504, 2 ** -24) } });
    const fromBits = encodeSafetensors({ h: { dtype: 'F16', shape: [4], data: Uint16Array.of(0x3c00, 0xc100, 0x7bff, 0x0001) } });
    expect(fromFloat).toEqual(fromBits);
    expect(Array.from(fromFloat.subarray(fromFloat.length - 8))).toEqual([0x00, 0x3c, 0x00, 0xc1, 0xff, 0x7b, 0x01, 0x00]);
    const bf = encodeSafetensors({ b: { dtype: 'BF16', shape: [2], data: Uint16Array.of(0x3f80, 0xc020) } });
    expect(Array.from(bf.subarray(bf.length - 4))).toEqual([0x80, 0x3f, 0x20, 0xc0]);
    expect(Array.from(decodeSafetensors(bf, SRC).tensors.get('b')!.data as Float32Array)).toEqual([1, -2.5]);
  });

  it('decoded arrays are copies, not views of the input', () => {
    const bytes = encodeSafetensors({ x: { dtype: 'F32', shape: [2], data: Float32Array.of(1, 2) } });
    const t = decodeSafetensors(Buffer.from(bytes), SRC).tensors.get('x')!;
    bytes.fill(0xff, bytes.length - 8);
    expect(Array.from(t.data as Float32Array)).toEqual([1, 2]);
    expect((t.data as Float32Array).buffer.byteLength).toBe(8);
  });

  it('toFloat32Map converts float tensors and rejects others by name', () => {
    const m = new Map<string, Tensor>([
      ['a', { dtype: 'F64', shape: [1], data: Float64Array.of(0.1) }],
      ['b', { dtype: 'F32', shape: [1], data: Float32Array.of(2) }],
    ]);
    const f = toFloat32Map(m, SRC);
    expect(f.get('a')!.data).toEqual(Float32Array.of(0.1));
    m.set('c', { dtype: 'I32', shape: [1], data: Int32Array.of(1) });
    expect(() => toFloat32Map(m, SRC)).toThrow(/tensor 'c'.*float tensor/);
  });
});

describe('deterministic encoding', () => {
  it('same tensors -> same bytes, whatever the insertion order or container', () => {
    const t = everyDtype();
    const reversed = new Map(Object.entries(t).reverse());
    const a = encodeSafetensors(t, { b: '2', a: '1' });
    const b = encodeSafetensors(reversed, { a: '1', b: '2' });
    expect(b).toEqual(a);
  });

  it('is byte-exact: sorted layout, compact header, space padding to 8 bytes', () => {
    const bytes = encodeSafetensors(
      {
        'b.weight': { dtype: 'F32', shape: [1], data: Float32Array.of(1) },
        'a.bias': { dtype: 'F32', shape: [1], data: Float32Array.of(2) },
        step: { dtype: 'I64', shape: [], data: BigInt64Array.of(5n) },
      },
      { format: 'x' },
    );
    const json =
      '{"__metadata__":{"format":"x"},' +
      '"step":{"dtype":"I64","shape":[],"data_offsets":[0,8]},' +
      '"a.bias":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},' +
      '"b.weight":{"dtype":"F32","shape":[1],"data_offsets":[12,16]}}';
    const n = Math.ceil(json.length / 8) * 8;
    const expected = new Uint8Array(8 + n + 16);
    new DataView(expected.buffer).setUint32(0, n, true);
    expected.set(new TextEncoder().encode(json.padEnd(n, ' ')), 8);
    expected.set([5, 0, 0, 0, 0, 0, 0, 0], 8 + n);
    expected.set(f32Bytes(2, 1), 8 + n + 8);
    expect(Array.from(bytes)).toEqual(Array.from(expected));
  });

  it('aligns every tensor to its element size in the file', () => {
    const bytes = encodeSafetensors(everyDtype(), { m: 'odd-length-metadata-value' });
    const h = readSafetensorsHeader(bytes, SRC);
    expect(h.headerLength % 8).toBe(0);
    for (const e of h.entries) {
      const size = { F64: 8, I64: 8, U64: 8, F32: 4, I32: 4, U32: 4, F16: 2, BF16: 2, I16: 2, U16: 2, I8: 1, U8: 1, BOOL: 1 }[e.dtype];
      expect((h.dataStart + e.begin) % size, e.name).toBe(0);
    }
  });
});

describe('hand-built files', () => {
  it('decodes a minimal file assembled from the spec (unpadded header, metadata last)', () => {
    const header = '{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"n":{"dtype":"I16","shape":[1,1],"data_offsets":[8,10]},"__metadata__":{"k":"v"}}';
    const bytes = assemble(header, [0x00, 0x00, 0xc0, 0x3f, 0x00, 0x00, 0x00, 0xc0, 0xfe, 0xff]);
    const { tensors, metadata } = decodeSafetensors(bytes, SRC);
    expect(metadata).toEqual({ k: 'v' });
    expect(tensors.get('w')).toEqual({ dtype: 'F32', shape: [2], data: Float32Array.of(1.5, -2) });
    expect(tensors.get('n')).toEqual({ dtype: 'I16', shape: [1, 1], data: Int16Array.of(-2) });
  });

  it("decodes the safetensors reference's documentation sample byte for byte", () => {
    const text = '{"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]}}';
    expect(text.length).toBe(0x3c);
    const bytes = new Uint8Array([0x3c, 0, 0, 0, 0, 0, 0, 0, ...new TextEncoder().encode(text), ...new Array(16).fill(0)]);
    const t = decodeSafetensors(bytes, SRC).tensors.get('test')!;
    expect(t).toEqual({ dtype: 'I32', shape: [2, 2], data: new Int32Array(4) });
  });

  it('accepts tensors listed out of offset order and a header padded with spaces', () => {
    const header = { b: { dtype: 'U8', shape: [1], data_offsets: [1, 2] }, a: { dtype: 'U8', shape: [1], data_offsets: [0, 1] } };
    const { tensors } = decodeSafetensors(assemble(header, [7, 9], true), SRC);
    expect([...tensors.keys()]).toEqual(['a', 'b']);
    expect(tensors.get('b')!.data).toEqual(Uint8Array.of(9));
  });

  it('keeps a "__proto__" metadata key as plain data', () => {
    const { metadata } = decodeSafetensors(assemble('{"__metadata__":{"__proto__":"x"}}'), SRC);
    expect(Object.getPrototypeOf(metadata)).toBe(Object.prototype);
    expect(Object.keys(metadata)).toEqual(['__proto__']);
    expect(Object.getOwnPropertyDescriptor(metadata, '__proto__')!.value).toBe('x');
  });

  it('accepts an empty file with no tensors', () => {
    const bytes = encodeSafetensors({});
    expect(decodeSafetensors(bytes, SRC).tensors.size).toBe(0);
  });
});

describe('corruption paths name the file and the culprit', () => {
  const good = encodeSafetensors({
    'actor.w': { dtype: 'F32', shape: [2, 3], data: Float32Array.of(1, 2, 3, 4, 5, 6) },
    'actor.b': { dtype: 'F16', shape: [3], data: Float32Array.of(0.5, 1, 2) },
  }, { format: 'test' });

  it('every truncation point is an error (never a short read)', () => {
    for (let len = 0; len < good.length; len++) {
      expect(() => decodeSafetensors(good.subarray(0, len), SRC), `length ${len}`).toThrow(CheckpointError);
    }
    expectFail(good.subarray(0, 0), 'truncated', undefined, /shorter than the 8-byte/);
    expectFail(good.subarray(0, 5), 'truncated');
    expectFail(good.subarray(0, 20), 'truncated', undefined, /header-length prefix says \d+ bytes but only 12/);
    expectFail(good.subarray(0, good.length - 1), 'truncated', "tensor 'actor.b'", /reach past the end of the file/);
  });

  it('a flipped or wrong header length is caught', () => {
    const flipped = good.slice();
    flipped[7] = 0xff;
    expectFail(flipped, 'truncated', undefined, /header-length prefix says 18374686479671623\d+ bytes/);
    const tooLong = good.slice();
    new DataView(tooLong.buffer).setUint32(0, good.length - 7, true);
    expectFail(tooLong, 'truncated');
    const short = good.slice();
    new DataView(short.buffer).setUint32(0, new DataView(good.buffer).getUint32(0, true) - 9, true);
    expectFail(short, 'header', undefined, /not valid JSON/);
    const zero = good.slice();
    new DataView(zero.buffer).setUint32(0, 0, true);
    expectFail(zero, 'header', undefined, /starting with '\{'/);
  });

  it('header problems: not JSON, not an object, bad UTF-8, duplicate keys, bad metadata', () => {
    expectFail(assemble('{"a":{"dtype":"F32",'), 'header', undefined, /not valid JSON/);
    expectFail(assemble(' {}'), 'header', undefined, /starting with '\{'/);
    expectFail(assemble('[1,2]'), 'header', undefined, /starting with '\{'/);
    expectFail(assemble('{}x'), 'header', undefined, /not valid JSON/);
    const badUtf8 = assemble('{"a\u00e9":1}');
    badUtf8[11] = 0xff;
    expectFail(badUtf8, 'header', undefined, /not valid UTF-8/);
    expectFail(
      assemble('{"x":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"x":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}', [1]),
      'header', undefined, /duplicate key "x"/,
    );
    expectFail(assemble({ __metadata__: { k: 1 } }), 'header', '__metadata__.k', /must be strings/);
    expectFail(assemble({ __metadata__: ['a'] }), 'header', '__metadata__');
    expectFail(assemble({ a: { dtype: 'U8', shape: [1] } }, [1]), 'header', "tensor 'a'", /missing "data_offsets"/);
    expectFail(assemble({ a: 5 }), 'header', "tensor 'a'");
  });

  it('dtype problems name the tensor', () => {
    expectFail(assemble({ w: { dtype: 'F17', shape: [1], data_offsets: [0, 4] } }, [0, 0, 0, 0]), 'dtype', "tensor 'w'", /unknown dtype "F17"/);
    expectFail(assemble({ w: { dtype: 'C64', shape: [1], data_offsets: [0, 8] } }, new Uint8Array(8)), 'dtype', "tensor 'w'", /C64 is not supported/);
    expectFail(assemble({ w: { dtype: 'float32', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(4)), 'dtype', "tensor 'w'");
  });

  it('shape / size mismatches name the tensor', () => {
    expectFail(assemble({ w: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 12] } }, new Uint8Array(12)), 'shape', "tensor 'w'", /needs 16 bytes but data_offsets \[0, 12\] span 12/);
    expectFail(assemble({ w: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, new Uint8Array(4)), 'shape', "tensor 'w'");
    expectFail(assemble({ w: { dtype: 'F32', shape: [1.5], data_offsets: [0, 4] } }, new Uint8Array(4)), 'shape', "tensor 'w'");
    expectFail(assemble({ w: { dtype: 'F32', shape: 4, data_offsets: [0, 16] } }, new Uint8Array(16)), 'shape', "tensor 'w'");
  });

  it('overlapping offsets, holes, bad starts and trailing bytes', () => {
    expectFail(
      assemble({ a: { dtype: 'U8', shape: [2], data_offsets: [0, 2] }, b: { dtype: 'U8', shape: [2], data_offsets: [1, 3] } }, [1, 2, 3]),
      'offsets', "tensor 'b'", /overlap tensor 'a' \[0, 2\]/,
    );
    expectFail(
      assemble({ a: { dtype: 'U8', shape: [2], data_offsets: [0, 2] }, b: { dtype: 'U8', shape: [2], data_offsets: [0, 2] } }, [1, 2]),
      'offsets', "tensor 'b'", /overlap/,
    );
    expectFail(
      assemble({ a: { dtype: 'U8', shape: [1], data_offsets: [0, 1] }, b: { dtype: 'U8', shape: [1], data_offsets: [2, 3] } }, [1, 2, 3]),
      'offsets', "tensor 'b'", /hole in the byte buffer: bytes \[1, 2\)/,
    );
    expectFail(assemble({ a: { dtype: 'U8', shape: [1], data_offsets: [1, 2] } }, [1, 2]), 'offsets', "tensor 'a'", /must start at offset 0/);
    expectFail(assemble({ a: { dtype: 'U8', shape: [1], data_offsets: [2, 1] } }, [1, 2]), 'offsets', "tensor 'a'");
    expectFail(assemble({ a: { dtype: 'U8', shape: [1], data_offsets: [0] } }, [1]), 'offsets', "tensor 'a'");
    const trailing = new Uint8Array(good.length + 3);
    trailing.set(good);
    expectFail(trailing, 'trailing-bytes', undefined, /3 bytes after the last tensor/);
    expectFail(assemble({}, [0]), 'trailing-bytes');
  });

  it('BOOL values other than 0/1 and (optionally) non-finite floats', () => {
    expectFail(assemble({ m: { dtype: 'BOOL', shape: [2], data_offsets: [0, 2] } }, [1, 2]), 'value', "tensor 'm'", /element 1 is 2/);
    const nan = encodeSafetensors({ 'critic.q1': { dtype: 'F32', shape: [2, 2], data: Float32Array.of(0, 1, 2, NaN) } });
    expect(Number.isNaN(decodeSafetensors(nan, SRC).tensors.get('critic.q1')!.data[3])).toBe(true);
    expectFail(nan, 'non-finite', "tensor 'critic.q1'", /NaN at flat index 3 \(position \[1, 1\]\)/, true);
    const inf = encodeSafetensors({ h: { dtype: 'F16', shape: [2], data: Uint16Array.of(0x3c00, 0xfc00) } });
    expectFail(inf, 'non-finite', "tensor 'h'", /-Infinity at flat index 1/, true);
  });
});

describe('encoder input validation', () => {
  const fail = (tensors: Record<string, unknown>, code: CheckpointErrorCode, re: RegExp, opts = {}) => {
    try {
      encodeSafetensors(tensors as Record<string, TensorInput>, undefined, { source: 'out.safetensors', ...opts });
    } catch (e) {
      expect(e).toBeInstanceOf(CheckpointError);
      expect((e as CheckpointError).code).toBe(code);
      expect((e as CheckpointError).message).toMatch(re);
      return;
    }
    throw new Error('expected a CheckpointError');
  };
  it('rejects mismatched arrays, lengths, names and values, naming the tensor', () => {
    fail({ w: { dtype: 'F32', shape: [1], data: Float64Array.of(1) } }, 'dtype', /out\.safetensors: tensor 'w': dtype F32 needs a Float32Array, got Float64Array/);
    fail({ w: { dtype: 'F32', shape: [2, 2], data: new Float32Array(3) } }, 'shape', /tensor 'w': shape \[2, 2\] has 4 elements but the data has 3/);
    fail({ w: { dtype: 'X', shape: [1], data: new Float32Array(1) } }, 'dtype', /unknown dtype "X"/);
    fail({ w: { dtype: 'F32', shape: [-2], data: new Float32Array(1) } }, 'shape', /non-negative integers/);
    fail({ __metadata__: { dtype: 'F32', shape: [1], data: new Float32Array(1) } }, 'header', /reserved/);
    fail({ '': { dtype: 'F32', shape: [1], data: new Float32Array(1) } }, 'header', /non-empty/);
    fail({ m: { dtype: 'BOOL', shape: [1], data: Uint8Array.of(3) } }, 'value', /tensor 'm': BOOL element 0 is 3/);
    fail({ w: { dtype: 'F64', shape: [2], data: Float64Array.of(1, Infinity) } }, 'non-finite', /tensor 'w': Infinity at flat index 1/, { checkFinite: true });
    expect(() => encodeSafetensors({}, { k: 5 as unknown as string })).toThrow(/__metadata__\.k: metadata values must be strings/);
  });
});
