/**
 * A restricted Python unpickler: it reads the pickle *data* opcodes (protocols 0-5 as far as
 * PyTorch state dicts need them) and never runs anything. Where Python's pickle would import a
 * module attribute (GLOBAL, STACK_GLOBAL, INST, OBJ's class), this one asks the caller's
 * allowlist (`findGlobal`); a name that is not on it is refused AT THAT OPCODE, before any
 * further byte is read, with a CheckpointError 'forbidden-global' naming `module.name`, the file
 * and the byte offset. Calls (REDUCE, NEWOBJ, NEWOBJ_EX, INST, OBJ) can only call what the
 * allowlist handed out, and those are plain TypeScript functions building data.
 *
 * Values: None -> null, bool -> boolean, int -> number (bigint beyond 2^53), float -> number,
 * str -> string, bytes / bytearray -> Uint8Array, list -> array, tuple -> PyTuple,
 * dict -> PyDict (keys: str, int, float, bool, None), whatever an allowlisted callable returns ->
 * that value. Persistent ids (BINPERSID / PERSID) go to the caller's `persistentLoad`.
 *
 * Opcodes not handled (sets, the extension registry EXT1/2/4, out-of-band buffers, protocol-0
 * text strings STRING / UNICODE) are CheckpointError 'pickle' naming the opcode and its offset, as
 * is every malformed input: a stack underflow, a missing MARK, a memo index never stored, a length
 * beyond the end of the data, invalid UTF-8, a non-hashable dict key, or data ending before STOP.
 * Every length is checked against the bytes left before it is used.
 */
import { CheckpointError } from './errors.js';

/** A Python tuple (kept apart from lists, which are plain arrays). */
export class PyTuple {
  constructor(readonly items: unknown[]) {}
}

/** A Python dict or OrderedDict. `attrs` holds what BUILD set on it (OrderedDict's `_metadata`). */
export class PyDict {
  readonly map = new Map<PyKey, unknown>();
  attrs?: Map<string, unknown>;
  constructor(readonly pyType: 'dict' | 'collections.OrderedDict' = 'dict') {}
}

export type PyKey = string | number | bigint | boolean | null;

/** What the allowlist says about one global. */
export interface GlobalImpl {
  /** Called by REDUCE / NEWOBJ / INST / OBJ with the argument tuple's items. Absent: not callable. */
  call?: (args: unknown[], where: string) => unknown;
  /** Anything else the caller wants to find on the global later (e.g. a storage dtype). */
  readonly [key: string]: unknown;
}

/** A global the allowlist admitted (the value GLOBAL / STACK_GLOBAL push). */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
    readonly impl: GlobalImpl,
  ) {}
  get qualname(): string {
    return `${this.module}.${this.name}`;
  }
}

export interface UnpickleOptions {
  /** The file, for errors. */
  source: string;
  /** What a global is allowed to be; undefined refuses it. */
  findGlobal(module: string, name: string): GlobalImpl | undefined;
  /** Resolves a persistent id (the value BINPERSID pops). Absent: persistent ids are errors. */
  persistentLoad?(pid: unknown, where: string): unknown;
  /** Appended to 'forbidden-global' messages (e.g. the list of what is allowed). */
  allowedHint?: string;
}

