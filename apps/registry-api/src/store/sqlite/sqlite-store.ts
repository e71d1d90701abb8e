import { HEALTH_HISTORY, type HealthCheckEntry, type Incident, type StatusCounts } from '@beacon/contracts';
import { StartupError } from '@beacon/platform';
import Database, { type Database as Db, type Statement } from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { withMigrationDefaults, type ServiceDraft, type ServiceRecord } from '../../catalog/service-record';
import { RecentCount } from '../../stats/recent-count';
import { CatalogIndex, cursorOf } from '../memory/catalog-index';
import {
  CatalogFullError,
  IdentityConflictError,
  STATS_WINDOW_SECONDS,
  catalogFull,
  importRevisions,
  StoreNotEmptyError,
  type CatalogCounts,
  type CatalogImport,
  eventServiceId,
  isIncidentEvent,
  type EventsOf,
  type ImportOutcome,
  type IncidentFilter,
  type IncidentOutboxEvent,
  type OutboxEvent,
  type OutboxState,
  type PendingEvent,
  type Identity,
  type ModifyOutcome,
  type Page,
  type RegisterOutcome,
  type ServiceFilter,
  type ServiceStore,
  type StoreHandle,
  type SnapshotPage,
  type Tombstone,
  restorableTombstones,
} from '../service-store';
import { OLDEST_SUPPORTED_VERSION, SCHEMA, SCHEMA_VERSION } from './schema';
import { SqliteIncidents } from './sqlite-incidents';
import { SqliteTombstones } from './sqlite-tombstones';
import { migrateHealthChecks, SqlitePings } from './sqlite-pings';
import { SqliteUptime } from './sqlite-uptime';

export interface SqliteStoreOptions {
  path: string;
  /**
   * `normal`: a committed write survives the process being killed (WAL is in the OS);
   * `full`: it also survives power loss, at an fsync per commit.
   */
  synchronous: 'normal' | 'full';
  /** How long to wait for another process to let go of the file (default 5 s). */
  lockTimeoutMs?: number;
  /** Records the catalog may hold (`BEACON_MAX_SERVICES`); 0 or absent: no limit. */
  maxServices?: number;
  /** Most outbox entries kept while JetStream is away (`BEACON_OUTBOX_MAX_EVENTS`); 0 or absent: no limit. */
  outboxMaxEvents?: number;
  /** Check results (pings) kept per service (`BEACON_PINGS_PER_SERVICE`); default `HEALTH_HISTORY.perService`. */
  pingsPerService?: number;
  /** Tombstones kept at most (`BEACON_TOMBSTONE_MAX`), the oldest dropped first; 0 or absent: no limit. */
  tombstoneMax?: number;
}

/** Another process holds the file: two stores on one file would each trust their own memory. */
export class StoreInUseError extends StartupError {
  constructor(path: string) {
    super(
      `${path} is in use by another process: the embedded store serves one registry-api. ` +
        'Stop the other one, give this one its own BEACON_SQLITE_PATH, or use MongoDB (BEACON_MONGODB_URL) for several replicas.',
    );
    this.name = 'StoreInUseError';
  }
}

/** One atomic change: rows to write and delete. */
interface Change {
  put: ServiceRecord[];
  remove: string[];
}

/** An event on its way into the outbox. */
interface StagedEvent {
  serviceId: string;
  subject: string;
  data: string;
  createdAt: number;
  /** An incident event's incident is written with it. */
  incident: IncidentOutboxEvent | null;
}

/** Changes waiting for the next commit, and who waits for it. */
interface Batch {
  /** Last state per id; null deletes the row (and the service's history). */
  writes: Map<string, ServiceRecord | null>;
  checks: { serviceId: string; checkedAt: number; entry: HealthCheckEntry }[];
  /** Last state per tombstone id; null deletes it. */
  tombstones: Map<string, Tombstone | null>;
  /** Remove tombstones expired at this instant (null: no purge in this batch). */
  purgeTombstonesAt: number | null;
  /** Events of those changes, in the order the changes were made. */
  events: StagedEvent[];
  /** Open incidents whose counts or cause changed, written without an event. */
  progress: Incident[];
  /** Outbox entries up to this seq are published: removed in this commit. */
  published: number;
  revision: number;
  waiters: { resolve: () => void; reject: (error: unknown) => void }[];
}

