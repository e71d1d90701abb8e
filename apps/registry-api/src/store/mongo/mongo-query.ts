import { HEALTH_STATES, SERVICE_STATUSES } from '@beacon/contracts';
import { RECORD_FIELDS, withMigrationDefaults, type ServiceRecord } from '../../catalog/service-record';
import type { CatalogCounts, ServiceFilter } from '../service-store';

/**
 * The MongoDB adapter's pure half: how a record is laid out as a document and how a
 * filter becomes a query. Nothing here touches a connection, so all of it is unit-tested.
 */

/** One entry of a user-keyed map, stored as data so a key never becomes a field name. */
export interface KeyValue {
  k: string;
  v: string;
}

/**
 * A record as stored. User-keyed maps (`metadata`, `mdns_txt_records`) are kept as
 * key/value pairs: keys like `$ref`, `a.b` or `__proto__` are then plain values, and
 * `metadata_kv` can be indexed and queried for any key.
 */
export type ServiceDocument = Omit<ServiceRecord, 'service_id' | 'metadata' | 'mdns_txt_records'> & {
  _id: string;
  metadata_kv: KeyValue[];
  mdns_txt_kv: KeyValue[];
};

/**
 * How a write is acknowledged (`BEACON_MONGODB_WRITE_CONCERN`, `BEACON_MONGODB_JOURNAL`):
 * by default once a majority of members hold it in their on-disk journal, so a 201 on
 * MongoDB survives a crash or a failover as one on SQLite survives `kill -9`.
 */
export interface WriteConcernSettings {
  w: 'majority' | number;
  journal: boolean;
}

export const DEFAULT_WRITE_CONCERN: WriteConcernSettings = { w: 'majority', journal: true };

/** The configured values (already checked: `majority` or a member count) as the driver takes them. */
export function writeConcernOf(w: string, journal: boolean): WriteConcernSettings {
  return { w: w === 'majority' ? 'majority' : Number(w), journal };
}

/** Every collection the store writes, by role. */
export const COLLECTION_NAMES = {
  services: 'services',
  counters: 'counters',
  histories: 'health_checks',
  outbox: 'outbox',
  incidents: 'incidents',
  windows: 'uptime_windows',
  tombstones: 'tombstones',
} as const;

export interface ServiceIndex {
  key: Record<string, 1>;
  name: string;
  unique?: boolean;
  partialFilterExpression?: Record<string, unknown>;
}

export const SERVICE_INDEXES: readonly ServiceIndex[] = [
  { key: { expires_at: 1 }, name: 'expires_at' },
  { key: { name: 1 }, name: 'name' },
  { key: { type: 1 }, name: 'type' },
  { key: { tags: 1 }, name: 'tags' },
  { key: { status: 1 }, name: 'status' },
  { key: { created_at: 1, _id: 1 }, name: 'list_order' },
  { key: { 'metadata_kv.k': 1, 'metadata_kv.v': 1 }, name: 'metadata' },
  { key: { name: 1, host: 1, port: 1 }, name: 'endpoint', unique: true },
  // Only records that have an instance_id claim one; null would otherwise collide.
  {
    key: { name: 1, instance_id: 1 },
    name: 'instance',
    unique: true,
    partialFilterExpression: { instance_id: { $type: 'string' } },
  },
];

/** Filter fields that are plain equality on a same-named document field. */
const EQUALITY_FIELDS = ['type', 'protocol', 'name', 'version', 'node_id', 'health'] as const satisfies readonly (keyof ServiceFilter)[];

const toPairs = (map: Record<string, string>): KeyValue[] => Object.entries(map).map(([k, v]) => ({ k, v }));

// Object.fromEntries defines own properties, so a `__proto__` key stays a key.
const fromPairs = (pairs: readonly KeyValue[]): Record<string, string> => Object.fromEntries(pairs.map(({ k, v }) => [k, v]));

/**
 * Filter → MongoDB query. Field names come only from this module; every user string sits
 * under `$eq`/`$all`, so even a value that is (at run time) an object such as
 * `{ $ne: null }` is compared literally instead of read as an operator.
 */
export function toMongoFilter(filter: ServiceFilter, now: number): Record<string, unknown> {
  const query: Record<string, unknown> = {};
  for (const field of EQUALITY_FIELDS) {
    const value = filter[field];
    if (value !== undefined) query[field] = { $eq: value };
  }
  Object.assign(query, statusCondition(filter.status, now));
  // `$all: []` matches nothing, while no tags means no condition.
  if (filter.tags !== undefined && filter.tags.length > 0) query.tags = { $all: [...filter.tags] };
  const metadata = metadataConditions(filter.metadata);
  if (metadata.length > 0) query.$and = metadata;
  return query;
}

