import { mongo } from 'mongoose';
import { afterAll, describe, expect, it } from 'vitest';
import { COLLECTION_NAMES, DEFAULT_WRITE_CONCERN, writeConcernOf } from './mongo-query';
import { collectionsOf } from './mongo-store';

/**
 * The write concern rides on the collections the store writes through, so every insert,
 * replace, find-and-modify and delete inherits it. Checked on the driver's own objects: a
 * MongoClient that is never connected still builds real `Db` and `Collection` instances.
 */
type Written = { collectionName: string; writeConcern?: mongo.WriteConcern };
const written = (collections: ReturnType<typeof collectionsOf>): Written[] =>
  Object.values<Written>(collections as unknown as Record<string, Written>);

describe('MongoDB write concern (issue 13 item 10)', () => {
  // A `w=1` in the connection string must not weaken what the configuration asks for.
  const client = new mongo.MongoClient('mongodb://127.0.0.1:1/beacon?w=1');
  afterAll(() => client.close());

  it('defaults to majority, journaled', () => {
    expect(DEFAULT_WRITE_CONCERN).toEqual({ w: 'majority', journal: true });
    expect(writeConcernOf('majority', true)).toEqual({ w: 'majority', journal: true });
    expect(writeConcernOf('2', false)).toEqual({ w: 2, journal: false });
  });

  it('is carried by every collection the store writes, over the connection string', () => {
    const db = client.db('beacon');
    expect(db.writeConcern?.w).toBe(1);
    const collections = written(collectionsOf(db, DEFAULT_WRITE_CONCERN));
    expect(collections.map((collection) => collection.collectionName).sort()).toEqual(Object.values(COLLECTION_NAMES).sort());
    for (const collection of collections) {
      expect(collection.writeConcern, collection.collectionName).toMatchObject({ w: 'majority', journal: true });
    }
  });

  it('takes a configured count of members and journaling off', () => {
    for (const collection of written(collectionsOf(client.db('beacon'), writeConcernOf('3', false)))) {
      expect(collection.writeConcern, collection.collectionName).toMatchObject({ w: 3, journal: false });
    }
  });
});
