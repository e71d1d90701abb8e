import { mongo } from 'mongoose';
import { describe, expect, it } from 'vitest';
import type { ServiceRecord } from '../../catalog/service-record';
import type { ServiceFilter } from '../service-store';
import {
  countsFromFacets,
  fromDocument,
  instanceFilter,
  LIVE_INSTANCES_ORDER,
  liveInstancesFilter,
  recentChecksPipeline,
  SERVICE_INDEXES,
  statsPipeline,
  toDocument,
  toMongoFilter,
  type ServiceDocument,
} from './mongo-query';

const NOW = 1_700_000_000_000;

function record(overrides: Partial<ServiceRecord> = {}): ServiceRecord {
  return {
    service_id: 'svc-1',
    name: 'api',
    type: 'http',
    host: '10.0.0.5',
    port: 8080,
    protocol: 'http',
    tags: ['blue', 'edge'],
    metadata: { zone: 'a', $ne: 'x', 'a.b': 'dotted', '10': 'numeric' },
    version: '1.2.3',
    node_id: 'node-1',
    instance_id: 'i-1',
    status: 'active',
    health: 'healthy',
    ttl: 30,
    expires_at: NOW + 30_000,
    last_heartbeat: NOW,
    created_at: NOW - 1000,
    updated_at: NOW,
    health_check_url: 'http://10.0.0.5:8080/health',
    health_check_tcp: null,
    health_check_interval: 10,
    health_check_timeout: 5,
    health_check_retries: 3,
    health_check_rise: 2,
    last_health_check: NOW - 500,
    consecutive_health_failures: 0,
    consecutive_health_successes: 4,
    critical_load_alerted: true,
    load: 0.25,
    mdns_service_type: '_http._tcp',
    mdns_txt_records: { path: '/', $ref: 'r', $id: 'i' },
    revision: 42,
    ...overrides,
  };
}

/** Every object key anywhere in a query: user input must never show up among them. */
function keysOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(keysOf);
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, inner]) => [key, ...keysOf(inner)]);
}

describe('toMongoFilter', () => {
  it('is empty for an empty filter', () => {
    expect(toMongoFilter({}, NOW)).toEqual({});
  });

  it.each([
    ['type', 'http'],
    ['protocol', 'grpc'],
    ['name', 'api'],
    ['version', '1.2.3'],
    ['node_id', 'node-7'],
    ['health', 'degraded'],
  ] as const)('matches %s by equality under $eq', (field, value) => {
    expect(toMongoFilter({ [field]: value }, NOW)).toEqual({ [field]: { $eq: value } });
  });

  it('reads status expired as expires_at <= now, whatever is stored', () => {
    expect(toMongoFilter({ status: 'expired' }, NOW)).toEqual({ expires_at: { $lte: NOW } });
  });

  it.each(['active', 'inactive', 'unhealthy'] as const)('reads status %s as stored status and not yet expired', (status) => {
    expect(toMongoFilter({ status }, NOW)).toEqual({ status: { $eq: status }, expires_at: { $gt: NOW } });
  });

  it('requires every tag', () => {
    expect(toMongoFilter({ tags: ['blue', 'edge'] }, NOW)).toEqual({ tags: { $all: ['blue', 'edge'] } });
  });

  it('adds no tag condition for an empty tag list ($all: [] would match nothing)', () => {
    expect(toMongoFilter({ tags: [] }, NOW)).toEqual({});
  });

  it('requires each metadata pair within one entry', () => {
    expect(toMongoFilter({ metadata: { zone: 'a', tier: 'gold' } }, NOW)).toEqual({
      $and: [
        { metadata_kv: { $elemMatch: { k: { $eq: 'zone' }, v: { $eq: 'a' } } } },
        { metadata_kv: { $elemMatch: { k: { $eq: 'tier' }, v: { $eq: 'gold' } } } },
      ],
    });
  });

  it('adds no metadata condition for an empty map', () => {
    expect(toMongoFilter({ metadata: {} }, NOW)).toEqual({});
  });

  it('combines every condition', () => {
    const filter: ServiceFilter = {
      type: 'http',
      name: 'api',
      status: 'active',
      tags: ['blue'],
      metadata: { zone: 'a' },
    };
    expect(toMongoFilter(filter, NOW)).toEqual({
      type: { $eq: 'http' },
      name: { $eq: 'api' },
      status: { $eq: 'active' },
      expires_at: { $gt: NOW },
      tags: { $all: ['blue'] },
      $and: [{ metadata_kv: { $elemMatch: { k: { $eq: 'zone' }, v: { $eq: 'a' } } } }],
    });
  });

  it('keeps hostile strings as plain values, never as keys', () => {
    const hostile = ['$ne', '{"$gt":""}', '$where', 'a.b', '__proto__'];
    const query = toMongoFilter(
      { type: hostile[0], name: hostile[1], tags: hostile, metadata: Object.fromEntries(hostile.map((h) => [h, h])) },
      NOW,
    );
    expect(query.type).toEqual({ $eq: '$ne' });
    expect(query.name).toEqual({ $eq: '{"$gt":""}' });
    expect(query.tags).toEqual({ $all: hostile });
    const allowed = ['type', 'name', 'tags', 'metadata_kv', '$and', '$eq', '$all', '$elemMatch', 'k', 'v'];
    expect(new Set(keysOf(query))).toEqual(new Set(allowed));
  });

  it('wraps a value that is an operator object at run time so it is compared literally', () => {
    const smuggled = { $ne: null } as unknown as string;
    expect(toMongoFilter({ node_id: smuggled }, NOW)).toEqual({ node_id: { $eq: { $ne: null } } });
  });

  it('does not alias the caller’s tag array', () => {
    const tags = ['blue'];
    const query = toMongoFilter({ tags }, NOW) as { tags: { $all: string[] } };
    tags.push('late');
    expect(query.tags.$all).toEqual(['blue']);
  });
});

