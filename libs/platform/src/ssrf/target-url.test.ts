import { describe, expect, it } from 'vitest';
import { DEFAULT_DENY_CIDRS } from './ssrf-env';
import { SsrfGuard } from './ssrf-guard';
import { targetUrlRefusal } from './target-url';

const defaults = new SsrfGuard({ deny: DEFAULT_DENY_CIDRS, allow: [] });
const wideOpen = new SsrfGuard({ deny: [], allow: ['0.0.0.0/0', '::/0'] });
const lanOnly = new SsrfGuard({ deny: DEFAULT_DENY_CIDRS, allow: ['10.0.0.0/8'] });

describe('targetUrlRefusal', () => {
  it('accepts http and https URLs to names and to allowed addresses', () => {
    for (const url of [
      'https://hooks.slack.com/services/T0/B0/xyz',
      'http://127.0.0.1:8080/hook',
      'http://[::1]:9/x',
      'http://192.168.1.10/gotify/message?token=abc',
      'http://metadata.google.internal/', // a name: vetted when it resolves, at delivery
    ]) {
      expect(targetUrlRefusal(defaults, url), url).toBeNull();
    }
  });

  it('refuses other schemes and what is not an absolute URL', () => {
    expect(targetUrlRefusal(defaults, 'ftp://example.com/x')).toBe('must use http or https, not ftp');
    expect(targetUrlRefusal(defaults, 'file:///etc/passwd')).toBe('must use http or https, not file');
    expect(targetUrlRefusal(defaults, 'javascript:alert(1)')).toBe('must use http or https, not javascript');
    expect(targetUrlRefusal(defaults, '/relative/path')).toBe('is not an absolute URL');
    expect(targetUrlRefusal(defaults, 'http://')).toBe('is not an absolute URL');
  });

  it('refuses denied literals in every spelling the URL parser normalises', () => {
    for (const url of [
      'http://169.254.169.254/latest/meta-data',
      'http://2852039166/',
      'http://0xa9.0xfe.0xa9.0xfe/',
      'http://[::ffff:169.254.169.254]/',
      'http://[fe80::1]/',
      'http://100.100.100.200/',
    ]) {
      expect(targetUrlRefusal(defaults, url), url).toMatch(/^is refused: .* is in denied range .* \(PROBE_DENY_CIDRS\)$/);
    }
  });

  it('refuses the unspecified address whatever the configuration', () => {
    for (const url of ['http://0.0.0.0:9/', 'http://0/', 'http://[::]/', 'http://[::ffff:0.0.0.0]/']) {
      expect(targetUrlRefusal(wideOpen, url), url).toMatch(/always refused$/);
    }
  });

  it('with an allow list, refuses literals outside it', () => {
    expect(targetUrlRefusal(lanOnly, 'http://10.1.2.3/')).toBeNull();
    expect(targetUrlRefusal(lanOnly, 'http://127.0.0.1/')).toContain('outside the allowed ranges 10.0.0.0/8 (PROBE_ALLOW_CIDRS)');
  });
});
