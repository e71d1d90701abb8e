import {
  HEALTH_HISTORY,
  Subjects,
  WIRE_VERSION,
  eventTypeOf,
  type HealthCheckEntry,
  type HealthChecksResponse,
  type ProbeResult,
  type RegisterServiceDto,
  type RemovalReason,
  type Service,
  type ServiceEventSubject,
  type ServiceStatus,
  type StatusCounts,
  type UpdateServiceDto,
} from '@beacon/contracts';
import { NatsRequestError, NatsService } from '@beacon/platform';
import { OutboxPublisher } from '../outbox/outbox.publisher';
import { Inject, Injectable } from '@nestjs/common';
import { REGISTRY_ENV, type RegistryEnv } from '../config';
import { IncidentsService } from '../incidents/incidents.service';
import {
  CatalogFullError,
  IdentityConflictError,
  InvalidCursorError,
  SERVICE_STORE,
  type CatalogCounts,
  type OutboxEvent,
  type Page,
  type ServiceFilter,
  type ServiceStore,
  type Tombstone,
  type TombstoneReason,
} from '../store/service-store';
import {
  CatalogFull,
  IdentityTaken,
  InstanceNotFound,
  InvalidSnapshotCursor,
  NothingToCheck,
  ProberTimeout,
  ProberUnavailable,
  ServiceDeleted,
  ServiceExpired,
  ServiceNotFound,
} from './catalog.errors';
import { applyProbe, type ProbeOutcome } from './health';
import { draftHeartbeat, draftRegistration, draftUpdate, type RegistrationDefaults } from './registration';
import { effectiveStatus, toWire, type ServiceRecord } from './service-record';

export interface Listing {
  services: Service[];
  total: number;
}

/** One page of the whole catalog in wire form; `next` continues it (null: the end). */
export interface SnapshotSlice {
  revision: number;
  services: Service[];
  next: string | null;
}

/** How many due records one sweep expires; the next sweep takes the rest. */
const SWEEP_BATCH = 1000;

/**
 * The catalog's rules: every mutation is stored together with its events (the store's
 * outbox, same transaction), and `OutboxPublisher` then sends them to `BEACON_EVENTS`
 * with the revision the store assigned. Controllers and NATS handlers call this and
 * nothing else for the catalog; refusals are domain errors (`catalog.errors.ts`).
 * The store itself is read elsewhere only for its own health (ping, backend, cache size:
 * `/api/v1/health` and readiness), which is about the store, not the catalog.
 */
@Injectable()
export class CatalogService {
  /** The `expires_at` last published per service (see `renewalWorthAnnouncing`). */
  private readonly announcedExpiry = new Map<string, number>();
  private readonly defaults: RegistrationDefaults;

  constructor(
    @Inject(SERVICE_STORE) private readonly store: ServiceStore,
    @Inject(REGISTRY_ENV) private readonly config: RegistryEnv,
    @Inject(NatsService) private readonly nats: NatsService,
    @Inject(OutboxPublisher) private readonly outbox: OutboxPublisher,
    @Inject(IncidentsService) private readonly incidents: IncidentsService,
  ) {
    this.defaults = {
      ttl: config.BEACON_DEFAULT_TTL,
      healthCheckInterval: config.BEACON_HEALTH_CHECK_INTERVAL,
      healthCheckTimeout: config.BEACON_HEALTH_CHECK_TIMEOUT,
    };
  }

  async register(input: RegisterServiceDto): Promise<Service> {
    const now = Date.now();
    const identity = { name: input.name, host: input.host, port: input.port, instance_id: input.instance_id };
    let outcome;
    let answer: Service | null = null;
    try {
      outcome = await this.store.register(
        identity,
        (existing) => draftRegistration(input, existing, now, this.defaults),
        ({ record, previous, superseded }) => {
          // A record coming back from expiry is news to every consumer, as a new one is.
          const reappeared = previous === null || effectiveStatus(previous, now) === 'expired';
          const subject = reappeared ? Subjects.serviceRegistered : Subjects.serviceUpdated;
          const event = this.event(subject, record, now);
          answer = event.payload.service;
          return [
            ...(superseded ? [this.removalEvent(superseded, 'superseded', now)] : []),
            ...(superseded ? this.incidents.follow(superseded.service_id, null, superseded.revision, now, { removal: 'superseded' }) : []),
            event,
            ...this.incidents.follow(record.service_id, record, record.revision, now),
          ];
        },
      );
    } catch (error) {
      if (error instanceof CatalogFullError) throw new CatalogFull(error.limit);
      throw error;
    }
    this.outbox.wake();
    // The event's copy of the record is the answer: the same instant, built once.
    return answer ?? toWire(outcome.record, now);
  }

