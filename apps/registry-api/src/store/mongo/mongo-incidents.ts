import type { Incident } from '@beacon/contracts';
import type { mongo } from 'mongoose';
import type { IncidentFilter, IncidentOutboxEvent, Page } from '../service-store';
import { withDuration } from '../sqlite/sqlite-incidents';

/** An incident in MongoDB: the wire document, with its times as epoch ms for queries. */
export interface IncidentDocument {
  _id: string;
  service_id: string;
  kind: string;
  started_ms: number;
  /** Null while open: the partial unique index keeps one open incident per service and kind. */
  resolved_ms: number | null;
  doc: Incident;
}

export const INCIDENT_INDEXES = [
  { key: { service_id: 1, kind: 1 }, name: 'one_open', unique: true, partialFilterExpression: { resolved_ms: null } },
  { key: { started_ms: -1 }, name: 'started' },
  { key: { resolved_ms: 1 }, name: 'resolved' },
  // The routes' filters with their newest-first order (`status`, `service_id`, `kind`), as in SQLite.
  { key: { resolved_ms: 1, started_ms: -1 }, name: 'status_started' },
  { key: { service_id: 1, started_ms: -1 }, name: 'service_started' },
  { key: { kind: 1, started_ms: -1 }, name: 'kind_started' },
] as const;

/** The query of an incident filter (values compared with `$eq`, never read as operators). */
export function incidentQuery(filter: IncidentFilter): mongo.Filter<IncidentDocument> {
  const query: mongo.Filter<IncidentDocument> = {};
  if (filter.status === 'open') query.resolved_ms = { $eq: null };
  if (filter.status === 'resolved') query.resolved_ms = { $ne: null };
  if (filter.service_id !== undefined) query.service_id = { $eq: filter.service_id };
  if (filter.kind !== undefined) query.kind = { $eq: filter.kind };
  if (filter.since !== undefined) query.started_ms = { $gte: filter.since };
  return query;
}

export function incidentDocument(incident: Incident): IncidentDocument {
  return {
    _id: incident.incident_id,
    service_id: incident.service_id,
    kind: incident.kind,
    started_ms: Date.parse(incident.started_at),
    resolved_ms: incident.resolved_at === null ? null : Date.parse(incident.resolved_at),
    doc: incident,
  };
}

const isDuplicateKey = (error: unknown): boolean => typeof error === 'object' && error !== null && 'code' in error && error.code === 11000;

/**
 * Incidents in MongoDB. Without transactions an incident is written just before its
 * outbox entry, not with the catalog change: registry-api's reconcile repairs what a
 * crash between them leaves.
 */
export class MongoIncidents {
  constructor(private readonly incidents: mongo.Collection<IncidentDocument>) {}

  prepare(): Promise<unknown> {
    return this.incidents.createIndexes(INCIDENT_INDEXES.map((index) => ({ ...index })));
  }

  /**
   * Writes an event's incident; false when nothing was written (its event must not be
   * sent): an opening refused because the service and kind already have an open one, or
   * any other event of an incident already resolved.
   */
  async apply(event: IncidentOutboxEvent): Promise<boolean> {
    const document = incidentDocument(event.payload.incident);
    if (event.payload.type === 'incident.opened') {
      try {
        await this.incidents.insertOne(document);
        return true;
      } catch (error) {
        if (isDuplicateKey(error)) return false;
        throw error;
      }
    }
    return this.save(event.payload.incident);
  }

  /** Writes an open incident's current state; false if it is resolved (a resolved incident is final) or gone. */
  async save(incident: Incident): Promise<boolean> {
    const { _id, ...rest } = incidentDocument(incident);
    return (await this.incidents.updateOne({ _id: { $eq: _id }, resolved_ms: { $eq: null } }, { $set: rest })).matchedCount > 0;
  }

  async open(now: number): Promise<Incident[]> {
    const docs = await this.incidents.find({ resolved_ms: { $eq: null } }).toArray();
    return docs.map((doc) => withDuration(doc.doc, now));
  }

  async get(incidentId: string, now: number): Promise<Incident | null> {
    const doc = await this.incidents.findOne({ _id: { $eq: incidentId } });
    return doc ? withDuration(doc.doc, now) : null;
  }

  async list(filter: IncidentFilter, page: Page, now: number): Promise<{ incidents: Incident[]; total: number }> {
    const query = incidentQuery(filter);
    const [docs, total] = await Promise.all([
      this.incidents.find(query).sort({ started_ms: -1, _id: -1 }).skip(page.skip).limit(page.limit).toArray(),
      this.incidents.countDocuments(query),
    ]);
    return { incidents: docs.map((doc) => withDuration(doc.doc, now)), total };
  }

  async trimResolved(before: number, limit: number): Promise<number> {
    const ids = await this.incidents
      .find({ resolved_ms: { $ne: null, $lt: before } }, { projection: { _id: 1 } })
      .limit(limit)
      .toArray();
    if (ids.length === 0) return 0;
    return (await this.incidents.deleteMany({ _id: { $in: ids.map((doc) => doc._id) } })).deletedCount;
  }
}
