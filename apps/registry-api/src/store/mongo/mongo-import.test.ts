import { describe, expect, it } from 'vitest';
import { BUILT_IN_DEFAULTS, draftRegistration } from '../../catalog/registration';
import type { ServiceRecord } from '../../catalog/service-record';
import { batches, historyWrites, revisionReservation, serviceWrites } from './mongo-import';
import { fromDocument, type ServiceDocument } from './mongo-query';

const record: ServiceRecord = {
  ...draftRegistration(
    { name: 'a', host: '10.0.0.1', port: 1, metadata: { $ref: 'x', 'a.b': 'y' }, mdns_txt_records: { path: '/' } },
    null,
    Date.parse('2026-01-01T00:00:00Z'),
    BUILT_IN_DEFAULTS,
  ),
  revision: 9,
};
const entry = {
  checked_at: '2026-01-01T00:00:01.000Z',
  kind: 'http',
  health: 'healthy',
  outcome: 'healthy',
  status_code: 200,
  response_time_ms: 1,
  load: null,
  error: null,
} as const;

describe('Mongo import writes', () => {
  it('upserts each record by _id in the store layout (user keys as pairs), and reads back as the same record', () => {
    const [write] = serviceWrites([record]);
    const replace = (write as { replaceOne: { filter: { _id: string }; replacement: Omit<ServiceDocument, '_id'>; upsert: boolean } })
      .replaceOne;
    expect(replace.filter).toEqual({ _id: record.service_id });
    expect(replace.upsert).toBe(true);
    expect(replace.replacement).not.toHaveProperty('_id');
    expect(replace.replacement.metadata_kv).toEqual(
      expect.arrayContaining([
        { k: '$ref', v: 'x' },
        { k: 'a.b', v: 'y' },
      ]),
    );
    expect(fromDocument({ _id: replace.filter._id, ...replace.replacement })).toEqual(record);
  });

  it("replaces a service's history with the file's, or removes it when the file has none", () => {
    const later = { ...entry, checked_at: '2026-01-01T00:00:05.000Z' };
    const other = { ...record, service_id: '00000000-0000-4000-8000-000000000000' };
    const [kept, removed] = historyWrites([record, other], new Map([[record.service_id, [entry, later]]]));
    expect(kept).toEqual({
      replaceOne: {
        filter: { _id: record.service_id },
        replacement: { checks: [entry, later], last_checked_at: later.checked_at },
        upsert: true,
      },
    });
    expect(removed).toEqual({ deleteOne: { filter: { _id: other.service_id } } });
  });

  it('reserves revisions above the counter and the file in one update', () => {
    expect(revisionReservation(40, 3)).toEqual([{ $set: { seq: { $add: [{ $max: [{ $ifNull: ['$seq', 0] }, 40] }, 3] } } }]);
  });

  it('batches writes', () => {
    expect(batches([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
  });
});
