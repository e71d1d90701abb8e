import { describe, expect, it } from 'vitest';
import { clearedSessionCookie, sessionCookie, sessionToken } from './session-cookie';

describe('session cookie', () => {
  it('is HttpOnly and SameSite=Strict, Secure over TLS, and reads back', () => {
    expect(sessionCookie('a b;c', false)).toBe('beacon_token=a%20b%3Bc; Path=/; HttpOnly; SameSite=Strict');
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
