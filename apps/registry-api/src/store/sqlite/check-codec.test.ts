import type { HealthCheckEntry } from '@beacon/contracts';
import { describe, expect, it } from 'vitest';
import { decodeCheck, encodeCheck } from './check-codec';

const entry: HealthCheckEntry = {
  checked_at: '2030-01-01T00:00:01.250Z',
  kind: 'http',
  health: 'unhealthy',
  outcome: 'error',
  status_code: 503,
  response_time_ms: 12.5,
  load: 0.25,
  error: 'HTTP 503 "busy"',
};

describe('the stored form of a check result', () => {
  it('round-trips, without field names or the time the row already keeps', () => {
    const at = Date.parse(entry.checked_at);
    const doc = encodeCheck(entry, at);
    expect(doc).toBe('["http","unhealthy","error",503,12.5,0.25,"HTTP 503 \\"busy\\""]');
    expect(decodeCheck(doc, at)).toEqual(entry);
    expect(doc.length).toBeLessThan(JSON.stringify(entry).length / 2);
  });

  it('keeps a checked_at text that is not the canonical form of its instant', () => {
    const other = { ...entry, checked_at: '2030-01-01T01:00:01.25+01:00' };
    const at = Date.parse(other.checked_at);
    expect(decodeCheck(encodeCheck(other, at), at)).toEqual(other);
  });

  it('reads rows written as objects by earlier versions', () => {
    expect(decodeCheck(JSON.stringify(entry), 0)).toEqual(entry);
  });
});
