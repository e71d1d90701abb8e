import { randomUUID } from 'node:crypto';
import { SERVICE_STATUSES, type StatusCounts } from '@beacon/contracts';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ServiceRecord } from '../../catalog/service-record';
import type { ServiceFilter } from '../service-store';
import { CatalogIndex } from './catalog-index';

/** A seeded generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

const NOW = Date.UTC(2030, 0, 1);

function makeRecord(next: () => number, overrides: Partial<ServiceRecord> = {}): ServiceRecord {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  return {
    service_id: randomUUID(),
    name: pick(['web', 'db', 'mq']),
    type: pick(['http', 'mqtt', 'database']),
    host: `10.0.0.${Math.floor(next() * 250)}`,
    port: 1 + Math.floor(next() * 60000),
    protocol: pick(['http', 'tcp']),
    tags: [...new Set([pick(['a', 'b', 'c']), pick(['a', 'b', 'd'])])],
    metadata: next() < 0.5 ? { rack: pick(['r1', 'r2']) } : { rack: pick(['r1', 'r2']), zone: pick(['z1', 'z2']) },
    version: pick([null, '1.0', '2.0']),
    node_id: pick([null, 'n1', 'n2']),
    instance_id: null,
    status: pick(['active', 'active', 'unhealthy', 'inactive']),
    health: pick(['unknown', 'healthy', 'unhealthy']),
    ttl: 300,
    expires_at: NOW + Math.floor((next() - 0.3) * 100_000),
    last_heartbeat: NOW,
    created_at: NOW - Math.floor(next() * 1000), // out of order on purpose
    updated_at: NOW,
    health_check_url: null,
    health_check_tcp: null,
    health_check_interval: 60,
    health_check_timeout: 5,
    health_check_retries: 3,
    health_check_rise: 1,
    last_health_check: null,
    consecutive_health_failures: 0,
    consecutive_health_successes: 0,
    critical_load_alerted: false,
    load: null,
    mdns_service_type: '_http._tcp',
    mdns_txt_records: {},
    revision: 1,
    ...overrides,
  };
}

/** The definition the index must agree with. */
function bruteForce(records: ServiceRecord[], filter: ServiceFilter, now: number): ServiceRecord[] {
  return records
    .filter((record) => {
      const equal = (['type', 'protocol', 'name', 'version', 'node_id', 'health'] as const).every(
        (field) => filter[field] === undefined || record[field] === filter[field],
      );
      const status =
        filter.status === undefined ||
        (filter.status === 'expired' ? record.expires_at <= now : record.status === filter.status && record.expires_at > now);
      const tags = (filter.tags ?? []).every((tag) => record.tags.includes(tag));
      const metadata = Object.entries(filter.metadata ?? {}).every(([key, value]) => record.metadata[key] === value);
      return equal && status && tags && metadata;
    })
    .sort((a, b) => a.created_at - b.created_at || (a.service_id < b.service_id ? -1 : 1));
}

function randomFilter(next: () => number): ServiceFilter {
  const maybe = <T>(value: T): T | undefined => (next() < 0.3 ? value : undefined);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  const filter: ServiceFilter = {
    type: maybe(pick(['http', 'mqtt', 'nope'])),
    protocol: maybe(pick(['http', 'tcp'])),
    name: maybe(pick(['web', 'db'])),
    version: maybe(pick(['1.0', '2.0'])),
    node_id: maybe(pick(['n1', 'n2'])),
    health: maybe(pick(['healthy', 'unhealthy'] as const)),
    status: maybe(pick(['active', 'expired', 'unhealthy', 'inactive'] as const)),
    tags: maybe([pick(['a', 'b', 'c', 'zzz']), pick(['a', 'b'])]),
    metadata: maybe<Record<string, string>>(next() < 0.5 ? { rack: pick(['r1', 'r2']) } : { rack: 'r1', zone: pick(['z1', 'z9']) }),
  };
  for (const key of Object.keys(filter) as (keyof ServiceFilter)[]) if (filter[key] === undefined) delete filter[key];
  return filter;
}

