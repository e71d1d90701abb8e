import type { RegisterServiceDto } from '@beacon/contracts';
import { describe, expect, it } from 'vitest';
import { draftHeartbeat, draftRegistration, draftUpdate, type RegistrationDefaults } from './registration';
import { effectiveStatus, toWire, type ServiceRecord } from './service-record';

const NOW = Date.UTC(2030, 0, 1);
const defaults = (ttl: number): RegistrationDefaults => ({ ttl, healthCheckInterval: 60, healthCheckTimeout: 5 });
const dto = (overrides: Partial<RegisterServiceDto> = {}): RegisterServiceDto => ({
  name: 'svc',
  host: '10.0.0.1',
  port: 80,
  ...overrides,
});
const record = (overrides: Partial<ServiceRecord> = {}): ServiceRecord => ({
  ...draftRegistration(dto(), null, NOW, defaults(300)),
  revision: 1,
  ...overrides,
});

describe('draftRegistration', () => {
  it("fills seed 000's defaults", () => {
    const draft = draftRegistration(dto({ metadata: { version: '1.2.3' } }), null, NOW, defaults(120));
    expect(draft).toMatchObject({
      type: 'http',
      protocol: 'http',
      ttl: 120,
      expires_at: NOW + 120_000,
      status: 'active',
      health: 'unknown',
      version: '1.2.3',
      health_check_interval: 60,
      health_check_timeout: 5,
      health_check_retries: 3,
      mdns_service_type: '_http._tcp',
    });
  });

  it('takes the configured check interval and timeout when the registration gives none', () => {
    const configured = { ttl: 300, healthCheckInterval: 30, healthCheckTimeout: 2 };
    const draft = draftRegistration(dto({ health_check_url: 'http://10.0.0.1/health' }), null, NOW, configured);
    expect([draft.health_check_interval, draft.health_check_timeout]).toEqual([30, 2]);
    const explicit = draftRegistration(dto({ health_check_interval: 10, health_check_timeout: 7 }), null, NOW, configured);
    expect([explicit.health_check_interval, explicit.health_check_timeout]).toEqual([10, 7]);
  });

  it('keeps identity, creation time and observed health on re-registration', () => {
    const existing = record({ health: 'unhealthy', status: 'unhealthy', consecutive_health_failures: 3, created_at: NOW - 5000 });
    const again = draftRegistration(dto({ tags: ['x', 'x'] }), existing, NOW, defaults(300));
    expect(again.service_id).toBe(existing.service_id);
    expect(again.created_at).toBe(NOW - 5000);
    expect(again.status).toBe('unhealthy');
    expect(again.tags).toEqual(['x']);
    const newCheck = draftRegistration(dto({ health_check_url: 'http://10.0.0.1/health' }), existing, NOW, defaults(300));
    expect([newCheck.health, newCheck.status, newCheck.consecutive_health_failures]).toEqual(['unknown', 'active', 0]);
  });
});

describe('draftHeartbeat', () => {
  it('extends by the ttl and revives an expired record', () => {
    const expired = record({ status: 'expired', expires_at: NOW - 1 });
    const renewed = draftHeartbeat(expired, undefined, NOW);
    expect(renewed.status).toBe('active');
    expect(renewed.expires_at).toBe(NOW + 300_000);
    expect(draftHeartbeat(expired, 30, NOW).expires_at).toBe(NOW + 30_000);
    expect(draftHeartbeat(record({ status: 'inactive' }), undefined, NOW).status).toBe('inactive');
  });
});

describe('draftUpdate', () => {
  it('returns null when nothing changes', () => {
    const current = record();
    expect(draftUpdate(current, { name: current.name, tags: [] }, NOW + 1)).toBeNull();
  });

  it('clears with null, follows the type with the mDNS type, and resets health when the check changes', () => {
    const current = record({ version: '1', health: 'healthy', health_check_url: 'http://a/h' });
    const next = draftUpdate(current, { version: null, type: 'mqtt', health_check_url: 'http://b/h' }, NOW + 1);
    expect(next).toMatchObject({ version: null, type: 'mqtt', mdns_service_type: '_mqtt._tcp', health: 'unknown', updated_at: NOW + 1 });
    const pinned = record({ mdns_service_type: '_custom._tcp' });
    expect(draftUpdate(pinned, { type: 'mqtt' }, NOW)?.mdns_service_type).toBe('_custom._tcp');
  });

  it('never lets a client mark an unhealthy service active', () => {
    const sick = record({ health: 'unhealthy', status: 'unhealthy' });
    expect(draftUpdate(sick, { status: 'active' }, NOW)).toBeNull();
    expect(draftUpdate(sick, { status: 'inactive' }, NOW)?.status).toBe('inactive');
  });
});

describe('effective status', () => {
  it('reads expired at and after expires_at', () => {
    expect(effectiveStatus({ status: 'active', expires_at: NOW }, NOW)).toBe('expired');
    expect(effectiveStatus({ status: 'active', expires_at: NOW + 1 }, NOW)).toBe('active');
    expect(toWire(record({ expires_at: NOW - 1 }), NOW)).toMatchObject({ status: 'expired', expires_at: new Date(NOW - 1).toISOString() });
  });
});
