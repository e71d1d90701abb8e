import { describe, expect, it } from 'vitest';
import { MASK, maskUrl, normalizeUrl } from './webhook-url';

describe('maskUrl', () => {
  it('masks a password, or a user name standing alone (token-as-user)', () => {
    expect(maskUrl('https://user:secret@example.com/hook', 'generic')).toBe(`https://user:${MASK}@example.com/hook`);
    expect(maskUrl('https://tk_12345@example.com/hook', 'generic')).toBe(`https://${MASK}@example.com/hook`);
  });

  it('masks every query value, repeated keys included, and keeps the keys', () => {
    expect(maskUrl('http://gotify.lan/message?token=abc&priority=5&token=def', 'gotify')).toBe(
      `http://gotify.lan/message?token=${MASK}&priority=${MASK}&token=${MASK}`,
    );
  });

  it('masks the last path segment for slack and discord only, never a lone segment', () => {
    expect(maskUrl('https://hooks.slack.com/services/T0/B0/tok', 'slack')).toBe(`https://hooks.slack.com/services/T0/B0/${MASK}`);
    expect(maskUrl('https://discord.com/api/webhooks/1/tok/', 'discord')).toBe(`https://discord.com/api/webhooks/1/${MASK}/`);
    expect(maskUrl('https://hooks.slack.com/tok', 'slack')).toBe('https://hooks.slack.com/tok');
    expect(maskUrl('https://ntfy.sh/alerts/topic', 'ntfy')).toBe('https://ntfy.sh/alerts/topic');
  });

  it('leaves a URL with nothing secret as it is', () => {
    expect(maskUrl('https://example.com/hook', 'generic')).toBe('https://example.com/hook');
  });
});

describe('normalizeUrl', () => {
  it('stores what the deliverer will connect to: numeric hosts as dotted IPv4, lower-case scheme and host', () => {
    expect(normalizeUrl('HTTP://Example.COM/Hook')).toBe('http://example.com/Hook');
    expect(normalizeUrl('http://0x7f.1:8080/x')).toBe('http://127.0.0.1:8080/x');
  });
});
