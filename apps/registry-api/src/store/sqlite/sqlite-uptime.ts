import type { HealthCheckEntry } from '@beacon/contracts';
import type { Database, Statement } from 'better-sqlite3';
import { passed, type CheckPoint, type ExpiredSpan, type StoredWindow, type WindowTotals } from '../../uptime/uptime-math';
import type { UptimeStore } from '../service-store';

interface WindowRow {
  service_id: string;
  start: number;
  checks: number;
  failures: number;
  availability: number | null;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
}

const fromRow = (row: WindowRow): StoredWindow => ({
  service_id: row.service_id,
  start: row.start * 1000,
  checks: row.checks,
  failures: row.failures,
  availability: row.availability,
  latency: row.p50 === null ? null : { p50: row.p50, p95: row.p95 ?? row.p50, p99: row.p99 ?? row.p50, max: row.max ?? row.p50 },
});

/**
 * Uptime windows in the store's file, on its one connection. A window row is a few dozen
 * bytes (start in seconds, WITHOUT ROWID, keyed by service and start); the pings it is
 * made from are the check history's ring, bounded per service and by age.
 */
export class SqliteUptime implements UptimeStore {
  private readonly readMark: Statement;
  private readonly writeMark: Statement;
  private readonly readChecks: Statement;
  private readonly readExpired: Statement;
  private readonly putWindow: Statement;
  private readonly readWindows: Statement;
  private readonly readAllWindows: Statement;
  private readonly trimWindows: Statement;
  private readonly sumWindows: Statement;
  private readonly trimPings: Statement;

  constructor(private readonly db: Database) {
    this.readMark = db.prepare(`SELECT value FROM meta WHERE key = 'uptime_aggregated_until'`);
    this.writeMark = db.prepare(`UPDATE meta SET value = ? WHERE key = 'uptime_aggregated_until'`);
    this.readChecks = db.prepare('SELECT service_id, checked_at, doc FROM health_checks WHERE checked_at >= ? AND checked_at < ?');
    this.readExpired = db.prepare(
      `SELECT service_id, started_at, resolved_at FROM incidents WHERE kind = 'expired' AND started_at < ? AND (resolved_at IS NULL OR resolved_at > ?)`,
    );
    this.putWindow = db.prepare(
      'INSERT OR REPLACE INTO uptime_windows (service_id, start, checks, failures, availability, p50, p95, p99, max) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.readWindows = db.prepare('SELECT * FROM uptime_windows WHERE service_id = ? AND start >= ? AND start < ? ORDER BY start');
    this.readAllWindows = db.prepare('SELECT * FROM uptime_windows WHERE start >= ? ORDER BY service_id, start');
    this.trimWindows = db.prepare(
      'DELETE FROM uptime_windows WHERE (service_id, start) IN (SELECT service_id, start FROM uptime_windows WHERE start < ? LIMIT ?)',
    );
    this.sumWindows = db.prepare(
      `SELECT service_id, SUM(checks) AS checks, SUM(failures) AS failures, TOTAL(availability) AS availability_sum, COUNT(availability) AS known
       FROM uptime_windows WHERE start >= ? AND start < ? GROUP BY service_id`,
    );
    this.trimPings = db.prepare(
      'DELETE FROM health_checks WHERE (service_id, slot) IN (SELECT service_id, slot FROM health_checks WHERE checked_at < ? LIMIT ?)',
    );
  }

  async aggregatedUntil(): Promise<number> {
    return (this.readMark.get() as { value: number }).value;
  }

  async checksBetween(from: number, to: number): Promise<CheckPoint[]> {
    const rows = this.readChecks.all(from, to) as { service_id: string; checked_at: number; doc: string }[];
    return rows.map((row) => {
      const entry = JSON.parse(row.doc) as HealthCheckEntry;
      return { service_id: row.service_id, checked_at: row.checked_at, ok: passed(entry), response_time_ms: entry.response_time_ms };
    });
  }

  async expiredSpans(from: number, to: number): Promise<Map<string, ExpiredSpan[]>> {
    const rows = this.readExpired.all(to, from) as { service_id: string; started_at: number; resolved_at: number | null }[];
    const spans = new Map<string, ExpiredSpan[]>();
    for (const row of rows) {
      const list = spans.get(row.service_id) ?? [];
      list.push({ start: row.started_at, end: row.resolved_at });
      spans.set(row.service_id, list);
    }
    return spans;
  }

  async saveWindows(windows: readonly StoredWindow[], until: number): Promise<void> {
    this.db.transaction(() => {
      for (const window of windows) {
        const latency = window.latency;
        this.putWindow.run(
          window.service_id,
          Math.floor(window.start / 1000),
          window.checks,
          window.failures,
          window.availability,
          latency?.p50 ?? null,
          latency?.p95 ?? null,
          latency?.p99 ?? null,
          latency?.max ?? null,
        );
      }
      this.writeMark.run(until);
    })();
  }

  async windows(serviceId: string, from: number, to: number): Promise<StoredWindow[]> {
    return (this.readWindows.all(serviceId, Math.floor(from / 1000), Math.ceil(to / 1000)) as WindowRow[]).map(fromRow);
  }

  async windowsSince(from: number): Promise<StoredWindow[]> {
    return (this.readAllWindows.all(Math.floor(from / 1000)) as WindowRow[]).map(fromRow);
  }

  async totals(from: number, to: number): Promise<Map<string, WindowTotals>> {
    const rows = this.sumWindows.all(Math.floor(from / 1000), Math.ceil(to / 1000)) as {
      service_id: string;
      checks: number;
      failures: number;
      availability_sum: number;
      known: number;
    }[];
    return new Map(
      rows.map((row) => [
        row.service_id,
        { checks: row.checks, failures: row.failures, availabilitySum: row.availability_sum, known: row.known },
      ]),
    );
  }

  async trim(windowsBefore: number, pingsBefore: number, limit: number): Promise<number> {
    return this.db.transaction(
      () => this.trimWindows.run(Math.ceil(windowsBefore / 1000), limit).changes + this.trimPings.run(pingsBefore, limit).changes,
    )();
  }
}
