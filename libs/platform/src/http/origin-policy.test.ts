import { describe, expect, it } from 'vitest';
import { OriginPolicy } from './origin-policy';

const off = new OriginPolicy([]);

describe('OriginPolicy', () => {
  it('lets requests without Origin through: curl, python and ESP32 clients send none', () => {
    expect(off.check({ host: 'beacon:8097' })).toBeNull();
  });

  it("lets a page of the request's own host through, directly or behind nginx", () => {
    expect(off.check({ origin: 'http://beacon:8097', host: 'beacon:8097' })).toBeNull();
    expect(off.check({ origin: 'https://beacon.lan', host: 'upstream:8098', 'x-forwarded-host': 'beacon.lan' })).toBeNull();
    expect(off.check({ origin: 'https://beacon.lan', host: 'beacon.lan:443' })).toBeNull();
    expect(off.check({ origin: 'http://BEACON:8097', host: 'beacon:8097' })).toBeNull();
  });

  it('refuses any other page with a 403 that names the origin and CORS_ORIGINS', () => {
    const refusal = off.check({ origin: 'http://127.0.0.1:9999', host: '127.0.0.1:8097' }, 'open this stream');
    expect(refusal).toEqual({
      status: 403,
      message: 'Origin http://127.0.0.1:9999 may not open this stream: only pages of this host and origins listed in CORS_ORIGINS may',
    });
    expect(off.check({ origin: 'null', host: 'beacon:8097' })?.status).toBe(403);
    expect(off.check({ origin: 'not a url', host: 'beacon:8097' })?.status).toBe(403);
    expect(off.check({ origin: 'http://beacon:8097.evil.example', host: 'beacon:8097' })?.status).toBe(403);
  });

  it('lets listed origins through, and any with *', () => {
    const listed = new OriginPolicy(['http://dash.example:3000/', 'https://ops.example']);
    expect(listed.check({ origin: 'http://dash.example:3000', host: 'beacon' })).toBeNull();
    expect(listed.check({ origin: 'https://ops.example', host: 'beacon' })).toBeNull();
    expect(listed.check({ origin: 'https://ops.example:8443', host: 'beacon' })?.status).toBe(403);
    expect(new OriginPolicy(['*']).check({ origin: 'http://anywhere', host: 'beacon' })).toBeNull();
  });
});
