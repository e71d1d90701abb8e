import {
  HEALTH_HISTORY,
  SERVICE_STATUSES,
  type HealthCheckEntry,
  type Incident,
  type ServiceStatus,
  type StatusCounts,
} from '@beacon/contracts';
import mongoose, { type Connection } from 'mongoose';
import { performance } from 'node:perf_hooks';
import type { ServiceDraft, ServiceRecord } from '../../catalog/service-record';
import {
  CatalogFullError,
  catalogFull,
  IdentityConflictError,
  importRevisions,
  isIncidentEvent,
  type IncidentFilter,
  type IncidentOutboxEvent,
  StoreNotEmptyError,
  purgeBound,
  STATS_WINDOW_SECONDS,
  type CatalogCounts,
  type CatalogImport,
  type EventsOf,
  type Identity,
  type ImportOutcome,
  type ModifyOutcome,
  type OutboxEvent,
  type OutboxState,
  type Page,
  type PendingEvent,
  type RegisterOutcome,
  type ServiceFilter,
  type ServiceStore,
  type StoreHandle,
  type SnapshotPage,
  type Tombstone,
  restorableTombstones,
} from '../service-store';
import {
  COLLECTION_NAMES,
  countsFromFacets,
  DEFAULT_WRITE_CONCERN,
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
  type StatsFacets,
  type WriteConcernSettings,
} from './mongo-query';
import { batches, historyWrites, revisionReservation, serviceWrites, type HistoryDocument } from './mongo-import';
import { MongoUptime, type WindowDocument } from './mongo-uptime';
import { MongoIncidents, type IncidentDocument } from './mongo-incidents';
import { MongoTombstones, type TombstoneDocument } from './mongo-tombstones';
import { newEpoch, OUTBOX_COUNTER, OUTBOX_EPOCH, outboxDocuments, pendingFrom, type OutboxDocument } from './mongo-outbox';

type Collection<T extends mongoose.mongo.Document> = mongoose.mongo.Collection<T>;
type Filter = mongoose.mongo.Filter<ServiceDocument>;

interface Counter {
  _id: string;
  seq: number;
}

/** A service's check history: one document, its array kept to the newest entries by `$slice`. */
type History = HistoryDocument;

const REVISION = 'revision';

/**
 * Optimistic writes retry when another replica changed the record between our read and
 * our write; this many lost races in a row means something is wrong, not busy.
 */
const MAX_ATTEMPTS = 10;

const isDuplicateKey = (error: unknown): boolean => error instanceof mongoose.mongo.MongoServerError && error.code === 11000;

const exhausted = (what: string): Error => new Error(`${what}: still contended after ${MAX_ATTEMPTS} attempts`);

export interface MongoStoreOptions {
  /** How every write is acknowledged (default: majority, journaled). */
  writeConcern?: WriteConcernSettings;
  /** Records the catalog may hold (`BEACON_MAX_SERVICES`); 0 or absent: no limit. */
  maxServices?: number;
  /** Check results (pings) kept per service (`BEACON_PINGS_PER_SERVICE`). */
  pingsPerService?: number;
  /** Tombstones kept at most (`BEACON_TOMBSTONE_MAX`), the oldest dropped first; 0 or absent: no limit. */
  tombstoneMax?: number;
}

interface Collections {
  services: Collection<ServiceDocument>;
  counters: Collection<Counter>;
  histories: Collection<History>;
  outbox: Collection<OutboxDocument>;
  incidents: Collection<IncidentDocument>;
  windows: Collection<WindowDocument>;
  tombstones: Collection<TombstoneDocument>;
}

/**
 * The collections the store reads and writes, each carrying the write concern: every
 * write goes through one of them, so every write is acknowledged as configured (a
 * collection's setting also outranks a `w=` in the connection string).
 */
export function collectionsOf(db: mongoose.mongo.Db, writeConcern: WriteConcernSettings): Collections {
  const options = { writeConcern: { ...writeConcern } };
  return {
    services: db.collection<ServiceDocument>(COLLECTION_NAMES.services, options),
    counters: db.collection<Counter>(COLLECTION_NAMES.counters, options),
    histories: db.collection<History>(COLLECTION_NAMES.histories, options),
    outbox: db.collection<OutboxDocument>(COLLECTION_NAMES.outbox, options),
    incidents: db.collection<IncidentDocument>(COLLECTION_NAMES.incidents, options),
    windows: db.collection<WindowDocument>(COLLECTION_NAMES.windows, options),
    tombstones: db.collection<TombstoneDocument>(COLLECTION_NAMES.tombstones, options),
  };
}

