import { createHmac } from 'node:crypto';

/**
 * The dashboard's session as a cookie. A browser cannot put an `Authorization` header on a
 * WebSocket, and a `?token=` URL ends up in history, bookmarks and proxy logs; so the page
 * trades the token once (`POST /api/v1/session` on realtime-gateway) for this cookie:
 * HttpOnly (no script reads it back) and SameSite=Strict (no other site's page sends it).
 *
 * Cookies ignore ports, so every other web app on this host name receives it too. It
 * therefore never holds the token (which also writes): it holds `sessionValue(token)`, a
 * one-way derivation the servers accept for reads and live streams only (see
 * `TokenVerifier.verifySession`). The name stays `beacon_token` so that signing in again
 * overwrites a cookie an older Beacon set with the token itself.
 */
export const SESSION_COOKIE = 'beacon_token';

/** What the session value is for, so it can never be mistaken for another use of the token. */
const SESSION_LABEL = 'beacon-dashboard-session-v1';

/** The cookie's value for `token`: HMAC-SHA256 of a fixed label keyed by the token, base64url. */
export function sessionValue(token: string): string {
  return createHmac('sha256', token).update(SESSION_LABEL).digest('base64url');
}

/** The session cookie's value in a `Cookie` header, or undefined. */
export function sessionToken(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header.join('; ') : header;
  if (!value) return undefined;
  for (const pair of value.split(';')) {
    const at = pair.indexOf('=');
    if (at < 0 || pair.slice(0, at).trim() !== SESSION_COOKIE) continue;
    const raw = pair.slice(at + 1).trim();
    try {
      return decodeURIComponent(raw) || undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Attributes shared by setting and clearing: both must name the same cookie. */
function attributes(secure: boolean): string {
  return `Path=/; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

/** `Set-Cookie` for a session of `token` (its derived value, never the token); it ends with the browser session. */
export function sessionCookie(token: string, secure: boolean): string {
  return `${SESSION_COOKIE}=${sessionValue(token)}; ${attributes(secure)}`;
}

/** `Set-Cookie` that removes the session. */
export function clearedSessionCookie(secure: boolean): string {
  return `${SESSION_COOKIE}=; Max-Age=0; ${attributes(secure)}`;
}
