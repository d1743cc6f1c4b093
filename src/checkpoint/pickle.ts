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
/** Longest protocol-0 text argument (a line), in bytes. */
const MAX_LINE_BYTES = 1024;
const NEWLINE = 0x0a;
/** Newest pickle protocol understood. */
const MAX_PROTOCOL = 5;
const utf8 = new TextDecoder('utf-8', { fatal: true });
const latin1 = new TextDecoder('latin1');
const DECIMAL_INT = /^[+-]?\d+$/;
const MEMO_INDEX = /^\d+$/;

function isKey(v: unknown): v is PyKey {
  return v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean';
}

/** A Python int as a number when it is exactly representable, else as a bigint. */
function narrowInt(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** Python-style int from little-endian two's-complement bytes (LONG1 / LONG4). */
function decodeLong(b: Uint8Array): number | bigint {
  if (b.length === 0) return 0;
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
  if (b[b.length - 1]! & 0x80) v -= 1n << BigInt(8 * b.length);
  return narrowInt(v);
}

/**
 * The state of one unpickling: the input cursor, the stack with its MARKs and the memo, plus the
 * checked reads and stack operations that the opcode handlers are built from. Every read is
 * bounds-checked and every failure names the opcode and its offset.
 */
class PickleReader {
  private readonly stack: unknown[] = [];
  private readonly marks: number[] = [];
  private readonly memo = new Map<number, unknown>();
  private readonly dv: DataView;
  pos: number;
  /** Offset and value of the opcode being run, for messages. */
  private opPos: number;
  private op = 0;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly options: UnpickleOptions,
    start: number,
  ) {
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = start;
    this.opPos = start;
  }

  /** Runs opcodes until STOP; returns the value STOP pops and the offset just after it. */
  run(): { value: unknown; end: number } {
    for (;;) {
      const op = this.nextOpcode();
      if (op === STOP) return { value: this.pop(), end: this.pos };
      const handler = DISPATCH[op];
      if (!handler) this.fail(`${OPCODE_NAMES[op] ? 'this opcode is not supported by the restricted reader' : 'unknown opcode'}`);
      handler!(this);
    }
  }

  private nextOpcode(): number {
    if (this.pos >= this.bytes.length) {
      this.opPos = this.pos;
      this.op = 0;
      throw new CheckpointError({
        code: 'pickle',
        file: this.options.source,
        detail: `pickle: the data ends at byte ${this.pos} before the STOP opcode (truncated file)`,
      });
    }
    this.opPos = this.pos;
    this.op = this.bytes[this.pos++]!;
    return this.op;
  }

  /** `byte 12 (opcode 0x52 REDUCE)`: where the opcode being run starts. */
  at(): string {
    return `byte ${this.opPos} (opcode ${describeOpcode(this.op)})`;
  }

  fail(detail: string): never {
    throw new CheckpointError({ code: 'pickle', file: this.options.source, detail: `pickle: ${detail} at ${this.at()}` });
  }

  // ---- reads -------------------------------------------------------------------------------

  take(n: number): Uint8Array {
    const { bytes, pos } = this;
    if (!Number.isSafeInteger(n) || n < 0 || pos + n > bytes.length) {
      this.fail(`needs ${n} more bytes but only ${bytes.length - pos} are left (truncated or corrupt pickle)`);
    }
    this.pos += n;
    return bytes.subarray(pos, pos + n);
  }

  u8(): number {
    return this.take(1)[0]!;
  }

  u16(): number {
    this.take(2);
    return this.dv.getUint16(this.pos - 2, true);
  }

  u32(): number {
    this.take(4);
    return this.dv.getUint32(this.pos - 4, true);
  }

  i32(): number {
    this.take(4);
    return this.dv.getInt32(this.pos - 4, true);
  }

  /** An 8-byte length, refused when it exceeds the whole input (so it fits a number). */
  u64(): number {
    this.take(8);
    const v = this.dv.getBigUint64(this.pos - 8, true);
    if (v > BigInt(this.bytes.length)) this.fail(`length ${v} is beyond the end of the data`);
    return Number(v);
  }

  /** A big-endian double (BINFLOAT). */
  f64be(): number {
    this.take(8);
    return this.dv.getFloat64(this.pos - 8, false);
  }

  /** A text line (protocol 0 arguments), without its newline; at most MAX_LINE_BYTES bytes. */
  line(): string {
    const { bytes, pos } = this;
    const end = bytes.subarray(pos, pos + MAX_LINE_BYTES + 1).indexOf(NEWLINE) + pos;
    if (end < pos) {
      this.fail(bytes.indexOf(NEWLINE, pos) < 0 ? 'a text argument has no terminating newline' : `a text argument is longer than ${MAX_LINE_BYTES} bytes`);
    }
    this.pos = end + 1;
    return latin1.decode(bytes.subarray(pos, end));
  }

  /** A decimal integer line (INT, LONG without its L). */
  intLiteral(s: string): number | bigint {
    if (!DECIMAL_INT.test(s)) this.fail(`invalid integer literal ${JSON.stringify(s)}`);
    return narrowInt(BigInt(s));
  }

  /** A memo index line (PUT, GET). */
  memoIndexLine(): number {
    const s = this.line();
    if (!MEMO_INDEX.test(s)) this.fail(`invalid memo index ${JSON.stringify(s)}`);
    return Number(s);
  }

  text(b: Uint8Array): string {
    try {
      return utf8.decode(b);
    } catch {
      return this.fail('a string is not valid UTF-8');
    }
  }

  // ---- the stack, MARKs and the memo ---------------------------------------------------------

  push(v: unknown): void {
    this.stack.push(v);
  }

  /** Fails unless a value sits above the current MARK. */
  private requireValue(): void {
    const { marks, stack } = this;
    const floor = marks.length > 0 ? marks[marks.length - 1]! : 0;
    if (stack.length <= floor) this.fail('stack underflow (corrupt pickle)');
  }

  pop(): unknown {
    this.requireValue();
    return this.stack.pop();
  }

  top(): unknown {
    this.requireValue();
    return this.stack[this.stack.length - 1];
  }

  /** Pops `n` values, returned in the order they were pushed. */
  popN(n: number): unknown[] {
    const items = new Array<unknown>(n);
    for (let i = n - 1; i >= 0; i--) items[i] = this.pop();
    return items;
  }

  mark(): void {
    this.marks.push(this.stack.length);
  }

  /** POP: drops a MARK that sits on top of the stack, else the top value. */
  popTop(): void {
    const { marks, stack } = this;
    if (marks.length > 0 && marks[marks.length - 1] === stack.length) marks.pop();
    else this.pop();
  }

  popMark(): unknown[] {
    if (this.marks.length === 0) this.fail('no MARK to pop to (corrupt pickle)');
    return this.stack.splice(this.marks.pop()!);
  }

  memoGet(i: number): unknown {
    if (!this.memo.has(i)) this.fail(`memo entry ${i} was never stored`);
    return this.memo.get(i);
  }

  memoPut(i: number): void {
    this.memo.set(i, this.top());
  }

  memoSize(): number {
    return this.memo.size;
  }

  // ---- containers ----------------------------------------------------------------------------

  /** Key/value pairs popped to a MARK (DICT, SETITEMS); `what` names the opcode's target. */
  pairsToMark(what: string): unknown[] {
    const items = this.popMark();
    if (items.length % 2 !== 0) this.fail(`odd number of items for ${what}`);
    return items;
  }

  setItems(d: unknown, items: unknown[]): void {
    for (let i = 0; i < items.length; i += 2) this.setItem(d, items[i], items[i + 1]);
  }

  setItem(d: unknown, k: unknown, v: unknown): void {
    if (!(d instanceof PyDict)) this.fail(`cannot set an item on a ${pyTypeName(d)}`);
    if (!isKey(k)) this.fail(`a dict key of type ${pyTypeName(k)} is not supported (expected str, int, float, bool or None)`);
    (d as PyDict).map.set(k as PyKey, v);
  }

  append(l: unknown, items: unknown[]): void {
    if (!Array.isArray(l)) this.fail(`cannot append to a ${pyTypeName(l)}`);
    for (const x of items) (l as unknown[]).push(x);
  }

  /** BUILD on a dict: the state's entries become its attributes (OrderedDict's `_metadata`). */
  build(inst: unknown, state: unknown): void {
    if (!(inst instanceof PyDict)) this.fail(`BUILD (setting the state of an object) is only supported on dicts, got a ${pyTypeName(inst)}`);
    const d = inst as PyDict;
    const parts = state instanceof PyTuple ? state.items : [state];
    for (const part of parts) {
      if (part === null) continue;
      if (!(part instanceof PyDict)) this.fail(`the state given to BUILD must be a dict, got ${pyTypeName(part)}`);
      for (const [k, v] of (part as PyDict).map) {
        if (typeof k !== 'string') this.fail(`attribute names must be strings, got ${pyTypeName(k)}`);
        (d.attrs ??= new Map()).set(k as string, v);
      }
    }
  }

  // ---- the allowlist: the only way to a global or a call --------------------------------------

  /** The allowlisted global `module.name`; anything else is refused here, before another byte is read. */
  global(module: string, name: string): PyGlobal {
    const { options } = this;
    const impl = options.findGlobal(module, name);
    if (impl === undefined) {
      throw new CheckpointError({
        code: 'forbidden-global',
        file: options.source,
        detail:
          `refused to load the global '${module}.${name}' (pickle ${this.at()}): it is not on the allowlist, so the file was not loaded ` +
          `and nothing in it was executed${options.allowedHint ? `; ${options.allowedHint}` : ''}`,
      });
    }
    return new PyGlobal(module, name, impl);
  }

  /** A global named by two text lines (GLOBAL, INST). */
  globalFromLines(): PyGlobal {
    const module = this.line();
    const name = this.line();
    return this.global(module, name);
  }

  call(fn: unknown, args: unknown): unknown {
    if (!(fn instanceof PyGlobal)) this.fail(`cannot call a ${pyTypeName(fn)} (only allowlisted globals are callable)`);
    const g = fn as PyGlobal;
    if (!(args instanceof PyTuple)) this.fail(`the arguments of '${g.qualname}' must be a tuple, got ${pyTypeName(args)}`);
    if (!g.impl.call) this.fail(`'${g.qualname}' is allowed as a value, not as something to call`);
    return g.impl.call!((args as PyTuple).items, `pickle ${this.at()}: ${g.qualname}`);
  }

  persistent(pid: unknown): unknown {
    const { persistentLoad } = this.options;
    if (!persistentLoad) this.fail('persistent ids are not expected here');
    return persistentLoad!(pid, `pickle ${this.at()}`);
  }
}

