import { env, type FieldSpec } from './env';

/** Below this many characters a token is guessable: start-up warns (see `logAuthStatus`). */
export const MIN_TOKEN_LENGTH = 16;

/**
 * Why one configured token could never be presented, or null. A token travels as
 * `Authorization: Bearer <token>` (one run of visible ASCII: a space ends it, and a header
 * holds no other text reliably) and as a list entry (a comma splits it), so such a token
 * would lock every client out while the operator believes auth is on. The token itself is
 * never quoted: the message lands in logs.
 */
export function tokenProblem(token: string): string | null {
  const bad = /[^\x21-\x7e]|,/.exec(token)?.[0];
  if (bad === undefined) return null;
  const what = bad === ' ' ? 'a space' : bad === ',' ? 'a comma' : `U+${bad.codePointAt(0)?.toString(16).toUpperCase().padStart(4, '0')}`;
  return `has a token containing ${what}, which "Authorization: Bearer <token>" cannot carry: tokens are visible ASCII, no spaces or commas`;
}

/** How many of `tokens` are short enough to guess. */
export function weakTokenCount(tokens: readonly string[]): number {
  return tokens.filter((token) => token.length < MIN_TOKEN_LENGTH).length;
}

/**
 * `BEACON_AUTH_TOKEN`, declared alike by every app that checks tokens; `doc` says what it
 * guards there. `SERVICE_DISCOVERY_SECRET` is seed 004's name for it.
 */
export function authTokens(doc: string): FieldSpec<string[]> {
  return env.list({ doc, default: [], alias: 'SERVICE_DISCOVERY_SECRET', each: tokenProblem });
}
