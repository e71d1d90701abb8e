import type { FastifyInstance } from 'fastify';
import type { IncomingHttpHeaders } from 'node:http';

/** Why a request's Origin is refused: a 403 and a sentence saying what would be allowed. */
export interface OriginRefusal {
  status: 403;
  message: string;
}

const first = (value: string | string[] | undefined): string | undefined =>
  (Array.isArray(value) ? value[0] : value)?.split(',')[0]?.trim() || undefined;

/** `host[:port]` as a URL of `protocol` writes it: `example.com:443` is `example.com` for https. */
function normalHost(protocol: string, host: string): string | undefined {
  try {
    return new URL(`${protocol}//${host}`).host;
  } catch {
    return undefined;
  }
}

/**
 * Which browser pages may act on Beacon (the cross-site request forgery and WebSocket
 * hijacking defence). A browser sends `Origin` on every WebSocket and every cross-origin
 * request but GET/HEAD, and sends it even where CORS keeps the answer from the page: a
 * `no-cors` POST still registers, a WebSocket still opens with the user's cookie.
 * - no `Origin`: not a browser page (curl, python, an ESP32): allowed, the token decides;
 * - the request's own host (`Host`, or `X-Forwarded-Host` behind the nginx gateway): same origin;
 * - `CORS_ORIGINS`: `*` or the exact origins listed;
 * - anything else: 403.
 * Only the host is compared for same origin: a TLS-terminating proxy sees `http` for an
 * `https` page.
 */
export class OriginPolicy {
  private readonly any: boolean;
  private readonly listed: Set<string>;

  constructor(allowed: readonly string[]) {
    this.any = allowed.includes('*');
    this.listed = new Set(allowed.map((origin) => origin.replace(/\/+$/, '').toLowerCase()));
  }

  check(headers: IncomingHttpHeaders, what = 'use this'): OriginRefusal | null {
    const origin = first(headers.origin);
    if (origin === undefined || this.any || this.listed.has(origin.toLowerCase())) return null;
    if (this.sameOrigin(origin, headers)) return null;
    return {
      status: 403,
      message: `Origin ${origin.slice(0, 200)} may not ${what}: only pages of this host and origins listed in CORS_ORIGINS may`,
    };
  }

  private sameOrigin(origin: string, headers: IncomingHttpHeaders): boolean {
    let page: URL;
    try {
      page = new URL(origin);
    } catch {
      return false;
    }
    const hosts = [first(headers['x-forwarded-host']), first(headers.host)];
    return hosts.some((host) => host !== undefined && normalHost(page.protocol, host) === page.host);
  }
}

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Refuses writes from other sites' pages before any route runs. CORS alone stops a page
 * from reading answers, not from sending: a body without Content-Type is read as JSON, so
 * a `no-cors` POST from any page would register a service.
 */
export function refuseCrossSiteWrites(fastify: FastifyInstance, policy: OriginPolicy): void {
  fastify.addHook('onRequest', (request, reply, done) => {
    const refusal = WRITES.has(request.method) ? policy.check(request.headers, `${request.method} here`) : null;
    if (refusal) void reply.code(refusal.status).send({ detail: refusal.message });
    else done();
  });
}
