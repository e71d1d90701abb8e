import { Subjects, WIRE_VERSION, eventTypeOf, type Incident, type IncidentList, type Service } from '@beacon/contracts';
import { MetricsService, ROOT_LOGGER, type Logger } from '@beacon/platform';
import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { toWire, type ServiceRecord } from '../catalog/service-record';
import { REGISTRY_ENV, type RegistryEnv } from '../config';
import { OutboxPublisher } from '../outbox/outbox.publisher';
import {
  SERVICE_STORE,
  type IncidentFilter,
  type IncidentOutboxEvent,
  type IncidentSubject,
  type Page,
  type ServiceStore,
} from '../store/service-store';
import { incidentChanges, reminderDue, resolvedIncident, type CheckDetail, type RemovalCause } from './incident-rules';
import { IncidentAlreadyAcknowledged, IncidentAlreadyResolved, IncidentNotFound } from './incidents.errors';

type Counter = ReturnType<MetricsService['counter']>;

/** How often the catalog and the incidents are compared, and resolved incidents past retention trimmed. */
export const RECONCILE_INTERVAL_MS = 60_000;
/**
 * Resolved incidents one trim statement removes, and statements per minute at most (the
 * next minute takes the rest). SQLite runs a statement on the event loop: 5,000 at once
 * held it ~200 ms; 1,000 take ~50 ms, with other work let in between.
 */
const TRIM = { batch: 1000, batches: 20 } as const;
/** Catalog records one reconcile reads per page. */
const RECONCILE_PAGE = 1000;
/**
 * How long, and how many, incidents this process resolved stay in memory: long enough
 * for their write to land, so a resolve or acknowledge arriving meanwhile never reads the
 * store's older, still-open copy (and reopens or resolves it twice).
 */
const SETTLED = { ms: 60_000, max: 10_000 } as const;

/**
 * Incidents: opened and resolved by the catalog's changes (`follow`, called inside each
 * change's atomic operation, so an incident is stored in the same commit as the change
 * that caused it), by an operator (`resolve`, `acknowledge`), and by the reconcile that
 * runs at start and every minute, so the table converges on what the catalog implies
 * after any crash or a write lost between MongoDB's separate writes.
 *
 * Open incidents live in memory too (`open`), so a change decides synchronously; with
 * MongoDB and several replicas that view can lag another replica's writes, which the
 * store's one-open-per-kind index and the reconcile make harmless.
 */