/**
 * The embedded store for a single registry-api process. Every record lives in memory for
 * reads and identity checks. A change applies to memory at once and is committed to
 * SQLite (WAL) together with every other change of the same event-loop turn (group
 * commit: one transaction however many requests arrived together); each caller's
 * promise settles only after that commit, so an acknowledged write survives a crash.
 * Being the only writer is what makes the memory copy authoritative: run one replica
 * on this store.
 */
export class SqliteStore implements ServiceStore {
  readonly backend = 'sqlite' as const;

  get handle(): StoreHandle {
    return { backend: 'sqlite', db: this.db };
  }

  get cachedRecords(): number {
    return this.index.size;
  }

  private readonly db: Db;
  private index = new CatalogIndex();
  private readonly tombstones: SqliteTombstones;
  private revision = 0;
  private batch: Batch | null = null;
  private readonly insert: Statement;
  private readonly update: Statement;
  private readonly deleteRow: Statement;
  private readonly saveRevision: Statement;
  /** Row of each service in `service_docs`: updates and deletes go by rowid, no index on ids. */
  private rowids = new Map<string, number | bigint>();
  /** The check results (pings), a ring per service. */
  private readonly pings: SqlitePings;
  /**
   * Stored checks by `checked_at` second, for the last minute: this process is the only
   * writer, so it sees every check stored (and reads the recent ones back on load).
   */
  private readonly recentChecks = new RecentCount(STATS_WINDOW_SECONDS);
  private readonly maxServices: number;
  private readonly outboxMax: number;
  private readonly outboxEpoch: string;
  /**
   * Names the entries this process writes, beside the file's epoch and the seq: after a
   * power cut under `synchronous=normal` the file (and its seqs) may go back a little, and a
   * new entry must not take the id of one already published (JetStream would drop it as a
   * duplicate). An entry keeps its writer's number, so its resends keep their id.
   */
  private readonly boot = Math.floor(Math.random() * 2 ** 32);
  private readonly insertEvent: Statement;
  private readonly deleteEventsUpTo: Statement;
  private readonly readEvents: Statement;
  private readonly dropOldestEvents: Statement;
  private readonly oldestEvent: Statement;
  private readonly incidentTable: SqliteIncidents;
  readonly uptime: SqliteUptime;
  /** Entries in the outbox table (kept here: the table is only written by this process). */
  private outboxDepth = 0;
  /** The highest seq handed to the publisher: entries up to it may be on their way, never dropped. */
  private outboxClaimed = 0;
  /** Entries dropped, oldest first, because the outbox was full (`outboxMaxEvents`). */
  outboxDropped = 0;

