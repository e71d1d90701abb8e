import { Inject, Injectable, SetMetadata, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { createHash, timingSafeEqual } from 'node:crypto';
import { sessionToken } from './session-cookie';

/** Who may call a route when tokens are configured. */
export type Access = 'public' | 'read' | 'write';

const ACCESS_KEY = 'beacon:access';

/** Marks a route's access level; without it, GET/HEAD are reads and the rest writes. */
export const Access = (access: Access): MethodDecorator & ClassDecorator => SetMetadata(ACCESS_KEY, access);

export interface AuthSettings {
  /** Accepted bearer tokens; empty turns auth off. */
  tokens: string[];
  /** Whether reads need a token too. */
  guardReads: boolean;
}

export const AUTH_SETTINGS = Symbol('AUTH_SETTINGS');

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/**
 * Compares a presented token with every configured one in constant time: digests make
 * the lengths equal, and the loop never stops early.
 */
export class TokenVerifier {
  private readonly digests: Buffer[];

  constructor(tokens: readonly string[]) {
    this.digests = tokens.map(digest);
  }

  get enabled(): boolean {
    return this.digests.length > 0;
  }

  verify(presented: string): boolean {
    const candidate = digest(presented);
    let match = false;
    for (const known of this.digests) match = timingSafeEqual(candidate, known) || match;
    return match;
  }
}

/** The token from `Authorization: Bearer <token>`, or undefined. */
export function bearerToken(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  const match = value ? /^Bearer\s+(\S+)\s*$/i.exec(value) : null;
  return match?.[1];
}

/**
 * Guards routes by their `Access`. Reads also take the dashboard's session cookie (see
 * `SESSION_COOKIE`); writes take only the header, because a browser attaches cookies to a
 * cross-site form or `fetch` POST as well (CSRF), but never an `Authorization` header.
 */
@Injectable()
export class BearerAuthGuard implements CanActivate {
  private readonly verifier: TokenVerifier;

  constructor(
    @Inject(AUTH_SETTINGS) private readonly settings: AuthSettings,
    @Inject(Reflector) private readonly reflector: Reflector,
  ) {
    this.verifier = new TokenVerifier(settings.tokens);
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.verifier.enabled) return true;
    const request = context.switchToHttp().getRequest<{ method: string; headers: Record<string, string | string[] | undefined> }>();
    const declared = this.reflector.getAllAndOverride<Access | undefined>(ACCESS_KEY, [context.getHandler(), context.getClass()]);
    const access = declared ?? (request.method === 'GET' || request.method === 'HEAD' ? 'read' : 'write');
    if (access === 'public' || (access === 'read' && !this.settings.guardReads)) return true;
    const token = bearerToken(request.headers.authorization) ?? (access === 'read' ? sessionToken(request.headers.cookie) : undefined);
    if (token === undefined) {
      throw new UnauthorizedException({ detail: 'Missing bearer token: send "Authorization: Bearer <token>"' });
    }
    if (!this.verifier.verify(token)) throw new UnauthorizedException({ detail: 'Invalid bearer token' });
    return true;
  }
}