describe('toDocument / fromDocument', () => {
  it('keys the document by service_id and stores user maps as ordered pairs', () => {
    const doc = toDocument(record());
    expect(doc._id).toBe('svc-1');
    expect(doc).not.toHaveProperty('service_id');
    expect(doc).not.toHaveProperty('metadata');
    expect(doc).not.toHaveProperty('mdns_txt_records');
    expect(doc.metadata_kv).toEqual(Object.entries(record().metadata).map(([k, v]) => ({ k, v })));
    expect(doc.mdns_txt_kv).toEqual([
      { k: 'path', v: '/' },
      { k: '$ref', v: 'r' },
      { k: '$id', v: 'i' },
    ]);
  });

  it('round-trips every field and the key order of both maps', () => {
    const original = record();
    const back = fromDocument(toDocument(original));
    expect(back).toEqual(original);
    expect(Object.keys(back.metadata)).toEqual(Object.keys(original.metadata));
    expect(Object.keys(back.mdns_txt_records)).toEqual(Object.keys(original.mdns_txt_records));
  });

  it("survives the driver's BSON encoding unchanged", () => {
    // A `{ $ref, $id }` object would come back as a DBRef: why user maps are stored as pairs.
    const original = record();
    const stored = mongo.BSON.deserialize(mongo.BSON.serialize(toDocument(original))) as ServiceDocument;
    expect(fromDocument(stored)).toEqual(original);
  });

  it('round-trips nulls and empty collections', () => {
    const sparse = record({
      tags: [],
      metadata: {},
      mdns_txt_records: {},
      version: null,
      node_id: null,
      instance_id: null,
      last_heartbeat: null,
      health_check_url: null,
      last_health_check: null,
      load: null,
    });
    expect(fromDocument(toDocument(sparse))).toEqual(sparse);
  });

  it('keeps a __proto__ metadata key as an own key', () => {
    const metadata = JSON.parse('{"__proto__":"p","zone":"a"}') as Record<string, string>;
    const back = fromDocument(toDocument(record({ metadata })));
    expect(Object.getOwnPropertyNames(back.metadata)).toEqual(['__proto__', 'zone']);
    expect(Object.getPrototypeOf(back.metadata)).toBe(Object.prototype);
  });

  it('leaks no storage-only fields into the record', () => {
    const stored = { ...toDocument(record()), __v: 0 };
    const back = fromDocument(stored);
    expect(Object.keys(back).sort()).toEqual(Object.keys(record()).sort());
  });

  it('does not share arrays with the document', () => {
    const doc: ServiceDocument = toDocument(record());
    const back = fromDocument(doc);
    doc.tags.push('late');
    expect(back.tags).toEqual(['blue', 'edge']);
  });
});

