/**
 * The checkpoints of a training run: `step-N/` written atomically (saveOfqlCheckpoint, through
 * writeCheckpointDir's temp dir + rename), `latest` pointed at the newest, and all but the newest
 * `keep` removed, except those an evaluation is still reading.
 */
import { renameSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { listRunCheckpoints, stepDirName, type JsonValue } from '../checkpoint/index.js';
import type { OfqlAgent } from '../ofql/index.js';
import { saveOfqlCheckpoint } from '../ofql/checkpoint.js';
import type { JsonlWriter } from './jsonl.js';
import { FILES, type Say } from './options.js';
import type { DatasetInfo } from './training-data.js';

export { stepDirName };

/** Complete checkpoint directories in `out`, by step ascending (src/checkpoint/run-dir.ts). */
export const listCheckpoints = listRunCheckpoints;

/** Atomically point `<out>/latest` at `name` (a relative symlink). Best effort: returns false if the OS refuses. */
export function updateLatest(out: string, name: string): boolean {
  const link = join(out, FILES.latest);
  const tmp = join(out, `.latest-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    symlinkSync(name, tmp, 'dir');
    renameSync(tmp, link);
    return true;
  } catch {
    rmSync(tmp, { force: true });
    return false;
  }
}

export interface CheckpointRotationOptions {
  /** The run directory. */
  out: string;
  /** Checkpoints to keep, newest first (0 = all). */
  keep: number;
  fsync: boolean;
  /** Recorded in every checkpoint's config.json. */
  envId: string;
  seed: number;
  datasetInfo: DatasetInfo;
  /** Logs made durable with each checkpoint, so that a resume finds every line up to its step. */
  logs: readonly JsonlWriter[];
  warn: Say;
}

/** Writes the run's checkpoints and keeps the newest `keep` of them. */
export class CheckpointRotation {
  /** Checkpoints an evaluation is reading: pruning leaves them. */
  private readonly pinned = new Set<string>();

  /** `last`: the newest checkpoint written or resumed from. */
  constructor(
    private readonly o: CheckpointRotationOptions,
    public last: string | null,
  ) {}

  /** Keep `dir` while it is in use. */
  pin(dir: string): void {
    this.pinned.add(dir);
  }

  unpin(dir: string): void {
    this.pinned.delete(dir);
  }

  /** Whether the newest checkpoint holds the agent's current step. */
  holds(step: number): boolean {
    return this.last === join(this.o.out, stepDirName(step));
  }

  /** Write the agent at its current step with the trainer's state; returns the directory. */
  async save(agent: OfqlAgent, trainerState: Record<string, JsonValue>): Promise<string> {
    const { out, envId, seed, fsync } = this.o;
    const dir = join(out, stepDirName(agent.step));
    await saveOfqlCheckpoint(dir, agent, { step: agent.step, includeTrainingState: true, trainerState, envId, datasetInfo: { ...this.o.datasetInfo }, seed, fsync });
    for (const l of this.o.logs) l.sync();
    if (!updateLatest(out, stepDirName(agent.step))) this.o.warn(`ofql-eval train: warning: could not update ${join(out, FILES.latest)} (symlinks not allowed?)`);
    this.last = dir;
    this.prune();
    return dir;
  }

  private prune(): void {
    const { keep, out } = this.o;
    if (keep === 0) return;
    const all = listRunCheckpoints(out);
    const victims = all.slice(0, Math.max(0, all.length - keep));
    for (const v of victims) if (!this.pinned.has(v.dir)) rmSync(v.dir, { recursive: true, force: true });
  }
}
