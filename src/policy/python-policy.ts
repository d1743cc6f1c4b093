/**
 * Worker side of Python policies (`--policy py:policy.py`; main-thread checks in
 * src/policy/python-cli.ts): the default export starts one Python child running
 * src/policy/python/bridge.py, asks it to import the user's file and call `make_policy(spec)`, and
 * answers `act` by sending the observations as raw float64 frames (protocol in bridge.py).
 *
 * No child outlives the evaluation: close() and the worker's `exit` kill it, and the bridge ends
 * itself when its stdin closes (a terminated worker thread runs no JavaScript but its pipes close)
 * or its parent process changes.
 */
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { endianness } from 'node:os';
import { dirname, join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { threadId } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { packageRoot } from '../mujoco/bridge.js';
import type { ActContext, Policy, PolicySpec } from './types.js';

/** Options the PolicyRef carries (src/policy/python-cli.ts). */
export interface PythonPolicyOptions {
  /** Absolute path of the user's .py file. */
  file: string;
  /** Interpreter command. */
  python: string;
  /** false: the bridge does not import numpy (obs arrive as lists of lists). */
  numpy: boolean;
  /** The label in messages and log prefixes (`py:policy.py`). */
  label: string;
}

/** Used when the spec names no load limit. */
const NO_LIMIT = 0;
const FRAME_HEADER_BYTES = 4;
/** Lines of the child's stderr kept for error messages (a traceback fits). */
const STDERR_TAIL_LINES = 40;

/** Path of the bridge: shipped as src/policy/python/bridge.py (package.json "files"). */
export function pythonBridgePath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(packageRoot, 'src', 'policy', 'python', 'bridge.py'), join(here, 'python', 'bridge.py')];
  for (const c of candidates) if (existsSync(c)) return c;
  throw new Error(`ofql-eval: the Python bridge is missing (looked for ${candidates.join(', ')})`);
}

interface Reply {
  header: Record<string, unknown>;
  payload: Buffer;
}

/** One bridge child: frames out on stdin, frames in on stdout, stderr passed on with a prefix. */
class BridgeChild {
  private readonly child: ChildProcessByStdio<Writable, Readable, Readable>;
  private buffered: Buffer = Buffer.alloc(0);
  private waiting: { resolve: (r: Reply) => void; reject: (e: Error) => void } | null = null;
  private exited: Error | null = null;
  private readonly stderrTail: string[] = [];
  private readonly onProcessExit = (): void => this.kill();

  constructor(o: PythonPolicyOptions, private readonly prefix: string) {
    const args = [pythonBridgePath(), ...(o.numpy ? [] : ['--no-numpy'])];
    this.child = spawn(o.python, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, PYTHONUNBUFFERED: '1' } });
    this.child.stdout.on('data', (d: Buffer) => this.onData(d));
    let partial = '';
    this.child.stderr.setEncoding('utf8').on('data', (s: string) => {
      const lines = (partial + s).split('\n');
      partial = lines.pop()!;
      for (const line of lines) this.logLine(line);
    });
    this.child.stderr.on('end', () => partial !== '' && this.logLine(partial));
    this.child.stdin.on('error', () => undefined); // a dead child: reported by 'exit'
    this.child.on('error', (err) => this.fail(new Error(`cannot start ${o.python}: ${err.message}`)));
    // 'close' (not 'exit'): after the process ended AND its stderr drained, so the traceback is in the tail.
    this.child.on('close', (code, signal) => this.fail(new Error(`the Python process exited (${signal ?? `code ${code}`})${this.tail()}`)));
    process.once('exit', this.onProcessExit);
  }

  private logLine(line: string): void {
    this.stderrTail.push(line);
    if (this.stderrTail.length > STDERR_TAIL_LINES) this.stderrTail.shift();
    process.stderr.write(`${this.prefix} ${line}\n`);
  }

  /** The last stderr lines, for messages. */
  tail(): string {
    return this.stderrTail.length > 0 ? `; its stderr ended with:\n${this.stderrTail.join('\n')}` : '';
  }

  private fail(err: Error): void {
    this.exited ??= err;
    process.off('exit', this.onProcessExit);
    const w = this.waiting;
    this.waiting = null;
    w?.reject(this.exited);
  }

  private onData(d: Buffer): void {
    this.buffered = this.buffered.length === 0 ? d : Buffer.concat([this.buffered, d]);
    for (;;) {
      if (this.buffered.length < FRAME_HEADER_BYTES) return;
      const headLen = this.buffered.readUInt32LE(0);
      if (this.buffered.length < FRAME_HEADER_BYTES + headLen) return;
      const header = JSON.parse(this.buffered.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + headLen).toString('utf8')) as Record<string, unknown>;
      const end = FRAME_HEADER_BYTES + headLen + Number(header.bytes ?? 0);
      if (this.buffered.length < end) return;
      const payload = Buffer.from(this.buffered.subarray(FRAME_HEADER_BYTES + headLen, end));
      this.buffered = this.buffered.subarray(end);
      const w = this.waiting;
      this.waiting = null;
      w?.resolve({ header, payload });
    }
  }

  /** Send one request and wait for its reply (one at a time: the runner awaits each act). */
  request(header: Record<string, unknown>, payload?: Buffer): Promise<Reply> {
    if (this.exited) return Promise.reject(this.exited);
    const head = Buffer.from(JSON.stringify({ ...header, bytes: payload?.length ?? 0 }), 'utf8');
    const len = Buffer.alloc(FRAME_HEADER_BYTES);
    len.writeUInt32LE(head.length, 0);
    return new Promise<Reply>((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.child.stdin.write(payload ? Buffer.concat([len, head, payload]) : Buffer.concat([len, head]));
    });
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    process.off('exit', this.onProcessExit);
  }
}