describe('CatalogIndex', () => {
  it('lists exactly what a brute-force filter finds, in creation order, through puts, replacements and deletes', () => {
    const next = random(42);
    const index = new CatalogIndex();
    const live = new Map<string, ServiceRecord>();
    for (let step = 0; step < 3000; step += 1) {
      const roll = next();
      const ids = [...live.keys()];
      if (roll < 0.6 || ids.length === 0) {
        const record = makeRecord(next);
        index.put(record);
        live.set(record.service_id, record);
      } else if (roll < 0.85) {
        const id = ids[Math.floor(next() * ids.length)] as string;
        const replacement = makeRecord(next, { service_id: id, created_at: (live.get(id) as ServiceRecord).created_at });
        index.put(replacement);
        live.set(id, replacement);
      } else {
        const id = ids[Math.floor(next() * ids.length)] as string;
        index.delete(id);
        live.delete(id);
      }
      if (step % 50 === 0) {
        const filter = randomFilter(next);
        const expected = bruteForce([...live.values()], filter, NOW);
        const page = { limit: 7, skip: Math.floor(next() * 5) };
        const { records, total } = index.list(filter, page, NOW);
        expect(total, JSON.stringify(filter)).toBe(expected.length);
        expect(records.map((record) => record.service_id)).toEqual(
          expected.slice(page.skip, page.skip + page.limit).map((record) => record.service_id),
        );
      }
    }
    expect(index.size).toBe(live.size);
    const allTags = new Set([...live.values()].flatMap((record) => record.tags));
    expect(index.distinctTags()).toEqual([...allTags].sort());
    expect(index.distinctTypes()).toEqual([...new Set([...live.values()].map((record) => record.type))].sort());
  });

  it('forgets values nobody holds any more', () => {
    const next = random(7);
    const index = new CatalogIndex();
    const record = makeRecord(next, { type: 'ephemeral', tags: ['only-here'] });
    index.put(record);
    expect(index.list({ type: 'ephemeral' }, { limit: 10, skip: 0 }, NOW).total).toBe(1);
    index.put({ ...record, type: 'http', tags: [] });
    expect(index.distinctTypes()).not.toContain('ephemeral');
    expect(index.distinctTags()).not.toContain('only-here');
    expect(index.list({ tags: ['only-here'] }, { limit: 10, skip: 0 }, NOW).total).toBe(0);
  });

  it('pages a snapshot in creation order, and finds records by identity', () => {
    const next = random(3);
    const index = new CatalogIndex();
    const records = Array.from({ length: 10 }, (_, n) => makeRecord(next, { instance_id: randomUUID(), created_at: NOW + n }));
    for (const record of [...records].reverse()) index.put(record);
    const ids = records.map((record) => record.service_id);
    const first = index.snapshotPage(null, 4, 9);
    expect(first.records.map((record) => record.service_id)).toEqual(ids.slice(0, 4));
    index.delete(ids[3] as string); // the cursor's record may be gone by the next page
    const second = index.snapshotPage(first.next, 4, 9);
    expect(second.records.map((record) => record.service_id)).toEqual(ids.slice(4, 8));
    const last = index.snapshotPage(second.next, 4, 9);
    expect(last.records.map((record) => record.service_id)).toEqual(ids.slice(8));
    expect(last.next).toBeNull();
    expect(() => index.snapshotPage('garbage', 4, 9)).toThrow(/snapshot cursor/);
    const target = records[0] as ServiceRecord;
    expect(index.atEndpoint(target.name, target.host, target.port)?.service_id).toBe(target.service_id);
    expect(index.withInstance(target.name, target.instance_id as string)?.service_id).toBe(target.service_id);
  });

  it('counts by effective status, health and type, and lists live instances, as brute force does', () => {
    const next = random(11);
    const index = new CatalogIndex();
    const live = new Map<string, ServiceRecord>();
    const withInstance = (): Partial<ServiceRecord> => ({ instance_id: next() < 0.6 ? randomUUID() : null });
    for (let step = 0; step < 1500; step += 1) {
      const ids = [...live.keys()];
      const roll = next();
      if (roll < 0.6 || ids.length === 0) {
        const record = makeRecord(next, withInstance());
        index.put(record);
        live.set(record.service_id, record);
      } else if (roll < 0.85) {
        const id = ids[Math.floor(next() * ids.length)] as string;
        const replacement = makeRecord(next, { service_id: id, created_at: (live.get(id) as ServiceRecord).created_at, ...withInstance() });
        index.put(replacement);
        live.set(id, replacement);
      } else {
        const id = ids[Math.floor(next() * ids.length)] as string;
        index.delete(id);
        live.delete(id);
      }
      if (step % 100 !== 0) continue;
      const all = [...live.values()];
      const tally = (key: (record: ServiceRecord) => string): Record<string, number> => {
        const counts: Record<string, number> = {};
        for (const record of all) counts[key(record)] = (counts[key(record)] ?? 0) + 1;
        return counts;
      };
      const counts = index.counts(NOW);
      expect(counts.total).toBe(all.length);
      expect(counts.by_status).toEqual({
        active: 0,
        inactive: 0,
        expired: 0,
        unhealthy: 0,
        ...tally((record) => (record.expires_at <= NOW ? 'expired' : record.status)),
      });
      expect(counts.by_health).toEqual({ unknown: 0, healthy: 0, degraded: 0, unhealthy: 0, ...tally((record) => record.health) });
      expect(counts.by_type).toEqual(tally((record) => record.type));
      const expected = all
        .filter((record) => record.instance_id !== null && record.expires_at > NOW)
        .sort((a, b) =>
          a.name < b.name ? -1 : a.name > b.name ? 1 : a.created_at - b.created_at || (a.service_id < b.service_id ? -1 : 1),
        );
      expect(index.instances(null, NOW).map((record) => record.service_id)).toEqual(expected.map((record) => record.service_id));
      expect(index.instances('web', NOW).map((record) => record.service_id)).toEqual(
        expected.filter((record) => record.name === 'web').map((record) => record.service_id),
      );
    }
  });
});