/** Names of every opcode of protocols 0-5, for messages (pickletools' names). */
const OPCODE_NAMES: Readonly<Record<number, string>> = {
  0x28: 'MARK', 0x2e: 'STOP', 0x30: 'POP', 0x31: 'POP_MARK', 0x32: 'DUP', 0x46: 'FLOAT', 0x49: 'INT',
  0x4a: 'BININT', 0x4b: 'BININT1', 0x4c: 'LONG', 0x4d: 'BININT2', 0x4e: 'NONE', 0x50: 'PERSID',
  0x51: 'BINPERSID', 0x52: 'REDUCE', 0x53: 'STRING', 0x54: 'BINSTRING', 0x55: 'SHORT_BINSTRING',
  0x56: 'UNICODE', 0x58: 'BINUNICODE', 0x61: 'APPEND', 0x62: 'BUILD', 0x63: 'GLOBAL', 0x64: 'DICT',
  0x7d: 'EMPTY_DICT', 0x65: 'APPENDS', 0x67: 'GET', 0x68: 'BINGET', 0x69: 'INST', 0x6a: 'LONG_BINGET',
  0x6c: 'LIST', 0x5d: 'EMPTY_LIST', 0x6f: 'OBJ', 0x70: 'PUT', 0x71: 'BINPUT', 0x72: 'LONG_BINPUT',
  0x73: 'SETITEM', 0x74: 'TUPLE', 0x29: 'EMPTY_TUPLE', 0x75: 'SETITEMS', 0x47: 'BINFLOAT',
  0x80: 'PROTO', 0x81: 'NEWOBJ', 0x82: 'EXT1', 0x83: 'EXT2', 0x84: 'EXT4', 0x85: 'TUPLE1', 0x86: 'TUPLE2',
  0x87: 'TUPLE3', 0x88: 'NEWTRUE', 0x89: 'NEWFALSE', 0x8a: 'LONG1', 0x8b: 'LONG4',
  0x42: 'BINBYTES', 0x43: 'SHORT_BINBYTES', 0x8c: 'SHORT_BINUNICODE', 0x8d: 'BINUNICODE8',
  0x8e: 'BINBYTES8', 0x8f: 'EMPTY_SET', 0x90: 'ADDITEMS', 0x91: 'FROZENSET', 0x92: 'NEWOBJ_EX',
  0x93: 'STACK_GLOBAL', 0x94: 'MEMOIZE', 0x95: 'FRAME', 0x96: 'BYTEARRAY8', 0x97: 'NEXT_BUFFER',
  0x98: 'READONLY_BUFFER',
};

/** `0x52 REDUCE`, for messages. */
export function describeOpcode(op: number): string {
  const name = OPCODE_NAMES[op];
  return `0x${op.toString(16).padStart(2, '0')}${name ? ` ${name}` : ' (not a pickle opcode)'}`;
}

/** Python type name of a value, for messages. */
export function pyTypeName(v: unknown): string {
  if (v === null) return 'None';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'string') return 'str';
  if (v instanceof Uint8Array) return 'bytes';
  if (Array.isArray(v)) return 'list';
  if (v instanceof PyTuple) return 'tuple';
  if (v instanceof PyDict) return v.pyType;
  if (v instanceof PyGlobal) return v.qualname;
  const name = (v as { pyType?: unknown })?.pyType;
  return typeof name === 'string' ? name : typeof v;
}

/** Longest integer accepted (LONG4 bytes / decimal digits of INT, LONG): decoding is quadratic in it. */
const MAX_INT_BYTES = 256;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function isKey(v: unknown): v is PyKey {
  return v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean';
}