  async get(serviceId: string): Promise<Service> {
    const record = await this.store.get(serviceId);
    if (!record) throw await this.notFound(serviceId);
    return toWire(record, Date.now());
  }

  /** The 404 of an id: naming its deletion when an operator deleted it recently. */
  private async notFound(serviceId: string): Promise<ServiceNotFound> {
    const now = Date.now();
    return new ServiceNotFound(serviceId, this.inForce(await this.store.tombstone(serviceId, now), now) ?? undefined);
  }

  async heartbeat(serviceId: string, ttl: number | undefined): Promise<Service> {
    const now = Date.now();
    // A revival is a stored event; a renewal only moves the deadline (see `OutboxSubject`).
    let stored = 0;
    const outcome = await this.store.modify(
      serviceId,
      (current) => draftHeartbeat(current, ttl, now),
      ({ record, previous }) => {
        const events = [
          ...(effectiveStatus(previous, now) === 'expired' ? [this.event(Subjects.serviceUpdated, record, now)] : []),
          ...this.incidents.follow(record.service_id, record, record.revision, now),
        ];
        stored = events.length;
        return events;
      },
    );
    if (!outcome) {
      // Deleted by an operator: 410, so the client stops rather than registering again.
      const tombstone = this.inForce(await this.store.tombstone(serviceId, now), now);
      throw tombstone ? new ServiceDeleted(tombstone) : new ServiceNotFound(serviceId);
    }
    const service = toWire(outcome.record, now);
    if (stored > 0) this.outbox.wake();
    else this.nats.publish(Subjects.serviceRenewed, this.serviceEvent(Subjects.serviceRenewed, outcome.record, now, service));
    return service;
  }

  async update(serviceId: string, patch: UpdateServiceDto): Promise<Service> {
    const now = Date.now();
    // The callback stays pure (the store may run it more than once): it declines, and the refusal is thrown here.
    const declined = { expired: false };
    let outcome;
    try {
      outcome = await this.store.modify(
        serviceId,
        (current) => {
          declined.expired = patch.status !== undefined && effectiveStatus(current, now) === 'expired';
          return declined.expired ? null : draftUpdate(current, patch, now);
        },
        ({ record }) => [
          this.event(Subjects.serviceUpdated, record, now),
          ...this.incidents.follow(record.service_id, record, record.revision, now),
        ],
      );
    } catch (error) {
      if (error instanceof IdentityConflictError) throw new IdentityTaken(error.message);
      throw error;
    }
    if (declined.expired) throw new ServiceExpired(serviceId);
    if (!outcome) return this.get(serviceId); // unknown (404) or nothing changed
    this.outbox.wake();
    return toWire(outcome.record, now);
  }

  /**
   * An operator's delete: the record goes, and a tombstone stays for `BEACON_TOMBSTONE_TTL`
   * (none when it is 0), stored with the removal.
   */
  async deregister(serviceId: string, reason: TombstoneReason = 'delete'): Promise<void> {
    const now = Date.now();
    const ttl = this.config.BEACON_TOMBSTONE_TTL;
    const removed = await this.store.remove(
      serviceId,
      (record) => [
        this.removalEvent(record, 'deregistered', now),
        ...this.incidents.follow(record.service_id, null, record.revision, now, { removal: 'deregistered' }),
      ],
      ttl > 0 ? (record) => tombstoneOf(record, reason, now, ttl) : undefined,
    );
    if (!removed) throw await this.notFound(serviceId);
    this.outbox.wake();
  }

  /** The live tombstone of seed 004's `(name, instanceId)`, or null. */
  async instanceTombstone(name: string, instanceId: string): Promise<Tombstone | null> {
    const now = Date.now();
    return this.inForce(await this.store.instanceTombstone(name, instanceId, now), now);
  }

