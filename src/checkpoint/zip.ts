/**
 * A small, strict ZIP reader for the archives `torch.save` writes (PyTorch >= 1.6, the default
 * "zipfile" serialization): entries are STORED (PyTorch's writer never compresses) or, if a file
 * was re-zipped by another tool, DEFLATEd (node:zlib inflateRawSync, bounded by the declared size).
 *
 * What is read (APPNOTE.TXT 6.3): the end-of-central-directory record (EOCD, searched backwards
 * over the last 64 KiB + 22 bytes), the ZIP64 EOCD locator + record when present (PyTorch always
 * writes them, even for tiny files), every central-directory header (with its ZIP64 extra field
 * for sizes / offsets of 0xFFFFFFFF), and each entry's local header (only to find where the data
 * starts: PyTorch pads data to 64 bytes through the local extra field). Sizes and the CRC-32 come
 * from the central directory (PyTorch sets the "data descriptor" flag and leaves the local ones 0).
 *
 * Checked, each a CheckpointError 'archive' naming the file (and the entry): every offset and
 * length lies inside the file, the entry count and central-directory size agree with the EOCD,
 * no split / multi-disk archives, no encryption, only methods 0 (stored) and 8 (deflate), stored
 * entries have equal compressed and uncompressed sizes, the local header's name equals the
 * central one, names are unique, and the CRC-32 of the bytes read matches (checked on first read).
 * Nothing beyond the bytes is interpreted.
 */
import { crc32, inflateRawSync } from 'node:zlib';
import { CheckpointError } from './errors.js';

const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;
/** Fixed sizes of the records (before their variable-length names, extras and comments). */
const EOCD_SIZE = 22;
const ZIP64_LOCATOR_SIZE = 20;
const ZIP64_EOCD_SIZE = 56;
const CENTRAL_HEADER_SIZE = 46;
const LOCAL_HEADER_SIZE = 30;
const EXTRA_HEADER_SIZE = 4;
const MAX_COMMENT = 0xffff;
/** "The real value is in the ZIP64 record / extra field" escapes of 16- and 32-bit fields. */
const ESCAPE16 = 0xffff;
const ESCAPE32 = 0xffffffff;
const EXTRA_ID_ZIP64 = 0x0001;
/** General-purpose flags: bit 11 = UTF-8 name; bits 0 and 6 = (strong) encryption. */
const FLAG_UTF8 = 0x800;
const FLAGS_ENCRYPTED = 0x41;
const METHOD_STORED = 0;
const METHOD_DEFLATE = 8;
/** Largest entry (uncompressed) accepted: 2 GiB - 1, what one Node buffer read holds. */
export const MAX_ZIP_ENTRY_SIZE = 0x7fffffff;

export interface ZipEntry {
  name: string;
  /** 0 = stored, 8 = deflate. */
  method: 0 | 8;
  crc32: number;
  compressedSize: number;
  size: number;
  /** Absolute file offset of the local file header. */
  localHeaderOffset: number;
}

export interface ZipArchive {
  source: string;
  /** Entries in central-directory order. */
  entries: ZipEntry[];
  has(name: string): boolean;
  /**
   * The entry's bytes (stored entries: a view into the archive's bytes, do not modify; deflated:
   * a fresh buffer). CRC-checked. Throws CheckpointError 'archive' for an unknown name.
   */
  read(name: string): Uint8Array;
}

/** Does `bytes` start like a ZIP archive (a local header, or the EOCD of an empty archive)? */
export function looksLikeZip(bytes: Uint8Array): boolean {
  if (bytes.length < 4) return false;
  const sig = (bytes[0]! | (bytes[1]! << 8) | (bytes[2]! << 16) | (bytes[3]! << 24)) >>> 0;
  return sig === SIG_LOCAL || sig === SIG_EOCD;
}

const MULTI_DISK = 'split / multi-disk ZIP archives are not supported';
const MULTI_DISK_ZIP64 = 'split / multi-disk ZIP64 archives are not supported';
const utf8 = new TextDecoder('utf-8', { fatal: true });
const latin1 = new TextDecoder('latin1');

/** Bounds-checked little-endian reads of one archive; every failure is CheckpointError 'archive'. */
class ZipBytes {
  private readonly dv: DataView;
  readonly n: number;

  constructor(
    readonly bytes: Uint8Array,
    readonly source: string,
  ) {
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.n = bytes.length;
  }

  fail(detail: string, entry?: string): never {
    throw new CheckpointError({ code: 'archive', file: this.source, field: entry === undefined ? undefined : `zip entry '${entry}'`, detail });
  }

  u16(o: number): number {
    return this.dv.getUint16(o, true);
  }

  u32(o: number): number {
    return this.dv.getUint32(o, true);
  }

