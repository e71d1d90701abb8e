import { describe, expect, it } from 'vitest';
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

  it('prefers a set name over its alias', () => {
    expect(loadEnv(schema, { NAME: 'n', TOKENS: 't', LEGACY_SECRET: 's' }).TOKENS).toEqual(['t']);
  });
});
