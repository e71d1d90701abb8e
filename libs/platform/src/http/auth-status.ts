import type { Logger } from 'pino';

/** What a token protects in one app, as its start-up line names it. */
export type Guarded = 'writes' | 'reads' | 'WebSocket' | 'SSE' | '/metrics';

/**
 * The one line every app that guards anything logs at start: whether auth is on and what
 * it covers, so a token lost on the way (an empty variable, a missing secret) shows at once
 * rather than as an open API found later.
 */
export function logAuthStatus(logger: Logger, tokenCount: number, guarded: readonly Guarded[], open: readonly Guarded[]): void {
  if (tokenCount === 0) {
    logger.warn(
      { auth: 'off', open: [...guarded, ...open] },
      `auth off: BEACON_AUTH_TOKEN (or SERVICE_DISCOVERY_SECRET) is not set; anyone who reaches this port may use ${[...guarded, ...open].join(', ')}`,
    );
    return;
  }
  const rest = open.length > 0 ? `; open: ${open.join(', ')}` : '';
  logger.info({ auth: 'on', tokens: tokenCount, guarded, open }, `auth on: a bearer token guards ${guarded.join(', ')}${rest}`);
}
