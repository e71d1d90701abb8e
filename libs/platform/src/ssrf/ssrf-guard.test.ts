import type { LookupAddress } from 'node:dns';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DENY_CIDRS } from './ssrf-env';
import { SsrfGuard, TARGET_REFUSED, TargetRefusedError } from './ssrf-guard';

const defaults = new SsrfGuard({ deny: DEFAULT_DENY_CIDRS, allow: [] });
const noLoopback = new SsrfGuard({ deny: [...DEFAULT_DENY_CIDRS, '127.0.0.0/8', '::1'], allow: [] });
/** Denies nothing and allows everything: only the built-in refusals are left. */
const wideOpen = new SsrfGuard({ deny: [], allow: ['0.0.0.0/0', '::/0'] });
const narrowed = new SsrfGuard({ deny: ['169.254.0.0/16'], allow: ['10.0.0.0/8'] });

function lookup(guard: SsrfGuard, host: string, all: boolean): Promise<{ error: (Error & { code?: string }) | null; result: unknown }> {
  return new Promise((resolve) => {
    guard.lookup(host, { all }, (error, address) => resolve({ error, result: address }));
  });
}

describe('SsrfGuard.refusal', () => {
  it('names the denied range, for IPv4 and its mapped IPv6 form', () => {
    expect(defaults.refusal('169.254.169.254')).toBe('169.254.169.254 is in denied range 169.254.0.0/16 (PROBE_DENY_CIDRS)');
    expect(defaults.refusal('::ffff:169.254.169.254')).toContain('169.254.0.0/16');
    expect(defaults.refusal('fe80::1')).toContain('fe80::/10');
    expect(defaults.refusal('127.0.0.1')).toBeNull();
    expect(defaults.refusal('::1')).toBeNull();
  });

  it('with an allow list, refuses everything outside it, and deny still wins inside it', () => {
    expect(narrowed.refusal('10.1.2.3')).toBeNull();
    expect(narrowed.refusal('127.0.0.1')).toBe('127.0.0.1 is outside the allowed ranges 10.0.0.0/8 (PROBE_ALLOW_CIDRS)');
    expect(new SsrfGuard({ deny: ['10.9.0.0/16'], allow: ['10.0.0.0/8'] }).refusal('10.9.1.1')).toContain('denied');
  });

  it('refuses unspecified addresses whatever the configuration (they reach this host)', () => {
    for (const address of ['0.0.0.0', '0.1.2.3', '::', '::ffff:0.0.0.0', '::ffff:0:0', '0:0:0:0:0:0:0:0']) {
      expect(wideOpen.refusal(address), address).toMatch(
        /is an unspecified address \((0\.0\.0\.0\/8|::\/128)\), which reaches this host: always refused$/,
      );
      expect(defaults.refusal(address), address).toContain('always refused');
    }
    expect(wideOpen.refusal('127.0.0.1')).toBeNull();
    expect(wideOpen.refusal('::1')).toBeNull();
  });

  it('by default refuses cloud metadata in and outside link-local, and allows loopback and private LAN ranges', () => {
    expect(defaults.refusal('169.254.169.254')).toContain('169.254.0.0/16');
    expect(defaults.refusal('fd00:ec2::254')).toBe('fd00:ec2::254 is in denied range fd00:ec2::254 (PROBE_DENY_CIDRS)');
    expect(defaults.refusal('100.100.100.200')).toBe('100.100.100.200 is in denied range 100.100.100.200 (PROBE_DENY_CIDRS)');
    expect(defaults.refusal('::ffff:100.100.100.200')).toContain('100.100.100.200');
    for (const lan of ['10.0.0.5', '172.16.3.4', '192.168.1.10', '100.64.0.1', 'fd12:3456::1', '127.0.0.1', '::1']) {
      expect(defaults.refusal(lan), lan).toBeNull();
    }
  });

  it('refuses what is not an IP address rather than guessing', () => {
    expect(defaults.refusal('not-an-ip')).toContain('not an IP address');
  });
});

describe('SsrfGuard.assertHost', () => {
  it('throws for a refused IP literal, bracketed or not; names pass (the lookup vets them)', () => {
    expect(() => defaults.assertHost('169.254.169.254')).toThrow(TargetRefusedError);
    expect(() => defaults.assertHost('[::ffff:169.254.169.254]')).toThrow(TargetRefusedError);
    expect(() => defaults.assertHost('[fe80::1]')).toThrow(/fe80::\/10/);
    expect(() => defaults.assertHost('127.0.0.1')).not.toThrow();
    expect(() => defaults.assertHost('example.internal')).not.toThrow();
  });

  it('refuses every spelling of loopback and of the unspecified address, as the URL parser hands them over', () => {
    const urls = [
      'http://127.0.0.1/',
      'http://2130706433/',
      'http://0x7f.1/',
      'http://0177.0.0.1/',
      'http://127.1/',
      'http://[::1]/',
      'http://[::ffff:127.0.0.1]/',
      'http://[0:0:0:0:0:ffff:7f00:1]/',
      'http://0/',
      'http://0.0.0.0/',
      'http://0x0/',
      'http://[::]/',
      'http://[::ffff:0.0.0.0]/',
    ];
    for (const url of urls) expect(() => noLoopback.assertHost(new URL(url).hostname), url).toThrow(TargetRefusedError);
    // The unspecified ones are refused even by a guard that denies nothing.
    for (const url of ['http://0/', 'http://0x0/', 'http://[::]/', 'http://[::ffff:0.0.0.0]/']) {
      expect(() => wideOpen.assertHost(new URL(url).hostname), url).toThrow(/always refused/);
    }
  });
});

describe('SsrfGuard.lookup', () => {
  it('answers like dns.lookup, in both shapes, for an allowed name', async () => {
    const many = await lookup(defaults, 'localhost', true);
    expect(many.error).toBeNull();
    expect((many.result as LookupAddress[]).length).toBeGreaterThan(0);
    const one = await lookup(defaults, 'localhost', false);
    expect(one.error).toBeNull();
    expect(typeof one.result).toBe('string');
  });

  it('fails with the refusal code when the name resolves into a refused range', async () => {
    const { error } = await lookup(narrowed, 'localhost', true);
    expect(error?.code).toBe(TARGET_REFUSED);
    expect(error?.message).toMatch(/^localhost: (127\.0\.0\.1|::1) is outside the allowed ranges 10\.0\.0\.0\/8 \(PROBE_ALLOW_CIDRS\)$/);
  });

  it('refuses names that resolve to the unspecified address or to a denied loopback (how TCP targets reach it)', async () => {
    for (const name of ['0', '0x0', '0.0.0.0']) {
      const { error } = await lookup(wideOpen, name, true);
      expect(error?.code, name).toBe(TARGET_REFUSED);
      expect(error?.message, name).toContain('always refused');
    }
    for (const name of ['localhost', '2130706433', '0x7f.1']) {
      const { error } = await lookup(noLoopback, name, false);
      expect(error?.code, name).toBe(TARGET_REFUSED);
    }
  });

  it('vets what a numeric name resolves to (getaddrinfo reads 2852039166 as 169.254.169.254)', async () => {
    const { error } = await lookup(defaults, '2852039166', true);
    expect(error?.code).toBe(TARGET_REFUSED);
    expect(error?.message).toBe('2852039166: 169.254.169.254 is in denied range 169.254.0.0/16 (PROBE_DENY_CIDRS)');
  });
});
