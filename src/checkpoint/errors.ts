/** Errors raised while reading, writing or importing checkpoints. */

export type CheckpointErrorCode =
  /** A checkpoint directory or one of its files does not exist (or is the wrong kind of entry); also a step a training run does not hold. */
  | 'not-found'
  /** A training run directory (src/checkpoint/run-dir.ts) holds no complete checkpoint: the run stopped before its first save. */
  | 'empty-run'
  /** The file ends too early: shorter than the 8-byte length prefix, header or tensor data cut off. */
  | 'truncated'
  /** The safetensors header is unusable: length prefix too large, not UTF-8, not JSON, bad structure, duplicate keys. */
  | 'header'
  /** A tensor's dtype is unknown, unsupported, or does not fit the data given to the encoder. */
  | 'dtype'
  /** A tensor's shape is malformed, or its element count disagrees with its byte range / data length. */
  | 'shape'
  /** Tensor byte ranges overlap, leave a hole, or do not start at 0. */
  | 'offsets'
  /** Bytes after the last tensor (the byte buffer must be exactly covered by the tensors). */
  | 'trailing-bytes'
  /** NaN or +-Infinity in a float tensor (when finiteness is checked), or in JSON to be written. */
  | 'non-finite'
  /** A value is outside what its dtype allows (e.g. BOOL other than 0/1). */
  | 'value'
  /** config.json is not valid JSON, not an object, or misses / has bad `format` / `formatVersion`. */
  | 'config'
  /** trainer-state.json is invalid, or the resume state is incomplete (optimizer without trainer state or vice versa). */
  | 'trainer-state'
  /** A tensor the caller requires is absent. */
  | 'missing-tensor'
  /** A tensor is present but its shape (or dtype) differs from what the caller requires. */
  | 'tensor-shape'
  /** A tensor is present that the caller did not expect (strict checks, PyTorch import with unmapped names). */
  | 'unexpected-tensor'
  /** A PyTorch import name table is inconsistent (two names mapped to one tensor, a bad entry). */
  | 'name-table'
  /** A ZIP archive (torch.save's format) is unusable: bad directory, offsets outside the file, CRC mismatch, unsupported method. */
  | 'archive'
  /** A pickle is malformed or uses an opcode the restricted reader does not handle. */
  | 'pickle'
  /** A pickle names a global (class or function) that is not on the allowlist: refused, nothing executed. */
  | 'forbidden-global'
  /** A PyTorch file's layout is wrong: a missing or mis-sized storage, a tensor reaching outside its storage, not a state dict. */
  | 'torch-format'
  /** Writing failed (I/O error, invalid input to the writer, refusing to replace a non-checkpoint directory). */
  | 'write';

/**
 * A checkpoint (file or directory) is unusable. The message always names the file (or directory)
 * and, where one is at fault, the tensor or field, and says what was expected.
 */
export class CheckpointError extends Error {
  readonly code: CheckpointErrorCode;
  /** The file or directory at fault, as given by the caller (`source`). */
  readonly file: string;
  /** The tensor name or JSON field at fault, when there is one. */
  readonly field?: string;

  constructor(
    args: { code: CheckpointErrorCode; file: string; field?: string; detail: string },
    options?: { cause?: unknown },
  ) {
    const where = args.field === undefined ? args.file : `${args.file}: ${args.field}`;
    super(`${where}: ${args.detail}`, options);
    this.name = 'CheckpointError';
    this.code = args.code;
    this.file = args.file;
    this.field = args.field;
  }
}

/** `tensor 'name'` -- how tensors are named in error messages. */
export function tensorField(name: string): string {
  return `tensor '${name}'`;
}

/** A short, safe rendering of a shape for messages: [2, 3]. */
export function fmtShape(shape: readonly (number | string)[]): string {
  return `[${shape.join(', ')}]`;
}
