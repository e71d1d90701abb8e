import { describe, expect, it } from 'vitest';
import { DiscoveryHeartbeatDto, DiscoveryRegisterDto } from './discovery-v1';
import { validateInput } from './validation';

const seedExample = {
  service_name: 'my-service',
  instance_id: 'instance-1',
  host: 'localhost',
  port: 8080,
  health_endpoint: '/health',
  metadata: { version: '1.0.0' },
};

const fieldsOf = (input: unknown, cls: typeof DiscoveryRegisterDto | typeof DiscoveryHeartbeatDto = DiscoveryRegisterDto): string[] => {
  const result = validateInput(cls, input);
  return result.ok ? [] : result.errors.map((error) => error.field);
};

describe('DiscoveryRegisterDto', () => {
  it("accepts seed 004's example, and the optional fields left out or null", () => {
    expect(validateInput(DiscoveryRegisterDto, seedExample)).toMatchObject({ ok: true, value: seedExample });
    const { health_endpoint: _h, metadata: _m, ...required } = seedExample;
    expect(validateInput(DiscoveryRegisterDto, required).ok).toBe(true);
    expect(validateInput(DiscoveryRegisterDto, { ...required, health_endpoint: null, metadata: null }).ok).toBe(true);
  });

  it('requires service_name, instance_id, host and port', () => {
    expect(new Set(fieldsOf({}))).toEqual(new Set(['host', 'instance_id', 'port', 'service_name']));
  });

  it("uses the registration rules (and LIMITS) of /api/v1's fields", () => {
    expect(fieldsOf({ ...seedExample, service_name: 'x'.repeat(101) })).toEqual(['service_name']);
    expect(fieldsOf({ ...seedExample, instance_id: 'x'.repeat(129) })).toEqual(['instance_id']);
    expect(fieldsOf({ ...seedExample, host: 'http://localhost' })).toEqual(['host']);
    expect(fieldsOf({ ...seedExample, port: 65536 })).toEqual(['port']);
    expect(fieldsOf({ ...seedExample, metadata: { n: 1 } })).toEqual(['metadata']);
    expect(validateInput(DiscoveryRegisterDto, { ...seedExample, port: '8080' })).toMatchObject({ ok: true, value: { port: 8080 } });
  });

  it('names the field in a blank-name message', () => {
    const result = validateInput(DiscoveryRegisterDto, { ...seedExample, service_name: '  ' });
    expect(result.ok ? [] : result.errors).toEqual([{ field: 'service_name', message: 'must not be blank' }]);
  });

  it('takes a path for health_endpoint, not a URL', () => {
    for (const path of ['/', '/health', '/status?full=1&x=%20', "/a/b-c_d.e~f!$&'()*+,;=:@"]) {
      expect(fieldsOf({ ...seedExample, health_endpoint: path }), path).toEqual([]);
    }
    for (const bad of ['health', 'http://h/health', '/he alth', '/a#frag', '/\u00e9', '', '/'.repeat(1025)]) {
      expect(fieldsOf({ ...seedExample, health_endpoint: bad }), bad).toEqual(['health_endpoint']);
    }
  });

  it('rejects unknown fields and operators', () => {
    expect(fieldsOf({ ...seedExample, ttl: 30 })).toEqual(['ttl']);
    expect(fieldsOf({ ...seedExample, service_name: { $ne: null } })).toEqual(['service_name.$ne']);
  });
});

describe('DiscoveryHeartbeatDto', () => {
  it('takes service_name and instance_id, nothing else', () => {
    expect(validateInput(DiscoveryHeartbeatDto, { service_name: 'a', instance_id: 'b' }).ok).toBe(true);
    expect(fieldsOf({ service_name: 'a' }, DiscoveryHeartbeatDto)).toEqual(['instance_id']);
    expect(fieldsOf({ service_name: 'a', instance_id: 'b', host: 'h' }, DiscoveryHeartbeatDto)).toEqual(['host']);
  });
});

describe('DiscoveryRegisterDto identity rules (issue 13)', () => {
  it('refuses control characters in service_name, instance_id and metadata keys', () => {
    expect(fieldsOf({ ...seedExample, service_name: 'a\u0000b' })).toEqual(['service_name']);
    expect(fieldsOf({ ...seedExample, instance_id: 'b\u0000c' })).toEqual(['instance_id']);
    expect(fieldsOf({ ...seedExample, metadata: { 'k\u0000': 'v' } })).toEqual(['metadata']);
    expect(fieldsOf({ service_name: 'a\u0000b', instance_id: 'x' }, DiscoveryHeartbeatDto)).toEqual(['service_name']);
  });

  it('refuses format characters and line separators there too', () => {
    expect(fieldsOf({ ...seedExample, service_name: 'a\u200bb' })).toEqual(['service_name']);
    expect(fieldsOf({ ...seedExample, instance_id: 'x\u202ey' })).toEqual(['instance_id']);
    expect(fieldsOf({ ...seedExample, metadata: { 'k\u2028': 'v' } })).toEqual(['metadata']);
    expect(fieldsOf({ ...seedExample, metadata: { k: 'v\u200b' } })).toEqual([]);
  });
});
