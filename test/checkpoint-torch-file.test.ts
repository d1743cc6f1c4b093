/**
 * PyTorch files read without executing anything: the ZIP reader (src/checkpoint/zip.ts), the
 * restricted unpickler (src/checkpoint/pickle.ts) and torch.save's zip / legacy formats
 * (src/checkpoint/torch-file.ts), against fixtures torch 1.13 wrote
 * (scripts/export/make-torch-fixtures.py) and hand-made bytes for every refusal path.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { CheckpointError, type CheckpointErrorCode } from '../src/checkpoint/errors.js';
import { PyDict, PyTuple, unpickle, type UnpickleOptions } from '../src/checkpoint/pickle.js';
import * as safetensors from '../src/checkpoint/safetensors.js';
import { bf16BitsToFloat32, f16BitsToFloat32, float32ToBf16Bits, float32ToF16Bits, type Tensor } from '../src/checkpoint/safetensors.js';
import { MAX_TORCH_ELEMENTS, TORCH_ALLOWED_GLOBALS, decodeStateDict, decodeTorchFile, readStateDictFile } from '../src/checkpoint/torch-file.js';
import { openZip } from '../src/checkpoint/zip.js';
import { ROOT } from './eval-helpers.js';
import { caughtCheckpointError as caught } from './checkpoint-errors-helper.js';
import { rejectedCheckpointError as caughtAsync } from './checkpoint-errors-helper.js';

const FIX = join(ROOT, 'test', 'fixtures', 'torch');
const fixture = (name: string) => join(FIX, name);
const bytesOf = (name: string) => new Uint8Array(readFileSync(fixture(name)));

interface ExpectedTensor {
  dtype: string;
  shape: number[];
  values: Array<number | string>;
}
const expected = JSON.parse(readFileSync(fixture('expected.json'), 'utf8')) as {
  markers: Record<string, string>;
  tensors: Record<string, ExpectedTensor>;
  views: Record<string, ExpectedTensor>;
};

function expectErr(e: CheckpointError, code: CheckpointErrorCode, ...res: RegExp[]): void {
  expect(e.code, e.message).toBe(code);
  for (const re of res) expect(e.message).toMatch(re);
}

// ---------------------------------------------------------------------------------------------
// Byte builders: pickles and (stored, non-ZIP64) ZIP archives
// ---------------------------------------------------------------------------------------------

type Part = number | string | Uint8Array | Part[];
/** Concatenate opcodes (numbers are single bytes, strings latin1 bytes). */
function pk(...parts: Part[]): Uint8Array {
  const out: number[] = [];
  const add = (p: Part) => {
    if (typeof p === 'number') out.push(p);
    else if (typeof p === 'string') for (let i = 0; i < p.length; i++) out.push(p.charCodeAt(i));
    else if (p instanceof Uint8Array) out.push(...p);
    else p.forEach(add);
  };
  parts.forEach(add);
  return Uint8Array.from(out);
}
const u32le = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
const str = (s: string): Part => [0x8c, s.length, s]; // SHORT_BINUNICODE
const int = (v: number): Part => [0x4a, u32le(v)]; // BININT
const glob = (m: string, n: string): Part => [0x63, `${m}\n${n}\n`]; // GLOBAL
const MARK = 0x28;
const TUPLE = 0x74;
const EMPTY_TUPLE = 0x29;
const REDUCE = 0x52;
const STOP = 0x2e;
const ordered: Part = [glob('collections', 'OrderedDict'), EMPTY_TUPLE, REDUCE];

interface FakeTensor {
  name: string;
  key: string;
  numel: number;
  offset?: number;
  size: number[];
  stride: number[];
  storage?: string;
  hooks?: Part;
}
/** A _rebuild_tensor_v2 call, as torch.save writes it. */
const tensorExpr = (t: FakeTensor): Part => [
    glob('torch._utils', '_rebuild_tensor_v2'),
    MARK,
    MARK, str('storage'), glob('torch', t.storage ?? 'FloatStorage'), str(t.key), str('cpu'), int(t.numel), TUPLE,
    0x51, // BINPERSID
    int(t.offset ?? 0),
    MARK, t.size.map(int), TUPLE,
    MARK, t.stride.map(int), TUPLE,
    0x89, // NEWFALSE
    t.hooks ?? ordered,
    TUPLE,
    REDUCE,
  ];