  constructor(options: SqliteStoreOptions) {
    this.maxServices = options.maxServices ?? 0;
    this.outboxMax = options.outboxMaxEvents ?? 0;
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
    this.db = new Database(options.path);
    // Exclusive: this process alone may read or write the file while it runs (set before
    // WAL, so no shared-memory index is made); the OS drops the lock if the process dies.
    this.db.pragma('locking_mode = EXCLUSIVE');
    this.db.pragma(`busy_timeout = ${options.lockTimeoutMs ?? 5000}`);
    try {
      this.db.pragma('journal_mode = WAL');
      this.db.exec(SCHEMA);
    } catch (error) {
      this.db.close();
      if (error instanceof Error && 'code' in error && error.code === 'SQLITE_BUSY') throw new StoreInUseError(options.path);
      throw error;
    }
    this.db.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    const version = this.readMeta('schema_version');
    if (version < OLDEST_SUPPORTED_VERSION || version > SCHEMA_VERSION) {
      throw new StartupError(
        `${options.path} has schema version ${version}; this registry-api reads versions ${OLDEST_SUPPORTED_VERSION}–${SCHEMA_VERSION}`,
      );
    }
    // An outbox made before entries named their writer (`boot`) gains the column.
    const outboxColumns = this.db.prepare('PRAGMA table_info(outbox)').all() as { name: string }[];
    if (!outboxColumns.some((column) => column.name === 'boot'))
      this.db.exec('ALTER TABLE outbox ADD COLUMN boot INTEGER NOT NULL DEFAULT 0');
    // Newer versions only add tables, which SCHEMA has just created.
    this.db.prepare(`UPDATE meta SET value = ? WHERE key = 'schema_version'`).run(SCHEMA_VERSION);
    this.insert = this.db.prepare('INSERT INTO service_docs (doc) VALUES (?)');
    this.update = this.db.prepare('UPDATE service_docs SET doc = ? WHERE rowid = ?');
    this.deleteRow = this.db.prepare('DELETE FROM service_docs WHERE rowid = ?');
    this.saveRevision = this.db.prepare(`UPDATE meta SET value = ? WHERE key = 'revision'`);
    this.tombstones = new SqliteTombstones(this.db, options.tombstoneMax ?? 0);
    this.insertEvent = this.db.prepare('INSERT INTO outbox (boot, service_id, subject, data, created_at) VALUES (?, ?, ?, ?, ?)');
    this.deleteEventsUpTo = this.db.prepare('DELETE FROM outbox WHERE seq <= ?');
    this.readEvents = this.db.prepare('SELECT seq, boot, subject, data, created_at FROM outbox ORDER BY seq LIMIT ?');
    this.dropOldestEvents = this.db.prepare('DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?)');
    this.oldestEvent = this.db.prepare('SELECT created_at FROM outbox ORDER BY seq LIMIT 1');
    this.outboxEpoch = this.readMeta('outbox_epoch').toString(36);
    this.incidentTable = new SqliteIncidents(this.db);
    this.pings = new SqlitePings(this.db, options.pingsPerService ?? HEALTH_HISTORY.perService);
    this.uptime = new SqliteUptime(this.db, this.pings);
    this.load();
    const moved = migrateHealthChecks(
      this.db,
      this.pings,
      (serviceId) => this.uptime.seriesOf(serviceId),
      (serviceId) => this.index.get(serviceId) !== null,
    );
    if (moved > 0) this.load();
  }

  /** Reads the catalog and the revision counter from disk into a fresh index. */
  private load(): void {
    const index = new CatalogIndex();
    const rowids = new Map<string, number | bigint>();
    const rows = this.db.prepare('SELECT rowid, doc FROM service_docs').iterate() as Iterable<{ rowid: number; doc: string }>;
    for (const row of rows) {
      const record = withMigrationDefaults(JSON.parse(row.doc) as Partial<ServiceRecord>);
      index.put(record);
      rowids.set(record.service_id, row.rowid);
    }
    this.index = index;
    this.rowids = rowids;
    this.tombstones.load();
    this.revision = this.readMeta('revision');
    this.pings.load();
    this.recentChecks.clear();
    for (const row of this.pings.countsPerSecond(Date.now() - STATS_WINDOW_SECONDS * 1000)) this.recentChecks.add(row.second * 1000, row.n);
    this.outboxDepth = (this.db.prepare('SELECT COUNT(*) AS n FROM outbox').get() as { n: number }).n;
    this.uptime.load();
    this.outboxClaimed = 0;
  }