function endpointOf(identity: Pick<Identity, 'name' | 'host' | 'port'>): Filter {
  return { name: { $eq: identity.name }, host: { $eq: identity.host }, port: { $eq: identity.port } };
}

function instanceOf(name: string, instanceId: string): Filter {
  return instanceFilter(name, instanceId);
}

/**
 * The production store: MongoDB shared by many stateless registry-api replicas. There are
 * no multi-document transactions (they need a replica set): every write is a single
 * conditional document operation, retried when a concurrent writer got there first.
 *
 * The outbox is the `outbox` collection. Without transactions its entries are written
 * right after the change they tell of, not with it: a registry-api that dies between the
 * two writes loses those events (consumers still converge through their periodic resync).
 * Every replica drains the whole outbox in seq order; JetStream's duplicate detection
 * (message id = entry id) stores an entry once when two replicas send it.
 */
export class MongoStore implements ServiceStore {
  get handle(): StoreHandle {
    return { backend: 'mongodb', db: this.db };
  }

  readonly backend = 'mongodb' as const;
  /** Reads go to MongoDB every time: nothing is cached. */
  readonly cachedRecords = 0;
  /** The outbox collection has no cap, so nothing is ever dropped. */
  readonly outboxDropped = 0;

  private readonly services: Collection<ServiceDocument>;
  private readonly counters: Collection<Counter>;
  private readonly histories: Collection<History>;
  private readonly outbox: Collection<OutboxDocument>;
  private epoch = 0;
  private readonly incidentCollection: MongoIncidents;
  readonly uptime: MongoUptime;
  private readonly windowCollection: Collection<WindowDocument>;
  private readonly tombstones: MongoTombstones;

  private constructor(
    private readonly connection: Connection,
    private readonly db: mongoose.mongo.Db,
    collections: Collections,
    private readonly maxServices: number,
    private readonly pingsPerService: number,
    tombstoneMax: number,
  ) {
    this.tombstones = new MongoTombstones(collections.tombstones, tombstoneMax);
    ({ services: this.services, counters: this.counters, histories: this.histories, outbox: this.outbox } = collections);
    this.incidentCollection = new MongoIncidents(collections.incidents);
    this.windowCollection = collections.windows;
    this.uptime = new MongoUptime(collections.windows, collections.histories, collections.incidents, collections.counters);
  }

  static async connect(url: string, options: MongoStoreOptions = {}): Promise<MongoStore> {
    // Its own connection: the app may use mongoose's default one for something else.
    const connection = mongoose.createConnection(url, { serverSelectionTimeoutMS: 5000 });
    try {
      await connection.asPromise();
      const db = connection.db;
      if (!db) throw new Error('MongoDB connection opened without a database');
      const collections = collectionsOf(db, options.writeConcern ?? DEFAULT_WRITE_CONCERN);
      const store = new MongoStore(
        connection,
        db,
        collections,
        options.maxServices ?? 0,
        options.pingsPerService ?? HEALTH_HISTORY.perService,
        options.tombstoneMax ?? 0,
      );
      await store.prepare();
      return store;
    } catch (error) {
      await connection.close().catch(() => undefined);
      throw error;
    }
  }

  private async prepare(): Promise<void> {
    await this.services.createIndexes([...SERVICE_INDEXES]);
    await this.histories.createIndex({ last_checked_at: 1 }, { name: 'last_checked_at' });
    await this.incidentCollection.prepare();
    await this.uptime.prepare();
    await this.tombstones.prepare();
    for (const [id, seq] of [
      [REVISION, 0],
      [OUTBOX_COUNTER, 0],
      [OUTBOX_EPOCH, newEpoch()],
    ] as const) {
      try {
        await this.counters.updateOne({ _id: id }, { $setOnInsert: { seq } }, { upsert: true });
      } catch (error) {
        // Two replicas booting together can both try the upsert; one inserted it, which is all we need.
        if (!isDuplicateKey(error)) throw error;
      }
    }
    this.epoch = (await this.counters.findOne({ _id: OUTBOX_EPOCH }))?.seq ?? 0;
  }

