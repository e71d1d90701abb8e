import type { NetworkInterfaceInfo } from 'node:os';
import { describe, expect, it } from 'vitest';
import { chooseInterfaces, enumerationName, inSubnet, instanceLabel, interfaceProblem, ipv4Interfaces } from './index';

const v4 = (address: string, internal = false): NetworkInterfaceInfo => ({
  address,
  family: 'IPv4',
  internal,
  netmask: '255.255.255.0',
  mac: '00:00:00:00:00:00',
  cidr: `${address}/24`,
});
const v6 = (address: string): NetworkInterfaceInfo => ({
  address,
  family: 'IPv6',
  internal: false,
  netmask: 'ffff::',
  mac: '00:00:00:00:00:00',
  cidr: null,
  scopeid: 0,
});

const available = ipv4Interfaces({ lo: [v4('127.0.0.1', true)], docker0: [v4('172.17.0.1')], eth0: [v6('fe80::1'), v4('192.168.1.20')] });

describe('labels', () => {
  it('an instance label has no dots and fits 63 bytes, cut at a character boundary', () => {
    expect(instanceLabel('v1.api.internal')).toBe('v1-api-internal');
    expect(instanceLabel('pi.lan-1672531200')).toBe('pi-lan-1672531200');
    expect(Buffer.byteLength(instanceLabel('ü'.repeat(40)))).toBeLessThanOrEqual(63);
    expect(instanceLabel('ü'.repeat(40)).includes('\uFFFD')).toBe(false);
  });

  it('names DNS-SD service enumeration under the domain', () => {
    expect(enumerationName('local')).toBe('_services._dns-sd._udp.local');
  });
});

describe('MDNS_INTERFACE', () => {
  it('defaults to every non-loopback IPv4 interface', () => {
    expect(available).toEqual([
      { name: 'docker0', address: '172.17.0.1', netmask: '255.255.255.0' },
      { name: 'eth0', address: '192.168.1.20', netmask: '255.255.255.0' },
    ]);
    expect(chooseInterfaces([], available).interfaces).toEqual(available);
  });

  it('takes interface names and this host’s IPv4 addresses, in the order listed', () => {
    expect(chooseInterfaces(['eth0'], available).interfaces.map((iface) => iface.address)).toEqual(['192.168.1.20']);
    expect(chooseInterfaces(['172.17.0.1'], available).interfaces.map((iface) => iface.name)).toEqual(['docker0']);
    expect(chooseInterfaces(['eth0', 'docker0', '192.168.1.20'], available).interfaces.map((iface) => iface.name)).toEqual([
      'eth0',
      'docker0',
    ]);
  });

  it('refuses an entry that is not an interface here, listing what exists', () => {
    const choice = chooseInterfaces(['eth0', '10.0.0.1', 'wlan0', 'lo'], available);
    expect(choice.unknown).toEqual(['10.0.0.1', 'wlan0', 'lo']);
    expect(interfaceProblem(choice)).toBe(
      'MDNS_INTERFACE names 10.0.0.1, wlan0, lo, which is not an IPv4 interface here; available: docker0 (172.17.0.1), eth0 (192.168.1.20)',
    );
    expect(interfaceProblem(chooseInterfaces([], []))).toMatch(/no non-loopback IPv4 interface/);
    expect(interfaceProblem(chooseInterfaces(['eth0'], available))).toBeNull();
  });

  it('answers only queries from the interface’s own subnet', () => {
    const iface = { name: 'eth0', address: '192.168.1.10', netmask: '255.255.255.0' };
    expect(inSubnet('192.168.1.77', iface)).toBe(true);
    expect(inSubnet('192.168.2.77', iface)).toBe(false);
    expect(inSubnet('fe80::1', iface)).toBe(false);
  });
});
