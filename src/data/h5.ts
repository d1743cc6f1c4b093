/**
 * Thin helpers over h5wasm (HDF5 2.0 compiled to WebAssembly). In Node, `h5wasm/node` is built with
 * Emscripten's NODERAWFS, so `new File(path)` reads and writes the real file system directly (no
 * virtual FS copy); paths are made absolute here so the process cwd never matters.
 *
 * h5wasm's heap is capped (Module.MAXIMUM_MEMORY, 2 GiB in 0.10.3) and every read/write goes
 * through it, so large datasets are read and written in row blocks (BLOCK_BYTES at a time).
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { Dataset, File as H5File, Group, Module, ready } from 'h5wasm/node';
import { DatasetError } from './errors.js';

export { Dataset, Group, H5File };

/** Bytes moved through the WASM heap per read/write call. */
export const BLOCK_BYTES = 16 * 1024 * 1024;

/** HDF5 datatype classes (H5T_class_t) as h5wasm reports them in `metadata.type`. */
export const H5T = { INTEGER: 0, FLOAT: 1, STRING: 3, COMPOUND: 6, ENUM: 8 } as const;

/** Wait for the h5wasm module (idempotent: `ready` is one promise per process/worker). */
export async function h5Ready(): Promise<void> {
  await ready;
}

/** The loaded Emscripten module (after `h5Ready`). */
export function h5Module(): typeof Module {
  return Module;
}

const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]; // "\x89HDF\r\n\x1a\n"

/**
 * Open an existing HDF5 file read-only, with clear errors for the usual failures: no such file, a
 * directory, 0 bytes, no HDF5 signature (HDF5 looks for the superblock at offset 0, 512, 1024,
 * 2048, ... to allow a user block), or HDF5 refusing to open it. Checking first also keeps HDF5's
 * diagnostic stack off stderr for these common cases.
 */
export async function openH5ForRead(path: string): Promise<{ file: string; h5: H5File }> {
  const file = resolve(path);
  let size: number;
  try {
    const st = statSync(file);
    if (!st.isFile()) {
      throw new DatasetError({ code: 'not-found', file, detail: 'is not a regular file; expected an HDF5 dataset file' });
    }
    size = st.size;
  } catch (err) {
    if (err instanceof DatasetError) throw err;
    throw new DatasetError(
      { code: 'not-found', file, detail: `no such file (${(err as NodeJS.ErrnoException).code ?? String(err)}); expected an HDF5 dataset file` },
      { cause: err },
    );
  }
  if (size === 0) {
    throw new DatasetError({ code: 'empty', file, detail: 'file is empty (0 bytes); expected an HDF5 dataset file' });
  }
  if (!hasHdf5Signature(file, size)) {
    throw new DatasetError({
      code: 'not-hdf5',
      file,
      detail: `not an HDF5 file (no HDF5 signature \\x89HDF\\r\\n\\x1a\\n at offset 0, 512, 1024, ...; ${size} bytes)`,
    });
  }
  await h5Ready();
  let h5: H5File;
  try {
    h5 = new H5File(file, 'r');
  } catch (err) {
    throw new DatasetError({ code: 'not-hdf5', file, detail: `HDF5 could not open the file: ${errorText(err)}` }, { cause: err });
  }
  if (h5.file_id < 0n) {
    throw new DatasetError({ code: 'not-hdf5', file, detail: 'HDF5 could not open the file (corrupt or truncated?)' });
  }
  return { file, h5 };
}

function hasHdf5Signature(file: string, size: number): boolean {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(8);
    for (let off = 0; off + 8 <= size; off = off === 0 ? 512 : off * 2) {
      if (readSync(fd, buf, 0, 8, off) === 8 && HDF5_SIGNATURE.every((b, i) => buf[i] === b)) return true;
    }
    return false;
  } finally {
    closeSync(fd);
  }
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * The object at `path` (slash-separated, relative to `root`), or null when any part is missing.
 * Walks `keys()` instead of asking HDF5 for a deep path, which would log an error stack when an
 * intermediate group is absent.
 */
export function getEntity(root: Group, path: string): Dataset | Group | null {
  const parts = path.split('/').filter((p) => p.length > 0);
  let cur: Group = root;
  for (let i = 0; i < parts.length; i++) {
    if (!cur.keys().includes(parts[i])) return null;
    const next = cur.get(parts[i]);
    if (i === parts.length - 1) return next instanceof Dataset || next instanceof Group ? next : null;
    if (!(next instanceof Group)) return null;
    cur = next;
  }
  return cur;
}