  /** Writes a change's events to the outbox, numbered in their order. */
  private async stage(given: OutboxEvent[] | undefined): Promise<void> {
    if (!given || given.length === 0) return;
    const events: OutboxEvent[] = [];
    for (const event of given) {
      // An opening refused by the one-open-per-kind index is not news: no event.
      if (!isIncidentEvent(event) || (await this.incidentCollection.apply(event))) events.push(event);
    }
    if (events.length === 0) return;
    const counter = await this.counters.findOneAndUpdate(
      { _id: OUTBOX_COUNTER },
      { $inc: { seq: events.length } },
      { upsert: true, returnDocument: 'after' },
    );
    if (!counter) throw new Error('outbox counter upsert returned no document');
    await this.outbox.insertMany(outboxDocuments(events, counter.seq - events.length + 1, Date.now()));
  }

  async outboxPage(limit: number): Promise<PendingEvent[]> {
    const docs = await this.outbox.find({}).sort({ _id: 1 }).limit(limit).toArray();
    return docs.map((doc) => pendingFrom(doc, this.epoch));
  }

  /**
   * Exactly these entries: another writer's entry with a lower seq may land after this page
   * was read (seqs are taken before the insert), and must not be removed unsent.
   */
  async outboxDone(entries: readonly PendingEvent[]): Promise<void> {
    if (entries.length === 0) return;
    await this.outbox.deleteMany({ _id: { $in: entries.map((entry) => entry.seq) } });
  }

  async outboxState(): Promise<OutboxState> {
    const [depth, oldest] = await Promise.all([
      this.outbox.estimatedDocumentCount(),
      this.outbox.find({}).sort({ _id: 1 }).limit(1).next(),
    ]);
    return { depth, oldest: oldest?.created_at ?? null };
  }

  private async nextRevision(): Promise<number> {
    const counter = await this.counters.findOneAndUpdate(
      { _id: REVISION },
      { $inc: { seq: 1 } },
      { upsert: true, returnDocument: 'after' },
    );
    if (!counter) throw new Error('revision counter upsert returned no document');
    return counter.seq;
  }

  private async currentRevision(): Promise<number> {
    return (await this.counters.findOne({ _id: REVISION }))?.seq ?? 0;
  }

  private async find(filter: Filter): Promise<ServiceRecord | null> {
    const doc = await this.services.findOne(filter);
    return doc ? fromDocument(doc) : null;
  }

  /** Atomic delete; the removal itself is a catalog change, so it gets a revision. */
  private async deleteWhere(filter: Filter): Promise<ServiceRecord | null> {
    const doc = await this.services.findOneAndDelete(filter);
    if (!doc) return null;
    await this.histories.deleteOne({ _id: doc._id });
    await this.windowCollection.deleteMany({ service_id: { $eq: doc._id } });
    return { ...fromDocument(doc), revision: await this.nextRevision() };
  }

  /** Whoever holds the endpoint or instance `draft` asks for, other than `draft` itself. */
  private async identityHolder(draft: ServiceDraft): Promise<ServiceRecord | null> {
    const others: Filter = { _id: { $ne: draft.service_id } };
    const endpoint = await this.find({ ...endpointOf(draft), ...others });
    if (endpoint || draft.instance_id === null) return endpoint;
    return this.find({ ...instanceOf(draft.name, draft.instance_id), ...others });
  }

  /**
   * Writes `draft` over `previous` (or inserts it), only if `previous` is still what is
   * stored. Resolves null when another writer got there first.
   */
  private async write(draft: ServiceDraft, previous: ServiceRecord | null): Promise<ServiceRecord | null> {
    const record: ServiceRecord = { ...draft, revision: await this.nextRevision() };
    if (!previous) {
      await this.services.insertOne(toDocument(record));
      return record;
    }
    const result = await this.services.replaceOne({ _id: previous.service_id, revision: previous.revision }, toDocument(record));
    return result.matchedCount === 1 ? record : null;
  }

  async ping(): Promise<number> {
    const started = performance.now();
    await this.db.admin().ping();
    return performance.now() - started;
  }

  async close(): Promise<void> {
    await this.connection.close();
  }

