import { SERVICE_STATUSES, type StatusCounts } from '@beacon/contracts';
import Database, { type Database as Db, type Statement } from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { ServiceDraft, ServiceRecord } from '../../catalog/service-record';
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
import { COLUMNS, SCHEMA } from './schema';

type Row = Record<(typeof COLUMNS)[number], unknown>;

export interface SqliteStoreOptions {
  path: string;
  /**
   * `normal`: a committed write survives the process being killed (WAL is in the OS);
   * `full`: it also survives power loss, at an fsync per write.
   */
  synchronous: 'normal' | 'full';
}

function toRow(record: ServiceRecord): Row {
  return {
    ...record,
    tags: JSON.stringify(record.tags),
    metadata: JSON.stringify(record.metadata),
    mdns_txt_records: JSON.stringify(record.mdns_txt_records),
  };
}

function fromRow(row: Row): ServiceRecord {
  return {
    ...(row as unknown as ServiceRecord),
    tags: JSON.parse(row.tags as string) as string[],
    metadata: JSON.parse(row.metadata as string) as Record<string, string>,
    mdns_txt_records: JSON.parse(row.mdns_txt_records as string) as Record<string, string>,
  };
}

/** The embedded store: one SQLite file in WAL mode, for a single registry-api process. */
export class SqliteStore implements ServiceStore {
  readonly backend = 'sqlite' as const;
  private readonly db: Db;
  private readonly statements = new Map<string, Statement>();

