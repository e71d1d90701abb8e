import { describe, expect, it } from 'vitest';
import {
  heartbeatAvailability,
  latencyOf,
  percentile,
  summarize,
  totalsOf,
  uptimePercent,
  windowStart,
  type CheckPoint,
} from './uptime-math';

const point = (service_id: string, ok: boolean, response_time_ms: number | null, checked_at = 0): CheckPoint => ({
  service_id,
  ok,
  response_time_ms,
  checked_at,
});

describe('uptime math', () => {
  it('takes nearest-rank percentiles', () => {
    const values = Array.from({ length: 100 }, (_, index) => index + 1);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 95)).toBe(95);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile([7], 99)).toBe(7);
    expect(latencyOf([30, 10, 20])).toEqual({ p50: 20, p95: 30, p99: 30, max: 30 });
    expect(latencyOf([])).toBeNull();
  });

  it('aligns windows on multiples of their length', () => {
    expect(windowStart(Date.UTC(2030, 0, 1, 12, 7, 31), 300_000)).toBe(Date.UTC(2030, 0, 1, 12, 5));
  });

  it('summarizes a window per service: checks, failures, availability, latency of the timed checks', () => {
    const windows = summarize([point('a', true, 10), point('a', false, null), point('a', true, 30), point('b', false, 5)], 600);
    expect(windows).toEqual([
      { service_id: 'a', start: 600, checks: 3, failures: 1, availability: 2 / 3, latency: { p50: 10, p95: 30, p99: 30, max: 30 } },
      { service_id: 'b', start: 600, checks: 1, failures: 1, availability: 0, latency: { p50: 5, p95: 5, p99: 5, max: 5 } },
    ]);
  });

  it('gives a heartbeat-only service the share of the window it was not expired, from when it existed', () => {
    expect(heartbeatAvailability([], 0, 1000, 2000)).toBe(1);
    expect(heartbeatAvailability([{ start: 1500, end: null }], 0, 1000, 2000)).toBe(0.5);
    expect(heartbeatAvailability([{ start: 500, end: 1250 }], 0, 1000, 2000)).toBe(0.75);
    expect(heartbeatAvailability([{ start: 1600, end: 1800 }], 1500, 1000, 2000)).toBe(0.6);
    expect(heartbeatAvailability([], 2500, 1000, 2000)).toBeNull();
  });

  it('weighs uptime by checks, falls back to mean availability, and is null with nothing known', () => {
    expect(
      uptimePercent(
        totalsOf([
          { checks: 10, failures: 1, availability: 0.9 },
          { checks: 30, failures: 0, availability: 1 },
        ]),
      ),
    ).toBe(97.5);
    expect(
      uptimePercent(
        totalsOf([
          { checks: 0, failures: 0, availability: 0.5 },
          { checks: 0, failures: 0, availability: 1 },
        ]),
      ),
    ).toBe(75);
    expect(uptimePercent(totalsOf([]))).toBeNull();
  });
});
