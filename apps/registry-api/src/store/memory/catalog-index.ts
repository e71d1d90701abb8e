import { SERVICE_STATUSES, type StatusCounts } from '@beacon/contracts';
import type { ServiceRecord } from '../../catalog/service-record';
import type { Page, ServiceFilter, SnapshotPage } from '../service-store';
import { CodeBook } from './code-book';

const endpointKey = (name: string, host: string, port: number): string => `${name}\u0000${host}\u0000${port}`;
const instanceKey = (name: string, instanceId: string): string => `${name}\u0000${instanceId}`;

/** Creation order, then id: the order lists are served in. */
function byCreation(a: Row, b: Row): number {
  const idA = a.record.service_id;
  const idB = b.record.service_id;
  return a.created_at - b.created_at || (idA < idB ? -1 : idA > idB ? 1 : 0);
}

/** Index of the first element not less than `target`, for a sorted array. */
function lowerBound<T>(items: readonly T[], target: T, compare: (a: T, b: T) => number): number {
  let low = 0;
  let high = items.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (compare(items[middle] as T, target) < 0) low = middle + 1;
    else high = middle;
  }
  return low;
}

const compareIds = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** No value: the field is null on the record, or not part of the query. */
const NONE = 0;
/** A queried value that no record holds: nothing can match. */
const ABSENT = -1;

/**
 * What a list query tests, per record, as integer codes (one `CodeBook` per field).
 * Small objects of numbers: scanning them stays in cache where the records would not.
 */
interface Row {
  readonly record: ServiceRecord;
  readonly created_at: number;
  readonly expires_at: number;
  readonly type: number;
  readonly protocol: number;
  readonly name: number;
  readonly version: number;
  readonly node_id: number;
  readonly health: number;
  readonly status: number;
  readonly tags: readonly number[];
  /** Codes of `key\0value`. */
  readonly metadata: readonly number[];
}

interface Query {
  type: number;
  protocol: number;
  name: number;
  version: number;
  node_id: number;
  health: number;
  /** Stored status to match (with `expires_at > now`), or NONE; `expired` is separate. */
  status: number;
  expired: boolean;
  tags: number[];
  metadata: number[];
  now: number;
}

type CodedField = 'type' | 'protocol' | 'name' | 'version' | 'node_id' | 'health' | 'status';
const CODED_FIELDS: readonly CodedField[] = ['type', 'protocol', 'name', 'version', 'node_id', 'health', 'status'];

const metadataPair = (key: string, value: string): string => `${key}\u0000${value}`;

function matches(row: Row, query: Query): boolean {
  if (query.type !== NONE && row.type !== query.type) return false;
  if (query.protocol !== NONE && row.protocol !== query.protocol) return false;
  if (query.name !== NONE && row.name !== query.name) return false;
  if (query.version !== NONE && row.version !== query.version) return false;
  if (query.node_id !== NONE && row.node_id !== query.node_id) return false;
  if (query.health !== NONE && row.health !== query.health) return false;
  if (query.expired) {
    if (row.expires_at > query.now) return false;
  } else if (query.status !== NONE && (row.status !== query.status || row.expires_at <= query.now)) {
    return false;
  }
  for (const tag of query.tags) if (!row.tags.includes(tag)) return false;
  for (const pair of query.metadata) if (!row.metadata.includes(pair)) return false;
  return true;
}

/**
 * The whole catalog in memory, for a store that is its only writer: lookups by id and
 * identity, lists in creation order, snapshots in id order, distinct types and tags.
 * Lists scan compact rows of integer codes in creation order: 10,000 records with a few
 * conditions take about 0.2 ms, where the same query in SQL took 5 ms. Callers keep
 * the durable copy.
 */
export class CatalogIndex {
  private readonly endpoints = new Map<string, string>();
  private readonly instances = new Map<string, string>();
  /** Rows in creation order (`created_at`, then id): the order lists are served in. */
  private readonly ordered: Row[] = [];
  private readonly rows = new Map<string, Row>();
  private readonly ids: string[] = [];
  private readonly books = Object.fromEntries(
    [...CODED_FIELDS, 'tags', 'metadata'].map((field) => [field, new CodeBook()]),
  ) as Record<CodedField | 'tags' | 'metadata', CodeBook>;

  get size(): number {
    return this.rows.size;
  }

  get(serviceId: string): ServiceRecord | null {
    return this.rows.get(serviceId)?.record ?? null;
  }

  atEndpoint(name: string, host: string, port: number): ServiceRecord | null {
    const id = this.endpoints.get(endpointKey(name, host, port));
    return id === undefined ? null : this.get(id);
  }

  withInstance(name: string, instanceId: string): ServiceRecord | null {
    const id = this.instances.get(instanceKey(name, instanceId));
    return id === undefined ? null : this.get(id);
  }

  /**
   * Adds a record or replaces the one with its id. Records are frozen: callers share
   * them, and a change must go through the store to be durable.
   */
  put(record: ServiceRecord): void {
    Object.freeze(record.tags);
    Object.freeze(record.metadata);
    Object.freeze(record.mdns_txt_records);
    Object.freeze(record);
    const previous = this.get(record.service_id);
    if (previous) this.unlink(previous);
    else this.ids.splice(lowerBound(this.ids, record.service_id, compareIds), 0, record.service_id);
    this.endpoints.set(endpointKey(record.name, record.host, record.port), record.service_id);
    if (record.instance_id !== null) this.instances.set(instanceKey(record.name, record.instance_id), record.service_id);
    const row = this.encode(record);
    this.rows.set(record.service_id, row);
    this.ordered.splice(lowerBound(this.ordered, row, byCreation), 0, row);
  }

