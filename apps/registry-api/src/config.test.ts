import { ConfigError, loadEnv } from '@beacon/platform';
import { describe, expect, it } from 'vitest';
import { registryEnv } from './config';

describe('registryEnv', () => {
  it("keeps Beacon's defaults: TTL 300, checks every 60 s with a 5 s timeout", () => {
    const config = loadEnv(registryEnv, {});
    expect([config.BEACON_DEFAULT_TTL, config.BEACON_HEALTH_CHECK_INTERVAL, config.BEACON_HEALTH_CHECK_TIMEOUT]).toEqual([300, 60, 5]);
  });

  it("takes seed 004's variable names as aliases", () => {
    const config = loadEnv(registryEnv, {
      SERVICE_REGISTRATION_TTL_SECONDS: '120',
      HEALTH_CHECK_INTERVAL_SECONDS: '30',
      HEALTH_CHECK_TIMEOUT_SECONDS: '3',
      SERVICE_DISCOVERY_SECRET: 's3cret',
      CRITICAL_LOAD_THRESHOLD: '0.9',
    });
    expect(config).toMatchObject({
      BEACON_DEFAULT_TTL: 120,
      BEACON_HEALTH_CHECK_INTERVAL: 30,
      BEACON_HEALTH_CHECK_TIMEOUT: 3,
      BEACON_AUTH_TOKEN: ['s3cret'],
      CRITICAL_LOAD_THRESHOLD: 0.9,
    });
  });

  it("prefers Beacon's own name when both are set", () => {
    const config = loadEnv(registryEnv, { BEACON_HEALTH_CHECK_INTERVAL: '10', HEALTH_CHECK_INTERVAL_SECONDS: '30' });
    expect(config.BEACON_HEALTH_CHECK_INTERVAL).toBe(10);
  });

  it('names the alias that was set when its value is bad', () => {
    expect(() => loadEnv(registryEnv, { HEALTH_CHECK_TIMEOUT_SECONDS: '0', SERVICE_REGISTRATION_TTL_SECONDS: 'soon' })).toThrow(
      ConfigError,
    );
    try {
      loadEnv(registryEnv, { HEALTH_CHECK_TIMEOUT_SECONDS: '0', SERVICE_REGISTRATION_TTL_SECONDS: 'soon' });
    } catch (error) {
      expect((error as ConfigError).problems.join('\n')).toMatch(/HEALTH_CHECK_TIMEOUT_SECONDS must be between 1 and 300/);
      expect((error as ConfigError).problems.join('\n')).toMatch(/SERVICE_REGISTRATION_TTL_SECONDS must be a whole number/);
    }
  });
});

describe('limits (issue 13)', () => {
  it('have defaults that a normal fleet never meets, and MongoDB writes are majority-acknowledged and journaled', () => {
    const config = loadEnv(registryEnv, {});
    expect(config).toMatchObject({
      BEACON_MAX_SERVICES: 20_000,
      BEACON_MAX_TAGS: 64,
      BEACON_MAX_METADATA_KEYS: 64,
      BEACON_REGISTRATIONS_PER_SECOND: 50,
      BEACON_ON_DEMAND_CHECKS_PER_MINUTE: 30,
      BEACON_TRUST_PROXY: ['loopback'],
      BEACON_MONGODB_WRITE_CONCERN: 'majority',
      BEACON_MONGODB_JOURNAL: true,
    });
  });

  it('refuses per-service limits above the contract ceiling and write concerns MongoDB would not take', () => {
    try {
      loadEnv(registryEnv, { BEACON_MAX_TAGS: '65', BEACON_MAX_METADATA_KEYS: '-1', BEACON_MONGODB_WRITE_CONCERN: 'all' });
      expect.unreachable();
    } catch (error) {
      const problems = (error as ConfigError).problems.join('\n');
      expect(problems).toMatch(/BEACON_MAX_TAGS must be between 0 and 64/);
      expect(problems).toMatch(/BEACON_MAX_METADATA_KEYS must be between 0 and 64/);
      expect(problems).toMatch(/BEACON_MONGODB_WRITE_CONCERN must be majority or a number of members/);
    }
    expect(loadEnv(registryEnv, { BEACON_MONGODB_WRITE_CONCERN: '2', BEACON_MONGODB_JOURNAL: 'false' })).toMatchObject({
      BEACON_MONGODB_WRITE_CONCERN: '2',
      BEACON_MONGODB_JOURNAL: false,
    });
  });

  it('takes addresses, CIDRs and range names as trusted proxies, and names a bad entry at boot', () => {
    const trusted = '10.0.0.0/8,172.16.0.0/12,fd00::/8,192.168.1.5,loopback';
    expect(loadEnv(registryEnv, { BEACON_TRUST_PROXY: trusted }).BEACON_TRUST_PROXY).toEqual(trusted.split(','));
    for (const bad of ['bogus', '10.0.0.0/33', '10.0.0.0/8/8', 'fd00::/129']) {
      expect(() => loadEnv(registryEnv, { BEACON_TRUST_PROXY: bad })).toThrow(new RegExp(`BEACON_TRUST_PROXY.*"${bad}"`));
    }
  });
});

describe('BEACON_SQLITE_SYNCHRONOUS', () => {
  it('defaults to full, so an acknowledged write survives a power cut; normal is still there for a box on a UPS', () => {
    expect(loadEnv(registryEnv, {}).BEACON_SQLITE_SYNCHRONOUS).toBe('full');
    expect(loadEnv(registryEnv, { BEACON_SQLITE_SYNCHRONOUS: 'normal' }).BEACON_SQLITE_SYNCHRONOUS).toBe('normal');
  });

  it('refuses any other value at boot, naming the variable', () => {
    for (const bad of ['off', 'extra', 'FULLY']) {
      expect(() => loadEnv(registryEnv, { BEACON_SQLITE_SYNCHRONOUS: bad })).toThrow(/BEACON_SQLITE_SYNCHRONOUS/);
    }
  });
});
