import { describe, expect, it } from 'vitest';
import { defaultSafetyMarginMs } from '../config';
import { LeaseDeadline, leaseTiming } from './lease-deadline';

describe('lease deadline', () => {
  const timing = leaseTiming(3000, 600);

  it('refreshes every third of the lease', () => {
    expect(timing.refreshMs).toBe(1000);
  });

  it('ends a margin before the lease could lapse, counted from the start of the last successful write', () => {
    const deadline = new LeaseDeadline(timing);
    deadline.renewedFrom({ mono: 10_000, wall: 1_700_000_000_000 });
    expect(deadline.remainingMs({ mono: 10_000, wall: 1_700_000_000_000 })).toBe(2400);
    expect(deadline.passed({ mono: 12_399, wall: 1_700_000_002_399 })).toBe(false);
    expect(deadline.passed({ mono: 12_400, wall: 1_700_000_002_400 })).toBe(true);
  });

  it('a later write moves it; only successful writes are reported to it', () => {
    const deadline = new LeaseDeadline(timing);
    deadline.renewedFrom({ mono: 0, wall: 0 });
    deadline.renewedFrom({ mono: 1000, wall: 1000 });
    expect(deadline.remainingMs({ mono: 2000, wall: 2000 })).toBe(1400);
  });

  it('has passed before any write and after clear()', () => {
    const deadline = new LeaseDeadline(timing);
    expect(deadline.passed({ mono: 0, wall: 0 })).toBe(true);
    deadline.renewedFrom({ mono: 0, wall: 0 });
    deadline.clear();
    expect(deadline.passed({ mono: 1, wall: 1 })).toBe(true);
  });

  it('a wall clock stepped back does not extend it: the monotonic clock still ends it', () => {
    const deadline = new LeaseDeadline(timing);
    deadline.renewedFrom({ mono: 0, wall: 1_000_000 });
    expect(deadline.passed({ mono: 2400, wall: 1_000_000 - 60_000 })).toBe(true);
  });

  it('a system suspend (monotonic clock stopped, wall clock ran on) ends it', () => {
    const deadline = new LeaseDeadline(timing);
    deadline.renewedFrom({ mono: 0, wall: 1_000_000 });
    expect(deadline.passed({ mono: 100, wall: 1_000_000 + 30_000 })).toBe(true);
  });

  it('refuses a margin that would leave no lease', () => {
    expect(() => leaseTiming(3000, 3000)).toThrow(RangeError);
    expect(() => leaseTiming(3000, -1)).toThrow(RangeError);
  });

  it('defaults the margin to 20 % of the lease, between 250 ms and 2 s', () => {
    expect(defaultSafetyMarginMs(3)).toBe(600);
    expect(defaultSafetyMarginMs(10)).toBe(2000);
    expect(defaultSafetyMarginMs(2)).toBe(400);
    expect(defaultSafetyMarginMs(60)).toBe(2000);
  });
});
