import type {
  EventPayloads,
  HealthCheckEntry,
  HealthState,
  Incident,
  IncidentKind,
  IncidentStatus,
  ServiceEventSubject,
  ServiceStatus,
  StatusCounts,
  StreamSubject,
  Subjects,
} from '@beacon/contracts';
import type { Database } from 'better-sqlite3';
import type { mongo } from 'mongoose';
import type { ServiceDraft, ServiceRecord } from '../catalog/service-record';
import type { CheckPoint, ExpiredSpan, StoredWindow, WindowTotals } from '../uptime/uptime-math';

/**
 * The database behind the catalog, for the tables that live beside it (incidents, uptime
 * windows, webhooks): same file or same MongoDB database, so one backup holds everything.
 * SQLite's handle is the store's one connection (the file is opened exclusively).
 */
export type StoreHandle = { backend: 'sqlite'; db: Database } | { backend: 'mongodb'; db: mongo.Db };

/** Catalog filters after validation (all given conditions must hold). */
export interface ServiceFilter {
  type?: string;
  /** All of these tags. */
  tags?: string[];
  protocol?: string;
  /** Effective status: `expired` means `expires_at` <= now. */
  status?: ServiceStatus;
  name?: string;
  version?: string;
  health?: HealthState;
  node_id?: string;
  /** Every key must have exactly this value. */
  metadata?: Record<string, string>;
}

export interface Page {
  limit: number;
  skip: number;
}

export interface Identity {
  name: string;
  host: string;
  port: number;
  instance_id?: string;
}

export interface RegisterOutcome {
  record: ServiceRecord;
  /** The record before this registration, or null when it created one. */
  previous: ServiceRecord | null;
  /** Another record that held the same (name, host, port) and was replaced. */
  superseded: ServiceRecord | null;
}

/**
 * The exclusive `expires_at` bound of a purge: the requested cutoff, but never past `now`
 * (a record is expired when `expires_at <= now`, so `now + 1` takes every expired one
 * and nothing else). Purges come from whoever can reach NATS, on their clock.
 */
export const purgeBound = (cutoff: number, now: number): number => Math.min(cutoff, now + 1);

/** The "last minute" of `GET /api/v1/stats`. */
export const STATS_WINDOW_SECONDS = 60;

/** What `GET /api/v1/stats` reads from the store, in one call. */
export interface CatalogCounts {
  /** The catalog revision, read before the counts (they are at least this new). */
  revision: number;
  total: number;
  by_status: Record<ServiceStatus, number>;
  by_health: Record<HealthState, number>;
  by_type: Record<string, number>;
  /** Check history entries with `checked_at` in the last `STATS_WINDOW_SECONDS`. */
  checks: number;
}

export interface ModifyOutcome {
  record: ServiceRecord;
  previous: ServiceRecord;
}

/** Another record already holds the `(name, host, port)` or `(name, instance_id)` an update asks for. */
export class IdentityConflictError extends Error {
  constructor(readonly holder: ServiceRecord) {
    super(
      `another service (${holder.service_id}) is already registered as "${holder.name}" at ${holder.host}:${holder.port}` +
        (holder.instance_id ? ` with instance_id "${holder.instance_id}"` : ''),
    );
    this.name = 'IdentityConflictError';
  }
}

/** A registration would add a record to a catalog that already holds its configured most. */
export class CatalogFullError extends Error {
  constructor(readonly limit: number) {
    super(`the catalog holds its limit of ${limit} services`);
    this.name = 'CatalogFullError';
  }
}

/** Whether a catalog of `size` records has no room for one more (`limit` 0: no limit). */
export const catalogFull = (size: number, limit: number): boolean => limit > 0 && size >= limit;

/** A snapshot cursor that is not one this store handed out. */
export class InvalidCursorError extends Error {
  constructor(cursor: string) {
    super(`"${cursor.slice(0, 60)}" is not a snapshot cursor: pass the previous page's "next" as "after"`);
    this.name = 'InvalidCursorError';
  }
}

