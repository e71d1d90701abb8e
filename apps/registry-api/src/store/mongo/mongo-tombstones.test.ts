import { describe, expect, it } from 'vitest';
import type { Tombstone } from '../service-store';
import {
  TOMBSTONE_INDEXES,
  expiredTombstonesQuery,
  tombstoneByEndpointQuery,
  tombstoneByIdQuery,
  tombstoneByInstanceQuery,
  tombstoneDocument,
  tombstoneFrom,
} from './mongo-tombstones';

const NOW = Date.UTC(2030, 0, 1);

const tombstone: Tombstone = {
  service_id: 's-1',
  name: 'gone',
  type: 'http',
  host: '10.0.0.1',
  port: 80,
  instance_id: 'i-1',
  deleted_at: NOW - 1000,
  expires_at: NOW + 86_400_000,
  reason: 'delete',
};

describe('MongoDB tombstone queries', () => {
  it('stores the id as _id and the expiry also as a Date, which the TTL index reads; reads back the tombstone', () => {
    const doc = tombstoneDocument(tombstone);
    expect(doc).toMatchObject({ _id: 's-1', expires_at: tombstone.expires_at, expires: new Date(tombstone.expires_at) });
    expect(doc).not.toHaveProperty('service_id');
    expect(tombstoneFrom(doc)).toEqual(tombstone);
    expect(TOMBSTONE_INDEXES.find((index) => index.name === 'ttl')).toEqual({ key: { expires: 1 }, name: 'ttl', expireAfterSeconds: 0 });
  });

  it('matches values with $eq, never as operators, and only tombstones still in force (the TTL monitor lags)', () => {
    expect(tombstoneByIdQuery('s-1', NOW)).toEqual({ _id: { $eq: 's-1' }, expires_at: { $gt: NOW } });
    expect(tombstoneByInstanceQuery('gone', 'i-1', NOW)).toEqual({
      name: { $eq: 'gone' },
      instance_id: { $eq: 'i-1' },
      expires_at: { $gt: NOW },
    });
    expect(tombstoneByEndpointQuery({ name: 'gone', host: '10.0.0.1', port: 80 }, NOW)).toEqual({
      name: { $eq: 'gone' },
      host: { $eq: '10.0.0.1' },
      port: { $eq: 80 },
      expires_at: { $gt: NOW },
    });
    expect(tombstoneByIdQuery('{"$ne":null}', NOW)._id).toEqual({ $eq: '{"$ne":null}' });
    expect(expiredTombstonesQuery(NOW)).toEqual({ expires_at: { $lte: NOW } });
  });
});
