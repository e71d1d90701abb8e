import { Access, RawBody, TokenVerifier, bearerToken, clearedSessionCookie, decodeJsonBody, sessionCookie } from '@beacon/platform';
import { BadRequestException, Body, Controller, Delete, HttpCode, Inject, Post, Req, Res, UnauthorizedException } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GATEWAY_ENV, type GatewayEnv } from '../config';

/** Whether the browser reached us over TLS (directly, or through a proxy that says so). */
function overTls(request: FastifyRequest): boolean {
  const forwarded = request.headers['x-forwarded-proto'];
  const proto = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim();
  return (proto ?? request.protocol) === 'https';
}

/** The token a login presents: `{"token": "..."}` or `Authorization: Bearer`. */
function presentedToken(request: FastifyRequest, body: unknown): string {
  const header = bearerToken(request.headers.authorization);
  if (header) return header;
  const decoded = decodeJsonBody(body);
  const token = typeof decoded === 'object' && decoded !== null ? (decoded as { token?: unknown }).token : undefined;
  if (typeof token !== 'string' || token === '') {
    throw new BadRequestException({ detail: 'Send the token as {"token": "<token>"} or "Authorization: Bearer <token>"' });
  }
  return token;
}

/**
 * `/api/v1/session`: the dashboard trades its token for an HttpOnly cookie (see
 * `SESSION_COOKIE`), so the WebSocket carries no `?token=`. Open to any caller, like a
 * login form; the platform's Origin check on writes keeps other sites' pages out.
 */
@Controller('api/v1/session')
@Access('public')
export class SessionController {
  private readonly verifier: TokenVerifier;

  constructor(@Inject(GATEWAY_ENV) config: GatewayEnv) {
    this.verifier = new TokenVerifier(config.BEACON_AUTH_TOKEN);
  }

  /** 204 with the cookie; 204 without one when this gateway needs no token. */
  @Post()
  @HttpCode(204)
  open(@Req() request: FastifyRequest, @Body() body: RawBody | undefined, @Res({ passthrough: true }) reply: FastifyReply): void {
    if (!this.verifier.enabled) return;
    const token = presentedToken(request, body);
    if (!this.verifier.verify(token)) throw new UnauthorizedException({ detail: 'Invalid token' });
    void reply.header('set-cookie', sessionCookie(token, overTls(request))).header('cache-control', 'no-store');
  }

  @Delete()
  @HttpCode(204)
  close(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): void {
    void reply.header('set-cookie', clearedSessionCookie(overTls(request)));
  }
}
