import type { HealthCheckEntry } from '@beacon/contracts';
import type { Database, Statement } from 'better-sqlite3';
import { decodeCheck, packCheck, unpackCheck, type StoredCheck } from './check-codec';

interface PingRow extends StoredCheck {
  checked_at: number;
}

/** A stored result with its series, for reads that span every service. */
export interface SeriesPing {
  sid: number;
  checked_at: number;
  entry: HealthCheckEntry;
}

/** `checked_at / 1000` first, so SQLite reads the index by second; the exact bounds filter after it. */
const SECOND = 'checked_at / 1000';

/**
 * The check results (pings): a ring of `ringSize` slots per service series in table
 * `pings` (schema.ts), on the store's one connection and inside its transactions. Only this
 * process writes the file, so the next seq of each series is kept here.
 */
export class SqlitePings {
  private readonly put: Statement;
  private readonly dropSeries: Statement;
  private readonly readSeries: Statement;
  private readonly readBetween: Statement;
  private readonly trimBefore: Statement;
  private readonly perSecond: Statement;
  private readonly lastSeqs: Statement;
  /** Next seq per series. */
  private next = new Map<number, number>();

  constructor(
    db: Database,
    /** Slots per series: its newest this many results are kept (`BEACON_PINGS_PER_SERVICE`). */
    readonly ringSize: number,
  ) {
    this.put = db.prepare('INSERT OR REPLACE INTO pings (sid, slot, seq, checked_at, v, x) VALUES (?, ?, ?, ?, ?, ?)');
    this.dropSeries = db.prepare('DELETE FROM pings WHERE sid = ?');
    this.readSeries = db.prepare('SELECT checked_at, v, x FROM pings WHERE sid = ? AND checked_at >= ? ORDER BY seq DESC');
    this.readBetween = db.prepare(
      `SELECT sid, checked_at, v, x FROM pings WHERE ${SECOND} >= ? AND ${SECOND} <= ? AND checked_at >= ? AND checked_at < ?`,
    );
    this.trimBefore = db.prepare(
      `DELETE FROM pings WHERE (sid, slot) IN (SELECT sid, slot FROM pings WHERE ${SECOND} <= ? AND checked_at < ? LIMIT ?)`,
    );
    this.perSecond = db.prepare(`SELECT ${SECOND} AS second, COUNT(*) AS n FROM pings WHERE ${SECOND} >= ? GROUP BY second`);
    this.lastSeqs = db.prepare('SELECT sid, MAX(seq) AS seq FROM pings GROUP BY sid');
  }

  /** Reads each series' next seq back (after a failed commit too). */
  load(): void {
    const rows = this.lastSeqs.all() as { sid: number; seq: number }[];
    this.next = new Map(rows.map((row) => [row.sid, row.seq + 1]));
  }

  /** Stores a result in the series' next slot, over its oldest once the ring is full. */
  append(sid: number, entry: HealthCheckEntry, checkedAt: number): void {
    const seq = this.next.get(sid) ?? 0;
    const stored = packCheck(entry, checkedAt);
    this.put.run(sid, seq % this.ringSize, seq, checkedAt, stored.v, stored.x);
    this.next.set(sid, seq + 1);
  }

  /** Replaces a series' results with `history` (oldest first; past the ring's size the oldest go). */
  replace(sid: number, history: readonly HealthCheckEntry[]): void {
    this.remove(sid);
    for (const entry of history) this.append(sid, entry, Date.parse(entry.checked_at));
  }

  remove(sid: number): void {
    this.dropSeries.run(sid);
    this.next.delete(sid);
  }

  /** A series' newest `limit` results since `since` (epoch ms), newest first, and how many there are. */
  history(sid: number, since: number, limit: number): { checks: HealthCheckEntry[]; total: number } {
    const rows = this.readSeries.all(sid, since) as PingRow[];
    return { checks: rows.slice(0, limit).map((row) => unpackCheck(row, row.checked_at)), total: rows.length };
  }

  /** Every series' results in `[from, to)`. */
  between(from: number, to: number): SeriesPing[] {
    const rows = this.readBetween.all(Math.floor(from / 1000), Math.floor(to / 1000), from, to) as (PingRow & { sid: number })[];
    return rows.map((row) => ({ sid: row.sid, checked_at: row.checked_at, entry: unpackCheck(row, row.checked_at) }));
  }

  /** Removes up to `limit` results older than `before`; the rings' next seqs stay. */
  trim(before: number, limit: number): number {
    return this.trimBefore.run(Math.floor(before / 1000), before, limit).changes;
  }

  /** Results per second (epoch s) since `since` (epoch ms). */
  countsPerSecond(since: number): { second: number; n: number }[] {
    return this.perSecond.all(Math.floor(since / 1000)) as { second: number; n: number }[];
  }
}

/**
 * Moves the results of a file written by version 6 or earlier (table `health_checks`: the
 * service id and a JSON document per row) into `pings`, the newest `ringSize` of each
 * registered service in their order, and drops the old table: one transaction, at open.
 */
export function migrateHealthChecks(
  db: Database,
  pings: SqlitePings,
  seriesOf: (serviceId: string) => number,
  registered: (serviceId: string) => boolean,
): number {
  const old = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'health_checks'`).get();
  if (!old) return 0;
  let moved = 0;
  db.transaction(() => {
    const services = db.prepare('SELECT DISTINCT service_id FROM health_checks').pluck().all() as string[];
    const rows = db.prepare('SELECT checked_at, doc FROM health_checks WHERE service_id = ? ORDER BY seq DESC LIMIT ?');
    for (const serviceId of services.filter(registered)) {
      const newest = rows.all(serviceId, pings.ringSize) as { checked_at: number; doc: string }[];
      const sid = seriesOf(serviceId);
      for (const row of newest.reverse()) pings.append(sid, decodeCheck(row.doc, row.checked_at), row.checked_at);
      moved += newest.length;
    }
    db.exec('DROP TABLE health_checks');
  })();
  return moved;
}
