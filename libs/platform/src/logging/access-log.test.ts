import { describe, expect, it } from 'vitest';
import { REDACTED, redactHeaders, redactUrl } from './access-log';

describe('redactUrl', () => {
  it('hides the values of token parameters and keeps the rest as sent', () => {
    expect(redactUrl('/api/v1/ws?token=s3cret&snapshot=true')).toBe(`/api/v1/ws?token=${REDACTED}&snapshot=true`);
    expect(redactUrl('/api/v1/events?events=a%2Cb&TOKEN=s3cret')).toBe(`/api/v1/events?events=a%2Cb&TOKEN=${REDACTED}`);
    expect(redactUrl('/x?%74oken=s3cret&access_token=t2')).toBe(`/x?%74oken=${REDACTED}&access_token=${REDACTED}`);
    expect(redactUrl('/x?tokens=kept&a=%zz')).toBe('/x?tokens=kept&a=%zz');
    expect(redactUrl('/api/v1/services')).toBe('/api/v1/services');
  });
});

describe('redactHeaders', () => {
  it('hides credentials and leaves the original untouched', () => {
    const headers = { authorization: 'Bearer s3cret', cookie: 'beacon_token=s3cret', 'user-agent': 'curl' };
    expect(redactHeaders(headers)).toEqual({ authorization: REDACTED, cookie: REDACTED, 'user-agent': 'curl' });
    expect(headers.authorization).toBe('Bearer s3cret');
  });
});
