import type { Database, Statement } from 'better-sqlite3';
import { passed, type CheckPoint, type ExpiredSpan, type StoredWindow, type WindowTotals } from '../../uptime/uptime-math';
import type { UptimeStore } from '../service-store';
import type { SqlitePings } from './sqlite-pings';

interface WindowRow {
  sid: number;
  start: number;
  checks: number;
  failures: number;
  up: number | null;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
}

/** Availability is stored in 1/10,000, response times in 0.1 ms: small integers, a byte or two each. */
const UP_SCALE = 10_000;
const MS_SCALE = 10;

const fromRow = (serviceId: string, row: WindowRow): StoredWindow => ({
  service_id: serviceId,
  start: row.start * 1000,
  checks: row.checks,
  failures: row.failures,
  availability: row.checks > 0 ? (row.checks - row.failures) / row.checks : row.up === null ? null : row.up / UP_SCALE,
  latency:
    row.p50 === null
      ? null
      : {
          p50: row.p50 / MS_SCALE,
          p95: (row.p95 ?? row.p50) / MS_SCALE,
          p99: (row.p99 ?? row.p50) / MS_SCALE,
          max: (row.max ?? row.p50) / MS_SCALE,
        },
});

const scaled = (ms: number | undefined): number | null => (ms === undefined ? null : Math.round(ms * MS_SCALE));

/**
 * Uptime windows in the store's file, on its one connection: each service's windows under a
 * small integer (`uptime_series`), keyed (series, start) in a WITHOUT ROWID table with no
 * other index, so 90 days of 5-minute windows cost a service about 0.5 MB. Reads that span
 * every service go series by series (a range of the primary key each).
 */
export class SqliteUptime implements UptimeStore {
  private readonly readMark: Statement;
  private readonly writeMark: Statement;
  private readonly readExpired: Statement;
  private readonly putWindow: Statement;
  private readonly readWindows: Statement;
  private readonly sumWindows: Statement;
  private readonly trimWindows: Statement;
  private readonly readSeries: Statement;
  private readonly addSeries: Statement;
  private readonly dropSeries: Statement;
  private readonly dropWindows: Statement;
  /** service_id → series; this process is the file's only writer. */
  private series = new Map<string, number>();

