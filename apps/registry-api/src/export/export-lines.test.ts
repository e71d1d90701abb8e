import { describe, expect, it } from 'vitest';
import { BUILT_IN_DEFAULTS, draftRegistration } from '../catalog/registration';
import type { ServiceRecord } from '../catalog/service-record';
import { importRevisions, type Tombstone } from '../store/service-store';
import { checkLine, endLine, headerLine, parseImport, serviceLine, tombstoneLine } from './export-lines';

const NOW = Date.parse('2026-01-01T00:00:00Z');

function record(name: string, port: number, revision: number, extra: Partial<ServiceRecord> = {}): ServiceRecord {
  const draft = draftRegistration({ name, host: '10.0.0.1', port, tags: ['a'], metadata: { k: 'v' } }, null, NOW, BUILT_IN_DEFAULTS);
  return { ...draft, revision, ...extra };
}

const check = {
  checked_at: '2026-01-01T00:00:01.000Z',
  kind: 'http',
  health: 'healthy',
  outcome: 'healthy',
  status_code: 200,
  response_time_ms: 3,
  load: null,
  error: null,
} as const;

const file = (...lines: string[]): Buffer => Buffer.from(lines.join(''));

describe('export lines', () => {
  const one = record('one', 1, 5);
  const two = record('two', 2, 7, { instance_id: 'i-1' });

  it('round-trip: the parsed records are the stored ones, histories oldest first, revision the highest known', () => {
    const bytes = file(headerLine(6, 'sqlite', NOW), serviceLine(one), serviceLine(two), checkLine(one.service_id, check), endLine(2, 1));
    const { data, lines } = parseImport(bytes, NOW);
    expect(data.records).toEqual([one, two]);
    expect(data.checks.get(one.service_id)).toEqual([check]);
    expect(data.revision).toBe(7);
    expect(lines.get(two.service_id)).toBe(3);
  });

  it('names the line and the field of the first problem', () => {
    const bad = serviceLine(two).replace('"port":2', '"port":"2"');
    expect(() => parseImport(file(headerLine(1, 'sqlite', NOW), serviceLine(one), bad, endLine(2, 0)), NOW)).toThrow(
      'line 3: field "port" must be integer',
    );
    const unknown = serviceLine(one).replace('"kind":"service"', '"kind":"service","extra":1');
    expect(() => parseImport(file(headerLine(1, 'sqlite', NOW), unknown, endLine(1, 0)), NOW)).toThrow('line 2: "extra" is not a field');
    const noId = serviceLine(one).replace(/"service_id":"[^"]+"/, '"service_id":"x"');
    expect(() => parseImport(file(headerLine(1, 'sqlite', NOW), noId, endLine(1, 0)), NOW)).toThrow(
      'line 2: field "service_id" must be uuid',
    );
  });

  it('refuses duplicate ids and identities, orphan checks, bad checks, and anything after the end', () => {
    const header = headerLine(1, 'sqlite', NOW);
    expect(() => parseImport(file(header, serviceLine(one), serviceLine(one), endLine(2, 0)), NOW)).toThrow('line 3: service_id');
    const twin = { ...one, service_id: two.service_id };
    expect(() => parseImport(file(header, serviceLine(one), serviceLine(twin), endLine(2, 0)), NOW)).toThrow('already held by line 2');
    expect(() => parseImport(file(header, serviceLine(one), checkLine(two.service_id, check), endLine(1, 1)), NOW)).toThrow(
      'line 3: field "service_id": no service line',
    );
    const badCheck = checkLine(one.service_id, { ...check, load: 2 });
    expect(() => parseImport(file(header, serviceLine(one), badCheck, endLine(1, 1)), NOW)).toThrow('line 3: field "check.load"');
    expect(() => parseImport(file(header, serviceLine(one), endLine(1, 0), serviceLine(two)), NOW)).toThrow('line 4: nothing may follow');
  });

  it('refuses a file without its header, a truncated one, and a count that does not match', () => {
    expect(() => parseImport(file(serviceLine(one)), NOW)).toThrow('line 1: the first line must be the header');
    expect(() => parseImport(file(headerLine(1, 'sqlite', NOW), serviceLine(one)), NOW)).toThrow('no end line');
    expect(() => parseImport(file(headerLine(1, 'sqlite', NOW), serviceLine(one), endLine(2, 0)), NOW)).toThrow(
      'line 3: the end line counts 2',
    );
    expect(() => parseImport(Buffer.from('{"kind":"beacon-export","v":2,"revision":1}\n'), NOW)).toThrow('field "v" must be 1');
    expect(() => parseImport(Buffer.from(''), NOW)).toThrow('the body is empty');
  });

  it('fills fields newer than the file with their migration defaults, as the store reads old rows', () => {
    const old = JSON.parse(serviceLine(one)) as Record<string, unknown>;
    delete old.critical_load_alerted;
    const { data } = parseImport(file(headerLine(1, 'sqlite', NOW), JSON.stringify(old) + '\n', endLine(1, 0)), NOW);
    expect(data.records[0]?.critical_load_alerted).toBe(false);
  });
});

