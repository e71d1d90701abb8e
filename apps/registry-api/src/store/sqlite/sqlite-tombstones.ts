import type { Database, Statement } from 'better-sqlite3';
import { tombstoneLive, type Identity, type Tombstone } from '../service-store';

/**
 * Tombstone writes of the store's pending group commit, by service id (null: removed),
 * not in the file yet. The record's removal is already in memory then, so a lookup that
 * read the file alone would miss the tombstone: a heartbeat racing its service's DELETE
 * would get 404 (register again) instead of 410, and a registration would not take the
 * id back.
 */
export type PendingTombstones = ReadonlyMap<string, Tombstone | null> | undefined;

/**
 * The embedded store's tombstones, read from the file, not kept in memory: they are read
 * only on the rare paths (a heartbeat or a lookup that found no record, a registration
 * that creates one), and up to `BEACON_TOMBSTONE_MAX` of them in memory would cost about
 * 900 bytes each (90 MB at the default 100,000). Writes go through the store's group
 * commit (`apply`, inside its transaction), so a tombstone is stored with its delete.
 */
export class SqliteTombstones {
  private readonly byId: Statement;
  private readonly byInstance: Statement;
  private readonly byEndpoint: Statement;
  private readonly upsert: Statement;
  private readonly remove: Statement;
  private readonly removeExpired: Statement;
  private readonly dropOldest: Statement;
  private readonly countAll: Statement;
  private readonly live: Statement;
  /** Rows in the table (this process is its only writer). */
  size = 0;

  constructor(
    db: Database,
    /** `BEACON_TOMBSTONE_MAX`; 0: no limit. */
    private readonly max: number,
  ) {
    this.byId = db.prepare('SELECT doc FROM tombstones WHERE service_id = ? AND expires_at > ?').pluck();
    // The newest deletion when several hold an identity (only after a cap or an import, each registration takes one back).
    this.byInstance = db
      .prepare('SELECT doc FROM tombstones WHERE name = ? AND instance_id = ? AND expires_at > ? ORDER BY deleted_at DESC LIMIT 1')
      .pluck();
    this.byEndpoint = db
      .prepare('SELECT doc FROM tombstones WHERE name = ? AND host = ? AND port = ? AND expires_at > ? ORDER BY deleted_at DESC LIMIT 1')
      .pluck();
    this.upsert = db.prepare(
      'INSERT INTO tombstones (service_id, name, host, port, instance_id, deleted_at, expires_at, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.remove = db.prepare('DELETE FROM tombstones WHERE service_id = ?');
    this.removeExpired = db.prepare('DELETE FROM tombstones WHERE expires_at <= ?');
    this.dropOldest = db.prepare(
      'DELETE FROM tombstones WHERE service_id IN (SELECT service_id FROM tombstones ORDER BY deleted_at, service_id LIMIT ?)',
    );
    this.countAll = db.prepare('SELECT COUNT(*) FROM tombstones').pluck();
    this.live = db.prepare('SELECT doc FROM tombstones WHERE expires_at > ? ORDER BY deleted_at, service_id').pluck();
    this.load();
  }

  /** Reads the count again (at open, and after a failed commit put memory back to the file). */
  load(): void {
    this.size = this.countAll.get() as number;
  }

  get(serviceId: string, now: number, pending?: PendingTombstones): Tombstone | null {
    const staged = pending?.get(serviceId);
    if (staged !== undefined) return staged && tombstoneLive(staged, now) ? staged : null;
    return parse(this.byId.get(serviceId, now));
  }

  instance(name: string, instanceId: string, now: number, pending?: PendingTombstones): Tombstone | null {
    const stored = parse(this.byInstance.get(name, instanceId, now));
    return newest(stored, pending, now, (staged) => staged.name === name && staged.instance_id === instanceId);
  }

  /** The live tombstone a registration of this identity takes its id back from (instance first, as registration matches). */
  forIdentity(identity: Identity, now: number, pending?: PendingTombstones): Tombstone | null {
    const { name, host, port, instance_id } = identity;
    const byInstance = instance_id ? this.instance(name, instance_id, now, pending) : null;
    if (byInstance) return byInstance;
    const stored = parse(this.byEndpoint.get(name, host, port, now));
    return newest(stored, pending, now, (staged) => staged.name === name && staged.host === host && staged.port === port);
  }

  all(now: number): Tombstone[] {
    return (this.live.all(now) as string[]).map((doc) => JSON.parse(doc) as Tombstone);
  }

  /**
   * Inside the caller's transaction: writes (null removes), removes the expired at
   * `purgeAt`, then drops the oldest past the cap.
   */
  apply(changes: ReadonlyMap<string, Tombstone | null>, purgeAt: number | null): void {
    if (changes.size === 0 && purgeAt === null) return;
    // The size is counted along (a COUNT(*) here cost ~3.5 ms per commit at 100,000 tombstones).
    let size = this.size;
    for (const [id, tombstone] of changes) {
      size -= this.remove.run(id).changes;
      if (tombstone !== null) {
        const { service_id, name, host, port, instance_id, deleted_at, expires_at } = tombstone;
        this.upsert.run(service_id, name, host, port, instance_id, deleted_at, expires_at, JSON.stringify(tombstone));
        size += 1;
      }
    }
    if (purgeAt !== null) size -= this.removeExpired.run(purgeAt).changes;
    if (this.max > 0 && size > this.max) size -= this.dropOldest.run(size - this.max).changes;
    this.size = size;
  }
}

/**
 * The newest live tombstone of an identity: the file's (unless the pending commit removes or
 * replaces it) or one the pending commit writes. The pending batch is one turn's writes: small.
 */
function newest(
  stored: Tombstone | null,
  pending: PendingTombstones,
  now: number,
  matches: (staged: Tombstone) => boolean,
): Tombstone | null {
  if (!pending || pending.size === 0) return stored;
  let best = stored && pending.has(stored.service_id) ? null : stored;
  for (const staged of pending.values()) {
    if (staged && tombstoneLive(staged, now) && matches(staged) && (!best || staged.deleted_at >= best.deleted_at)) best = staged;
  }
  return best;
}

const parse = (doc: unknown): Tombstone | null => (typeof doc === 'string' ? (JSON.parse(doc) as Tombstone) : null);
