import type { LookupAddress } from 'node:dns';
import { describe, expect, it } from 'vitest';
import { SsrfGuard, TARGET_REFUSED, TargetRefusedError } from './ssrf-guard';

const defaults = new SsrfGuard({ deny: ['169.254.0.0/16', 'fe80::/10'], allow: [] });
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

  it('vets what a numeric name resolves to (getaddrinfo reads 2852039166 as 169.254.169.254)', async () => {
    const { error } = await lookup(defaults, '2852039166', true);
    expect(error?.code).toBe(TARGET_REFUSED);
    expect(error?.message).toBe('2852039166: 169.254.169.254 is in denied range 169.254.0.0/16 (PROBE_DENY_CIDRS)');
  });
});