describe('tombstone lines', () => {
  const one = record('one', 1, 5);
  const tombstone: Tombstone = {
    service_id: '7a1c7c7e-0d7e-4a39-9d1e-3f1f7d0c2b11',
    name: 'gone',
    type: 'http',
    host: '10.0.0.9',
    port: 80,
    instance_id: null,
    deleted_at: NOW - 1000,
    expires_at: NOW + 86_400_000,
    reason: 'delete',
  };
  const header = headerLine(5, 'sqlite', NOW);

  it('round-trip: a tombstone line parses back to the stored tombstone, counted by the end line', () => {
    const { data } = parseImport(file(header, serviceLine(one), tombstoneLine(tombstone), endLine(1, 0, 1)), NOW);
    expect(data.tombstones).toEqual([tombstone]);
    expect(JSON.parse(tombstoneLine(tombstone))).toEqual({ kind: 'tombstone', ...tombstone });
  });

  it('skips a tombstone already past its time, as the store would have forgotten it', () => {
    const old = { ...tombstone, expires_at: NOW - 1 };
    expect(parseImport(file(header, tombstoneLine(old), endLine(0, 0, 1)), NOW).data.tombstones).toEqual([]);
  });

  it('reads a file written before tombstones were exported (no count in its end line)', () => {
    const older = JSON.stringify({ kind: 'end', services: 1, checks: 0 }) + '\n';
    expect(parseImport(file(header, serviceLine(one), older), NOW).data.tombstones).toEqual([]);
  });

  it('names the line and the field of a bad tombstone, and refuses a count that does not match', () => {
    const badId = JSON.stringify({ kind: 'tombstone', ...tombstone, service_id: 'x' }) + '\n';
    expect(() => parseImport(file(header, badId, endLine(0, 0, 1)), NOW)).toThrow('line 2: field "service_id" must be a service UUID');
    const badPort = JSON.stringify({ kind: 'tombstone', ...tombstone, port: 0 }) + '\n';
    expect(() => parseImport(file(header, badPort, endLine(0, 0, 1)), NOW)).toThrow('line 2: field "port" must be a port');
    const badReason = JSON.stringify({ kind: 'tombstone', ...tombstone, reason: 'purged' }) + '\n';
    expect(() => parseImport(file(header, badReason, endLine(0, 0, 1)), NOW)).toThrow('line 2: field "reason" must be one of delete');
    const extra = JSON.stringify({ kind: 'tombstone', ...tombstone, note: 'x' }) + '\n';
    expect(() => parseImport(file(header, extra, endLine(0, 0, 1)), NOW)).toThrow('line 2: "note" is not a field of a tombstone line');
    const twice = file(header, tombstoneLine(tombstone), tombstoneLine(tombstone), endLine(0, 0, 2));
    expect(() => parseImport(twice, NOW)).toThrow('line 3: a tombstone of');
    expect(() => parseImport(file(header, tombstoneLine(tombstone), endLine(0, 0, 0)), NOW)).toThrow(
      'line 3: the end line counts 0 services, 0 checks and 0 tombstones; the file holds 0, 0 and 1',
    );
  });
});

describe('importRevisions', () => {
  const data = { revision: 10, records: [record('a', 1, 4), record('b', 2, 10)], checks: new Map() };

  it('into an empty store keeps every record as it was, and continues from the highest revision', () => {
    expect(importRevisions(data, 3, false)).toEqual({ records: data.records, revision: 10 });
    expect(importRevisions(data, 50, false).revision).toBe(50);
  });

  it('on merge numbers the records above both catalogs', () => {
    const merged = importRevisions(data, 50, true);
    expect(merged.records.map((each) => each.revision)).toEqual([51, 52]);
    expect(merged.revision).toBe(52);
  });
});
