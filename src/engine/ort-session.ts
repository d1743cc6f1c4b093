/**
 * A synchronous onnxruntime CPU session for the training engine.
 *
 * Why not `InferenceSession.run`: it is async only because it defers the (synchronous) native call
 * with setImmediate; the agent API (OfqlAgent.trainStep) is synchronous, and a training step is a
 * few native calls in a row. So this wraps the native binding of onnxruntime-node directly. That
 * binding is internal to the package, which is why package.json pins onnxruntime-node to one
 * exact version and test/engine-parity.test.ts exercises this file; a changed binding fails
 * here with a clear message, not deep in a training run.
 */
import { createRequire } from 'node:module';
import ort from 'onnxruntime-node';

export interface NativeSession {
  loadModel(buffer: ArrayBufferLike, byteOffset: number, byteLength: number, options: object): void;
  run(feeds: Record<string, ort.Tensor>, fetches: Record<string, null>, options: object): Record<string, ort.Tensor>;
  dispose(): void;
  readonly inputMetadata: ReadonlyArray<{ name: string }>;
  readonly outputMetadata: ReadonlyArray<{ name: string }>;
}

interface Binding {
  binding: { InferenceSession: new () => NativeSession };
  initOrt(): void;
}

let binding: Binding | undefined;

function nativeBinding(): Binding {
  if (binding) return binding;
  const require = createRequire(import.meta.url);
  const b = require('onnxruntime-node/dist/binding.js') as Partial<Binding>;
  if (typeof b.initOrt !== 'function' || typeof b.binding?.InferenceSession !== 'function') {
    throw new Error('onnxruntime-node: its native binding (dist/binding.js) has changed shape; the training engine needs the version pinned in package.json');
  }
  b.initOrt();
  binding = b as Binding;
  return binding;
}

/** Float32 feeds by input name: data and shape. */
export type Feeds = Record<string, { data: Float32Array; shape: readonly number[] }>;

/**
 * Where the engine's graphs run: onnxruntime's CPU provider, or its WebGPU provider, which
 * onnxruntime-node bundles on Linux x64 (Dawn over Vulkan): a GPU route that installs from the npm
 * registry alone. Nodes WebGPU lacks fall back to the CPU inside onnxruntime.
 */
export const ENGINE_DEVICES = ['cpu', 'webgpu'] as const;
export type EngineDevice = (typeof ENGINE_DEVICES)[number];

/** Thrown when the asked device cannot run the engine (no WebGPU adapter, say). */
export class EngineDeviceError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EngineDeviceError';
  }
}

function loadOn(native: NativeSession, model: Uint8Array, threads: number, device: EngineDevice): void {
  try {
    native.loadModel(model.buffer, model.byteOffset, model.byteLength, {
      executionProviders: [{ name: device }],
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
    });
  } catch (e) {
    if (device === 'cpu') throw e;
    const why = (e as Error).message.split('\n').map((l) => l.trim()).filter(Boolean).pop() ?? 'no reason given';
    throw new EngineDeviceError(
      `--device ${device}: onnxruntime could not start its ${device} provider (${why}). ` +
        'On Linux it needs a GPU with a Vulkan driver (libvulkan.so.1 and the vendor ICD); use --device cpu otherwise.',
      { cause: e },
    );
  }
}

export class SyncSession {
  private readonly native: NativeSession;
  private readonly fetches: Record<string, null>;
  readonly inputNames: string[];
  readonly outputNames: string[];

  /** `threads`: onnxruntime intra-op threads (1 = this thread only, reproducible and comparable). */
  constructor(model: Uint8Array, threads: number, device: EngineDevice = 'cpu') {
    const b = nativeBinding();
    this.native = new b.binding.InferenceSession();
    loadOn(this.native, model, threads, device);
    this.inputNames = this.native.inputMetadata.map((m) => m.name);
    this.outputNames = this.native.outputMetadata.map((m) => m.name);
    this.fetches = Object.fromEntries(this.outputNames.map((n) => [n, null]));
  }

  /** Run with every input fed; returns every output's data by name. */
  run(feeds: Feeds): Record<string, Float32Array> {
    const tensors: Record<string, ort.Tensor> = {};
    for (const name of this.inputNames) {
      const f = feeds[name];
      if (!f) throw new Error(`internal: engine graph input '${name}' not fed`);
      tensors[name] = new ort.Tensor('float32', f.data, f.shape);
    }
    const out = this.native.run(tensors, this.fetches, {});
    const result: Record<string, Float32Array> = {};
    for (const name of this.outputNames) result[name] = out[name]!.data as Float32Array;
    return result;
  }

  dispose(): void {
    this.native.dispose();
  }
}

/**
 * Start `device` once on a one-node graph, so that a device that cannot run (no WebGPU adapter)
 * is refused before a run reads its data or writes a file. Throws EngineDeviceError.
 */
export function probeDevice(device: EngineDevice, identityModel: () => Uint8Array): void {
  if (device === 'cpu') return;
  new SyncSession(identityModel(), 1, device).dispose();
}