  /**
   * A stored tombstone as the running `BEACON_TOMBSTONE_TTL` sees it: one left under a longer
   * TTL (before a restart that lowered it, or set it to 0, "no tombstones") no longer answers
   * 410 once its deletion is older than the TTL now configured.
   */
  private inForce(tombstone: Tombstone | null, now: number): Tombstone | null {
    return tombstone && tombstone.deleted_at + this.config.BEACON_TOMBSTONE_TTL * 1000 > now ? tombstone : null;
  }

  /** Tombstones stored (`beacon_tombstones`). */
  tombstoneCount(): Promise<number> {
    return this.store.tombstoneCount();
  }

  async list(filter: ServiceFilter, page: Page): Promise<Listing> {
    const now = Date.now();
    const { records, total } = await this.store.list(filter, page, now);
    return { services: records.map((record) => toWire(record, now)), total };
  }

  types(): Promise<string[]> {
    return this.store.distinctTypes();
  }

  tags(): Promise<string[]> {
    return this.store.distinctTags();
  }

  countByStatus(): Promise<StatusCounts> {
    return this.store.countByStatus(Date.now());
  }

  /** Counts by effective status, health and type, recent checks, and the revision (`GET /api/v1/stats`). */
  stats(now: number): Promise<CatalogCounts> {
    return this.store.stats(now);
  }

  /** The record registered as `(name, instanceId)` (seed 004's identity). */
  async findInstance(name: string, instanceId: string): Promise<Service> {
    const now = Date.now();
    const record = await this.store.findInstance(name, instanceId);
    if (!record) throw new InstanceNotFound(name, instanceId);
    return toWire(record, now);
  }

  /** Live (not expired) records that have an `instance_id`, of one name or all. */
  async liveInstances(name: string | null): Promise<Service[]> {
    const now = Date.now();
    const records = await this.store.listInstances(name, now);
    return records.map((record) => toWire(record, now));
  }

  /**
   * One page of the catalog, continuing after `after`, cut short where it would outgrow
   * `maxBytes` of JSON (a record may carry 64 KiB); at least one record per page.
   */
  async snapshot(after: string | null, limit: number, maxBytes: number): Promise<SnapshotSlice> {
    let page;
    try {
      page = await this.store.snapshotPage(after, limit);
    } catch (error) {
      if (error instanceof InvalidCursorError) throw new InvalidSnapshotCursor(error.message);
      throw error;
    }
    const now = Date.now();
    const services: Service[] = [];
    let bytes = 0;
    for (const [index, record] of page.records.entries()) {
      const service = toWire(record, now);
      bytes += Buffer.byteLength(JSON.stringify(service));
      if (services.length > 0 && bytes > maxBytes) {
        const lastIncluded = page.records[index - 1] as (typeof page.records)[number];
        return { revision: page.revision, services, next: this.store.snapshotCursor(lastIncluded) };
      }
      services.push(service);
    }
    return { revision: page.revision, services, next: page.next };
  }

  /**
   * Expires one record if it is still due and nobody renewed it since the caller looked.
   * Declined, it says where the deadline is now (null: gone or already expired).
   */
  async expire(serviceId: string, expiresAt: number): Promise<{ expired: boolean; expiresAt: number | null }> {
    const now = Date.now();
    const seen: { current: ServiceRecord | null } = { current: null };
    const outcome = await this.store.modify(
      serviceId,
      (current) => {
        seen.current = current;
        return current.status !== 'expired' && current.expires_at === expiresAt && current.expires_at <= now
          ? { ...current, status: 'expired', updated_at: now }
          : null;
      },
      ({ record }) => [
        this.event(Subjects.serviceExpired, record, now),
        ...this.incidents.follow(record.service_id, record, record.revision, now),
      ],
    );
    if (!outcome) {
      const current = seen.current;
      return { expired: false, expiresAt: current && current.status !== 'expired' ? current.expires_at : null };
    }
    this.outbox.wake();
    return { expired: true, expiresAt: null };
  }

  /** Expires everything due (never ahead of this process's clock). */
  async sweep(callerNow: number | undefined): Promise<number> {
    const now = Math.min(callerNow ?? Date.now(), Date.now());
    const due = await this.store.dueForExpiry(now, SWEEP_BATCH);
    let expired = 0;
    for (const record of due) {
      if ((await this.expire(record.service_id, record.expires_at)).expired) expired += 1;
    }
    return expired;
  }

