import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { TokenVerifier, presentedCredential } from './auth';
import { clearedSessionCookie, sessionCookie, sessionToken, sessionValue } from './session-cookie';

describe('session cookie', () => {
  it('holds HMAC-SHA256("beacon-dashboard-session-v1") keyed by the token, never the token', () => {
    const expected = createHmac('sha256', 'a b;c').update('beacon-dashboard-session-v1').digest('base64url');
    expect(sessionValue('a b;c')).toBe(expected);
    expect(sessionCookie('a b;c', false)).toBe(`beacon_token=${expected}; Path=/; HttpOnly; SameSite=Strict`);
    expect(sessionCookie('s3cret-token', false)).not.toContain('s3cret');
    expect(sessionValue('one')).not.toBe(sessionValue('two'));
  });

  it('is HttpOnly and SameSite=Strict, Secure over TLS, and reads back', () => {
    expect(sessionCookie('t', true)).toMatch(/; Secure$/);
    expect(clearedSessionCookie(false)).toMatch(/^beacon_token=; Max-Age=0; Path=\/; HttpOnly/);
    expect(sessionToken('theme=dark; beacon_token=a%20b%3Bc')).toBe('a b;c');
  });

  it('finds nothing where there is no usable cookie', () => {
    expect(sessionToken(undefined)).toBeUndefined();
    expect(sessionToken('other=1')).toBeUndefined();
    expect(sessionToken('beacon_token=')).toBeUndefined();
    expect(sessionToken('beacon_token=%zz')).toBeUndefined();
    expect(sessionToken('xbeacon_token=1')).toBeUndefined();
  });
});

describe('session credentials', () => {
  const verifier = new TokenVerifier(['alpha-token-0123456', 'beta-token-0123456']);

  it('accepts the derived value of any configured token as a session, and only as one', () => {
    expect(verifier.verifySession(sessionValue('beta-token-0123456'))).toBe(true);
    expect(verifier.accepts({ kind: 'session', value: sessionValue('alpha-token-0123456') })).toBe(true);
    // The session value is no token, and the token is no session.
    expect(verifier.accepts({ kind: 'bearer', value: sessionValue('alpha-token-0123456') })).toBe(false);
    expect(verifier.accepts({ kind: 'session', value: 'alpha-token-0123456' })).toBe(false);
    expect(verifier.verifySession(sessionValue('gamma'))).toBe(false);
    expect(new TokenVerifier([]).verifySession(sessionValue(''))).toBe(false);
  });

  it('reads the bearer header first, the cookie only where a session is allowed', () => {
    const cookie = `beacon_token=${sessionValue('x')}`;
    expect(presentedCredential({ authorization: 'Bearer t', cookie }, true)).toEqual({ kind: 'bearer', value: 't' });
    expect(presentedCredential({ cookie }, true)).toEqual({ kind: 'session', value: sessionValue('x') });
    expect(presentedCredential({ cookie }, false)).toBeUndefined();
    expect(presentedCredential({}, true)).toBeUndefined();
  });
});
