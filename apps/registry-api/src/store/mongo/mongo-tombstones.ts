import type { mongo } from 'mongoose';
import { tombstoneLive, type Identity, type Tombstone } from '../service-store';

/**
 * A tombstone in MongoDB: `_id` is the service id; `expires` is `expires_at` as a Date,
 * which the TTL index needs (MongoDB removes the document about a minute after it passes,
 * and reads filter on `expires_at` meanwhile).
 */
export interface TombstoneDocument extends Omit<Tombstone, 'service_id'> {
  _id: string;
  expires: Date;
}

export const TOMBSTONE_INDEXES = [
  { key: { expires: 1 }, name: 'ttl', expireAfterSeconds: 0 },
  { key: { deleted_at: 1 }, name: 'deleted' },
  { key: { name: 1, instance_id: 1 }, name: 'instance' },
  { key: { name: 1, host: 1, port: 1 }, name: 'endpoint' },
] as const;

export function tombstoneDocument(tombstone: Tombstone): TombstoneDocument {
  const { service_id, ...rest } = tombstone;
  return { _id: service_id, ...rest, expires: new Date(tombstone.expires_at) };
}

export function tombstoneFrom(doc: TombstoneDocument): Tombstone {
  const { _id, expires: _expires, ...rest } = doc;
  return { service_id: _id, ...rest };
}

type TombstoneFilter = mongo.Filter<TombstoneDocument>;

/** Live at `now` (the TTL monitor runs about once a minute, so reads check the time themselves). */
const liveAt = (now: number): TombstoneFilter => ({ expires_at: { $gt: now } });

export const tombstoneByIdQuery = (serviceId: string, now: number): TombstoneFilter => ({ _id: { $eq: serviceId }, ...liveAt(now) });

export const tombstoneByInstanceQuery = (name: string, instanceId: string, now: number): TombstoneFilter => ({
  name: { $eq: name },
  instance_id: { $eq: instanceId },
  ...liveAt(now),
});

export const tombstoneByEndpointQuery = (identity: Pick<Identity, 'name' | 'host' | 'port'>, now: number): TombstoneFilter => ({
  name: { $eq: identity.name },
  host: { $eq: identity.host },
  port: { $eq: identity.port },
  ...liveAt(now),
});

export const expiredTombstonesQuery = (now: number): TombstoneFilter => ({ expires_at: { $lte: now } });

/** MongoDB's tombstones; the store calls these around its catalog writes (no transactions, see `MongoStore`). */
export class MongoTombstones {
  constructor(
    private readonly collection: mongo.Collection<TombstoneDocument>,
    private readonly max: number,
  ) {}

  async prepare(): Promise<void> {
    await this.collection.createIndexes(TOMBSTONE_INDEXES.map((index) => ({ ...index })));
  }

  /** Stores one (replacing any of its id), then drops the oldest past the cap. */
  async keep(tombstone: Tombstone): Promise<void> {
    await this.collection.replaceOne({ _id: tombstone.service_id }, tombstoneDocument(tombstone), { upsert: true });
    await this.trimToCap();
  }

  async keepAll(tombstones: readonly Tombstone[]): Promise<void> {
    if (tombstones.length === 0) return;
    await this.collection.bulkWrite(
      tombstones.map((tombstone) => ({
        replaceOne: { filter: { _id: tombstone.service_id }, replacement: tombstoneDocument(tombstone), upsert: true },
      })),
      { ordered: false },
    );
    await this.trimToCap();
  }

  private async trimToCap(): Promise<void> {
    if (this.max <= 0) return;
    const excess = (await this.collection.estimatedDocumentCount()) - this.max;
    if (excess <= 0) return;
    const oldest = await this.collection
      .find({}, { projection: { _id: 1 } })
      .sort({ deleted_at: 1 })
      .limit(excess)
      .toArray();
    await this.collection.deleteMany({ _id: { $in: oldest.map((doc) => doc._id) } });
  }

  async clear(serviceIds: readonly string[]): Promise<void> {
    if (serviceIds.length > 0) await this.collection.deleteMany({ _id: { $in: [...serviceIds] } });
  }

  async byId(serviceId: string, now: number): Promise<Tombstone | null> {
    const doc = await this.collection.findOne(tombstoneByIdQuery(serviceId, now));
    return doc ? tombstoneFrom(doc) : null;
  }

  async byInstance(name: string, instanceId: string, now: number): Promise<Tombstone | null> {
    // The newest deletion when several hold the identity, as SQLite answers.
    const doc = await this.collection.findOne(tombstoneByInstanceQuery(name, instanceId, now), { sort: { deleted_at: -1 } });
    return doc ? tombstoneFrom(doc) : null;
  }

  /** The tombstone a registration of this identity takes its id back from (instance first). */
  async forIdentity(identity: Identity, now: number): Promise<Tombstone | null> {
    const byInstance = identity.instance_id ? await this.byInstance(identity.name, identity.instance_id, now) : null;
    if (byInstance) return byInstance;
    const doc = await this.collection.findOne(tombstoneByEndpointQuery(identity, now), { sort: { deleted_at: -1 } });
    return doc && tombstoneLive(tombstoneFrom(doc), now) ? tombstoneFrom(doc) : null;
  }

  async purge(now: number): Promise<number> {
    return (await this.collection.deleteMany(expiredTombstonesQuery(now))).deletedCount;
  }

  count(): Promise<number> {
    return this.collection.estimatedDocumentCount();
  }

  async live(now: number): Promise<Tombstone[]> {
    const docs = await this.collection.find(liveAt(now)).sort({ deleted_at: 1 }).toArray();
    return docs.map(tombstoneFrom);
  }
}