  /**
   * Deletes records that expired before `cutoff` (retention, and `DELETE /services/cleanup`),
   * never ahead of this process's clock: a cutoff in the future removes only what has
   * expired by now, as the sweep expires only what is due by now.
   */
  async purge(cutoff: number): Promise<number> {
    const now = Date.now();
    const removed = await this.store.removeExpiredBefore(cutoff, now, (record) => [
      this.removalEvent(record, 'purged', now),
      ...this.incidents.follow(record.service_id, null, record.revision, now, { removal: 'purged' }),
    ]);
    if (removed.length > 0) this.outbox.wake();
    // Expired tombstones go with expired records: the same periodic purge (the reaper's).
    await this.store.purgeTombstones(now);
    return removed.length;
  }

  /**
   * Applies one check result: health with retries/rise debouncing, smart TTL, load, the
   * history. Publishes `health_changed` when health changed, `critical_load` when load
   * crossed the threshold, otherwise `renewed` (or `updated` when it brought the service
   * back from expiry). A stale result, or one for an unknown service, changes nothing.
   */
  async applyProbeResult(result: ProbeResult): Promise<void> {
    const now = Date.now();
    const applied: { outcome: AppliedProbe | null } = { outcome: null };
    const modified = await this.store.modify(
      result.service_id,
      (current) => {
        const probe = applyProbe(current, result, now, this.config.CRITICAL_LOAD_THRESHOLD);
        applied.outcome = probe && { ...probe, renewal: false };
        return applied.outcome?.draft ?? null;
      },
      ({ record, previous }) =>
        applied.outcome
          ? [
              ...this.probeEvents(applied.outcome, record, previous, now),
              ...this.incidents.follow(record.service_id, record, record.revision, now, { check: result }),
            ]
          : [],
    );
    if (!modified || !applied.outcome) return;
    this.outbox.wake();
    if (applied.outcome.renewal) {
      this.nats.publish(Subjects.serviceRenewed, this.serviceEvent(Subjects.serviceRenewed, modified.record, now));
    }
    await this.store.appendHealthCheck(result.service_id, historyEntry(result));
  }

  /**
   * A check result's stored events: `health_changed` when health changed, otherwise
   * `updated` when it brought the service back from expiry; and `critical_load` when load
   * crossed the threshold. Otherwise it marks the outcome a `renewal` when the deadline
   * moved far enough to announce (see `renewalWorthAnnouncing`), sent with core NATS.
   */
  private probeEvents(outcome: AppliedProbe, record: ServiceRecord, previous: ServiceRecord, now: number): OutboxEvent[] {
    const events: OutboxEvent[] = [];
    if (outcome.healthChangedFrom !== null) {
      events.push({
        subject: Subjects.serviceHealthChanged,
        payload: { ...this.serviceEvent(Subjects.serviceHealthChanged, record, now), previous_health: outcome.healthChangedFrom },
      });
    } else if (effectiveStatus(previous, now) === 'expired' && effectiveStatus(record, now) !== 'expired') {
      events.push(this.event(Subjects.serviceUpdated, record, now));
    } else {
      outcome.renewal = this.renewalWorthAnnouncing(record);
    }
    if (outcome.criticalLoad !== null) {
      events.push({
        subject: Subjects.serviceCriticalLoad,
        payload: {
          ...this.serviceEvent(Subjects.serviceCriticalLoad, record, now),
          load: outcome.criticalLoad,
          threshold: this.config.CRITICAL_LOAD_THRESHOLD,
        },
      });
    }
    return events;
  }

  /**
   * Checks a service now (through health-prober, which does the probing and its SSRF
   * guard) and applies the result before answering, so the caller sees its effect.
   */
  async checkNow(serviceId: string): Promise<{ result: ProbeResult; service: Service }> {
    const service = await this.get(serviceId);
    if (!service.health_check_url && !service.health_check_tcp) {
      throw new NothingToCheck(serviceId);
    }
    const timeoutMs = service.health_check_timeout * 1000 + 2000;
    let reply;
    try {
      reply = await this.nats.request(Subjects.proberCheck, { service_id: serviceId, publish: false }, timeoutMs);
    } catch (error) {
      throw onDemandError(error, serviceId);
    }
    const { v: _version, ...result } = reply;
    await this.applyProbeResult(result);
    return { result, service: await this.get(serviceId) };
  }