  async register(
    identity: Identity,
    build: (existing: ServiceRecord | null) => ServiceDraft,
    events?: EventsOf<RegisterOutcome>,
  ): Promise<RegisterOutcome> {
    // A holder removed in a lost attempt stays removed, so it is still reported.
    let superseded: ServiceRecord | null = null;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const byInstance = identity.instance_id ? await this.find(instanceOf(identity.name, identity.instance_id)) : null;
      const byEndpoint = await this.find(endpointOf(identity));
      const previous = byInstance ?? byEndpoint;
      if (previous === null) await this.assertRoomForOneMore();
      if (byEndpoint && previous && byEndpoint.service_id !== previous.service_id) {
        // Conditional on still holding the endpoint, so a holder that just moved survives.
        const removed = await this.deleteWhere({ _id: byEndpoint.service_id, ...endpointOf(identity) });
        if (!removed) continue;
        superseded = removed;
      }
      const revived = previous === null ? await this.tombstones.forIdentity(identity, Date.now()) : null;
      const built = build(previous);
      const record = await this.tryWrite(revived ? { ...built, service_id: revived.service_id } : built, previous);
      if (record) {
        // After the write: a crash in between leaves a tombstone beside the record, which the record outranks.
        if (revived) await this.tombstones.clear([record.service_id]);
        const outcome = { record, previous, superseded };
        await this.stage(events?.(outcome));
        return outcome;
      }
    }
    throw exhausted(`register ${identity.name} at ${identity.host}:${identity.port}`);
  }

  /**
   * The catalog limit, from the collection's count in its metadata (no scan). Replicas
   * registering at the same moment can each see room for the last place, so with MongoDB
   * the limit may be passed by up to the number of such concurrent registrations.
   */
  private async assertRoomForOneMore(): Promise<void> {
    if (this.maxServices > 0 && catalogFull(await this.services.estimatedDocumentCount(), this.maxServices)) {
      throw new CatalogFullError(this.maxServices);
    }
  }

  /** A lost race for the identity (unique index) is retried like any other lost race. */
  private async tryWrite(draft: ServiceDraft, previous: ServiceRecord | null): Promise<ServiceRecord | null> {
    try {
      return await this.write(draft, previous);
    } catch (error) {
      if (isDuplicateKey(error)) return null;
      throw error;
    }
  }

  async get(serviceId: string): Promise<ServiceRecord | null> {
    return this.find({ _id: { $eq: serviceId } });
  }

  async modify(
    serviceId: string,
    mutate: (current: ServiceRecord) => ServiceDraft | null,
    events?: EventsOf<ModifyOutcome>,
  ): Promise<ModifyOutcome | null> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const previous = await this.get(serviceId);
      if (!previous) return null;
      const draft = mutate(previous);
      if (!draft) return null;
      const holder = await this.identityHolder(draft);
      if (holder) throw new IdentityConflictError(holder);
      const record = await this.writeChecked(draft, previous);
      if (record) {
        const outcome = { record, previous };
        await this.stage(events?.(outcome));
        return outcome;
      }
    }
    throw exhausted(`modify ${serviceId}`);
  }

  /** Like `write`, but an identity taken between our check and our write is a conflict. */
  private async writeChecked(draft: ServiceDraft, previous: ServiceRecord): Promise<ServiceRecord | null> {
    try {
      return await this.write(draft, previous);
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
      const holder = await this.identityHolder(draft);
      // No holder: it let go again already, so the caller's retry will get through.
      if (holder) throw new IdentityConflictError(holder);
      return null;
    }
  }

  /**
   * The tombstone is written before the delete (no transactions): a crash between the two
   * leaves it beside a live record, which outranks it, never a delete without it. A delete
   * that finds nothing (another replica's delete won) takes its tombstone back.
   */
  async remove(
    serviceId: string,
    events?: EventsOf<ServiceRecord>,
    tombstone?: (removed: ServiceRecord) => Tombstone | null,
  ): Promise<ServiceRecord | null> {
    const current = tombstone ? await this.find({ _id: { $eq: serviceId } }) : null;
    const left = current && tombstone ? tombstone(current) : null;
    if (left) await this.tombstones.keep(left);
    const removed = await this.deleteWhere({ _id: { $eq: serviceId } });
    // Removed by someone else between our read and our delete: the tombstone stays. When that
    // was another operator's DELETE (two replicas, a retry), it has written a tombstone of the
    // same _id, which clearing ours would clear too: their 204'd delete would not stick.
    if (!removed) return null;
    await this.stage(events?.(removed));
    return removed;
  }

  tombstone(serviceId: string, now: number): Promise<Tombstone | null> {
    return this.tombstones.byId(serviceId, now);
  }

  instanceTombstone(name: string, instanceId: string, now: number): Promise<Tombstone | null> {
    return this.tombstones.byInstance(name, instanceId, now);
  }

  purgeTombstones(now: number): Promise<number> {
    return this.tombstones.purge(now);
  }

  tombstoneCount(): Promise<number> {
    return this.tombstones.count();
  }

  liveTombstones(now: number): Promise<Tombstone[]> {
    return this.tombstones.live(now);
  }

  async list(filter: ServiceFilter, page: Page, now: number): Promise<{ records: ServiceRecord[]; total: number }> {
    const query: Filter = toMongoFilter(filter, now);
    // Mongo reads limit 0 as "no limit"; the port means no records.
    const docs =
      page.limit > 0 ? await this.services.find(query).sort({ created_at: 1, _id: 1 }).skip(page.skip).limit(page.limit).toArray() : [];
    const records = docs.map(fromDocument);
    // A first page shorter than the limit already is the whole result.
    const total = page.skip === 0 && records.length < page.limit ? records.length : await this.services.countDocuments(query);
    return { records, total };
  }

  async distinctTypes(): Promise<string[]> {
    return (await this.services.distinct('type')).sort();
  }

  async distinctTags(): Promise<string[]> {
    return (await this.services.distinct('tags')).sort();
  }

  async countByStatus(now: number): Promise<StatusCounts> {
    const rows = await this.services
      .aggregate<{ _id: ServiceStatus; n: number }>([
        { $group: { _id: { $cond: [{ $lte: ['$expires_at', now] }, 'expired', '$status'] }, n: { $sum: 1 } } },
      ])
      .toArray();
    const counts = Object.fromEntries(SERVICE_STATUSES.map((status) => [status, 0])) as StatusCounts;
    counts.total = 0;
    for (const row of rows) {
      counts[row._id] = row.n;
      counts.total += row.n;
    }
    return counts;
  }

  async findInstance(name: string, instanceId: string): Promise<ServiceRecord | null> {
    return this.find(instanceOf(name, instanceId));
  }

  async listInstances(name: string | null, now: number): Promise<ServiceRecord[]> {
    const docs = await this.services.find(liveInstancesFilter(name, now)).sort(LIVE_INSTANCES_ORDER).toArray();
    return docs.map(fromDocument);
  }

  /** Three reads: the revision first (the counts are then at least that new), then both aggregations at once. */
  async stats(now: number): Promise<CatalogCounts> {
    const revision = await this.currentRevision();
    const [facets, checks] = await Promise.all([
      this.services.aggregate<StatsFacets>(statsPipeline(now)).toArray(),
      this.histories.aggregate<{ n: number }>(recentChecksPipeline(now - STATS_WINDOW_SECONDS * 1000)).toArray(),
    ]);
    return { revision, ...countsFromFacets(facets[0]), checks: checks[0]?.n ?? 0 };
  }

  async dueForExpiry(now: number, limit: number): Promise<ServiceRecord[]> {
    if (limit <= 0) return [];
    const docs = await this.services
      .find({ expires_at: { $lte: now }, status: { $ne: 'expired' } })
      .sort({ expires_at: 1, _id: 1 })
      .limit(limit)
      .toArray();
    return docs.map(fromDocument);
  }

  async removeExpiredBefore(cutoff: number, now: number, events?: EventsOf<ServiceRecord>): Promise<ServiceRecord[]> {
    const expired: Filter = { expires_at: { $lt: purgeBound(cutoff, now) } };
    const candidates = await this.services
      .find(expired, { projection: { _id: 1 } })
      .sort({ expires_at: 1 })
      .toArray();
    const removed: ServiceRecord[] = [];
    for (const { _id } of candidates) {
      // Re-checked on delete: a heartbeat since the scan keeps the record.
      const record = await this.deleteWhere({ _id, ...expired });
      if (record) {
        await this.stage(events?.(record));
        removed.push(record);
      }
    }
    return removed;
  }

  /** Mongo pages by `_id`: the cursor is the last service_id. */
  snapshotCursor(record: ServiceRecord): string {
    return record.service_id;
  }

  async snapshotPage(after: string | null, limit: number): Promise<SnapshotPage> {
    // Read before the page so the page never claims a revision newer than the writes it
    // could see. Without transactions a write holding a lower revision may still be in
    // flight and missing here; the consumer's periodic resync picks it up.
    const revision = await this.currentRevision();
    const docs =
      limit > 0
        ? await this.services
            .find(after === null ? {} : { _id: { $gt: after } })
            .sort({ _id: 1 })
            .limit(limit)
            .toArray()
        : [];
    const records = docs.map(fromDocument);
    const last = records.at(-1);
    return { revision, records, next: records.length === limit && last ? last.service_id : null };
  }

  async appendHealthCheck(serviceId: string, entry: HealthCheckEntry): Promise<void> {
    if (!(await this.services.findOne({ _id: serviceId }, { projection: { _id: 1 } }))) return;
    await this.histories.updateOne(
      { _id: serviceId },
      {
        $push: { checks: { $each: [entry], $slice: -this.pingsPerService } },
        $max: { last_checked_at: entry.checked_at },
      },
      { upsert: true },
    );
  }

  async healthChecks(serviceId: string, limit: number, since: number): Promise<{ checks: HealthCheckEntry[]; total: number }> {
    const history = await this.histories.findOne({ _id: serviceId });
    const recent = (history?.checks ?? []).filter((entry) => Date.parse(entry.checked_at) >= since).reverse();
    return { checks: recent.slice(0, limit), total: recent.length };
  }

  /**
   * Checked first (emptiness, identities, the limit), then written in batches of upserts:
   * see mongo-import.ts for why this is not one transaction and how a retry completes it.
   */
  async importCatalog(data: CatalogImport, merge: boolean): Promise<ImportOutcome> {
    if (!merge) {
      const size = await this.services.countDocuments({}, { limit: 1 });
      if (size > 0) throw new StoreNotEmptyError(await this.services.estimatedDocumentCount());
    }
    const incoming = new Set(data.records.map((record) => record.service_id));
    let existing = 0;
    for (const chunk of batches(data.records)) {
      if (merge) await this.assertIdentitiesFree(chunk, incoming);
      existing += await this.services.countDocuments({ _id: { $in: chunk.map((record) => record.service_id) } });
    }
    const created = data.records.length - existing;
    if (this.maxServices > 0 && (await this.services.estimatedDocumentCount()) + created > this.maxServices) {
      throw new CatalogFullError(this.maxServices);
    }
    const count = merge ? data.records.length : 0;
    const counter = await this.counters.findOneAndUpdate({ _id: REVISION }, revisionReservation(data.revision, count), {
      upsert: true,
      returnDocument: 'after',
    });
    if (!counter) throw new Error('revision counter update returned no document');
    const { records, revision } = importRevisions(data, counter.seq - count, merge);
    for (const chunk of batches(records)) {
      await this.services.bulkWrite(serviceWrites(chunk), { ordered: false });
      await this.histories.bulkWrite(historyWrites(chunk, data.checks), { ordered: false });
      await this.tombstones.clear(chunk.map((record) => record.service_id));
    }
    // A record outranks a tombstone of its id, whether imported or stored (as in SQLite): one kept
    // beside a stored record would answer 410 once the reaper purges that record, and hand its id
    // to a registration of the tombstone's identity while the record still holds it.
    const candidates = (data.tombstones ?? []).filter((tombstone) => !incoming.has(tombstone.service_id));
    const stored = new Set<string>();
    for (const chunk of batches(candidates)) {
      const ids = chunk.map((tombstone) => tombstone.service_id);
      for (const doc of await this.services.find({ _id: { $in: ids } }, { projection: { _id: 1 } }).toArray()) stored.add(doc._id);
    }
    await this.tombstones.keepAll(restorableTombstones(candidates, (id) => incoming.has(id) || stored.has(id)));
    return { created, replaced: existing, revision: Math.max(revision, counter.seq) };
  }

  /** A stored record, not replaced by the import, that holds an identity an imported one claims. */
  private async assertIdentitiesFree(chunk: readonly ServiceRecord[], incoming: ReadonlySet<string>): Promise<void> {
    const claims: Filter[] = chunk.flatMap((record) => [
      endpointOf(record),
      ...(record.instance_id === null ? [] : [instanceOf(record.name, record.instance_id)]),
    ]);
    const holders = await this.services.find({ $or: claims }).toArray();
    const holder = holders.find((doc) => !incoming.has(doc._id));
    if (holder) throw new IdentityConflictError(fromDocument(holder));
  }

  async commitIncidents(events: IncidentOutboxEvent[], progress: Incident[] = []): Promise<void> {
    for (const incident of progress) await this.incidentCollection.save(incident);
    await this.stage(events);
  }

  openIncidents(): Promise<Incident[]> {
    return this.incidentCollection.open(Date.now());
  }

  getIncident(incidentId: string): Promise<Incident | null> {
    return this.incidentCollection.get(incidentId, Date.now());
  }

  listIncidents(filter: IncidentFilter, page: Page): Promise<{ incidents: Incident[]; total: number }> {
    return this.incidentCollection.list(filter, page, Date.now());
  }

  trimIncidents(before: number, limit: number): Promise<number> {
    return this.incidentCollection.trimResolved(before, limit);
  }
}
