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

function open(): SqliteTombstones {
  const db = new Database(':memory:');
  db.exec(SCHEMA);
  return new SqliteTombstones(db, 0);
}

/**
 * The store's pending group commit holds tombstones not yet in the file while the record's
 * removal is already in memory: lookups must see them (else a heartbeat racing its DELETE
 * gets 404 and the client registers again).
 */
describe('SqliteTombstones with a pending commit', () => {
  it('finds a tombstone the pending commit writes, by id, instance and endpoint', () => {
    const store = open();
    const pending = new Map([['a', tombstone('a', { instance_id: 'i-1' })]]);
    expect(store.get('a', NOW)).toBeNull();
    expect(store.get('a', NOW, pending)?.service_id).toBe('a');
    expect(store.instance('svc', 'i-1', NOW, pending)?.service_id).toBe('a');
    expect(store.forIdentity({ name: 'svc', host: '10.0.0.1', port: 80 }, NOW, pending)?.service_id).toBe('a');
    expect(store.forIdentity({ name: 'svc', host: '10.0.0.2', port: 80 }, NOW, pending)).toBeNull();
    expect(store.get('a', NOW + 1000, pending)).toBeNull();
  });

  it('does not find a stored tombstone the pending commit removes; the newest of stored and pending wins', () => {
    const store = open();
    store.apply(new Map([['a', tombstone('a')]]), null);
    expect(store.get('a', NOW, new Map([['a', null]]))).toBeNull();
    expect(store.forIdentity({ name: 'svc', host: '10.0.0.1', port: 80 }, NOW, new Map([['a', null]]))).toBeNull();
    const newer = new Map([['b', tombstone('b', { deleted_at: NOW + 1 })]]);
    expect(store.forIdentity({ name: 'svc', host: '10.0.0.1', port: 80 }, NOW + 2, newer)?.service_id).toBe('b');
    expect(store.get('a', NOW, newer)?.service_id).toBe('a');
  });

  it('counts its size along (no COUNT(*) per commit): a replace, a removal, a purge and the cap keep it exact', () => {
    const db = new Database(':memory:');
    db.exec(SCHEMA);
    const store = new SqliteTombstones(db, 3);
    const count = (): number => db.prepare('SELECT COUNT(*) FROM tombstones').pluck().get() as number;
    store.apply(
      new Map([
        ['a', tombstone('a')],
        ['b', tombstone('b', { deleted_at: NOW + 1 })],
      ]),
      null,
    );
    store.apply(new Map([['a', tombstone('a', { deleted_at: NOW + 2 })]]), null);
    expect([store.size, count()]).toEqual([2, 2]);
    store.apply(
      new Map([
        ['b', null],
        ['zz', null],
      ]),
      null,
    );
    expect([store.size, count()]).toEqual([1, 1]);
    store.apply(new Map(['c', 'd', 'e', 'f'].map((id, at) => [id, tombstone(id, { deleted_at: NOW + 10 + at })])), null);
    expect([store.size, count()]).toEqual([3, 3]);
    expect(store.get('a', NOW)).toBeNull();
    store.apply(new Map(), NOW + 1000);
    expect([store.size, count()]).toEqual([0, 0]);
  });
});
