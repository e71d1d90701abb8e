import { Inject, Injectable, SetMetadata, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { createHash, timingSafeEqual } from 'node:crypto';
import { sessionToken, sessionValue } from './session-cookie';

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

/** What a request presented: a token (`Authorization: Bearer`, `?token=`) or the dashboard's session cookie. */
export interface Credential {
  kind: 'bearer' | 'session';
  value: string;
}

/** Whether `candidate` equals any of `known`, in constant time: the loop never stops early. */
function matchesAny(candidate: Buffer, known: readonly Buffer[]): boolean {
  let match = false;
  for (const entry of known) match = timingSafeEqual(candidate, entry) || match;
  return match;
}

/**
 * Compares a presented token, or a dashboard session cookie, with every configured token
 * in constant time: digests make the lengths equal. A token and a session value are two
 * different credentials: neither is accepted as the other.
 */
export class TokenVerifier {
  private readonly digests: Buffer[];
  private readonly sessionDigests: Buffer[];

  constructor(tokens: readonly string[]) {
    this.digests = tokens.map(digest);
    this.sessionDigests = tokens.map((token) => digest(sessionValue(token)));
  }

  get enabled(): boolean {
    return this.digests.length > 0;
  }

  /** A bearer token (header or `?token=`): whatever the route allows. */
  verify(presented: string): boolean {
    return matchesAny(digest(presented), this.digests);
  }

  /** A session cookie's value (see `sessionValue`): for reads and live streams only. */
  verifySession(presented: string): boolean {
    return matchesAny(digest(presented), this.sessionDigests);
  }

  accepts(credential: Credential): boolean {
    return credential.kind === 'bearer' ? this.verify(credential.value) : this.verifySession(credential.value);
  }
}

/** The token from `Authorization: Bearer <token>`, or undefined. */
export function bearerToken(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  const match = value ? /^Bearer\s+(\S+)\s*$/i.exec(value) : null;
  return match?.[1];
}

/**
 * The request's bearer token, else (where `session` allows it) its session cookie, or
 * undefined when it presents neither.
 */
export function presentedCredential(headers: Record<string, string | string[] | undefined>, session: boolean): Credential | undefined {
  const bearer = bearerToken(headers.authorization);
  if (bearer !== undefined) return { kind: 'bearer', value: bearer };
  const cookie = session ? sessionToken(headers.cookie) : undefined;
  return cookie === undefined ? undefined : { kind: 'session', value: cookie };
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
    const credential = presentedCredential(request.headers, access === 'read');
    if (credential === undefined) {
      throw new UnauthorizedException({ detail: 'Missing bearer token: send "Authorization: Bearer <token>"' });
    }
    if (!this.verifier.accepts(credential)) throw new UnauthorizedException({ detail: 'Invalid bearer token' });
    return true;
  }
}
