import { describe, expect, it } from 'vitest';
import { RecentCount } from './recent-count';

const T = 1_700_000_000_000;

describe('RecentCount', () => {
  it('counts what happened within the last 60 s, by the second', () => {
    const recent = new RecentCount(60);
    recent.add(T);
    recent.add(T + 500, 2);
    recent.add(T + 30_000);
    expect(recent.count(T + 30_000)).toBe(4);
    // At T+60s the second of T is 60 s old: out of the window.
    expect(recent.count(T + 59_999)).toBe(4);
    expect(recent.count(T + 60_000)).toBe(1);
    expect(recent.count(T + 91_000)).toBe(0);
  });

  it('reuses a bucket for a later second and ignores times older than the window', () => {
    const recent = new RecentCount(60);
    recent.add(T);
    recent.add(T + 61_000); // same bucket, a window later
    expect(recent.count(T + 61_000)).toBe(1);
    recent.add(T); // too old now: its bucket belongs to a newer second
    expect(recent.count(T + 61_000)).toBe(1);
  });

  it('counts times slightly ahead of now (another host’s clock) and clears', () => {
    const recent = new RecentCount(60);
    recent.add(T + 2000);
    expect(recent.count(T)).toBe(1);
    recent.clear();
    expect(recent.count(T)).toBe(0);
  });
});
