import pino from 'pino';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { logAuthStatus } from './auth-status';

/** What `logAuthStatus` logs for `tokens`, one parsed line each. */
function linesFor(tokens: readonly string[]): { level: number; msg: string }[] {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  logAuthStatus(pino({}, sink), tokens, ['writes'], ['/metrics']);
  return lines.map((line) => JSON.parse(line) as { level: number; msg: string });
}

describe('logAuthStatus', () => {
  it('warns that a token shorter than 16 characters is guessable, without logging it', () => {
    const lines = linesFor(['short-tok', '0123456789abcdef']);
    expect(lines.map((line) => line.msg)).toEqual([
      'auth on: a bearer token guards writes; open: /metrics',
      'BEACON_AUTH_TOKEN: 1 of 2 token(s) shorter than 16 characters, guessable; use a long random one (openssl rand -hex 32)',
    ]);
    expect(lines[1]?.level).toBe(40);
    expect(JSON.stringify(lines)).not.toContain('short-tok');
  });

  it('says nothing more for long tokens, and warns that auth is off without any', () => {
    expect(linesFor(['0123456789abcdef'])).toHaveLength(1);
    expect(linesFor([])[0]?.msg).toMatch(/^auth off: /);
  });
});