  private readMeta(key: string): number {
    return (this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: number }).value;
  }

  /** The revisions a change will carry, without taking them yet. */
  private revisions(count: number): number[] {
    return Array.from({ length: count }, (_, offset) => this.revision + offset + 1);
  }

  /** Applies a change to memory now; resolves once it and its events are on disk. */
  private commit(
    change: Change,
    lastRevision: number,
    events: OutboxEvent[] = [],
    tombstones: Tombstone[] = [],
    cleared: string[] = [],
  ): Promise<void> {
    this.revision = lastRevision;
    for (const id of change.remove) this.index.delete(id);
    for (const record of change.put) this.index.put(record);
    const batch = this.pendingBatch();
    for (const id of cleared) batch.tombstones.set(id, null);
    for (const tombstone of tombstones) batch.tombstones.set(tombstone.service_id, tombstone);
    for (const id of change.remove) batch.writes.set(id, null);
    for (const record of change.put) batch.writes.set(record.service_id, record);
    const createdAt = Date.now();
    this.stage(batch, events, createdAt);
    batch.revision = lastRevision;
    return new Promise((resolve, reject) => batch.waiters.push({ resolve, reject }));
  }

  private stage(batch: Batch, events: readonly OutboxEvent[], createdAt: number): void {
    for (const event of events) {
      batch.events.push({
        serviceId: eventServiceId(event),
        subject: event.subject,
        data: JSON.stringify(event.payload),
        createdAt,
        incident: isIncidentEvent(event) ? event : null,
      });
    }
  }

  /** The batch the next flush commits, opened (and its flush scheduled) on first use in a turn. */
  private pendingBatch(): Batch {
    if (!this.batch) {
      this.batch = {
        writes: new Map(),
        checks: [],
        tombstones: new Map(),
        purgeTombstonesAt: null,
        events: [],
        progress: [],
        published: 0,
        revision: this.revision,
        waiters: [],
      };
      setImmediate(() => this.flush());
    }
    return this.batch;
  }

  /**
   * Writes the pending batch in one transaction. If that fails (disk full, I/O error),
   * memory is reloaded from disk so it never stays ahead of what is durable, and every
   * waiter gets the error: none of those changes was acknowledged.
   */
  private flush(): void {
    const batch = this.batch;
    this.batch = null;
    if (!batch) return;
    const stored: number[] = [];
    try {
      this.db.transaction(() => {
        for (const [id, record] of batch.writes) this.write(id, record);
        this.tombstones.apply(batch.tombstones, batch.purgeTombstonesAt);
        for (const check of batch.checks) {
          // A service removed since its result arrived keeps no history.
          if (!this.index.get(check.serviceId)) continue;
          this.pings.append(this.uptime.seriesOf(check.serviceId), check.entry, check.checkedAt);
          stored.push(check.checkedAt);
        }
        this.saveRevision.run(batch.revision);
        this.stageEvents(batch);
      })();
    } catch (error) {
      for (const waiter of batch.waiters) waiter.reject(error);
      // Memory goes back to what is durable. When even that cannot be read (the file gone,
      // the store closed at shutdown), every later write fails on the file the same way.
      if (this.db.open) {
        try {
          this.load();
        } catch {
          // Nothing more to do here: the next commit reports the failure to its callers.
        }
      }
      return;
    }
    // Counted once committed: the statistic is of stored results, so a crash cannot take back what it showed.
    for (const checkedAt of stored) this.recentChecks.add(checkedAt);
    for (const waiter of batch.waiters) waiter.resolve();
  }

  /**
   * The batch's outbox work, inside its transaction: published entries go, new ones come.
   * Past `outboxMax` the oldest entries not handed out are dropped and counted.
   */
  private stageEvents(batch: Batch): void {
    if (batch.published > 0) {
      const removed = this.deleteEventsUpTo.run(batch.published).changes;
      this.outboxDepth -= removed;
    }
    for (const incident of batch.progress) this.incidentTable.save(incident);
    for (const event of batch.events) {
      // An opening refused by the one-open-per-kind index is not news: no event.
      if (event.incident && !this.incidentTable.apply(event.incident)) continue;
      this.insertEvent.run(this.boot, event.serviceId, event.subject, event.data, event.createdAt);
      this.outboxDepth += 1;
    }
    if (this.outboxMax > 0 && this.outboxDepth > this.outboxMax) {
      const excess = this.outboxDepth - this.outboxMax;
      const dropped = this.dropOldestEvents.run(this.outboxClaimed, excess).changes;
      this.outboxDepth -= dropped;
      this.outboxDropped += dropped;
    }
  }

  /**
   * One row's write. New rows take the next rowid, so the inserts of a batch share the
   * last pages of the table instead of touching one random page each (fewer WAL pages,
   * shorter checkpoints).
   */
  private write(id: string, record: ServiceRecord | null): void {
    const rowid = this.rowids.get(id);
    if (record === null) {
      if (rowid !== undefined) this.deleteRow.run(rowid);
      this.uptime.removeService(id);
      this.rowids.delete(id);
    } else if (rowid !== undefined) {
      this.update.run(JSON.stringify(record), rowid);
    } else {
      this.rowids.set(id, this.insert.run(JSON.stringify(record)).lastInsertRowid);
    }
  }

  private assertIdentityFree(draft: ServiceDraft): void {
    const endpoint = this.index.atEndpoint(draft.name, draft.host, draft.port);
    if (endpoint && endpoint.service_id !== draft.service_id) throw new IdentityConflictError(endpoint);
    const instance = draft.instance_id === null ? null : this.index.withInstance(draft.name, draft.instance_id);
    if (instance && instance.service_id !== draft.service_id) throw new IdentityConflictError(instance);
  }

  async ping(): Promise<number> {
    const started = performance.now();
    this.db.prepare('SELECT 1').get();
    return performance.now() - started;
  }

  async close(): Promise<void> {
    this.flush();
    if (this.db.open) this.db.close();
  }

  async register(
    identity: Identity,
    build: (existing: ServiceRecord | null) => ServiceDraft,
    events?: EventsOf<RegisterOutcome>,
  ): Promise<RegisterOutcome> {
    const byInstance = identity.instance_id ? this.index.withInstance(identity.name, identity.instance_id) : null;
    const byEndpoint = this.index.atEndpoint(identity.name, identity.host, identity.port);
    const previous = byInstance ?? byEndpoint;
    const displaced = byEndpoint && previous && byEndpoint.service_id !== previous.service_id ? byEndpoint : null;
    // This process is the only writer, so the count is exact and nothing slips past it.
    if (previous === null && catalogFull(this.index.size, this.maxServices)) throw new CatalogFullError(this.maxServices);
    const revived = previous === null ? this.tombstones.forIdentity(identity, Date.now(), this.batch?.tombstones) : null;
    const built = build(previous);
    const draft = revived ? { ...built, service_id: revived.service_id } : built;
    const [first = 0, second = 0] = this.revisions(2);
    const superseded = displaced ? { ...displaced, revision: first } : null;
    const record: ServiceRecord = { ...draft, revision: superseded ? second : first };
    const outcome = { record, previous, superseded };
    // The registration that brings a deleted service back removes its tombstone, in the same commit.
    await this.commit(
      { put: [record], remove: superseded ? [superseded.service_id] : [] },
      record.revision,
      events?.(outcome),
      [],
      revived ? [revived.service_id] : [],
    );
    return outcome;
  }

  async get(serviceId: string): Promise<ServiceRecord | null> {
    return this.index.get(serviceId);
  }

  async modify(
    serviceId: string,
    mutate: (current: ServiceRecord) => ServiceDraft | null,
    events?: EventsOf<ModifyOutcome>,
  ): Promise<ModifyOutcome | null> {
    const previous = this.index.get(serviceId);
    if (!previous) return null;
    const draft = mutate(previous);
    if (!draft) return null;
    this.assertIdentityFree(draft);
    const [revision = 0] = this.revisions(1);
    const record: ServiceRecord = { ...draft, revision };
    const outcome = { record, previous };
    await this.commit({ put: [record], remove: [] }, revision, events?.(outcome));
    return outcome;
  }

  async remove(
    serviceId: string,
    events?: EventsOf<ServiceRecord>,
    tombstone?: (removed: ServiceRecord) => Tombstone | null,
  ): Promise<ServiceRecord | null> {
    const current = this.index.get(serviceId);
    if (!current) return null;
    const [revision = 0] = this.revisions(1);
    const removed = { ...current, revision };
    const left = tombstone?.(removed) ?? null;
    await this.commit({ put: [], remove: [serviceId] }, revision, events?.(removed), left ? [left] : []);
    return removed;
  }

  async tombstone(serviceId: string, now: number): Promise<Tombstone | null> {
    return this.tombstones.get(serviceId, now, this.batch?.tombstones);
  }

  async instanceTombstone(name: string, instanceId: string, now: number): Promise<Tombstone | null> {
    return this.tombstones.instance(name, instanceId, now, this.batch?.tombstones);
  }

  /** Rides on the next group commit. */
  async purgeTombstones(now: number): Promise<number> {
    const before = this.tombstones.size;
    if (before === 0) return 0;
    const batch = this.pendingBatch();
    batch.purgeTombstonesAt = Math.max(batch.purgeTombstonesAt ?? 0, now);
    await new Promise<void>((resolve, reject) => batch.waiters.push({ resolve, reject }));
    return Math.max(0, before - this.tombstones.size);
  }

  async tombstoneCount(): Promise<number> {
    return this.tombstones.size;
  }

  async liveTombstones(now: number): Promise<Tombstone[]> {
    return this.tombstones.all(now);
  }

  async list(filter: ServiceFilter, page: Page, now: number): Promise<{ records: ServiceRecord[]; total: number }> {
    return this.index.list(filter, page, now);
  }

  async distinctTypes(): Promise<string[]> {
    return this.index.distinctTypes();
  }

  async distinctTags(): Promise<string[]> {
    return this.index.distinctTags();
  }

  async countByStatus(now: number): Promise<StatusCounts> {
    return this.index.countByStatus(now);
  }

  async stats(now: number): Promise<CatalogCounts> {
    return { revision: this.revision, ...this.index.counts(now), checks: this.recentChecks.count(now) };
  }

  async findInstance(name: string, instanceId: string): Promise<ServiceRecord | null> {
    return this.index.withInstance(name, instanceId);
  }

  async listInstances(name: string | null, now: number): Promise<ServiceRecord[]> {
    return this.index.instances(name, now);
  }

  async dueForExpiry(now: number, limit: number): Promise<ServiceRecord[]> {
    return this.index.dueForExpiry(now, limit);
  }

  async removeExpiredBefore(cutoff: number, now: number, events?: EventsOf<ServiceRecord>): Promise<ServiceRecord[]> {
    const expired = this.index.expiredBefore(cutoff, now);
    if (expired.length === 0) return [];
    const revisions = this.revisions(expired.length);
    const removed = expired.map((record, offset) => ({ ...record, revision: revisions[offset] ?? 0 }));
    await this.commit(
      { put: [], remove: removed.map((record) => record.service_id) },
      revisions.at(-1) ?? this.revision,
      events ? removed.flatMap(events) : [],
    );
    return removed;
  }

  async snapshotPage(after: string | null, limit: number): Promise<SnapshotPage> {
    return this.index.snapshotPage(after, limit, this.revision);
  }

  snapshotCursor(record: ServiceRecord): string {
    return cursorOf(record);
  }

  async appendHealthCheck(serviceId: string, entry: HealthCheckEntry): Promise<void> {
    if (!this.index.get(serviceId)) return;
    const batch = this.pendingBatch();
    const checkedAt = Date.parse(entry.checked_at);
    batch.checks.push({ serviceId, checkedAt, entry });
    return new Promise((resolve, reject) => batch.waiters.push({ resolve, reject }));
  }

  /**
   * One transaction, written before memory changes: if it fails, nothing was imported.
   * Pending writes of this turn are committed first, so the import never shares their
   * transaction and every check below sees them.
   */
  async importCatalog(data: CatalogImport, merge: boolean): Promise<ImportOutcome> {
    this.flush();
    if (!merge && this.index.size > 0) throw new StoreNotEmptyError(this.index.size);
    const incoming = new Set(data.records.map((record) => record.service_id));
    for (const record of data.records) {
      // A holder that the import itself replaces lets go of its identity.
      const endpoint = this.index.atEndpoint(record.name, record.host, record.port);
      if (endpoint && !incoming.has(endpoint.service_id)) throw new IdentityConflictError(endpoint);
      const instance = record.instance_id === null ? null : this.index.withInstance(record.name, record.instance_id);
      if (instance && !incoming.has(instance.service_id)) throw new IdentityConflictError(instance);
    }
    const created = data.records.filter((record) => !this.index.get(record.service_id)).length;
    if (this.maxServices > 0 && this.index.size + created > this.maxServices) throw new CatalogFullError(this.maxServices);
    const { records, revision } = importRevisions(data, this.revision, merge);
    // A record outranks a tombstone of its id, whether the record is imported or stored;
    // written in the import's transaction, so the import keeps all or nothing.
    const tombstones = restorableTombstones(data.tombstones ?? [], (id) => incoming.has(id) || this.index.get(id) !== null);
    // New rows' ids are remembered only once the transaction has committed.
    const newRows = new Map<string, number | bigint>();
    try {
      this.db.transaction(() => {
        for (const record of records) {
          const history = data.checks.get(record.service_id) ?? [];
          const sid = history.length > 0 ? this.uptime.seriesOf(record.service_id) : this.uptime.seriesIfAny(record.service_id);
          if (sid !== undefined) this.pings.replace(sid, history);
          const rowid = this.rowids.get(record.service_id);
          if (rowid !== undefined) this.update.run(JSON.stringify(record), rowid);
          else newRows.set(record.service_id, this.insert.run(JSON.stringify(record)).lastInsertRowid);
        }
        const tombstoneChanges = new Map<string, Tombstone | null>(records.map((record) => [record.service_id, null]));
        for (const tombstone of tombstones) tombstoneChanges.set(tombstone.service_id, tombstone);
        this.tombstones.apply(tombstoneChanges, null);
        this.saveRevision.run(revision);
      })();
    } catch (error) {
      // Series, ring positions and the tombstone count go back to what the file holds.
      this.uptime.load();
      this.pings.load();
      this.tombstones.load();
      throw error;
    }
    for (const [id, rowid] of newRows) this.rowids.set(id, rowid);
    for (const record of records) this.index.put(record);
    for (const history of data.checks.values()) for (const entry of history) this.recentChecks.add(Date.parse(entry.checked_at));
    this.revision = revision;
    return { created, replaced: records.length - created, revision };
  }

  async healthChecks(serviceId: string, limit: number, since: number): Promise<{ checks: HealthCheckEntry[]; total: number }> {
    const sid = this.uptime.seriesIfAny(serviceId);
    return sid === undefined ? { checks: [], total: 0 } : this.pings.history(sid, since, limit);
  }

  /**
   * What is committed: a change's caller hears of it only after its commit, and wakes the
   * publisher then, so nothing waits in an open batch that this should flush (which would
   * split group commits, and cost an fsync each under `full`).
   */
  async outboxPage(limit: number): Promise<PendingEvent[]> {
    const rows = this.readEvents.all(limit) as {
      seq: number;
      boot: number;
      subject: PendingEvent['subject'];
      data: string;
      created_at: number;
    }[];
    const last = rows.at(-1);
    if (last) this.outboxClaimed = Math.max(this.outboxClaimed, last.seq);
    return rows.map((row) => ({
      seq: row.seq,
      id: `${this.outboxEpoch}-${row.boot.toString(36)}-${row.seq}`,
      subject: row.subject,
      data: row.data,
      created_at: row.created_at,
    }));
  }

  /**
   * Seqs are taken in commit order by this store, the only writer, so a page is a prefix of
   * the outbox and "up to its last" is exactly these entries. The removal rides on the next
   * group commit, with whatever else it holds.
   */
  outboxDone(entries: readonly PendingEvent[]): Promise<void> {
    const last = entries.at(-1);
    if (!last) return Promise.resolve();
    const batch = this.pendingBatch();
    batch.published = Math.max(batch.published, last.seq);
    return new Promise((resolve, reject) => batch.waiters.push({ resolve, reject }));
  }

  async outboxState(): Promise<OutboxState> {
    if (this.outboxDepth === 0) return { depth: 0, oldest: null };
    const row = this.oldestEvent.get() as { created_at: number } | undefined;
    return { depth: this.outboxDepth, oldest: row?.created_at ?? null };
  }

  commitIncidents(events: IncidentOutboxEvent[], progress: Incident[] = []): Promise<void> {
    if (events.length === 0 && progress.length === 0) return Promise.resolve();
    const batch = this.pendingBatch();
    this.stage(batch, events, Date.now());
    batch.progress.push(...progress);
    return new Promise((resolve, reject) => batch.waiters.push({ resolve, reject }));
  }

  async openIncidents(): Promise<Incident[]> {
    return this.incidentTable.open(Date.now());
  }

  async getIncident(incidentId: string): Promise<Incident | null> {
    return this.incidentTable.get(incidentId, Date.now());
  }

  async listIncidents(filter: IncidentFilter, page: Page): Promise<{ incidents: Incident[]; total: number }> {
    return this.incidentTable.list(filter, page, Date.now());
  }

  async trimIncidents(before: number, limit: number): Promise<number> {
    return this.incidentTable.trimResolved(before, limit);
  }
}
