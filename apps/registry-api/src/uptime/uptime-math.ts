import type { HealthCheckEntry, LatencySummary, UptimeWindow } from '@beacon/contracts';

/** One stored check result, as the aggregator reads it. */
export interface CheckPoint {
  service_id: string;
  checked_at: number;
  ok: boolean;
  response_time_ms: number | null;
}

/** One window as the store keeps it (`start` in epoch ms). */
export interface StoredWindow {
  service_id: string;
  start: number;
  checks: number;
  failures: number;
  availability: number | null;
  latency: LatencySummary | null;
}

/** A check passes when the target answered healthy or degraded: the service was up. */
export const passed = (entry: Pick<HealthCheckEntry, 'outcome'>): boolean => entry.outcome === 'healthy' || entry.outcome === 'degraded';

/** The nearest-rank percentile of sorted values (`p` in 0..100); the values must not be empty. */
export function percentile(sorted: readonly number[], p: number): number {
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

export function latencyOf(times: number[]): LatencySummary | null {
  if (times.length === 0) return null;
  const sorted = [...times].sort((a, b) => a - b);
  const round = (value: number): number => Math.round(value * 100) / 100;
  return {
    p50: round(percentile(sorted, 50)),
    p95: round(percentile(sorted, 95)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted.at(-1) as number),
  };
}

/** The start of the window holding `at` (windows are aligned on multiples of their length since the epoch). */
export const windowStart = (at: number, windowMs: number): number => Math.floor(at / windowMs) * windowMs;

/** Each service's window `[start, start + windowMs)` from the checks in it (any order). */
export function summarize(points: readonly CheckPoint[], start: number): StoredWindow[] {
  const byService = new Map<string, { checks: number; failures: number; times: number[] }>();
  for (const point of points) {
    let entry = byService.get(point.service_id);
    if (!entry) {
      entry = { checks: 0, failures: 0, times: [] };
      byService.set(point.service_id, entry);
    }
    entry.checks += 1;
    if (!point.ok) entry.failures += 1;
    if (point.response_time_ms !== null) entry.times.push(point.response_time_ms);
  }
  return [...byService].map(([service_id, entry]) => ({
    service_id,
    start,
    checks: entry.checks,
    failures: entry.failures,
    availability: (entry.checks - entry.failures) / entry.checks,
    latency: latencyOf(entry.times),
  }));
}

/** A span a heartbeat-only service spent expired: an `expired` incident (`end` null while open). */
export interface ExpiredSpan {
  start: number;
  end: number | null;
}

/**
 * A heartbeat-only service's availability over `[from, to)`: the share of the time it
 * existed (from `createdAt`) that no `expired` incident covered. Null when it did not exist.
 */
export function heartbeatAvailability(spans: readonly ExpiredSpan[], createdAt: number, from: number, to: number): number | null {
  const begin = Math.max(from, createdAt);
  if (begin >= to) return null;
  let down = 0;
  // Spans of one service and kind never overlap (one open incident at a time).
  for (const span of spans) {
    const overlap = Math.min(to, span.end ?? to) - Math.max(begin, span.start);
    if (overlap > 0) down += overlap;
  }
  return Math.max(0, 1 - down / (to - begin));
}

/** Sums over windows: what an uptime percentage is computed from. */
export interface WindowTotals {
  checks: number;
  failures: number;
  /** Sum of the availabilities known, and how many windows had one. */
  availabilitySum: number;
  known: number;
}

export const NO_TOTALS: WindowTotals = { checks: 0, failures: 0, availabilitySum: 0, known: 0 };

export function totalsOf(windows: readonly Pick<StoredWindow, 'checks' | 'failures' | 'availability'>[]): WindowTotals {
  const totals = { ...NO_TOTALS };
  for (const window of windows) {
    totals.checks += window.checks;
    totals.failures += window.failures;
    if (window.availability !== null) {
      totals.availabilitySum += window.availability;
      totals.known += 1;
    }
  }
  return totals;
}

/**
 * Availability 0..1 from totals: passing checks over checks when there were checks,
 * otherwise the mean availability of the windows that have one; null with neither.
 */
export function availabilityOf(totals: WindowTotals): number | null {
  if (totals.checks > 0) return (totals.checks - totals.failures) / totals.checks;
  return totals.known > 0 ? totals.availabilitySum / totals.known : null;
}

/** Uptime in percent (three decimals), or null when nothing is known. */
export function uptimePercent(totals: WindowTotals): number | null {
  const ratio = availabilityOf(totals);
  return ratio === null ? null : Math.round(ratio * 100_000) / 1000;
}

export function toWireWindow(window: StoredWindow): UptimeWindow {
  return {
    start: new Date(window.start).toISOString(),
    checks: window.checks,
    failures: window.failures,
    availability: window.availability,
    response_time_ms: window.latency,
  };
}