/** data.pkl of an OrderedDict of tensors. */
function stateDictPickle(tensors: FakeTensor[]): Uint8Array {
  return pk(0x80, 2, ordered, MARK, tensors.map((t) => [str(t.name), tensorExpr(t)]), 0x75, STOP); // SETITEMS
}

/** A stored ZIP archive (what Python's zipfile writes for small files: no ZIP64). */
function makeZip(entries: Array<[string, Uint8Array]>): Uint8Array {
  const local: number[] = [];
  const central: number[] = [];
  for (const [name, data] of entries) {
    const nb = Array.from(new TextEncoder().encode(name));
    const c = crc32(data) >>> 0;
    const off = local.length;
    const common = [0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, ...u32le(c), ...u32le(data.length), ...u32le(data.length), nb.length & 0xff, nb.length >> 8];
    local.push(...u32le(0x04034b50), ...common, 0, 0, ...nb, ...data);
    central.push(...u32le(0x02014b50), 0x14, 0, ...common, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, ...u32le(off), ...nb);
  }
  const eocd = [...u32le(0x06054b50), 0, 0, 0, 0, entries.length, 0, entries.length, 0, ...u32le(central.length), ...u32le(local.length), 0, 0];
  return Uint8Array.from([...local, ...central, ...eocd]);
}
const f32bytes = (vals: number[]) => new Uint8Array(Float32Array.from(vals).buffer);
const torchZip = (pkl: Uint8Array, storages: Record<string, Uint8Array>, extra: Array<[string, Uint8Array]> = []) =>
  makeZip([['archive/data.pkl', pkl], ...Object.entries(storages).map(([k, v]) => [`archive/data/${k}`, v] as [string, Uint8Array]), ['archive/version', pk('3\n')], ...extra]);

const values = (t: Tensor): number[] => Array.from(t.data as ArrayLike<number>);

// ---------------------------------------------------------------------------------------------

