/** Errors of the training loop (src/train): each names the file and, where one is at fault, the field. */

export type TrainErrorCode =
  /** The dataset cannot be used (missing, unreadable, wrong widths for the env, too few transitions). */
  | 'dataset'
  /** The env id is unknown or has no dims to train for. */
  | 'env'
  /** A hyper-parameter / option is invalid. */
  | 'config'
  /** --resume cannot continue: no checkpoint, or it does not match this run. */
  | 'resume'
  /** The output directory cannot be used (holds another run, not a directory, ...). */
  | 'out'
  /** Training produced a non-finite loss. */
  | 'diverged';

export class TrainError extends Error {
  readonly code: TrainErrorCode;
  readonly file?: string;
  readonly field?: string;
  constructor(args: { code: TrainErrorCode; detail: string; file?: string; field?: string }, options?: { cause?: unknown }) {
    const where = args.file === undefined ? '' : args.field === undefined ? `${args.file}: ` : `${args.file}: field '${args.field}': `;
    super(`${where}${args.detail}`, options);
    this.name = 'TrainError';
    this.code = args.code;
    this.file = args.file;
    this.field = args.field;
  }
}
