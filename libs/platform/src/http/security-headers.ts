import type { FastifyInstance } from 'fastify';

/**
 * Headers every response gets unless its route set its own (the dashboard sets a full
 * Content-Security-Policy): no MIME sniffing, no framing (clickjacking), and no URL (which
 * may hold `?token=`) sent on as a Referer.
 */
const ALWAYS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

/**
 * API data is never a document: nothing in it may load or run. HTML pages of libraries
 * (Swagger UI at /api/docs) bring their own scripts, so they only lose framing.
 */
const DATA_POLICY = "default-src 'none'; frame-ancestors 'none'";
const PAGE_POLICY = "frame-ancestors 'none'";

export function installSecurityHeaders(fastify: FastifyInstance): void {
  fastify.addHook('onSend', (_request, reply, payload, done) => {
    for (const [name, value] of Object.entries(ALWAYS)) if (!reply.hasHeader(name)) void reply.header(name, value);
    if (!reply.hasHeader('content-security-policy')) {
      const type = String(reply.getHeader('content-type') ?? '');
      void reply.header('content-security-policy', type.startsWith('text/html') ? PAGE_POLICY : DATA_POLICY);
    }
    done(null, payload);
  });
}