/** An import into a store that already holds services, without `merge`. */
export class StoreNotEmptyError extends Error {
  constructor(readonly size: number) {
    super(`the store already holds ${size} services`);
    this.name = 'StoreNotEmptyError';
  }
}

/** Which operator's act left a tombstone: `DELETE /api/v1/services/{id}` or seed 004's unregister. */
export type TombstoneReason = 'delete' | 'unregister';

export const TOMBSTONE_REASONS: readonly TombstoneReason[] = ['delete', 'unregister'];

/**
 * What an operator's delete leaves behind for a while: enough to tell a heartbeat from the
 * deleted service (410) apart from one for an id nobody knows (404), and to give the id
 * back to the same identity when it registers again. Epoch ms inside, as records.
 * The TTL reaper's purge leaves none: an expired service was not deleted by anyone.
 */
export interface Tombstone {
  service_id: string;
  name: string;
  type: string;
  host: string;
  port: number;
  instance_id: string | null;
  deleted_at: number;
  /** Gone for good after this instant: a heartbeat then gets 404, as for any unknown id. */
  expires_at: number;
  reason: TombstoneReason;
}

/** The stored fields of a tombstone, in order: export lines, documents and rows are built from this list. */
export const TOMBSTONE_FIELDS = [
  'service_id',
  'name',
  'type',
  'host',
  'port',
  'instance_id',
  'deleted_at',
  'expires_at',
  'reason',
] as const satisfies readonly (keyof Tombstone)[];

/**
 * The tombstones of an import a store keeps: none whose id is a record (imported or stored),
 * which outranks it, in both stores alike.
 */
export const restorableTombstones = (tombstones: readonly Tombstone[], isRecord: (serviceId: string) => boolean): Tombstone[] =>
  tombstones.filter((tombstone) => !isRecord(tombstone.service_id));

/** A tombstone still in force at `now`. */
export const tombstoneLive = (tombstone: Tombstone, now: number): boolean => tombstone.expires_at > now;

/** A whole catalog to load (`POST /api/v1/import`), validated and consistent within itself. */
export interface CatalogImport {
  /** The highest revision the file knows: its header's, or any record's if higher. */
  revision: number;
  records: ServiceRecord[];
  /** Check history per service, oldest first, at most `HEALTH_HISTORY.perService` each. */
  checks: Map<string, HealthCheckEntry[]>;
  /** Tombstones to keep (each replaces one with the same service_id; one whose id is a record is dropped). */
  tombstones?: Tombstone[];
}

export interface ImportOutcome {
  /** Records that were not in the store. */
  created: number;
  /** Records that replaced one with the same service_id (merge only). */
  replaced: number;
  /** The catalog revision after the import. */
  revision: number;
}

/**
 * The records an import writes and the catalog revision after it. Into an empty store
 * records keep their revisions, so the copy is identical; merged ones take new revisions
 * above both catalogs', so every consumer reads them as changes (a consumer compares
 * revisions, and the two stores' numbers mean nothing to each other). The revision never
 * goes back: it continues from the highest of the store's and the file's.
 */
export function importRevisions(data: CatalogImport, current: number, merge: boolean): { records: ServiceRecord[]; revision: number } {
  const base = Math.max(current, data.revision);
  if (!merge) return { records: data.records, revision: base };
  const records = data.records.map((record, offset) => ({ ...record, revision: base + offset + 1 }));
  return { records, revision: base + records.length };
}

/**
 * The catalog events `BEACON_EVENTS` keeps: every one but `renewed`, which moves a deadline
 * forward, is sent with core NATS, and whose loss costs a consumer one question answered
 * with the current deadline.
 */
export type OutboxSubject = Extract<ServiceEventSubject, StreamSubject> | IncidentSubject;

