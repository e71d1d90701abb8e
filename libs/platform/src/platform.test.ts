import { describe, expect, it } from 'vitest';
import { ConfigError, env, loadEnv } from './config/env';
import { bearerToken, TokenVerifier } from './http/auth';

const schema = {
  PORT: env.port({ doc: 'port', default: 8097 }),
  NAME: env.string({ doc: 'name' }),
  FLAG: env.bool({ doc: 'flag', default: false }),
  MODE: env.oneOf(['a', 'b'], { doc: 'mode', default: 'a' }),
  TOKENS: env.list({ doc: 'tokens', default: [], alias: 'LEGACY_SECRET' }),
  URL: env.url({ doc: 'url', default: 'nats://x:4222', protocols: ['nats', 'tls'] }),
};

describe('loadEnv', () => {
  it('applies defaults and parses types', () => {
    expect(loadEnv(schema, { NAME: 'n', FLAG: 'yes', TOKENS: 'a, b,,c' })).toEqual({
      PORT: 8097,
      NAME: 'n',
      FLAG: true,
      MODE: 'a',
      TOKENS: ['a', 'b', 'c'],
      URL: 'nats://x:4222',
    });
  });

  it("takes seed 000's spellings: JSON arrays and Python log levels", () => {
    const values = loadEnv(
      { ...schema, LEVEL: env.oneOf(['warn', 'fatal'], { doc: 'l', default: 'warn', aliases: { warning: 'warn', critical: 'fatal' } }) },
      {
        NAME: 'n',
        TOKENS: '["http://a", "http://b"]',
        LEVEL: 'CRITICAL',
      },
    );
    expect(values.TOKENS).toEqual(['http://a', 'http://b']);
    expect(values.LEVEL).toBe('fatal');
    expect(() => loadEnv(schema, { NAME: 'n', TOKENS: '["a", 1]' })).toThrow(/TOKENS must be a JSON array of strings/);
    expect(() => loadEnv(schema, { NAME: 'n', TOKENS: '["a"' })).toThrow(/not valid JSON/);
  });

  it('reads an alias when the main name is absent', () => {
    expect(loadEnv(schema, { NAME: 'n', LEGACY_SECRET: 's' }).TOKENS).toEqual(['s']);
    expect(loadEnv(schema, { NAME: 'n', TOKENS: 't', LEGACY_SECRET: 's' }).TOKENS).toEqual(['t']);
  });

  it('lists every bad variable by name in one error', () => {
    let error: unknown;
    try {
      loadEnv(schema, { PORT: '99999', FLAG: 'maybe', MODE: 'c', URL: 'http://x,nats://y' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(5);
    expect(problems.join('\n')).toMatch(/PORT must be between 0 and 65535/);
    expect(problems.join('\n')).toMatch(/NAME is required/);
    expect(problems.join('\n')).toMatch(/FLAG must be true or false/);
    expect(problems.join('\n')).toMatch(/MODE must be one of a, b/);
    expect(problems.join('\n')).toMatch(/URL must use nats or tls/);
  });
});

describe('bearer tokens', () => {
  it('accepts any configured token and nothing else', () => {
    const verifier = new TokenVerifier(['alpha', 'beta-token']);
    expect(verifier.enabled).toBe(true);
    expect(verifier.verify('alpha')).toBe(true);
    expect(verifier.verify('beta-token')).toBe(true);
    expect(verifier.verify('alph')).toBe(false);
    expect(verifier.verify('')).toBe(false);
    expect(new TokenVerifier([]).enabled).toBe(false);
  });

  it('reads the Authorization header', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('bearer  abc ')).toBe('abc');
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});