describe('state dicts written by torch.save', () => {
  it('reads actor.pth (zip, protocol 2): every name, dtype, shape and value as torch saved it', async () => {
    const { format, tensors, skipped } = await readStateDictFile(fixture('actor.pth'));
    expect(format).toBe('torch-zip');
    expect(skipped).toEqual([]);
    expect([...tensors.keys()]).toEqual(Object.keys(expected.tensors));
    for (const [name, e] of Object.entries(expected.tensors)) {
      const t = tensors.get(name)!;
      expect(t.dtype, name).toBe('F32');
      expect(e.dtype).toBe('float32');
      expect(t.shape, name).toEqual(e.shape);
      expect(values(t), name).toEqual(e.values);
    }
  });

  it('reads the same tensors from the legacy format, protocol 4, DEFLATE entries, a big-endian archive, strided views and safetensors', async () => {
    const want = (await readStateDictFile(fixture('actor.pth'))).tensors;
    for (const [file, format] of [
      ['actor-legacy.pth', 'torch-legacy'],
      ['actor-proto4.pth', 'torch-zip'],
      ['actor-deflate.pth', 'torch-zip'],
      ['actor-bigendian.pth', 'torch-zip'],
      ['actor-strided.pth', 'torch-zip'],
      ['actor.safetensors', 'safetensors'],
    ] as const) {
      const got = await readStateDictFile(fixture(file));
      expect(got.format, file).toBe(format);
      expect([...got.tensors.keys()], file).toEqual([...want.keys()]);
      for (const [name, t] of want) {
        expect(got.tensors.get(name)!.shape, `${file} ${name}`).toEqual(t.shape);
        expect(values(got.tensors.get(name)!), `${file} ${name}`).toEqual(values(t));
      }
    }
  });

  it('float16 / bfloat16 / float64 storages: exact values of the stored precision', async () => {
    const f16 = (await readStateDictFile(fixture('actor-f16.pth'))).tensors;
    const bf16 = (await readStateDictFile(fixture('actor-bf16.pth'))).tensors;
    const f64 = (await readStateDictFile(fixture('actor-f64.pth'))).tensors;
    for (const [name, e] of Object.entries(expected.tensors)) {
      const v = e.values as number[];
      expect(f16.get(name)!.dtype).toBe('F16');
      expect(values(f16.get(name)!)).toEqual(v.map((x) => f16BitsToFloat32(float32ToF16Bits(x))));
      expect(bf16.get(name)!.dtype).toBe('BF16');
      expect(values(bf16.get(name)!)).toEqual(v.map((x) => bf16BitsToFloat32(float32ToBf16Bits(x))));
      expect(f64.get(name)!.dtype).toBe('F64');
      expect(f64.get(name)!.data).toBeInstanceOf(Float64Array);
      expect(values(f64.get(name)!)).toEqual(v);
    }
    // Rounding did happen (the fixtures are not accidentally float32).
    const w = 'model.mid_layer.0.weight';
    expect(values(f16.get(w)!)).not.toEqual(expected.tensors[w]!.values);
  });

  it('views: transpose, step slice, stride-0 expand, offsets, 0-d, empty, int64 beyond 2^53, bool, nested dicts; non-tensors skipped', async () => {
    const { tensors, skipped } = await readStateDictFile(fixture('views.pth'));
    expect(skipped).toEqual(['step (int)']);
    const dtypeOf: Record<string, string> = { float32: 'F32', float16: 'F16', int64: 'I64', bool: 'BOOL' };
    expect([...tensors.keys()].sort()).toEqual(Object.keys(expected.views).sort());
    for (const [name, e] of Object.entries(expected.views)) {
      const t = tensors.get(name)!;
      expect(t.dtype, name).toBe(dtypeOf[e.dtype]);
      expect(t.shape, name).toEqual(e.shape);
      if (t.dtype === 'I64') expect(Array.from(t.data), name).toEqual(e.values.map((s) => BigInt(s)));
      else expect(values(t), name).toEqual(e.values);
    }
    expect(tensors.get('scalar')!.shape).toEqual([]);
    expect(tensors.get('empty')!.data.length).toBe(0);
  });

  it('a safetensors file whose header length starts with 0x80 (like a pickle) is still read as safetensors', () => {
    const { encodeSafetensors } = safetensors;
    let n = 1;
    let bytes = encodeSafetensors({ a: { dtype: 'F32', shape: [1], data: Float32Array.of(1) } });
    // Pad the name until the header is 128 bytes long: byte 0 = 0x80.
    while (bytes[0] !== 0x80 || bytes[1] !== 0) bytes = encodeSafetensors({ ['a'.repeat(++n)]: { dtype: 'F32', shape: [1], data: Float32Array.of(1) } });
    const got = decodeStateDict(bytes, 'h128.safetensors');
    expect(got.format).toBe('safetensors');
    expect([...got.tensors.keys()]).toEqual(['a'.repeat(n)]);
  });

  it('a critic and a whole-agent file', async () => {
    expect([...(await readStateDictFile(fixture('critic.pth'))).tensors.keys()].slice(0, 2)).toEqual(['q1_model.0.weight', 'q1_model.0.bias']);
    const agent = (await readStateDictFile(fixture('agent.pt'))).tensors;
    expect(agent.size).toBe(14 + 14 + 12 + 12);
    expect(agent.get('ema_model.model.final_layer.bias')!.shape).toEqual([3]);
  });
});

