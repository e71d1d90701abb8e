import { Subjects, WIRE_VERSION } from '@beacon/contracts';
import { describe, expect, it } from 'vitest';
import type { OutboxEvent } from '../service-store';
import { eventId, newEpoch, outboxDocuments, pendingFrom } from './mongo-outbox';

const event = (serviceId: string, revision: number): OutboxEvent =>
  ({
    subject: Subjects.serviceExpired,
    payload: {
      v: WIRE_VERSION,
      type: 'service.expired',
      timestamp: '2026-01-01T00:00:00.000Z',
      revision,
      service: { service_id: serviceId },
    },
  }) as unknown as OutboxEvent;

describe('MongoDB outbox documents', () => {
  it('numbers a change’s events from the reserved seq, in order, with the payload as sent', () => {
    const docs = outboxDocuments([event('a', 7), event('b', 8)], 41, 1000);
    expect(docs.map((doc) => [doc._id, doc.service_id, doc.subject, doc.created_at])).toEqual([
      [41, 'a', Subjects.serviceExpired, 1000],
      [42, 'b', Subjects.serviceExpired, 1000],
    ]);
    expect(JSON.parse(docs[1]?.data ?? '{}')).toMatchObject({ revision: 8, service: { service_id: 'b' } });
  });

  it('names each entry by the database’s epoch and its seq, as its JetStream message id', () => {
    const epoch = newEpoch();
    expect(epoch).toBeGreaterThanOrEqual(0);
    expect(epoch).toBeLessThan(2 ** 48);
    expect(eventId(35, 9)).toBe('z-9');
    const [doc] = outboxDocuments([event('a', 1)], 9, 5);
    expect(pendingFrom(doc!, 35)).toEqual({ seq: 9, id: 'z-9', subject: Subjects.serviceExpired, data: doc!.data, created_at: 5 });
  });
});
