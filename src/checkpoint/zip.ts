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
const EOCD_SIZE = 22;
const MAX_COMMENT = 0xffff;
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

/** Parse the archive's directory (no entry data is read yet). */
export function openZip(bytes: Uint8Array, source: string): ZipArchive {
  const fail = (detail: string, entry?: string): never => {
    throw new CheckpointError({ code: 'archive', file: source, field: entry === undefined ? undefined : `zip entry '${entry}'`, detail });
  };
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.length;
  const u16 = (o: number) => dv.getUint16(o, true);
  const u32 = (o: number) => dv.getUint32(o, true);
  const u64 = (o: number, what: string): number => {
    const v = dv.getBigUint64(o, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail(`${what} ${v} is too large`);
    return Number(v);
  };
  const need = (o: number, len: number, what: string) => {
    if (!(o >= 0 && len >= 0 && o + len <= n)) fail(`${what} (bytes [${o}, ${o + len})) lies outside the ${n}-byte file (truncated or corrupt archive)`);
  };

  // End of central directory: the last signature whose comment length reaches exactly EOF.
  if (n < EOCD_SIZE) fail(`file is ${n} bytes, too short for a ZIP archive (truncated?)`);
  let eocd = -1;
  for (let o = n - EOCD_SIZE; o >= Math.max(0, n - EOCD_SIZE - MAX_COMMENT); o--) {
    if (u32(o) === SIG_EOCD && o + EOCD_SIZE + u16(o + 20) === n) {
      eocd = o;
      break;
    }
  }
  if (eocd < 0) fail('no ZIP end-of-central-directory record at the end of the file (truncated, or not a ZIP archive)');
  const disk = u16(eocd + 4);
  const cdDisk = u16(eocd + 6);
  let entriesOnDisk = u16(eocd + 8);
  let count = u16(eocd + 10);
  let cdSize = u32(eocd + 12);
  let cdOffset = u32(eocd + 16);

  // ZIP64: the locator sits right before the EOCD.
  const loc = eocd - 20;
  if (loc >= 0 && u32(loc) === SIG_ZIP64_LOCATOR) {
    if (u32(loc + 4) !== 0 || u32(loc + 16) > 1) fail('split / multi-disk ZIP64 archives are not supported');
    const z = u64(loc + 8, 'ZIP64 end-of-central-directory offset');
    need(z, 56, 'the ZIP64 end-of-central-directory record');
    if (u32(z) !== SIG_ZIP64_EOCD) fail(`the ZIP64 locator points to byte ${z}, which holds no ZIP64 end-of-central-directory record`);
    if (u32(z + 16) !== 0 || u32(z + 20) !== 0) fail('split / multi-disk ZIP64 archives are not supported');
    const e64Disk = u64(z + 24, 'ZIP64 entry count');
    const e64 = u64(z + 32, 'ZIP64 entry count');
    const s64 = u64(z + 40, 'ZIP64 central-directory size');
    const o64 = u64(z + 48, 'ZIP64 central-directory offset');
    // Where the classic record holds a real value (not the 0xFFFF.. escape), it must agree.
    if ((count !== 0xffff && count !== e64) || (cdSize !== 0xffffffff && cdSize !== s64) || (cdOffset !== 0xffffffff && cdOffset !== o64)) {
      fail(`the ZIP64 end-of-central-directory record (${e64} entries, directory ${s64} bytes at ${o64}) disagrees with the classic one (${count} entries, ${cdSize} bytes at ${cdOffset})`);
    }
    if ((disk !== 0 && disk !== 0xffff) || (cdDisk !== 0 && cdDisk !== 0xffff)) fail('split / multi-disk ZIP archives are not supported');
    count = e64;
    entriesOnDisk = e64Disk;
    cdSize = s64;
    cdOffset = o64;
  } else {
    if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
      fail('the end-of-central-directory record uses ZIP64 escape values but there is no ZIP64 locator');
    }
    if (disk !== 0 || cdDisk !== 0) fail('split / multi-disk ZIP archives are not supported');
  }
  if (entriesOnDisk !== count) fail('split / multi-disk ZIP archives are not supported');
  need(cdOffset, cdSize, 'the central directory');
  if (cdOffset + cdSize > eocd) fail('the central directory overlaps the end-of-central-directory record');

  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const latin1 = new TextDecoder('latin1');
  const entries: ZipEntry[] = [];
  const byName = new Map<string, ZipEntry>();
  const rawNames = new Map<string, Uint8Array>();
  let p = cdOffset;
  const cdEnd = cdOffset + cdSize;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cdEnd) fail(`the central directory ends after ${i} of ${count} entries (corrupt directory size or entry count)`);
    if (u32(p) !== SIG_CENTRAL) fail(`central-directory entry ${i} at byte ${p} has a bad signature`);
    const flags = u16(p + 8);
    const method = u16(p + 10);
    const crc = u32(p + 16);
    let csize = u32(p + 20);
    let usize = u32(p + 24);
    const nameLen = u16(p + 28);
    const extraLen = u16(p + 30);
    const commentLen = u16(p + 32);
    let diskStart = u16(p + 34);
    let lho = u32(p + 42);
    const recEnd = p + 46 + nameLen + extraLen + commentLen;
    if (recEnd > cdEnd) fail(`central-directory entry ${i} runs past the end of the directory`);
    const rawName = bytes.subarray(p + 46, p + 46 + nameLen);
    let name: string;
    try {
      name = flags & 0x800 ? utf8.decode(rawName) : latin1.decode(rawName);
    } catch {
      return fail(`central-directory entry ${i}: the name is not valid UTF-8`);
    }
    // ZIP64 extended information (header id 0x0001): the escaped fields, in this order.
    let e = p + 46 + nameLen;
    const extraEnd = e + extraLen;
    while (e + 4 <= extraEnd) {
      const id = u16(e);
      const len = u16(e + 2);
      if (e + 4 + len > extraEnd) fail('an extra field runs past the end of its header', name);
      if (id === 0x0001) {
        let q = e + 4;
        const take8 = (what: string): number => {
          if (q + 8 > e + 4 + len) fail(`the ZIP64 extra field lacks the ${what}`, name);
          const v = u64(q, `ZIP64 ${what}`);
          q += 8;
          return v;
        };
        if (usize === 0xffffffff) usize = take8('uncompressed size');
        if (csize === 0xffffffff) csize = take8('compressed size');
        if (lho === 0xffffffff) lho = take8('local header offset');
        if (diskStart === 0xffff) {
          if (q + 4 > e + 4 + len) fail('the ZIP64 extra field lacks the disk number', name);
          diskStart = u32(q);
        }
      }
      e += 4 + len;
    }
    if (usize === 0xffffffff || csize === 0xffffffff || lho === 0xffffffff) fail('uses ZIP64 escape values without a ZIP64 extra field', name);
    if (diskStart !== 0) fail('split / multi-disk ZIP archives are not supported', name);
    if (flags & 0x41) fail('is encrypted; encrypted ZIP entries are not supported', name);
    if (method !== 0 && method !== 8) fail(`uses compression method ${method}; only 0 (stored) and 8 (deflate) are supported`, name);
    if (method === 0 && csize !== usize) fail(`is stored (not compressed) but its compressed size ${csize} differs from its size ${usize}`, name);
    if (usize > MAX_ZIP_ENTRY_SIZE) fail(`is ${usize} bytes, more than the ${MAX_ZIP_ENTRY_SIZE}-byte limit`, name);
    if (byName.has(name)) fail('occurs twice in the central directory', name);
    need(lho, 30, `the local header of '${name}'`);
    const entry: ZipEntry = { name, method: method as 0 | 8, crc32: crc, compressedSize: csize, size: usize, localHeaderOffset: lho };
    entries.push(entry);
    byName.set(name, entry);
    rawNames.set(name, rawName);
    p = recEnd;
  }
  if (p !== cdEnd) fail(`the central directory holds ${cdEnd - p} bytes after its ${count} entries (corrupt directory size or entry count)`);

  const checked = new Set<string>();
  return {
    source,
    entries,
    has: (name) => byName.has(name),
    read(name) {
      const entry = byName.get(name);
      if (!entry) return fail('is not in the archive', name);
      const o = entry.localHeaderOffset;
      if (u32(o) !== SIG_LOCAL) fail(`has no local file header at byte ${o}`, name);
      const nl = u16(o + 26);
      const xl = u16(o + 28);
      need(o + 30, nl, `the local header name of '${name}'`);
      const localName = bytes.subarray(o + 30, o + 30 + nl);
      const centralName = rawNames.get(name)!;
      const sameName = localName.length === centralName.length && localName.every((b, k) => b === centralName[k]);
      if (!sameName) fail(`its local header names it '${latin1.decode(localName)}' (the central directory and the local header disagree)`, name);
      const start = o + 30 + nl + xl;
      need(start, entry.compressedSize, `the data of '${name}'`);
      const raw = bytes.subarray(start, start + entry.compressedSize);
      let data: Uint8Array;
      if (entry.method === 0) {
        data = raw;
      } else {
        try {
          const buf = inflateRawSync(raw, { maxOutputLength: Math.max(1, entry.size) });
          data = new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
        } catch (err) {
          return fail(`cannot be inflated (${(err as Error).message}); expected ${entry.size} bytes of deflate data`, name);
        }
        if (data.length !== entry.size) fail(`inflates to ${data.length} bytes, but the directory says ${entry.size}`, name);
      }
      if (!checked.has(name)) {
        const c = crc32(data) >>> 0;
        if (c !== entry.crc32 >>> 0) {
          fail(`CRC-32 mismatch: the data has 0x${c.toString(16).padStart(8, '0')}, the directory says 0x${(entry.crc32 >>> 0).toString(16).padStart(8, '0')} (corrupt file)`, name);
        }
        checked.add(name);
      }
      return data;
    },
  };
}
