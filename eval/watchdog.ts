/**
 * Reading a chunk's shared watch record (WATCH in eval/runner.ts) on the main thread: live
 * progress, and the watchdog for a policy stuck in a synchronous loop, which cannot answer its
 * own timer (act() past --policy-timeout, a factory past --policy-load-timeout). The worker's own
 * timers report the asynchronous cases first; the watchdog allows a grace on top of the limit.
 */
import { PolicyError } from '../src/policy/errors.js';
import { WATCH } from './runner.js';

/** The watchdog looks this many times per shortest limit, every MIN to MAX ms. */
const WATCHDOG_LOOKS_PER_LIMIT = 4;
const WATCHDOG_MIN_PERIOD_MS = 20;
const WATCHDOG_MAX_PERIOD_MS = 1000;
/** Grace past a limit before the watchdog steps in: this share of the limit, at least MIN_GRACE_MS. */
const GRACE_SHARE = 0.2;
const MIN_GRACE_MS = 200;

/** The Float64 header of a watch record (WATCH slots). */
export function watchHead(watch: SharedArrayBuffer): Float64Array {
  return new Float64Array(watch, 0, WATCH.headerSlots);
}

/** How often the watchdog looks (0 = no limits to watch). */
export function watchdogPeriodMs(policyTimeoutMs: number, loadTimeoutMs: number): number {
  const limits = [policyTimeoutMs, loadTimeoutMs].filter((ms) => ms > 0);
  if (limits.length === 0) return 0;
  return Math.min(WATCHDOG_MAX_PERIOD_MS, Math.max(WATCHDOG_MIN_PERIOD_MS, Math.min(...limits) / WATCHDOG_LOOKS_PER_LIMIT));
}

export interface WatchedChunk {
  watch: SharedArrayBuffer;
  envId: string;
  /** The policy's name in messages. */
  label: string;
  policyTimeoutMs: number;
  loadTimeoutMs: number;
}

/** The run's error when the chunk's factory or act() call is past its limit (plus grace) at `now`, else null. */
export function overdueMessage(c: WatchedChunk, now: number): string | null {
  const head = watchHead(c.watch);
  return hungFactoryMessage(head, now, c) ?? hungActMessage(head, now, c);
}

function pastLimit(startedMs: number, now: number, limitMs: number): boolean {
  return limitMs > 0 && startedMs > 0 && now - startedMs > limitMs + Math.max(MIN_GRACE_MS, limitMs * GRACE_SHARE);
}

function hungFactoryMessage(head: Float64Array, now: number, c: WatchedChunk): string | null {
  if (!pastLimit(head[WATCH.loadStart], now, c.loadTimeoutMs)) return null;
  return `policy ${c.label}: the factory did not return within --policy-load-timeout ${c.loadTimeoutMs} ms for ${c.envId}; its worker was terminated`;
}

function hungActMessage(head: Float64Array, now: number, c: WatchedChunk): string | null {
  if (!pastLimit(head[WATCH.actStart], now, c.policyTimeoutMs)) return null;
  const rows = head[WATCH.actRows];
  return new PolicyError({
    policy: c.label,
    envId: c.envId,
    kind: 'timeout',
    episodes: Array.from(new Int32Array(c.watch, WATCH.headerSlots * 8, rows)),
    detail: `act() did not return within --policy-timeout ${c.policyTimeoutMs} ms; its worker was terminated`,
  }).message;
}
