import { ConfigError, loadEnv } from '@beacon/platform';
import { describe, expect, it } from 'vitest';
import { proberEnv } from './config';

describe('proberEnv', () => {
  it('defaults to denying link-local and cloud metadata, allowing the rest', () => {
    const config = loadEnv(proberEnv, {});
    expect(config.PROBE_DENY_CIDRS).toEqual(['169.254.0.0/16', 'fe80::/10', 'fd00:ec2::254', '100.100.100.200']);
    expect(config.PROBE_ALLOW_CIDRS).toEqual([]);
    expect(config.PROBE_CONCURRENCY).toBe(256);
    expect(config.PROBE_PER_HOST_CONCURRENCY).toBe(32);
    expect(config.PROBE_JITTER).toBe(0.1);
    expect(config.PROBE_MAX_BODY_BYTES).toBe(65536);
  });

  it('takes lists as comma-separated or JSON', () => {
    const config = loadEnv(proberEnv, {
      PROBE_ALLOW_CIDRS: '10.0.0.0/8, 192.168.1.7',
      PROBE_DENY_CIDRS: '["169.254.0.0/16","::ffff:0:0/96"]',
    });
    expect(config.PROBE_ALLOW_CIDRS).toEqual(['10.0.0.0/8', '192.168.1.7']);
    expect(config.PROBE_DENY_CIDRS).toEqual(['169.254.0.0/16', '::ffff:0:0/96']);
  });

  it('fails naming each bad entry and every bad variable', () => {
    let error: unknown;
    try {
      loadEnv(proberEnv, { PROBE_ALLOW_CIDRS: '10.0.0.0/8,10.0.0.0/33,intranet', PROBE_JITTER: '0.9', PROBE_CONCURRENCY: '0' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toContain('PROBE_ALLOW_CIDRS has entries that are not an IP address or CIDR range: "10.0.0.0/33", "intranet"');
    expect(problems).toContain('PROBE_JITTER must be between 0 and 0.5');
    expect(problems).toContain('PROBE_CONCURRENCY must be between 1 and 10000');
  });
});
