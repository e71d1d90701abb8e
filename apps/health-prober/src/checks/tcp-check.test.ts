import { describe, expect, it } from 'vitest';
import { parseHostPort } from './tcp-check';

describe('parseHostPort', () => {
  it('reads host:port and [v6]:port', () => {
    expect(parseHostPort('db.local:5432')).toEqual({ host: 'db.local', port: 5432 });
    expect(parseHostPort('10.0.0.5:6379')).toEqual({ host: '10.0.0.5', port: 6379 });
    expect(parseHostPort('[::1]:5432')).toEqual({ host: '::1', port: 5432 });
    expect(parseHostPort('[::ffff:169.254.169.254]:80')).toEqual({ host: '::ffff:169.254.169.254', port: 80 });
  });

  it('refuses the rest', () => {
    for (const bad of ['db.local', 'db.local:', ':5432', 'db.local:0', 'db.local:65536', '::1:5432', '[]:80', 'db:12345678']) {
      expect(parseHostPort(bad), bad).toBeNull();
    }
  });
});