  async healthChecks(serviceId: string, limit: number): Promise<HealthChecksResponse> {
    await this.get(serviceId); // 404 for an unknown service
    const since = Date.now() - HEALTH_HISTORY.maxAgeSeconds * 1000;
    const { checks, total } = await this.store.healthChecks(serviceId, limit, since);
    // The store keeps more results (the pings); this route shows the last HEALTH_HISTORY.perService, as before.
    return { service_id: serviceId, checks, total: Math.min(total, HEALTH_HISTORY.perService) };
  }

  /**
   * A passing check moves `expires_at` forward each time; announcing every move would
   * send every catalog view an event per check (1,000/s for 10,000 services checked every
   * 10 s). It is announced once the announced deadline trails by a third of the TTL, so
   * copies stay well ahead of it; a reaper that acts on an older deadline is told the
   * current one in the expire reply. Health changes and revivals are always announced.
   */
  private renewalWorthAnnouncing(record: ServiceRecord): boolean {
    const announced = this.announcedExpiry.get(record.service_id);
    return announced === undefined || record.expires_at - announced >= (record.ttl * 1000) / 3;
  }

  private removalEvent(record: ServiceRecord, reason: RemovalReason, now: number): OutboxEvent {
    const payload = { ...this.serviceEvent(Subjects.serviceDeregistered, record, now), reason };
    this.announcedExpiry.delete(record.service_id);
    return { subject: Subjects.serviceDeregistered, payload };
  }

  /** The event of a subject whose payload is the service alone. */
  private event(
    subject: typeof Subjects.serviceRegistered | typeof Subjects.serviceUpdated | typeof Subjects.serviceExpired,
    record: ServiceRecord,
    now: number,
  ): OutboxEvent {
    return { subject, payload: this.serviceEvent(subject, record, now) } as OutboxEvent;
  }

  /**
   * Every service event is built here, so the deadline it announces is remembered; its
   * `type` is derived from the subject it goes out on, never written twice.
   */
  private serviceEvent<S extends ServiceEventSubject>(
    subject: S,
    record: ServiceRecord,
    now: number,
    service: Service = toWire(record, now),
  ) {
    this.announcedExpiry.set(record.service_id, record.expires_at);
    return { v: WIRE_VERSION, type: eventTypeOf(subject), timestamp: new Date().toISOString(), revision: service.revision, service };
  }
}

/** What an operator's delete leaves: the record's identity, for `ttl` seconds. */
export function tombstoneOf(record: ServiceRecord, reason: TombstoneReason, now: number, ttl: number): Tombstone {
  const { service_id, name, type, host, port, instance_id } = record;
  return { service_id, name, type, host, port, instance_id, deleted_at: now, expires_at: now + ttl * 1000, reason };
}

/** A check result applied, and whether its renewal is worth announcing (decided with its events). */
type AppliedProbe = ProbeOutcome & { renewal: boolean };

/** What a client should hear when the prober could not check the service. */
function onDemandError(error: unknown, serviceId: string): Error {
  if (!(error instanceof NatsRequestError)) return error instanceof Error ? error : new Error(String(error));
  switch (error.code) {
    case 'no_responders':
      return new ProberUnavailable('No health-prober is running to check the service; start one');
    case 'timeout':
      return new ProberTimeout(serviceId);
    case 'not_found':
      return new ProberUnavailable(`health-prober has not seen service ${serviceId} yet; try again in a moment`);
    default:
      return new ProberUnavailable(`health-prober could not check service ${serviceId}: ${error.message}`);
  }
}

function historyEntry(result: ProbeResult): HealthCheckEntry {
  const { checked_at, kind, health, outcome, status_code, response_time_ms, load, error } = result;
  return { checked_at, kind, health, outcome, status_code, response_time_ms, load, error };
}

/** The default of `discover`: only what a client should connect to. */
export const DISCOVERABLE: ServiceStatus = 'active';