/** Effective status: `expired` is decided by the clock, not by the stored status. */
function statusCondition(status: ServiceFilter['status'], now: number): Record<string, unknown> {
  if (status === undefined) return {};
  if (status === 'expired') return { expires_at: { $lte: now } };
  return { status: { $eq: status }, expires_at: { $gt: now } };
}

/** One `$elemMatch` per pair: both key and value must hold in the same array entry. */
function metadataConditions(metadata: Record<string, string> | undefined): Record<string, unknown>[] {
  return toPairs(metadata ?? {}).map(({ k, v }) => ({ metadata_kv: { $elemMatch: { k: { $eq: k }, v: { $eq: v } } } }));
}

/** Seed 004's identity: the record of `(name, instance_id)` (served by the `instance` index). */
export function instanceFilter(name: string, instanceId: string): Record<string, unknown> {
  return { name: { $eq: name }, instance_id: { $eq: instanceId } };
}

/** Records that have an instance_id and are not expired, of one name or all (`listInstances`). */
export function liveInstancesFilter(name: string | null, now: number): Record<string, unknown> {
  const query: Record<string, unknown> = { instance_id: { $type: 'string' }, expires_at: { $gt: now } };
  if (name !== null) query.name = { $eq: name };
  return query;
}

export const LIVE_INSTANCES_ORDER = { name: 1, created_at: 1, _id: 1 } as const;

/** One `{ _id: value, n: count }` per group, as `$group` answers. */
export interface GroupCount {
  _id: string;
  n: number;
}

export interface StatsFacets {
  by_status: GroupCount[];
  by_health: GroupCount[];
  by_type: GroupCount[];
}

/** The catalog's counts in one aggregation: effective status (expired by the clock), health, type. */
export function statsPipeline(now: number): Record<string, unknown>[] {
  const count = (key: unknown): Record<string, unknown>[] => [{ $group: { _id: key, n: { $sum: 1 } } }];
  return [
    {
      $facet: {
        by_status: count({ $cond: [{ $lte: ['$expires_at', now] }, 'expired', '$status'] }),
        by_health: count('$health'),
        by_type: count('$type'),
      },
    },
  ];
}

/** The facets as `CatalogCounts` fields: every status and health state present, zero-filled. */
export function countsFromFacets(facets: StatsFacets | undefined): Omit<CatalogCounts, 'revision' | 'checks'> {
  const by_status = Object.fromEntries(SERVICE_STATUSES.map((status) => [status, 0])) as CatalogCounts['by_status'];
  const by_health = Object.fromEntries(HEALTH_STATES.map((health) => [health, 0])) as CatalogCounts['by_health'];
  let total = 0;
  for (const row of facets?.by_status ?? []) {
    if (row._id in by_status) by_status[row._id as keyof typeof by_status] += row.n;
    total += row.n;
  }
  for (const row of facets?.by_health ?? []) if (row._id in by_health) by_health[row._id as keyof typeof by_health] += row.n;
  const by_type: Record<string, number> = {};
  const types = [...(facets?.by_type ?? [])].sort((a, b) => (a._id < b._id ? -1 : a._id > b._id ? 1 : 0));
  for (const row of types) by_type[row._id] = row.n;
  return { total, by_status, by_health, by_type };
}

/**
 * Check history entries with `checked_at` at or after `since`, over every service's
 * history document. Only documents checked since then (`last_checked_at`, indexed) are
 * opened. `checked_at` is ISO 8601 UTC as the prober writes it, so text order is time order.
 */
export function recentChecksPipeline(since: number): Record<string, unknown>[] {
  const from = new Date(since).toISOString();
  return [
    { $match: { last_checked_at: { $gte: from } } },
    { $project: { n: { $size: { $filter: { input: '$checks', as: 'check', cond: { $gte: ['$$check.checked_at', from] } } } } } },
    { $group: { _id: null, n: { $sum: '$n' } } },
  ];
}

export function toDocument(record: ServiceRecord): ServiceDocument {
  const { service_id, metadata, mdns_txt_records, ...rest } = record;
  return { _id: service_id, ...rest, metadata_kv: toPairs(metadata), mdns_txt_kv: toPairs(mdns_txt_records) };
}

/**
 * Picks the record's fields by name, so storage-only fields (`_id`, `__v`, `*_kv`) never
 * reach a record; fields added since the document was written take their defaults.
 */
export function fromDocument(doc: ServiceDocument): ServiceRecord {
  const stored = doc as unknown as Partial<Record<keyof ServiceRecord, unknown>>;
  const record: Partial<Record<keyof ServiceRecord, unknown>> = {};
  for (const field of RECORD_FIELDS) record[field] = stored[field];
  record.service_id = doc._id;
  record.tags = [...doc.tags];
  record.metadata = fromPairs(doc.metadata_kv);
  record.mdns_txt_records = fromPairs(doc.mdns_txt_kv);
  return withMigrationDefaults(record as Partial<ServiceRecord>);
}