/** The definitions the incremental counts must agree with: a scan of every record. */
function scanCounts(records: ServiceRecord[], now: number): StatusCounts {
  const counts = { total: records.length, active: 0, inactive: 0, expired: 0, unhealthy: 0 };
  for (const record of records) counts[record.expires_at <= now ? 'expired' : record.status] += 1;
  return counts;
}

function scanDue(records: ServiceRecord[], now: number): ServiceRecord[] {
  return records.filter((record) => record.expires_at <= now && record.status !== 'expired');
}

/** One step against the catalog: ids come from a small pool, so puts renew, revive and replace. */
const step = fc.oneof(
  fc.record({
    kind: fc.constant('put' as const),
    id: fc.nat(24),
    status: fc.constantFrom(...SERVICE_STATUSES),
    // Relative to the clock: already past, due exactly now, or ahead.
    expiresIn: fc.oneof(fc.integer({ min: -5_000, max: 5_000 }), fc.constant(0)),
  }),
  fc.record({ kind: fc.constant('delete' as const), id: fc.nat(24) }),
  fc.record({ kind: fc.constant('tick' as const), by: fc.oneof(fc.nat(3_000), fc.integer({ min: -2_000, max: -1 })) }),
  fc.record({ kind: fc.constant('ask' as const), limit: fc.integer({ min: 1, max: 30 }) }),
);

describe('CatalogIndex effective-status counts', () => {
  it('agree with a scan through puts, renewals, revivals, removals and a clock that moves both ways', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 300 }), (steps) => {
        const next = random(5);
        const index = new CatalogIndex();
        const live = new Map<string, ServiceRecord>();
        let clock = NOW;
        const check = (limit: number): void => {
          const records = [...live.values()];
          expect(index.countByStatus(clock)).toEqual(scanCounts(records, clock));
          const due = scanDue(records, clock);
          const found = index.dueForExpiry(clock, limit);
          expect(found.length).toBe(Math.min(limit, due.length));
          // Soonest first; with ties any of the tied records may fill the last places.
          const deadlines = due.map((record) => record.expires_at).sort((a, b) => a - b);
          expect(found.map((record) => record.expires_at)).toEqual(deadlines.slice(0, limit));
          for (const record of found) expect(live.get(record.service_id)).toBe(record);
        };
        for (const action of steps) {
          if (action.kind === 'put') {
            const id = `svc-${action.id}`;
            const existing = live.get(id);
            const record = makeRecord(next, {
              service_id: id,
              status: action.status,
              expires_at: clock + action.expiresIn,
              ...(existing && { created_at: existing.created_at }),
            });
            index.put(record);
            live.set(id, record);
          } else if (action.kind === 'delete') {
            index.delete(`svc-${action.id}`);
            live.delete(`svc-${action.id}`);
          } else if (action.kind === 'tick') {
            clock += action.by;
          } else {
            check(action.limit);
          }
        }
        check(1_000);
      }),
      { numRuns: 300 },
    );
  });

  it('stay right when renewals leave far more stale deadlines than records', () => {
    const index = new CatalogIndex();
    const next = random(9);
    const records = Array.from({ length: 50 }, (_, n) => makeRecord(next, { service_id: `svc-${n}`, expires_at: NOW + 1_000 }));
    let clock = NOW;
    for (let round = 0; round < 200; round += 1) {
      clock += 10;
      for (const [n, record] of records.entries()) {
        // Every record renews; a third of them renew into the past and are revived next round.
        const renewed = { ...record, expires_at: n % 3 === round % 3 ? clock - 1 : clock + 1_000 };
        records[n] = renewed;
        index.put(renewed);
      }
      expect(index.countByStatus(clock)).toEqual(scanCounts(records, clock));
    }
    expect(
      index
        .dueForExpiry(clock, 100)
        .map((record) => record.service_id)
        .sort(),
    ).toEqual(
      scanDue(records, clock)
        .map((record) => record.service_id)
        .sort(),
    );
  });
});
