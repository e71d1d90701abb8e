import { describe, expect, it } from 'vitest';
import { incidentDocument, incidentQuery } from './mongo-incidents';

describe('MongoDB incident queries', () => {
  it('translates each filter with $eq, never passing a value through as an operator', () => {
    expect(incidentQuery({})).toEqual({});
    expect(incidentQuery({ status: 'open', service_id: 'a', kind: 'down', since: 5 })).toEqual({
      resolved_ms: { $eq: null },
      service_id: { $eq: 'a' },
      kind: { $eq: 'down' },
      started_ms: { $gte: 5 },
    });
    expect(incidentQuery({ status: 'resolved' })).toEqual({ resolved_ms: { $ne: null } });
  });

  it('keeps an open incident with a null resolution, which the one-open index covers', () => {
    const doc = incidentDocument({
      incident_id: 'i',
      service_id: 's',
      service_name: 'n',
      service_type: 't',
      kind: 'down',
      status: 'open',
      started_at: '2030-01-01T00:00:00.000Z',
      resolved_at: null,
      duration_seconds: 0,
      cause: null,
      status_code: null,
      failed_checks: 1,
      acknowledged_at: null,
      resolved_by: null,
      note: null,
      reminders: 0,
    });
    expect(doc).toMatchObject({ _id: 'i', started_ms: Date.UTC(2030, 0, 1), resolved_ms: null });
  });
});