type Handler = (r: PickleReader) => void;

const STOP = 0x2e;

/** A handler pushing what `read` reads (the fixed-form scalar and string opcodes). */
const pushRead =
  (read: (r: PickleReader) => unknown): Handler =>
  (r) =>
    r.push(read(r));

/** TUPLE1 / TUPLE2 / TUPLE3. */
const tupleOf =
  (n: number): Handler =>
  (r) =>
    r.push(new PyTuple(r.popN(n)));

/** REDUCE and NEWOBJ: `callable args` on the stack (NEWOBJ's cls.__new__(cls, *args) is the same call here). */
const callTop: Handler = (r) => {
  const [fn, args] = r.popN(2);
  r.push(r.call(fn, args));
};

/** The handlers of every supported opcode but STOP, by pickletools' name. */
const HANDLERS: Readonly<Record<string, Handler>> = {
  PROTO: (r) => {
    const v = r.u8();
    if (v > MAX_PROTOCOL) r.fail(`protocol ${v} is newer than ${MAX_PROTOCOL}`);
  },
  FRAME: (r) => void r.take(8), // an 8-byte length; frames are only a read-ahead hint
  MARK: (r) => r.mark(),
  POP: (r) => r.popTop(),
  POP_MARK: (r) => void r.popMark(),
  DUP: (r) => r.push(r.top()),

  NONE: (r) => r.push(null),
  NEWTRUE: (r) => r.push(true),
  NEWFALSE: (r) => r.push(false),
  BININT: pushRead((r) => r.i32()),
  BININT1: pushRead((r) => r.u8()),
  BININT2: pushRead((r) => r.u16()),
  LONG1: pushRead((r) => decodeLong(r.take(r.u8()))),
  LONG4: (r) => {
    const n = r.i32();
    if (n < 0) r.fail(`negative length ${n}`);
    if (n > MAX_INT_BYTES) r.fail(`an integer of ${n} bytes is longer than the ${MAX_INT_BYTES} bytes accepted`);
    r.push(decodeLong(r.take(n)));
  },
  INT: (r) => {
    // also the protocol-0 booleans I01 / I00
    const s = r.line();
    r.push(s === '01' ? true : s === '00' ? false : r.intLiteral(s));
  },
  LONG: (r) => r.push(r.intLiteral(r.line().replace(/L$/, ''))),
  BINFLOAT: pushRead((r) => r.f64be()),
  FLOAT: (r) => {
    const s = r.line();
    const v = Number(s);
    if (s.trim() === '' || (Number.isNaN(v) && !/^[+-]?nan$/i.test(s))) r.fail(`invalid float literal ${JSON.stringify(s)}`);
    r.push(v);
  },

  BINUNICODE: pushRead((r) => r.text(r.take(r.u32()))),
  SHORT_BINUNICODE: pushRead((r) => r.text(r.take(r.u8()))),
  BINUNICODE8: pushRead((r) => r.text(r.take(r.u64()))),
  BINBYTES: pushRead((r) => r.take(r.u32()).slice()),
  SHORT_BINBYTES: pushRead((r) => r.take(r.u8()).slice()),
  BINBYTES8: pushRead((r) => r.take(r.u64()).slice()),
  BYTEARRAY8: pushRead((r) => r.take(r.u64()).slice()),

  EMPTY_TUPLE: (r) => r.push(new PyTuple([])),
  TUPLE1: tupleOf(1),
  TUPLE2: tupleOf(2),
  TUPLE3: tupleOf(3),
  TUPLE: (r) => r.push(new PyTuple(r.popMark())),
  EMPTY_LIST: (r) => r.push([]),
  LIST: (r) => r.push(r.popMark()),
  APPEND: (r) => {
    const v = r.pop();
    r.append(r.top(), [v]);
  },
  APPENDS: (r) => {
    const items = r.popMark();
    r.append(r.top(), items);
  },
  EMPTY_DICT: (r) => r.push(new PyDict()),
  DICT: (r) => {
    const items = r.pairsToMark('a dict');
    const d = new PyDict();
    r.setItems(d, items);
    r.push(d);
  },
  SETITEM: (r) => {
    const [k, v] = r.popN(2);
    r.setItem(r.top(), k, v);
  },
  SETITEMS: (r) => {
    const items = r.pairsToMark('SETITEMS');
    r.setItems(r.top(), items);
  },

  BINPUT: (r) => r.memoPut(r.u8()),
  LONG_BINPUT: (r) => r.memoPut(r.u32()),
  PUT: (r) => r.memoPut(r.memoIndexLine()),
  MEMOIZE: (r) => r.memoPut(r.memoSize()),
  BINGET: pushRead((r) => r.memoGet(r.u8())),
  LONG_BINGET: pushRead((r) => r.memoGet(r.u32())),
  GET: pushRead((r) => r.memoGet(r.memoIndexLine())),

  GLOBAL: pushRead((r) => r.globalFromLines()), // "module\nname\n": checked before anything else is read
  STACK_GLOBAL: (r) => {
    const [module, name] = r.popN(2);
    if (typeof module !== 'string' || typeof name !== 'string') r.fail(`module and name must be strings, got ${pyTypeName(module)} and ${pyTypeName(name)}`);
    r.push(r.global(module as string, name as string));
  },
  INST: (r) => {
    // "module\nname\n": class from the text, arguments since the MARK
    const g = r.globalFromLines();
    r.push(r.call(g, new PyTuple(r.popMark())));
  },
  OBJ: (r) => {
    // MARK cls args... OBJ
    const items = r.popMark();
    if (items.length === 0) r.fail('OBJ without a class');
    r.push(r.call(items[0], new PyTuple(items.slice(1))));
  },
  REDUCE: callTop,
  NEWOBJ: callTop,
  NEWOBJ_EX: (r) => {
    const [cls, args, kwargs] = r.popN(3);
    if (!(kwargs instanceof PyDict) || kwargs.map.size > 0) r.fail('keyword arguments are not supported');
    r.push(r.call(cls, args));
  },
  BUILD: (r) => {
    // inst.__setstate__(state) or inst.__dict__.update(state)
    const state = r.pop();
    r.build(r.top(), state);
  },
  BINPERSID: (r) => r.push(r.persistent(r.pop())),
  PERSID: (r) => r.push(r.persistent(r.line())),
};

/** HANDLERS indexed by opcode byte. */
const DISPATCH: readonly (Handler | undefined)[] = (() => {
  const table = new Array<Handler | undefined>(256).fill(undefined);
  for (const [op, name] of Object.entries(OPCODE_NAMES)) {
    if (Object.hasOwn(HANDLERS, name)) table[Number(op)] = HANDLERS[name];
  }
  return table;
})();

/**
 * Unpickle one pickle starting at `start`; returns the value and the offset just after its STOP
 * (PyTorch's legacy format stores several pickles back to back).
 */
export function unpickle(bytes: Uint8Array, options: UnpickleOptions, start = 0): { value: unknown; end: number } {
  return new PickleReader(bytes, options, start).run();
}
