/**
 * When a server must stop being one. The lease lives in the KV bucket until the store's
 * clock says TTL has passed since the last write; a write that succeeded was stamped by
 * the store after we sent it, so "we started that write + TTL" is never later than the
 * store's expiry. The server steps down a safety margin before that.
 *
 * Both clocks are read. The monotonic one (performance.now) is immune to wall-clock
 * steps; the wall clock keeps running across a system suspend, during which Linux's
 * CLOCK_MONOTONIC stops while the NATS server elsewhere does not. Whichever says "passed"
 * first wins: each clock's failure can only make the server step down early, never late.
 */

export interface ClockReading {
  /** performance.now(): monotonic milliseconds. */
  mono: number;
  /** Date.now(): wall milliseconds. */
  wall: number;
}

export function readClock(): ClockReading {
  return { mono: performance.now(), wall: Date.now() };
}

export interface LeaseTiming {
  ttlMs: number;
  marginMs: number;
  /** A third of the lease: two refreshes may fail before the deadline. */
  refreshMs: number;
}

export function leaseTiming(ttlMs: number, marginMs: number): LeaseTiming {
  if (!(marginMs >= 0 && marginMs < ttlMs)) throw new RangeError(`safety margin ${marginMs} ms must be in [0, ${ttlMs}) ms`);
  return { ttlMs, marginMs, refreshMs: ttlMs / 3 };
}

export class LeaseDeadline {
  private monoDeadline = -Infinity;
  private wallDeadline = -Infinity;

  constructor(private readonly timing: LeaseTiming) {}

  /** A write of the lease that was sent at `start` succeeded. */
  renewedFrom(start: ClockReading): void {
    const keep = this.timing.ttlMs - this.timing.marginMs;
    this.monoDeadline = start.mono + keep;
    this.wallDeadline = start.wall + keep;
  }

  clear(): void {
    this.monoDeadline = -Infinity;
    this.wallDeadline = -Infinity;
  }

  /** Milliseconds left before the server must have stepped down (≤ 0: it must now). */
  remainingMs(now: ClockReading = readClock()): number {
    return Math.min(this.monoDeadline - now.mono, this.wallDeadline - now.wall);
  }

  passed(now: ClockReading = readClock()): boolean {
    return this.remainingMs(now) <= 0;
  }
}
