/** Shared by the checkpoint tests: the CheckpointError a call or a promise fails with. */
import { expect } from 'vitest';
import { CheckpointError } from '../src/checkpoint/index.js';

export function caughtCheckpointError(fn: () => unknown): CheckpointError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CheckpointError);
    return e as CheckpointError;
  }
  throw new Error('expected a CheckpointError');
}

export async function rejectedCheckpointError(p: Promise<unknown>): Promise<CheckpointError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(CheckpointError);
    return e as CheckpointError;
  }
  throw new Error('expected a CheckpointError');
}
