import type { Service } from '@beacon/contracts';
import { describe, expect, it } from 'vitest';
import { healthEndpointOf, healthEndpointUrl, isHealthyInstance, registrationOf, toInstance } from './instance-view';

const THRESHOLD = 0.8;

function service(overrides: Partial<Service> = {}): Service {
  return {
    service_id: '0b6f6c1e-5d7a-4a53-9d7e-0a0c1f1b2c3d',
    name: 'my-service',
    type: 'http',
    host: 'localhost',
    port: 8080,
    protocol: 'http',
    tags: [],
    metadata: { version: '1.0.0' },
    version: '1.0.0',
    node_id: null,
    instance_id: 'instance-1',
    status: 'active',
    health: 'healthy',
    ttl: 300,
    expires_at: '2030-01-01T00:05:00.000Z',
    last_heartbeat: '2030-01-01T00:00:00.000Z',
    created_at: '2029-12-31T23:00:00.000Z',
    updated_at: '2030-01-01T00:00:00.000Z',
    health_check_url: 'http://localhost:8080/health',
    health_check_tcp: null,
    health_check_interval: 60,
    health_check_timeout: 5,
    health_check_retries: 3,
    health_check_rise: 1,
    last_health_check: '2030-01-01T00:00:00.000Z',
    consecutive_health_failures: 0,
    load: 0.3,
    mdns_service_type: '_http._tcp',
    mdns_txt_records: {},
    revision: 7,
    ...overrides,
  };
}

describe('healthEndpointUrl', () => {
  it('is http://host:port + path, with IPv6 hosts bracketed once', () => {
    expect(healthEndpointUrl('localhost', 8080, '/health')).toBe('http://localhost:8080/health');
    expect(healthEndpointUrl('10.0.0.5', 80, '/status?full=1')).toBe('http://10.0.0.5:80/status?full=1');
    expect(healthEndpointUrl('::1', 9000, '/health')).toBe('http://[::1]:9000/health');
    expect(healthEndpointUrl('fe80::1', 9000, '/')).toBe('http://[fe80::1]:9000/');
    expect(healthEndpointUrl('[::1]', 9000, '/health')).toBe('http://[::1]:9000/health');
  });
});

describe('healthEndpointOf', () => {
  it('gives back the path of a URL on the instance itself', () => {
    expect(healthEndpointOf(service())).toBe('/health');
    expect(healthEndpointOf(service({ host: '::1', health_check_url: 'http://[::1]:8080/h?x=1' }))).toBe('/h?x=1');
  });

  it('is null without a check, or for a URL elsewhere', () => {
    expect(healthEndpointOf(service({ health_check_url: null }))).toBeNull();
    expect(healthEndpointOf(service({ health_check_url: 'https://localhost:8080/health' }))).toBeNull();
    expect(healthEndpointOf(service({ health_check_url: 'http://localhost:80801/health' }))).toBeNull();
    expect(healthEndpointOf(service({ health_check_url: 'http://other:8080/health' }))).toBeNull();
  });

  it('round-trips with healthEndpointUrl', () => {
    for (const [host, path] of [
      ['localhost', '/health'],
      ['::1', '/a/b?c=d'],
      ['192.168.1.10', '/'],
    ] as const) {
      expect(healthEndpointOf({ host, port: 81, health_check_url: healthEndpointUrl(host, 81, path) })).toBe(path);
    }
  });
});

describe('registrationOf', () => {
  it('maps seed 004 fields onto a registration, the check only with a health_endpoint', () => {
    expect(
      registrationOf({ service_name: 's', instance_id: 'i', host: 'h', port: 1, health_endpoint: '/health', metadata: { a: 'b' } }),
    ).toEqual({ name: 's', instance_id: 'i', host: 'h', port: 1, metadata: { a: 'b' }, health_check_url: 'http://h:1/health' });
    expect(registrationOf({ service_name: 's', instance_id: 'i', host: 'h', port: 1 })).toEqual({
      name: 's',
      instance_id: 'i',
      host: 'h',
      port: 1,
    });
  });
});

describe('isHealthyInstance', () => {
  it('is healthy when active, the last check passed healthy, and the load is under the threshold', () => {
    expect(isHealthyInstance(service(), THRESHOLD)).toBe(true);
    expect(isHealthyInstance(service({ load: null }), THRESHOLD)).toBe(true);
  });

  it('drops out at or over the critical load', () => {
    expect(isHealthyInstance(service({ load: 0.8 }), THRESHOLD)).toBe(false);
    expect(isHealthyInstance(service({ load: 0.95 }), THRESHOLD)).toBe(false);
    expect(isHealthyInstance(service({ load: 0.79 }), THRESHOLD)).toBe(true);
  });

  it('drops out when the last check failed, even before retries make it unhealthy', () => {
    expect(isHealthyInstance(service({ consecutive_health_failures: 1 }), THRESHOLD)).toBe(false);
    expect(isHealthyInstance(service({ health: 'unhealthy', status: 'unhealthy', consecutive_health_failures: 3 }), THRESHOLD)).toBe(false);
  });

  it('is not healthy while degraded or not yet checked', () => {
    expect(isHealthyInstance(service({ health: 'degraded' }), THRESHOLD)).toBe(false);
    expect(isHealthyInstance(service({ health: 'unknown', last_health_check: null, load: null }), THRESHOLD)).toBe(false);
  });

  it('is never healthy unless active', () => {
    for (const status of ['inactive', 'expired', 'unhealthy'] as const) {
      expect(isHealthyInstance(service({ status }), THRESHOLD), status).toBe(false);
      expect(isHealthyInstance(service({ status, health_check_url: null, health: 'unknown' }), THRESHOLD), status).toBe(false);
    }
  });

  it('counts an instance without a health check as healthy while active', () => {
    const unchecked = service({ health_check_url: null, health: 'unknown', last_health_check: null, load: null });
    expect(isHealthyInstance(unchecked, THRESHOLD)).toBe(true);
  });

  it('treats a TCP check like an HTTP one', () => {
    const tcp = { health_check_url: null, health_check_tcp: 'localhost:5432' };
    expect(isHealthyInstance(service({ ...tcp, health: 'unknown' }), THRESHOLD)).toBe(false);
    expect(isHealthyInstance(service({ ...tcp, load: null }), THRESHOLD)).toBe(true);
  });
});

describe('toInstance', () => {
  it("shows the record in seed 004's words", () => {
    expect(toInstance(service({ load: 0.95 }), THRESHOLD)).toEqual({
      service_id: '0b6f6c1e-5d7a-4a53-9d7e-0a0c1f1b2c3d',
      service_name: 'my-service',
      instance_id: 'instance-1',
      host: 'localhost',
      port: 8080,
      health_endpoint: '/health',
      health_check_url: 'http://localhost:8080/health',
      metadata: { version: '1.0.0' },
      status: 'active',
      health: 'healthy',
      healthy: false,
      load_percentage: 0.95,
      registered_at: '2029-12-31T23:00:00.000Z',
      updated_at: '2030-01-01T00:00:00.000Z',
      last_heartbeat: '2030-01-01T00:00:00.000Z',
      last_health_check: '2030-01-01T00:00:00.000Z',
      expires_at: '2030-01-01T00:05:00.000Z',
      ttl: 300,
    });
  });

  it('is null for a record without an instance_id', () => {
    expect(toInstance(service({ instance_id: null }), THRESHOLD)).toBeNull();
  });
});
