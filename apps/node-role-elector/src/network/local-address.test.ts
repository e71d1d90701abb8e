import { describe, expect, it } from 'vitest';
import { primaryIPv4 } from './local-address';

const interfaces = [
  { name: 'docker0', address: '172.17.0.1', netmask: '255.255.0.0' },
  { name: 'eth0', address: '192.168.1.20', netmask: '255.255.255.0' },
];

describe('local addresses', () => {
  it('advertises the default-route interface’s IPv4, else the first non-internal one, else loopback', () => {
    expect(primaryIPv4(interfaces, 'eth0')).toBe('192.168.1.20');
    expect(primaryIPv4(interfaces, null)).toBe('172.17.0.1');
    expect(primaryIPv4([], null)).toBe('127.0.0.1');
  });
});