describe('malicious pickles are refused and run nothing', () => {
  for (const file of ['malicious.pth', 'malicious-proto4.pth', 'malicious-legacy.pth']) {
    it(file, async () => {
      const marker = expected.markers[file]!;
      rmSync(marker, { force: true });
      const raw = Buffer.from(bytesOf(file)).toString('latin1');
      // The fixture really is malicious: a call of os.system / exec that would create the marker.
      expect(raw).toContain(marker);
      const fn = file === 'malicious-proto4.pth' ? 'builtins.exec' : 'posix.system';
      const e = await caughtAsync(readStateDictFile(fixture(file)));
      expectErr(e, 'forbidden-global', new RegExp(`refused to load the global '${fn.replace('.', '\\.')}'`), /nothing in it was executed/, /allowed: collections\.OrderedDict, torch\._utils\._rebuild_tensor_v2/);
      expect(e.message).toContain(fixture(file));
      expect(e.message).toMatch(file === 'malicious-proto4.pth' ? /STACK_GLOBAL/ : /0x63 GLOBAL/);
      expect(existsSync(marker)).toBe(false);
    });
  }

  it('the refusal happens at the GLOBAL opcode: nothing after it is read', () => {
    // GLOBAL os.system followed by bytes that would be an error if they were read.
    const bad = pk(0x80, 2, glob('os', 'system'), 0xff, 0xff, STOP);
    const e = caught(() => decodeTorchFile(torchZip(bad, {}), 'evil.pth'));
    expectErr(e, 'forbidden-global', /evil\.pth.*'os\.system' \(pickle byte 2 \(opcode 0x63 GLOBAL\)\)/);
    // INST (protocol 0) names its class inline: refused the same way.
    const inst = pk(0x80, 2, MARK, 0x69, 'subprocess\nPopen\n', STOP);
    expectErr(caught(() => decodeTorchFile(torchZip(inst, {}), 'inst.pth')), 'forbidden-global', /'subprocess\.Popen'.*INST/);
    // Allowlisted modules do not open the door to their other names.
    for (const [m, n] of [['torch._utils', '_rebuild_device_tensor_from_numpy'], ['torch', 'load'], ['collections', 'defaultdict'], ['torch.serialization', 'load']]) {
      expectErr(caught(() => decodeTorchFile(torchZip(pk(0x80, 2, glob(m!, n!), STOP), {}), 'x.pth')), 'forbidden-global', new RegExp(`'${`${m}.${n}`.replace(/\./g, '\\.')}'`));
    }
    expect(TORCH_ALLOWED_GLOBALS).toContain('torch.BFloat16Storage');
    expect(TORCH_ALLOWED_GLOBALS).not.toContain('torch.load');
  });
});

