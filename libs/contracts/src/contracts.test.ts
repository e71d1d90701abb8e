import { describe, expect, it } from 'vitest';
import { MDNS_SERVICE_TYPE_PATTERN, MDNS_TYPE_MAP, isReservedMdnsServiceType, mdnsServiceTypeFor } from './mdns-types';
import { RegisterServiceDto, UpdateServiceDto } from './service.dto';
import { findOperatorKeys, parseServiceQuery, validateInput } from './validation';
import { isHostName, isHostPort, stringMapProblem } from './validators';

describe('mdnsServiceTypeFor', () => {
  it("follows seed 000's mapping table", () => {
    expect(MDNS_TYPE_MAP).toEqual({
      mqtt: '_mqtt._tcp',
      http: '_http._tcp',
      https: '_https._tcp',
      iot: '_iot._tcp',
      api: '_http._tcp',
      database: '_db._tcp',
      cache: '_cache._tcp',
      message_queue: '_mq._tcp',
    });
    expect(mdnsServiceTypeFor('api')).toBe('_http._tcp');
    expect(mdnsServiceTypeFor('Database')).toBe('_db._tcp');
  });

  it('turns any other type into a valid RFC 6335 service name', () => {
    expect(mdnsServiceTypeFor('Home Assistant')).toBe('_home-assistant._tcp');
    expect(mdnsServiceTypeFor('a-very-long-service-type-name')).toBe('_a-very-long-ser._tcp');
    expect(mdnsServiceTypeFor('__--__')).toBe('_service._tcp');
    for (const type of ['x', 'ümlaut', 'snake_case_type', '-lead', 'trail-', 'a'.repeat(50)]) {
      expect(mdnsServiceTypeFor(type)).toMatch(MDNS_SERVICE_TYPE_PATTERN);
    }
  });
});

describe('host validation', () => {
  it('accepts IPs and host names, rejects URLs and junk', () => {
    for (const host of ['192.168.1.100', '::1', '[fe80::1]', 'my-service', 'beacon.local', 'a_b.example.com.']) {
      expect(isHostName(host), host).toBe(true);
    }
    for (const host of ['http://x', 'a b', '', 'x'.repeat(256), '-lead.example', 'a..b', 'host:80']) {
      expect(isHostName(host), host).toBe(false);
    }
  });

  it('parses host:port for TCP checks', () => {
    expect(isHostPort('db.local:5432')).toBe(true);
    expect(isHostPort('[::1]:6379')).toBe(true);
    expect(isHostPort('::1:6379')).toBe(false);
    expect(isHostPort('db.local:0')).toBe(false);
    expect(isHostPort('db.local:65536')).toBe(false);
    expect(isHostPort('db.local')).toBe(false);
  });
});

describe('stringMapProblem', () => {
  const limits = { maxKeys: 2, maxKeyLength: 5, maxValueLength: 3 };
  it('names what is wrong', () => {
    expect(stringMapProblem({ a: 'x' }, limits)).toBeNull();
    expect(stringMapProblem([], limits)).toMatch(/object/);
    expect(stringMapProblem({ a: 1 }, limits)).toMatch(/"a" must be a string/);
    expect(stringMapProblem({ a: '1', b: '2', c: '3' }, limits)).toMatch(/at most 2 keys/);
    expect(stringMapProblem({ $w: 'x' }, limits)).toMatch(/must not start with "\$"/);
    expect(stringMapProblem({ a: 'long' }, limits)).toMatch(/at most 3/);
    expect(stringMapProblem({ toolong: 'x' }, limits)).toMatch(/1–5 characters/);
  });
});

