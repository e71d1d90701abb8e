import { OriginPolicy, TokenVerifier, presentedCredential, type Credential } from '@beacon/platform';
import type { FastifyInstance } from 'fastify';
import type { IncomingMessage } from 'node:http';
import { parseConnectParams } from '../clients/filters';

export interface Refusal {
  status: number;
  message: string;
  /** Seconds for a `Retry-After` header, when waiting can help. */
  retryAfter?: number;
}

/** A refusal's headers besides its `{detail}` body. */
export function refusalHeaders(refusal: Refusal): Record<string, string> {
  return refusal.retryAfter === undefined ? {} : { 'retry-after': String(refusal.retryAfter) };
}

type Headers = IncomingMessage['headers'];

/** `?token=`, for clients that can set neither a header nor a cookie. */
function queryToken(url: URL): Credential | undefined {
  const token = url.searchParams.get('token');
  return token ? { kind: 'bearer', value: token } : undefined;
}

/**
 * Whether a WebSocket or SSE request may connect: the token when tokens are configured
 * (`Authorization: Bearer`, the dashboard's session cookie, or `?token=`), then its
 * parameters. Decided before the upgrade.
 */
export function checkConnect(verifier: TokenVerifier, url: URL, headers: Headers): Refusal | null {
  if (verifier.enabled) {
    const credential = presentedCredential(headers, true) ?? queryToken(url);
    if (!credential) {
      return { status: 401, message: 'Missing token: send "Authorization: Bearer <token>", the dashboard session cookie, or ?token=' };
    }
    if (!verifier.accepts(credential)) return { status: 401, message: 'Invalid token' };
  }
  const lastEventId = headers['last-event-id'];
  const parsed = parseConnectParams(url.searchParams, Array.isArray(lastEventId) ? lastEventId[0] : lastEventId);
  return parsed.ok ? null : { status: 400, message: `Invalid parameters: ${parsed.errors.join('; ')}` };
}

/** The URL of a request, for its path and query. */
export function requestUrl(request: { url?: string }): URL {
  return new URL(request.url ?? '/', 'http://gateway');
}

/**
 * Applies `policy` to GET requests for the routes `paths` (the SSE stream) before their
 * handlers; writes are checked for every route by the platform, and the WebSocket's upgrade
 * by `GatewayWsAdapter`. Matched by route, so every spelling of the path that reaches it is covered.
 */
export function refuseForeignOrigins(fastify: FastifyInstance, policy: OriginPolicy, paths: readonly string[]): void {
  fastify.addHook('onRequest', (request, reply, done) => {
    const route = request.is404 ? undefined : request.routeOptions.url;
    const refusal = route !== undefined && paths.includes(route) ? policy.check(request.headers, 'open this stream') : null;
    if (refusal) void reply.code(refusal.status).send({ detail: refusal.message });
    else done();
  });
}
