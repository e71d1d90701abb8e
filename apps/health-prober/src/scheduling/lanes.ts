import type { ProbeOutcome } from '@beacon/contracts';

/**
 * Which share of the slots a target's next check may take, by what its last check showed:
 * `fast` answered (or failed) within SLOW_CHECK_MS; `new` has not been checked yet under
 * its current schedule; `slow` took longer or timed out. A slow check holds its slot for up
 * to its own timeout (up to 300 s), so slow and unknown targets must not be able to fill
 * every slot: targets that answer promptly always keep some for themselves.
 */
export type Lane = 'fast' | 'new' | 'slow';

export const LANES: readonly Lane[] = ['fast', 'new', 'slow'];

/** A check that took this long (or timed out: the shortest timeout is 1 s) makes its target slow. */
export const SLOW_CHECK_MS = 1000;

export interface LaneLimits {
  /** Checks in flight at most, of any lane (`PROBE_CONCURRENCY`). */
  all: number;
  /** New and slow checks together: a quarter of the slots stays free for fast targets. */
  unproven: number;
  /** Slow checks alone: another quarter stays free for new targets, so a newcomer is not stuck behind known black holes. */
  slow: number;
}

/** The nested caps for `concurrency` slots (below 4 slots there is nothing to reserve). */
export function laneLimits(concurrency: number): LaneLimits {
  const reserve = Math.floor(concurrency / 4);
  return { all: concurrency, unproven: concurrency - reserve, slow: Math.max(1, concurrency - 2 * reserve) };
}

/** The lane a target moves to after a check that ended with `outcome` after `elapsedMs`. */
export function laneAfter(outcome: ProbeOutcome | null, elapsedMs: number): Lane {
  return outcome === 'timeout' || elapsedMs >= SLOW_CHECK_MS ? 'slow' : 'fast';
}