/** The incident events, all kept by `BEACON_EVENTS`. */
export type IncidentSubject =
  | typeof Subjects.incidentOpened
  | typeof Subjects.incidentResolved
  | typeof Subjects.incidentAcknowledged
  | typeof Subjects.incidentReminder;

/**
 * A catalog or incident event, written to the outbox in the same transaction as the change
 * it tells of. An incident event also writes its incident: the store keeps each incident
 * as its latest event carried it (`incident.opened` inserts it, and is dropped with its
 * row when the service and kind already have an open one; the others update it).
 */
export type OutboxEvent = { [S in OutboxSubject]: { subject: S; payload: EventPayloads[S] } }[OutboxSubject];

export type IncidentOutboxEvent = Extract<OutboxEvent, { subject: IncidentSubject }>;

/** Whether an outbox event is an incident's (and so also writes the incident). */
export const isIncidentEvent = (event: OutboxEvent): event is IncidentOutboxEvent => 'incident' in event.payload;

/** The service an outbox event is about. */
export const eventServiceId = (event: OutboxEvent): string =>
  'incident' in event.payload ? event.payload.incident.service_id : event.payload.service.service_id;

/** `GET /api/v1/incidents` after validation. */
export interface IncidentFilter {
  status?: IncidentStatus;
  service_id?: string;
  kind?: IncidentKind;
  /** Started at or after, epoch ms. */
  since?: number;
}

/**
 * Incidents beside the catalog, in the same database. Writes go through the catalog's
 * mutations (their incident events) or `commitIncidents`, so an incident is stored with
 * its event and, where a catalog change caused it, with that change.
 */
export interface IncidentStore {
  /**
   * Stores incident events with no catalog change (an operator's resolve, a reminder, a
   * reconcile), and `progress`: open incidents whose counts or cause changed, written
   * without an event.
   */
  commitIncidents(events: IncidentOutboxEvent[], progress?: Incident[]): Promise<void>;
  /** Every open incident (there is at most one per service and kind). */
  openIncidents(): Promise<Incident[]>;
  getIncident(incidentId: string): Promise<Incident | null>;
  /** Newest first (by `started_at`, then id), and the total matching. */
  listIncidents(filter: IncidentFilter, page: Page): Promise<{ incidents: Incident[]; total: number }>;
  /** Removes at most `limit` incidents resolved before `before`; returns how many. */
  trimIncidents(before: number, limit: number): Promise<number>;
}

/** The events a change produces, given what the store did; called once, after the change is decided. */
export type EventsOf<T> = (outcome: T) => OutboxEvent[];

/** An outbox entry waiting for its JetStream acknowledgement. */
export interface PendingEvent {
  /** Position in the outbox: entries are published in this order. */
  seq: number;
  /** Unique in this store for ever: the JetStream message id, so a resend is stored once. */
  id: string;
  subject: OutboxSubject;
  /** The payload as JSON, exactly as it is sent. */
  data: string;
  /** When the change was written, epoch ms. */
  created_at: number;
}

export interface OutboxState {
  depth: number;
  /** `created_at` of the oldest waiting entry, or null when the outbox is empty. */
  oldest: number | null;
}

export interface SnapshotPage {
  revision: number;
  records: ServiceRecord[];
  next: string | null;
}

/**
 * The catalog's storage port. Every mutation is atomic and assigns the record the next
 * catalog-wide revision. Callbacks (`build`, `mutate`) are pure and synchronous: an
 * adapter may call them more than once when it retries an optimistic write.
 */
/**
 * Uptime history beside the catalog: closed windows aggregated from the stored check
 * results (the pings, which are the check history `appendHealthCheck` keeps, up to the
 * store's per-service count), and the mark up to which that was done.
 */
