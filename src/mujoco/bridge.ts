/**
 * The one place that talks to `@mujoco/mujoco` (DeepMind's WASM build).
 *
 * - One WASM module per thread (worker threads each get their own instance).
 * - Compiled models are cached per thread by file path: an `MjModel` is read-only while
 *   stepping, so many `MjData` (many envs) can share one.
 * - MuJoCo's C errors arrive as JS `Error("MuJoCo Error: ...")`; we rethrow them as
 *   `MujocoError` naming the file that was being compiled.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import loadMujocoModule from '@mujoco/mujoco';
import type { MainModule, MjData, MjModel } from '@mujoco/mujoco';

export type { MainModule, MjData, MjModel };

export class MujocoError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MujocoError';
  }
}

let modulePromise: Promise<MainModule> | undefined;

/** The thread's MuJoCo WASM module, loaded on first use. */
export function loadMujoco(): Promise<MainModule> {
  modulePromise ??= loadMujocoModule().catch((err: unknown) => {
    modulePromise = undefined;
    throw new MujocoError(`could not load the @mujoco/mujoco WASM module: ${errorText(err)}`, { cause: err });
  });
  return modulePromise;
}

/** Version string of the loaded MuJoCo build, e.g. "3.14.0". */
export function mujocoVersion(mj: MainModule): string {
  return mj.mj_versionString();
}

/** Version of the installed `@mujoco/mujoco` npm package. */
export function mujocoPackageVersion(): string {
  const require = createRequire(import.meta.url);
  const pkgPath = join(dirname(require.resolve('@mujoco/mujoco')), 'package.json');
  return (JSON.parse(readFileSync(pkgPath, 'utf8')) as { version: string }).version;
}

/** Root of the ofql-eval package (works from src/ under vitest and from dist/src/ when built). */
export const packageRoot: string = findPackageRoot(dirname(fileURLToPath(import.meta.url)));

/** Absolute path of a model file shipped in assets/. */
export function assetPath(fileName: string): string {
  return join(packageRoot, 'assets', fileName);
}

const modelCache = new Map<string, MjModel>();

/**
 * Compile an MJCF file (cached per thread by absolute path). The returned model is shared:
 * callers must not delete it or change its fields.
 */
export async function compileModelFile(path: string): Promise<MjModel> {
  const abs = resolve(path);
  const cached = modelCache.get(abs);
  if (cached) return cached;
  const mj = await loadMujoco();
  let xml: string;
  try {
    xml = readFileSync(abs, 'utf8');
  } catch (err) {
    throw new MujocoError(`cannot read model file ${abs}: ${errorText(err)}`, { cause: err });
  }
  const model = compileModelXml(mj, xml, abs);
  modelCache.set(abs, model);
  return model;
}

/** Compile MJCF text (uncached). `source` names the file or origin in error messages. */
export function compileModelXml(mj: MainModule, xml: string, source = '<xml string>'): MjModel {
  try {
    return mj.MjModel.from_xml_string(xml);
  } catch (err) {
    throw new MujocoError(`MuJoCo could not compile ${source}: ${cleanMujocoMessage(err)}`, { cause: err });
  }
}

/** Strip the embind stack and "MuJoCo Error:" prefix so the user sees MuJoCo's own sentence. */
export function cleanMujocoMessage(err: unknown): string {
  const text = errorText(err);
  return text
    .replace(/^MuJoCo Error:\s*/, '')
    .replace(/^Loading error:\s*/, '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.startsWith('at '))
    .join('; ');
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function findPackageRoot(start: string): string {
  let dir = start;
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string };
      if (pkg.name === 'ofql-eval') return dir;
    } catch {
      // no package.json here: keep walking up
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`ofql-eval: cannot find the package root above ${start}`);
    dir = parent;
  }
}
