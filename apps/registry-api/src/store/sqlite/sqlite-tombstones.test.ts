import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { Tombstone } from '../service-store';
import { SCHEMA } from './schema';
import { SqliteTombstones } from './sqlite-tombstones';

const NOW = 1_000_000;

const tombstone = (id: string, extra: Partial<Tombstone> = {}): Tombstone => ({
  service_id: id,
  name: 'svc',
  type: 'http',
  host: '10.0.0.1',
  port: 80,
  instance_id: null,
  deleted_at: NOW,
  expires_at: NOW + 1000,
  reason: 'delete',
  ...extra,
});

function open(max = 0): SqliteTombstones {
  const db = new Database(':memory:');
  db.exec(SCHEMA);
  return new SqliteTombstones(db, max);
}

const put = (store: SqliteTombstones, ...tombstones: Tombstone[]): void =>
  store.apply(new Map(tombstones.map((each) => [each.service_id, each])), null);

describe('SqliteTombstones', () => {
  it('finds a live tombstone by id, by instance and by endpoint; an expired one is not found', () => {
    const store = open();
    put(store, tombstone('a', { instance_id: 'i-1' }));
    expect(store.get('a', NOW)).toEqual(tombstone('a', { instance_id: 'i-1' }));
    expect(store.instance('svc', 'i-1', NOW)?.service_id).toBe('a');
    expect(store.forIdentity({ name: 'svc', host: '10.0.0.1', port: 80 }, NOW)?.service_id).toBe('a');
    expect(store.forIdentity({ name: 'svc', host: '10.9.9.9', port: 1, instance_id: 'i-1' }, NOW)?.service_id).toBe('a');
    expect(store.forIdentity({ name: 'other', host: '10.0.0.1', port: 80 }, NOW)).toBeNull();
    expect(store.get('a', NOW + 1000)).toBeNull();
    expect(store.all(NOW + 1000)).toEqual([]);
  });

  it('removes with null, purges the expired, and counts what the table holds', () => {
    const store = open();
    put(store, tombstone('a'), tombstone('b', { expires_at: NOW + 10 }), tombstone('c', { expires_at: NOW + 5000 }));
    expect(store.size).toBe(3);
    store.apply(new Map([['a', null]]), NOW + 10);
    expect(store.size).toBe(1);
    expect(store.all(NOW).map((each) => each.service_id)).toEqual(['c']);
  });

  it('keeps at most its cap, dropping the oldest deletions first', () => {
    const store = open(2);
    put(
      store,
      tombstone('new', { deleted_at: NOW + 3 }),
      tombstone('old', { deleted_at: NOW + 1 }),
      tombstone('mid', { deleted_at: NOW + 2 }),
    );
    expect(store.size).toBe(2);
    expect(store.all(NOW).map((each) => each.service_id)).toEqual(['mid', 'new']);
  });
});