@Injectable()
export class IncidentsService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  /** Open incidents by service. */
  private readonly open = new Map<string, Incident[]>();
  /** When this process last reminded, or took over from the store, each open incident (see `reminderDue`). */
  private readonly lastReminded = new Map<string, number>();
  /** While `loadOpen` reads the store: the services whose incidents changed meanwhile. */
  private touched: Set<string> | null = null;
  /** Incidents this process resolved lately (see `SETTLED`), oldest first. */
  private readonly settled = new Map<string, { incident: Incident; at: number }>();
  /** Open incidents whose failed-check count or cause moved since they were last written. */
  private readonly progressed = new Map<string, Incident>();
  private readonly opened: Counter;
  private timer: NodeJS.Timeout | null = null;
  private reconcileTimer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;

  constructor(
    @Inject(SERVICE_STORE) private readonly store: ServiceStore,
    @Inject(REGISTRY_ENV) private readonly config: RegistryEnv,
    @Inject(OutboxPublisher) private readonly outbox: OutboxPublisher,
    @Inject(MetricsService) metrics: MetricsService,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {
    this.opened = metrics.counter('beacon_incidents_opened_total', 'Incidents opened, by kind', ['kind']);
    metrics.gauge('beacon_incidents_open', 'Incidents open now, by kind (read from the store)', ['kind'], async function () {
      this.reset();
      const open = await store.openIncidents().catch(() => null);
      if (!open) return;
      const counts = { down: 0, expired: 0, critical_load: 0 };
      for (const incident of open) counts[incident.kind] += 1;
      for (const [kind, count] of Object.entries(counts)) this.set({ kind }, count);
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.loadOpen();
    await this.reconcile();
    const interval = this.config.BEACON_INCIDENT_REPEAT_INTERVAL;
    // Reminders are checked a few times per interval; counts are written at least every 5 s.
    const tick = interval > 0 ? Math.min(5000, Math.max(250, (interval * 1000) / 4)) : 5000;
    this.timer = setInterval(() => void this.run(() => this.tick()), tick);
    this.timer.unref();
    this.reconcileTimer = setInterval(() => void this.run(() => this.maintain()), RECONCILE_INTERVAL_MS);
    this.reconcileTimer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.reconcileTimer) clearInterval(this.reconcileTimer);
    await this.ticking;
    await this.saveProgress().catch(() => undefined);
  }

  /** One periodic job at a time; a failure is logged and the next period tries again. */
  private async run(job: () => Promise<void>): Promise<void> {
    if (this.ticking) return;
    this.ticking = job()
      .catch((error: unknown) => this.logger.warn({ err: error }, 'incident maintenance failed; trying again next period'))
      .finally(() => {
        this.ticking = null;
      });
    await this.ticking;
  }

  /**
   * Memory takes the store's open incidents, except for services whose incidents changed
   * here while the store was read (their memory is newer). Memory stays whole during the
   * read: emptied first, as it was, every check result arriving during MongoDB's round
   * trip found no open incident, so a failing service opened a second one in memory (the
   * store refused it) and a recovered one resolved nothing.
   */
  private async loadOpen(): Promise<void> {
    const touched = new Set<string>();
    this.touched = touched;
    let stored: Incident[];
    try {
      stored = await this.store.openIncidents();
    } finally {
      this.touched = null;
    }
    const byService = new Map<string, Incident[]>();
    for (const incident of stored) byService.set(incident.service_id, [...(byService.get(incident.service_id) ?? []), incident]);
    const now = Date.now();
    for (const incident of stored) if (!this.lastReminded.has(incident.incident_id)) this.lastReminded.set(incident.incident_id, now);
    for (const serviceId of new Set([...this.open.keys(), ...byService.keys()])) {
      if (touched.has(serviceId)) continue;
      const list = byService.get(serviceId);
      if (list) this.open.set(serviceId, list);
      else this.open.delete(serviceId);
    }
    // Incidents resolved elsewhere (another replica) leave no entry behind.
    const openIds = new Set([...this.open.values()].flat().map((incident) => incident.incident_id));
    for (const incidentId of this.lastReminded.keys()) if (!openIds.has(incidentId)) this.lastReminded.delete(incidentId);
  }

  private remember(incident: Incident): void {
    this.touched?.add(incident.service_id);
    const list = (this.open.get(incident.service_id) ?? []).filter((other) => other.incident_id !== incident.incident_id);
    if (incident.status === 'open') list.push(incident);
    if (list.length > 0) this.open.set(incident.service_id, list);
    else this.open.delete(incident.service_id);
    if (incident.status === 'resolved') {
      this.lastReminded.delete(incident.incident_id);
      this.rememberResolved(incident);
    }
  }

  private rememberResolved(incident: Incident): void {
    this.settled.delete(incident.incident_id);
    this.settled.set(incident.incident_id, { incident, at: Date.now() });
    for (const [id, entry] of this.settled) {
      if (this.settled.size <= SETTLED.max && entry.at > Date.now() - SETTLED.ms) break;
      this.settled.delete(id);
    }
  }

  /** An incident this process resolved within `SETTLED.ms`. */
  private recentlyResolved(incidentId: string): Incident | null {
    const entry = this.settled.get(incidentId);
    return entry && entry.at > Date.now() - SETTLED.ms ? entry.incident : null;
  }

  /**
   * The incident events of one catalog change, decided now (synchronously, inside the
   * store's atomic operation): `record` is the service after it, or null when the change
   * removed it (`removal` says why). Memory follows at once; a commit that fails is
   * repaired by the next reconcile.
   */
  follow(
    serviceId: string,
    record: ServiceRecord | null,
    revision: number,
    now: number,
    detail: { check?: CheckDetail; removal?: RemovalCause } = {},
  ): IncidentOutboxEvent[] {
    const open = this.open.get(serviceId) ?? [];
    const quiet = !record || (record.health !== 'unhealthy' && !record.critical_load_alerted && record.expires_at > now);
    if (open.length === 0 && quiet) return [];
    return this.changes(open, record, revision, now, { ...detail, reconcile: false });
  }

  private changes(
    open: readonly Incident[],
    record: ServiceRecord | null,
    revision: number,
    now: number,
    detail: { check?: CheckDetail; removal?: RemovalCause; reconcile: boolean },
  ): IncidentOutboxEvent[] {
    const changes = incidentChanges(open, record, {
      now,
      threshold: this.config.CRITICAL_LOAD_THRESHOLD,
      newId: randomUUID,
      ...detail,
    });
    const service = record ? toWire(record, now) : null;
    const events: IncidentOutboxEvent[] = [];
    for (const incident of changes.resolved) {
      this.progressed.delete(incident.incident_id);
      this.remember(incident);
      events.push(this.event(Subjects.incidentResolved, incident, service, revision));
    }
    for (const incident of changes.opened) {
      this.remember(incident);
      this.opened.inc({ kind: incident.kind });
      events.push(this.event(Subjects.incidentOpened, incident, service, revision));
    }
    for (const incident of changes.progressed) {
      this.remember(incident);
      this.progressed.set(incident.incident_id, incident);
    }
    return events;
  }

  private event(subject: IncidentSubject, incident: Incident, service: Service | null, revision: number): IncidentOutboxEvent {
    return {
      subject,
      payload: { v: WIRE_VERSION, type: eventTypeOf(subject), timestamp: new Date().toISOString(), revision, incident, service },
    } as IncidentOutboxEvent;
  }

  async list(filter: IncidentFilter, page: Page): Promise<IncidentList> {
    const { incidents, total } = await this.store.listIncidents(filter, page);
    return { incidents, total, limit: page.limit, skip: page.skip };
  }

  async get(incidentId: string): Promise<Incident> {
    const incident = this.findOpen(incidentId) ?? this.recentlyResolved(incidentId) ?? (await this.store.getIncident(incidentId));
    if (!incident) throw new IncidentNotFound(incidentId);
    return incident.status === 'open' ? { ...incident, duration_seconds: secondsSince(incident.started_at, Date.now()) } : incident;
  }

  private findOpen(incidentId: string): Incident | null {
    for (const list of this.open.values()) for (const incident of list) if (incident.incident_id === incidentId) return incident;
    return null;
  }

  /** An operator resolves an open incident (it opens again if the service is still down). */
  async resolve(incidentId: string, note: string | null): Promise<Incident> {
    const current = await this.get(incidentId);
    if (current.status === 'resolved') throw new IncidentAlreadyResolved(incidentId, current.resolved_at ?? '');
    const incident = resolvedIncident(current, Date.now(), 'manual', note);
    this.progressed.delete(incidentId);
    this.remember(incident);
    await this.commit(Subjects.incidentResolved, incident);
    return incident;
  }

  /** Acknowledged: still open, but its reminders stop. */
  async acknowledge(incidentId: string, note: string | null): Promise<Incident> {
    const current = await this.get(incidentId);
    if (current.status === 'resolved') throw new IncidentAlreadyResolved(incidentId, current.resolved_at ?? '');
    if (current.acknowledged_at !== null) throw new IncidentAlreadyAcknowledged(incidentId, current.acknowledged_at);
    const incident: Incident = { ...this.latest(current), acknowledged_at: new Date().toISOString(), note: note ?? current.note };
    this.progressed.delete(incidentId);
    this.remember(incident);
    await this.commit(Subjects.incidentAcknowledged, incident);
    return incident;
  }

  /** The in-memory copy when it is newer (counts not yet written). */
  private latest(incident: Incident): Incident {
    return this.progressed.get(incident.incident_id) ?? this.findOpen(incident.incident_id) ?? incident;
  }

  private async commit(subject: IncidentSubject, incident: Incident): Promise<void> {
    const record = await this.store.get(incident.service_id);
    const now = Date.now();
    await this.store.commitIncidents([this.event(subject, incident, record ? toWire(record, now) : null, record?.revision ?? 0)]);
    this.outbox.wake();
  }

  /** Reminders due and counts to write. */
  private async tick(): Promise<void> {
    const now = Date.now();
    const interval = this.config.BEACON_INCIDENT_REPEAT_INTERVAL;
    const events: IncidentOutboxEvent[] = [];
    for (const list of [...this.open.values()]) {
      for (const incident of list) {
        const due = reminderDue(incident, now, interval, this.lastReminded.get(incident.incident_id) ?? null);
        if (due === null) continue;
        this.lastReminded.set(incident.incident_id, now);
        const reminded: Incident = { ...this.latest(incident), reminders: due, duration_seconds: secondsSince(incident.started_at, now) };
        this.progressed.delete(incident.incident_id);
        this.remember(reminded);
        const record = await this.store.get(incident.service_id);
        events.push(this.event(Subjects.incidentReminder, reminded, record ? toWire(record, now) : null, record?.revision ?? 0));
      }
    }
    const progress = [...this.progressed.values()];
    this.progressed.clear();
    if (events.length === 0 && progress.length === 0) return;
    await this.store.commitIncidents(events, progress);
    if (events.length > 0) this.outbox.wake();
  }

  private async saveProgress(): Promise<void> {
    const progress = [...this.progressed.values()];
    this.progressed.clear();
    if (progress.length > 0) await this.store.commitIncidents([], progress);
  }

  private async maintain(): Promise<void> {
    await this.reconcile();
    const before = Date.now() - this.config.BEACON_INCIDENT_RETENTION * 1000;
    let trimmed = 0;
    for (let batch = 0; batch < TRIM.batches; batch += 1) {
      const removed = await this.store.trimIncidents(before, TRIM.batch);
      trimmed += removed;
      if (removed < TRIM.batch) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (trimmed > 0) this.logger.info({ trimmed }, 'resolved incidents past BEACON_INCIDENT_RETENTION removed');
  }

  /**
   * Opens what the catalog's state implies and nobody opened (a crash between a change
   * and its incident, a lost MongoDB write), and resolves what it no longer implies
   * (including incidents of services that are gone). Each service is decided on the
   * record read just before, synchronously, so no change slips in between.
   */
  async reconcile(): Promise<number> {
    // SQLite: this process is the only writer and memory is exact. MongoDB: other replicas write too.
    if (this.store.backend === 'mongodb') await this.loadOpen();
    let events = 0;
    const seen = new Set<string>();
    let after: string | null = null;
    do {
      const page = await this.store.snapshotPage(after, RECONCILE_PAGE);
      for (const listed of page.records) {
        seen.add(listed.service_id);
        // SQLite reads memory: the record as it is now. MongoDB: the page's copy, not a round trip per service.
        const record = this.store.backend === 'sqlite' ? await this.store.get(listed.service_id) : listed;
        events += await this.settle(listed.service_id, record);
      }
      after = page.next;
    } while (after !== null);
    for (const serviceId of [...this.open.keys()]) {
      if (!seen.has(serviceId)) events += await this.settle(serviceId, await this.store.get(serviceId));
    }
    if (events > 0) this.logger.info({ events }, 'incident reconcile corrected the incidents to match the catalog');
    return events;
  }

  private async settle(serviceId: string, record: ServiceRecord | null): Promise<number> {
    const now = Date.now();
    const open = this.open.get(serviceId) ?? [];
    const events = this.changes(open, record, record?.revision ?? 0, now, { reconcile: true, removal: 'gone' }).filter(
      (event) => event.subject !== Subjects.incidentReminder,
    );
    if (events.length === 0) return 0;
    await this.store.commitIncidents(events);
    this.outbox.wake();
    return events.length;
  }
}

const secondsSince = (start: string, now: number): number => Math.max(0, Math.round((now - Date.parse(start)) / 1000));