/** A readable name for a dataset's element type, e.g. `float32`, `uint8`, `bool (h5py enum)`. */
export function describeDtype(meta: { type: number; size: number; signed: boolean; enum_type?: { members: Record<string, number> } }): string {
  switch (meta.type) {
    case H5T.INTEGER:
      return `${meta.signed ? 'int' : 'uint'}${meta.size * 8}`;
    case H5T.FLOAT:
      return `float${meta.size * 8}`;
    case H5T.STRING:
      return 'string';
    case H5T.COMPOUND:
      return 'compound';
    case H5T.ENUM: {
      const m = meta.enum_type?.members ?? {};
      const keys = Object.keys(m);
      if (keys.length === 2 && m.FALSE === 0 && m.TRUE === 1) return `bool (h5py enum int${meta.size * 8})`;
      return `enum(${keys.join(',')})`;
    }
    default:
      return `HDF5 class ${meta.type}`;
  }
}

/** True for integer, float, and integer-based enum element types. */
export function isNumericType(meta: { type: number; enum_type?: { type: number } }): boolean {
  if (meta.type === H5T.INTEGER || meta.type === H5T.FLOAT) return true;
  return meta.type === H5T.ENUM && meta.enum_type?.type === H5T.INTEGER;
}

type NumArray = Float32Array | Float64Array | Uint8Array;

/**
 * Read the first `rows` rows of a numeric dataset (any rank; row = first axis) into `out` as
 * numbers, in blocks of about BLOCK_BYTES. Integers, floats of any width and enums are converted
 * by value. Throws a DatasetError naming the field on any failure.
 */
export function readRows<T extends NumArray>(file: string, field: string, ds: Dataset, rows: number, rowWidth: number, out: T): T {
  const meta = ds.metadata;
  const rowBytes = Math.max(1, rowWidth * meta.size);
  const blockRows = Math.max(1, Math.floor(BLOCK_BYTES / rowBytes));
  const toBool = out instanceof Uint8Array;
  for (let r = 0; r < rows; r += blockRows) {
    const e = Math.min(rows, r + blockRows);
    let part: unknown;
    try {
      part = ds.slice([[r, e]]);
    } catch (err) {
      throw new DatasetError({ code: 'dtype', file, field, detail: `could not read rows ${r}..${e}: ${errorText(err)}` }, { cause: err });
    }
    if (!ArrayBuffer.isView(part) || part instanceof DataView) {
      throw new DatasetError({ code: 'dtype', file, field, detail: `element type ${describeDtype(meta)} did not read as numbers` });
    }
    const src = part as unknown as ArrayLike<number | bigint>;
    const off = r * rowWidth;
    if (src.length !== (e - r) * rowWidth) {
      throw new DatasetError({ code: 'shape', file, field, detail: `read ${src.length} values for rows ${r}..${e}, expected ${(e - r) * rowWidth}` });
    }
    if (toBool || typeof src[0] === 'bigint') {
      for (let i = 0; i < src.length; i++) {
        const v = Number(src[i]);
        out[off + i] = toBool ? (v !== 0 ? 1 : 0) : v;
      }
    } else {
      (out as Float32Array).set(src as ArrayLike<number>, off);
    }
  }
  return out;
}

/**
 * Write `rows` rows (row-major `data`, `rowWidth` values a row; `rowWidth` 0 = 1-D) at row `start`
 * of dataset `path`, which must already be large enough. Goes straight to HDF5 with the
 * dataset's own type as memory type, so it also works for enum (bool) datasets, which h5wasm's
 * `write_slice` refuses; `data` must therefore already hold bytes of that element type.
 */
export function writeRowsRaw(fileId: bigint, path: string, start: number, rows: number, rowWidth: number, data: ArrayBufferView): void {
  if (rows === 0) return;
  const M = h5Module();
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const ptr = M._malloc(bytes.byteLength);
  if (!ptr) throw new Error(`h5wasm: out of WASM memory allocating ${bytes.byteLength} bytes for ${path}`);
  try {
    M.HEAPU8.set(bytes, ptr);
    const count = rowWidth > 0 ? [BigInt(rows), BigInt(rowWidth)] : [BigInt(rows)];
    const offset = rowWidth > 0 ? [BigInt(start), 0n] : [BigInt(start)];
    const strides = rowWidth > 0 ? [1n, 1n] : [1n];
    const status = M.set_dataset_data(fileId, path, count, offset, strides, BigInt(ptr));
    if (status < 0) throw new Error(`HDF5 write of ${rows} rows at row ${start} of ${path} failed (status ${status})`);
  } finally {
    M._free(ptr);
  }
}