  u64(o: number, what: string): number {
    const v = this.dv.getBigUint64(o, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`${what} ${v} is too large`);
    return Number(v);
  }

  need(o: number, len: number, what: string): void {
    if (!(o >= 0 && len >= 0 && o + len <= this.n)) {
      this.fail(`${what} (bytes [${o}, ${o + len})) lies outside the ${this.n}-byte file (truncated or corrupt archive)`);
    }
  }
}

/** Where the central directory is and how many entries it holds. */
interface Directory {
  count: number;
  cdOffset: number;
  cdSize: number;
}

/** The end-of-central-directory record: the last signature whose comment length reaches exactly EOF. */
function findEocd(z: ZipBytes): number {
  const { n } = z;
  if (n < EOCD_SIZE) z.fail(`file is ${n} bytes, too short for a ZIP archive (truncated?)`);
  for (let o = n - EOCD_SIZE; o >= Math.max(0, n - EOCD_SIZE - MAX_COMMENT); o--) {
    if (z.u32(o) === SIG_EOCD && o + EOCD_SIZE + z.u16(o + 20) === n) return o;
  }
  return z.fail('no ZIP end-of-central-directory record at the end of the file (truncated, or not a ZIP archive)');
}

/** The directory's place and size from the EOCD, or from the ZIP64 record its locator names. */
function readDirectory(z: ZipBytes, eocd: number): Directory {
  const disk = z.u16(eocd + 4);
  const cdDisk = z.u16(eocd + 6);
  const classic = { entriesOnDisk: z.u16(eocd + 8), count: z.u16(eocd + 10), cdSize: z.u32(eocd + 12), cdOffset: z.u32(eocd + 16) };
  const loc = eocd - ZIP64_LOCATOR_SIZE; // the ZIP64 locator sits right before the EOCD
  let dir: Directory & { entriesOnDisk: number };
  if (loc >= 0 && z.u32(loc) === SIG_ZIP64_LOCATOR) {
    dir = readZip64Directory(z, loc, classic);
    if ((disk !== 0 && disk !== ESCAPE16) || (cdDisk !== 0 && cdDisk !== ESCAPE16)) z.fail(MULTI_DISK);
  } else {
    if (classic.count === ESCAPE16 || classic.cdSize === ESCAPE32 || classic.cdOffset === ESCAPE32) {
      z.fail('the end-of-central-directory record uses ZIP64 escape values but there is no ZIP64 locator');
    }
    if (disk !== 0 || cdDisk !== 0) z.fail(MULTI_DISK);
    dir = classic;
  }
  if (dir.entriesOnDisk !== dir.count) z.fail(MULTI_DISK);
  z.need(dir.cdOffset, dir.cdSize, 'the central directory');
  if (dir.cdOffset + dir.cdSize > eocd) z.fail('the central directory overlaps the end-of-central-directory record');
  return dir;
}

/** The ZIP64 EOCD record the locator at `loc` points to; it must agree with the classic one's real values. */
function readZip64Directory(z: ZipBytes, loc: number, classic: Directory): Directory & { entriesOnDisk: number } {
  if (z.u32(loc + 4) !== 0 || z.u32(loc + 16) > 1) z.fail(MULTI_DISK_ZIP64);
  const r = z.u64(loc + 8, 'ZIP64 end-of-central-directory offset');
  z.need(r, ZIP64_EOCD_SIZE, 'the ZIP64 end-of-central-directory record');
  if (z.u32(r) !== SIG_ZIP64_EOCD) z.fail(`the ZIP64 locator points to byte ${r}, which holds no ZIP64 end-of-central-directory record`);
  if (z.u32(r + 16) !== 0 || z.u32(r + 20) !== 0) z.fail(MULTI_DISK_ZIP64);
  const entriesOnDisk = z.u64(r + 24, 'ZIP64 entry count');
  const count = z.u64(r + 32, 'ZIP64 entry count');
  const cdSize = z.u64(r + 40, 'ZIP64 central-directory size');
  const cdOffset = z.u64(r + 48, 'ZIP64 central-directory offset');
  // Where the classic record holds a real value (not the 0xFFFF.. escape), it must agree.
  if (
    (classic.count !== ESCAPE16 && classic.count !== count) ||
    (classic.cdSize !== ESCAPE32 && classic.cdSize !== cdSize) ||
    (classic.cdOffset !== ESCAPE32 && classic.cdOffset !== cdOffset)
  ) {
    z.fail(
      `the ZIP64 end-of-central-directory record (${count} entries, directory ${cdSize} bytes at ${cdOffset}) disagrees with the classic one (${classic.count} entries, ${classic.cdSize} bytes at ${classic.cdOffset})`,
    );
  }
  return { count, entriesOnDisk, cdSize, cdOffset };
}