  private encode(record: ServiceRecord): Row {
    const code = (field: CodedField): number => {
      const value = record[field];
      return value === null ? NONE : this.books[field].acquire(value);
    };
    return {
      record,
      created_at: record.created_at,
      expires_at: record.expires_at,
      type: code('type'),
      protocol: code('protocol'),
      name: code('name'),
      version: code('version'),
      node_id: code('node_id'),
      health: code('health'),
      status: code('status'),
      tags: record.tags.map((tag) => this.books.tags.acquire(tag)),
      metadata: Object.entries(record.metadata).map(([key, value]) => this.books.metadata.acquire(metadataPair(key, value))),
    };
  }

  private release(record: ServiceRecord): void {
    for (const field of CODED_FIELDS) {
      const value = record[field];
      if (value !== null) this.books[field].release(value);
    }
    for (const tag of record.tags) this.books.tags.release(tag);
    for (const [key, value] of Object.entries(record.metadata)) this.books.metadata.release(metadataPair(key, value));
  }

  delete(serviceId: string): void {
    const record = this.get(serviceId);
    if (!record) return;
    this.unlink(record);
    this.ids.splice(lowerBound(this.ids, serviceId, compareIds), 1);
  }

  /** Removes everything but the id-ordered entry (kept by `put`, dropped by `delete`). */
  private unlink(record: ServiceRecord): void {
    const key = endpointKey(record.name, record.host, record.port);
    if (this.endpoints.get(key) === record.service_id) this.endpoints.delete(key);
    if (record.instance_id !== null) {
      const instance = instanceKey(record.name, record.instance_id);
      if (this.instances.get(instance) === record.service_id) this.instances.delete(instance);
    }
    const row = this.rows.get(record.service_id) as Row;
    this.ordered.splice(lowerBound(this.ordered, row, byCreation), 1);
    this.rows.delete(record.service_id);
    this.release(record);
  }

  /** The query as codes, or null when it names a value no record has (nothing matches). */
  private query(filter: ServiceFilter, now: number): Query | null {
    const code = (field: CodedField, value: string | undefined): number =>
      value === undefined ? NONE : this.books[field].find(value) || ABSENT;
    const query: Query = {
      type: code('type', filter.type),
      protocol: code('protocol', filter.protocol),
      name: code('name', filter.name),
      version: code('version', filter.version),
      node_id: code('node_id', filter.node_id),
      health: code('health', filter.health),
      status: filter.status === 'expired' ? NONE : code('status', filter.status),
      expired: filter.status === 'expired',
      tags: (filter.tags ?? []).map((tag) => this.books.tags.find(tag) || ABSENT),
      metadata: Object.entries(filter.metadata ?? {}).map(
        ([key, value]) => this.books.metadata.find(metadataPair(key, value)) || ABSENT,
      ),
      now,
    };
    const codes = [...CODED_FIELDS.map((field) => query[field]), ...query.tags, ...query.metadata];
    return codes.includes(ABSENT) ? null : query;
  }

  list(filter: ServiceFilter, page: Page, now: number): { records: ServiceRecord[]; total: number } {
    const query = this.query(filter, now);
    if (!query) return { records: [], total: 0 };
    const records: ServiceRecord[] = [];
    const end = page.skip + page.limit;
    let total = 0;
    for (const row of this.ordered) {
      if (!matches(row, query)) continue;
      if (total >= page.skip && total < end) records.push(row.record);
      total += 1;
    }
    return { records, total };
  }

  distinctTypes(): string[] {
    return [...this.books.type.values()].sort(compareIds);
  }

  distinctTags(): string[] {
    return [...this.books.tags.values()].sort(compareIds);
  }

  countByStatus(now: number): StatusCounts {
    const counts = Object.fromEntries(SERVICE_STATUSES.map((status) => [status, 0])) as StatusCounts;
    for (const { record } of this.ordered) counts[record.expires_at <= now ? 'expired' : record.status] += 1;
    counts.total = this.ordered.length;
    return counts;
  }

  /** Records past `expires_at` not yet marked expired, soonest first. */
  dueForExpiry(now: number, limit: number): ServiceRecord[] {
    return this.ordered
      .filter((row) => row.expires_at <= now && row.record.status !== 'expired')
      .map((row) => row.record)
      .sort((a, b) => a.expires_at - b.expires_at)
      .slice(0, limit);
  }

  expiredBefore(cutoff: number): ServiceRecord[] {
    return this.ordered
      .filter((row) => row.expires_at < cutoff)
      .map((row) => row.record)
      .sort((a, b) => a.expires_at - b.expires_at);
  }

  snapshotPage(after: string | null, limit: number, revision: number): SnapshotPage {
    const start = after === null ? 0 : lowerBound(this.ids, after, compareIds) + (this.rows.has(after) ? 1 : 0);
    const ids = this.ids.slice(start, start + limit);
    const last = ids.at(-1);
    return {
      revision,
      records: ids.map((id) => this.get(id) as ServiceRecord),
      next: ids.length === limit && last !== undefined ? last : null,
    };
  }
}