describe('SERVICE_INDEXES', () => {
  it('enforces both identities, the instance one only where an instance_id is set', () => {
    const unique = SERVICE_INDEXES.filter((index) => index.unique);
    expect(unique.map((index) => index.key)).toEqual([
      { name: 1, host: 1, port: 1 },
      { name: 1, instance_id: 1 },
    ]);
    expect(unique[1]?.partialFilterExpression).toEqual({ instance_id: { $type: 'string' } });
  });

  it('has unique names', () => {
    const names = SERVICE_INDEXES.map((index) => index.name);
    expect(new Set(names).size).toBe(names.length);
  });
});

describe('seed 004 lookups', () => {
  it('finds an instance by (name, instance_id) with both under $eq', () => {
    expect(instanceFilter('api', 'i-1')).toEqual({ name: { $eq: 'api' }, instance_id: { $eq: 'i-1' } });
    const smuggled = { $ne: null } as unknown as string;
    expect(instanceFilter(smuggled, smuggled)).toEqual({ name: { $eq: { $ne: null } }, instance_id: { $eq: { $ne: null } } });
  });

  it('lists live records that have an instance_id, of one name or all', () => {
    expect(liveInstancesFilter(null, NOW)).toEqual({ instance_id: { $type: 'string' }, expires_at: { $gt: NOW } });
    expect(liveInstancesFilter('api', NOW)).toEqual({
      instance_id: { $type: 'string' },
      expires_at: { $gt: NOW },
      name: { $eq: 'api' },
    });
    expect(LIVE_INSTANCES_ORDER).toEqual({ name: 1, created_at: 1, _id: 1 });
  });

  it('matches what the partial instance index covers', () => {
    const instance = SERVICE_INDEXES.find((index) => index.name === 'instance');
    expect(instance?.partialFilterExpression).toEqual({ instance_id: liveInstancesFilter(null, NOW).instance_id });
  });
});

describe('stats', () => {
  it('groups by effective status (expired by the clock), health and type in one $facet', () => {
    expect(statsPipeline(NOW)).toEqual([
      {
        $facet: {
          by_status: [{ $group: { _id: { $cond: [{ $lte: ['$expires_at', NOW] }, 'expired', '$status'] }, n: { $sum: 1 } } }],
          by_health: [{ $group: { _id: '$health', n: { $sum: 1 } } }],
          by_type: [{ $group: { _id: '$type', n: { $sum: 1 } } }],
        },
      },
    ]);
  });

  it('zero-fills every status and health state and sorts types', () => {
    expect(
      countsFromFacets({
        by_status: [
          { _id: 'active', n: 3 },
          { _id: 'expired', n: 2 },
        ],
        by_health: [
          { _id: 'healthy', n: 4 },
          { _id: 'unknown', n: 1 },
        ],
        by_type: [
          { _id: 'mqtt', n: 1 },
          { _id: 'http', n: 4 },
        ],
      }),
    ).toEqual({
      total: 5,
      by_status: { active: 3, inactive: 0, expired: 2, unhealthy: 0 },
      by_health: { unknown: 1, healthy: 4, degraded: 0, unhealthy: 0 },
      by_type: { http: 4, mqtt: 1 },
    });
    expect(
      Object.keys(
        countsFromFacets({
          by_status: [],
          by_health: [],
          by_type: [
            { _id: 'b', n: 1 },
            { _id: 'a', n: 1 },
          ],
        }).by_type,
      ),
    ).toEqual(['a', 'b']);
  });

  it('answers zeros for an empty catalog (no facet row at all)', () => {
    expect(countsFromFacets(undefined)).toEqual({
      total: 0,
      by_status: { active: 0, inactive: 0, expired: 0, unhealthy: 0 },
      by_health: { unknown: 0, healthy: 0, degraded: 0, unhealthy: 0 },
      by_type: {},
    });
  });

  it('counts checks since a time over recently checked histories only, comparing ISO text', () => {
    const since = NOW - 60_000;
    const from = new Date(since).toISOString();
    expect(recentChecksPipeline(since)).toEqual([
      { $match: { last_checked_at: { $gte: from } } },
      { $project: { n: { $size: { $filter: { input: '$checks', as: 'check', cond: { $gte: ['$$check.checked_at', from] } } } } } },
      { $group: { _id: null, n: { $sum: '$n' } } },
    ]);
    // ISO 8601 UTC text sorts as time does, which the $gte on strings relies on.
    const times = [NOW - 61_000, NOW - 60_000, NOW - 1, NOW].map((t) => new Date(t).toISOString());
    expect([...times].sort()).toEqual(times);
  });
});
