import type { Database, Statement } from 'better-sqlite3';
import { passed, type CheckPoint, type ExpiredSpan, type StoredWindow, type WindowTotals } from '../../uptime/uptime-math';
import type { UptimeStore } from '../service-store';
import type { SqlitePings } from './sqlite-pings';
import { BLOCK_S, blockOf, decodeBlock, encodeBlock, mergeCells, type Cell } from './uptime-blocks';

/** Availability is stored in 1/10,000, response times in 0.1 ms: small integers, a byte or two each. */
const UP_SCALE = 10_000;
const MS_SCALE = 10;

const fromCell = (serviceId: string, cell: Cell): StoredWindow => ({
  service_id: serviceId,
  start: cell.start * 1000,
  checks: cell.checks,
  failures: cell.failures,
  availability: cell.checks > 0 ? (cell.checks - cell.failures) / cell.checks : cell.up === null ? null : cell.up / UP_SCALE,
  latency:
    cell.p50 === null
      ? null
      : {
          p50: cell.p50 / MS_SCALE,
          p95: (cell.p95 ?? cell.p50) / MS_SCALE,
          p99: (cell.p99 ?? cell.p50) / MS_SCALE,
          max: (cell.max ?? cell.p50) / MS_SCALE,
        },
});

const scaled = (ms: number | undefined): number | null => (ms === undefined ? null : Math.round(ms * MS_SCALE));

const toCell = (window: StoredWindow): Cell => ({
  start: Math.floor(window.start / 1000),
  checks: window.checks,
  failures: window.failures,
  up: window.checks > 0 || window.availability === null ? null : Math.round(window.availability * UP_SCALE),
  p50: scaled(window.latency?.p50),
  p95: scaled(window.latency?.p95),
  p99: scaled(window.latency?.p99),
  max: scaled(window.latency?.max),
});

interface BlockRow {
  block: number;
  w: Uint8Array;
}

/**
 * Uptime windows in the store's file, on its one connection: each service's windows under a
 * small integer (`uptime_series`), packed six hours to a row (`uptime_blocks`, keyed (series,
 * block start), uptime-blocks.ts): about 7 bytes a window, so 90 days of 5-minute windows cost
 * a service under 200 KB. Reads go series by series, a range of the primary key each.
 */
export class SqliteUptime implements UptimeStore {
  private readonly readMark: Statement;
  private readonly writeMark: Statement;
  private readonly readExpired: Statement;
  private readonly readBlock: Statement;
  private readonly putBlock: Statement;
  private readonly deleteBlock: Statement;
  private readonly readBlocks: Statement;
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
    this.readBlock = db.prepare('SELECT w FROM uptime_blocks WHERE sid = ? AND block = ?').pluck();
    this.putBlock = db.prepare('INSERT OR REPLACE INTO uptime_blocks (sid, block, w) VALUES (?, ?, ?)');
    this.deleteBlock = db.prepare('DELETE FROM uptime_blocks WHERE sid = ? AND block = ?');
    this.readBlocks = db.prepare('SELECT block, w FROM uptime_blocks WHERE sid = ? AND block > ? AND block < ? ORDER BY block');
    this.readSeries = db.prepare('SELECT sid, service_id FROM uptime_series');
    this.addSeries = db.prepare('INSERT INTO uptime_series (service_id) VALUES (?)');
    this.dropSeries = db.prepare('DELETE FROM uptime_series WHERE sid = ?');
    this.dropWindows = db.prepare('DELETE FROM uptime_blocks WHERE sid = ?');
    this.load();
  }

  /** A series' windows starting in `[from, to)` (epoch s), in order. */
  private cells(sid: number, from: number, to: number): Cell[] {
    const cells: Cell[] = [];
    for (const row of this.readBlocks.all(sid, from - BLOCK_S, to) as BlockRow[]) {
      for (const cell of decodeBlock(row.block, row.w)) if (cell.start >= from && cell.start < to) cells.push(cell);
    }
    return cells;
  }

  /** Puts `updates` (one series, one block) into their block. */
  private saveBlock(sid: number, block: number, updates: readonly Cell[]): void {
    const blob = this.readBlock.get(sid, block) as Uint8Array | undefined;
    const cells = blob === undefined ? [...updates].sort((a, b) => a.start - b.start) : mergeCells(decodeBlock(block, blob), updates);
    this.putBlock.run(sid, block, encodeBlock(block, cells));
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
        const blocks = new Map<string, { sid: number; block: number; cells: Cell[] }>();
        for (const window of windows) {
          if (!this.series.has(window.service_id)) added.push(window.service_id);
          const sid = this.seriesOf(window.service_id);
          const cell = toCell(window);
          const block = blockOf(cell.start);
          const key = `${sid}:${block}`;
          const entry = blocks.get(key) ?? { sid, block, cells: [] };
          entry.cells.push(cell);
          blocks.set(key, entry);
        }
        for (const { sid, block, cells } of blocks.values()) this.saveBlock(sid, block, cells);
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
    return this.cells(sid, Math.ceil(from / 1000), Math.ceil(to / 1000)).map((cell) => fromCell(serviceId, cell));
  }

  async windowsSince(from: number): Promise<StoredWindow[]> {
    const windows: StoredWindow[] = [];
    for (const [serviceId, sid] of this.series) {
      for (const cell of this.cells(sid, Math.ceil(from / 1000), Number.MAX_SAFE_INTEGER)) windows.push(fromCell(serviceId, cell));
    }
    return windows;
  }

  async totals(from: number, to: number): Promise<Map<string, WindowTotals>> {
    const totals = new Map<string, WindowTotals>();
    for (const [serviceId, sid] of this.series) {
      const sum: WindowTotals = { checks: 0, failures: 0, availabilitySum: 0, known: 0 };
      for (const cell of this.cells(sid, Math.ceil(from / 1000), Math.ceil(to / 1000))) {
        sum.checks += cell.checks;
        sum.failures += cell.failures;
        if (cell.checks > 0) sum.availabilitySum += (cell.checks - cell.failures) / cell.checks;
        else if (cell.up !== null) sum.availabilitySum += cell.up / UP_SCALE;
        else continue;
        sum.known += 1;
      }
      if (sum.known > 0) totals.set(serviceId, sum);
    }
    return totals;
  }

  async trim(windowsBefore: number, pingsBefore: number, limit: number): Promise<number> {
    return this.db.transaction(() => {
      let removed = 0;
      const before = Math.ceil(windowsBefore / 1000);
      for (const sid of this.series.values()) {
        for (const row of this.readBlocks.all(sid, -BLOCK_S, blockOf(before) + 1) as BlockRow[]) {
          const cells = decodeBlock(row.block, row.w);
          const kept = cells.filter((cell) => cell.start >= before);
          removed += cells.length - kept.length;
          if (kept.length === 0) this.deleteBlock.run(sid, row.block);
          else if (kept.length < cells.length) this.putBlock.run(sid, row.block, encodeBlock(row.block, kept));
        }
      }
      return removed + this.pings.trim(pingsBefore, limit);
    })();
  }
}
