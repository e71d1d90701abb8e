import type { HealthCheckEntry } from '@beacon/contracts';
import { describe, expect, it } from 'vitest';
import { decodeCheck, encodeCheck, packCheck, unpackCheck } from './check-codec';

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

  it('packs a plain result into one integer and reads every field back', () => {
    const plain: HealthCheckEntry = {
      ...entry,
      health: 'degraded',
      outcome: 'degraded',
      status_code: 200,
      response_time_ms: 12.34,
      load: null,
      error: null,
    };
    const at = Date.parse(plain.checked_at);
    const stored = packCheck(plain, at);
    expect(stored.x).toBeNull();
    expect(stored.v).toBeLessThan(2 ** 31);
    expect(unpackCheck(stored, at)).toEqual(plain);
    for (const other of [
      { ...plain, kind: 'tcp' as const, status_code: null, response_time_ms: 0, health: 'unknown' as const, outcome: 'refused' as const },
      { ...plain, health: 'unhealthy' as const, outcome: 'timeout' as const, status_code: 0, response_time_ms: 30_000 },
      { ...plain, status_code: 1022, response_time_ms: 0.01 },
    ]) {
      expect(packCheck(other, at).x).toBeNull();
      expect(unpackCheck(packCheck(other, at), at)).toEqual(other);
    }
  });

  it('keeps what does not fit the integer whole: an error, a load, a finer time, a code past 1022, an unusual checked_at text', () => {
    const at = Date.parse(entry.checked_at);
    const plain: HealthCheckEntry = { ...entry, load: null, error: null, response_time_ms: 5 };
    for (const other of [
      entry,
      { ...plain, load: 0.5 },
      { ...plain, response_time_ms: 1.2345 },
      { ...plain, response_time_ms: -1 },
      { ...plain, status_code: 1023 },
      { ...plain, checked_at: '2030-01-01T01:00:01.25+01:00' },
    ]) {
      const stored = packCheck(other, at);
      expect(stored.v).toBeNull();
      expect(unpackCheck(stored, at)).toEqual(other);
    }
  });
});
