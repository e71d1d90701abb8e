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

  it('masks a path segment that reads like a token in every format, and the fragment', () => {
    const token = 'AbCdEf0123456789GhIjKl0123456789-_xyz';
    // Discord's Slack-compatible endpoint, used with the slack format: the token is not the last segment.
    expect(maskUrl(`https://discord.com/api/webhooks/1234567890123456789/${token}/slack`, 'slack')).toBe(
      `https://discord.com/api/webhooks/1234567890123456789/${MASK}/${MASK}`,
    );
    expect(maskUrl('https://chat.example.com/hooks/xi8d7fh3nbgm5ch4hx7bmr3qnw', 'generic')).toBe(`https://chat.example.com/hooks/${MASK}`);
    expect(maskUrl('https://ntfy.sh/alerts_k3J9xQ2mV8pL5tR7wZ', 'ntfy')).toBe(`https://ntfy.sh/${MASK}`);
    expect(maskUrl('https://example.com/hook#k3J9xQ2mV8pL5tR7wZ', 'generic')).toBe(`https://example.com/hook#${MASK}`);
    expect(maskUrl('https://example.com/beacon-notifications-for-production/in', 'generic')).toBe(
      'https://example.com/beacon-notifications-for-production/in',
    );
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
