import type { StatusCounts } from '@beacon/contracts';
import Database, { type Database as Db, type Statement } from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { ServiceDraft, ServiceRecord } from '../../catalog/service-record';
import { CatalogIndex } from '../memory/catalog-index';
import {
  IdentityConflictError,
  type Identity,
  type ModifyOutcome,
  type Page,
  type RegisterOutcome,
  type ServiceFilter,
  type ServiceStore,
  type SnapshotPage,
} from '../service-store';
import { SCHEMA, SCHEMA_VERSION } from './schema';

export interface SqliteStoreOptions {
  path: string;
  /**
   * `normal`: a committed write survives the process being killed (WAL is in the OS);
   * `full`: it also survives power loss, at an fsync per write.
   */
  synchronous: 'normal' | 'full';
}

/** One atomic change: rows to write and delete, and the revision counter after it. */
interface Change {
  put: ServiceRecord[];
  remove: string[];
}

/**
 * The embedded store for a single registry-api process. Every record lives in memory for
 * reads and identity checks; every change is committed to SQLite (WAL) before memory
 * and callers see it, so an acknowledged write survives a crash. Being the only writer
 * is what makes the memory copy authoritative: run one replica on this store.
 */
export class SqliteStore implements ServiceStore {
  readonly backend = 'sqlite' as const;
  private readonly db: Db;
  private readonly index = new CatalogIndex();
  private revision: number;
  private readonly upsert: Statement;
  private readonly deleteRow: Statement;
  private readonly saveRevision: Statement;

  constructor(options: SqliteStoreOptions) {
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
    this.db = new Database(options.path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    const version = this.readMeta('schema_version');
    if (version !== SCHEMA_VERSION) {
      throw new Error(`${options.path} has schema version ${version}; this registry-api reads version ${SCHEMA_VERSION}`);
    }
    this.revision = this.readMeta('revision');
    this.upsert = this.db.prepare(
      'INSERT INTO service_docs (service_id, doc) VALUES (?, ?) ON CONFLICT (service_id) DO UPDATE SET doc = excluded.doc',
    );
    this.deleteRow = this.db.prepare('DELETE FROM service_docs WHERE service_id = ?');
    this.saveRevision = this.db.prepare(`UPDATE meta SET value = ? WHERE key = 'revision'`);
    for (const row of this.db.prepare('SELECT doc FROM service_docs').iterate() as Iterable<{ doc: string }>) {
      this.index.put(JSON.parse(row.doc) as ServiceRecord);
    }
  }

  private readMeta(key: string): number {
    return (this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: number }).value;
  }

  /** The revisions a change will carry, without taking them yet. */
  private revisions(count: number): number[] {
    return Array.from({ length: count }, (_, offset) => this.revision + offset + 1);
  }

  /** Commits a change to disk, then to memory. Nothing is visible if the commit fails. */
  private commit(change: Change, lastRevision: number): void {
    this.db.transaction(() => {
      for (const id of change.remove) this.deleteRow.run(id);
      for (const record of change.put) this.upsert.run(record.service_id, JSON.stringify(record));
      this.saveRevision.run(lastRevision);
    })();
    this.revision = lastRevision;
    for (const id of change.remove) this.index.delete(id);
    for (const record of change.put) this.index.put(record);
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
    if (this.db.open) this.db.close();
  }

  async register(identity: Identity, build: (existing: ServiceRecord | null) => ServiceDraft): Promise<RegisterOutcome> {
    const byInstance = identity.instance_id ? this.index.withInstance(identity.name, identity.instance_id) : null;
    const byEndpoint = this.index.atEndpoint(identity.name, identity.host, identity.port);
    const previous = byInstance ?? byEndpoint;
    const displaced = byEndpoint && previous && byEndpoint.service_id !== previous.service_id ? byEndpoint : null;
    const draft = build(previous);
    const [first = 0, second = 0] = this.revisions(2);
    const superseded = displaced ? { ...displaced, revision: first } : null;
    const record: ServiceRecord = { ...draft, revision: superseded ? second : first };
    this.commit({ put: [record], remove: superseded ? [superseded.service_id] : [] }, record.revision);
    return { record, previous, superseded };
  }

  async get(serviceId: string): Promise<ServiceRecord | null> {
    return this.index.get(serviceId);
  }

  async modify(serviceId: string, mutate: (current: ServiceRecord) => ServiceDraft | null): Promise<ModifyOutcome | null> {
    const previous = this.index.get(serviceId);
    if (!previous) return null;
    const draft = mutate(previous);
    if (!draft) return null;
    this.assertIdentityFree(draft);
    const [revision = 0] = this.revisions(1);
    const record: ServiceRecord = { ...draft, revision };
    this.commit({ put: [record], remove: [] }, revision);
    return { record, previous };
  }

  async remove(serviceId: string): Promise<ServiceRecord | null> {
    const current = this.index.get(serviceId);
    if (!current) return null;
    const [revision = 0] = this.revisions(1);
    this.commit({ put: [], remove: [serviceId] }, revision);
    return { ...current, revision };
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

  async dueForExpiry(now: number, limit: number): Promise<ServiceRecord[]> {
    return this.index.dueForExpiry(now, limit);
  }

  async removeExpiredBefore(cutoff: number): Promise<ServiceRecord[]> {
    const expired = this.index.expiredBefore(cutoff);
    if (expired.length === 0) return [];
    const revisions = this.revisions(expired.length);
    const removed = expired.map((record, offset) => ({ ...record, revision: revisions[offset] ?? 0 }));
    this.commit({ put: [], remove: removed.map((record) => record.service_id) }, revisions.at(-1) ?? this.revision);
    return removed;
  }

  async snapshotPage(after: string | null, limit: number): Promise<SnapshotPage> {
    return this.index.snapshotPage(after, limit, this.revision);
  }
}
