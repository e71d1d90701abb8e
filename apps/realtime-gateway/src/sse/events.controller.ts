import { TokenVerifier } from '@beacon/platform';
import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ConnectionCapacity, clientAddress } from '../clients/capacity';
import { parseConnectParams } from '../clients/filters';
import { Hub } from '../clients/hub';
import { GATEWAY_ENV, type GatewayEnv } from '../config';
import { checkConnect, refusalHeaders, requestUrl } from '../ws/access';
import { SseTransport } from './sse.transport';

const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
  // Tells nginx not to buffer the stream.
  'x-accel-buffering': 'no',
};

/**
 * The stream's head for this request. A request that reached here with an `Origin` passed
 * the Origin check (same host, or listed in CORS_ORIGINS): only such a page may read it.
 */
function headersFor(request: FastifyRequest): Record<string, string> {
  const origin = request.headers.origin;
  return origin ? { ...SSE_HEADERS, 'access-control-allow-origin': origin, vary: 'Origin' } : SSE_HEADERS;
}

/** `/api/v1/events`: the same stream as the WebSocket, as Server-Sent Events (`curl -N` follows it). */
@Controller('api/v1')
export class EventsController {
  private readonly verifier: TokenVerifier;

  constructor(
    @Inject(Hub) private readonly hub: Hub,
    @Inject(ConnectionCapacity) private readonly capacity: ConnectionCapacity,
    @Inject(GATEWAY_ENV) config: GatewayEnv,
  ) {
    this.verifier = new TokenVerifier(config.BEACON_AUTH_TOKEN);
  }

  @Get('events')
  stream(@Req() request: FastifyRequest, @Res() reply: FastifyReply): void {
    const url = requestUrl(request);
    const refusal = checkConnect(this.verifier, url, request.headers);
    if (refusal) {
      void reply.code(refusal.status).send({ detail: refusal.message });
      return;
    }
    const lastEventId = request.headers['last-event-id'];
    const parsed = parseConnectParams(url.searchParams, Array.isArray(lastEventId) ? lastEventId[0] : lastEventId);
    if (!parsed.ok) {
      void reply.code(400).send({ detail: parsed.errors.join('; ') });
      return;
    }
    if (request.method === 'HEAD') {
      // Fastify routes HEAD here too: answer with the stream's head, and open no session (no body would ever flush it).
      void reply.code(200).headers(headersFor(request)).send();
      return;
    }
    const admission = this.capacity.admit(clientAddress(request.raw));
    if (!admission.ok) {
      void reply.code(admission.refusal.status).headers(refusalHeaders(admission.refusal)).send({ detail: admission.refusal.message });
      return;
    }
    reply.hijack();
    const response = reply.raw;
    // The response's close, not the request's: it comes however the stream ends, the client's side or ours.
    if (request.raw.socket.destroyed) admission.release();
    else response.once('close', admission.release);
    response.writeHead(200, headersFor(request));
    response.write('retry: 3000\n\n');
    const session = this.hub.open(new SseTransport(response), parsed.value);
    request.raw.on('close', () => this.hub.close(session));
  }
}