  constructor(options: SqliteStoreOptions) {
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
    this.db = new Database(options.path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
  }

  /** Prepared statements are cached by their SQL: filters produce a handful of shapes. */
  private sql(text: string): Statement {
    let statement = this.statements.get(text);
    if (!statement) {
      statement = this.db.prepare(text);
      this.statements.set(text, statement);
    }
    return statement;
  }

  private nextRevision(): number {
    const row = this.sql(`UPDATE meta SET value = value + 1 WHERE key = 'revision' RETURNING value`).get() as { value: number };
    return row.value;
  }

  private currentRevision(): number {
    return (this.sql(`SELECT value FROM meta WHERE key = 'revision'`).get() as { value: number }).value;
  }

  private find(where: string, ...params: unknown[]): ServiceRecord | null {
    const row = this.sql(`SELECT * FROM services WHERE ${where}`).get(...params) as Row | undefined;
    return row ? fromRow(row) : null;
  }

  private replaceSideTables(record: ServiceRecord): void {
    this.sql('DELETE FROM service_tags WHERE service_id = ?').run(record.service_id);
    this.sql('DELETE FROM service_metadata WHERE service_id = ?').run(record.service_id);
    const insertTag = this.sql('INSERT INTO service_tags (tag, service_id) VALUES (?, ?)');
    for (const tag of record.tags) insertTag.run(tag, record.service_id);
    const insertMeta = this.sql('INSERT INTO service_metadata (key, value, service_id) VALUES (?, ?, ?)');
    for (const [key, value] of Object.entries(record.metadata)) insertMeta.run(key, value, record.service_id);
  }

  /** Inserts or overwrites a record with a fresh revision; keeps side tables in step. */
  private write(draft: ServiceDraft, previous: ServiceRecord | null): ServiceRecord {
    const record: ServiceRecord = { ...draft, revision: this.nextRevision() };
    const row = toRow(record);
    if (previous) {
      const assignments = COLUMNS.filter((column) => column !== 'service_id').map((column) => `${column} = @${column}`);
      this.sql(`UPDATE services SET ${assignments.join(', ')} WHERE service_id = @service_id`).run(row);
    } else {
      this.sql(`INSERT INTO services (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map((c) => `@${c}`).join(', ')})`).run(row);
    }
    const sideTablesChanged =
      !previous ||
      JSON.stringify(previous.tags) !== JSON.stringify(record.tags) ||
      JSON.stringify(previous.metadata) !== JSON.stringify(record.metadata);
    if (sideTablesChanged) this.replaceSideTables(record);
    return record;
  }

  private delete(record: ServiceRecord): ServiceRecord {
    this.sql('DELETE FROM services WHERE service_id = ?').run(record.service_id);
    return { ...record, revision: this.nextRevision() };
  }

  private assertIdentityFree(draft: ServiceDraft): void {
    const endpoint = this.find('name = ? AND host = ? AND port = ? AND service_id != ?', draft.name, draft.host, draft.port, draft.service_id);
    if (endpoint) throw new IdentityConflictError(endpoint);
    if (draft.instance_id !== null) {
      const instance = this.find('name = ? AND instance_id = ? AND service_id != ?', draft.name, draft.instance_id, draft.service_id);
      if (instance) throw new IdentityConflictError(instance);
    }
  }

  async ping(): Promise<number> {
    const started = performance.now();
    this.sql('SELECT 1').get();
    return performance.now() - started;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  async register(identity: Identity, build: (existing: ServiceRecord | null) => ServiceDraft): Promise<RegisterOutcome> {
    return this.db.transaction((): RegisterOutcome => {
      const byInstance = identity.instance_id ? this.find('name = ? AND instance_id = ?', identity.name, identity.instance_id) : null;
      const byEndpoint = this.find('name = ? AND host = ? AND port = ?', identity.name, identity.host, identity.port);
      const previous = byInstance ?? byEndpoint;
      const superseded = byEndpoint && previous && byEndpoint.service_id !== previous.service_id ? this.delete(byEndpoint) : null;
      const record = this.write(build(previous), previous);
      return { record, previous, superseded };
    }).immediate();
  }

  async get(serviceId: string): Promise<ServiceRecord | null> {
    return this.find('service_id = ?', serviceId);
  }

  async modify(serviceId: string, mutate: (current: ServiceRecord) => ServiceDraft | null): Promise<ModifyOutcome | null> {
    return this.db.transaction((): ModifyOutcome | null => {
      const previous = this.find('service_id = ?', serviceId);
      if (!previous) return null;
      const draft = mutate(previous);
      if (!draft) return null;
      this.assertIdentityFree(draft);
      return { record: this.write(draft, previous), previous };
    }).immediate();
  }

  async remove(serviceId: string): Promise<ServiceRecord | null> {
    return this.db.transaction((): ServiceRecord | null => {
      const current = this.find('service_id = ?', serviceId);
      return current ? this.delete(current) : null;
    }).immediate();
  }

  async list(filter: ServiceFilter, page: Page, now: number): Promise<{ records: ServiceRecord[]; total: number }> {
    const { where, params } = whereClause(filter, now);
    const rows = this.sql(`SELECT * FROM services s ${where} ORDER BY created_at, service_id LIMIT ? OFFSET ?`).all(
      ...params,
      page.limit,
      page.skip,
    ) as Row[];
    const records = rows.map(fromRow);
    // A first page shorter than the limit already is the whole result.
    const total =
      page.skip === 0 && records.length < page.limit
        ? records.length
        : (this.sql(`SELECT COUNT(*) AS n FROM services s ${where}`).get(...params) as { n: number }).n;
    return { records, total };
  }

  async distinctTypes(): Promise<string[]> {
    return (this.sql('SELECT DISTINCT type FROM services ORDER BY type').all() as { type: string }[]).map((row) => row.type);
  }

  async distinctTags(): Promise<string[]> {
    return (this.sql('SELECT DISTINCT tag FROM service_tags ORDER BY tag').all() as { tag: string }[]).map((row) => row.tag);
  }

  async countByStatus(now: number): Promise<StatusCounts> {
    const rows = this.sql(
      `SELECT CASE WHEN expires_at <= ? THEN 'expired' ELSE status END AS status, COUNT(*) AS n FROM services GROUP BY 1`,
    ).all(now) as { status: string; n: number }[];
    const counts = Object.fromEntries(SERVICE_STATUSES.map((status) => [status, 0])) as StatusCounts;
    counts.total = 0;
    for (const row of rows) {
      counts[row.status as keyof StatusCounts] = row.n;
      counts.total += row.n;
    }
    return counts;
  }

  async dueForExpiry(now: number, limit: number): Promise<ServiceRecord[]> {
    const rows = this.sql(`SELECT * FROM services WHERE expires_at <= ? AND status != 'expired' ORDER BY expires_at LIMIT ?`).all(
      now,
      limit,
    ) as Row[];
    return rows.map(fromRow);
  }

  async removeExpiredBefore(cutoff: number): Promise<ServiceRecord[]> {
    return this.db.transaction((): ServiceRecord[] => {
      const rows = this.sql('SELECT * FROM services WHERE expires_at < ? ORDER BY expires_at').all(cutoff) as Row[];
      return rows.map((row) => this.delete(fromRow(row)));
    }).immediate();
  }

  async snapshotPage(after: string | null, limit: number): Promise<SnapshotPage> {
    return this.db.transaction((): SnapshotPage => {
      const revision = this.currentRevision();
      const rows = this.sql('SELECT * FROM services WHERE service_id > ? ORDER BY service_id LIMIT ?').all(after ?? '', limit) as Row[];
      const records = rows.map(fromRow);
      const last = records.at(-1);
      return { revision, records, next: records.length === limit && last ? last.service_id : null };
    })();
  }
}

/** Filter → SQL. Values are always bound parameters, never spliced into the text. */
export function whereClause(filter: ServiceFilter, now: number): { where: string; params: unknown[] } {
  const conditions: string[] = [];
  const params: unknown[] = [];
  const equal = (column: string, value: string | undefined): void => {
    if (value === undefined) return;
    conditions.push(`s.${column} = ?`);
    params.push(value);
  };
  equal('type', filter.type);
  equal('protocol', filter.protocol);
  equal('name', filter.name);
  equal('version', filter.version);
  equal('node_id', filter.node_id);
  equal('health', filter.health);
  if (filter.status === 'expired') {
    conditions.push('s.expires_at <= ?');
    params.push(now);
  } else if (filter.status !== undefined) {
    conditions.push('s.status = ? AND s.expires_at > ?');
    params.push(filter.status, now);
  }
  for (const tag of filter.tags ?? []) {
    conditions.push('s.service_id IN (SELECT service_id FROM service_tags WHERE tag = ?)');
    params.push(tag);
  }
  for (const [key, value] of Object.entries(filter.metadata ?? {})) {
    conditions.push('s.service_id IN (SELECT service_id FROM service_metadata WHERE key = ? AND value = ?)');
    params.push(key, value);
  }
  return { where: conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '', params };
}
