import { PATCHABLE_FIELDS, SERVICE_FIELDS } from '@beacon/contracts';
import { describe, expect, it } from 'vitest';
import { RECORD_FIELDS, toWire, withMigrationDefaults, type ServiceRecord } from './service-record';

const T = Date.UTC(2030, 0, 1);

const RECORD: ServiceRecord = {
  service_id: '6f1c2d3e-0000-4000-8000-000000000001',
  name: 'api',
  type: 'http',
  host: '10.0.0.1',
  port: 8080,
  protocol: 'http',
  tags: ['a'],
  metadata: { rack: 'r1' },
  version: null,
  node_id: 'n1',
  instance_id: null,
  status: 'active',
  health: 'healthy',
  ttl: 30,
  expires_at: T + 30_000,
  last_heartbeat: T,
  created_at: T - 1000,
  updated_at: T,
  health_check_url: 'http://10.0.0.1:8080/health',
  health_check_tcp: null,
  health_check_interval: 10,
  health_check_timeout: 5,
  health_check_retries: 3,
  health_check_rise: 1,
  last_health_check: null,
  consecutive_health_failures: 0,
  consecutive_health_successes: 2,
  critical_load_alerted: false,
  load: 0.25,
  mdns_service_type: '_http._tcp',
  mdns_txt_records: { path: '/' },
  revision: 7,
};

describe('toWire', () => {
  it('writes every wire field in the declared order, timestamps as ISO text, store-only fields left out', () => {
    const wire = toWire(RECORD, T);
    expect(Object.keys(wire)).toEqual(Object.keys(SERVICE_FIELDS));
    const { consecutive_health_successes: _streak, critical_load_alerted: _latch, ...wireFields } = RECORD;
    expect(wire).toEqual({
      ...wireFields,
      expires_at: '2030-01-01T00:00:30.000Z',
      last_heartbeat: '2030-01-01T00:00:00.000Z',
      created_at: '2029-12-31T23:59:59.000Z',
      updated_at: '2030-01-01T00:00:00.000Z',
      last_health_check: null,
    });
  });

  it('converts a record once and shows the effective status', () => {
    const record = { ...RECORD };
    expect(toWire(record, T)).toBe(toWire(record, T + 1));
    expect(toWire(record, T + 30_000).status).toBe('expired');
    expect(toWire(record, T).status).toBe('active');
  });
});

describe('the record declaration', () => {
  it('lists every field of a record once, wire fields first', () => {
    expect(RECORD_FIELDS).toEqual([...Object.keys(SERVICE_FIELDS), 'consecutive_health_successes', 'critical_load_alerted']);
    expect([...RECORD_FIELDS].sort()).toEqual(Object.keys(RECORD).sort());
  });

  it('lets a partial update set what it always could', () => {
    expect([...PATCHABLE_FIELDS].sort()).toEqual(
      [
        'name',
        'type',
        'host',
        'port',
        'protocol',
        'tags',
        'metadata',
        'version',
        'node_id',
        'ttl',
        'health_check_url',
        'health_check_tcp',
        'health_check_interval',
        'health_check_timeout',
        'health_check_retries',
        'health_check_rise',
        'mdns_service_type',
        'mdns_txt_records',
      ].sort(),
    );
  });

  it('gives a row written before critical_load_alerted existed its default, and keeps a stored value', () => {
    const { critical_load_alerted: _absent, ...old } = RECORD;
    expect(withMigrationDefaults({ ...old }).critical_load_alerted).toBe(false);
    expect(withMigrationDefaults({ ...RECORD, critical_load_alerted: true }).critical_load_alerted).toBe(true);
  });
});
