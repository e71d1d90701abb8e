import type { Logger } from 'pino';
import { MIN_TOKEN_LENGTH, weakTokenCount } from '../config/auth-token';

/** What a token protects in one app, as its start-up line names it. */
export type Guarded = 'writes' | 'reads' | 'WebSocket' | 'SSE' | '/metrics';

/**
 * The one line every app that guards anything logs at start: whether auth is on and what
 * it covers, so a token lost on the way (an empty variable, a missing secret) shows at once
 * rather than as an open API found later. A short token gets a warning of its own: it is
 * on, but guessable. Only counts are logged, never a token.
 */
export function logAuthStatus(logger: Logger, tokens: readonly string[], guarded: readonly Guarded[], open: readonly Guarded[]): void {
  if (tokens.length === 0) {
    logger.warn(
      { auth: 'off', open: [...guarded, ...open] },
      `auth off: BEACON_AUTH_TOKEN (or SERVICE_DISCOVERY_SECRET) is not set; anyone who reaches this port may use ${[...guarded, ...open].join(', ')}`,
    );
    return;
  }
  const rest = open.length > 0 ? `; open: ${open.join(', ')}` : '';
  logger.info({ auth: 'on', tokens: tokens.length, guarded, open }, `auth on: a bearer token guards ${guarded.join(', ')}${rest}`);
  const weak = weakTokenCount(tokens);
  if (weak > 0) {
    logger.warn(
      { weakTokens: weak, minLength: MIN_TOKEN_LENGTH },
      `BEACON_AUTH_TOKEN: ${weak} of ${tokens.length} token(s) shorter than ${MIN_TOKEN_LENGTH} characters, guessable; use a long random one (openssl rand -hex 32)`,
    );
  }
}