export interface UptimeStore {
  /** Every window before this instant (epoch ms) has been aggregated; 0 before the first. */
  aggregatedUntil(): Promise<number>;
  /** Stored check results with `checked_at` in `[from, to)`. */
  checksBetween(from: number, to: number): Promise<CheckPoint[]>;
  /** `expired` incidents overlapping `[from, to)`, by service. */
  expiredSpans(from: number, to: number): Promise<Map<string, ExpiredSpan[]>>;
  /** Writes windows (replacing any with the same service and start) and moves the mark to `until`, atomically. */
  saveWindows(windows: readonly StoredWindow[], until: number): Promise<void>;
  /** One service's windows starting in `[from, to)`, oldest first. */
  windows(serviceId: string, from: number, to: number): Promise<StoredWindow[]>;
  /** Every service's windows starting at or after `from`, by service then start. */
  windowsSince(from: number): Promise<StoredWindow[]>;
  /** Every service's totals over the windows starting in `[from, to)` (summed in the database). */
  totals(from: number, to: number): Promise<Map<string, WindowTotals>>;
  /** Removes at most `limit` windows that start before `windowsBefore`, and pings checked before `pingsBefore`; returns how many rows went. */
  trim(windowsBefore: number, pingsBefore: number, limit: number): Promise<number>;
}

export interface ServiceStore extends IncidentStore {
  readonly uptime: UptimeStore;
  readonly backend: 'sqlite' | 'mongodb';
  /** The database itself, for monitoring's own tables or collections. */
  readonly handle: StoreHandle;
  /** Service records this process holds in memory (seed 000's `memory.cache_size`): all of them with SQLite, none with MongoDB. */
  readonly cachedRecords: number;

  /** Round trip to the store, in milliseconds; throws when it is unreachable. */
  ping(): Promise<number>;
  close(): Promise<void>;

  /**
   * Registration by identity: with `instance_id`, the record with the same
   * `(name, instance_id)`; otherwise (or if there is none) the one at the same
   * `(name, host, port)`. `build(existing)` gives the record to write. A different record
   * still holding the endpoint is removed (`superseded`): whoever registers an endpoint
   * last owns it. A registration that would add a record beyond the store's configured
   * limit throws `CatalogFullError`; one that replaces a record always goes through.
   * A new record whose identity has a live tombstone (same `(name, instance_id)`, else
   * same `(name, host, port)`) takes back the tombstone's service_id; the registration
   * removes the tombstone of the id it writes, in the same atomic step.
   */
  register(
    identity: Identity,
    build: (existing: ServiceRecord | null) => ServiceDraft,
    events?: EventsOf<RegisterOutcome>,
  ): Promise<RegisterOutcome>;

  get(serviceId: string): Promise<ServiceRecord | null>;

  /** The record registered as `(name, instance_id)` (seed 004's identity), or null. */
  findInstance(name: string, instanceId: string): Promise<ServiceRecord | null>;

  /**
   * Records that have an `instance_id` and are not expired (`expires_at` > now), of one
   * name or of all, ordered by name, then `created_at`, then `service_id`.
   */
  listInstances(name: string | null, now: number): Promise<ServiceRecord[]>;

  /**
   * Read-modify-write of one record. `mutate` returns the new record, or null to change
   * nothing (the outcome is then null too). Throws `IdentityConflictError` when the new
   * identity is taken. Resolves null if the record does not exist.
   */
  modify(
    serviceId: string,
    mutate: (current: ServiceRecord) => ServiceDraft | null,
    events?: EventsOf<ModifyOutcome>,
  ): Promise<ModifyOutcome | null>;

  /**
   * Removes a record; resolves it with the revision of its removal, or null if there was
   * none. `tombstone` (an operator's delete) gives the tombstone to keep, stored with the
   * removal (SQLite: same transaction; MongoDB: written first, so a crash between the two
   * leaves a tombstone beside a live record, which the record outranks). Past the store's
   * tombstone cap the oldest tombstones are dropped.
   */
  remove(
    serviceId: string,
    events?: EventsOf<ServiceRecord>,
    tombstone?: (removed: ServiceRecord) => Tombstone | null,
  ): Promise<ServiceRecord | null>;

