/**
 * The result document of a run (eval/RESULT_FORMAT.md) from its plan and what the workers
 * answered: complete only when every episode finished and nothing failed or stopped the run.
 */
import os from 'node:os';
import { mujocoPackageVersion } from '../src/mujoco/bridge.js';
import { packageVersion } from '../src/package-version.js';
import type { DispatchOutcome } from './dispatch.js';
import type { EvalPlan } from './eval-plan.js';
import { type EvalResultDocument, makeResultDocument } from './result.js';
import type { RunTally } from './tally.js';

export interface FinishedRun {
  plan: EvalPlan;
  tally: RunTally;
  outcome: DispatchOutcome;
  startedAt: Date;
  wallSeconds: number;
  /** Recorded as `command`. */
  command?: string[];
}

export function runDocument(run: FinishedRun): EvalResultDocument {
  const { failure, interrupted } = run.outcome;
  const results = run.tally.envResults();
  return makeResultDocument({
    complete: failure === null && !interrupted && results.every((r) => r.complete),
    interrupted,
    error: failure,
    tool: { name: 'ofql-eval', version: packageVersion() },
    mujoco: { version: run.tally.mujocoVersion, packageVersion: mujocoPackageVersion() },
    runtime: runtimeInfo(),
    command: run.command ?? null,
    settings: run.plan.settings,
    policy: run.plan.policy,
    startedAt: run.startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    wallSeconds: run.wallSeconds,
    results,
  });
}

function runtimeInfo(): EvalResultDocument['runtime'] {
  const cpus = os.cpus();
  return {
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    cpus: os.availableParallelism(),
    cpuModel: cpus[0]?.model ?? 'unknown',
    hostname: os.hostname(),
  };
}
