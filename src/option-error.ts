/**
 * OptionError: a value the user gave (a command-line flag, or a field of an options object of the
 * public API: evaluate's options, sampler settings, limits, paths, seeds, shard specs, ...) that
 * the library rejects. Every command reports it as a usage error (exit 2). A plain RangeError
 * thrown anywhere else is a bug (an internal invariant, a policy or plug-in failing) and is
 * reported as an unexpected error (exit 1) instead of as a bad flag.
 *
 * It extends RangeError so that callers and tests that expect a RangeError keep working. This
 * module imports nothing, so the library can use it without depending on the CLI.
 */
export class OptionError extends RangeError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'OptionError';
  }
}