/** The fields of a central-directory header that a ZIP64 extra field may replace. */
interface WideFields {
  usize: number;
  csize: number;
  lho: number;
  diskStart: number;
}

/** One central-directory header at `p`, checked; `end` is the offset just after it. */
interface CentralRecord {
  entry: ZipEntry;
  rawName: Uint8Array;
  end: number;
}

function readCentralRecord(z: ZipBytes, p: number, i: number, cdEnd: number): CentralRecord {
  if (z.u32(p) !== SIG_CENTRAL) z.fail(`central-directory entry ${i} at byte ${p} has a bad signature`);
  const flags = z.u16(p + 8);
  const method = z.u16(p + 10);
  const nameLen = z.u16(p + 28);
  const extraLen = z.u16(p + 30);
  const end = p + CENTRAL_HEADER_SIZE + nameLen + extraLen + z.u16(p + 32);
  if (end > cdEnd) z.fail(`central-directory entry ${i} runs past the end of the directory`);
  const nameStart = p + CENTRAL_HEADER_SIZE;
  const rawName = z.bytes.subarray(nameStart, nameStart + nameLen);
  const name = decodeName(z, rawName, flags, i);
  const wide: WideFields = { csize: z.u32(p + 20), usize: z.u32(p + 24), diskStart: z.u16(p + 34), lho: z.u32(p + 42) };
  applyExtraFields(z, nameStart + nameLen, extraLen, wide, name);
  checkCentralRecord(z, name, flags, method, wide);
  const entry: ZipEntry = { name, method: method as 0 | 8, crc32: z.u32(p + 16), compressedSize: wide.csize, size: wide.usize, localHeaderOffset: wide.lho };
  return { entry, rawName, end };
}

function decodeName(z: ZipBytes, rawName: Uint8Array, flags: number, i: number): string {
  try {
    return flags & FLAG_UTF8 ? utf8.decode(rawName) : latin1.decode(rawName);
  } catch {
    return z.fail(`central-directory entry ${i}: the name is not valid UTF-8`);
  }
}

/** Walks the extra fields at [start, start + len) and applies the ZIP64 one (header id 0x0001). */
function applyExtraFields(z: ZipBytes, start: number, len: number, wide: WideFields, name: string): void {
  const extraEnd = start + len;
  for (let e = start; e + EXTRA_HEADER_SIZE <= extraEnd; ) {
    const fieldEnd = e + EXTRA_HEADER_SIZE + z.u16(e + 2);
    if (fieldEnd > extraEnd) z.fail('an extra field runs past the end of its header', name);
    if (z.u16(e) === EXTRA_ID_ZIP64) applyZip64Extra(z, e + EXTRA_HEADER_SIZE, fieldEnd, wide, name);
    e = fieldEnd;
  }
}

/** The ZIP64 extra field holds the escaped fields, in this order. */
function applyZip64Extra(z: ZipBytes, start: number, end: number, wide: WideFields, name: string): void {
  let q = start;
  const take8 = (what: string): number => {
    if (q + 8 > end) z.fail(`the ZIP64 extra field lacks the ${what}`, name);
    const v = z.u64(q, `ZIP64 ${what}`);
    q += 8;
    return v;
  };
  if (wide.usize === ESCAPE32) wide.usize = take8('uncompressed size');
  if (wide.csize === ESCAPE32) wide.csize = take8('compressed size');
  if (wide.lho === ESCAPE32) wide.lho = take8('local header offset');
  if (wide.diskStart === ESCAPE16) {
    if (q + 4 > end) z.fail('the ZIP64 extra field lacks the disk number', name);
    wide.diskStart = z.u32(q);
  }
}

function checkCentralRecord(z: ZipBytes, name: string, flags: number, method: number, wide: WideFields): void {
  const { usize, csize, lho } = wide;
  if (usize === ESCAPE32 || csize === ESCAPE32 || lho === ESCAPE32) z.fail('uses ZIP64 escape values without a ZIP64 extra field', name);
  if (wide.diskStart !== 0) z.fail(MULTI_DISK, name);
  if (flags & FLAGS_ENCRYPTED) z.fail('is encrypted; encrypted ZIP entries are not supported', name);
  if (method !== METHOD_STORED && method !== METHOD_DEFLATE) {
    z.fail(`uses compression method ${method}; only 0 (stored) and 8 (deflate) are supported`, name);
  }
  if (method === METHOD_STORED && csize !== usize) z.fail(`is stored (not compressed) but its compressed size ${csize} differs from its size ${usize}`, name);
  if (usize > MAX_ZIP_ENTRY_SIZE) z.fail(`is ${usize} bytes, more than the ${MAX_ZIP_ENTRY_SIZE}-byte limit`, name);
}

