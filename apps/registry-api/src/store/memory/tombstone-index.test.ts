import { describe, expect, it } from 'vitest';
import type { Tombstone } from '../service-store';
import { TombstoneIndex } from './tombstone-index';

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

describe('TombstoneIndex', () => {
  it('finds a live tombstone by id, by instance and by endpoint, and forgets an expired one', () => {
    const index = new TombstoneIndex();
    index.put(tombstone('a', { instance_id: 'i-1' }));
    expect(index.live('a', NOW)?.service_id).toBe('a');
    expect(index.instance('svc', 'i-1', NOW)?.service_id).toBe('a');
    expect(index.forIdentity({ name: 'svc', host: '10.0.0.1', port: 80 }, NOW)?.service_id).toBe('a');
    expect(index.forIdentity({ name: 'svc', host: '10.0.0.2', port: 80, instance_id: 'i-1' }, NOW)?.service_id).toBe('a');
    expect(index.forIdentity({ name: 'other', host: '10.0.0.1', port: 80 }, NOW)).toBeNull();
    expect(index.live('a', NOW + 1000)).toBeNull();
    expect(index.expired(NOW + 1000)).toEqual(['a']);
  });

  it('keeps deletion order: a tombstone put again is the newest, and the oldest come first', () => {
    const index = new TombstoneIndex();
    for (const id of ['a', 'b', 'c']) index.put(tombstone(id, { port: id.charCodeAt(0) }));
    index.put(tombstone('a', { port: 97 }));
    expect(index.oldest(2)).toEqual(['b', 'c']);
    expect(index.size).toBe(3);
  });

  it('lets go of an endpoint only when the tombstone leaving still holds it', () => {
    const index = new TombstoneIndex();
    index.put(tombstone('a'));
    index.put(tombstone('b'));
    expect(index.delete('a')).toBe(true);
    expect(index.forIdentity({ name: 'svc', host: '10.0.0.1', port: 80 }, NOW)?.service_id).toBe('b');
    expect(index.delete('a')).toBe(false);
  });
});
