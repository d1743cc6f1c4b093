/**
 * Checks shared by the D4RL and Minari readers: reading float rows that must be finite, and a
 * dataset's width against the one the environment (or the caller) expects.
 */
import { DatasetError, findNonFinite } from './errors.js';
import { readRows, type Dataset } from './h5.js';

/** `rows` x `width` float32 values of `ds`; a NaN or infinity is a DatasetError naming the row. */
export function readFiniteRows(file: string, field: string, ds: Dataset, rows: number, width: number): Float32Array {
  const out = readRows(file, field, ds, rows, width, new Float32Array(rows * width));
  const err = findNonFinite(file, field, out, width);
  if (err) throw err;
  return out;
}

/** Refuses a width that differs from the expected one; `source` says where the expectation came from. */
export function checkWidth(file: string, field: string, width: number, expected: number | undefined, source: string, kind: string): void {
  if (expected !== undefined && width !== expected) {
    throw new DatasetError({
      code: 'shape',
      file,
      field,
      detail: `has width ${width}; expected ${kind} size ${expected} (${source})`,
    });
  }
}
