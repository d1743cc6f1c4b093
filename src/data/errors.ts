/** Errors raised while reading or writing offline-RL dataset files. */

export type DatasetErrorCode =
  /** The path does not exist (or is not a regular file). */
  | 'not-found'
  /** The file has 0 bytes, or holds no rows. */
  | 'empty'
  /** The file is not HDF5 (no superblock signature), or HDF5 could not open it. */
  | 'not-hdf5'
  /** A required dataset/group is absent. */
  | 'missing-key'
  /** A dataset's shape does not fit: rank, row count N, or width (obs/action size). */
  | 'shape'
  /** A dataset's element type is not numeric (e.g. strings), or a group stands where a dataset should. */
  | 'dtype'
  /** NaN or +-Inf in observations / actions / rewards (/ next observations). */
  | 'non-finite'
  /** Writing failed (HDF5 call failed, bad input to the writer). */
  | 'write';

/**
 * A dataset file is unusable. The message always names the file and, where one is at fault,
 * the field (HDF5 path inside the file, e.g. `observations`, `infos/qpos`, `episode_3/actions`)
 * and what was expected; for non-finite values it also names the row (and column).
 */
export class DatasetError extends Error {
  readonly code: DatasetErrorCode;
  /** The file at fault (absolute path). */
  readonly file: string;
  /** The HDF5 path of the field at fault, when there is one. */
  readonly field?: string;
  /** Row of the offending element (non-finite errors). */
  readonly index?: number;
  /** Column of the offending element within its row (non-finite errors on 2-D fields). */
  readonly column?: number;

  constructor(
    args: { code: DatasetErrorCode; file: string; field?: string; index?: number; column?: number; detail: string },
    options?: { cause?: unknown },
  ) {
    const where = args.field === undefined ? `${args.file}` : `${args.file}: field '${args.field}'`;
    super(`${where}: ${args.detail}`, options);
    this.name = 'DatasetError';
    this.code = args.code;
    this.file = args.file;
    this.field = args.field;
    this.index = args.index;
    this.column = args.column;
  }
}

/**
 * First non-finite value in `data` (row-major, `width` columns; width 0 or 1 = 1-D), as a
 * `DatasetError`, or undefined when all are finite. `rowOffset` shifts the reported row (blocks).
 */
export function findNonFinite(
  file: string,
  field: string,
  data: ArrayLike<number>,
  width: number,
  rowOffset = 0,
): DatasetError | undefined {
  const n = data.length;
  for (let i = 0; i < n; i++) {
    const v = data[i];
    if (v - v !== 0) {
      // NaN - NaN = NaN, Inf - Inf = NaN: both fail; finite values give 0.
      const w = Math.max(1, width);
      const row = rowOffset + Math.floor(i / w);
      const col = i % w;
      const what = Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
      const at = width > 1 ? `row ${row}, column ${col}` : `index ${row}`;
      return new DatasetError({
        code: 'non-finite',
        file,
        field,
        index: row,
        column: width > 1 ? col : undefined,
        detail: `${what} at ${at}; expected only finite values`,
      });
    }
  }
  return undefined;
}
