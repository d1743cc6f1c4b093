/** Reading one JSON document from a file, each failure worded by the caller (its own error class and message). */
import { readFileSync } from 'node:fs';

/** Why a JSON file could not be had: not readable, or not JSON; `why` is the underlying message. */
export type JsonFileFailure = (stage: 'read' | 'parse', why: string) => Error;

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** The parsed contents of `path`; throws `fail(stage, why)` when it cannot be read or parsed. */
export function readJsonFile(path: string, fail: JsonFileFailure): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw fail('read', messageOf(err));
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw fail('parse', messageOf(err));
  }
}