  constructor(
    private readonly db: Database,
    private readonly pings: SqlitePings,
  ) {
    this.readMark = db.prepare(`SELECT value FROM meta WHERE key = 'uptime_aggregated_until'`);
    this.writeMark = db.prepare(`UPDATE meta SET value = ? WHERE key = 'uptime_aggregated_until'`);
    this.readExpired = db.prepare(
      `SELECT service_id, started_at, resolved_at FROM incidents WHERE kind = 'expired' AND started_at < ? AND (resolved_at IS NULL OR resolved_at > ?)`,
    );
    this.putWindow = db.prepare(
      'INSERT OR REPLACE INTO uptime (sid, start, checks, failures, up, p50, p95, p99, max) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.readWindows = db.prepare('SELECT * FROM uptime WHERE sid = ? AND start >= ? AND start < ? ORDER BY start');
    this.sumWindows = db.prepare(
      `SELECT SUM(checks) AS checks, SUM(failures) AS failures,
              TOTAL(CASE WHEN checks > 0 THEN (checks - failures) * 1.0 / checks ELSE up * 1.0 / ${UP_SCALE} END) AS availability_sum,
              COUNT(CASE WHEN checks > 0 OR up IS NOT NULL THEN 1 END) AS known
       FROM uptime WHERE sid = ? AND start >= ? AND start < ?`,
    );
    this.trimWindows = db.prepare('DELETE FROM uptime WHERE sid = ? AND start < ?');
    this.readSeries = db.prepare('SELECT sid, service_id FROM uptime_series');
    this.addSeries = db.prepare('INSERT INTO uptime_series (service_id) VALUES (?)');
    this.dropSeries = db.prepare('DELETE FROM uptime_series WHERE sid = ?');
    this.dropWindows = db.prepare('DELETE FROM uptime WHERE sid = ?');
    this.load();
  }

  /** Reads the series back (after a failed commit too: the store reloads what is durable). */
  load(): void {
    const rows = this.readSeries.all() as { sid: number; service_id: string }[];
    this.series = new Map(rows.map((row) => [row.service_id, row.sid]));
  }

  /** Removes a service's pings, windows and series (inside the store's transaction that removes the service). */
  removeService(serviceId: string): void {
    const sid = this.series.get(serviceId);
    if (sid === undefined) return;
    this.pings.remove(sid);
    this.dropWindows.run(sid);
    this.dropSeries.run(sid);
    this.series.delete(serviceId);
  }

  /** The service's series, if it has one. */
  seriesIfAny(serviceId: string): number | undefined {
    return this.series.get(serviceId);
  }

  /**
   * The service's series, made on first use (inside a store transaction: a failed commit
   * reloads the series from the file).
   */
  seriesOf(serviceId: string): number {
    let sid = this.series.get(serviceId);
    if (sid === undefined) {
      sid = Number(this.addSeries.run(serviceId).lastInsertRowid);
      this.series.set(serviceId, sid);
    }
    return sid;
  }

  async aggregatedUntil(): Promise<number> {
    return (this.readMark.get() as { value: number }).value;
  }

  async checksBetween(from: number, to: number): Promise<CheckPoint[]> {
    const services = new Map<number, string>();
    for (const [serviceId, sid] of this.series) services.set(sid, serviceId);
    const points: CheckPoint[] = [];
    for (const ping of this.pings.between(from, to)) {
      const serviceId = services.get(ping.sid);
      if (serviceId === undefined) continue;
      points.push({
        service_id: serviceId,
        checked_at: ping.checked_at,
        ok: passed(ping.entry),
        response_time_ms: ping.entry.response_time_ms,
      });
    }
    return points;
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
    const added: string[] = [];
    try {
      this.db.transaction(() => {
        for (const window of windows) {
          if (!this.series.has(window.service_id)) added.push(window.service_id);
          const latency = window.latency;
          this.putWindow.run(
            this.seriesOf(window.service_id),
            Math.floor(window.start / 1000),
            window.checks,
            window.failures,
            window.checks > 0 || window.availability === null ? null : Math.round(window.availability * UP_SCALE),
            scaled(latency?.p50),
            scaled(latency?.p95),
            scaled(latency?.p99),
            scaled(latency?.max),
          );
        }
        this.writeMark.run(until);
      })();
    } catch (error) {
      for (const serviceId of added) this.series.delete(serviceId);
      throw error;
    }
  }

  async windows(serviceId: string, from: number, to: number): Promise<StoredWindow[]> {
    const sid = this.series.get(serviceId);
    if (sid === undefined) return [];
    const rows = this.readWindows.all(sid, Math.ceil(from / 1000), Math.ceil(to / 1000)) as WindowRow[];
    return rows.map((row) => fromRow(serviceId, row));
  }

  async windowsSince(from: number): Promise<StoredWindow[]> {
    const windows: StoredWindow[] = [];
    const end = Number.MAX_SAFE_INTEGER;
    for (const [serviceId, sid] of this.series) {
      for (const row of this.readWindows.all(sid, Math.ceil(from / 1000), end) as WindowRow[]) windows.push(fromRow(serviceId, row));
    }
    return windows;
  }

  async totals(from: number, to: number): Promise<Map<string, WindowTotals>> {
    const totals = new Map<string, WindowTotals>();
    for (const [serviceId, sid] of this.series) {
      const row = this.sumWindows.get(sid, Math.ceil(from / 1000), Math.ceil(to / 1000)) as {
        checks: number | null;
        failures: number | null;
        availability_sum: number;
        known: number;
      };
      if (row.known > 0) {
        totals.set(serviceId, {
          checks: row.checks ?? 0,
          failures: row.failures ?? 0,
          availabilitySum: row.availability_sum,
          known: row.known,
        });
      }
    }
    return totals;
  }

  async trim(windowsBefore: number, pingsBefore: number, limit: number): Promise<number> {
    return this.db.transaction(() => {
      let removed = 0;
      for (const sid of this.series.values()) removed += this.trimWindows.run(sid, Math.ceil(windowsBefore / 1000)).changes;
      return removed + this.pings.trim(pingsBefore, limit);
    })();
  }
}
