import { describe, expect, it } from 'vitest';
import { authTokens, weakTokenCount } from './auth-token';
import { env, loadEnv } from './env';

const schema = {
  TOKENS: env.list({ doc: 'tokens', default: [], alias: 'LEGACY_SECRET' }),
  PORT: env.port({ doc: 'port', default: 8097 }),
  NAME: env.string({ doc: 'name' }),
  NOTE: env.optionalString({ doc: 'note' }),
};

describe('loadEnv: a blank variable is an unset one', () => {
  it('lets an empty name fall through to its alias (compose writes BEACON_AUTH_TOKEN: ${BEACON_AUTH_TOKEN:-})', () => {
    expect(loadEnv(schema, { NAME: 'n', TOKENS: '', LEGACY_SECRET: 's3cret' }).TOKENS).toEqual(['s3cret']);
    expect(loadEnv(schema, { NAME: 'n', TOKENS: '  ', LEGACY_SECRET: 's3cret' }).TOKENS).toEqual(['s3cret']);
  });

  it('gives the default when both the name and its alias are blank', () => {
    expect(loadEnv(schema, { NAME: 'n', TOKENS: '', LEGACY_SECRET: '' }).TOKENS).toEqual([]);
    expect(loadEnv(schema, { NAME: 'n', PORT: '' }).PORT).toBe(8097);
    expect(loadEnv(schema, { NAME: 'n', NOTE: '' }).NOTE).toBeUndefined();
  });

  it('still calls a blank required variable missing, by name', () => {
    expect(() => loadEnv(schema, { NAME: '' })).toThrow(/NAME is required \(name\)/);
  });

  it('counts a list with no entries as unset: `,` or `[]` falls through to the alias, then the default', () => {
    for (const empty of [',', ' , ,', '[]', '[""," "]']) {
      expect(loadEnv(schema, { NAME: 'n', TOKENS: empty, LEGACY_SECRET: 's3cret' }).TOKENS).toEqual(['s3cret']);
      expect(loadEnv(schema, { NAME: 'n', TOKENS: empty, LEGACY_SECRET: ',' }).TOKENS).toEqual([]);
    }
    const required = { LIST: env.list({ doc: 'entries' }) };
    expect(() => loadEnv(required, { LIST: ',' })).toThrow(/LIST is required \(entries\)/);
    expect(() => loadEnv(required, { LIST: '[' })).toThrow(/LIST looks like a JSON array but is not valid JSON/);
  });

  it('prefers a set name over its alias', () => {
    expect(loadEnv(schema, { NAME: 'n', TOKENS: 't', LEGACY_SECRET: 's' }).TOKENS).toEqual(['t']);
  });
});

describe('env.list: per-entry checks', () => {
  const checked = { LIST: env.list({ doc: 'entries', default: [], each: (item) => (item === 'bad' ? 'must not list "bad"' : null) }) };

  it('refuses the variable by name when one entry fails, from a list or a JSON array', () => {
    expect(loadEnv(checked, { LIST: 'ok, also-ok' }).LIST).toEqual(['ok', 'also-ok']);
    expect(() => loadEnv(checked, { LIST: 'ok,bad' })).toThrow(/LIST must not list "bad"/);
    expect(() => loadEnv(checked, { LIST: '["bad"]' })).toThrow(/LIST must not list "bad"/);
  });
});

describe('BEACON_AUTH_TOKEN (authTokens)', () => {
  const schema = { BEACON_AUTH_TOKEN: authTokens('tokens') };

  it('falls through to SERVICE_DISCOVERY_SECRET when it lists no token (",")', () => {
    expect(loadEnv(schema, { BEACON_AUTH_TOKEN: ',', SERVICE_DISCOVERY_SECRET: 'seed-004-secret-x' }).BEACON_AUTH_TOKEN).toEqual([
      'seed-004-secret-x',
    ]);
  });

  it.each([
    ['a b', 'a space'],
    ['["tok,en"]', 'a comma'],
    ['ok-token-0123456,tab\there', 'U+0009'],
    ['tökén', 'U+00F6'],
  ])('refuses %j at boot, naming the variable and not the token', (raw, what) => {
    const load = (): unknown => loadEnv(schema, { BEACON_AUTH_TOKEN: raw });
    expect(load).toThrow(
      `BEACON_AUTH_TOKEN has a token containing ${what}, which "Authorization: Bearer <token>" cannot carry: tokens are visible ASCII, no spaces or commas`,
    );
    expect(load).not.toThrow(/a b|tok,en|tab|tökén/);
  });

  it('names the alias when the token came from it', () => {
    expect(() => loadEnv(schema, { SERVICE_DISCOVERY_SECRET: 'a b' })).toThrow(
      /^Invalid configuration:\n {2}- SERVICE_DISCOVERY_SECRET has a token containing a space/,
    );
  });

  it('accepts any visible ASCII, and counts the guessable ones', () => {
    const tokens = loadEnv(schema, { BEACON_AUTH_TOKEN: 'short, !"#$%&\'()*+-./0123456789:;<=>?@[\\]^_`{|}~' }).BEACON_AUTH_TOKEN;
    expect(tokens).toHaveLength(2);
    expect(weakTokenCount(tokens)).toBe(1);
    expect(weakTokenCount(['0123456789abcdef'])).toBe(0);
  });
});

describe('env.duration', () => {
  const durations = { WAIT: env.duration({ doc: 'wait', default: 60, min: 1, max: 86400 }) };

  it('reads plain seconds and s/m/h/d units', () => {
    for (const [raw, seconds] of [
      ['90', 90],
      ['30s', 30],
      ['5m', 300],
      ['1h', 3600],
      ['1d', 86400],
      [' 2 m ', 120],
    ] as const) {
      expect(loadEnv(durations, { WAIT: raw }).WAIT, raw).toBe(seconds);
    }
    expect(loadEnv(durations, {}).WAIT).toBe(60);
  });

  it('refuses other units, fractions, negatives and values out of range, by name', () => {
    for (const raw of ['1.5h', '-5', '10ms', '1w', 'soon'])
      expect(() => loadEnv(durations, { WAIT: raw }), raw).toThrow(/WAIT must be seconds or a duration like 30s/);
    expect(() => loadEnv(durations, { WAIT: '2d' })).toThrow(/WAIT must be between 1 and 86400 seconds, got 172800/);
    expect(() => loadEnv(durations, { WAIT: '0' })).toThrow(/WAIT must be between 1 and 86400 seconds, got 0/);
  });
});
