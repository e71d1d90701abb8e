import { TokenVerifier, bearerToken } from '@beacon/platform';
import type { IncomingMessage } from 'node:http';
import { parseConnectParams } from '../clients/filters';

export interface Refusal {
  status: 400 | 401;
  message: string;
}

/**
 * Whether a WebSocket or SSE request may connect: the token when tokens are configured
 * (`Authorization: Bearer` or `?token=`), then its parameters. Decided before the upgrade.
 */
export function checkConnect(verifier: TokenVerifier, url: URL, headers: IncomingMessage['headers']): Refusal | null {
  if (verifier.enabled) {
    const token = bearerToken(headers.authorization) ?? url.searchParams.get('token');
    if (!token) return { status: 401, message: 'Missing token: send "Authorization: Bearer <token>" or ?token=' };
    if (!verifier.verify(token)) return { status: 401, message: 'Invalid token' };
  }
  const lastEventId = headers['last-event-id'];
  const parsed = parseConnectParams(url.searchParams, Array.isArray(lastEventId) ? lastEventId[0] : lastEventId);
  return parsed.ok ? null : { status: 400, message: `Invalid parameters: ${parsed.errors.join('; ')}` };
}

/** The URL of a request, for its path and query. */
export function requestUrl(request: { url?: string }): URL {
  return new URL(request.url ?? '/', 'http://gateway');
}