describe('the restricted unpickler', () => {
  const none: UnpickleOptions = { source: 'p.pkl', findGlobal: () => undefined };

  it('builds dicts, lists, tuples, ints (bigint beyond 2^53), floats, strings, bytes, booleans, memo references', () => {
    const p = pk(
      0x80, 4, 0x95, 8, 0, 0, 0, 0, 0, 0, 0, // PROTO 4, FRAME
      0x7d, 0x94, MARK, // EMPTY_DICT MEMOIZE MARK
      str('i'), 0x4b, 7, // BININT1
      str('neg'), int(-5 >>> 0),
      str('big'), 0x8a, 9, 1, 0, 0, 0, 0, 0, 0, 0, 1, // LONG1 2^64 + 1
      str('f'), 0x47, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0, // BINFLOAT 1.5 (big-endian)
      str('l'), 0x5d, 0x94, MARK, 0x88, 0x89, 0x4e, 0x65, // EMPTY_LIST MEMOIZE MARK True False None APPENDS
      str('t'), 0x4d, 0x34, 0x12, str('x'), 0x86, // BININT2 0x1234, TUPLE2
      str('b'), 0x43, 2, 0xde, 0xad, // SHORT_BINBYTES
      str('same'), 0x68, 1, // BINGET 1 (the list)
      0x75, STOP,
    );
    const { value, end } = unpickle(p, none);
    expect(end).toBe(p.length);
    const d = value as PyDict;
    expect(d).toBeInstanceOf(PyDict);
    expect(d.map.get('i')).toBe(7);
    expect(d.map.get('neg')).toBe(-5);
    expect(d.map.get('big')).toBe(2n ** 64n + 1n);
    expect(d.map.get('f')).toBe(1.5);
    expect(d.map.get('l')).toEqual([true, false, null]);
    expect(d.map.get('same')).toBe(d.map.get('l'));
    expect((d.map.get('t') as PyTuple).items).toEqual([0x1234, 'x']);
    expect(d.map.get('b')).toEqual(Uint8Array.of(0xde, 0xad));
  });

  it('malformed input: every error names the file, the byte offset and the opcode', () => {
    const cases: Array<[Uint8Array, RegExp]> = [
      [pk(0x80, 2, 0xff), /unknown opcode at byte 2 \(opcode 0xff \(not a pickle opcode\)\)/],
      [pk(0x80, 2, 0x8f, STOP), /not supported by the restricted reader at byte 2 \(opcode 0x8f EMPTY_SET\)/],
      [pk(0x80, 2, 0x82, 1, STOP), /0x82 EXT1/],
      [pk(0x80, 2, 0x58, u32le(100), 'abc'), /needs 100 more bytes but only 3 are left/],
      [pk(0x80, 2, 0x4e), /ends at byte 3 before the STOP opcode/],
      [pk(0x80, 2, 0x68, 7, STOP), /memo entry 7 was never stored at byte 2 \(opcode 0x68 BINGET\)/],
      [pk(0x80, 2, EMPTY_TUPLE, EMPTY_TUPLE, REDUCE, STOP), /cannot call a tuple/],
      [pk(0x80, 2, 0x7d, 0x5d, 0x4e, 0x73, STOP), /a dict key of type list is not supported/],
      [pk(0x80, 2, 0x73, STOP), /stack underflow/],
      [pk(0x80, 2, 0x74, STOP), /no MARK/],
      [pk(0x80, 2, 0x8c, 2, 0xc3, 0x28, STOP), /not valid UTF-8/],
      [pk(0x80, 9, STOP), /protocol 9 is newer than 5/],
      [pk(0x80, 2, 0x4e, 0x51, STOP), /persistent ids are not expected/],
      [pk(0x80, 2, 0x8b, u32le(300), new Uint8Array(300), STOP), /an integer of 300 bytes is longer than the 256 bytes accepted/],
      [pk(0x80, 2, 0x63, 'm'.repeat(2000), '\n', 'n\n', STOP), /a text argument is longer than 1024 bytes/],
      [pk(0x80, 2, 0x63, 'os'), /a text argument has no terminating newline/],
    ];
    for (const [bytes, re] of cases) expectErr(caught(() => unpickle(bytes, none)), 'pickle', /^p\.pkl: pickle: /, re);
  });

  it('an allowlisted value-only global cannot be called; calls get the argument tuple', () => {
    const calls: unknown[][] = [];
    const opts: UnpickleOptions = {
      source: 'p.pkl',
      findGlobal: (m, n) => (m === 'm' && n === 'value' ? {} : m === 'm' && n === 'fn' ? { call: (args) => (calls.push(args), 'made') } : undefined),
    };
    expectErr(caught(() => unpickle(pk(0x80, 2, glob('m', 'value'), EMPTY_TUPLE, REDUCE, STOP), opts)), 'pickle', /'m\.value' is allowed as a value, not as something to call/);
    expect(unpickle(pk(0x80, 2, glob('m', 'fn'), 0x4b, 3, str('a'), 0x86, REDUCE, STOP), opts).value).toBe('made');
    expect(calls).toEqual([[3, 'a']]);
  });
});

