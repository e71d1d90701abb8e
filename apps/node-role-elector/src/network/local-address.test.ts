import type { NetworkInterfaceInfo } from 'node:os';
import { describe, expect, it } from 'vitest';
import { primaryIPv4, resolveInterface } from './local-address';

const v4 = (address: string, internal = false): NetworkInterfaceInfo => ({
  address,
  family: 'IPv4',
  internal,
  netmask: '255.255.255.0',
  mac: '00:00:00:00:00:00',
  cidr: `${address}/24`,
});
const v6 = (address: string): NetworkInterfaceInfo => ({ address, family: 'IPv6', internal: false, netmask: 'ffff::', mac: '00:00:00:00:00:00', cidr: null, scopeid: 0 });

const interfaces = { lo: [v4('127.0.0.1', true)], docker0: [v4('172.17.0.1')], eth0: [v6('fe80::1'), v4('192.168.1.20')] };

describe('local addresses', () => {
  it('MDNS_INTERFACE by name or by one of this host’s addresses', () => {
    expect(resolveInterface('eth0', interfaces)).toEqual({ address: '192.168.1.20' });
    expect(resolveInterface('172.17.0.1', interfaces)).toEqual({ address: '172.17.0.1' });
    expect(resolveInterface('10.0.0.1', interfaces)).toEqual({ error: 'no interface of this host has the address 10.0.0.1' });
    expect(resolveInterface('wlan0', interfaces)).toMatchObject({ error: expect.stringContaining('eth0 (192.168.1.20)') });
  });

  it('advertises the default-route interface’s IPv4, else the first non-internal one, else loopback', () => {
    expect(primaryIPv4(interfaces, 'eth0')).toBe('192.168.1.20');
    expect(primaryIPv4(interfaces, null)).toBe('172.17.0.1');
    expect(primaryIPv4({ lo: [v4('127.0.0.1', true)] }, null)).toBe('127.0.0.1');
  });
});
