import { describe, expect, it } from 'vitest';
import { CidrSet, isIpLiteral, parseCidr, parseIp } from './cidr';

describe('parseIp', () => {
  it('reads IPv4 as its IPv4-mapped IPv6 bytes', () => {
    expect([...(parseIp('169.254.169.254') ?? [])]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 169, 254, 169, 254]);
    expect(parseIp('::ffff:169.254.169.254')).toEqual(parseIp('169.254.169.254'));
    expect(parseIp('::ffff:a9fe:a9fe')).toEqual(parseIp('169.254.169.254'));
  });

  it('reads the IPv6 spellings', () => {
    expect(parseIp('::')).toEqual(new Uint8Array(16));
    expect(parseIp('::1')?.[15]).toBe(1);
    expect(parseIp('fe80::1%eth0')).toEqual(parseIp('fe80:0:0:0:0:0:0:1'));
    expect(parseIp('2001:DB8::8:800:200C:417A')).toEqual(parseIp('2001:db8:0:0:8:800:200c:417a'));
    expect(parseIp('1:2:3:4:5:6:7::')).toEqual(parseIp('1:2:3:4:5:6:7:0'));
  });

  it('refuses what is not an address', () => {
    for (const bad of [
      '',
      'localhost',
      '1.2.3',
      '1.2.3.4.5',
      '256.1.1.1',
      '01.2.3.4',
      '1.2.3.-4',
      ':::',
      '1::2::3',
      '1:2:3:4:5:6:7:8:9',
      '12345::',
      'g::1',
      '1:2:3:4:5:6:7:8::',
    ]) {
      expect(parseIp(bad), bad).toBeNull();
    }
  });
});

describe('parseCidr', () => {
  it('takes ranges and single addresses, masking host bits', () => {
    expect(parseCidr('10.1.2.3/8')?.bits).toBe(104);
    expect(parseCidr('10.1.2.3/8')?.bytes).toEqual(parseIp('10.0.0.0'));
    expect(parseCidr('fe80::/10')?.bits).toBe(10);
    expect(parseCidr('192.0.2.7')?.bits).toBe(128);
    expect(parseCidr('2001:db8::1')?.bits).toBe(128);
    expect(parseCidr('0.0.0.0/0')?.bits).toBe(96);
  });

  it('refuses malformed entries', () => {
    for (const bad of [
      '10.0.0.0/33',
      'fe80::/129',
      '10.0.0.0/',
      '10.0.0.0/-1',
      '10.0.0.0/8/8',
      'example.com/8',
      '10.0.0/8',
      'fe80::1%eth0/64',
      '',
    ]) {
      expect(parseCidr(bad), bad).toBeNull();
    }
  });
});

describe('CidrSet', () => {
  const deny = new CidrSet(['169.254.0.0/16', 'fe80::/10']);

  it('matches IPv4 inside and outside a range', () => {
    expect(deny.match('169.254.169.254')).toBe('169.254.0.0/16');
    expect(deny.match('169.254.0.0')).toBe('169.254.0.0/16');
    expect(deny.match('169.254.255.255')).toBe('169.254.0.0/16');
    expect(deny.match('169.253.255.255')).toBeNull();
    expect(deny.match('169.255.0.0')).toBeNull();
    expect(deny.match('127.0.0.1')).toBeNull();
  });

  it('catches IPv4-mapped IPv6 with an IPv4 range', () => {
    expect(deny.match('::ffff:169.254.169.254')).toBe('169.254.0.0/16');
    expect(deny.match('::ffff:a9fe:a9fe')).toBe('169.254.0.0/16');
    expect(deny.match('0:0:0:0:0:ffff:169.254.1.1')).toBe('169.254.0.0/16');
  });

  it('matches IPv6 on a prefix that does not end on a byte boundary', () => {
    expect(deny.match('fe80::1')).toBe('fe80::/10');
    expect(deny.match('febf:ffff::1')).toBe('fe80::/10');
    expect(deny.match('fec0::1')).toBeNull();
    expect(deny.match('fe7f::1')).toBeNull();
    expect(deny.match('fe80::1%eth0')).toBe('fe80::/10');
  });

  it('keeps IPv4 and IPv6 ranges apart, except through the mapped form', () => {
    const everyV4 = new CidrSet(['0.0.0.0/0']);
    expect(everyV4.match('8.8.8.8')).toBe('0.0.0.0/0');
    expect(everyV4.match('::1')).toBeNull();
    expect(new CidrSet(['::/0']).match('10.0.0.1')).toBe('::/0');
    expect(new CidrSet(['::ffff:0:0/96']).match('10.0.0.1')).toBe('::ffff:0:0/96');
  });

  it('treats a single address as a /32 or /128', () => {
    const set = new CidrSet(['192.0.2.7', '2001:db8::1']);
    expect(set.match('192.0.2.7')).toBe('192.0.2.7');
    expect(set.match('192.0.2.8')).toBeNull();
    expect(set.match('2001:db8::1')).toBe('2001:db8::1');
    expect(set.match('2001:db8::2')).toBeNull();
  });

  it('matches nothing for a string that is not an address, and throws on a bad entry', () => {
    expect(deny.match('metadata.google.internal')).toBeNull();
    expect(new CidrSet([]).size).toBe(0);
    expect(() => new CidrSet(['10.0.0.0/8', 'nope'])).toThrow('"nope"');
  });
});

describe('isIpLiteral', () => {
  it('agrees with Node on what it connects to without a lookup', () => {
    expect(isIpLiteral('169.254.169.254')).toBe(true);
    expect(isIpLiteral('::ffff:169.254.169.254')).toBe(true);
    expect(isIpLiteral('localhost')).toBe(false);
    expect(isIpLiteral('2852039166')).toBe(false);
  });
});