/** Python-style int from little-endian two's-complement bytes (LONG1 / LONG4). */
function decodeLong(b: Uint8Array): number | bigint {
  if (b.length === 0) return 0;
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
  if (b[b.length - 1]! & 0x80) v -= 1n << BigInt(8 * b.length);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/**
 * Unpickle one pickle starting at `start`; returns the value and the offset just after its STOP
 * (PyTorch's legacy format stores several pickles back to back).
 */
export function unpickle(bytes: Uint8Array, options: UnpickleOptions, start = 0): { value: unknown; end: number } {
  const { source } = options;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();
  let pos = start;
  let opPos = start;
  let op = 0;

  const at = () => `byte ${opPos} (opcode ${describeOpcode(op)})`;
  const fail = (detail: string): never => {
    throw new CheckpointError({ code: 'pickle', file: source, detail: `pickle: ${detail} at ${at()}` });
  };
  const take = (n: number): Uint8Array => {
    if (!Number.isSafeInteger(n) || n < 0 || pos + n > bytes.length) {
      fail(`needs ${n} more bytes but only ${bytes.length - pos} are left (truncated or corrupt pickle)`);
    }
    const b = bytes.subarray(pos, pos + n);
    pos += n;
    return b;
  };
  const u8 = () => take(1)[0]!;
  const u16 = () => (take(2), dv.getUint16(pos - 2, true));
  const u32 = () => (take(4), dv.getUint32(pos - 4, true));
  const i32 = () => (take(4), dv.getInt32(pos - 4, true));
  const u64 = (): number => {
    take(8);
    const v = dv.getBigUint64(pos - 8, true);
    if (v > BigInt(bytes.length)) fail(`length ${v} is beyond the end of the data`);
    return Number(v);
  };
  /** A text line (protocol 0 arguments), without its newline; at most 1024 bytes. */
  const line = (): string => {
    const end = bytes.subarray(pos, pos + 1025).indexOf(0x0a) + pos;
    if (end < pos) fail(bytes.indexOf(0x0a, pos) < 0 ? 'a text argument has no terminating newline' : 'a text argument is longer than 1024 bytes');
    const s = new TextDecoder('latin1').decode(bytes.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const str = (b: Uint8Array): string => {
    try {
      return utf8.decode(b);
    } catch {
      return fail('a string is not valid UTF-8');
    }
  };
  const pop = (): unknown => {
    const floor = marks.length > 0 ? marks[marks.length - 1]! : 0;
    if (stack.length <= floor) fail('stack underflow (corrupt pickle)');
    return stack.pop();
  };
  const top = (): unknown => {
    const floor = marks.length > 0 ? marks[marks.length - 1]! : 0;
    if (stack.length <= floor) fail('stack underflow (corrupt pickle)');
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    if (marks.length === 0) fail('no MARK to pop to (corrupt pickle)');
    const m = marks.pop()!;
    return stack.splice(m);
  };
  const global = (module: string, name: string): PyGlobal => {
    const impl = options.findGlobal(module, name);
    if (impl === undefined) {
      throw new CheckpointError({
        code: 'forbidden-global',
        file: source,
        detail:
          `refused to load the global '${module}.${name}' (pickle ${at()}): it is not on the allowlist, so the file was not loaded ` +
          `and nothing in it was executed${options.allowedHint ? `; ${options.allowedHint}` : ''}`,
      });
    }
    return new PyGlobal(module, name, impl);
  };
  const call = (fn: unknown, args: unknown): unknown => {
    if (!(fn instanceof PyGlobal)) fail(`cannot call a ${pyTypeName(fn)} (only allowlisted globals are callable)`);
    const g = fn as PyGlobal;
    if (!(args instanceof PyTuple)) fail(`the arguments of '${g.qualname}' must be a tuple, got ${pyTypeName(args)}`);
    if (!g.impl.call) fail(`'${g.qualname}' is allowed as a value, not as something to call`);
    return g.impl.call!((args as PyTuple).items, `pickle ${at()}: ${g.qualname}`);
  };
  const setItem = (d: unknown, k: unknown, v: unknown) => {
    if (!(d instanceof PyDict)) fail(`cannot set an item on a ${pyTypeName(d)}`);
    if (!isKey(k)) fail(`a dict key of type ${pyTypeName(k)} is not supported (expected str, int, float, bool or None)`);
    (d as PyDict).map.set(k as PyKey, v);
  };
  const append = (l: unknown, items: unknown[]) => {
    if (!Array.isArray(l)) fail(`cannot append to a ${pyTypeName(l)}`);
    for (const x of items) (l as unknown[]).push(x);
  };
  const memoGet = (i: number): unknown => {
    if (!memo.has(i)) fail(`memo entry ${i} was never stored`);
    return memo.get(i);
  };
  const memoPut = (i: number) => memo.set(i, top());

  for (;;) {
    if (pos >= bytes.length) {
      opPos = pos;
      op = 0;
      throw new CheckpointError({ code: 'pickle', file: source, detail: `pickle: the data ends at byte ${pos} before the STOP opcode (truncated file)` });
    }
    opPos = pos;
    op = bytes[pos++]!;
    switch (op) {
      case 0x80: { // PROTO
        const v = u8();
        if (v > 5) fail(`protocol ${v} is newer than 5`);
        break;
      }
      case 0x95: // FRAME: an 8-byte length; frames are only a read-ahead hint
        take(8);
        break;
      case 0x2e: { // STOP
        const value = pop();
        return { value, end: pos };
      }
      case 0x28: // MARK
        marks.push(stack.length);
        break;
      case 0x30: // POP
        if (marks.length > 0 && marks[marks.length - 1] === stack.length) marks.pop();
        else pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4a: // BININT
        stack.push(i32());
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x8a: // LONG1
        stack.push(decodeLong(take(u8())));
        break;
      case 0x8b: { // LONG4
        const n = i32();
        if (n < 0) fail(`negative length ${n}`);
        if (n > MAX_INT_BYTES) fail(`an integer of ${n} bytes is longer than the ${MAX_INT_BYTES} bytes accepted`);
        stack.push(decodeLong(take(n)));
        break;
      }
      case 0x49: { // INT (text): also the protocol-0 booleans I01 / I00
        const s = line();
        if (s === '01') stack.push(true);
        else if (s === '00') stack.push(false);
        else if (/^[+-]?\d+$/.test(s)) {
          const v = BigInt(s);
          stack.push(v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
        } else fail(`invalid integer literal ${JSON.stringify(s)}`);
        break;
      }
      case 0x4c: { // LONG (text)
        const s = line().replace(/L$/, '');
        if (!/^[+-]?\d+$/.test(s)) fail(`invalid integer literal ${JSON.stringify(s)}`);
        const v = BigInt(s);
        stack.push(v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
        break;
      }
      case 0x47: // BINFLOAT (big-endian double)
        take(8);
        stack.push(dv.getFloat64(pos - 8, false));
        break;
      case 0x46: { // FLOAT (text)
        const s = line();
        const v = Number(s);
        if (s.trim() === '' || (Number.isNaN(v) && !/^[+-]?nan$/i.test(s))) fail(`invalid float literal ${JSON.stringify(s)}`);
        stack.push(v);
        break;
      }
      case 0x58: // BINUNICODE
        stack.push(str(take(u32())));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(str(take(u8())));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(str(take(u64())));
        break;
      case 0x42: // BINBYTES
        stack.push(take(u32()).slice());
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(take(u8()).slice());
        break;
      case 0x8e: // BINBYTES8
      case 0x96: // BYTEARRAY8
        stack.push(take(u64()).slice());
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push(new PyTuple([]));
        break;
      case 0x85: // TUPLE1
        stack.push(new PyTuple([pop()]));
        break;
      case 0x86: { // TUPLE2
        const b = pop();
        const a = pop();
        stack.push(new PyTuple([a, b]));
        break;
      }
      case 0x87: { // TUPLE3
        const c = pop();
        const b = pop();
        const a = pop();
        stack.push(new PyTuple([a, b, c]));
        break;
      }
      case 0x74: // TUPLE
        stack.push(new PyTuple(popMark()));
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x6c: // LIST
        stack.push(popMark());
        break;
      case 0x61: { // APPEND
        const v = pop();
        append(top(), [v]);
        break;
      }
      case 0x65: { // APPENDS
        const items = popMark();
        append(top(), items);
        break;
      }
      case 0x7d: // EMPTY_DICT
        stack.push(new PyDict());
        break;
      case 0x64: { // DICT
        const items = popMark();
        if (items.length % 2 !== 0) fail('odd number of items for a dict');
        const d = new PyDict();
        for (let i = 0; i < items.length; i += 2) setItem(d, items[i], items[i + 1]);
        stack.push(d);
        break;
      }
      case 0x73: { // SETITEM
        const v = pop();
        const k = pop();
        setItem(top(), k, v);
        break;
      }
      case 0x75: { // SETITEMS
        const items = popMark();
        if (items.length % 2 !== 0) fail('odd number of items for SETITEMS');
        const d = top();
        for (let i = 0; i < items.length; i += 2) setItem(d, items[i], items[i + 1]);
        break;
      }
      case 0x71: // BINPUT
        memoPut(u8());
        break;
      case 0x72: // LONG_BINPUT
        memoPut(u32());
        break;
      case 0x70: { // PUT (text)
        const s = line();
        if (!/^\d+$/.test(s)) fail(`invalid memo index ${JSON.stringify(s)}`);
        memoPut(Number(s));
        break;
      }
      case 0x94: // MEMOIZE
        memoPut(memo.size);
        break;
      case 0x68: // BINGET
        stack.push(memoGet(u8()));
        break;
      case 0x6a: // LONG_BINGET
        stack.push(memoGet(u32()));
        break;
      case 0x67: { // GET (text)
        const s = line();
        if (!/^\d+$/.test(s)) fail(`invalid memo index ${JSON.stringify(s)}`);
        stack.push(memoGet(Number(s)));
        break;
      }
      case 0x63: { // GLOBAL "module\nname\n": checked before anything else is read
        const module = line();
        const name = line();
        stack.push(global(module, name));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail(`module and name must be strings, got ${pyTypeName(module)} and ${pyTypeName(name)}`);
        stack.push(global(module as string, name as string));
        break;
      }
      case 0x69: { // INST "module\nname\n": class from the text, arguments since the MARK
        const module = line();
        const name = line();
        const g = global(module, name);
        stack.push(call(g, new PyTuple(popMark())));
        break;
      }
      case 0x6f: { // OBJ: MARK cls args... OBJ
        const items = popMark();
        if (items.length === 0) fail('OBJ without a class');
        stack.push(call(items[0], new PyTuple(items.slice(1))));
        break;
      }
      case 0x52: { // REDUCE
        const args = pop();
        const fn = pop();
        stack.push(call(fn, args));
        break;
      }
      case 0x81: { // NEWOBJ: cls.__new__(cls, *args)
        const args = pop();
        const cls = pop();
        stack.push(call(cls, args));
        break;
      }
      case 0x92: { // NEWOBJ_EX: cls, args, kwargs
        const kwargs = pop();
        const args = pop();
        const cls = pop();
        if (!(kwargs instanceof PyDict) || kwargs.map.size > 0) fail('keyword arguments are not supported');
        stack.push(call(cls, args));
        break;
      }
      case 0x62: { // BUILD: inst.__setstate__(state) or inst.__dict__.update(state)
        const state = pop();
        const inst = top();
        if (!(inst instanceof PyDict)) fail(`BUILD (setting the state of an object) is only supported on dicts, got a ${pyTypeName(inst)}`);
        const d = inst as PyDict;
        const parts = state instanceof PyTuple ? state.items : [state];
        for (const part of parts) {
          if (part === null) continue;
          if (!(part instanceof PyDict)) fail(`the state given to BUILD must be a dict, got ${pyTypeName(part)}`);
          for (const [k, v] of (part as PyDict).map) {
            if (typeof k !== 'string') fail(`attribute names must be strings, got ${pyTypeName(k)}`);
            (d.attrs ??= new Map()).set(k as string, v);
          }
        }
        break;
      }
      case 0x51: { // BINPERSID
        const pid = pop();
        if (!options.persistentLoad) fail('persistent ids are not expected here');
        stack.push(options.persistentLoad!(pid, `pickle ${at()}`));
        break;
      }
      case 0x50: { // PERSID (text)
        const pid = line();
        if (!options.persistentLoad) fail('persistent ids are not expected here');
        stack.push(options.persistentLoad!(pid, `pickle ${at()}`));
        break;
      }
      default:
        fail(`${OPCODE_NAMES[op] ? 'this opcode is not supported by the restricted reader' : 'unknown opcode'}`);
    }
  }
}
