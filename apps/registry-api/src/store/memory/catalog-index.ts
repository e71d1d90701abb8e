import { HEALTH_STATES, type StatusCounts } from '@beacon/contracts';
import type { ServiceRecord } from '../../catalog/service-record';
import { InvalidCursorError, purgeBound, type CatalogCounts, type Page, type ServiceFilter, type SnapshotPage } from '../service-store';
import { CodeBook } from './code-book';
import { grow } from './columns';
import { StatusTally } from './status-tally';

/*
 * Compound keys are JSON arrays: each part is quoted and escaped, so no two different
 * tuples give one key whatever characters a part holds. (Parts joined with NUL once
 * let `("a\0b", "c")` take over `("a", "b\0c")`.)
 */
const endpointKey = (name: string, host: string, port: number): string => JSON.stringify([name, host, port]);
const instanceKey = (name: string, instanceId: string): string => JSON.stringify([name, instanceId]);
const metadataPair = (key: string, value: string): string => JSON.stringify([key, value]);
const compareIds = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Index of the first element for which `before(element)` is false, in a sorted range. */
function partitionPoint(length: number, before: (index: number) => boolean): number {
  let low = 0;
  let high = length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (before(middle)) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** No value: the field is null on the record, or not part of the query. */
const NONE = 0;
/** A queried value that no record holds: nothing can match. */
const ABSENT = -1;

type CodedField = 'type' | 'protocol' | 'name' | 'version' | 'node_id' | 'health' | 'status';
const CODED_FIELDS: readonly CodedField[] = ['type', 'protocol', 'name', 'version', 'node_id', 'health', 'status'];

/** A list query as codes. `status` is a stored status to match while unexpired; `expired` is separate. */
interface Query {
  fields: { column: Int32Array; code: number }[];
  status: number;
  expired: boolean;
  sets: Set<number>[];
  now: number;
}

/**
 * The whole catalog in memory, for a store that is its only writer. Records sit in
 * numbered slots; what list queries test lives in typed-array columns by slot, tags and
 * metadata in inverted sets of slots, and creation order in an array of slots. A scan
 * therefore touches a few small contiguous arrays instead of 10,000 objects spread over
 * the heap (on the target machines each object visited is a cache miss, ~150 ns; a
 * 3-condition filter over 10,000 records went from 5 ms of SQL to well under 1 ms).
 * Callers keep the durable copy.
 */
export class CatalogIndex {
  private readonly slots = new Map<string, number>();
  private readonly records: (ServiceRecord | undefined)[] = [];
  private readonly freeSlots: number[] = [];
  private createdAt = new Float64Array(1024);
  private expiresAt = new Float64Array(1024);
  private readonly columns = Object.fromEntries(CODED_FIELDS.map((field) => [field, new Int32Array(1024)])) as Record<
    CodedField,
    Int32Array
  >;
  private readonly books = Object.fromEntries([...CODED_FIELDS, 'tags', 'metadata'].map((field) => [field, new CodeBook()])) as Record<
    CodedField | 'tags' | 'metadata',
    CodeBook
  >;
  private readonly tagSlots = new Map<number, Set<number>>();
  private readonly metadataSlots = new Map<number, Set<number>>();
  /** Slots in creation order (`created_at`, then id): the order lists are served in. */
  private order = new Int32Array(1024);
  private orderCount = 0;
  private readonly endpoints = new Map<string, string>();
  private readonly instanceIds = new Map<string, string>();
  private readonly statuses = new StatusTally();

  get size(): number {
    return this.slots.size;
  }

  get(serviceId: string): ServiceRecord | null {
    const slot = this.slots.get(serviceId);
    return slot === undefined ? null : (this.records[slot] ?? null);
  }

  atEndpoint(name: string, host: string, port: number): ServiceRecord | null {
    const id = this.endpoints.get(endpointKey(name, host, port));
    return id === undefined ? null : this.get(id);
  }

  withInstance(name: string, instanceId: string): ServiceRecord | null {
    const id = this.instanceIds.get(instanceKey(name, instanceId));
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
    const existing = this.slots.get(record.service_id);
    if (existing !== undefined) this.unlink(existing);
    const slot = existing ?? this.freeSlots.pop() ?? this.records.length;
    this.link(slot, record);
  }

  delete(serviceId: string): void {
    const slot = this.slots.get(serviceId);
    if (slot === undefined) return;
    this.unlink(slot);
    this.slots.delete(serviceId);
    this.records[slot] = undefined;
    this.freeSlots.push(slot);
  }

  private link(slot: number, record: ServiceRecord): void {
    const size = slot + 1;
    this.createdAt = grow(this.createdAt, size);
    this.expiresAt = grow(this.expiresAt, size);
    for (const field of CODED_FIELDS) {
      const column = grow(this.columns[field], size);
      this.columns[field] = column;
      const value = record[field];
      column[slot] = value === null ? NONE : this.books[field].acquire(value);
    }
    this.slots.set(record.service_id, slot);
    this.records[slot] = record;
    this.createdAt[slot] = record.created_at;
    this.expiresAt[slot] = record.expires_at;
    this.statuses.add(slot, record.status, record.expires_at);
    for (const tag of record.tags) addTo(this.tagSlots, this.books.tags.acquire(tag), slot);
    for (const [key, value] of Object.entries(record.metadata)) {
      addTo(this.metadataSlots, this.books.metadata.acquire(metadataPair(key, value)), slot);
    }
    this.endpoints.set(endpointKey(record.name, record.host, record.port), record.service_id);
    if (record.instance_id !== null) this.instanceIds.set(instanceKey(record.name, record.instance_id), record.service_id);
    const position = this.insertionPoint(record.created_at, record.service_id);
    this.order = grow(this.order, this.orderCount + 1);
    this.order.copyWithin(position + 1, position, this.orderCount);
    this.order[position] = slot;
    this.orderCount += 1;
  }

  /** Takes a slot's record out of every index (the slot itself stays assigned). */
  private unlink(slot: number): void {
    const record = this.records[slot] as ServiceRecord;
    const position = this.insertionPoint(record.created_at, record.service_id);
    this.order.copyWithin(position, position + 1, this.orderCount);
    this.orderCount -= 1;
    this.statuses.remove(slot);
    for (const field of CODED_FIELDS) {
      const value = record[field];
      if (value !== null) this.books[field].release(value);
    }
    for (const tag of record.tags) removeFrom(this.tagSlots, this.books.tags.find(tag), slot);
    for (const tag of record.tags) this.books.tags.release(tag);
    for (const [key, value] of Object.entries(record.metadata)) {
      const pair = metadataPair(key, value);
      removeFrom(this.metadataSlots, this.books.metadata.find(pair), slot);
      this.books.metadata.release(pair);
    }
    const endpoint = endpointKey(record.name, record.host, record.port);
    if (this.endpoints.get(endpoint) === record.service_id) this.endpoints.delete(endpoint);
    if (record.instance_id !== null) {
      const instance = instanceKey(record.name, record.instance_id);
      if (this.instanceIds.get(instance) === record.service_id) this.instanceIds.delete(instance);
    }
  }

  /**
   * Position in creation order of a record created at `created` with id `id`: the first
   * entry created later, or at the same time with a larger id. For a linked record this
   * is its own position (ids are unique).
   */
  private insertionPoint(created: number, id: string): number {
    return partitionPoint(this.orderCount, (index) => {
      const other = this.order[index] as number;
      const otherCreated = this.createdAt[other] as number;
      return otherCreated < created || (otherCreated === created && (this.records[other] as ServiceRecord).service_id < id);
    });
  }

  /** The query as codes, or null when it names a value no record has (nothing matches). */
  private query(filter: ServiceFilter, now: number): Query | null {
    const fields: Query['fields'] = [];
    for (const field of CODED_FIELDS) {
      const value = field === 'status' ? undefined : filter[field];
      if (value === undefined) continue;
      const code = this.books[field].find(value) || ABSENT;
      if (code === ABSENT) return null;
      fields.push({ column: this.columns[field], code });
    }
    const sets: Set<number>[] = [];
    for (const tag of filter.tags ?? []) {
      const set = this.tagSlots.get(this.books.tags.find(tag));
      if (!set) return null;
      sets.push(set);
    }
    for (const [key, value] of Object.entries(filter.metadata ?? {})) {
      const set = this.metadataSlots.get(this.books.metadata.find(metadataPair(key, value)));
      if (!set) return null;
      sets.push(set);
    }
    const expired = filter.status === 'expired';
    let status = NONE;
    if (filter.status !== undefined && !expired) {
      status = this.books.status.find(filter.status);
      if (status === NONE) return null;
    }
    // Smallest set first: most slots fail there.
    sets.sort((a, b) => a.size - b.size);
    return { fields, status, expired, sets, now };
  }

  private matches(slot: number, query: Query): boolean {
    for (const { column, code } of query.fields) if (column[slot] !== code) return false;
    const expires = this.expiresAt[slot] as number;
    if (query.expired) {
      if (expires > query.now) return false;
    } else if (query.status !== NONE && (this.columns.status[slot] !== query.status || expires <= query.now)) {
      return false;
    }
    for (const set of query.sets) if (!set.has(slot)) return false;
    return true;
  }

  list(filter: ServiceFilter, page: Page, now: number): { records: ServiceRecord[]; total: number } {
    const query = this.query(filter, now);
    if (!query) return { records: [], total: 0 };
    const records: ServiceRecord[] = [];
    const end = page.skip + page.limit;
    let total = 0;
    for (let position = 0; position < this.orderCount; position += 1) {
      const slot = this.order[position] as number;
      if (!this.matches(slot, query)) continue;
      if (total >= page.skip && total < end) records.push(this.records[slot] as ServiceRecord);
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

  private *live(): IterableIterator<ServiceRecord> {
    for (const record of this.records) if (record) yield record;
  }

  /** Counts by effective status, kept as records change: no scan (`StatusTally`). */
  countByStatus(now: number): StatusCounts {
    return this.statuses.countsAt(now);
  }

  /**
   * Counts by effective status, health and type. Health and type come from the code
   * books' reference counts (every record holds one of each).
   */
  counts(now: number): Omit<CatalogCounts, 'revision' | 'checks'> {
    const { total, ...by_status } = this.countByStatus(now);
    const by_health = Object.fromEntries(HEALTH_STATES.map((health) => [health, 0])) as CatalogCounts['by_health'];
    for (const [health, count] of this.books.health.counts()) by_health[health as keyof typeof by_health] = count;
    const by_type: Record<string, number> = {};
    for (const [type, count] of [...this.books.type.counts()].sort(([a], [b]) => compareIds(a, b))) by_type[type] = count;
    return { total, by_status, by_health, by_type };
  }

  /** Records with an instance_id not yet expired, of `name` or all; by name, then creation. */
  instances(name: string | null, now: number): ServiceRecord[] {
    const found: ServiceRecord[] = [];
    for (const serviceId of this.instanceIds.values()) {
      const record = this.get(serviceId);
      if (record && record.expires_at > now && (name === null || record.name === name)) found.push(record);
    }
    return found.sort((a, b) => compareIds(a.name, b.name) || a.created_at - b.created_at || compareIds(a.service_id, b.service_id));
  }

  /** Records past `expires_at` not yet marked expired, soonest first. */
  dueForExpiry(now: number, limit: number): ServiceRecord[] {
    return this.statuses.dueAt(now, limit).map((slot) => this.records[slot] as ServiceRecord);
  }

  /**
   * Records that expired before `cutoff` and are expired at `now`: a cutoff in the future
   * never reaches a live record.
   */
  expiredBefore(cutoff: number, now: number): ServiceRecord[] {
    const bound = purgeBound(cutoff, now);
    return [...this.live()].filter((record) => record.expires_at < bound).sort((a, b) => a.expires_at - b.expires_at);
  }

  /**
   * One page of the catalog in creation order. The cursor (`next`) is the last record's
   * `created_at:service_id`, so paging goes on correctly even when that record is gone
   * by the next request; records created meanwhile come at the end.
   */
  snapshotPage(after: string | null, limit: number, revision: number): SnapshotPage {
    let start = 0;
    if (after !== null) {
      const cursor = parseCursor(after);
      if (!cursor) throw new InvalidCursorError(after);
      const point = this.insertionPoint(cursor.created, cursor.id);
      const at = this.order[point];
      const same = point < this.orderCount && at !== undefined && this.records[at]?.service_id === cursor.id;
      start = same ? point + 1 : point;
    }
    const records: ServiceRecord[] = [];
    for (let position = start; position < this.orderCount && records.length < limit; position += 1) {
      records.push(this.records[this.order[position] as number] as ServiceRecord);
    }
    const last = records.at(-1);
    return { revision, records, next: records.length === limit && last ? cursorOf(last) : null };
  }
}

/** Snapshot cursors: `created_at:service_id` of the last record of a page. */
export const cursorOf = (record: ServiceRecord): string => `${record.created_at}:${record.service_id}`;

function parseCursor(cursor: string): { created: number; id: string } | null {
  const match = /^(\d{1,16}):(.+)$/.exec(cursor);
  return match ? { created: Number(match[1]), id: match[2] as string } : null;
}

function addTo(index: Map<number, Set<number>>, code: number, slot: number): void {
  let set = index.get(code);
  if (!set) {
    set = new Set();
    index.set(code, set);
  }
  set.add(slot);
}

function removeFrom(index: Map<number, Set<number>>, code: number, slot: number): void {
  const set = index.get(code);
  if (!set) return;
  set.delete(slot);
  if (set.size === 0) index.delete(code);
}
