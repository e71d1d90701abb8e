import { loadEnv } from '@beacon/platform';
import { describe, expect, it } from 'vitest';
import { registryEnv } from '../config';
import { clientKey, ratePolicies, tooManyDetail, trustedProxies } from './rate-limits';

describe('clientKey', () => {
  it('counts an IPv4 client by its address, also when it arrives IPv4-mapped', () => {
    expect(clientKey('192.168.1.20')).toBe('192.168.1.20');
    expect(clientKey('::ffff:192.168.1.20')).toBe('192.168.1.20');
    expect(clientKey('::ffff:c0a8:114')).toBe('192.168.1.20');
  });

  it('counts an IPv6 client by its /64, so fresh addresses in one network share a budget', () => {
    expect(clientKey('2001:db8:1:2::1')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:db8:1:2:aaaa:bbbb:cccc:dddd')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:DB8:1:2::ffff')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:db8:1:3::1')).not.toBe(clientKey('2001:db8:1:2::1'));
    expect(clientKey('::1')).toBe('0:0:0:0::/64');
    expect(clientKey('fe80::1')).toBe('fe80:0:0:0::/64');
  });

  it('leaves anything else as it is', () => {
    expect(clientKey('not-an-ip')).toBe('not-an-ip');
  });
});

describe('trustedProxies', () => {
  it('passes addresses and proxy-addr names through; none trusts nobody', () => {
    expect(trustedProxies(['loopback'])).toEqual(['loopback']);
    expect(trustedProxies(['10.0.0.0/8', '192.168.1.5'])).toEqual(['10.0.0.0/8', '192.168.1.5']);
    expect(trustedProxies(['none'])).toEqual([]);
    expect(trustedProxies(['NONE'])).toEqual([]);
  });
});

describe('ratePolicies', () => {
  it('limits registrations per second and on-demand checks per minute, from the configuration', () => {
    const policies = ratePolicies(loadEnv(registryEnv, { BEACON_REGISTRATIONS_PER_SECOND: '5', BEACON_ON_DEMAND_CHECKS_PER_MINUTE: '0' }));
    expect(policies.registration).toMatchObject({ max: 5, windowMs: 1000 });
    expect(policies.on_demand_check).toMatchObject({ max: 0, windowMs: 60_000 });
    expect(tooManyDetail(policies.registration, 1)).toBe(
      'Too many registrations from this client: at most 5 per second (BEACON_REGISTRATIONS_PER_SECOND); retry in 1 s',
    );
  });
});