/** The message of a failed reply: the Python error and its traceback. */
function replyError(r: Reply): Error {
  const tb = typeof r.header.traceback === 'string' && r.header.traceback !== '' ? `\nPython traceback:\n${r.header.traceback.trimEnd()}` : '';
  return new Error(`${String(r.header.error)}${tb}`);
}

/** Reject after `ms` (0 = never), killing the child so a hung make_policy leaves nothing behind. */
function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  if (!(ms > 0)) return p;
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

export async function createPythonPolicy(spec: PolicySpec, o: PythonPolicyOptions): Promise<Policy> {
  // Frames carry little-endian float64; typed arrays use the host's order.
  if (endianness() !== 'LE') throw new Error('Python policies need a little-endian host');
  const child = new BridgeChild(o, `[${o.label} ${spec.envId} worker ${threadId}]`);
  const userSpec = {
    envId: spec.envId,
    observationSize: spec.observationSize,
    actionSize: spec.actionSize,
    ckpt: spec.ckpt ?? null,
    seed: spec.seed ?? null,
    maxEpisodeSteps: spec.maxEpisodeSteps ?? null,
  };
  const loadMs = spec.loadTimeoutMs ?? NO_LIMIT;
  let init: Reply;
  try {
    init = await withTimeout(
      child.request({ op: 'init', file: o.file, spec: userSpec, deadline: loadMs / 1000 }),
      loadMs,
      () => new Error(`make_policy(spec) did not return within --policy-load-timeout ${loadMs} ms`),
    );
  } catch (err) {
    child.kill();
    throw err;
  }
  if (init.header.ok !== true) {
    child.kill();
    throw new Error(`${o.file}: ${replyError(init).message}`);
  }
  const context = init.header.context === true;
  const O = spec.observationSize;
  const A = spec.actionSize;
  const userDescription = typeof init.header.description === 'string' ? `: ${init.header.description}` : '';
  return {
    description: `Python policy ${o.file} (Python ${String(init.header.python)}, numpy ${String(init.header.numpy ?? 'not used')})${userDescription}`,
    async act(obs: Float64Array, n: number, ctx?: ActContext): Promise<Float64Array> {
      const withCtx = context && ctx !== undefined;
      const f = new Float64Array(n * O + (withCtx ? 2 * n : 0));
      f.set(obs.subarray(0, n * O));
      if (withCtx) {
        f.set(ctx.episodeSeeds.subarray(0, n), n * O);
        for (let j = 0; j < n; j++) f[n * O + n + j] = ctx.steps[j]!;
      }
      const deadline = (spec.policyTimeoutMs ?? NO_LIMIT) / 1000;
      const r = await child.request({ op: 'act', n, context: withCtx, deadline }, Buffer.from(f.buffer));
      if (r.header.ok !== true) throw replyError(r);
      if (r.payload.length !== n * A * 8) throw new Error(`the bridge sent ${r.payload.length} bytes for ${n} x ${A} actions`);
      const actions = new Float64Array(n * A);
      new Uint8Array(actions.buffer).set(r.payload);
      return actions;
    },
    async close() {
      try {
        await withTimeout(child.request({ op: 'close' }), CLOSE_TIMEOUT_MS, () => new Error('close() timed out'));
      } catch {
        // a dead or stuck child is killed below either way
      } finally {
        child.kill();
      }
    },
  };
}

/** How long close() waits for the user's close() before killing the child. */
const CLOSE_TIMEOUT_MS = 5000;

/** Default export (a policy module): options from the PolicyRef (`spec.options`, src/policy/python-cli.ts). */
export default async function factory(spec: PolicySpec): Promise<Policy> {
  return createPythonPolicy(spec, spec.options as unknown as PythonPolicyOptions);
}