  /** The live tombstone of a service id (`expires_at` > now), or null. */
  tombstone(serviceId: string, now: number): Promise<Tombstone | null>;

  /** The live tombstone of seed 004's identity `(name, instance_id)`, or null. */
  instanceTombstone(name: string, instanceId: string, now: number): Promise<Tombstone | null>;

  /** Removes tombstones expired at `now`; returns how many. */
  purgeTombstones(now: number): Promise<number>;

  /** Tombstones stored (expired ones not yet purged included). */
  tombstoneCount(): Promise<number>;

  /** Every live tombstone, oldest deletion first (at most the store's cap), for the export. */
  liveTombstones(now: number): Promise<Tombstone[]>;

  /** Matching records ordered by `created_at`, then `service_id`, and the total matching. */
  list(filter: ServiceFilter, page: Page, now: number): Promise<{ records: ServiceRecord[]; total: number }>;

  distinctTypes(): Promise<string[]>;
  distinctTags(): Promise<string[]>;
  countByStatus(now: number): Promise<StatusCounts>;

  /** Counts by effective status, health and type, checks of the last minute, and the revision. */
  stats(now: number): Promise<CatalogCounts>;

  /** Records past `expires_at` not yet marked expired (the sweep's work list). */
  dueForExpiry(now: number, limit: number): Promise<ServiceRecord[]>;

  /**
   * Deletes records whose `expires_at` is before `cutoff` and that are expired at `now`
   * (see `purgeBound`: a live record is never removed, whatever the cutoff); returns them.
   */
  removeExpiredBefore(cutoff: number, now: number, events?: EventsOf<ServiceRecord>): Promise<ServiceRecord[]>;

  /**
   * One page of the whole catalog, continuing after `after`: the previous page's `next`,
   * an opaque cursor whose form is the adapter's. Throws `InvalidCursorError` for a
   * cursor it did not hand out.
   */
  snapshotPage(after: string | null, limit: number): Promise<SnapshotPage>;

  /** The cursor that continues a snapshot right after this record. */
  snapshotCursor(record: ServiceRecord): string;

  /**
   * Keeps a check result in the service's history (the pings): the newest
   * `BEACON_PINGS_PER_SERVICE` are kept (the store's `pingsPerService`), older ones are
   * trimmed by `uptime.trim`; removing a service removes its history.
   */
  appendHealthCheck(serviceId: string, entry: HealthCheckEntry): Promise<void>;

  /** A service's history, newest first: at most `limit` entries checked at or after `since`. */
  healthChecks(serviceId: string, limit: number, since: number): Promise<{ checks: HealthCheckEntry[]; total: number }>;

  /**
   * Loads a whole catalog (see `importRevisions` for the revisions). Without `merge` the
   * store must hold no service (`StoreNotEmptyError`); with it, records are upserted by
   * service_id, each replacing the stored record and its check history, and
   * `IdentityConflictError` refuses a record whose identity another stored record holds.
   * `CatalogFullError` when the result would pass the limit. Nothing is published.
   */
  importCatalog(data: CatalogImport, merge: boolean): Promise<ImportOutcome>;

  /*
   * The transactional outbox. Every mutation above takes an `events` callback: the events
   * it returns are stored with the change, atomically, so a change is never kept without
   * its events nor an event without its change. `OutboxPublisher` sends them to
   * `BEACON_EVENTS` in `seq` order and removes each only once JetStream acknowledged it.
   */

  /** The oldest waiting entries, in `seq` order, at most `limit`. */
  outboxPage(limit: number): Promise<PendingEvent[]>;

  /** Removes these entries (a page's first ones, in order): JetStream has stored them. */
  outboxDone(entries: readonly PendingEvent[]): Promise<void>;

  outboxState(): Promise<OutboxState>;

  /** Entries dropped unsent since start because the outbox was full (0 where it has no cap). */
  readonly outboxDropped: number;
}

export const SERVICE_STORE = Symbol('SERVICE_STORE');