/** The parsed central directory: entries in order, by name, and the raw names (for the local-header check). */
interface CentralDirectory {
  entries: ZipEntry[];
  byName: Map<string, ZipEntry>;
  rawNames: Map<string, Uint8Array>;
}

function readCentralDirectory(z: ZipBytes, { count, cdOffset, cdSize }: Directory): CentralDirectory {
  const cd: CentralDirectory = { entries: [], byName: new Map(), rawNames: new Map() };
  const cdEnd = cdOffset + cdSize;
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    if (p + CENTRAL_HEADER_SIZE > cdEnd) z.fail(`the central directory ends after ${i} of ${count} entries (corrupt directory size or entry count)`);
    const { entry, rawName, end } = readCentralRecord(z, p, i, cdEnd);
    const { name } = entry;
    if (cd.byName.has(name)) z.fail('occurs twice in the central directory', name);
    z.need(entry.localHeaderOffset, LOCAL_HEADER_SIZE, `the local header of '${name}'`);
    cd.entries.push(entry);
    cd.byName.set(name, entry);
    cd.rawNames.set(name, rawName);
    p = end;
  }
  if (p !== cdEnd) z.fail(`the central directory holds ${cdEnd - p} bytes after its ${count} entries (corrupt directory size or entry count)`);
  return cd;
}

/** The entry's stored bytes, after checking its local header names it as the central directory does. */
function rawEntryData(z: ZipBytes, entry: ZipEntry, centralName: Uint8Array): Uint8Array {
  const { name, localHeaderOffset: o } = entry;
  if (z.u32(o) !== SIG_LOCAL) z.fail(`has no local file header at byte ${o}`, name);
  const nl = z.u16(o + 26);
  const xl = z.u16(o + 28);
  z.need(o + LOCAL_HEADER_SIZE, nl, `the local header name of '${name}'`);
  const localName = z.bytes.subarray(o + LOCAL_HEADER_SIZE, o + LOCAL_HEADER_SIZE + nl);
  const sameName = localName.length === centralName.length && localName.every((b, k) => b === centralName[k]);
  if (!sameName) z.fail(`its local header names it '${latin1.decode(localName)}' (the central directory and the local header disagree)`, name);
  const start = o + LOCAL_HEADER_SIZE + nl + xl;
  z.need(start, entry.compressedSize, `the data of '${name}'`);
  return z.bytes.subarray(start, start + entry.compressedSize);
}

/** Deflated data inflated, bounded by and checked against the declared size. */
function inflateEntry(z: ZipBytes, entry: ZipEntry, raw: Uint8Array): Uint8Array {
  let data: Uint8Array;
  try {
    const buf = inflateRawSync(raw, { maxOutputLength: Math.max(1, entry.size) });
    data = new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
  } catch (err) {
    return z.fail(`cannot be inflated (${(err as Error).message}); expected ${entry.size} bytes of deflate data`, entry.name);
  }
  if (data.length !== entry.size) z.fail(`inflates to ${data.length} bytes, but the directory says ${entry.size}`, entry.name);
  return data;
}

function checkCrc(z: ZipBytes, entry: ZipEntry, data: Uint8Array): void {
  const hex = (v: number) => `0x${v.toString(16).padStart(8, '0')}`;
  const c = crc32(data) >>> 0;
  const expected = entry.crc32 >>> 0;
  if (c !== expected) z.fail(`CRC-32 mismatch: the data has ${hex(c)}, the directory says ${hex(expected)} (corrupt file)`, entry.name);
}

/** ZipArchive.read: the entry's bytes, CRC-checked the first time (`checked` remembers which were). */
function readEntry(z: ZipBytes, cd: CentralDirectory, checked: Set<string>, name: string): Uint8Array {
  const entry = cd.byName.get(name);
  if (!entry) return z.fail('is not in the archive', name);
  const raw = rawEntryData(z, entry, cd.rawNames.get(name)!);
  const data = entry.method === METHOD_STORED ? raw : inflateEntry(z, entry, raw);
  if (!checked.has(name)) {
    checkCrc(z, entry, data);
    checked.add(name);
  }
  return data;
}

/** Parse the archive's directory (no entry data is read yet). */
export function openZip(bytes: Uint8Array, source: string): ZipArchive {
  const z = new ZipBytes(bytes, source);
  const cd = readCentralDirectory(z, readDirectory(z, findEocd(z)));
  const checked = new Set<string>();
  return {
    source,
    entries: cd.entries,
    has: (name) => cd.byName.has(name),
    read: (name) => readEntry(z, cd, checked, name),
  };
}
