import { eventServiceId, type OutboxEvent, type PendingEvent } from '../service-store';

/** One outbox entry in MongoDB: `_id` is its seq, from the `outbox` counter. */
export interface OutboxDocument {
  _id: number;
  service_id: string;
  subject: PendingEvent['subject'];
  data: string;
  created_at: number;
}

/** The counters that number outbox entries and name this database's entries (see `eventId`). */
export const OUTBOX_COUNTER = 'outbox';
export const OUTBOX_EPOCH = 'outbox_epoch';

/** A random epoch for a database that has none yet (below 2^48, written in base 36). */
export const newEpoch = (): number => Math.floor(Math.random() * 2 ** 48);

/** The JetStream message id of an entry: unique for ever within one database. */
export const eventId = (epoch: number, seq: number): string => `${epoch.toString(36)}-${seq}`;

/** The documents for `events`, numbered from `firstSeq` in their order. */
export function outboxDocuments(events: OutboxEvent[], firstSeq: number, createdAt: number): OutboxDocument[] {
  return events.map((event, offset) => ({
    _id: firstSeq + offset,
    service_id: eventServiceId(event),
    subject: event.subject,
    data: JSON.stringify(event.payload),
    created_at: createdAt,
  }));
}

export function pendingFrom(doc: OutboxDocument, epoch: number): PendingEvent {
  return { seq: doc._id, id: eventId(epoch, doc._id), subject: doc.subject, data: doc.data, created_at: doc.created_at };
}