describe('torch file layout errors name the file and the tensor', () => {
  const ok: FakeTensor = { name: 'w', key: '0', numel: 6, size: [2, 3], stride: [3, 1] };
  const six = f32bytes([0, 1, 2, 3, 4, 5]);

  it('a hand-made archive reads (row-major, transposed, offset views of one storage)', () => {
    const pkl = stateDictPickle([ok, { name: 'wt', key: '0', numel: 6, size: [3, 2], stride: [1, 3] }, { name: 'tail', key: '0', numel: 6, offset: 4, size: [2], stride: [1] }]);
    const { tensors } = decodeTorchFile(torchZip(pkl, { '0': six }), 'ok.pth');
    expect(values(tensors.get('w')!)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(values(tensors.get('wt')!)).toEqual([0, 3, 1, 4, 2, 5]);
    expect(values(tensors.get('tail')!)).toEqual([4, 5]);
  });

  it('bounds, sizes and structure', () => {
    const cases: Array<[string, Uint8Array, CheckpointErrorCode, RegExp]> = [
      ['reaches past its storage', torchZip(stateDictPickle([{ ...ok, offset: 1 }]), { '0': six }), 'torch-format', /tensor 'w': shape \[2, 3\], stride \[3, 1\] at offset 1 reaches element 6 of storage '0', which has 6 elements/],
      ['storage shorter than declared', torchZip(stateDictPickle([ok]), { '0': six.subarray(0, 20) }), 'torch-format', /tensor 'w': its storage '0' should hold 6 F32 elements \(24 bytes\) but has 20 bytes/],
      ['storage entry missing', torchZip(stateDictPickle([ok]), {}), 'torch-format', /refers to storage '0' but the archive has no entry 'archive\/data\/0'/],
      ['huge view of a tiny storage', torchZip(stateDictPickle([{ ...ok, numel: 1, size: [1 << 20, 1 << 10], stride: [0, 0] }]), { '0': f32bytes([1]) }), 'torch-format', new RegExp(`more than the ${MAX_TORCH_ELEMENTS} elements allowed`)],
      ['unknown storage type', torchZip(stateDictPickle([{ ...ok, storage: 'ComplexFloatStorage' }]), { '0': six }), 'forbidden-global', /'torch\.ComplexFloatStorage'/],
      ['backward hooks', torchZip(stateDictPickle([{ ...ok, hooks: [ordered, str('h'), 0x4e, 0x73] }]), { '0': six }), 'torch-format', /backward_hooks must be an empty OrderedDict, got 1 hook/],
      ['a single tensor', torchZip(pk(0x80, 2, tensorExpr(ok), STOP), { '0': six }), 'torch-format', /holds a single tensor, not a state dict/],
      ['a list', torchZip(pk(0x80, 2, 0x5d, STOP), {}), 'torch-format', /holds a list, not a state dict/],
      ['bad persistent id', torchZip(pk(0x80, 2, str('storage'), 0x85, 0x51, STOP), {}), 'torch-format', /persistent id must be a 5-tuple/],
      ['bad byteorder', torchZip(stateDictPickle([ok]), { '0': six }, [['archive/byteorder', pk('middle')]]), 'torch-format', /byteorder says "middle"/],
      ['TorchScript', makeZip([['m/data.pkl', pk(0x80, 2, 0x4e, STOP)], ['m/code/__torch__.py', pk('x')]]), 'torch-format', /TorchScript archive \(torch\.jit\.save\), not a state dict/],
      ['no data.pkl', makeZip([['a/b.txt', pk('x')]]), 'torch-format', /without a <name>\/data\.pkl entry.*a\/b\.txt/],
      ['plain pickle', pk(0x80, 2, 0x4e, STOP), 'torch-format', /a pickle but not a torch\.save file/],
      ['not torch at all', pk('hello world, not a model'), 'torch-format', /neither a torch\.save file.*nor a safetensors file/],
    ];
    for (const [what, bytes, code, re] of cases) {
      const e = caught(() => decodeStateDict(bytes, 'bad.pth'));
      expect(e.message, what).toContain('bad.pth');
      expectErr(e, code, re);
    }
  });

  it('NaN weights are refused with checkFinite, naming the tensor', () => {
    const zip = torchZip(stateDictPickle([ok]), { '0': f32bytes([0, 1, NaN, 3, 4, 5]) });
    expect(decodeTorchFile(zip, 'nan.pth').tensors.get('w')!.shape).toEqual([2, 3]);
    expectErr(caught(() => decodeTorchFile(zip, 'nan.pth', { checkFinite: true })), 'non-finite', /nan\.pth: tensor 'w': NaN at flat index 2/);
  });

  it('the legacy format: truncated storages and trailing bytes', () => {
    const b = bytesOf('actor-legacy.pth');
    expectErr(caught(() => decodeTorchFile(b.subarray(0, b.length - 5), 'l.pth')), 'torch-format', /runs past the end of the \d+-byte file \(truncated\)/);
    expectErr(caught(() => decodeTorchFile(pk(b, 0), 'l.pth')), 'torch-format', /1 bytes after the last storage/);
    // Cut inside the object pickle.
    expectErr(caught(() => decodeTorchFile(b.subarray(0, 400), 'l.pth')), 'pickle', /l\.pth: pickle: /);
  });
});

describe('the ZIP reader', () => {
  const actor = bytesOf('actor.pth');
  /** Offset of the central-directory header of `name`. */
  const central = (b: Uint8Array, name: string): number => {
    const s = Buffer.from(b).toString('latin1');
    let i = -1;
    while ((i = s.indexOf('PK\x01\x02', i + 1)) >= 0) if (s.startsWith(name, i + 46)) return i;
    throw new Error(`no central entry ${name}`);
  };
  const patched = (at: number, ...bytes: number[]) => {
    const c = actor.slice();
    c.set(bytes, at);
    return c;
  };

  it('reads torch.save archives (ZIP64 end records, 64-byte aligned data) and Python zipfile ones', () => {
    const z = openZip(actor, 'actor.pth');
    expect(z.entries.map((e) => e.name)).toContain('actor/data.pkl');
    expect(z.entries.every((e) => e.method === 0)).toBe(true);
    expect(new TextDecoder().decode(z.read('actor/version')).trim()).toBe('3');
    const d = openZip(bytesOf('actor-deflate.pth'), 'd.pth');
    expect(d.entries.some((e) => e.method === 8 && e.compressedSize < e.size)).toBe(true);
    expect(d.read('actor/data.pkl')).toEqual(z.read('actor/data.pkl'));
  });

  it('corruption is an archive error naming the file and the entry', () => {
    const pklAt = central(actor, 'actor/data/0');
    const e0 = openZip(actor, 'x').entries.find((e) => e.name === 'actor/data/0')!;
    // Flip a data byte: the CRC catches it.
    const dataStart = e0.localHeaderOffset + 30 + 'actor/data/0'.length + (actor[e0.localHeaderOffset + 28]! | (actor[e0.localHeaderOffset + 29]! << 8));
    const flipped = patched(dataStart, actor[dataStart]! ^ 0x40);
    expectErr(caught(() => decodeTorchFile(flipped, 'c.pth')), 'archive', /c\.pth: zip entry 'actor\/data\/0': CRC-32 mismatch/);
    expectErr(caught(() => openZip(patched(pklAt + 10, 12, 0), 'c.pth')), 'archive', /zip entry 'actor\/data\/0': uses compression method 12; only 0 \(stored\) and 8 \(deflate\)/);
    expectErr(caught(() => openZip(patched(pklAt + 8, 0x09, 0x08), 'c.pth')), 'archive', /is encrypted/);
    expectErr(caught(() => openZip(actor.subarray(0, actor.length - 30), 'c.pth')), 'archive', /no ZIP end-of-central-directory record/);
    expectErr(caught(() => openZip(actor.subarray(0, 10), 'c.pth')), 'archive', /too short for a ZIP archive/);
    // The local header's name disagrees with the central directory's.
    const renamed = patched(e0.localHeaderOffset + 30 + 'actor/data/'.length, 'X'.charCodeAt(0));
    expectErr(caught(() => openZip(renamed, 'c.pth').read('actor/data/0')), 'archive', /local header names it 'actor\/data\/X'/);
    // A local header offset beyond the file.
    expectErr(caught(() => openZip(patched(pklAt + 42, 0xf0, 0xff, 0xff, 0x7f), 'c.pth')), 'archive', /outside the \d+-byte file/);
    // Hand-made archives: duplicate names, stored sizes that disagree.
    expectErr(caught(() => openZip(makeZip([['a', pk('1')], ['a', pk('2')]]), 'dup.zip')), 'archive', /zip entry 'a': occurs twice/);
    const z = makeZip([['a', pk('12345')]]);
    const bad = z.slice();
    bad.set(u32le(4), central(z, 'a') + 20);
    expectErr(caught(() => openZip(bad, 'sz.zip')), 'archive', /stored \(not compressed\) but its compressed size 4 differs from its size 5/);
  });
});