describe('validateInput', () => {
  it('accepts a seed 000 registration and digit strings for integers', () => {
    const result = validateInput(RegisterServiceDto, { name: 'esp32', type: 'iot', host: '10.0.0.5', port: '80', ttl: '300', tags: ['a'] });
    expect(result.ok).toBe(true);
    if (result.ok) expect([result.value.port, result.value.ttl]).toEqual([80, 300]);
  });

  it('names every bad field at once', () => {
    const result = validateInput(RegisterServiceDto, {
      name: '',
      host: 'http://x',
      port: 80.5,
      ttl: 5,
      extra: true,
      health_check_url: 'ftp://x',
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const fields = result.errors.map((error) => error.field).sort();
    expect(fields).toEqual(expect.arrayContaining(['extra', 'health_check_url', 'host', 'name', 'port', 'ttl']));
    expect(result.errors.find((error) => error.field === 'extra')?.message).toBe('is not an accepted field');
  });

  it('rejects operator keys anywhere, before anything else', () => {
    expect(findOperatorKeys({ a: { b: [{ $gt: 1 }] } })).toEqual([{ field: 'a.b.0.$gt', message: expect.any(String) }]);
    const result = validateInput(RegisterServiceDto, { name: { $ne: '' }, host: 'x', port: 1 });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors).toEqual([{ field: 'name.$ne', message: expect.stringMatching(/operator/) }]);
  });

  it('rejects keys every object inherits: class-transformer would crash on them or drop them', () => {
    for (const body of [{ constructor: 'x' }, { metadata: { toString: 'x' } }, { mdns_txt_records: { hasOwnProperty: '1' } }]) {
      const result = validateInput(RegisterServiceDto, { name: 'a', host: 'h', port: 1, ...body });
      expect(result.ok, JSON.stringify(body)).toBe(false);
      if (!result.ok) expect(result.errors[0]?.message).toMatch(/reserved/);
    }
    expect(parseServiceQuery({ constructor: 'x' }).ok).toBe(false);
    expect(parseServiceQuery({ 'metadata.__proto__': 'x' }).ok).toBe(false);
  });

  it('rejects non-objects', () => {
    for (const input of [null, [], 'x', 3]) expect(validateInput(RegisterServiceDto, input).ok).toBe(false);
  });

  it('lets updates clear optional fields but never required ones', () => {
    expect(validateInput(UpdateServiceDto, { version: null, health_check_url: null }).ok).toBe(true);
    const result = validateInput(UpdateServiceDto, { name: null, port: null });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(new Set(result.errors.map((error) => error.field))).toEqual(new Set(['name', 'port']));
  });
});

describe('parseServiceQuery', () => {
  it('collects metadata.<key> parameters and splits tags lists', () => {
    const result = parseServiceQuery({ tags: ['a,b', 'c'], 'metadata.rack': 'r1', 'metadata.app.kubernetes.io/name': 'x', limit: '10' });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.tags).toEqual(['a', 'b', 'c']);
    expect(result.value.metadata).toEqual({ rack: 'r1', 'app.kubernetes.io/name': 'x' });
    expect(result.value.limit).toBe(10);
  });

  it('rejects repeated scalars, unknown parameters and smuggled operators', () => {
    const repeated = parseServiceQuery({ type: ['a', 'b'] });
    expect(repeated.ok).toBe(false);
    expect(parseServiceQuery({ typo: 'x' }).ok).toBe(false);
    expect(parseServiceQuery({ 'type[$ne]': 'x' }).ok).toBe(false);
    expect(parseServiceQuery({ 'metadata.$where': '1' }).ok).toBe(false);
    expect(parseServiceQuery({ 'metadata.': 'x' }).ok).toBe(false);
    expect(parseServiceQuery({ limit: '10abc' }).ok).toBe(false);
  });
});

describe("Beacon's own mDNS types", () => {
  it('are reserved over tcp and udp, in any case', () => {
    for (const type of ['_beacon._tcp', '_beacon._udp', '_BEACON._tcp', '_beacon-server._tcp'])
      expect(isReservedMdnsServiceType(type), type).toBe(true);
    for (const type of ['_beacons._tcp', '_http._tcp', '_beacon-srv._tcp']) expect(isReservedMdnsServiceType(type), type).toBe(false);
  });

  it('are never derived from a service type', () => {
    expect(mdnsServiceTypeFor('beacon')).toBe('_service._tcp');
    expect(mdnsServiceTypeFor('Beacon Server')).toBe('_service._tcp');
    expect(mdnsServiceTypeFor('beacon-relay')).toBe('_beacon-relay._tcp');
  });
});
